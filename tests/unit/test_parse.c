// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "parse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void expect_size(const char *s, uint64_t want)
{
	uint64_t got = 0xdeadbeef;

	if (parse_size(s, &got) != 0)
		fail_msg("parse_size(\"%s\") failed", s);
	if (got != want)
		fail_msg("parse_size(\"%s\") = %llu, want %llu", s, (unsigned long long)got,
			 (unsigned long long)want);
}

static void expect_size_error(const char *s, int want)
{
	uint64_t got = 12345;
	int err = parse_size(s, &got);

	if (err != want)
		fail_msg("parse_size(\"%s\") returned %d, want %d", s, err, want);
	assert_int_equal(got, 12345);
}

static void test_size_plain_bytes(void **state)
{
	(void)state;
	expect_size("0", 0);
	expect_size("1", 1);
	expect_size("4096", 4096);
	expect_size("1073741824", 1ULL << 30);
	expect_size("18446744073709551615", UINT64_MAX);
}

static void test_size_suffixes(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} cases[] = {
		{ "1K", 1ULL << 10 },    { "1k", 1ULL << 10 },      { "65536K", 64ULL << 20 },
		{ "512M", 512ULL << 20 }, { "512m", 512ULL << 20 },  { "2G", 2ULL << 30 },
		{ "2g", 2ULL << 30 },    { "3T", 3ULL << 40 },      { "3t", 3ULL << 40 },
		{ "0M", 0 },             { "16777215T", 16777215ULL << 40 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_size(cases[i].s, cases[i].bytes);
}

static void test_size_b_and_ib(void **state)
{
	(void)state;
	expect_size("4KB", 4ULL << 10);
	expect_size("4Kb", 4ULL << 10);
	expect_size("4KiB", 4ULL << 10);
	expect_size("4kib", 4ULL << 10);
	expect_size("4KIB", 4ULL << 10);
	expect_size("512MiB", 512ULL << 20);
	expect_size("2GB", 2ULL << 30);
	expect_size("1TiB", 1ULL << 40);
}

static void test_size_overflow(void **state)
{
	(void)state;
	expect_size_error("99999999999T", -ERANGE);
	expect_size_error("16777216T", -ERANGE);
	expect_size_error("17179869184G", -ERANGE);
	expect_size_error("18446744073709551616", -ERANGE);
	expect_size_error("99999999999999999999999M", -ERANGE);
}

static void test_size_garbage(void **state)
{
	static const char *const bad[] = {
		"", "12Q", "-5M", "+5M", " 5M", "5M ", "5MX", "M", "5B", "5iB", "5MiBB", "5MBB",
		"5 M", "0x10", "1.5G", "5KM", "\t5",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_size_error(bad[i], -EINVAL);
}

static void test_uint_in_range(void **state)
{
	uint64_t v = 0;
	(void)state;

	assert_int_equal(parse_uint("1", 1, 254, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(parse_uint("254", 1, 254, &v), 0);
	assert_int_equal(v, 254);
	assert_int_equal(parse_uint("0", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_uint_out_of_range(void **state)
{
	uint64_t v = 99;
	(void)state;

	assert_int_equal(parse_uint("0", 1, 254, &v), -ERANGE);
	assert_int_equal(parse_uint("255", 1, 254, &v), -ERANGE);
	assert_int_equal(parse_uint("100000", 1, 254, &v), -ERANGE);
	assert_int_equal(parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(v, 99);
}

static void test_uint_garbage(void **state)
{
	static const char *const bad[] = { "", "abc", "-1", "+1", " 1", "1 ", "1x", "4K", "0x10", "1.0" };
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 99;
		int err = parse_uint(bad[i], 0, UINT64_MAX, &v);

		if (err != -EINVAL)
			fail_msg("parse_uint(\"%s\") returned %d, want -EINVAL", bad[i], err);
		assert_int_equal(v, 99);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_plain_bytes), cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_size_b_and_ib),    cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_garbage),     cmocka_unit_test(test_uint_in_range),
		cmocka_unit_test(test_uint_out_of_range), cmocka_unit_test(test_uint_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
