// SPDX-License-Identifier: Apache-2.0
#include "cpuid.h"

#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_HTT (1U << 28)
#define CPUID_1_ECX_VMX (1U << 5)
#define CPUID_80000001_ECX_CMP_LEGACY (1U << 1)
#define CPUID_80000001_ECX_SVM (1U << 2)
#define CPUID_80000001_ECX_TOPOEXT (1U << 22)
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

unsigned cpuid_id_bits(unsigned nr_cpus)
{
	unsigned bits = 0;

	while ((1U << bits) < nr_cpus)
		bits++;
	return bits;
}

/* Leaves 0xB and 0x1F: subleaf 0 is the thread level, 1 the core level, the rest invalid. */
static void set_extended_topology(struct kvm_cpuid_entry2 *e, unsigned apic_id, unsigned nr_cpus, unsigned threads)
{
	e->edx = apic_id;
	switch (e->index) {
	case 0:
		e->eax = cpuid_id_bits(threads);
		e->ebx = threads;
		e->ecx = TOPO_LEVEL_SMT << 8;
		break;
	case 1:
		e->eax = cpuid_id_bits(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = TOPO_LEVEL_CORE << 8 | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

void cpuid_set_topology(struct kvm_cpuid_entry2 *entries, unsigned nent, unsigned apic_id, unsigned nr_cpus,
			unsigned threads)
{
	unsigned bits = cpuid_id_bits(nr_cpus), cores = nr_cpus / threads;
	bool has_8000001e = false;

	for (unsigned i = 0; i < nent; i++)
		has_8000001e |= entries[i].function == 0x8000001e;
	for (unsigned i = 0; i < nent; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];

		switch (e->function) {
		case 1:
			/* APIC ID, and the number of IDs the package spans (a power of two, in 8 bits). */
			e->ebx = (e->ebx & 0xffff) | (apic_id << 24) | ((bits < 8 ? 1U << bits : 0xffU) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (nr_cpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 4:
			/* Intel: cores per package - 1, and the threads of one core sharing each cache. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x3fff) | (threads - 1) << 14 | (cores - 1 < 0x3f ? cores - 1 : 0x3f) << 26;
			break;
		case 0xb:
		case 0x1f:
			set_extended_topology(e, apic_id, nr_cpus, threads);
			break;
		case 0x80000001:
			if (nr_cpus > 1)
				e->ecx |= CPUID_80000001_ECX_CMP_LEGACY;
			else
				e->ecx &= ~CPUID_80000001_ECX_CMP_LEGACY;
			/*
			 * Linux on AMD counts threads per core only from leaf
			 * 0x8000001E, which it reads only with TOPOEXT: say so
			 * for SMT wherever that leaf is filled in (AMD), even
			 * when the host's CPU (an emulated one) does not.
			 */
			if (threads > 1 && has_8000001e)
				e->ecx |= CPUID_80000001_ECX_TOPOEXT;
			break;
		case 0x80000008:
			/* AMD: cores - 1 and the APIC ID bits they use. */
			e->ecx = (e->ecx & ~0xf0ffU) | (bits << 12) | (nr_cpus - 1);
			break;
		case 0x8000001e:
			/* AMD topology extensions: threads per core - 1 and the core's id, one node. */
			e->eax = apic_id;
			e->ebx = (threads - 1) << 8 | ((apic_id >> cpuid_id_bits(threads)) & 0xff);
			e->ecx = 0;
			break;
		}
	}
}

unsigned cpuid_threads_per_core(bool smt, unsigned nr_cpus)
{
	return smt && nr_cpus >= 2 && nr_cpus % 2 == 0 ? 2 : 1;
}

void cpuid_hide_nested(struct kvm_cpuid_entry2 *entries, unsigned nent)
{
	for (unsigned i = 0; i < nent; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];

		if (e->function == 1)
			e->ecx &= ~CPUID_1_ECX_VMX;
		else if (e->function == 0x80000001)
			e->ecx &= ~CPUID_80000001_ECX_SVM;
		else if (e->function == 0x8000000a)
			e->eax = e->ebx = e->ecx = e->edx = 0;
	}
}
