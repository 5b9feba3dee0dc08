// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smoke/exit_history.h"

#define SEC 1000000000ull

static void test_spinning_on_a_port(void **state)
{
	struct exit_history *h = calloc(1, sizeof(*h));
	struct exit_summary s;

	(void)state;
	for (uint64_t i = 0; i < 12345; i++)
		exit_history_record(h, KVM_EXIT_IO, 0x3f8, 10 * SEC + i);
	exit_history_record(h, KVM_EXIT_MMIO, 0xd0000050, 10 * SEC + 20000);
	exit_history_summarize(&h, 1, 11 * SEC, 5 * SEC, &s);
	assert_string_equal(s.pattern, "spinning on port 0x3f8 (12,345 io exits)");
	assert_int_equal(s.by_reason[KVM_EXIT_IO], 12345);
	assert_int_equal(s.by_reason[KVM_EXIT_MMIO], 1);
	assert_int_equal(s.total, 12346);
	assert_int_equal(h->runs, 2); /* a run shares one slot */
	/* Ten seconds later the window is empty: the guest runs without exits. */
	exit_history_summarize(&h, 1, 21 * SEC, 5 * SEC, &s);
	assert_string_equal(s.pattern, "no exits: running in the guest");
	assert_int_equal(s.total, 0);
	free(h);
}

static void test_mmio_storm_over_wrapped_ring(void **state)
{
	struct exit_history *h = calloc(1, sizeof(*h));
	struct exit_summary s;

	(void)state;
	/* Alternating exits: no runs merge, the ring wraps many times and keeps the newest only. */
	for (uint64_t i = 0; i < 10 * EXIT_HISTORY_LEN; i++)
		exit_history_record(h, KVM_EXIT_MMIO, i % 4 ? 0xd0000050 : 0xd0000000 + i, SEC + i);
	exit_history_summarize(&h, 1, 2 * SEC, SEC, &s);
	/* Runs of three merge: the ring holds 32 rounds of one single exit and one run of three. */
	assert_int_equal(s.total, EXIT_HISTORY_LEN / 2 * 4);
	assert_string_equal(s.pattern, "MMIO storm at 0xd0000050 (96 mmio exits)");
	free(h);
}

static void test_all_halted_and_mixed(void **state)
{
	struct exit_history *h[2] = { calloc(1, sizeof(*h[0])), calloc(1, sizeof(*h[1])) };
	struct exit_summary s;

	(void)state;
	exit_history_record(h[0], KVM_EXIT_IO, 0x70, SEC);
	exit_history_record(h[0], KVM_EXIT_HLT, 0, SEC + 1);
	exit_history_record(h[1], KVM_EXIT_HLT, 0, SEC + 2);
	exit_history_summarize(h, 2, SEC + 3, SEC, &s);
	assert_string_equal(s.pattern, "all halted");
	exit_history_record(h[1], KVM_EXIT_IO, 0x71, SEC + 4);
	exit_history_record(h[1], KVM_EXIT_MMIO, 0x1000, SEC + 5);
	exit_history_summarize(h, 2, SEC + 6, SEC, &s);
	assert_string_equal(s.pattern, "no one pattern (5 exits)");
	for (int i = 0; i < 3; i++)
		exit_history_record(h[1], KVM_EXIT_SHUTDOWN, 0, SEC + 7);
	exit_history_record(h[1], 200, 0, SEC + 8); /* past the reason table: counted in its last entry */
	exit_history_summarize(h, 2, SEC + 9, SEC, &s);
	assert_int_equal(s.by_reason[VCPU_EXIT_REASONS - 1], 1);
	assert_string_equal(s.pattern, "no one pattern (9 exits)");
	exit_history_summarize(h, 0, SEC + 9, SEC, &s);
	assert_string_equal(s.pattern, "no exits: running in the guest");
	free(h[0]);
	free(h[1]);
}

/* One writer per history, a reader summarising all the while: run under TSan by make unit-tsan. */
#define WRITES 200000

struct writer {
	struct exit_history *h;
	uint32_t port;
};

static void *write_exits(void *arg)
{
	struct writer *w = arg;

	for (uint64_t i = 1; i <= WRITES; i++)
		exit_history_record(w->h, KVM_EXIT_IO, w->port + (i % 3 == 0), i);
	return NULL;
}

static void test_concurrent_writers_and_reader(void **state)
{
	struct exit_history *h[2] = { calloc(1, sizeof(*h[0])), calloc(1, sizeof(*h[1])) };
	struct writer w[2] = { { h[0], 0x3f8 }, { h[1], 0x2f8 } };
	pthread_t t[2];
	struct exit_summary s;
	int reads = 0;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_exits, &w[i]), 0);
	while (atomic_load(&h[0]->runs) < WRITES / 2 || reads < 1000) {
		exit_history_summarize(h, 2, WRITES, WRITES, &s);
		/* Each slot's count is a value the writer wrote with its reason: io only, never more than written. */
		assert_int_equal(s.total, s.by_reason[KVM_EXIT_IO]);
		assert_true(s.total <= 2ull * WRITES);
		reads++;
		if (reads > 1000000)
			fail_msg("writers made no progress");
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	exit_history_summarize(h, 2, WRITES, WRITES, &s);
	/* The last run of each ring: every third write changes port, so runs are 1 or 2 long. */
	assert_int_equal(atomic_load(&h[0]->runs), WRITES / 3 * 2 + (WRITES % 3 != 0));
	assert_int_equal(s.total, 2 * (EXIT_HISTORY_LEN / 2 * 3));
	free(h[0]);
	free(h[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spinning_on_a_port),
		cmocka_unit_test(test_mmio_storm_over_wrapped_ring),
		cmocka_unit_test(test_all_halted_and_mixed),
		cmocka_unit_test(test_concurrent_writers_and_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
