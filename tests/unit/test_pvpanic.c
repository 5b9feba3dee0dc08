// SPDX-License-Identifier: Apache-2.0
/*
 * The pvpanic port (src/devices/pvpanic.c) on a fake VM: its ACPI
 * description, and its place in a VM's saved state beside the ACPI sleep
 * registers: both have no state (their reads are constant), so their
 * records are empty, and a restore refuses any bytes for them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "device_aml.h"
#include "fake_host.h"
#include "state.h"

/* Device (PEVT) as iasl 20200925 compiles it from the equivalent ASL. */
static const uint8_t pvpanic_ref[] = {
	0x5B, 0x82, 0x27, 'P', 'E', 'V', 'T',
	0x08, '_', 'H', 'I', 'D', 0x0D, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0D, 0x0A, 0x0A,
	0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,
	0x79, 0x00,
};

static struct fake_host f;
static uint8_t ram[4096];

static void start_vm(void)
{
	memset(&f.cfg, 0, sizeof(f.cfg));
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "acpi-sleep"), 0);
	assert_int_equal(fake_host_add(&f, "pvpanic"), 0);
}

static void test_describe_acpi(void **state)
{
	(void)state;

	start_vm();
	expect_device_aml(&f.devices.devices[f.devices.nr - 1], pvpanic_ref, sizeof(pvpanic_ref));
	fake_host_exit(&f);
}

static int restore_vm(const struct state_writer *w, struct errmsg *e)
{
	struct state_reader r;

	state_reader_init(&r, w->buf, w->len, "VM");
	return devices_restore(f.devices.devices, f.devices.nr, &r, e);
}

static void test_empty_records(void **state)
{
	/* The header (magic, format, count), then per device its name's length and name, version and length. */
	const size_t want = 16 + (1 + strlen("acpi-sleep") + 4 + 4) + (1 + strlen("pvpanic") + 4 + 4);
	struct state_writer w;
	struct errmsg e = { "" };
	(void)state;

	start_vm();
	state_writer_init(&w);
	assert_int_equal(devices_save(f.devices.devices, f.devices.nr, &w), 0);
	assert_int_equal(w.len, want);
	fake_host_exit(&f);

	start_vm();
	assert_int_equal(restore_vm(&w, &e), 0);
	/* pvpanic's record, the last, says it has a byte of state, and has it. */
	w.buf[w.len - 4] = 1;
	state_put_u8(&w, 0);
	assert_int_equal(restore_vm(&w, &e), -EINVAL);
	assert_string_equal(e.text, "pvpanic state: end: 1 bytes left over");
	fake_host_exit(&f);
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_acpi),
		cmocka_unit_test(test_empty_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
