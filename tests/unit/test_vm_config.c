// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm_config.h"
#include "virtio/blk.h"
#include "virtio/net.h"

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
	assert_int_equal(vm_config_add_drive(&cfg, "path=disk.img", &e), 0);
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
	assert_string_equal(blk_config_of(&cfg)->drives[0].path, "disk.img");
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "drive0");
	assert_false(blk_config_of(&cfg)->drives[0].readonly);
	assert_false(blk_config_of(&cfg)->drives[0].direct);
}

static void test_drive_all_keys(void **state)
{
	(void)state;
	assert_int_equal(vm_config_add_drive(&cfg, "id=root,cache=none,readonly=on,path=/var/a=b.raw", &e), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[0].path, "/var/a=b.raw");
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "root");
	assert_true(blk_config_of(&cfg)->drives[0].readonly);
	assert_true(blk_config_of(&cfg)->drives[0].direct);

	assert_int_equal(vm_config_add_drive(&cfg, "path=b,readonly=off,cache=writeback", &e), 0);
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 2);
	assert_false(blk_config_of(&cfg)->drives[1].readonly);
	assert_false(blk_config_of(&cfg)->drives[1].direct);
	/* The default id counts drives, whatever the others are called. */
	assert_string_equal(blk_config_of(&cfg)->drives[1].id, "drive1");
}

static void test_drive_id_limits(void **state)
{
	(void)state;
	assert_int_equal(vm_config_add_drive(&cfg, "path=x,id=12345678901234567890", &e), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[0].id, "12345678901234567890");
	expect_error(vm_config_add_drive(&cfg, "path=x,id=123456789012345678901", &e), "--drive 'path=x,id=1234",
		     "id longer than 20");
	expect_error(vm_config_add_drive(&cfg, "path=x,id=", &e), "--drive", "empty id");
	expect_error(vm_config_add_drive(&cfg, "path=x,id=a b", &e), "id 'a b'", "printable");
	expect_error(vm_config_add_drive(&cfg, "path=x,id=a\tb", &e), "id 'a\tb'", "printable");
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
		{ "path=x,=1", "unknown key ''" },
		{ "PATH=x", "unknown key 'PATH'" },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--drive '%s': ", bad[i].arg);
		expect_error(vm_config_add_drive(&cfg, bad[i].arg, &e), quoted, bad[i].fragment);
		assert_int_equal(blk_config_of(&cfg)->nr_drives, 0);
	}
}

static void test_drive_path_too_long(void **state)
{
	static char arg[5 + 4096 + 1];
	(void)state;

	memcpy(arg, "path=", 5);
	memset(arg + 5, 'a', 4095);
	assert_int_equal(vm_config_add_drive(&cfg, arg, &e), 0);
	assert_int_equal(strlen(blk_config_of(&cfg)->drives[0].path), 4095);

	arg[5 + 4095] = 'a';
	/* The quoted value is cut short, so the reason still fits the message. */
	expect_error(vm_config_add_drive(&cfg, arg, &e), "--drive 'path=aaa", "...': path longer than 4095");
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
}

static void test_drive_too_many(void **state)
{
	(void)state;
	for (int i = 0; i < BLK_MAX_DRIVES; i++)
		assert_int_equal(vm_config_add_drive(&cfg, "path=x", &e), 0);
	assert_string_equal(blk_config_of(&cfg)->drives[BLK_MAX_DRIVES - 1].id, "drive7");
	expect_error(vm_config_add_drive(&cfg, "path=x", &e), "--drive", "at most 8");
	assert_int_equal(blk_config_of(&cfg)->nr_drives, BLK_MAX_DRIVES);
}

static void test_net_tap_only(void **state)
{
	(void)state;
	assert_int_equal(vm_config_add_net(&cfg, "tap=tap0", &e), 0);
	assert_int_equal(net_config_of(&cfg)->nr, 1);
	assert_string_equal(net_config_of(&cfg)->nets[0].tap, "tap0");
	assert_false(net_config_of(&cfg)->nets[0].mac_set);
}

static void test_net_mac(void **state)
{
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xCD, 0xef };
	(void)state;

	assert_int_equal(vm_config_add_net(&cfg, "mac=52:54:00:ab:CD:ef,tap=123456789012345", &e), 0);
	assert_string_equal(net_config_of(&cfg)->nets[0].tap, "123456789012345");
	assert_true(net_config_of(&cfg)->nets[0].mac_set);
	assert_memory_equal(net_config_of(&cfg)->nets[0].mac, want, 6);
	/* Globally administered unicast is fine too. */
	assert_int_equal(vm_config_add_net(&cfg, "tap=t1,mac=00:11:22:33:44:55", &e), 0);
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
		expect_error(vm_config_add_net(&cfg, bad[i].arg, &e), quoted, bad[i].fragment);
		assert_int_equal(net_config_of(&cfg)->nr, 0);
	}
}

static void test_net_duplicates(void **state)
{
	(void)state;
	assert_int_equal(vm_config_add_net(&cfg, "tap=t0,mac=52:54:00:00:00:01", &e), 0);
	expect_error(vm_config_add_net(&cfg, "tap=t0", &e), "--net 'tap=t0'", "already used");
	expect_error(vm_config_add_net(&cfg, "tap=t1,mac=52:54:00:00:00:01", &e), "--net 'tap=t1,", "mac already");
	assert_int_equal(vm_config_add_net(&cfg, "tap=t1,mac=52:54:00:00:00:02", &e), 0);
	assert_int_equal(net_config_of(&cfg)->nr, 2);
}

static void test_net_too_many(void **state)
{
	char arg[32];
	(void)state;

	for (unsigned i = 0; i < NET_MAX_INTERFACES; i++) {
		snprintf(arg, sizeof(arg), "tap=tap%u", i);
		assert_int_equal(vm_config_add_net(&cfg, arg, &e), 0);
	}
	expect_error(vm_config_add_net(&cfg, "tap=tap9", &e), "--net", "at most 4");
	assert_int_equal(net_config_of(&cfg)->nr, NET_MAX_INTERFACES);
}

static void test_transport(void **state)
{
	enum virtio_transport_kind t = VIRTIO_TRANSPORT_PCI;
	(void)state;

	assert_int_equal(vm_config_parse_transport("mmio", &t, &e), 0);
	assert_int_equal(t, VIRTIO_TRANSPORT_MMIO);
	assert_int_equal(vm_config_parse_transport("pci", &t, &e), 0);
	assert_int_equal(t, VIRTIO_TRANSPORT_PCI);
	expect_error(vm_config_parse_transport("PCI", &t, &e), "--transport 'PCI'", "pci or mmio");
	expect_error(vm_config_parse_transport("", &t, &e), "--transport ''", "pci or mmio");
	assert_int_equal(t, VIRTIO_TRANSPORT_PCI);
}

static void test_console(void **state)
{
	bool virtio = false;
	(void)state;

	assert_int_equal(vm_config_parse_console("virtio", &virtio, &e), 0);
	assert_true(virtio);
	assert_int_equal(vm_config_parse_console("serial", &virtio, &e), 0);
	assert_false(virtio);
	expect_error(vm_config_parse_console("hvc", &virtio, &e), "--console 'hvc'", "serial or virtio");
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
		T(test_transport),
		T(test_console),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
