// SPDX-License-Identifier: Apache-2.0
#include "smoke/forensics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CR0_PE (1ULL << 0)
#define EFER_LMA (1ULL << 10)
#define RFLAGS_IF (1ULL << 9)

const char *forensics_mode(const struct kvm_sregs *s)
{
	if (s->efer & EFER_LMA)
		return s->cs.l ? "long" : "compat";
	return s->cr0 & CR0_PE ? "protected" : "real";
}

static bool not_started(uint32_t mp)
{
	return mp == KVM_MP_STATE_UNINITIALIZED || mp == KVM_MP_STATE_INIT_RECEIVED;
}

bool forensics_all_halted(const struct forensics_vcpu *v, size_t n)
{
	size_t halted = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i].err || (v[i].mp.mp_state != KVM_MP_STATE_HALTED && !not_started(v[i].mp.mp_state)))
			return false;
		halted += v[i].mp.mp_state == KVM_MP_STATE_HALTED;
	}
	return halted > 0;
}

static const char *mp_state_name(uint32_t mp)
{
	switch (mp) {
	case KVM_MP_STATE_RUNNABLE:
		return "runnable";
	case KVM_MP_STATE_HALTED:
		return "halted";
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
		return "not started";
	case KVM_MP_STATE_SIPI_RECEIVED:
		return "starting";
	default:
		return "other mp-state";
	}
}

struct text {
	char *buf;
	size_t size, len;
	bool full;
};

/* Appends one whole line or, when it does not fit, nothing more at all (a half line misleads). */
static void __attribute__((format(printf, 2, 3))) line(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 1 >= t->size - t->len) {
		t->buf[t->len] = '\0';
		t->full = true;
		return;
	}
	t->len += (size_t)n;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
}

static void vcpu_line(struct text *t, size_t i, const struct forensics_vcpu *v, const struct symtab *syms,
		      uint64_t slide)
{
	char name[SYMTAB_MAX_NAME + 24] = "";

	if (v->err) {
		line(t, "vcpu%zu: cannot read its state: %s", i, strerror(-v->err));
		return;
	}
	if (syms && symtab_lookup(syms, v->regs.rip - slide, name + 1, sizeof(name) - 1) == 0)
		name[0] = ' ';
	line(t, "vcpu%zu rip=%016llx%s rsp=%016llx cr3=%llx %s IF=%d %s", i, (unsigned long long)v->regs.rip, name,
	     (unsigned long long)v->regs.rsp, (unsigned long long)v->sregs.cr3, forensics_mode(&v->sregs),
	     (v->regs.rflags & RFLAGS_IF) != 0, mp_state_name(v->mp.mp_state));
}

void forensics_format(char *buf, size_t size, const char *why, const struct forensics_vcpu *v, size_t n,
		      const struct exit_summary *sum, unsigned window_s, const struct symtab *syms, uint64_t slide)
{
	struct text t = { .buf = buf, .size = size };
	char hist[512] = "";
	size_t len = 0, shown;

	if (!size)
		return;
	buf[0] = '\0';
	line(&t, "%s: %s", why, forensics_all_halted(v, n) ? "all halted" : sum->pattern);
	for (shown = 0; shown < n; shown++) {
		/* Room is kept for the histogram, which says more than the 200th vCPU. */
		if (size - t.len < sizeof(hist) + 160)
			break;
		vcpu_line(&t, shown, &v[shown], syms, slide);
	}
	if (shown < n)
		line(&t, "(vcpu%zu to vcpu%zu not shown)", shown, n - 1);
	for (unsigned r = 0; r < VCPU_EXIT_REASONS && len < sizeof(hist); r++) {
		char unnamed[16];
		const char *name = vcpu_exit_name(r);

		if (!sum->by_reason[r])
			continue;
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "reason %u", r);
			name = unnamed;
		}
		len += (size_t)snprintf(hist + len, sizeof(hist) - len, "%s%s %llu", len ? ", " : "", name,
					(unsigned long long)sum->by_reason[r]);
	}
	if (len)
		line(&t, "exits in the last %u s: %s", window_s, hist);
	else
		line(&t, "no exits in the last %u s", window_s);
}
