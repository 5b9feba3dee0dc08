// SPDX-License-Identifier: Apache-2.0
/* open_file on each kind of file, in a scratch folder; a FIFO with no writer must not block it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "open_file.h"

static char dir[48], file[96], fifo[96], link_to_file[96], link_to_fifo[96], dangling[96];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	/* Each test's own bound: a FIFO open that blocks fails the test instead of hanging it. */
	alarm(10);
	snprintf(dir, sizeof(dir), "/tmp/kvmini-open-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/vmlinux", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link_to_file, sizeof(link_to_file), "%s/link", dir);
	snprintf(link_to_fifo, sizeof(link_to_fifo), "%s/link-to-fifo", dir);
	snprintf(dangling, sizeof(dangling), "%s/dangling", dir);
	f = fopen(file, "w");
	if (!f)
		return -1;
	fputs("kernel", f);
	fclose(f);
	if (mkfifo(fifo, 0600) || symlink(file, link_to_file) || symlink(fifo, link_to_fifo) ||
	    symlink("/nonexistent", dangling))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	unlink(fifo);
	unlink(link_to_file);
	unlink(link_to_fifo);
	unlink(dangling);
	rmdir(dir);
	alarm(0);
	return 0;
}

/* What open_file gives: a blocking, close-on-exec descriptor of the file itself. */
static void expect_file(int fd)
{
	char buf[8];

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "kernel", 6);
	close(fd);
}

static void test_regular_file(void **state)
{
	struct errmsg e;

	(void)state;
	expect_file(open_file("kernel", file, O_RDONLY, OPEN_REGULAR, true, &e));
	expect_file(open_file("drive", file, O_RDWR, OPEN_REGULAR | OPEN_BLOCK_DEV, true, &e));
}

static void test_symlink_followed_unless_refused(void **state)
{
	char msg[256];
	struct errmsg e;

	(void)state;
	expect_file(open_file("kernel", link_to_file, O_RDONLY, OPEN_REGULAR, false, &e));
	assert_int_equal(open_file("kernel", link_to_file, O_RDONLY, OPEN_REGULAR, true, &e), -ELOOP);
	snprintf(msg, sizeof(msg), "kernel '%s' is a symbolic link; give the path of the file itself", link_to_file);
	assert_string_equal(e.text, msg);
	assert_int_equal(open_file("initrd", dangling, O_RDONLY, OPEN_REGULAR, true, &e), -ELOOP);
	assert_non_null(strstr(e.text, "is a symbolic link"));
}

/* Only the last component counts: a link further up the path is the client's folder layout. */
static void test_symlink_above_the_file_taken(void **state)
{
	char up[96], through[128];
	struct errmsg e;

	(void)state;
	snprintf(up, sizeof(up), "%s/up", dir);
	assert_int_equal(symlink(dir, up), 0);
	snprintf(through, sizeof(through), "%s/vmlinux", up);
	expect_file(open_file("kernel", through, O_RDONLY, OPEN_REGULAR, true, &e));
	unlink(up);
}

static void test_fifo_refused_without_blocking(void **state)
{
	char msg[256];
	struct errmsg e;

	(void)state;
	assert_int_equal(open_file("kernel", fifo, O_RDONLY, OPEN_REGULAR, false, &e), -EINVAL);
	snprintf(msg, sizeof(msg), "kernel '%s': a FIFO, not a regular file", fifo);
	assert_string_equal(e.text, msg);
	assert_int_equal(open_file("drive", fifo, O_RDWR, OPEN_REGULAR | OPEN_BLOCK_DEV, false, &e), -EINVAL);
	assert_non_null(strstr(e.text, "a FIFO, not a regular file or a block device"));
	/* Through a link that may be followed, the kind of the file it names is what counts. */
	assert_int_equal(open_file("drive", link_to_fifo, O_RDONLY, OPEN_REGULAR | OPEN_BLOCK_DEV, false, &e),
			 -EINVAL);
	assert_non_null(strstr(e.text, "a FIFO"));
}

static void test_other_kinds_refused(void **state)
{
	struct errmsg e;

	(void)state;
	assert_int_equal(open_file("kernel", dir, O_RDONLY, OPEN_REGULAR, true, &e), -EINVAL);
	assert_non_null(strstr(e.text, "a directory, not a regular file"));
	assert_int_equal(open_file("drive", "/dev/null", O_RDWR, OPEN_REGULAR | OPEN_BLOCK_DEV, true, &e), -EINVAL);
	assert_string_equal(e.text, "drive '/dev/null': a character device, not a regular file or a block device");
	assert_int_equal(open_file("kernel", "/nonexistent/vmlinux", O_RDONLY, OPEN_REGULAR, true, &e), -ENOENT);
	assert_string_equal(e.text, "kernel '/nonexistent/vmlinux': No such file or directory");
}

/* create_file: a new file is 0600; O_TRUNC cuts only a regular file, never through a link or into a FIFO. */
static void test_create_file(void **state)
{
	char created[128];
	struct errmsg e;
	struct stat st;
	int fd;

	(void)state;
	snprintf(created, sizeof(created), "%s/state", dir);
	fd = create_file("snapshot", created, O_WRONLY | O_CREAT | O_TRUNC, &e);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	assert_int_equal(unlink(created), 0);
	/* Without O_CREAT a file that is not there is an error (a Diff snapshot's memory file). */
	assert_int_equal(create_file("memory file", created, O_RDWR, &e), -ENOENT);
	assert_non_null(strstr(e.text, "No such file or directory"));
	assert_int_equal(create_file("snapshot", link_to_file, O_WRONLY | O_CREAT | O_TRUNC, &e), -ELOOP);
	assert_int_equal(create_file("snapshot", dangling, O_WRONLY | O_CREAT | O_TRUNC, &e), -ELOOP);
	assert_int_equal(create_file("snapshot", fifo, O_WRONLY | O_CREAT | O_TRUNC, &e), -EINVAL);
	assert_non_null(strstr(e.text, "a FIFO, not a regular file"));
	assert_int_equal(create_file("snapshot", dir, O_WRONLY | O_CREAT | O_TRUNC, &e), -EINVAL);
	/* The link's target was not cut. */
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, strlen("kernel"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_regular_file),
		T(test_symlink_followed_unless_refused),
		T(test_symlink_above_the_file_taken),
		T(test_fifo_refused_without_blocking),
		T(test_other_kinds_refused),
		T(test_create_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
