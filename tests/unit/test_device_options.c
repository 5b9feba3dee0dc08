// SPDX-License-Identifier: Apache-2.0
/* The devices' own options (--drive, --net, --console, --rng), through their records as `kvmini run` takes them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "options.h"
#include "vm_config.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct vm_config cfg;
static struct errmsg e;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&e, 0, sizeof(e));
	return 0;
}

/* --NAME VALUE (VALUE NULL: a flag) through every registered device's options, each into its part of cfg. */
static int device_option(const char *name, const char *value)
{
	const struct device_ops *devices[DEVICES_MAX];
	struct option_group groups[DEVICES_MAX];
	size_t nr = devices_registered(devices), n = 0;
	char option[32];
	char *argv[] = { "run", option, (char *)value };

	assert_true(nr <= DEVICES_MAX);
	for (size_t i = 0; i < nr; i++)
		if (devices[i]->options)
			groups[n++] = (struct option_group){ devices[i]->options, device_config(&cfg, devices[i]), NULL };
	snprintf(option, sizeof(option), "--%s", name);
	return options_parse("run", value ? 3 : 2, argv, groups, n, &e);
}

/* The message must be one line that names the option, quotes its value and names the bad part. */
static void expect_error(int ret, const char *fragment1, const char *fragment2)
{
	assert_int_equal(ret, -EINVAL);
	assert_null(strchr(e.text, '\n'));
	if (!strstr(e.text, fragment1) || (fragment2 && !strstr(e.text, fragment2)))
		fail_msg("error \"%s\" does not mention \"%s\"%s%s", e.text, fragment1, fragment2 ? " and " : "",
			 fragment2 ? fragment2 : "");
}

static void test_drive_path_only(void **state)
{
	(void)state;
	assert_int_equal(device_option("drive", "path=disk.img"), 0);
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
	assert_string_equal(blk_config_of(&cfg)->drives[0].path, "disk.img");
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "drive0");
	assert_false(blk_config_of(&cfg)->drives[0].readonly);
	assert_false(blk_config_of(&cfg)->drives[0].direct);
}

static void test_drive_all_keys(void **state)
{
	(void)state;
	assert_int_equal(device_option("drive", "id=root,cache=none,readonly=on,path=/var/a=b.raw"), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[0].path, "/var/a=b.raw");
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "root");
	assert_true(blk_config_of(&cfg)->drives[0].readonly);
	assert_true(blk_config_of(&cfg)->drives[0].direct);

	assert_int_equal(device_option("drive", "path=b,readonly=off,cache=writeback"), 0);
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 2);
	assert_false(blk_config_of(&cfg)->drives[1].readonly);
	assert_false(blk_config_of(&cfg)->drives[1].direct);
	assert_int_equal(blk_config_of(&cfg)->drives[0].engine, BLKIO_AUTO);
	assert_int_equal(device_option("drive", "path=c,io=threads"), 0);
	assert_int_equal(blk_config_of(&cfg)->drives[2].engine, BLKIO_THREADS);
	assert_int_equal(device_option("drive", "path=d,io=uring"), 0);
	assert_int_equal(blk_config_of(&cfg)->drives[3].engine, BLKIO_IO_URING);
	assert_int_equal(device_option("drive", "path=e,io=auto"), 0);
	assert_int_equal(blk_config_of(&cfg)->drives[4].engine, BLKIO_AUTO);
	/* The default id counts drives, whatever the others are called. */
	assert_string_equal(blk_config_of(&cfg)->drives[1].id, "drive1");
}

static void test_drive_id_limits(void **state)
{
	(void)state;
	assert_int_equal(device_option("drive", "path=x,id=12345678901234567890"), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "12345678901234567890");
	expect_error(device_option("drive", "path=x,id=123456789012345678901"), "--drive 'path=x,id=1234",
		     "id longer than 20");
	expect_error(device_option("drive", "path=x,id="), "--drive", "empty id");
	expect_error(device_option("drive", "path=x,id=a b"), "id 'a b'", "printable");
	expect_error(device_option("drive", "path=x,id=a\tb"), "id 'a\tb'", "printable");
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
}

