// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "jail.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/console.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define HOST_RAM (16 * GiB)
#define MAX_ARGS 24

/* One run of run_parse_args, on writable copies of the arguments as main gets them. */
struct parsed {
	int argc;
	char *argv[MAX_ARGS + 2];
	char *owned[MAX_ARGS + 1];
	struct vm_config cfg;
	struct run_opts opts;
	struct errmsg e;
	int ret;
};

static struct parsed p;

static void parse_with(uint64_t host_ram, const char *const *args)
{
	memset(&p, 0, sizeof(p));
	p.argv[p.argc++] = p.owned[0] = strdup("run");
	for (; *args; args++) {
		assert_true(p.argc <= MAX_ARGS);
		p.argv[p.argc] = p.owned[p.argc] = strdup(*args);
		assert_non_null(p.argv[p.argc]);
		p.argc++;
	}
	p.ret = run_parse_args(p.argc, p.argv, host_ram, &p.cfg, &p.opts, &p.e);
}

#define PARSE(...) parse_with(HOST_RAM, (const char *const[]){ __VA_ARGS__, NULL })

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i <= MAX_ARGS; i++)
		free(p.owned[i]);
	memset(&p, 0, sizeof(p));
	return 0;
}

static void expect_usage_error(const char *fragment1, const char *fragment2)
{
	assert_int_equal(p.ret, -EINVAL);
	if (!strstr(p.e.text, fragment1) || (fragment2 && !strstr(p.e.text, fragment2)))
		fail_msg("error \"%s\" does not mention \"%s\"%s%s", p.e.text, fragment1, fragment2 ? " and " : "",
			 fragment2 ? fragment2 : "");
}

static void test_defaults(void **state)
{
	(void)state;
	PARSE("--kernel", "bzImage");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.cfg.kernel_path, "bzImage");
	assert_string_equal(p.cfg.initrd_path, "");
	assert_string_equal(p.cfg.cmdline, "");
	assert_int_equal(p.cfg.mem_size, 512 * MiB);
	assert_int_equal(p.cfg.nr_cpus, 1);
	assert_true(p.cfg.acpi);
	assert_false(p.cfg.hugepages);
	assert_false(p.opts.verbose);
	assert_int_equal(blk_config_of(&p.cfg)->nr_drives, 0);
	assert_int_equal(net_config_of(&p.cfg)->nr, 0);
	assert_false(rng_config_of(&p.cfg)->enabled);
	assert_false(vcon_config_of(&p.cfg)->enabled);
	assert_int_equal(p.cfg.transport, VIRTIO_TRANSPORT_PCI);
}

static void test_all_options(void **state)
{
	(void)state;
	PARSE("--kernel", "vmlinux", "--initrd", "initrd.img", "--cmdline", "quiet panic=0", "--mem", "2G", "--cpus",
	      "4", "--no-acpi", "--hugepages", "-v");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.cfg.kernel_path, "vmlinux");
	assert_string_equal(p.cfg.initrd_path, "initrd.img");
	assert_string_equal(p.cfg.cmdline, "quiet panic=0");
	assert_int_equal(p.cfg.mem_size, 2 * GiB);
	assert_int_equal(p.cfg.nr_cpus, 4);
	assert_false(p.cfg.acpi);
	assert_true(p.cfg.hugepages);
	assert_true(p.opts.verbose);
}

static void test_option_forms(void **state)
{
	(void)state;
	PARSE("--mem=1G", "--cpus=2", "--verbose", "--kernel=k");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.mem_size, 1 * GiB);
	assert_int_equal(p.cfg.nr_cpus, 2);
	assert_true(p.opts.verbose);
	assert_string_equal(p.cfg.kernel_path, "k");
}

static void test_flags_alone(void **state)
{
	(void)state;
	PARSE("--no-acpi", "--kernel", "k");
	assert_int_equal(p.ret, 0);
	assert_false(p.cfg.acpi);
	assert_false(p.cfg.hugepages);
	assert_false(p.opts.verbose);
	teardown(NULL);

	PARSE("--hugepages", "--kernel", "k");
	assert_int_equal(p.ret, 0);
	assert_true(p.cfg.acpi);
	assert_true(p.cfg.hugepages);
	teardown(NULL);

	PARSE("-v", "--kernel", "k");
	assert_int_equal(p.ret, 0);
	assert_true(p.opts.verbose);
	assert_true(p.cfg.acpi);
}

static void test_mem_limits_accepted(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--mem", "64M");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.mem_size, 64 * MiB);
	teardown(NULL);

	PARSE("--kernel", "k", "--mem", "16G");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.mem_size, HOST_RAM);
}

