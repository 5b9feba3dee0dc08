// SPDX-License-Identifier: Apache-2.0
/* The command line of kvmini snapshot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define MAX_ARGS 16

/* Writable copies of the arguments as main hands them to the command (argv[0] its name). */
static struct {
	int argc;
	char *argv[MAX_ARGS + 2];
	struct errmsg e;
	int ret;
} p;

static void set_args(const char *command, const char *const *args)
{
	for (int i = 0; i < p.argc; i++)
		free(p.argv[i]);
	memset(&p, 0, sizeof(p));
	p.argv[p.argc++] = strdup(command);
	for (; *args; args++) {
		assert_true(p.argc <= MAX_ARGS);
		p.argv[p.argc++] = strdup(*args);
	}
}

static struct snapshot_args snap;

static void parse_snapshot(const char *const *args)
{
	set_args("snapshot", args);
	p.ret = snapshot_parse_args(p.argc, p.argv, &snap, &p.e);
}

#define SNAPSHOT(...) parse_snapshot((const char *const[]){ __VA_ARGS__, NULL })

static void expect_error(const char *fragment)
{
	assert_int_equal(p.ret, -EINVAL);
	if (!strstr(p.e.text, fragment))
		fail_msg("\"%s\" does not mention \"%s\"", p.e.text, fragment);
}

static void test_snapshot(void **state)
{
	(void)state;
	SNAPSHOT("--sock", "/run/vm.sock", "--out", "snap");
	assert_int_equal(p.ret, 0);
	assert_string_equal(snap.sock, "/run/vm.sock");
	assert_string_equal(snap.out, "snap");
	assert_false(snap.diff);
	assert_false(snap.keep_paused);

	SNAPSHOT("--out=d", "--sock=s", "--diff", "--keep-paused");
	assert_int_equal(p.ret, 0);
	assert_true(snap.diff);
	assert_true(snap.keep_paused);

	SNAPSHOT("--out", "d");
	expect_error("--sock is required");
	SNAPSHOT("--sock", "s");
	expect_error("--out is required");
	SNAPSHOT("--sock", "s", "--out", "");
	expect_error("empty");
	SNAPSHOT("--sock", "s", "--out", "d", "extra");
	expect_error("extra");
	SNAPSHOT("--sock", "s", "--out", "d", "--paused");
	expect_error("--paused");
	SNAPSHOT("--help");
	assert_int_equal(p.ret, -ECANCELED);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < p.argc; i++)
		free(p.argv[i]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot),
	};

	alarm(10);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
