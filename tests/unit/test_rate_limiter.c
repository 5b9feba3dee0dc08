// SPDX-License-Identifier: Apache-2.0
/* The rate limiter's token buckets on a fake clock, and its JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "api/json.h"
#include "rate_limiter.h"

#define MS 1000000ULL
#define SEC (1000 * MS)
/* An arbitrary start: the clock need not begin at 0. */
#define T0 (123 * SEC)
#define TEST_TIMEOUT 20

static struct rate_limiter limiter(uint64_t bw_size, uint64_t bw_burst, uint64_t bw_ms, uint64_t ops_size,
				   uint64_t ops_burst, uint64_t ops_ms)
{
	const struct rate_limiter_config c = {
		.bandwidth = { .size = bw_size, .one_time_burst = bw_burst, .refill_time_ms = bw_ms },
		.ops = { .size = ops_size, .one_time_burst = ops_burst, .refill_time_ms = ops_ms },
	};
	struct rate_limiter rl;

	rate_limiter_init(&rl, &c, T0);
	return rl;
}

/* Serves the request if it may go at now (and charges it); else 0 and the wait. */
static uint64_t try(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now)
{
	uint64_t wait = rate_limiter_wait(rl, ops, bytes, now);

	if (!wait)
		rate_limiter_charge(rl, ops, bytes, now);
	return wait;
}

static void test_inactive(void **state)
{
	struct rate_limiter rl = limiter(0, 0, 0, 5, 0, 0); /* size without refill_time: off too */
	(void)state;

	assert_false(rate_limiter_active(&rl));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(try(&rl, 1, UINT64_MAX, T0), 0);
}

/* ops size 1 per 100 ms: one request, then the next 100 ms later, not before. */
static void test_ops_refill(void **state)
{
	struct rate_limiter rl = limiter(0, 0, 0, 1, 0, 100);
	(void)state;

	assert_true(rate_limiter_active(&rl));
	assert_int_equal(try(&rl, 1, 4096, T0), 0);
	assert_int_equal(try(&rl, 1, 4096, T0), 100 * MS);
	assert_int_equal(try(&rl, 1, 4096, T0 + 40 * MS), 60 * MS);
	assert_int_equal(try(&rl, 1, 4096, T0 + 100 * MS), 0);
	assert_int_equal(try(&rl, 1, 4096, T0 + 150 * MS), 50 * MS);
	/* Idle for long: the bucket holds its size, no more. */
	assert_int_equal(try(&rl, 1, 0, T0 + 100 * SEC), 0);
	assert_int_not_equal(try(&rl, 1, 0, T0 + 100 * SEC), 0);
}

/* 1000 bytes per second, fractions of a token kept: over 10 s exactly 10 000 bytes more go through. */
static void test_bandwidth_rate(void **state)
{
	struct rate_limiter rl = limiter(1000, 0, 1000, 0, 0, 0);
	uint64_t served = 0, now = T0;
	(void)state;

	while (now < T0 + 10 * SEC) {
		uint64_t wait = try(&rl, 1, 7, now);

		if (!wait)
			served += 7;
		now += wait ? wait : 1;
	}
	/* The full bucket at the start, then 10 s of refill, less what did not make a whole request. */
	assert_in_range(served, 1000 + 10000 - 7, 1000 + 10000);
}

static void test_one_time_burst(void **state)
{
	struct rate_limiter rl = limiter(100, 1000, 1000, 0, 0, 0);
	(void)state;

	/* The burst first, then the bucket; the burst never comes back. */
	assert_int_equal(try(&rl, 1, 1000, T0), 0);
	assert_int_equal(try(&rl, 1, 100, T0), 0);
	assert_int_equal(try(&rl, 1, 1, T0), 10 * MS);
	assert_int_equal(try(&rl, 1, 100, T0 + 5 * SEC), 0);
	assert_int_equal(try(&rl, 1, 50, T0 + 5 * SEC), 500 * MS);
	/* A request spanning burst and budget takes both. */
	rl = limiter(100, 30, 1000, 0, 0, 0);
	assert_int_equal(try(&rl, 1, 120, T0), 0);
	assert_int_equal(try(&rl, 1, 10, T0), 0);
	assert_int_equal(try(&rl, 1, 1, T0), 10 * MS);
}