static void test_mem_not_a_size(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--mem", "12Q");
	expect_usage_error("--mem", "12Q");
}

static void test_mem_below_minimum(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--mem", "1M");
	expect_usage_error("--mem 1M", "64M");
	teardown(NULL);

	PARSE("--kernel", "k", "--mem", "0");
	expect_usage_error("--mem 0", "minimum");
}

static void test_mem_above_host(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--mem", "32G");
	expect_usage_error("--mem 32G", "16384 MiB");
	teardown(NULL);

	PARSE("--kernel", "k", "--mem", "99999999999T");
	expect_usage_error("--mem", "99999999999T");
}

static void test_mem_not_whole_pages(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--mem", "65537K");
	expect_usage_error("--mem 65537K", "4 KiB");
}

static void test_cpus_out_of_range(void **state)
{
	static const char *const bad[] = { "0", "255", "100000", "abc", "-1", "4x", "" };
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[32];

		PARSE("--kernel", "k", "--cpus", bad[i]);
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		expect_usage_error("--cpus", quoted);
		teardown(NULL);
	}

	PARSE("--kernel", "k", "--cpus", "254");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.nr_cpus, 254);
}

static void test_unknown_option(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--bogus");
	expect_usage_error("unknown option", "'--bogus'");
	teardown(NULL);

	PARSE("--kernel", "k", "-x");
	expect_usage_error("unknown option", "'-x'");
	teardown(NULL);

	/* Inside a group, the unknown letter is named, not the argument before it. */
	PARSE("--kernel", "k", "-xv");
	expect_usage_error("unknown option", "'-x'");
	teardown(NULL);

	/* A flag that takes no value, given one. */
	PARSE("--kernel", "k", "--no-acpi=1");
	expect_usage_error("unknown option", "--no-acpi=1");
}

static void test_missing_value(void **state)
{
	(void)state;
	PARSE("--kernel");
	expect_usage_error("--kernel", "needs a value");
	teardown(NULL);

	PARSE("--kernel", "k", "--mem");
	expect_usage_error("--mem", "needs a value");
}

static void test_missing_kernel(void **state)
{
	(void)state;
	PARSE("--mem", "1G");
	expect_usage_error("--kernel", "required");
	teardown(NULL);

	parse_with(HOST_RAM, (const char *const[]){ NULL });
	expect_usage_error("--kernel", "required");
}

/* The paths and boot arguments are copied into the configuration's buffers: what does not fit is refused. */
static void test_string_limits(void **state)
{
	static char path[VM_PATH_MAX + 1], args[VM_CMDLINE_MAX + 1];

	(void)state;
	memset(path, 'p', VM_PATH_MAX - 1);
	memset(args, 'a', VM_CMDLINE_MAX - 1);
	PARSE("--kernel", path, "--initrd", path, "--cmdline", args);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.cfg.kernel_path, path);
	assert_string_equal(p.cfg.initrd_path, path);
	assert_string_equal(p.cfg.cmdline, args);
	teardown(NULL);

	path[VM_PATH_MAX - 1] = 'p';
	args[VM_CMDLINE_MAX - 1] = 'a';
	PARSE("--kernel", path);
	expect_usage_error("--kernel", "at most 4095 bytes");
	teardown(NULL);
	PARSE("--kernel", "k", "--initrd", path);
	expect_usage_error("--initrd", "at most 4095 bytes");
	teardown(NULL);
	PARSE("--kernel", "k", "--cmdline", args);
	expect_usage_error("--cmdline", "at most 2047 bytes");
	teardown(NULL);

	/* An empty path would read as none given. */
	PARSE("--kernel", "");
	expect_usage_error("--kernel", "empty");
	teardown(NULL);
	PARSE("--kernel", "k", "--initrd=");
	expect_usage_error("--initrd", "empty");
	teardown(NULL);
	PARSE("--kernel", "k", "--cmdline", "");
	assert_int_equal(p.ret, 0);
}

static void test_stray_argument(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "stray");
	expect_usage_error("unexpected argument", "'stray'");
	teardown(NULL);

	/* Options after a stray argument are still taken; the first stray one is named. */
	PARSE("stray", "--kernel", "k", "other");
	expect_usage_error("unexpected argument", "'stray'");
	teardown(NULL);

	PARSE("--kernel", "k", "--", "--mem");
	expect_usage_error("unexpected argument", "'--mem'");
}

