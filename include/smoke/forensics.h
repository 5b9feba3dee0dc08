/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The forensics text of a stuck or crashed smoke run: where each vCPU was
 * (RIP named from the kernel's symbols, RSP, CR3, mode, interrupt flag, its
 * KVM_GET_MP_STATE) and what the exit history says it was doing. Pure:
 * the caller reads the vCPUs (src/smoke/run_one.c).
 */
#ifndef KVMINI_SMOKE_FORENSICS_H
#define KVMINI_SMOKE_FORENSICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "smoke/exit_history.h"
#include "smoke/symbols.h"

struct forensics_vcpu {
	int err; /* 0, or the -errno of reading its state (then only this is reported) */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;
};

/* "real", "protected", "long" or "compat" (long mode running 32-bit code), from CR0.PE, EFER.LMA and CS.L. */
const char *forensics_mode(const struct kvm_sregs *s);

/*
 * Every vCPU readable and none runnable: halted, or an AP never started
 * (waiting for INIT/SIPI), with at least one halted. With KVM's in-kernel
 * LAPIC a HLT never exits to kvmini, so only KVM_GET_MP_STATE tells.
 */
bool forensics_all_halted(const struct forensics_vcpu *v, size_t n);

/*
 * Into buf (always terminated, cut at a line when full): "why: PATTERN",
 * one line per vCPU, then the exit histogram of the last window_s seconds.
 * PATTERN is "all halted" when forensics_all_halted, else the summary's.
 * syms NULL: RIPs stay numbers (no table, or the KASLR slide is unknown);
 * else slide is subtracted from RIP before the lookup.
 */
void forensics_format(char *buf, size_t size, const char *why, const struct forensics_vcpu *v, size_t n,
		      const struct exit_summary *sum, unsigned window_s, const struct symtab *syms, uint64_t slide);

#endif
