// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smoke/matrix.h"

#define HOST_RAM (8ULL << 30)

static void test_cpus_list(void **state)
{
	struct matrix m;
	struct errmsg e;
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "1,2,4", 254, &e), 0);
	assert_int_equal(m.n_cpus, 3);
	assert_int_equal(m.cpus[0], 1);
	assert_int_equal(m.cpus[2], 4);
	assert_int_equal(matrix_parse_cpus(&m, "254", 254, &e), 0);
}

static void test_cpus_refused(void **state)
{
	static const char *const bad[] = { "0", "255", "1,,2", "", ",", "1,x", "2,2", "-1", "1 ,2" };
	struct matrix m;
	struct errmsg e;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(matrix_parse_cpus(&m, bad[i], 254, &e), -EINVAL);
		assert_non_null(strstr(e.text, "--cpus"));
	}
}

static void test_cpus_too_many(void **state)
{
	struct matrix m;
	struct errmsg e;
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 254, &e), 0);
	assert_int_equal(matrix_parse_cpus(&m, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", 254, &e), -EINVAL);
	assert_non_null(strstr(e.text, "at most 16"));
}

static void test_mem_list(void **state)
{
	struct matrix m;
	struct errmsg e;
	char list[] = "256M,1G";
	(void)state;

	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(m.n_mem, 2);
	assert_int_equal(m.mem[0], 256ULL << 20);
	assert_int_equal(m.mem[1], 1ULL << 30);
	assert_string_equal(m.mem_text[1], "1G");
}

/* The same checks, and messages, as kvmini run's --mem. */
static void test_mem_refused(void **state)
{
	static const struct {
		const char *list, *message;
	} bad[] = {
		{ "12Q", "--mem '12Q': not a size" },
		{ "256M,1M", "--mem 1M: below the minimum of 64M" },
		{ "16G", "--mem 16G: more than this host's" },
		{ "", "--mem '': not a size" },
		{ "256M,,1G", "--mem '': not a size" },
	};
	struct matrix m;
	struct errmsg e;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char list[32];

		strcpy(list, bad[i].list);
		assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), -EINVAL);
		assert_non_null(strstr(e.text, bad[i].message));
	}
}

static void test_runs_cover_every_combination(void **state)
{
	struct matrix m;
	struct errmsg e;
	char list[] = "256M,512M,1G";
	unsigned seen[3][2] = { { 0 } };
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "1,2", 254, &e), 0);
	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(matrix_runs(&m), 6);
	for (size_t i = 0; i < matrix_runs(&m); i++) {
		unsigned cpus;
		uint64_t mem;
		const char *text;

		matrix_run(&m, i, &cpus, &mem, &text);
		seen[mem == (256ULL << 20) ? 0 : mem == (512ULL << 20) ? 1 : 2][cpus - 1]++;
	}
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 2; b++)
			assert_int_equal(seen[a][b], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpus_list),
		cmocka_unit_test(test_cpus_refused),
		cmocka_unit_test(test_cpus_too_many),
		cmocka_unit_test(test_mem_list),
		cmocka_unit_test(test_mem_refused),
		cmocka_unit_test(test_runs_cover_every_combination),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
