// SPDX-License-Identifier: Apache-2.0
/* The pvpanic port (src/devices/pvpanic.c) on a fake VM: its ACPI description. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "boot/aml.h"
#include "device.h"
#include "fake_vm.h"

/* Device (PEVT) as iasl 20200925 compiles it from the equivalent ASL. */
static const uint8_t pvpanic_ref[] = {
	0x5B, 0x82, 0x27, 'P', 'E', 'V', 'T',
	0x08, '_', 'H', 'I', 'D', 0x0D, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0D, 0x0A, 0x0A,
	0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01,
	0x79, 0x00,
};

static struct fake_vm f;
static uint8_t ram[4096];

static void test_describe_acpi(void **state)
{
	const struct device_instance *pvpanic;
	uint8_t out[128];
	struct aml a;
	(void)state;

	memset(&f.cfg, 0, sizeof(f.cfg));
	assert_int_equal(fake_vm_init(&f, ram, sizeof(ram), 0), 0);
	assert_int_equal(fake_vm_add_device(&f, "pvpanic"), 0);
	pvpanic = &f.vm.devices[f.vm.nr_devices - 1];
	aml_init(&a, out, sizeof(out));
	assert_int_equal(pvpanic->ops->describe_acpi(pvpanic->data, &a), 0);
	assert_int_equal(aml_finish(&a), sizeof(pvpanic_ref));
	assert_memory_equal(out, pvpanic_ref, sizeof(pvpanic_ref));
	aml_init(&a, out, 20);
	assert_int_equal(pvpanic->ops->describe_acpi(pvpanic->data, &a), -ENOSPC);
	fake_vm_exit(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_acpi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
