// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "device.h"
#include "vm_config.h"

#define ENTRY(n, l) { .name = (n), .level = (l) }

/* Equal levels keep the order they came in, whatever else moves around them. */
static void test_sort_is_stable_within_a_level(void **state)
{
	static const struct device_ops ops[] = {
		ENTRY("virtio-blk", DEVICE_LEVEL_VIRTIO), ENTRY("power", DEVICE_LEVEL_PLATFORM),
		ENTRY("virtio-console", DEVICE_LEVEL_VIRTIO), ENTRY("serial", DEVICE_LEVEL_CONSOLE),
		ENTRY("virtio-net", DEVICE_LEVEL_VIRTIO), ENTRY("pci", DEVICE_LEVEL_BUS),
		ENTRY("legacy", DEVICE_LEVEL_PLATFORM), ENTRY("virtio-rng", DEVICE_LEVEL_VIRTIO),
	};
	static const char *const want[] = { "power", "legacy", "pci", "serial",
					    "virtio-blk", "virtio-console", "virtio-net", "virtio-rng" };
	const struct device_ops *order[sizeof(ops) / sizeof(ops[0])];
	(void)state;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		order[i] = &ops[i];
	devices_sort(order, sizeof(ops) / sizeof(ops[0]));
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		assert_string_equal(order[i]->name, want[i]);
}

static void test_sort_empty_and_single(void **state)
{
	static const struct device_ops one = ENTRY("only", DEVICE_LEVEL_BUS);
	const struct device_ops *order[1] = { &one };
	(void)state;

	devices_sort(order, 0);
	devices_sort(order, 1);
	assert_ptr_equal(order[0], &one);
}

/* Every registered device's configuration has its own part of struct vm_config, inside it. */
static void test_device_configs_fit_apart(void **state)
{
	static struct vm_config cfg;
	const struct device_ops *all[DEVICES_MAX];
	size_t n = devices_registered(all), with_config = 0;
	(void)state;

	assert_in_range(n, 1, DEVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char *mine = device_config(&cfg, all[i]);

		if (!all[i]->config_size) {
			assert_null(mine);
			continue;
		}
		with_config++;
		assert_non_null(mine);
		assert_true(mine + all[i]->config_size <= cfg.device_configs + sizeof(cfg.device_configs));
		assert_ptr_equal(device_config_const(&cfg, all[i]), mine);
		for (size_t j = 0; j < i; j++) {
			unsigned char *other = device_config(&cfg, all[j]);

			if (other)
				assert_true(other + all[j]->config_size <= mine || mine + all[i]->config_size <= other);
		}
	}
	/* virtio-blk, -net, -rng and -console at least. */
	assert_true(with_config >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_configs_fit_apart),
		cmocka_unit_test(test_sort_is_stable_within_a_level),
		cmocka_unit_test(test_sort_empty_and_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
