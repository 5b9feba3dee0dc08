// SPDX-License-Identifier: Apache-2.0
/* kvmini as `firecracker`: its command line as Firecracker's clients write it, and the version Kata reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#define MAX_ARGS 24

/* One run of firecracker_parse_args, on writable copies of the arguments as main gets them. */
static struct {
	int argc;
	char *argv[MAX_ARGS + 2];
	struct firecracker_args a;
	struct errmsg e;
	int ret;
} p;

static void parse(const char *const *args)
{
	for (int i = 0; i < p.argc; i++)
		free(p.argv[i]);
	memset(&p, 0, sizeof(p));
	p.argv[p.argc++] = strdup("firecracker");
	for (; *args; args++) {
		assert_true(p.argc <= MAX_ARGS);
		p.argv[p.argc++] = strdup(*args);
	}
	p.ret = firecracker_parse_args(p.argc, p.argv, &p.a, &p.e);
}

#define PARSE(...) parse((const char *const[]){ __VA_ARGS__, NULL })

static void expect_error(int err, const char *fragment)
{
	assert_int_equal(p.ret, err);
	if (!strstr(p.e.text, fragment))
		fail_msg("\"%s\" does not mention \"%s\"", p.e.text, fragment);
}

/* Firecracker's defaults: its socket path, its instance id, the Info level, no log file, devices on MMIO. */
static void test_defaults(void **state)
{
	(void)state;
	PARSE("--api-sock", "/run/fc.sock");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.a.d.cfg.api_sock, "/run/fc.sock");
	assert_string_equal(p.a.d.id, "anonymous-instance");
	assert_false(p.a.log_file);
	assert_null(p.a.metrics.path);
	assert_null(p.a.d.config_file);
	assert_int_equal(p.a.d.cfg.transport, VIRTIO_TRANSPORT_MMIO);
	assert_false(p.a.d.cfg.no_seccomp);

	PARSE("--id", "vm-1");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.a.d.cfg.api_sock, "/run/firecracker.socket");
}

/* What firecracker-go-sdk (firectl) and Kata Containers pass, and the jailer's additions. */
static void test_clients(void **state)
{
	(void)state;
	PARSE("--api-sock", "/tmp/fc.sock", "--id", "0123456789abcdef0123456789abcdef", "--no-seccomp");
	assert_int_equal(p.ret, 0);
	assert_true(p.a.d.cfg.no_seccomp);
	assert_string_equal(p.a.d.id, "0123456789abcdef0123456789abcdef");

	PARSE("--api-sock", "/run/vc/firecracker/x/root/run/firecracker.socket", "--config-file", "/fcConfig.json");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.a.d.config_file, "/fcConfig.json");

	PARSE("--id", "a", "--start-time-us", "1700000000000000", "--start-time-cpu-us", "120",
	      "--parent-cpu-time-us", "30", "--api-sock", "/s", "--boot-timer", "--http-api-max-payload-size", "51200",
	      "--mmds-size-limit", "4096");
	assert_int_equal(p.ret, 0);
	assert_true(p.a.boot_timer);
}

static void test_logger_and_metrics(void **state)
{
	(void)state;
	PARSE("--log-path", "/tmp/l", "--level", "debug", "--show-level", "--show-log-origin", "--module", "src/api",
	      "--metrics-path", "/tmp/m");
	assert_int_equal(p.ret, 0);
	assert_true(p.a.log_file);
	assert_string_equal(p.a.log.path, "/tmp/l");
	assert_int_equal(p.a.log.level, LOG_DEBUG);
	assert_int_equal(p.a.log.show_level, 1);
	assert_int_equal(p.a.log.show_origin, 1);
	assert_string_equal(p.a.log.module, "src/api");
	assert_string_equal(p.a.metrics.path, "/tmp/m");

	/* A level alone sets up no file but applies to one PUT /logger names later. */
	PARSE("--level", "Warning");
	assert_int_equal(p.ret, 0);
	assert_true(p.a.log_file);
	assert_null(p.a.log.path);
	assert_int_equal(p.a.log.level, LOG_WARN);
	assert_int_equal(p.a.log.show_level, 0);
}