/* Both buckets must allow a request; a refused one takes nothing from either. */
static void test_both_buckets(void **state)
{
	struct rate_limiter rl = limiter(1000, 0, 1000, 2, 0, 1000);
	(void)state;

	assert_int_equal(try(&rl, 1, 400, T0), 0);
	assert_int_equal(try(&rl, 1, 400, T0), 0);
	/* ops empty, bandwidth not: the ops bucket's wait. */
	assert_int_equal(try(&rl, 1, 100, T0), 500 * MS);
	assert_int_equal(rl.bandwidth.budget, 200);
	/* bandwidth short (700), ops not: the bandwidth bucket's wait. */
	assert_int_equal(try(&rl, 1, 900, T0 + 500 * MS), 200 * MS);
	assert_int_equal(rl.ops.budget, 1);
	assert_int_equal(try(&rl, 1, 900, T0 + 700 * MS), 0);
	assert_int_equal(rl.ops.budget, 0);
	assert_int_equal(rl.bandwidth.budget, 0);
}

/* A request larger than the bucket waits for a full bucket, goes, and leaves a debt repaid before anything else. */
static void test_larger_than_the_bucket(void **state)
{
	struct rate_limiter rl = limiter(1000, 0, 1000, 0, 0, 0);
	(void)state;

	assert_int_equal(try(&rl, 1, 500, T0), 0);
	assert_int_equal(try(&rl, 1, 3000, T0), 500 * MS);
	assert_int_equal(try(&rl, 1, 3000, T0 + 500 * MS), 0);
	assert_int_equal(rl.bandwidth.debt, 2000);
	/* Nothing, not even a request of unknown size (0 bytes), until the debt is repaid. */
	assert_int_equal(try(&rl, 1, 0, T0 + 500 * MS), 2000 * MS);
	assert_int_equal(try(&rl, 1, 1, T0 + 1500 * MS), 1001 * MS);
	assert_int_equal(try(&rl, 1, 0, T0 + 2500 * MS), 0);
	/* The size of what was received, charged afterwards, becomes a debt. */
	rate_limiter_charge(&rl, 0, 1500, T0 + 2500 * MS);
	assert_int_equal(rl.bandwidth.debt, 1500);
	assert_int_equal(try(&rl, 1, 0, T0 + 2500 * MS), 1500 * MS);
}

/* An update replaces the buckets it gives (full again) and keeps the others with their tokens. */
static void test_update(void **state)
{
	struct rate_limiter rl = limiter(1000, 0, 1000, 10, 0, 1000);
	struct rate_limiter_update u = { .bandwidth = true };
	struct rate_limiter_config c = { .ops = { .size = 10, .refill_time_ms = 1000 } };
	(void)state;

	assert_int_equal(try(&rl, 4, 1000, T0), 0);
	assert_int_not_equal(try(&rl, 1, 1, T0), 0);
	u.config.bandwidth = (struct token_bucket_config){ .size = 5000, .refill_time_ms = 100 };
	rate_limiter_update(&rl, &u, T0);
	assert_int_equal(rl.bandwidth.budget, 5000);
	assert_int_equal(rl.ops.budget, 6);
	assert_int_equal(try(&rl, 1, 5000, T0), 0);
	assert_int_equal(try(&rl, 1, 1, T0), 20000); /* 5000 per 100 ms: 20 us a byte */
	/* A bucket given with size 0 turns it off. */
	u.config.bandwidth.size = 0;
	rate_limiter_update(&rl, &u, T0);
	assert_int_equal(try(&rl, 1, UINT64_MAX, T0), 0);
	assert_true(rate_limiter_active(&rl));
	/* Only ops given: off as well, so nothing limits. */
	u = (struct rate_limiter_update){ .ops = true };
	rate_limiter_update(&rl, &u, T0);
	assert_false(rate_limiter_active(&rl));
	/* The configuration follows the same rule. */
	u = (struct rate_limiter_update){ .bandwidth = true, .config.bandwidth = { .size = 7, .refill_time_ms = 8 } };
	rate_limiter_config_update(&c, &u);
	assert_int_equal(c.bandwidth.size, 7);
	assert_int_equal(c.ops.size, 10);
}

