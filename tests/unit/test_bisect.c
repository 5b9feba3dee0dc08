// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "smoke/bisect.h"

/* The whole mapping, written out: a change to any row has to change this table. */
static void test_every_outcome(void **state)
{
	static const struct {
		enum bisect_outcome o;
		int code;
	} table[] = {
		{ BISECT_PASS, 0 },	      { BISECT_FAIL, 1 },	  { BISECT_PANIC, 1 },
		{ BISECT_TIMEOUT, 1 },	      { BISECT_KERNEL_REJECTED, 1 }, { BISECT_CONFIG, 125 },
		{ BISECT_NO_KVM, 125 },	      { BISECT_KERNEL_MISSING, 125 }, { BISECT_DISK_FULL, 125 },
		{ BISECT_USAGE, 125 },	      { BISECT_ERROR, 125 },
	};
	size_t i;

	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), BISECT_ERROR + 1);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int code = bisect_exit_code(table[i].o);

		assert_int_equal(code, table[i].code);
		assert_true(code != 126 && code != 127 && code <= 127);
	}
}

static void test_verdicts(void **state)
{
	(void)state;
	assert_int_equal(bisect_exit_code(bisect_outcome_of(VERDICT_PASS)), 0);
	assert_int_equal(bisect_exit_code(bisect_outcome_of(VERDICT_FAIL)), 1);
	assert_int_equal(bisect_exit_code(bisect_outcome_of(VERDICT_PANIC)), 1);
	assert_int_equal(bisect_exit_code(bisect_outcome_of(VERDICT_TIMEOUT)), 1);
	/* An unclassified VMM error says nothing about the kernel. */
	assert_int_equal(bisect_outcome_of(VERDICT_ERROR), BISECT_ERROR);
	assert_int_equal(bisect_exit_code(bisect_outcome_of(VERDICT_ERROR)), 125);
}

/* Each test is over in microseconds: 20 s means a hang. */
static int arm_alarm(void **state)
{
	(void)state;
	alarm(20);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_outcome, arm_alarm),
		cmocka_unit_test_setup(test_verdicts, arm_alarm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
