// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "io_bus.h"

/* What a device saw of its last access; reads are answered with 0x10, 0x11, ... */
struct fake_dev {
	unsigned calls;
	uint64_t offset;
	unsigned size;
	bool is_write;
	uint8_t written[8];
};

static void fake_handler(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct fake_dev *d = opaque;

	d->calls++;
	d->offset = offset;
	d->size = size;
	d->is_write = is_write;
	if (is_write)
		memcpy(d->written, data, size);
	else
		for (unsigned i = 0; i < size; i++)
			data[i] = 0x10 + i;
}

static struct io_bus bus;

static int setup(void **state)
{
	(void)state;
	io_bus_init(&bus, "port");
	return 0;
}

static void test_init(void **state)
{
	(void)state;
	assert_string_equal(bus.kind, "port");
	assert_int_equal(bus.nr_ranges, 0);
	assert_int_equal(bus.unhandled_count, 0);
}

static void test_register(void **state)
{
	struct fake_dev d = { 0 };
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, "serial", fake_handler, &d), 0);
	assert_int_equal(bus.nr_ranges, 1);
	assert_int_equal(bus.ranges[0].base, 0x3f8);
	assert_int_equal(bus.ranges[0].len, 8);
	assert_string_equal(bus.ranges[0].name, "serial");
	assert_ptr_equal(bus.ranges[0].opaque, &d);
}

static void test_zero_length(void **state)
{
	(void)state;
	assert_int_equal(io_bus_register(&bus, 0x80, 0, "empty", NULL, NULL), -EINVAL);
	assert_int_equal(bus.nr_ranges, 0);
}

static void test_wrapping_range(void **state)
{
	(void)state;
	assert_int_equal(io_bus_register(&bus, UINT64_MAX, 2, "wraps", NULL, NULL), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0xfee00000, UINT64_MAX, "wraps", NULL, NULL), -EINVAL);
	assert_int_equal(bus.nr_ranges, 0);
}

static void test_overlap(void **state)
{
	static const struct {
		uint64_t base, len;
	} overlapping[] = {
		{ 0x100, 0x10 }, /* the same range */
		{ 0xf8, 0x9 },   /* ends in its first byte */
		{ 0x10f, 0x10 }, /* starts in its last byte */
		{ 0x104, 0x4 },  /* inside it */
		{ 0x0, 0x1000 }, /* around it */
	};
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x100, 0x10, "dev", NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(overlapping) / sizeof(overlapping[0]); i++)
		if (io_bus_register(&bus, overlapping[i].base, overlapping[i].len, "other", NULL, NULL) != -EEXIST)
			fail_msg("[%#llx, +%#llx) was not refused", (unsigned long long)overlapping[i].base,
				 (unsigned long long)overlapping[i].len);
	assert_int_equal(bus.nr_ranges, 1);

	/* Touching is not overlapping. */
	assert_int_equal(io_bus_register(&bus, 0xf0, 0x10, "below", NULL, NULL), 0);
	assert_int_equal(io_bus_register(&bus, 0x110, 0x10, "above", NULL, NULL), 0);
	assert_int_equal(bus.nr_ranges, 3);
}

static void test_full_table(void **state)
{
	(void)state;

	for (unsigned i = 0; i < IO_BUS_MAX_RANGES; i++)
		assert_int_equal(io_bus_register(&bus, 0x1000 + i * 0x10, 0x10, "dev", NULL, NULL), 0);
	assert_int_equal(io_bus_register(&bus, 0x8000, 1, "one too many", NULL, NULL), -ENOSPC);
	assert_int_equal(bus.nr_ranges, IO_BUS_MAX_RANGES);
}

static void test_dispatch_read(void **state)
{
	struct fake_dev d = { 0 };
	uint8_t data[4] = { 0 };
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, "serial", fake_handler, &d), 0);
	assert_true(io_bus_access(&bus, 0x3fd, data, 1, false));
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.offset, 5);
	assert_int_equal(d.size, 1);
	assert_false(d.is_write);
	assert_int_equal(data[0], 0x10);
	assert_int_equal(data[1], 0);
}

static void test_dispatch_write(void **state)
{
	struct fake_dev d = { 0 };
	uint8_t data[4] = { 0xde, 0xad, 0xbe, 0xef };
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0xd0000000, 0x1000, "mmio", fake_handler, &d), 0);
	assert_true(io_bus_access(&bus, 0xd0000ffc, data, 4, true));
	assert_int_equal(d.offset, 0xffc);
	assert_int_equal(d.size, 4);
	assert_true(d.is_write);
	assert_memory_equal(d.written, data, 4);
}

static void test_dispatch_to_right_device(void **state)
{
	struct fake_dev a = { 0 }, b = { 0 };
	uint8_t data[2];
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x60, 1, "a", fake_handler, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x64, 1, "b", fake_handler, &b), 0);
	assert_true(io_bus_access(&bus, 0x64, data, 1, false));
	assert_true(io_bus_access(&bus, 0x60, data, 2, false));
	assert_true(io_bus_access(&bus, 0x64, data, 1, true));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.offset, 0);
	assert_int_equal(a.size, 2);
	assert_int_equal(b.calls, 2);
	assert_true(b.is_write);
}

static void test_range_edges(void **state)
{
	struct fake_dev d = { 0 };
	uint8_t data[1];
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x70, 2, "rtc", fake_handler, &d), 0);
	assert_true(io_bus_access(&bus, 0x71, data, 1, false));
	assert_int_equal(d.offset, 1);
	assert_false(io_bus_access(&bus, 0x72, data, 1, false));
	assert_false(io_bus_access(&bus, 0x6f, data, 1, false));
	assert_int_equal(d.calls, 1);
}

static void test_unclaimed_read(void **state)
{
	struct fake_dev d = { 0 };
	uint8_t data[4] = { 1, 2, 3, 4 };
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, "serial", fake_handler, &d), 0);
	assert_false(io_bus_access(&bus, 0x2f8, data, 4, false));
	assert_memory_equal(data, ((uint8_t[]){ 0xff, 0xff, 0xff, 0xff }), 4);
	assert_int_equal(bus.unhandled_count, 1);
	assert_int_equal(d.calls, 0);
}

static void test_unclaimed_write(void **state)
{
	uint8_t data[2] = { 0x12, 0x34 };
	(void)state;

	assert_false(io_bus_access(&bus, 0x2f8, data, 2, true));
	assert_int_equal(data[0], 0x12);
	assert_int_equal(data[1], 0x34);
	assert_int_equal(bus.unhandled_count, 1);
}

/* A known-absent device answers like open bus, but counts as claimed (and is not logged). */
static void test_absent_device(void **state)
{
	uint8_t data[4] = { 0 }, wdata[1] = { 0x5a };
	(void)state;

	assert_int_equal(io_bus_register(&bus, 0x2e, 2, "superio", NULL, NULL), 0);
	assert_true(io_bus_access(&bus, 0x2f, data, 2, false));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[1], 0xff);
	assert_int_equal(data[2], 0);
	assert_true(io_bus_access(&bus, 0x2e, wdata, 1, true));
	assert_int_equal(wdata[0], 0x5a);
	assert_int_equal(bus.unhandled_count, 0);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init),
		T(test_register),
		T(test_zero_length),
		T(test_wrapping_range),
		T(test_overlap),
		T(test_full_table),
		T(test_dispatch_read),
		T(test_dispatch_write),
		T(test_dispatch_to_right_device),
		T(test_range_edges),
		T(test_unclaimed_read),
		T(test_unclaimed_write),
		T(test_absent_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