static void test_help(void **state)
{
	(void)state;
	PARSE("--help");
	assert_int_equal(p.ret, -ECANCELED);
	teardown(NULL);

	PARSE("--kernel", "k", "-h");
	assert_int_equal(p.ret, -ECANCELED);
}

/* Nothing of one parse is left for the next. */
static void test_repeated_parses(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		PARSE("--cpus", "2", "--kernel", "k");
		assert_int_equal(p.ret, 0);
		assert_int_equal(p.cfg.nr_cpus, 2);
		teardown(NULL);
		PARSE("--kernel", "k", "--mem", "12Q");
		assert_int_equal(p.ret, -EINVAL);
		teardown(NULL);
	}
}

static void test_virtio_options(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--drive", "path=root.img,id=root", "--drive=path=data.img,readonly=on,cache=none",
	      "--net", "tap=tap0", "--net", "tap=tap1,mac=52:54:00:12:34:56", "--rng", "--transport", "mmio",
	      "--console", "virtio");
	assert_int_equal(p.ret, 0);
	assert_int_equal(blk_config_of(&p.cfg)->nr_drives, 2);
	assert_string_equal(blk_config_of(&p.cfg)->drives[0].path, "root.img");
	assert_string_equal(blk_config_of(&p.cfg)->drives[0].id, "root");
	assert_false(blk_config_of(&p.cfg)->drives[0].readonly);
	assert_string_equal(blk_config_of(&p.cfg)->drives[1].path, "data.img");
	assert_string_equal(blk_config_of(&p.cfg)->drives[1].id, "drive1");
	assert_true(blk_config_of(&p.cfg)->drives[1].readonly);
	assert_true(blk_config_of(&p.cfg)->drives[1].direct);
	assert_int_equal(net_config_of(&p.cfg)->nr, 2);
	assert_string_equal(net_config_of(&p.cfg)->nets[0].tap, "tap0");
	assert_false(net_config_of(&p.cfg)->nets[0].mac_set);
	assert_string_equal(net_config_of(&p.cfg)->nets[1].tap, "tap1");
	assert_true(net_config_of(&p.cfg)->nets[1].mac_set);
	assert_int_equal(net_config_of(&p.cfg)->nets[1].mac[5], 0x56);
	assert_true(rng_config_of(&p.cfg)->enabled);
	assert_int_equal(p.cfg.transport, VIRTIO_TRANSPORT_MMIO);
	assert_true(vcon_config_of(&p.cfg)->enabled);
	teardown(NULL);

	/* The last --transport and --console win, as with the other single-valued options. */
	PARSE("--kernel", "k", "--transport", "mmio", "--transport", "pci", "--console", "virtio", "--console",
	      "serial");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.transport, VIRTIO_TRANSPORT_PCI);
	assert_false(vcon_config_of(&p.cfg)->enabled);
}

/* Least privilege is the default: filters on, no nested virtualization. */
static void test_isolation_options(void **state)
{
	(void)state;
	PARSE("--kernel", "k");
	assert_int_equal(p.ret, 0);
	assert_false(p.cfg.no_seccomp);
	assert_false(p.cfg.nested);
	teardown(NULL);

	PARSE("--kernel", "k", "--no-seccomp", "--nested", "on");
	assert_int_equal(p.ret, 0);
	assert_true(p.cfg.no_seccomp);
	assert_true(p.cfg.nested);
	teardown(NULL);

	PARSE("--kernel", "k", "--nested=on", "--nested", "off");
	assert_int_equal(p.ret, 0);
	assert_false(p.cfg.nested);
	teardown(NULL);

	PARSE("--kernel", "k", "--nested", "yes");
	expect_usage_error("--nested 'yes'", "on or off");
}

static void test_jail_options(void **state)
{
	(void)state;
	PARSE("--kernel", "k");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.uid, JAIL_KEEP_ID);
	assert_int_equal(p.cfg.gid, JAIL_KEEP_ID);
	assert_null(p.cfg.chroot_dir);
	teardown(NULL);

	PARSE("--kernel", "k", "--uid", "1000", "--gid", "0", "--chroot", "/srv/jail");
	assert_int_equal(p.ret, 0);
	assert_int_equal(p.cfg.uid, 1000);
	assert_int_equal(p.cfg.gid, 0);
	assert_string_equal(p.cfg.chroot_dir, "/srv/jail");
	teardown(NULL);

	PARSE("--kernel", "k", "--uid", "1000");
	expect_usage_error("--uid and --gid", "both or neither");
	teardown(NULL);

	PARSE("--kernel", "k", "--chroot", "/srv/jail");
	expect_usage_error("--chroot needs --uid and --gid", NULL);
	teardown(NULL);

	PARSE("--kernel", "k", "--uid", "nobody", "--gid", "1");
	expect_usage_error("--uid 'nobody'", "a number");
	teardown(NULL);

	PARSE("--kernel", "k", "--uid", "1", "--gid", "4294967295");
	expect_usage_error("--gid '4294967295'", "a number from 0 to 4294967294");
}

