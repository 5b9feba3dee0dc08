// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smoke/matrix.h"

#define HOST_RAM (8ULL << 30)

static void test_cpus_list(void **state)
{
	struct matrix m = { 0 };
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
	struct matrix m = { 0 };
	struct errmsg e;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(matrix_parse_cpus(&m, bad[i], 254, &e), -EINVAL);
		assert_non_null(strstr(e.text, "--cpus"));
	}
}

static void test_cpus_too_many(void **state)
{
	struct matrix m = { 0 };
	struct errmsg e;
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 254, &e), 0);
	assert_int_equal(matrix_parse_cpus(&m, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", 254, &e), -EINVAL);
	assert_non_null(strstr(e.text, "at most 16"));
}

static void test_mem_list(void **state)
{
	struct matrix m = { 0 };
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
	struct matrix m = { 0 };
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
	struct matrix m = { 0 };
	struct errmsg e;
	char list[] = "256M,512M,1G";
	unsigned seen[3][2] = { { 0 } };
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "1,2", 254, &e), 0);
	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(matrix_runs(&m), 6);
	for (size_t i = 0; i < matrix_runs(&m); i++) {
		struct matrix_cell c;

		matrix_cell(&m, i, &c);
		seen[c.mem == (256ULL << 20) ? 0 : c.mem == (512ULL << 20) ? 1 : 2][c.cpus - 1]++;
	}
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 2; b++)
			assert_int_equal(seen[a][b], 1);
}

static void test_axes_parsed(void **state)
{
	struct matrix m = { 0 };
	struct errmsg e;
	(void)state;

	assert_int_equal(matrix_parse_axis(&m, MATRIX_TRANSPORT, "mmio,pci", &e), 0);
	assert_int_equal(m.n_axis[MATRIX_TRANSPORT], 2);
	assert_string_equal(matrix_axis_value_name(MATRIX_TRANSPORT, m.axis[MATRIX_TRANSPORT][0]), "mmio");
	assert_int_equal(matrix_parse_axis(&m, MATRIX_ACPI, "off", &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_BOOT, "bzimage,pvh", &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_CONSOLE, "virtio,serial", &e), 0);
	assert_string_equal(matrix_axis_name(MATRIX_CONSOLE), "console");
	assert_null(matrix_axis_name(MATRIX_AXES));
	assert_null(matrix_axis_value_name(MATRIX_BOOT, 2));
}

static void test_axes_refused(void **state)
{
	static const struct {
		enum matrix_axis a;
		const char *list, *message;
	} bad[] = {
		{ MATRIX_TRANSPORT, "pci,pci", "--transport 'pci,pci': pci is listed twice" },
		{ MATRIX_TRANSPORT, "isa", "--transport 'isa': 'isa' is not pci or mmio" },
		{ MATRIX_ACPI, "on,", "--acpi 'on,': '' is not on or off" },
		{ MATRIX_ACPI, "", "--acpi '': '' is not on or off" },
		{ MATRIX_BOOT, "PVH", "--boot 'PVH': 'PVH' is not bzimage or pvh" },
		{ MATRIX_CONSOLE, "virtio,serial,virtio", "--console 'virtio,serial,virtio': virtio is listed twice" },
		{ MATRIX_CONSOLE, "serial,serial,serial,serial,serial,serial,serial,serial,serial,serial", "list too long" },
	};
	struct matrix m = { 0 };
	struct errmsg e;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(matrix_parse_axis(&m, bad[i].a, bad[i].list, &e), -EINVAL);
		assert_non_null(strstr(e.text, bad[i].message));
	}
	assert_int_equal(matrix_parse_axis(&m, MATRIX_AXES, "pci", &e), -EINVAL);
}

