// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smoke/junit.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Everything XML treats specially, plus the tab and newline that must survive. */
#define NASTY "a&b<c>d\"e'f\tg\nh"

static char *render(const char *suite, const struct junit_case *cases, size_t n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int rc;

	assert_non_null(f);
	rc = junit_write(f, suite, cases, n);
	fclose(f);
	if (rc)
		fail_msg("junit_write: %d", rc);
	return buf;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" not in:\n%s", needle, haystack);
}

/* Tests rely on xmllint: without it they fail, they do not skip. */
static void require_xmllint(void)
{
	if (system("command -v xmllint >/dev/null 2>&1") != 0)
		fail_msg("xmllint not found: apt-get install libxml2-utils");
}

/* Writes xml to a temporary file whose name goes into path[32]. */
static void write_tmp(const char *xml, char path[32])
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/kvmini-junit-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(xml, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void assert_well_formed(const char *xml)
{
	char path[32], cmd[128];
	int rc;

	require_xmllint();
	write_tmp(xml, path);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("xmllint rejected (status %d):\n%s", rc, xml);
	unlink(path);
}

/* What an XPath string expression evaluates to in xml, as xmllint reads it. */
static char *xpath(const char *xml, const char *expr)
{
	char path[32], cmd[256];
	size_t size = 0, n = 0;
	char *out = NULL;
	FILE *p;
	int c;

	require_xmllint();
	write_tmp(xml, path);
	snprintf(cmd, sizeof(cmd), "xmllint --xpath '%s' %s", expr, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((c = fgetc(p)) != EOF) {
		if (n + 2 > size) {
			size = size ? 2 * size : 256;
			out = realloc(out, size);
			assert_non_null(out);
		}
		out[n++] = (char)c;
	}
	if (pclose(p) != 0)
		fail_msg("%s failed on:\n%s", cmd, xml);
	unlink(path);
	assert_true(n > 0 && out[n - 1] == '\n'); /* xmllint ends its answer with a newline */
	out[n - 1] = '\0';
	return out;
}

static void assert_xpath(const char *xml, const char *expr, const char *want)
{
	char *got = xpath(xml, expr);

	if (strcmp(got, want))
		fail_msg("%s = \"%s\", want \"%s\"", expr, got, want);
	free(got);
}

static void test_layout(void **state)
{
	static const char console[] = "boot\nKVMINI-SMOKE-OK\n";
	const struct junit_case cases[] = {
		{ .name = "bzImage 1 vCPU 512M", .classname = "kvmini.smoke", .time_s = 1.5, .result = JUNIT_PASS,
		  .console = console, .console_len = sizeof(console) - 1 },
		{ .name = "bzImage 2 vCPUs 1G", .classname = "kvmini.smoke", .time_s = 30.25, .result = JUNIT_FAILURE,
		  .type = "TIMEOUT", .message = "no verdict after 30 s" },
	};
	char *xml = render("kvmini smoke", cases, ARRAY_SIZE(cases));

	(void)state;
	assert_string_equal(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				 "<testsuite name=\"kvmini smoke\" tests=\"2\" failures=\"1\" errors=\"0\" "
				 "skipped=\"0\" time=\"31.750\">\n"
				 "  <testcase name=\"bzImage 1 vCPU 512M\" classname=\"kvmini.smoke\" time=\"1.500\">\n"
				 "    <system-out>boot\nKVMINI-SMOKE-OK\n</system-out>\n"
				 "  </testcase>\n"
				 "  <testcase name=\"bzImage 2 vCPUs 1G\" classname=\"kvmini.smoke\" time=\"30.250\">\n"
				 "    <failure message=\"no verdict after 30 s\" type=\"TIMEOUT\">no verdict after 30 s"
				 "</failure>\n"
				 "  </testcase>\n"
				 "</testsuite>\n");
	assert_well_formed(xml);
	free(xml);
}

static void test_counts_match_cases(void **state)
{
	const struct junit_case cases[] = {
		{ .name = "pass", .classname = "kvmini.smoke", .time_s = 1, .result = JUNIT_PASS },
		{ .name = "fail", .classname = "kvmini.smoke", .time_s = 2, .result = JUNIT_FAILURE, .type = "FAIL",
		  .message = "kernel oops: Oops: 0002 [#1] SMP" },
		{ .name = "timeout", .classname = "kvmini.smoke", .time_s = 3, .result = JUNIT_FAILURE, .type = "TIMEOUT",
		  .message = "no verdict after 3 s" },
		{ .name = "panic", .classname = "kvmini.smoke", .time_s = 4, .result = JUNIT_FAILURE, .type = "PANIC",
		  .message = "kernel panic: Kernel panic - not syncing: Fatal exception" },
		{ .name = "error", .classname = "kvmini.smoke", .time_s = 0.125, .result = JUNIT_ERROR, .type = "ERROR",
		  .message = "kvmini could not run the guest: not a bzImage" },
		{ .name = "pass again", .classname = "kvmini.smoke", .time_s = 0, .result = JUNIT_PASS },
	};
	char *xml = render("matrix", cases, ARRAY_SIZE(cases));

	(void)state;
	assert_contains(xml, "<testsuite name=\"matrix\" tests=\"6\" failures=\"3\" errors=\"1\" skipped=\"0\" "
			     "time=\"10.125\">");
	assert_well_formed(xml);
	assert_xpath(xml, "count(/testsuite/testcase)", "6");
	assert_xpath(xml, "count(/testsuite/testcase/failure)", "3");
	assert_xpath(xml, "count(/testsuite/testcase/error)", "1");
	assert_xpath(xml, "string(/testsuite/@tests)", "6");
	assert_xpath(xml, "string(/testsuite/@failures)", "3");
	assert_xpath(xml, "string(/testsuite/@errors)", "1");
	assert_xpath(xml, "string(/testsuite/testcase[4]/failure/@type)", "PANIC");
	assert_xpath(xml, "string(/testsuite/testcase[4]/failure)",
		     "kernel panic: Kernel panic - not syncing: Fatal exception");
	assert_xpath(xml, "string(/testsuite/testcase[5]/error/@message)", "kvmini could not run the guest: not a bzImage");
	free(xml);
}

static void test_empty_suite(void **state)
{
	char *xml = render("nothing", NULL, 0);

	(void)state;
	assert_contains(xml, "tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0.000\"");
	assert_well_formed(xml);
	free(xml);
}

static void test_default_types_and_null_message(void **state)
{
	const struct junit_case cases[] = {
		{ .name = "f", .classname = "c", .result = JUNIT_FAILURE },
		{ .name = "e", .classname = "c", .result = JUNIT_ERROR },
	};
	char *xml = render("s", cases, ARRAY_SIZE(cases));

	(void)state;
	assert_contains(xml, "<failure message=\"\" type=\"failure\"></failure>");
	assert_contains(xml, "<error message=\"\" type=\"error\"></error>");
	assert_well_formed(xml);
	free(xml);
}

static void test_escaping(void **state)
{
	static const char console[] = "<" NASTY ">";
	const struct junit_case cases[] = {
		{ .name = NASTY, .classname = "kvmini.smoke & co", .result = JUNIT_FAILURE, .type = "<FAIL>",
		  .message = NASTY, .console = console, .console_len = sizeof(console) - 1 },
	};
	char *xml = render("suite " NASTY, cases, ARRAY_SIZE(cases));

	(void)state;
	/* Attributes keep tab and newline as character references; text keeps them literally. */
	assert_contains(xml, "<testsuite name=\"suite a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h\"");
	assert_contains(xml, "<testcase name=\"a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h\" "
			     "classname=\"kvmini.smoke &amp; co\"");
	assert_contains(xml, "<failure message=\"a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h\" type=\"&lt;FAIL&gt;\">"
			     "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\nh</failure>");
	assert_contains(xml, "<system-out>&lt;a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\nh&gt;</system-out>");
	assert_well_formed(xml);
	/* What a JUnit reader gets back is exactly what went in. */
	assert_xpath(xml, "string(/testsuite/@name)", "suite " NASTY);
	assert_xpath(xml, "string(/testsuite/testcase/@name)", NASTY);
	assert_xpath(xml, "string(/testsuite/testcase/@classname)", "kvmini.smoke & co");
	assert_xpath(xml, "string(/testsuite/testcase/failure/@message)", NASTY);
	assert_xpath(xml, "string(/testsuite/testcase/failure/@type)", "<FAIL>");
	assert_xpath(xml, "string(/testsuite/testcase/failure)", NASTY);
	assert_xpath(xml, "string(/testsuite/testcase/system-out)", "<" NASTY ">");
	free(xml);
}

#define FFFD "\xef\xbf\xbd"
/* A string literal and its length, which may include NUL bytes. */
#define IN(s) s, sizeof(s) - 1

/* Kernel consoles emit escape sequences and stray bytes; XML 1.0 allows neither. */
static void test_control_chars_and_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ IN("\x1b[0;32m OK \x1b[0m"), FFFD "[0;32m OK " FFFD "[0m" },
		{ IN("a\0b"), "a" FFFD "b" },
		{ IN("\x01\x02\x03\x04\x05\x06\x07\x08"), FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD },
		{ IN("\x0b\x0c\x0e\x0f\x10\x1f"), FFFD FFFD FFFD FFFD FFFD FFFD },
		{ IN("tab\tnl\ncr\r."), "tab\tnl\ncr&#13;." },
		{ IN("\x7f"), "\x7f" },
		{ IN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7" },
		{ IN("\xff\xfe"), FFFD FFFD },
		{ IN("\x80x"), FFFD "x" },
		{ IN("\xc3("), FFFD "(" },
		{ IN("\xc0\xaf"), FFFD FFFD },           /* overlong '/' */
		{ IN("\xe0\x80\xaf"), FFFD FFFD FFFD }, /* overlong, 3 bytes */
		{ IN("\xed\xa0\x80"), FFFD FFFD FFFD }, /* UTF-16 surrogate */
		{ IN("\xef\xbf\xbe"), FFFD FFFD FFFD }, /* U+FFFE */
		{ IN("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD }, /* above U+10FFFF */
		{ IN("end\xe2\x82"), "end" FFFD FFFD },             /* cut short */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct junit_case c = { .name = "n", .classname = "c", .result = JUNIT_PASS,
					      .console = cases[i].in, .console_len = cases[i].len };
		char want[256];
		char *xml = render("s", &c, 1);

		snprintf(want, sizeof(want), "<system-out>%s</system-out>", cases[i].out);
		if (!strstr(xml, want))
			fail_msg("case %zu: \"%s\" not in:\n%s", i, want, xml);
		assert_well_formed(xml);
		free(xml);
	}
}

/* All of it in attributes too: the message is a console line, and may carry the same bytes. */
static void test_control_chars_in_attributes(void **state)
{
	const struct junit_case c = { .name = "\x1b[1mname\xff", .classname = "c", .result = JUNIT_ERROR,
				      .message = "bad\x01\xc0\xafline\r" };
	char *xml = render("s\x0b", &c, 1);

	(void)state;
	assert_contains(xml, "<testsuite name=\"s" FFFD "\"");
	assert_contains(xml, "<testcase name=\"" FFFD "[1mname" FFFD "\"");
	assert_contains(xml, "<error message=\"bad" FFFD FFFD FFFD "line&#13;\" type=\"error\">bad" FFFD FFFD FFFD
			     "line&#13;</error>");
	assert_well_formed(xml);
	assert_xpath(xml, "string(/testsuite/testcase/error/@message)", "bad" FFFD FFFD FFFD "line\r");
	free(xml);
}

static void test_time_format(void **state)
{
	static const struct {
		double t;
		const char *out;
	} cases[] = {
		{ 0, "0.000" },         { 0.5, "0.500" },      { 12.3456, "12.346" }, { 59.9996, "60.000" },
		{ 3600.25, "3600.250" }, { -1, "0.000" },       { NAN, "0.000" },      { INFINITY, "1000000000000.000" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct junit_case c = { .name = "n", .classname = "c", .time_s = cases[i].t, .result = JUNIT_PASS };
		char want[64];
		char *xml = render("s", &c, 1);

		snprintf(want, sizeof(want), "<testcase name=\"n\" classname=\"c\" time=\"%s\">", cases[i].out);
		assert_contains(xml, want);
		free(xml);
	}
}

static void test_invalid_arguments_write_nothing(void **state)
{
	const struct junit_case no_name = { .classname = "c", .result = JUNIT_PASS };
	const struct junit_case no_class = { .name = "n", .result = JUNIT_PASS };
	const struct junit_case bad_result = { .name = "n", .classname = "c", .result = (enum junit_result)7 };
	const struct junit_case good = { .name = "n", .classname = "c", .result = JUNIT_PASS };
	const struct junit_case two[] = { good, no_class };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	assert_int_equal(junit_write(f, NULL, &good, 1), -EINVAL);
	assert_int_equal(junit_write(f, "s", NULL, 1), -EINVAL);
	assert_int_equal(junit_write(f, "s", &no_name, 1), -EINVAL);
	assert_int_equal(junit_write(f, "s", &no_class, 1), -EINVAL);
	assert_int_equal(junit_write(f, "s", &bad_result, 1), -EINVAL);
	assert_int_equal(junit_write(f, "s", two, 2), -EINVAL);
	fclose(f);
	assert_int_equal(size, 0);
	free(buf);
}

static void test_write_error_reported(void **state)
{
	const struct junit_case c = { .name = "n", .classname = "c", .result = JUNIT_PASS };
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(junit_write(f, "s", &c, 1), -ENOSPC);
	fclose(f);
}

/* The guest's own tests (KTAP) follow their run's testcase and count in the suite's totals. */
static void test_ktap_cases(void **state)
{
	static struct ktap_case k[3];
	struct junit_case cases[] = {
		{ .name = "bzImage 2 vCPUs", .classname = "kvmini.smoke", .time_s = 1, .result = JUNIT_PASS },
	};
	char *xml;
	(void)state;

	memset(k, 0, sizeof(k));
	strcpy(k[0].suite, "example");
	strcpy(k[0].name, "example_simple_test");
	strcpy(k[1].suite, "example");
	strcpy(k[1].name, "example_fail");
	k[1].result = KTAP_FAIL;
	strcpy(k[1].output, "# EXPECTATION FAILED <here> \x1b\n");
	k[1].output_len = strlen(k[1].output);
	strcpy(k[2].name, "later");
	k[2].result = KTAP_TODO;
	strcpy(k[2].reason, "race & fix");
	cases[0].ktap = k;
	cases[0].n_ktap = 3;
	xml = render("kvmini smoke", cases, ARRAY_SIZE(cases));
	assert_contains(xml, "tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\"");
	assert_well_formed(xml);
	assert_xpath(xml, "count(/testsuite/testcase)", "4");
	assert_xpath(xml, "string(/testsuite/testcase[2]/@classname)", "kvmini.smoke.bzImage 2 vCPUs.example");
	assert_xpath(xml, "string(/testsuite/testcase[2]/@name)", "example_simple_test");
	assert_xpath(xml, "count(/testsuite/testcase[2]/*)", "0");
	assert_xpath(xml, "string(/testsuite/testcase[3]/failure/@type)", "ktap");
	assert_xpath(xml, "string(/testsuite/testcase[3]/system-out)", "# EXPECTATION FAILED <here> \xef\xbf\xbd\n");
	assert_xpath(xml, "string(/testsuite/testcase[4]/@classname)", "kvmini.smoke.bzImage 2 vCPUs");
	assert_xpath(xml, "string(/testsuite/testcase[4]/skipped/@message)", "TODO: race & fix");
	free(xml);

	k[2].result = KTAP_TODO + 1;
	cases[0].n_ktap = 3;
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);

		assert_non_null(f);
		assert_int_equal(junit_write(f, "s", cases, 1), -EINVAL);
		cases[0].ktap = NULL;
		assert_int_equal(junit_write(f, "s", cases, 1), -EINVAL);
		fclose(f);
		assert_int_equal(size, 0);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_counts_match_cases),
		cmocka_unit_test(test_empty_suite),
		cmocka_unit_test(test_default_types_and_null_message),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_control_chars_and_invalid_utf8),
		cmocka_unit_test(test_control_chars_in_attributes),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_invalid_arguments_write_nothing),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_ktap_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
