// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/initramfs.h"
#include "newc_reader.h"

#define MAX_ENTRIES 16

struct archive {
	uint8_t *buf;
	size_t len;
	struct newc_entry entries[MAX_ENTRIES];
	unsigned count;	/* entries before the trailer */
};

static struct archive *read_archive(const struct initramfs_entry *extra, size_t nr)
{
	struct archive *a = calloc(1, sizeof(*a));
	size_t off = 0;

	assert_non_null(a);
	assert_int_equal(builtin_initramfs(extra, nr, &a->buf, &a->len), 0);
	assert_int_equal(a->len % 4, 0);
	for (;;) {
		struct newc_entry e;

		newc_read(a->buf, a->len, &off, &e);
		if (newc_is_trailer(&e))
			break;
		assert_true(a->count < MAX_ENTRIES);
		a->entries[a->count++] = e;
	}
	/* The trailer is the last thing in the archive. */
	assert_int_equal(off, a->len);
	return a;
}

static int setup(void **state)
{
	*state = read_archive(NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	struct archive *a = *state;

	free(a->buf);
	free(a);
	return 0;
}

/* The index of the entry named name; fails the test if there is none. */
static unsigned find(const struct archive *a, const char *name)
{
	for (unsigned i = 0; i < a->count; i++)
		if (!strcmp(a->entries[i].name, name))
			return i;
	fail_msg("no %s in the archive", name);
	return 0;
}

static void test_holds_exactly_the_expected_entries(void **state)
{
	const struct archive *a = *state;

	assert_int_equal(a->count, 5);
	for (unsigned i = 0; i < a->count; i++)
		for (unsigned j = 0; j < i; j++) {
			assert_string_not_equal(a->entries[i].name, a->entries[j].name);
			assert_int_not_equal(a->entries[i].ino, a->entries[j].ino);
		}
}

static void test_init_is_the_embedded_program(void **state)
{
	const struct archive *a = *state;
	const struct newc_entry *init = &a->entries[find(a, "init")];
	size_t blob_len = (size_t)(builtin_init_end - builtin_init_start);
	Elf64_Ehdr ehdr;

	assert_true(S_ISREG(init->mode));
	assert_int_equal(init->mode & 07777, 0755);
	assert_true(blob_len > sizeof(Elf64_Ehdr));
	assert_int_equal(init->filesize, blob_len);
	assert_memory_equal(init->data, builtin_init_start, blob_len);
	/* The kernel execs it directly: a static x86-64 executable. Copied: the data is only 4-byte aligned. */
	memcpy(&ehdr, init->data, sizeof(ehdr));
	assert_memory_equal(ehdr.e_ident, ELFMAG, SELFMAG);
	assert_int_equal(ehdr.e_ident[EI_CLASS], ELFCLASS64);
	assert_int_equal(ehdr.e_machine, EM_X86_64);
	assert_int_equal(ehdr.e_type, ET_EXEC);
}

static void test_console_device(void **state)
{
	const struct archive *a = *state;
	unsigned console = find(a, "dev/console");
	const struct newc_entry *e = &a->entries[console];

	assert_true(S_ISCHR(e->mode));
	assert_int_equal(e->mode & 07777, 0600);
	assert_int_equal(e->rdev_major, 5);
	assert_int_equal(e->rdev_minor, 1);
	/* Its directory must come first: the kernel does not create parents. */
	assert_true(find(a, "dev") < console);
}

static void test_mount_points(void **state)
{
	const struct archive *a = *state;
	static const char *const dirs[] = { "dev", "proc", "sys" };

	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const struct newc_entry *e = &a->entries[find(a, dirs[i])];

		assert_true(S_ISDIR(e->mode));
		assert_int_equal(e->mode & 07777, 0755);
		assert_int_equal(e->filesize, 0);
	}
}

/* exec's entries come after the init's, in the order given, directories as directories. */
static void test_extra_entries(void **state)
{
	static const char conf[] = "mode=exec\0arg=true";
	const struct initramfs_entry extra[] = {
		{ "kvmini", NULL, 0 },
		{ "kvmini/init.conf", conf, sizeof(conf) },
	};
	struct archive *a = read_archive(extra, 2);
	const struct newc_entry *dir, *file;

	*state = a;
	assert_int_equal(a->count, 7);
	dir = &a->entries[find(a, "kvmini")];
	file = &a->entries[find(a, "kvmini/init.conf")];
	assert_true(S_ISDIR(dir->mode));
	assert_true(S_ISREG(file->mode));
	assert_true(find(a, "init") < find(a, "kvmini"));
	assert_true(find(a, "kvmini") < find(a, "kvmini/init.conf"));
	assert_int_equal(file->filesize, sizeof(conf));
	assert_memory_equal(file->data, conf, sizeof(conf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_exactly_the_expected_entries),
		cmocka_unit_test(test_init_is_the_embedded_program),
		cmocka_unit_test(test_console_device),
		cmocka_unit_test(test_mount_points),
		cmocka_unit_test_teardown(test_extra_entries, teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
