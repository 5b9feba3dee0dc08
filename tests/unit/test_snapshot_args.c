// SPDX-License-Identifier: Apache-2.0
/* The command lines of kvmini snapshot and kvmini restore. */
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
static struct daemon_args restore;

static void parse_snapshot(const char *const *args)
{
	set_args("snapshot", args);
	p.ret = snapshot_parse_args(p.argc, p.argv, &snap, &p.e);
}

static void parse_restore(const char *const *args)
{
	set_args("restore", args);
	memset(&restore, 0, sizeof(restore));
	daemon_args_init(&restore);
	p.ret = restore_parse_args(p.argc, p.argv, &restore, &p.e);
}

#define SNAPSHOT(...) parse_snapshot((const char *const[]){ __VA_ARGS__, NULL })
#define RESTORE(...) parse_restore((const char *const[]){ __VA_ARGS__, NULL })

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

static void test_restore(void **state)
{
	(void)state;
	RESTORE("snap");
	assert_int_equal(p.ret, 0);
	assert_string_equal(restore.restore_dir, "snap");
	assert_false(restore.paused);
	assert_false(restore.track_dirty_pages);
	assert_null(restore.cfg.api_sock);

	RESTORE("/var/snap", "--api-sock", "/run/r.sock", "--paused", "--track-dirty-pages", "--no-seccomp", "-v");
	assert_int_equal(p.ret, 0);
	assert_string_equal(restore.restore_dir, "/var/snap");
	assert_string_equal(restore.cfg.api_sock, "/run/r.sock");
	assert_true(restore.paused);
	assert_true(restore.track_dirty_pages);
	assert_true(restore.cfg.no_seccomp);
	assert_true(restore.verbose);

	/* DIR first, once; the daemon's options that describe a new VM are not a restore's. */
	RESTORE("--api-sock", "/run/r.sock", "snap");
	expect_error("directory comes first");
	set_args("restore", (const char *const[]){ NULL });
	p.ret = restore_parse_args(p.argc, p.argv, &restore, &p.e);
	expect_error("directory comes first");
	RESTORE("snap", "other");
	expect_error("other");
	RESTORE("snap", "--config-file", "vm.json");
	expect_error("--config-file");
	RESTORE("snap", "--transport", "pci");
	expect_error("--transport");
	RESTORE("snap", "--uid", "1000");
	assert_int_equal(p.ret, 0);
	RESTORE("--help");
	assert_int_equal(p.ret, -ECANCELED);
	RESTORE("snap", "--help");
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
		cmocka_unit_test(test_restore),
	};

	alarm(10);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
