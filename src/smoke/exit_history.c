// SPDX-License-Identifier: Apache-2.0
#include "smoke/exit_history.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Only the vCPU thread writes, so its own loads may be relaxed. */
void exit_history_record(struct exit_history *h, uint32_t reason, uint64_t addr, uint64_t now_ns)
{
	uint64_t runs = atomic_load_explicit(&h->runs, memory_order_relaxed);
	struct exit_slot *s = runs ? &h->slot[(runs - 1) % EXIT_HISTORY_LEN] : NULL;
	bool same = s && atomic_load_explicit(&s->reason, memory_order_relaxed) == reason &&
		    atomic_load_explicit(&s->addr, memory_order_relaxed) == addr;
	uint64_t seq, count;

	if (!same)
		s = &h->slot[runs % EXIT_HISTORY_LEN];
	count = same ? atomic_load_explicit(&s->count, memory_order_relaxed) + 1 : 1;
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* the odd sequence is seen before any field changes */
	if (!same) /* after the slot is odd: a reader that sees the new run never takes the slot's old one */
		atomic_store_explicit(&h->runs, runs + 1, memory_order_release);
	atomic_store_explicit(&s->reason, reason, memory_order_relaxed);
	atomic_store_explicit(&s->addr, addr, memory_order_relaxed);
	atomic_store_explicit(&s->count, count, memory_order_relaxed);
	atomic_store_explicit(&s->last_ns, now_ns, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

struct run {
	uint32_t reason;
	uint64_t addr, count, last_ns;
};

static bool read_slot(struct exit_slot *s, struct run *r)
{
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);

	r->reason = atomic_load_explicit(&s->reason, memory_order_relaxed);
	r->addr = atomic_load_explicit(&s->addr, memory_order_relaxed);
	r->count = atomic_load_explicit(&s->count, memory_order_relaxed);
	r->last_ns = atomic_load_explicit(&s->last_ns, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return seq && !(seq & 1) && atomic_load_explicit(&s->seq, memory_order_relaxed) == seq;
}

/* 12345 -> "12,345" */
static void with_commas(char *buf, size_t size, uint64_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < len && o + 1 < size; i++) {
		if (i && (len - i) % 3 == 0 && o + 2 < size)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/* The runs of every vCPU's ring whose last exit is in the window, newest first; returns how many vCPUs' newest is a HLT. */
static size_t each_run(struct exit_history *const *h, size_t nr_vcpus, uint64_t now_ns, uint64_t window_ns,
		       void (*fn)(const struct run *r, void *arg), void *arg)
{
	size_t halted = 0;

	for (size_t v = 0; v < nr_vcpus; v++) {
		uint64_t runs = atomic_load_explicit(&h[v]->runs, memory_order_acquire);
		uint64_t first = runs > EXIT_HISTORY_LEN ? runs - EXIT_HISTORY_LEN : 0;
		bool newest = true;

		for (uint64_t i = runs; i-- > first; newest = false) {
			struct run r;

			if (!read_slot(&h[v]->slot[i % EXIT_HISTORY_LEN], &r))
				continue;
			if (newest && r.reason == KVM_EXIT_HLT)
				halted++;
			if (r.last_ns <= now_ns && now_ns - r.last_ns < window_ns)
				fn(&r, arg);
		}
	}
	return halted;
}

/* The (reason, address) of more than half the exits, if one is: a majority vote weighted by run length. */
struct vote {
	struct exit_summary *out;
	struct run cand; /* count: the vote's weight */
};

static void count_and_vote(const struct run *r, void *arg)
{
	struct vote *v = arg;

	v->out->by_reason[r->reason < VCPU_EXIT_REASONS ? r->reason : VCPU_EXIT_REASONS - 1] += r->count;
	v->out->total += r->count;
	if (r->reason == v->cand.reason && r->addr == v->cand.addr) {
		v->cand.count += r->count;
	} else if (v->cand.count >= r->count) {
		v->cand.count -= r->count;
	} else {
		uint64_t weight = r->count - v->cand.count;

		v->cand = *r;
		v->cand.count = weight;
	}
}

static void tally_candidate(const struct run *r, void *arg)
{
	struct run *cand = arg;

	if (r->reason == cand->reason && r->addr == cand->addr)
		cand->count += r->count;
}

void exit_history_summarize(struct exit_history *const *h, size_t nr_vcpus, uint64_t now_ns, uint64_t window_ns,
			    struct exit_summary *out)
{
	struct vote v = { .out = out };
	struct run top;
	size_t halted;
	char n[32];

	memset(out, 0, sizeof(*out));
	halted = each_run(h, nr_vcpus, now_ns, window_ns, count_and_vote, &v);
	top = v.cand;
	top.count = 0;
	/* A second look: the rings moved meanwhile, so the figures are of a moment later, not the same one. */
	each_run(h, nr_vcpus, now_ns, window_ns, tally_candidate, &top);
	with_commas(n, sizeof(n), top.count);
	if (nr_vcpus && halted == nr_vcpus)
		snprintf(out->pattern, sizeof(out->pattern), "all halted");
	else if (!out->total)
		snprintf(out->pattern, sizeof(out->pattern), "no exits: running in the guest");
	else if (top.count * 2 <= out->total)
		snprintf(out->pattern, sizeof(out->pattern), "no one pattern (%llu exits)", (unsigned long long)out->total);
	else if (top.reason == KVM_EXIT_IO)
		snprintf(out->pattern, sizeof(out->pattern), "spinning on port 0x%llx (%s io exits)",
			 (unsigned long long)top.addr, n);
	else if (top.reason == KVM_EXIT_MMIO)
		snprintf(out->pattern, sizeof(out->pattern), "MMIO storm at 0x%llx (%s mmio exits)",
			 (unsigned long long)top.addr, n);
	else if (vcpu_exit_name(top.reason))
		snprintf(out->pattern, sizeof(out->pattern), "mostly %s exits (%s)", vcpu_exit_name(top.reason), n);
	else
		snprintf(out->pattern, sizeof(out->pattern), "mostly exits of reason %u (%s)", top.reason, n);
}