static void test_drive_bad_inputs(void **state)
{
	static const struct {
		const char *arg, *fragment;
	} bad[] = {
		{ "path=x,foo=1", "unknown key 'foo'" },
		{ "readonly=on", "missing path=" },
		{ "", "missing path=" },
		{ "disk.img", "expected key=value, got 'disk.img'" },
		{ "path=x,", "expected key=value, got ''" },
		{ "path=x,,readonly=on", "expected key=value, got ''" },
		{ "path=", "empty path" },
		{ "path=x,path=y", "'path' given twice" },
		{ "path=x,readonly=yes", "readonly 'yes': must be off or on" },
		{ "path=x,readonly=", "readonly '': must be off or on" },
		{ "path=x,cache=directsync", "cache 'directsync': must be writeback or none" },
		{ "path=x,cache=none,cache=none", "'cache' given twice" },
		{ "path=x,io=aio", "io 'aio': must be auto, uring or threads" },
		{ "path=x,io=", "io '': must be auto, uring or threads" },
		{ "path=x,=1", "unknown key ''" },
		{ "PATH=x", "unknown key 'PATH'" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--drive '%s': ", bad[i].arg);
		expect_error(device_option("drive", bad[i].arg), quoted, bad[i].fragment);
		assert_int_equal(blk_config_of(&cfg)->nr_drives, 0);
	}
}

static void test_drive_path_too_long(void **state)
{
	static char arg[5 + 4096 + 1];
	(void)state;

	memcpy(arg, "path=", 5);
	memset(arg + 5, 'a', 4095);
	assert_int_equal(device_option("drive", arg), 0);
	assert_int_equal(strlen(blk_config_of(&cfg)->drives[0].path), 4095);

	arg[5 + 4095] = 'a';
	/* The quoted value is cut short, so the reason still fits the message. */
	expect_error(device_option("drive", arg), "--drive 'path=aaa", "...': path longer than 4095");
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
}

static void test_drive_too_many(void **state)
{
	(void)state;
	for (int i = 0; i < BLK_MAX_DRIVES; i++)
		assert_int_equal(device_option("drive", "path=x"), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[BLK_MAX_DRIVES - 1].id, "drive15");
	expect_error(device_option("drive", "path=x"), "--drive", "at most 16");
	assert_int_equal(blk_config_of(&cfg)->nr_drives, BLK_MAX_DRIVES);
}

static void test_net_tap_only(void **state)
{
	(void)state;
	assert_int_equal(device_option("net", "tap=tap0"), 0);
	assert_int_equal(net_config_of(&cfg)->nr, 1);
	assert_string_equal(net_config_of(&cfg)->nets[0].tap, "tap0");
	assert_false(net_config_of(&cfg)->nets[0].mac_set);
}

static void test_net_mac(void **state)
{
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xCD, 0xef };
	(void)state;

	assert_int_equal(device_option("net", "mac=52:54:00:ab:CD:ef,tap=123456789012345"), 0);
	assert_string_equal(net_config_of(&cfg)->nets[0].tap, "123456789012345");
	assert_true(net_config_of(&cfg)->nets[0].mac_set);
	assert_memory_equal(net_config_of(&cfg)->nets[0].mac, want, 6);
	/* Globally administered unicast is fine too. */
	assert_int_equal(device_option("net", "tap=t1,mac=00:11:22:33:44:55"), 0);
}

