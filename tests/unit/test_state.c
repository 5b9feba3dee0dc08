// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "device.h"
#include "state.h"

static void test_fields_are_little_endian_and_round_trip(void **state)
{
	static const uint8_t want[] = { 0xab, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1, 1, 'h', 'i' };
	struct state_writer w;
	struct state_reader r;
	struct errmsg e = { "" };
	char hi[2];
	(void)state;

	state_writer_init(&w);
	state_put_u8(&w, 0xab);
	state_put_u16(&w, 0x1234);
	state_put_u32(&w, 0x12345678);
	state_put_u64(&w, 0x0102030405060708ull);
	state_put_bool(&w, true);
	state_put_bytes(&w, "hi", 2);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));

	state_reader_init(&r, w.buf, w.len, "test");
	assert_int_equal(state_get_u8(&r, "a"), 0xab);
	assert_int_equal(state_get_u16(&r, "b"), 0x1234);
	assert_int_equal(state_get_u32(&r, "c"), 0x12345678);
	assert_true(state_get_u64(&r, "d") == 0x0102030405060708ull);
	assert_true(state_get_bool(&r, "e"));
	state_get_bytes(&r, "f", hi, 2);
	assert_memory_equal(hi, "hi", 2);
	assert_int_equal(state_reader_done(&r, &e), 0);
	state_writer_free(&w);
}

/* The buffer grows past its first size without losing what came before. */
static void test_writer_grows(void **state)
{
	struct state_writer w;
	(void)state;

	state_writer_init(&w);
	for (uint32_t i = 0; i < 1000; i++)
		state_put_u32(&w, i);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 4000);
	assert_int_equal(w.buf[4 * 999], 999 & 0xff);
	assert_int_equal(w.buf[4 * 999 + 1], 999 >> 8);
	state_writer_free(&w);
}

/* A short blob: the read that runs out fails, names its field, and every later read gives 0. */
static void test_short_blob_fails_and_sticks(void **state)
{
	static const uint8_t blob[] = { 1, 2, 3 };
	struct state_reader r;
	struct errmsg e = { "" };
	(void)state;

	state_reader_init(&r, blob, sizeof(blob), "uart");
	assert_int_equal(state_get_u16(&r, "first"), 0x0201);
	assert_int_equal(state_get_u32(&r, "second"), 0);
	assert_int_equal(state_get_u8(&r, "third"), 0); /* one byte is still there, but the reader failed */
	assert_int_equal(state_reader_done(&r, &e), -EINVAL);
	assert_string_equal(e.text, "uart state: second: truncated: 4 bytes at offset 2, 1 left");
}

static void test_bool_and_leftovers_and_invalid(void **state)
{
	static const uint8_t two[] = { 2 }, extra[] = { 1, 9, 9 };
	struct state_reader r;
	struct errmsg e = { "" };
	(void)state;

	state_reader_init(&r, two, sizeof(two), "dev");
	assert_false(state_get_bool(&r, "flag"));
	assert_int_equal(state_reader_done(&r, &e), -EINVAL);
	assert_string_equal(e.text, "dev state: flag: 2 is not a boolean");

	state_reader_init(&r, extra, sizeof(extra), "dev");
	assert_true(state_get_bool(&r, "flag"));
	assert_int_equal(state_reader_done(&r, &e), -EINVAL);
	assert_string_equal(e.text, "dev state: end: 2 bytes left over");

	/* The first problem is the one reported. */
	state_reader_init(&r, extra, sizeof(extra), "dev");
	assert_int_equal(state_invalid(&r, "size", "%u is not a power of two", 3), -EINVAL);
	state_invalid(&r, "other", "later");
	assert_int_equal(state_reader_done(&r, &e), -EINVAL);
	assert_string_equal(e.text, "dev state: size: 3 is not a power of two");
}

/* Two devices for the framing: one with a u32 of state that must be below 100, one without hooks. */
struct counter {
	uint32_t value;
};

static int counter_save(void *data, struct state_writer *w)
{
	state_put_u32(w, ((struct counter *)data)->value);
	return 0;
}

static int counter_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	uint32_t value = state_get_u32(r, "value");

	if (value >= 100)
		state_invalid(r, "value", "%u is 100 or more", value);
	if (state_reader_done(r, e))
		return -EINVAL;
	((struct counter *)data)->value = value;
	return 0;
}

static const struct device_ops counter_ops = {
	.name = "counter", .save = counter_save, .restore = counter_restore, .state_version = 3,
};
static const struct device_ops plain_ops = { .name = "plain" };