/* Existing callers never parse the axes: each then has its default, and the run count is unchanged. */
static void test_unparsed_axes_are_the_default(void **state)
{
	struct matrix m = { 0 };
	struct matrix_cell c;
	struct errmsg e;
	char list[] = "256M";
	char name[64];
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "2", 254, &e), 0);
	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(matrix_runs(&m), 1);
	matrix_cell(&m, 0, &c);
	for (int a = 0; a < MATRIX_AXES; a++)
		assert_int_equal(c.axis[a], 0);
	assert_int_equal(matrix_cell_name(&m, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "cpus=2,mem=256M");
}

static void test_cells_named_and_crossed(void **state)
{
	struct matrix m = { 0 };
	struct errmsg e;
	char list[] = "256M,1G";
	char name[128];
	unsigned seen[2][2][2] = { { { 0 } } }; /* mem, transport, acpi */
	(void)state;

	assert_int_equal(matrix_parse_cpus(&m, "2", 254, &e), 0);
	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_TRANSPORT, "pci,mmio", &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_ACPI, "on,off", &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_BOOT, "pvh", &e), 0);
	assert_int_equal(matrix_check(&m, &e), 0);
	assert_int_equal(matrix_runs(&m), 8);
	for (size_t i = 0; i < 8; i++) {
		struct matrix_cell c;
		char want[128];

		matrix_cell(&m, i, &c);
		assert_int_equal(c.cpus, 2);
		assert_int_equal(c.axis[MATRIX_BOOT], 1);
		assert_int_equal(c.axis[MATRIX_CONSOLE], 0);
		seen[c.mem == (1ULL << 30)][c.axis[MATRIX_TRANSPORT]][c.axis[MATRIX_ACPI]]++;
		snprintf(want, sizeof(want), "mem=%s,transport=%s,acpi=%s", c.mem_text,
			 matrix_axis_value_name(MATRIX_TRANSPORT, c.axis[MATRIX_TRANSPORT]),
			 matrix_axis_value_name(MATRIX_ACPI, c.axis[MATRIX_ACPI]));
		assert_int_equal(matrix_cell_name(&m, i, name, sizeof(name)), 0);
		assert_string_equal(name, want);
	}
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			for (int d = 0; d < 2; d++)
				assert_int_equal(seen[a][b][d], 1);
	matrix_cell_name(&m, 7, name, sizeof(name));
	assert_string_equal(name, "mem=1G,transport=mmio,acpi=off");
	assert_int_equal(matrix_cell_name(&m, 7, name, 10), -ENAMETOOLONG);
	assert_int_equal(matrix_cell_name(&m, 7, name, strlen("mem=1G,transport=mmio,acpi=off")), -ENAMETOOLONG);
	assert_int_equal(matrix_cell_name(&m, 7, name, strlen("mem=1G,transport=mmio,acpi=off") + 1), 0);
	assert_int_equal(matrix_cell_name(&m, 7, name, 0), -ENAMETOOLONG);
}

static void test_cells_capped(void **state)
{
	struct matrix m = { 0 };
	struct errmsg e;
	char list[] = "64M,128M,256M,512M";
	(void)state;

	/* 16 x 4 x 2 x 2 = 256: at the cap. */
	assert_int_equal(matrix_parse_cpus(&m, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 254, &e), 0);
	assert_int_equal(matrix_parse_mem(&m, list, HOST_RAM, &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_TRANSPORT, "pci,mmio", &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_ACPI, "on,off", &e), 0);
	assert_int_equal(matrix_check(&m, &e), 0);
	assert_int_equal(matrix_parse_axis(&m, MATRIX_BOOT, "bzimage,pvh", &e), 0);
	assert_int_equal(matrix_check(&m, &e), -E2BIG);
	assert_non_null(strstr(e.text, "512 cells, more than 256"));
}

