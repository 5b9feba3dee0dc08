// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot_read, the half of a restore that needs no KVM: a state file and a
 * memory file on memfds. A good pair fills the configuration; every way the
 * pair can be wrong (not a snapshot, a corrupt or truncated file, no
 * configuration section, a memory file of another size or kind, a file too
 * large to read) is refused with one line, and the configuration is left
 * as it was, so the daemon can still be configured or load another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "api/config.h"
#include "snapshot/snapshot.h"

#define MEM_MIB 64
/* Static: vm_configs are large and start zeroed. */
static struct vm_config saved, cfg, pristine;

static void configure(struct vm_config *c, unsigned cpus)
{
	char text[512];
	struct errmsg e = { "" };

	snprintf(text, sizeof(text),
		 "{\"boot-source\":{\"kernel_image_path\":\"/k\",\"boot_args\":\"console=ttyS0\"},"
		 "\"machine-config\":{\"vcpu_count\":%u,\"mem_size_mib\":%d}}", cpus, MEM_MIB);
	memset(c, 0, sizeof(*c));
	vm_config_init(c);
	assert_int_equal(api_config_parse_file(c, text, strlen(text), &e), 0);
}

static int memfd_of(const void *data, size_t len, uint64_t size)
{
	int fd = memfd_create("snapshot", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (len)
		assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	return fd;
}

/* A state file as vm_snapshot lays it out, with the configuration of `saved` (unless without_config). */
static void build(struct state_writer *file, bool without_config)
{
	struct snapshot_writer w;
	struct state_writer rec;
	struct errmsg e = { "" };

	snapshot_writer_init(&w);
	snapshot_add(&w, SNAPSHOT_VCPU, 0, 1, "vcpu", 4);
	if (!without_config) {
		state_writer_init(&rec);
		snapshot_config_write(&saved, &rec);
		assert_int_equal(rec.err, 0);
		snapshot_add(&w, SNAPSHOT_CONFIG, 0, SNAPSHOT_CONFIG_VERSION, rec.buf, rec.len);
		state_writer_free(&rec);
	}
	state_writer_init(file);
	assert_int_equal(snapshot_finish(&w, file, &e), 0);
	snapshot_writer_free(&w);
}

static void fresh(void)
{
	memset(&cfg, 0, sizeof(cfg));
	vm_config_init(&cfg);
	cfg.paths_from_api = true;
	pristine = cfg;
}

/* Reads the pair; on failure checks the one-line message names `expect` and cfg is untouched. */
static int read_pair(const struct state_writer *file, uint64_t mem_size, const char *expect)
{
	struct snapshot_image img;
	struct errmsg e = { "" };
	int state_fd = memfd_of(file->buf, file->len, file->len), mem_fd = memfd_of(NULL, 0, mem_size);
	int err = snapshot_read(&img, state_fd, mem_fd, &cfg, &e);

	if (err) {
		assert_non_null(strstr(e.text, expect));
		assert_null(strchr(e.text, '\n'));
		assert_memory_equal(&cfg, &pristine, sizeof(cfg));
		assert_null(img.blob);
	} else {
		assert_int_equal(img.mem_fd, mem_fd);
		assert_non_null(snapshot_find(&img.snap, SNAPSHOT_VCPU, 0));
		snapshot_image_free(&img);
	}
	close(state_fd);
	close(mem_fd);
	return err;
}

static void test_good_pair_fills_the_configuration(void **state)
{
	struct state_writer file;

	(void)state;
	configure(&saved, 2);
	build(&file, false);
	fresh();
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, ""), 0);
	assert_int_equal(cfg.nr_cpus, 2);
	assert_int_equal(cfg.mem_size, (uint64_t)MEM_MIB << 20);
	assert_string_equal(cfg.kernel_path, "/k");
	state_writer_free(&file);
}

static void test_memory_file_of_another_size(void **state)
{
	struct state_writer file;

	(void)state;
	configure(&saved, 1);
	build(&file, false);
	fresh();
	assert_int_equal(read_pair(&file, ((uint64_t)MEM_MIB << 20) - 4096, "memory file: wrong size"), -EINVAL);
	assert_int_equal(read_pair(&file, 0, "memory file: wrong size"), -EINVAL);
	state_writer_free(&file);
}

static void test_memory_file_not_regular(void **state)
{
	struct state_writer file;
	struct snapshot_image img;
	struct errmsg e = { "" };
	int pipefd[2], state_fd;

	(void)state;
	configure(&saved, 1);
	build(&file, false);
	fresh();
	state_fd = memfd_of(file.buf, file.len, file.len);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(snapshot_read(&img, state_fd, pipefd[0], &cfg, &e), -EINVAL);
	assert_non_null(strstr(e.text, "memory file: not a regular file"));
	assert_memory_equal(&cfg, &pristine, sizeof(cfg));
	close(pipefd[0]);
	close(pipefd[1]);
	close(state_fd);
	state_writer_free(&file);
}

static void test_corrupt_and_truncated_state_files(void **state)
{
	struct state_writer file;
	size_t len;

	(void)state;
	configure(&saved, 1);
	build(&file, false);
	fresh();
	/* A flipped byte inside the configuration: the CRC says so before the text is looked at. */
	file.buf[file.len / 2] ^= 0x40;
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, "snapshot file: CRC32C mismatch"), -EINVAL);
	file.buf[file.len / 2] ^= 0x40;
	len = file.len;
	file.len = len - 1;
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, "snapshot file: truncated"), -EINVAL);
	file.len = 0;
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, "snapshot file: "), -EINVAL);
	file.len = len;
	memcpy(file.buf, "NOTASNAP", 8);
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, "snapshot file: "), -EINVAL);
	state_writer_free(&file);
}

static void test_no_configuration_section(void **state)
{
	struct state_writer file;

	(void)state;
	configure(&saved, 1);
	build(&file, true);
	fresh();
	assert_int_equal(read_pair(&file, (uint64_t)MEM_MIB << 20, "no configuration section"), -EINVAL);
	state_writer_free(&file);
}

static void test_state_file_too_large(void **state)
{
	struct snapshot_image img;
	struct errmsg e = { "" };
	int state_fd = memfd_of(NULL, 0, (uint64_t)SNAPSHOT_STATE_MAX + 1), mem_fd = memfd_of(NULL, 0, 4096);

	(void)state;
	fresh();
	assert_int_equal(snapshot_read(&img, state_fd, mem_fd, &cfg, &e), -EFBIG);
	assert_non_null(strstr(e.text, "more than kvmini reads"));
	assert_memory_equal(&cfg, &pristine, sizeof(cfg));
	close(state_fd);
	close(mem_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pair_fills_the_configuration),
		cmocka_unit_test(test_memory_file_of_another_size),
		cmocka_unit_test(test_memory_file_not_regular),
		cmocka_unit_test(test_corrupt_and_truncated_state_files),
		cmocka_unit_test(test_no_configuration_section),
		cmocka_unit_test(test_state_file_too_large),
	};

	alarm(30); /* memfds and a few KiB: a second at most */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
