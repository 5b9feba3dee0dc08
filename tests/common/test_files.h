/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests that fill a scratch directory and check that what they
 * test gives back every file descriptor it took. Include after cmocka.h.
 */
#ifndef KVMINI_TEST_FILES_H
#define KVMINI_TEST_FILES_H

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static inline void test_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The process's open descriptors (the directory stream's own included, the same each time). */
static inline int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