static void test_transport_and_no_api(void **state)
{
	(void)state;
	PARSE("--enable-pci");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.a.d.cfg.transport, VIRTIO_TRANSPORT_PCI);

	PARSE("--no-api", "--config-file", "vm.json", "--api-sock", "/s");
	assert_int_equal(p.ret, 0);
	assert_null(p.a.d.cfg.api_sock);
}

/* Bad command lines: one line each, Firecracker's exit code classes (EINVAL: 153, EDOM: 152). */
static void test_errors(void **state)
{
	(void)state;
	PARSE("--no-api");
	expect_error(-EINVAL, "--config-file");
	PARSE("--seccomp-filter", "f.bpf", "--no-seccomp");
	expect_error(-EINVAL, "do not go together");
	PARSE("--id", "has space");
	expect_error(-EINVAL, "--id 'has space'");
	PARSE("--id", "0123456789012345678901234567890123456789012345678901234567890123456789");
	expect_error(-EINVAL, "--id");
	PARSE("--level", "loud");
	expect_error(-EDOM, "--level 'loud'");
	PARSE("--start-time-us", "soon");
	expect_error(-EINVAL, "'soon'");
	PARSE("--api-sock");
	expect_error(-EINVAL, "api-sock");
	PARSE("--api-sock", "");
	expect_error(-EINVAL, "empty");
	PARSE("--kernel", "bzImage");
	expect_error(-EINVAL, "--kernel");
	PARSE("--metadata", "mmds.json");
	expect_error(-ENOTSUP, "MMDS");
	PARSE("--describe-snapshot", "vm.snap");
	expect_error(-ENOTSUP, "snapshots");
	PARSE("--help");
	assert_int_equal(p.ret, -ECANCELED);
	/* --version answers whatever else is given, as Firecracker. */
	PARSE("--version", "--no-api");
	assert_int_equal(p.ret, 0);
	assert_true(p.a.version);
}

/*
 * Kata Containers' probe (src/runtime/virtcontainers/fc.go: getVersionNumber,
 * parseVersion, checkVersion): the first line of `--version`, split on
 * spaces, its second field trimmed of a leading 'v', must be a semantic
 * version (blang/semver) of at least 0.21.1.
 */
static void test_kata_version_probe(void **state)
{
	static const char semver[] = "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)"
				     "(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$";
	char out[256], *line, *field, *save;
	unsigned long major, minor, patch;
	FILE *f = fmemopen(out, sizeof(out), "w");
	regex_t re;

	(void)state;
	assert_non_null(f);
	version_print(f);
	fclose(f);
	line = strtok_r(out, "\n", &save);
	assert_non_null(line);
	assert_non_null(strtok_r(line, " ", &save));
	field = strtok_r(NULL, " ", &save);
	assert_non_null(field);
	if (field[0] == 'v')
		field++;
	assert_int_equal(regcomp(&re, semver, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&re, field, 0, NULL, 0))
		fail_msg("'%s' is not a semantic version", field);
	regfree(&re);
	assert_int_equal(sscanf(field, "%lu.%lu.%lu", &major, &minor, &patch), 3);
	/* A pre-release (a '-' before any '+') would rank below its version: there is none. */
	assert_true(!strchr(field, '-') || (strchr(field, '+') && strchr(field, '-') > strchr(field, '+')));
	assert_true(major > 0 || minor > 21 || (minor == 21 && patch >= 1));
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < p.argc; i++)
		free(p.argv[i]);
	memset(&p, 0, sizeof(p));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_clients, teardown),
		cmocka_unit_test_teardown(test_logger_and_metrics, teardown),
		cmocka_unit_test_teardown(test_transport_and_no_api, teardown),
		cmocka_unit_test_teardown(test_errors, teardown),
		cmocka_unit_test_teardown(test_kata_version_probe, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