static void save_two(struct counter *c, struct state_writer *w)
{
	const struct device_instance set[] = { { &counter_ops, c }, { &plain_ops, NULL } };

	state_writer_init(w);
	assert_int_equal(devices_save(set, 2, w), 0);
}

static int restore_into(struct counter *c, const struct device_ops *second, unsigned nr, const void *blob,
			size_t len, struct errmsg *e)
{
	const struct device_instance set[] = { { &counter_ops, c }, { second, NULL } };
	struct state_reader r;

	state_reader_init(&r, blob, len, "snapshot");
	return devices_restore(set, nr, &r, e);
}

static void test_devices_round_trip(void **state)
{
	struct counter saved = { 42 }, restored = { 0 };
	struct state_writer w, again;
	struct errmsg e = { "" };
	(void)state;

	save_two(&saved, &w);
	/* magic, format, count; "counter" v3 with 4 bytes; "plain" v0 with none. */
	assert_int_equal(w.len, 8 + 4 + 4 + (1 + 7 + 4 + 4 + 4) + (1 + 5 + 4 + 4));
	assert_int_equal(restore_into(&restored, &plain_ops, 2, w.buf, w.len, &e), 0);
	assert_int_equal(restored.value, 42);
	save_two(&restored, &again);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.buf, w.buf, w.len);
	state_writer_free(&w);
	state_writer_free(&again);
}

/* kept: whether the counter, the first device, must keep what init gave it. */
static void expect_restore_error(struct state_writer *w, const struct device_ops *second, unsigned nr,
				 bool kept, const char *want)
{
	struct counter c = { 7 };
	struct errmsg e = { "" };

	assert_int_equal(restore_into(&c, second, nr, w->buf, w->len, &e), -EINVAL);
	assert_string_equal(e.text, want);
	assert_int_equal(c.value, kept ? 7 : 42);
}

static void test_devices_restore_errors(void **state)
{
	static const struct device_ops other_ops = { .name = "other" };
	static const struct device_ops plain_v2 = { .name = "plain", .state_version = 2 };
	struct counter saved = { 42 };
	struct state_writer w;
	(void)state;

	save_two(&saved, &w);
	expect_restore_error(&w, &other_ops, 2, true,
			     "snapshot state: device: 'plain' where this VM has 'other' (a device missing, extra or "
			     "out of order)");
	expect_restore_error(&w, &plain_ops, 1, true, "snapshot state: device count: 2 devices saved, this VM has 1");
	expect_restore_error(&w, &plain_v2, 2, true, "snapshot state: plain: version 0, this build reads version 2");

	/* Every cut of the blob fails cleanly, never reading past the end. */
	for (size_t len = 0; len < w.len; len++) {
		struct counter c = { 7 };
		struct errmsg e = { "" };

		assert_int_equal(restore_into(&c, &plain_ops, 2, w.buf, len, &e), -EINVAL);
		assert_true(strstr(e.text, "truncated") || strstr(e.text, "left over"));
	}

	w.buf[0] ^= 1;
	expect_restore_error(&w, &plain_ops, 2, true, "snapshot state: magic: not kvmini device state");
	w.buf[0] ^= 1;
	w.buf[8] = 9;
	expect_restore_error(&w, &plain_ops, 2, true, "snapshot state: format: 9, this build reads 1");
	w.buf[8] = 1;
	w.buf[16 + 1 + 7 + 4 + 4] = 100; /* the counter's value */
	expect_restore_error(&w, &plain_ops, 2, true, "counter state: value: 100 is 100 or more");
	w.buf[16 + 1 + 7 + 4 + 4] = 42;
	/* A length that runs into the next record: its header is then wrong, whatever it reads. */
	w.buf[16 + 1 + 7 + 4] = 5;
	expect_restore_error(&w, &plain_ops, 2, true, "snapshot state: device name: 112 bytes long, at most 32");

	/* A device without hooks must have saved nothing; the counter before it was restored by then. */
	state_writer_free(&w);
	save_two(&saved, &w);
	w.buf[w.len - 4] = 1;
	state_put_u8(&w, 0);
	expect_restore_error(&w, &plain_ops, 2, false, "plain state: end: 1 bytes left over");
	/* Something after the last device: found before any device changes. */
	w.buf[w.len - 5] = 0;
	expect_restore_error(&w, &plain_ops, 2, true, "snapshot state: end: 1 bytes left over");
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_are_little_endian_and_round_trip),
		cmocka_unit_test(test_writer_grows),
		cmocka_unit_test(test_short_blob_fails_and_sticks),
		cmocka_unit_test(test_bool_and_leftovers_and_invalid),
		cmocka_unit_test(test_devices_round_trip),
		cmocka_unit_test(test_devices_restore_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
