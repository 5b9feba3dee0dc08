// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smoke/ktap.h"

#define MAX_SEEN 16

struct seen {
	struct ktap_case cases[MAX_SEEN];
	size_t n;
};

static void collect(void *ctx, const struct ktap_case *c)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->cases[s->n] = *c;
	s->n++;
}

static struct seen *feed(const char *text)
{
	static struct ktap_parser p;
	struct seen *s = calloc(1, sizeof(*s));
	const char *line = text;

	assert_non_null(s);
	ktap_init(&p, collect, s);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		ktap_feed_line(&p, line, len);
		line += len + (nl != NULL);
	}
	return s;
}

static void assert_case(const struct ktap_case *c, const char *suite, const char *name, enum ktap_result r,
			const char *reason)
{
	assert_string_equal(c->suite, suite);
	assert_string_equal(c->name, name);
	assert_string_equal(ktap_result_name(c->result), ktap_result_name(r));
	assert_string_equal(c->reason, reason);
}

static void test_kunit_nested(void **state)
{
	struct seen *s = feed("KTAP version 1\n"
			      "1..2\n"
			      "    KTAP version 1\n"
			      "    # Subtest: example\n"
			      "    # module: kunit_example_test\n"
			      "    1..3\n"
			      "    ok 1 example_simple_test\n"
			      "[    1.2] kernel says hello\n"
			      "    # example_fail: EXPECTATION FAILED at lib/x.c:12\n"
			      "    not ok 2 example_fail\n"
			      "    ok 3 example_skip_test # SKIP this test should be skipped\n"
			      "        KTAP version 1\n"
			      "        # Subtest: params\n"
			      "        ok 1 - one\n"
			      "    not ok 4 params\n"
			      "not ok 1 example\n"
			      "ok 2 other # skip not built\n");
	(void)state;

	assert_int_equal(s->n, 7);
	assert_case(&s->cases[0], "example", "example_simple_test", KTAP_PASS, "");
	assert_int_equal(s->cases[0].number, 1);
	assert_case(&s->cases[1], "example", "example_fail", KTAP_FAIL, "");
	assert_string_equal(s->cases[1].output, "[    1.2] kernel says hello\n"
						 "    # example_fail: EXPECTATION FAILED at lib/x.c:12\n");
	assert_case(&s->cases[2], "example", "example_skip_test", KTAP_SKIP, "this test should be skipped");
	assert_int_equal(s->cases[2].output_len, 0);
	assert_case(&s->cases[3], "example.params", "one", KTAP_PASS, "");
	assert_case(&s->cases[4], "example", "params", KTAP_FAIL, "");
	assert_int_equal(s->cases[4].number, 4);
	assert_case(&s->cases[5], "", "example", KTAP_FAIL, "");
	assert_case(&s->cases[6], "", "other", KTAP_SKIP, "not built");
	free(s);
}

static void test_tap_and_kselftest(void **state)
{
	struct seen *s = feed("TAP version 13\r\n"
			      "1..3\n"
			      "# timeout set to 45\n"
			      "# selftests: net: reuseport_bpf\n"
			      "# ok 1 inner line stays output\n"
			      "ok 1 selftests: net: reuseport_bpf\n"
			      "not ok 2 selftests: net: fcnal-test.sh # TIMEOUT 45 seconds\n"
			      "not ok 3 - flaky # TODO fix the race\n"
			      "ok\n"
			      "okay this is output\n"
			      "Bail out! the machine is on fire\n"
			      "ok 5 never seen\n");
	(void)state;

	assert_int_equal(s->n, 5);
	assert_case(&s->cases[0], "net", "reuseport_bpf", KTAP_PASS, "");
	assert_non_null(strstr(s->cases[0].output, "# ok 1 inner line stays output\n"));
	assert_case(&s->cases[1], "net", "fcnal-test.sh", KTAP_FAIL, "");
	assert_case(&s->cases[2], "", "flaky", KTAP_TODO, "fix the race");
	assert_int_equal(s->cases[2].number, 3);
	assert_case(&s->cases[3], "", "", KTAP_PASS, "");
	assert_int_equal(s->cases[3].number, 0);
	assert_case(&s->cases[4], "", "Bail out!", KTAP_FAIL, "the machine is on fire");
	assert_string_equal(s->cases[4].output, "okay this is output\n");
	free(s);
}

/* Untrusted text: absurd depth, long names and lines, NUL bytes, huge numbers stay within bounds. */
static void test_bounds(void **state)
{
	static struct ktap_parser p;
	struct seen *s = calloc(1, sizeof(*s));
	char line[3 * KTAP_OUTPUT_MAX];
	(void)state;

	assert_non_null(s);
	ktap_init(&p, collect, s);
	for (int d = 0; d < 3 * KTAP_MAX_DEPTH; d++) {
		memset(line, ' ', (size_t)d * 2);
		strcpy(line + d * 2, "# Subtest: s");
		ktap_feed_line(&p, line, strlen(line));
	}
	assert_int_equal(p.depth, KTAP_MAX_DEPTH);
	memset(line, 'x', sizeof(line));
	ktap_feed_line(&p, line, sizeof(line)); /* output: the newest KTAP_OUTPUT_MAX bytes at most */
	memcpy(line, "ok 99999999999999 ", 18);
	ktap_feed_line(&p, line, sizeof(line));
	assert_int_equal(s->n, 1);
	assert_int_equal(strlen(s->cases[0].name), KTAP_NAME_MAX - 1);
	assert_true(s->cases[0].number <= 1000000000u);
	assert_string_equal(s->cases[0].suite, "s");
	assert_true(s->cases[0].output_len < KTAP_OUTPUT_MAX);
	assert_int_equal(strlen(s->cases[0].output), s->cases[0].output_len);
	ktap_feed_line(&p, "not ok 1 a\0b", 12);
	assert_case(&s->cases[1], "s", "a", KTAP_FAIL, "");
	for (int i = 0; i < 200; i++)
		ktap_feed_line(&p, "a line of output that repeats", 29);
	ktap_feed_line(&p, "ok 2 b", 6);
	assert_true(s->cases[2].output_len <= KTAP_OUTPUT_MAX - 1);
	assert_int_equal(strlen(s->cases[2].output), s->cases[2].output_len);
	assert_int_equal(s->cases[2].output_len % 30, 0); /* whole lines only */
	free(s);
}

static void test_case_cap(void **state)
{
	static struct ktap_parser p;
	(void)state;

	ktap_init(&p, NULL, NULL);
	for (unsigned long i = 0; i < KTAP_MAX_CASES + 5; i++)
		ktap_feed_line(&p, "ok", 2);
	assert_int_equal(p.cases, KTAP_MAX_CASES);
	assert_int_equal(p.dropped, 5);
	assert_null(ktap_result_name(KTAP_TODO + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kunit_nested),
		cmocka_unit_test(test_tap_and_kselftest),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_case_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
