// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/cpio.h"
#include "newc_reader.h"

/*
 * A directory, a file, a device node and the trailer, byte for byte. Fields:
 * magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
 * rdevmajor, rdevminor, namesize, check.
 */
static const char small_archive[] =
	/* "d", 0755: 110 + 2 bytes of header and name, already aligned */
	"070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000" "00000000"
	"00000000" "00000000" "00000000" "00000000" "00000002" "00000000" "d\0"
	/* "ab", 0644, "hello": 110 + 3 padded to 116, 5 bytes of data padded to 8 */
	"070701" "00000002" "000081A4" "00000000" "00000000" "00000001" "00000000" "00000005"
	"00000000" "00000000" "00000000" "00000000" "00000003" "00000000" "ab\0" "\0\0\0"
	"hello\0\0\0"
	/* "c", character device 5:1, 0600 */
	"070701" "00000003" "00002180" "00000000" "00000000" "00000001" "00000000" "00000000"
	"00000000" "00000000" "00000005" "00000001" "00000002" "00000000" "c\0"
	/* the trailer: 110 + 11 padded to 124 */
	"070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000" "00000000"
	"00000000" "00000000" "00000000" "00000000" "0000000B" "00000000" "TRAILER!!!\0" "\0\0\0";

#define SMALL_LEN (sizeof(small_archive) - 1)

static int write_small(struct cpio_writer *w)
{
	int err;

	err = cpio_add_dir(w, "d", 0755);
	err = err ?: cpio_add_file(w, "ab", 0644, "hello", 5);
	err = err ?: cpio_add_chardev(w, "c", 0600, 5, 1);
	return err ?: cpio_finish(w);
}

static void test_exact_bytes(void **state)
{
	uint8_t buf[SMALL_LEN + 16];
	struct cpio_writer w;

	(void)state;
	assert_int_equal(SMALL_LEN, 112 + 124 + 112 + 124);
	memset(buf, 0xAA, sizeof(buf));
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(write_small(&w), 0);
	assert_int_equal(w.len, SMALL_LEN);
	assert_memory_equal(buf, small_archive, SMALL_LEN);
	/* Nothing past the archive is touched. */
	for (size_t i = SMALL_LEN; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xAA);
}

static void test_measuring_counts_the_same_bytes(void **state)
{
	struct cpio_writer w;

	(void)state;
	cpio_writer_init(&w, NULL, 0);
	assert_int_equal(write_small(&w), 0);
	assert_int_equal(w.len, SMALL_LEN);
	assert_int_equal(w.next_ino, 4);
}

static void test_trailer_alone(void **state)
{
	uint8_t buf[256];
	struct cpio_writer w;
	struct newc_entry e;
	size_t off = 0;

	(void)state;
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_finish(&w), 0);
	assert_int_equal(w.len, 124);
	newc_read(buf, w.len, &off, &e);
	assert_true(newc_is_trailer(&e));
	assert_int_equal(e.namesize, 11);
	assert_int_equal(e.filesize, 0);
	assert_int_equal(off, w.len);
}

static void test_device_node_fields(void **state)
{
	uint8_t buf[256];
	struct cpio_writer w;
	struct newc_entry e;
	size_t off = 0;

	(void)state;
	cpio_writer_init(&w, buf, sizeof(buf));
	/* The largest numbers Linux's dev_t encoding holds: 12-bit major, 20-bit minor. */
	assert_int_equal(cpio_add_chardev(&w, "dev/tty9", 0620, 0xfff, 0xfffff), 0);
	assert_memory_equal(buf + 6 + 8 * 9, "00000FFF" "000FFFFF", 16);
	newc_read(buf, w.len, &off, &e);
	assert_string_equal(e.name, "dev/tty9");
	assert_true(S_ISCHR(e.mode));
	assert_int_equal(e.mode & 07777, 0620);
	assert_int_equal(e.rdev_major, 0xfff);
	assert_int_equal(e.rdev_minor, 0xfffff);
	/* devmajor/devminor name the device holding the file, not the node's own. */
	assert_int_equal(e.dev_major, 0);
	assert_int_equal(e.dev_minor, 0);
	assert_int_equal(e.filesize, 0);
	assert_int_equal(e.nlink, 1);
	assert_int_equal(off, w.len);
}

