// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/cmdline.h"

#define BIG 4096

static void expect_cmdline(const char *defaults, const char *user, const char *want)
{
	char out[BIG];
	int n;

	memset(out, 'X', sizeof(out));
	n = cmdline_build(defaults, user, out, sizeof(out), BIG);
	if (n < 0)
		fail_msg("cmdline_build(\"%s\", \"%s\") failed: %d", defaults, user ? user : "(null)", n);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_defaults_only(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, NULL, "console=ttyS0 reboot=k panic=-1");
	expect_cmdline(CMDLINE_DEFAULTS, "", "console=ttyS0 reboot=k panic=-1");
	expect_cmdline(CMDLINE_DEFAULTS, "   ", "console=ttyS0 reboot=k panic=-1");
}

static void test_user_params_appended(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "root=/dev/vda quiet",
		       "console=ttyS0 reboot=k panic=-1 root=/dev/vda quiet");
	expect_cmdline("", "quiet", "quiet");
	expect_cmdline("", NULL, "");
}

static void test_whitespace_collapsed(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "  quiet \t\tloglevel=3  ", "console=ttyS0 reboot=k panic=-1 quiet loglevel=3");
	expect_cmdline("  a=1\tb  ", "c", "a=1 b c");
}

static void test_user_overrides_default(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "panic=0", "console=ttyS0 reboot=k panic=0");
	expect_cmdline(CMDLINE_DEFAULTS, "console=hvc0", "reboot=k panic=-1 console=hvc0");
	expect_cmdline(CMDLINE_DEFAULTS, "quiet reboot=t panic=5", "console=ttyS0 quiet reboot=t panic=5");
	/* Several values for one name are the user's to give: all are kept, the default goes. */
	expect_cmdline(CMDLINE_DEFAULTS, "console=hvc0 console=ttyS1", "reboot=k panic=-1 console=hvc0 console=ttyS1");
	/* A bare name sets the same parameter. */
	expect_cmdline(CMDLINE_DEFAULTS, "panic", "console=ttyS0 reboot=k panic");
}

static void test_similar_names_do_not_override(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "consoleblank=0 panic_print=1 con=1",
		       "console=ttyS0 reboot=k panic=-1 consoleblank=0 panic_print=1 con=1");
	expect_cmdline(CMDLINE_DEFAULTS, "PANIC=0", "console=ttyS0 reboot=k panic=-1 PANIC=0");
}

static void test_quoted_values_kept_whole(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "foo=\"a b\"", "console=ttyS0 reboot=k panic=-1 foo=\"a b\"");
	expect_cmdline(CMDLINE_DEFAULTS, "dyndbg=\"file x.c  +p\"\tquiet",
		       "console=ttyS0 reboot=k panic=-1 dyndbg=\"file x.c  +p\" quiet");
	expect_cmdline("", "\"a b\"c d", "\"a b\"c d");
}

/* "panic=0" inside a quoted value is part of another parameter, not a parameter of its own. */
static void test_quoted_text_does_not_override(void **state)
{
	(void)state;
	expect_cmdline(CMDLINE_DEFAULTS, "init.args=\"x=1 panic=0\"",
		       "console=ttyS0 reboot=k panic=-1 init.args=\"x=1 panic=0\"");
}

static void test_unterminated_quote(void **state)
{
	char out[BIG];
	(void)state;

	assert_int_equal(cmdline_build(CMDLINE_DEFAULTS, "foo=\"a b", out, sizeof(out), BIG), -EINVAL);
	assert_int_equal(cmdline_build(CMDLINE_DEFAULTS, "panic=0 foo=\"x", out, sizeof(out), BIG), -EINVAL);
	assert_int_equal(cmdline_build(CMDLINE_DEFAULTS, "\"", out, sizeof(out), BIG), -EINVAL);
	assert_int_equal(cmdline_build("", "a=\"", out, sizeof(out), BIG), -EINVAL);
	assert_int_equal(cmdline_build("a=\"b", NULL, out, sizeof(out), BIG), -EINVAL);
}

/* The output buffer is allocated to the exact size, so ASan sees any write past it. */
static int build_into(const char *user, size_t out_size, size_t max_len, char *copy)
{
	char *out = malloc(out_size ? out_size : 1);
	int n;

	assert_non_null(out);
	n = cmdline_build(CMDLINE_DEFAULTS, user, out, out_size, max_len);
	if (n >= 0)
		strcpy(copy, out);
	free(out);
	return n;
}

static void test_out_size(void **state)
{
	const char *want = "console=ttyS0 reboot=k panic=-1 quiet";
	const size_t len = strlen(want);
	char copy[BIG];
	(void)state;

	assert_int_equal(build_into("quiet", len + 1, BIG, copy), len);
	assert_string_equal(copy, want);
	assert_int_equal(build_into("quiet", len, BIG, copy), -ENOSPC);
	assert_int_equal(build_into("quiet", 10, BIG, copy), -ENOSPC);
	assert_int_equal(build_into("quiet", 1, BIG, copy), -ENOSPC);
	assert_int_equal(build_into("quiet", 0, BIG, copy), -ENOSPC);
	assert_int_equal(build_into(NULL, strlen(CMDLINE_DEFAULTS) + 1, BIG, copy), strlen(CMDLINE_DEFAULTS));
	assert_int_equal(build_into(NULL, strlen(CMDLINE_DEFAULTS), BIG, copy), -ENOSPC);
}

/* max_len is the kernel's limit, without the terminating NUL. */
static void test_max_len(void **state)
{
	const size_t len = strlen("console=ttyS0 reboot=k panic=-1 quiet");
	char copy[BIG];
	(void)state;

	assert_int_equal(build_into("quiet", BIG, len, copy), len);
	assert_int_equal(build_into("quiet", BIG, len - 1, copy), -ENOSPC);
	assert_int_equal(build_into("quiet", BIG, 0, copy), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_only),
		cmocka_unit_test(test_user_params_appended),
		cmocka_unit_test(test_whitespace_collapsed),
		cmocka_unit_test(test_user_overrides_default),
		cmocka_unit_test(test_similar_names_do_not_override),
		cmocka_unit_test(test_quoted_values_kept_whole),
		cmocka_unit_test(test_quoted_text_does_not_override),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_out_size),
		cmocka_unit_test(test_max_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