/* Sizes and times near 2^64: no overflow, waits saturate, refills do not wrap. */
static void test_huge_values(void **state)
{
	struct rate_limiter rl = limiter(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, 0, UINT64_MAX);
	uint64_t wait;
	(void)state;

	assert_int_equal(try(&rl, UINT64_MAX, UINT64_MAX, T0), 0);
	/* Bandwidth: the burst was spent, the budget is whole; ops: all of it again, a whole refill (584 years). */
	wait = try(&rl, UINT64_MAX, UINT64_MAX, T0);
	assert_int_equal(wait, UINT64_MAX / MS * MS);
	assert_int_equal(rl.bandwidth.budget, UINT64_MAX);
	assert_int_equal(try(&rl, 1, 1, UINT64_MAX), 0);
	/* Size 1 with a refill of 584 years and a debt of 2^64: the wait saturates. */
	rl = limiter(1, 0, UINT64_MAX, 0, 0, 0);
	rate_limiter_charge(&rl, 1, UINT64_MAX, T0);
	rate_limiter_charge(&rl, 1, UINT64_MAX, T0);
	assert_int_equal(rl.bandwidth.debt, UINT64_MAX);
	assert_int_equal(try(&rl, 1, 1, T0), UINT64_MAX);
	/* A fast bucket far in the future: the refill is clamped, the bucket full. */
	rl = limiter(UINT64_MAX, 0, 1, 0, 0, 0);
	rate_limiter_charge(&rl, 1, UINT64_MAX, T0);
	assert_int_equal(try(&rl, 1, UINT64_MAX, UINT64_MAX), 0);
	/* A clock that goes back does not refill or wrap. */
	rl = limiter(10, 0, 1000, 0, 0, 0);
	assert_int_equal(try(&rl, 1, 10, T0), 0);
	assert_int_equal(try(&rl, 1, 1, T0 - SEC), 100 * MS);
}

static void expect_update(const char *json, bool bw, bool ops)
{
	struct rate_limiter_update u;
	struct errmsg e = { "" };

	assert_int_equal(rate_limiter_update_parse(json, strlen(json), &u, &e), 0);
	assert_int_equal(u.bandwidth, bw);
	assert_int_equal(u.ops, ops);
}

static void expect_refused(const char *json, const char *msg)
{
	struct rate_limiter_config c;
	struct errmsg e = { "" };

	assert_int_equal(rate_limiter_config_parse("rate_limiter", json, strlen(json), &c, &e), -EINVAL);
	assert_string_equal(e.text, msg);
}

static void test_parse_and_format(void **state)
{
	const char *json = "{\"bandwidth\": {\"size\": 2097152, \"refill_time\": 1000}, "
			   "\"ops\": {\"size\": 10, \"one_time_burst\": 5, \"refill_time\": 100}}";
	struct rate_limiter_config c = { .ops.size = 99 };
	struct errmsg e = { "" };
	char out[512];
	struct json_out j;
	(void)state;

	assert_int_equal(rate_limiter_config_parse("rate_limiter", json, strlen(json), &c, &e), 0);
	assert_int_equal(c.bandwidth.size, 2097152);
	assert_int_equal(c.ops.one_time_burst, 5);
	json_out_init(&j, out, sizeof(out));
	json_object_begin(&j, NULL);
	rate_limiter_config_format(&j, "rate_limiter", &c);
	json_object_end(&j);
	assert_string_equal(out, "{\"rate_limiter\":{\"bandwidth\":{\"size\":2097152,\"one_time_burst\":0,"
				 "\"refill_time\":1000},\"ops\":{\"size\":10,\"one_time_burst\":5,\"refill_time\":100}}}");
	/* Kata sends {}; Firecracker's clients send null for an absent bucket. */
	expect_update("{}", false, false);
	expect_update("{\"bandwidth\": null, \"ops\": {\"size\": 0, \"refill_time\": 0}}", false, true);
	expect_update("{\"bandwidth\": {\"size\": 1, \"refill_time\": 1, \"one_time_burst\": null}}", true, false);
	expect_refused("{\"bandwidth\": {\"size\": 1}}", "'rate_limiter': 'bandwidth': missing field 'refill_time'");
	expect_refused("{\"ops\": {\"size\": -1, \"refill_time\": 1}}",
		       "'rate_limiter': 'ops': 'size' must be an integer from 0 to 18446744073709551615");
	expect_refused("{\"bytes\": {}}", "'rate_limiter': unknown field 'bytes'");
}

/* A loop on the fake clock that never ends is a failure, not a hang. */
static int set_alarm(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_inactive, set_alarm),
		cmocka_unit_test_setup(test_ops_refill, set_alarm),
		cmocka_unit_test_setup(test_bandwidth_rate, set_alarm),
		cmocka_unit_test_setup(test_one_time_burst, set_alarm),
		cmocka_unit_test_setup(test_both_buckets, set_alarm),
		cmocka_unit_test_setup(test_larger_than_the_bucket, set_alarm),
		cmocka_unit_test_setup(test_update, set_alarm),
		cmocka_unit_test_setup(test_huge_values, set_alarm),
		cmocka_unit_test_setup(test_parse_and_format, set_alarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