static void test_virtio_option_errors(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--drive", "path=x,foo=1");
	expect_usage_error("--drive 'path=x,foo=1': ", "unknown key 'foo'");
	teardown(NULL);

	PARSE("--kernel", "k", "--drive", "x.img");
	expect_usage_error("--drive 'x.img': ", "key=value");
	teardown(NULL);

	PARSE("--kernel", "k", "--net", "tap=t0,mac=01:02:03:04:05:06");
	expect_usage_error("--net 'tap=t0,mac=01:02:03:04:05:06': ", "multicast");
	teardown(NULL);

	PARSE("--kernel", "k", "--net", "tap=t0", "--net", "tap=t0");
	expect_usage_error("--net 'tap=t0'", "already used");
	teardown(NULL);

	PARSE("--kernel", "k", "--transport", "virtio");
	expect_usage_error("--transport 'virtio'", "pci or mmio");
	teardown(NULL);

	PARSE("--kernel", "k", "--console", "tty");
	expect_usage_error("--console 'tty'", "serial or virtio");
	teardown(NULL);

	PARSE("--kernel", "k", "--drive");
	expect_usage_error("--drive", "needs a value");
	teardown(NULL);

	PARSE("--kernel", "k", "--rng=1");
	expect_usage_error("unknown option", "--rng=1");
}

static void test_too_many_drives(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--drive=path=a", "--drive=path=a", "--drive=path=a", "--drive=path=a",
	      "--drive=path=a", "--drive=path=a", "--drive=path=a", "--drive=path=a", "--drive=path=a",
	      "--drive=path=a", "--drive=path=a", "--drive=path=a", "--drive=path=a", "--drive=path=a",
	      "--drive=path=a", "--drive=path=a", "--drive=path=a");
	expect_usage_error("--drive", "at most 16");
}

/* --rootfs DIR[,readonly=on|off] with --init and --modules; each of the latter needs it, and --initrd cannot be. */
static void test_rootfs(void **state)
{
	(void)state;
	PARSE("--kernel", "k", "--rootfs", "/srv/alpine,readonly=on", "--init", "/bin/sh", "--modules", "/m");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.opts.root.dir, "/srv/alpine");
	assert_true(p.opts.root.readonly);
	assert_string_equal(p.opts.init, "/bin/sh");
	assert_string_equal(p.opts.root.modules, "/m");
	teardown(state);
	PARSE("--kernel", "k", "--rootfs=/srv/x");
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.opts.root.dir, "/srv/x");
	assert_false(p.opts.root.readonly);
	assert_null(p.opts.init);
	teardown(state);
	PARSE("--kernel", "k", "--init", "/bin/sh");
	expect_usage_error("--init", "--rootfs");
	teardown(state);
	PARSE("--kernel", "k", "--modules", "/m");
	expect_usage_error("--modules", "--rootfs");
	teardown(state);
	PARSE("--kernel", "k", "--rootfs", "/srv/x", "--initrd", "i");
	expect_usage_error("--rootfs", "--initrd");
	teardown(state);
	PARSE("--kernel", "k", "--rootfs", "/srv/x,readonly=maybe");
	expect_usage_error("--rootfs", "maybe");
	teardown(state);
	PARSE("--kernel", "k", "--rootfs", "/srv/x,size=1");
	expect_usage_error("--rootfs", "size");
	teardown(state);
	PARSE("--kernel", "k", "--rootfs", ",readonly=on");
	expect_usage_error("--rootfs", "directory");
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_all_options),
		T(test_option_forms),
		T(test_string_limits),
		T(test_flags_alone),
		T(test_mem_limits_accepted),
		T(test_mem_not_a_size),
		T(test_mem_below_minimum),
		T(test_mem_above_host),
		T(test_mem_not_whole_pages),
		T(test_cpus_out_of_range),
		T(test_unknown_option),
		T(test_missing_value),
		T(test_missing_kernel),
		T(test_stray_argument),
		T(test_help),
		T(test_repeated_parses),
		T(test_virtio_options),
		T(test_isolation_options),
		T(test_jail_options),
		T(test_virtio_option_errors),
		T(test_too_many_drives),
		T(test_rootfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
