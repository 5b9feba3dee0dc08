// SPDX-License-Identifier: Apache-2.0
/* The log file in Firecracker's format: the line, the level filter, the module filter, a FIFO nobody reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "thread.h"
#include "../common/test_files.h"

static char dir[64], path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kvmini-test-log-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	log_file_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_file_reset();
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The whole file, NUL-terminated; *len its length. */
static char *slurp(size_t *len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	size_t got = 0;

	assert_true(fd >= 0);
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

static void configure(enum log_level level, int show_level, int show_origin, const char *module)
{
	struct log_file_config c = { .path = path, .level = level, .show_level = show_level,
				     .show_origin = show_origin, .module = module };
	struct errmsg e;

	if (log_file_configure(&c, &e))
		fail_msg("%s", e.text);
}

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	if (regexec(&re, text, 0, NULL, 0))
		fail_msg("\"%s\" does not match /%s/", text, pattern);
	regfree(&re);
}

/* Firecracker's line: local time to the nanosecond, [id:thread(:LEVEL)(:file:line)], the message. */
static void test_line_format(void **state)
{
	char want[256];
	int line;

	(void)state;
	log_set_instance_id("vm-7");
	configure(LOG_INFO, 0, 0, NULL);
	log_info("plain %d", 1);
	configure(LOG_INFO, 1, 1, NULL);
	line = __LINE__ + 1;
	log_error("with level and origin");
	snprintf(want, sizeof(want),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9} \\[vm-7:main:ERROR:"
		 "tests/unit/test_log.c:%d\\] with level and origin$", line);
	assert_matches(slurp(NULL), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9} \\[vm-7:main\\] plain 1$");
	assert_matches(slurp(NULL), want);
	log_set_instance_id("anonymous-instance");
}

/* Lines below the level are left out (debug ones too, though --verbose is off); Off leaves everything out. */
static void test_level_filter(void **state)
{
	enum log_level level;

	(void)state;
	assert_int_equal(log_parse_level("WARNING", &level), 0);
	assert_int_equal(level, LOG_WARN);
	assert_int_equal(log_parse_level("trace", &level), 0);
	assert_int_equal(level, LOG_TRACE);
	assert_int_equal(log_parse_level("verbose", &level), -EINVAL);

	configure(LOG_DEBUG, 1, 0, NULL);
	log_debug("a debug line");
	configure(LOG_ERROR, -1, -1, NULL);
	log_info("an info line");
	log_error("an error line");
	configure(LOG_OFF, -1, -1, NULL);
	log_error("nothing at Off");
	assert_non_null(strstr(slurp(NULL), ":DEBUG] a debug line\n"));
	assert_null(strstr(slurp(NULL), "an info line"));
	assert_non_null(strstr(slurp(NULL), ":ERROR] an error line\n"));
	assert_null(strstr(slurp(NULL), "nothing at Off"));
}

/* The module filter keeps the lines of source files under a path. */
static void test_module_filter(void **state)
{
	(void)state;
	configure(LOG_INFO, -1, -1, "src/");
	log_info("from a test");
	assert_string_equal(slurp(NULL), "");
	configure(LOG_INFO, -1, -1, "tests/unit");
	log_info("from a test again");
	assert_non_null(strstr(slurp(NULL), "from a test again"));
}

/* A FIFO nobody reads: configuring does not wait for a reader, lines beyond its buffer are dropped and counted. */
static void test_fifo_never_blocks(void **state)
{
	unsigned lines = 0;
	uint64_t missed;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	configure(LOG_INFO, -1, -1, NULL);
	log_take_missed();
	/* 64 KiB of pipe buffer holds fewer than 2,000 lines of this size. */
	for (; lines < 2000; lines++)
		log_info("%0100u", lines);
	missed = log_take_missed();
	assert_true(missed > 0 && missed < lines);
	assert_int_equal(log_take_missed(), 0);
}

struct writer {
	unsigned id;
};

static void *write_lines(void *arg)
{
	struct writer *w = arg;

	log_set_thread_name(w->id % 2 ? "odd" : "even");
	for (unsigned i = 0; i < 200; i++)
		log_info("writer %u line %u", w->id, i);
	return NULL;
}

/* Lines from many threads, with the configuration changing under them: every line whole (TSan: no race). */
static void test_threads(void **state)
{
	pthread_t threads[4];
	struct writer w[4];
	size_t len;
	char *text, *p;
	unsigned n = 0;

	(void)state;
	configure(LOG_INFO, 0, 0, NULL);
	for (unsigned i = 0; i < 4; i++) {
		w[i].id = i;
		assert_int_equal(thread_start(&threads[i], write_lines, &w[i]), 0);
	}
	for (unsigned i = 0; i < 20; i++)
		configure(LOG_INFO, (int)(i % 2), -1, NULL);
	for (unsigned i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	text = slurp(&len);
	for (p = text; *p; p = strchr(p, '\n') + 1) {
		assert_non_null(strchr(p, '\n'));
		assert_non_null(strstr(p, "] writer "));
		n++;
	}
	assert_int_equal(n, 800);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_line_format),
		T(test_level_filter),
		T(test_module_filter),
		T(test_fifo_never_blocks),
		T(test_threads),
	};

	/* A FIFO or a lock that blocked would hang the test: it fails instead. */
	alarm(60);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