/* Every file length mod 4 and name length mod 4, so every padding case, read back. */
static void test_parses_back(void **state)
{
	static const char data[] = "0123456789abcdef";
	static const char *const names[] = { "a", "bb", "ccc", "dddd", "e/eeeee", "f/ffffff", "g/ggggggg" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	uint8_t buf[4096];
	struct cpio_writer w;
	struct newc_entry e;
	size_t off = 0;

	(void)state;
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_add_dir(&w, "e", 0700), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(cpio_add_file(&w, names[i], 0600 + i, data, i), 0);
	assert_int_equal(cpio_finish(&w), 0);
	assert_int_equal(w.len % 4, 0);

	newc_read(buf, w.len, &off, &e);
	assert_string_equal(e.name, "e");
	assert_true(S_ISDIR(e.mode));
	assert_int_equal(e.mode & 07777, 0700);
	assert_int_equal(e.nlink, 2);
	assert_int_equal(e.ino, 1);
	for (unsigned i = 0; i < N; i++) {
		newc_read(buf, w.len, &off, &e);
		assert_string_equal(e.name, names[i]);
		assert_true(S_ISREG(e.mode));
		assert_int_equal(e.mode & 07777, 0600 + i);
		assert_int_equal(e.ino, 2 + i);
		assert_int_equal(e.nlink, 1);
		assert_int_equal(e.uid, 0);
		assert_int_equal(e.gid, 0);
		assert_int_equal(e.mtime, 0);
		assert_int_equal(e.check, 0);
		assert_int_equal(e.filesize, i);
		assert_memory_equal(e.data, data, i);
	}
	newc_read(buf, w.len, &off, &e);
	assert_true(newc_is_trailer(&e));
	assert_int_equal(off, w.len);
}

/* A buffer one byte short of each entry: -ENOSPC and not a byte written. */
static void test_no_space(void **state)
{
	uint8_t buf[SMALL_LEN];
	struct cpio_writer w;

	(void)state;
	for (size_t size = 0; size < SMALL_LEN; size++) {
		memset(buf, 0xAA, sizeof(buf));
		cpio_writer_init(&w, buf, size);
		assert_int_equal(write_small(&w), -ENOSPC);
		assert_true(w.len <= size);
		for (size_t i = w.len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xAA);
	}

	/* An entry that does not fit takes no inode number either. */
	cpio_writer_init(&w, buf, 112 + 123);
	assert_int_equal(cpio_add_dir(&w, "d", 0755), 0);
	assert_int_equal(cpio_add_file(&w, "ab", 0644, "hello", 5), -ENOSPC);
	assert_int_equal(w.len, 112);
	assert_int_equal(w.next_ino, 2);
	assert_int_equal(cpio_finish(&w), -ENOSPC);
	assert_int_equal(w.len, 112);
}

static void test_bad_arguments(void **state)
{
	static char name[CPIO_NAME_MAX + 2];
	uint8_t buf[64];
	struct cpio_writer w;

	(void)state;
	cpio_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(cpio_add_dir(&w, "", 0755), -EINVAL);
	/* The type bits are the writer's to add: a full st_mode is refused. */
	assert_int_equal(cpio_add_file(&w, "f", S_IFREG | 0644, "x", 1), -EINVAL);
	assert_int_equal(cpio_add_chardev(&w, "c", 010000, 5, 1), -EINVAL);
	/* Checked before the space: the length alone decides. */
	assert_int_equal(cpio_add_file(&w, "big", 0644, NULL, (size_t)UINT32_MAX + 1), -EFBIG);

	memset(name, 'n', CPIO_NAME_MAX + 1);
	assert_int_equal(cpio_add_dir(&w, name, 0755), -ENAMETOOLONG);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.next_ino, 1);

	/* The longest name the kernel takes is fine (here measured only). */
	name[CPIO_NAME_MAX] = '\0';
	cpio_writer_init(&w, NULL, 0);
	assert_int_equal(cpio_add_dir(&w, name, 0755), 0);
	assert_int_equal(w.len, (CPIO_HEADER_SIZE + CPIO_NAME_MAX + 1 + 3) / 4 * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_measuring_counts_the_same_bytes),
		cmocka_unit_test(test_trailer_alone),
		cmocka_unit_test(test_device_node_fields),
		cmocka_unit_test(test_parses_back),
		cmocka_unit_test(test_no_space),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
