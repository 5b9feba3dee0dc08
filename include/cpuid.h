/* SPDX-License-Identifier: Apache-2.0 */
/* The CPUID a vCPU sees: the host KVM's supported set, with topology made consistent with --cpus. */
#ifndef KVMINI_CPUID_H
#define KVMINI_CPUID_H

#include <stdbool.h>
#include <linux/kvm.h>

/*
 * Rewrites, in place, the leaves that describe topology (1, 4, 0xB, 0x1F,
 * 0x80000001, 0x80000008, 0x8000001E) for the vCPU with this APIC ID in a
 * single-socket machine of nr_cpus vCPUs, `threads` (1 or 2, dividing
 * nr_cpus) to a core, and sets the hypervisor bit. APIC IDs are the vCPUs'
 * indexes, so with two threads bit 0 is the thread and the rest the core. Pure.
 */
void cpuid_set_topology(struct kvm_cpuid_entry2 *entries, unsigned nent, unsigned apic_id, unsigned nr_cpus,
			unsigned threads);
/* Threads per core for the configuration's smt: two when asked and there are at least two vCPUs. */
unsigned cpuid_threads_per_core(bool smt, unsigned nr_cpus);
/*
 * Hides hardware virtualization from the guest (--nested off): VMX (leaf 1)
 * and SVM (leaf 0x80000001), and the SVM feature leaf 0x8000000A, which
 * describes nothing without SVM. Pure.
 */
void cpuid_hide_nested(struct kvm_cpuid_entry2 *entries, unsigned nent);
/* Bits needed to number nr_cpus APIC IDs: 1 -> 0, 2 -> 1, 3..4 -> 2, ... */
unsigned cpuid_id_bits(unsigned nr_cpus);

#endif