static void test_repeat(void **state)
{
	static const char *const bad[] = { "0", "101", "", "x", "-1", "3 " };
	unsigned n = 7;
	struct errmsg e;
	(void)state;

	assert_int_equal(matrix_parse_repeat("1", &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(matrix_parse_repeat("100", &n, &e), 0);
	assert_int_equal(n, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(matrix_parse_repeat(bad[i], &n, &e), -EINVAL);
		assert_non_null(strstr(e.text, "--repeat '"));
	}
	assert_int_equal(n, 100);
}

static void test_stats(void **state)
{
	const struct matrix_run_result odd[] = {
		{ true, 0.9 }, { false, -1 }, { true, 0.5 }, { false, 2.0 }, { true, 0.7 },
	};
	const struct matrix_run_result even[] = { { true, 1.0 }, { true, 0.4 }, { true, 0.6 }, { true, 3.0 } };
	const struct matrix_run_result untimed[] = { { false, -1 }, { true, -1 } };
	struct matrix_stats s;
	(void)state;

	matrix_stats(odd, 5, &s);
	assert_int_equal(s.runs, 5);
	assert_int_equal(s.not_pass, 2);
	assert_float_equal(s.flake_rate, 0.4, 1e-9);
	assert_int_equal(s.timed, 4);
	assert_float_equal(s.boot_median_s, 0.8, 1e-9); /* 0.5 0.7 0.9 2.0 */
	assert_float_equal(s.boot_min_s, 0.5, 1e-9);
	assert_float_equal(s.boot_max_s, 2.0, 1e-9);

	matrix_stats(even, 3, &s);
	assert_float_equal(s.boot_median_s, 0.6, 1e-9);
	assert_float_equal(s.flake_rate, 0, 1e-9);
	matrix_stats(even, 4, &s);
	assert_float_equal(s.boot_median_s, 0.8, 1e-9);
	assert_float_equal(s.boot_max_s, 3.0, 1e-9);

	matrix_stats(untimed, 2, &s);
	assert_float_equal(s.flake_rate, 0.5, 1e-9);
	assert_int_equal(s.timed, 0);
	assert_true(s.boot_median_s < 0 && s.boot_min_s < 0 && s.boot_max_s < 0);

	matrix_stats(NULL, 0, &s);
	assert_int_equal(s.runs, 0);
	assert_float_equal(s.flake_rate, 0, 1e-9);
}

static void test_baseline(void **state)
{
	struct matrix_cell_result before[3] = {
		{ .name = "cpus=1", .boot_s = 1.0 },
		{ .name = "cpus=2", .boot_s = 1.5 },
		{ .name = "cpus=4", .boot_s = -1 },
	};
	struct matrix_cell_result after[3] = {
		{ .name = "cpus=4", .boot_s = 2.0 },
		{ .name = "cpus=8", .boot_s = 2.0 },
		{ .name = "cpus=2", .boot_s = 1.25 },
	};
	struct matrix_baseline_row rows[3];
	(void)state;

	before[1].exits[2] = 100; /* KVM_EXIT_IO */
	before[1].exits[30] = 10;
	after[2].exits[2] = 90;
	after[2].exits[30] = 25;
	assert_int_equal(matrix_baseline(before, 3, after, 3, rows, 3), 2);
	assert_string_equal(rows[0].name, "cpus=4");
	assert_false(rows[0].boot_known);
	assert_int_equal(rows[0].exits_total_delta, 0);
	assert_string_equal(rows[1].name, "cpus=2");
	assert_true(rows[1].boot_known);
	assert_float_equal(rows[1].boot_delta_s, -0.25, 1e-9);
	assert_int_equal(rows[1].exits_delta[2], -10);
	assert_int_equal(rows[1].exits_delta[30], 15);
	assert_int_equal(rows[1].exits_total_delta, 5);

	assert_int_equal(matrix_baseline(before, 3, after, 3, rows, 1), 1);
	assert_int_equal(matrix_baseline(before, 0, after, 3, rows, 3), 0);
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
		cmocka_unit_test(test_axes_parsed),
		cmocka_unit_test(test_axes_refused),
		cmocka_unit_test(test_unparsed_axes_are_the_default),
		cmocka_unit_test(test_cells_named_and_crossed),
		cmocka_unit_test(test_cells_capped),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_baseline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
