/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recent VM exits of one vCPU, for a verdict that says what a stuck guest
 * was doing. The vCPU thread calls exit_history_record() once per exit: O(1),
 * no lock, no system call. Runs of one exit (same reason, same port or
 * address) share one slot and count, so a guest spinning on the serial port
 * costs one slot, not the whole ring.
 *
 * One writer per history (its vCPU thread); any thread may summarise at any
 * time. Each slot is a sequence lock: odd while the writer is in it, and a
 * reader drops a slot whose sequence moved while it read (tearing is
 * tolerated, never returned). Every shared field is an atomic, so
 * ThreadSanitizer sees no race.
 */
#ifndef KVMINI_SMOKE_EXIT_HISTORY_H
#define KVMINI_SMOKE_EXIT_HISTORY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h" /* VCPU_EXIT_REASONS, vcpu_exit_name() */

#define EXIT_HISTORY_LEN 64

struct exit_slot {
	_Atomic uint64_t seq; /* 0: never written; odd: being written */
	_Atomic uint32_t reason; /* KVM_EXIT_* */
	_Atomic uint64_t addr;   /* port (io) or guest-physical address (mmio), else 0 */
	_Atomic uint64_t count;  /* exits in this run */
	_Atomic uint64_t last_ns;
};

struct exit_history {
	struct exit_slot slot[EXIT_HISTORY_LEN];
	_Atomic uint64_t runs; /* slots ever started; the newest is (runs - 1) % LEN */
};

/* The vCPU thread, after each KVM_RUN; now_ns from a monotonic clock. */
void exit_history_record(struct exit_history *h, uint32_t reason, uint64_t addr, uint64_t now_ns);

struct exit_summary {
	uint64_t by_reason[VCPU_EXIT_REASONS]; /* exits in the window; reasons past the table count in the last */
	uint64_t total;
	char pattern[96]; /* one phrase, e.g. "spinning on port 0x3f8 (12,345 io exits)" */
};

/* Over every vCPU's history, the runs whose last exit is in (now_ns - window_ns, now_ns]. */
void exit_history_summarize(struct exit_history *const *h, size_t nr_vcpus, uint64_t now_ns, uint64_t window_ns,
			    struct exit_summary *out);

#endif