static void test_net_bad_inputs(void **state)
{
	static const struct {
		const char *arg, *fragment;
	} bad[] = {
		{ "", "missing tap=" },
		{ "mac=52:54:00:12:34:56", "missing tap=" },
		{ "tap0", "expected key=value, got 'tap0'" },
		{ "tap=", "empty tap" },
		{ "tap=1234567890123456", "tap longer than 15" },
		{ "tap=t0,tap=t1", "'tap' given twice" },
		{ "tap=t0,vhost=on", "unknown key 'vhost'" },
		{ "tap=a/b", "tap 'a/b'" },
		{ "tap=a:b", "tap 'a:b'" },
		{ "tap=a b", "tap 'a b'" },
		{ "tap=..", "not an interface name" },
		{ "tap=t0,mac=52:54:00:12:34", "mac '52:54:00:12:34': not six hex pairs" },
		{ "tap=t0,mac=52:54:00:12:34:56:78", "not six hex pairs" },
		{ "tap=t0,mac=52-54-00-12-34-56", "not six hex pairs" },
		{ "tap=t0,mac=52:54:00:12:34:5g", "not six hex pairs" },
		{ "tap=t0,mac=5:254:00:12:34:56", "not six hex pairs" },
		{ "tap=t0,mac=", "not six hex pairs" },
		{ "tap=t0,mac=01:00:5e:00:00:01", "multicast" },
		{ "tap=t0,mac=ff:ff:ff:ff:ff:ff", "multicast" },
		{ "tap=t0,mac=00:00:00:00:00:00", "all zeros" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--net '%s': ", bad[i].arg);
		expect_error(device_option("net", bad[i].arg), quoted, bad[i].fragment);
		assert_int_equal(net_config_of(&cfg)->nr, 0);
	}
}

static void test_net_duplicates(void **state)
{
	(void)state;
	assert_int_equal(device_option("net", "tap=t0,mac=52:54:00:00:00:01"), 0);
	expect_error(device_option("net", "tap=t0"), "--net 'tap=t0'", "already used");
	expect_error(device_option("net", "tap=t1,mac=52:54:00:00:00:01"), "--net 'tap=t1,", "mac already");
	assert_int_equal(device_option("net", "tap=t1,mac=52:54:00:00:00:02"), 0);
	assert_int_equal(net_config_of(&cfg)->nr, 2);
}

static void test_net_too_many(void **state)
{
	char arg[32];
	(void)state;

	for (unsigned i = 0; i < NET_MAX_INTERFACES; i++) {
		snprintf(arg, sizeof(arg), "tap=tap%u", i);
		assert_int_equal(device_option("net", arg), 0);
	}
	expect_error(device_option("net", "tap=tap9"), "--net", "at most 4");
	assert_int_equal(net_config_of(&cfg)->nr, NET_MAX_INTERFACES);
}

static void test_console(void **state)
{
	(void)state;
	assert_int_equal(device_option("console", "virtio"), 0);
	assert_true(vcon_config_of(&cfg)->enabled);
	assert_int_equal(device_option("console", "serial"), 0);
	assert_false(vcon_config_of(&cfg)->enabled);
	expect_error(device_option("console", "hvc"), "--console 'hvc'", "serial or virtio");
}

static void test_rng(void **state)
{
	(void)state;
	assert_false(rng_config_of(&cfg)->enabled);
	assert_int_equal(device_option("rng", NULL), 0);
	assert_true(rng_config_of(&cfg)->enabled);
	expect_error(device_option("rng", "1"), "unexpected argument '1'", NULL);
}

/* A device's option is declared once: no two records take the same name. */
static void test_names_unique(void **state)
{
	const struct device_ops *devices[DEVICES_MAX];
	size_t nr = devices_registered(devices), seen = 0;
	(void)state;

	for (size_t i = 0; i < nr; i++)
		for (const struct option_spec *s = devices[i]->options; s && s->name; s++, seen++)
			for (size_t j = 0; j <= i; j++)
				for (const struct option_spec *t = devices[j]->options; t && t->name && t != s; t++)
					if (!strcmp(s->name, t->name))
						fail_msg("--%s is declared by %s and %s", s->name, devices[j]->name,
							 devices[i]->name);
	/* --drive, --net, --rng and --console at least. */
	assert_true(seen >= 4);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_drive_path_only),
		T(test_drive_all_keys),
		T(test_drive_id_limits),
		T(test_drive_bad_inputs),
		T(test_drive_path_too_long),
		T(test_drive_too_many),
		T(test_net_tap_only),
		T(test_net_mac),
		T(test_net_bad_inputs),
		T(test_net_duplicates),
		T(test_net_too_many),
		T(test_console),
		T(test_rng),
		T(test_names_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
