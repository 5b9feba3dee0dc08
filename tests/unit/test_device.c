// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* The records linked into this binary (all of kvmini's), in the order devices_init makes them. */
static void test_registered_in_init_order(void **state)
{
	const struct device_ops *all[DEVICES_MAX];
	size_t n = devices_registered(all);
	(void)state;

	assert_in_range(n, 9, DEVICES_MAX);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1]->level <= all[i]->level);
	/* legacy claims what is left, so it comes after every other device. */
	assert_string_equal(all[n - 1]->name, "legacy-absent");
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(device_find(all[i]->name), all[i]);
	assert_int_equal(device_find("virtio-blk")->level, DEVICE_LEVEL_VIRTIO);
	assert_null(device_find("no-such-device"));
}

/* What the fake devices below did, in order: "i:a" for init of a, "x:a" exit, "p:a" pause, "r:a" resume. */
static char trail[128];

struct fake_dev {
	const char *name;
	int init_error;
	unsigned rows; /* stats rows it reports */
};

static void note(char what, const struct fake_dev *d)
{
	size_t used = strlen(trail);

	snprintf(trail + used, sizeof(trail) - used, "%c:%s ", what, d->name);
}

static int fake_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	const struct fake_dev *d = config;

	(void)host;
	note('i', d);
	if (d->init_error)
		return errmsg_set(e, d->init_error, "%s: cannot", d->name);
	*data = (void *)d;
	return 0;
}

static void fake_exit(void *data)
{
	note('x', data);
}

static void fake_pause(void *data)
{
	note('p', data);
}

static void fake_resume(void *data)
{
	note('r', data);
}

static unsigned fake_stats(void *data, struct device_stats *rows, unsigned max)
{
	const struct fake_dev *d = data;
	unsigned n = 0;

	for (; n < d->rows && n < max; n++)
		snprintf(rows[n].name, sizeof(rows[n].name), "%s%u", d->name, n);
	return n;
}

static int fake_ctrl_alt_del(void *data)
{
	note('c', data);
	return 0;
}

static const struct device_ops plain = { .name = "plain", .init = fake_init, .exit = fake_exit };
static const struct device_ops busy = {
	.name = "busy", .init = fake_init, .exit = fake_exit, .pause = fake_pause, .resume = fake_resume,
	.stats = fake_stats, .ctrl_alt_del = fake_ctrl_alt_del,
};

/* The set calls each hook where a device has one: pause in order, resume and exit in reverse. */
static void test_set_hooks(void **state)
{
	static const struct fake_dev a = { .name = "a" }, b = { .name = "b", .rows = 3 }, c = { .name = "c", .rows = 2 };
	struct device_set set = { 0 };
	struct device_stats rows[4];
	struct errmsg e;
	(void)state;

	trail[0] = '\0';
	assert_int_equal(devices_ctrl_alt_del(&set), -ENODEV);
	assert_int_equal(devices_add(&set, &plain, NULL, &a, &e), 0);
	assert_int_equal(devices_ctrl_alt_del(&set), -ENODEV);
	assert_int_equal(devices_add(&set, &busy, NULL, &b, &e), 0);
	assert_int_equal(devices_add(&set, &busy, NULL, &c, &e), 0);
	assert_ptr_equal(devices_find(&set, &busy), &b);
	assert_ptr_equal(devices_find(&set, &plain), &a);
	devices_pause(&set);
	devices_resume(&set);
	assert_int_equal(devices_ctrl_alt_del(&set), 0);
	/* Rows in device order, cut at max. */
	assert_int_equal(devices_stats(&set, rows, 4), 4);
	assert_string_equal(rows[0].name, "b0");
	assert_string_equal(rows[2].name, "b2");
	assert_string_equal(rows[3].name, "c0");
	devices_exit(&set);
	assert_int_equal(set.nr, 0);
	assert_string_equal(trail, "i:a i:b i:c p:b p:c r:c r:b c:b x:c x:b x:a ");
}

/* A failing init leaves the set as it was; devices_add refuses past DEVICES_MAX. */
static void test_set_errors(void **state)
{
	static const struct fake_dev ok = { .name = "ok" }, bad = { .name = "bad", .init_error = EBUSY };
	static struct device_set set;
	struct errmsg e;
	(void)state;

	memset(&set, 0, sizeof(set));
	assert_int_equal(devices_add(&set, &plain, NULL, &bad, &e), -EBUSY);
	assert_string_equal(e.text, "bad: cannot");
	assert_int_equal(set.nr, 0);
	for (unsigned i = 0; i < DEVICES_MAX; i++)
		assert_int_equal(devices_add(&set, &plain, NULL, &ok, &e), 0);
	assert_int_equal(devices_add(&set, &plain, NULL, &ok, &e), -ENOSPC);
	assert_int_equal(set.nr, DEVICES_MAX);
	devices_exit(&set);
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
		cmocka_unit_test(test_registered_in_init_order),
		cmocka_unit_test(test_set_hooks),
		cmocka_unit_test(test_set_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
