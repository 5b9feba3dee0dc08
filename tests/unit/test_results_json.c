// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "api/json.h"
#include "smoke/results_json.h"

static int accept_item(void *ctx, const struct json_item *item, struct errmsg *e)
{
	(void)ctx, (void)item, (void)e;
	return 0;
}

/* The output is one valid JSON object, checked by the project's own reader. */
static void assert_valid_json(const char *text)
{
	struct errmsg e;

	assert_int_equal(json_for_each(text, strlen(text), true, accept_item, NULL, &e), 0);
}

static struct results_run runs[3];
static struct ktap_case tests[2];
static struct results_cell cells[2];

static int setup(void **state)
{
	(void)state;
	memset(runs, 0, sizeof(runs));
	memset(cells, 0, sizeof(cells));
	runs[0] = (struct results_run){ .status = VERDICT_PASS, .boot_s = 0.5 };
	runs[1] = (struct results_run){ .status = VERDICT_PANIC, .boot_s = -1 };
	runs[2] = (struct results_run){ .status = VERDICT_PASS, .boot_s = 0.7 };
	runs[0].exits[KVM_EXIT_IO] = 100;
	runs[2].exits[KVM_EXIT_IO] = 50;
	runs[2].exits[33] = 1;
	memset(tests, 0, sizeof(tests));
	strcpy(tests[0].suite, "example");
	strcpy(tests[0].name, "add");
	tests[1] = (struct ktap_case){ .name = "slow", .result = KTAP_SKIP };
	strcpy(tests[1].reason, "too slow");
	runs[2].tests = tests;
	runs[2].n_tests = 2;
	cells[0] = (struct results_cell){ .name = "cpus=1", .cell = { .cpus = 1, .mem = 256 << 20, .mem_text = "256M" },
					  .status = VERDICT_PANIC, .title = "Kernel panic - not syncing: VFS",
					  .signature = "panic:vfs", .runs = runs, .n_runs = 3 };
	cells[1] = (struct results_cell){ .name = "cpus=2", .cell = { .cpus = 2, .mem = 256 << 20, .mem_text = "256M",
								      .axis = { 1, 1, 1, 1 } },
					  .status = VERDICT_PASS, .runs = runs, .n_runs = 1 };
	return 0;
}

static void test_document(void **state)
{
	char buf[4096];
	int n;
	(void)state;

	n = results_json_write(buf, sizeof(buf), cells, 2);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_valid_json(buf);
	assert_non_null(strstr(buf, "{\"version\":1,\"cells\":[{\"name\":\"cpus=1\",\"axes\":{\"cpus\":1,"
				    "\"mem_bytes\":268435456,\"mem\":\"256M\",\"transport\":\"pci\",\"acpi\":\"on\","
				    "\"boot\":\"bzimage\",\"console\":\"serial\"},\"verdict\":\"PANIC\","
				    "\"title\":\"Kernel panic - not syncing: VFS\",\"signature\":\"panic:vfs\","
				    "\"repeats\":3,\"not_pass\":1,\"boot_median_us\":600000,\"boot_min_us\":500000,"
				    "\"boot_max_us\":700000,\"exits\":{\"io\":150,\"exit_33\":1},\"runs\":["));
	assert_non_null(strstr(buf, "{\"verdict\":\"PANIC\",\"boot_us\":null,\"exits\":{},\"tests\":[]}"));
	assert_non_null(strstr(buf, "\"tests\":[{\"suite\":\"example\",\"name\":\"add\",\"result\":\"pass\","
				    "\"reason\":null},{\"suite\":\"\",\"name\":\"slow\",\"result\":\"skip\","
				    "\"reason\":\"too slow\"}]}"));
	assert_non_null(strstr(buf, "\"transport\":\"mmio\",\"acpi\":\"off\",\"boot\":\"pvh\",\"console\":\"virtio\""));
	assert_non_null(strstr(buf, "\"title\":null,\"signature\":null,\"repeats\":1,\"not_pass\":0"));
}

/* Console text is untrusted: control characters are escaped and bytes that are not UTF-8 become U+FFFD. */
static void test_untrusted_text(void **state)
{
	char buf[4096];
	(void)state;

	cells[0].title = "a\"b\\c\x1b[0m\n\xff\xc0\xaf end \xe2\x82\xac";
	cells[0].signature = "\x01";
	assert_true(results_json_write(buf, sizeof(buf), cells, 1) > 0);
	assert_valid_json(buf);
	assert_non_null(strstr(buf, "\"title\":\"a\\\"b\\\\c\\u001b[0m\\u000a\\ufffd\\ufffd\\ufffd end \xe2\x82\xac\""));
	assert_non_null(strstr(buf, "\"signature\":\"\\u0001\""));
}

static void test_capped(void **state)
{
	char buf[4096];
	int n;
	(void)state;

	n = results_json_write(buf, sizeof(buf), cells, 2);
	assert_true(n > 0);
	assert_int_equal(results_json_write(buf, (size_t)n, cells, 2), -ENOSPC);
	assert_int_equal(results_json_write(buf, (size_t)n + 1, cells, 2), n);
	assert_int_equal(results_json_write(buf, 0, cells, 2), -ENOSPC);
	assert_int_equal(results_json_write(buf, sizeof(buf), NULL, 0), (int)strlen("{\"version\":1,\"cells\":[]}"));
	assert_string_equal(buf, "{\"version\":1,\"cells\":[]}");
}

static void test_refused(void **state)
{
	char buf[4096];
	(void)state;

	cells[1].name = NULL;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
	cells[1].name = "x";
	cells[1].status = VERDICT_CONFIG + 1;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
	cells[1].status = VERDICT_PASS;
	cells[1].cell.axis[MATRIX_BOOT] = 2;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
	cells[1].cell.axis[MATRIX_BOOT] = 0;
	tests[0].result = KTAP_TODO + 1;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
	tests[0].result = KTAP_PASS;
	runs[2].tests = NULL;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
	runs[2].tests = tests;
	runs[0].status = -1;
	assert_int_equal(results_json_write(buf, sizeof(buf), cells, 2), -EINVAL);
}

static void test_exit_names(void **state)
{
	(void)state;
	assert_string_equal(results_exit_reason_name(KVM_EXIT_HLT), "hlt");
	assert_string_equal(results_exit_reason_name(KVM_EXIT_SYSTEM_EVENT), "system_event");
	assert_null(results_exit_reason_name(33));
	assert_null(results_exit_reason_name(MATRIX_EXIT_REASONS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_document, setup),
		cmocka_unit_test_setup(test_untrusted_text, setup),
		cmocka_unit_test_setup(test_capped, setup),
		cmocka_unit_test_setup(test_refused, setup),
		cmocka_unit_test(test_exit_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
