// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cpuid.h"

#define HYPERVISOR_BIT (1U << 31) /* leaf 1 ECX */
#define HTT_BIT (1U << 28)        /* leaf 1 EDX */
#define CMP_LEGACY_BIT (1U << 1)  /* leaf 0x80000001 ECX */
#define VMX_BIT (1U << 5)         /* leaf 1 ECX */
#define SVM_BIT (1U << 2)         /* leaf 0x80000001 ECX */
#define TOPOEXT_BIT (1U << 22)    /* leaf 0x80000001 ECX */

enum {
	E_LEAF1,
	E_LEAF4_DATA,
	E_LEAF4_NULL,
	E_LEAF7,
	E_LEAFB_0,
	E_LEAFB_1,
	E_LEAFB_2,
	E_LEAF1F_1,
	E_EXT1,
	E_EXT8,
	E_EXT1E,
	E_EXTA,
	NR_ENTRIES,
};

static struct kvm_cpuid_entry2 entries[NR_ENTRIES];

static void set(unsigned i, uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	entries[i] = (struct kvm_cpuid_entry2){
		.function = function, .index = index, .eax = eax, .ebx = ebx, .ecx = ecx, .edx = edx,
	};
}

/* What a host might report: its own topology (16 threads, APIC ID 0x2a), to be replaced. */
static void host_entries(void)
{
	memset(entries, 0, sizeof(entries));
	set(E_LEAF1, 1, 0, 0x000906ea, 0x2a100800, 0x7ffafbbf, 0xbfebfbff);
	set(E_LEAF4_DATA, 4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0);
	set(E_LEAF4_NULL, 4, 4, 0, 0, 0, 0);
	set(E_LEAF7, 7, 0, 0, 0x029c67af, 0, 0x9c000400);
	set(E_LEAFB_0, 0xb, 0, 1, 2, 0x100, 0x2a);
	set(E_LEAFB_1, 0xb, 1, 4, 16, 0x201, 0x2a);
	set(E_LEAFB_2, 0xb, 2, 0, 0, 2, 0x2a);
	set(E_LEAF1F_1, 0x1f, 1, 4, 16, 0x201, 0x2a);
	set(E_EXT1, 0x80000001, 0, 0, 0, 0x127, 0x2c100800); /* with SVM, as KVM reports it on AMD */
	set(E_EXT8, 0x80000008, 0, 0x3027, 0, 0x12345f7f, 0);
	set(E_EXT1E, 0x8000001e, 0, 0x2a, 0x0101, 0x0300, 0);
	set(E_EXTA, 0x8000000a, 0, 1, 0x8000, 0, 0x1bcff);
}

static int setup(void **state)
{
	(void)state;
	host_entries();
	return 0;
}

static void test_leaf1_four_cpus(void **state)
{
	const struct kvm_cpuid_entry2 *e = &entries[E_LEAF1];
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 3, 4, 1);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx & 0xffff, 0x0800); /* CLFLUSH size and brand index kept */
	assert_true(e->edx & HTT_BIT);
	assert_true(e->ecx & HYPERVISOR_BIT);
	assert_int_equal(e->eax, 0x000906ea);
	assert_int_equal(e->ecx & ~HYPERVISOR_BIT, 0x7ffafbbf);
	assert_int_equal(e->edx, 0xbfebfbff);
}

static void test_leaf1_one_cpu(void **state)
{
	const struct kvm_cpuid_entry2 *e = &entries[E_LEAF1];
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 0, 1, 1);
	assert_int_equal(e->ebx >> 24, 0);
	assert_int_equal((e->ebx >> 16) & 0xff, 1);
	assert_false(e->edx & HTT_BIT);
	assert_true(e->ecx & HYPERVISOR_BIT);
	assert_false(entries[E_EXT1].ecx & CMP_LEGACY_BIT);
}

/* The count of addressable IDs is a power of two covering all CPUs. */
static void test_leaf1_rounds_up(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 2, 3, 1);
	assert_int_equal((entries[E_LEAF1].ebx >> 16) & 0xff, 4);

	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 4, 5, 1);
	assert_int_equal((entries[E_LEAF1].ebx >> 16) & 0xff, 8);
	assert_int_equal(entries[E_LEAF1].ebx >> 24, 4);

	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 127, 128, 1);
	assert_int_equal((entries[E_LEAF1].ebx >> 16) & 0xff, 128);
	assert_int_equal(entries[E_LEAF1].ebx >> 24, 127);

	/* 256 IDs do not fit in 8 bits: the count saturates and must not spill into the APIC ID. */
	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 2, 200, 1);
	assert_int_equal((entries[E_LEAF1].ebx >> 16) & 0xff, 0xff);
	assert_int_equal(entries[E_LEAF1].ebx >> 24, 2);
}

static void test_leaf1_hypervisor_bit_on_any_host(void **state)
{
	(void)state;
	entries[E_LEAF1].ecx = 0;
	entries[E_LEAF1].edx = 0;
	cpuid_set_topology(entries, NR_ENTRIES, 1, 2, 1);
	assert_int_equal(entries[E_LEAF1].ecx, HYPERVISOR_BIT);
	assert_int_equal(entries[E_LEAF1].edx, HTT_BIT);
}

static void test_leaf4(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 3, 4, 1);
	/* Cores per package - 1 in [31:26], no other thread sharing the cache in [25:14]. */
	assert_int_equal(entries[E_LEAF4_DATA].eax >> 26, 3);
	assert_int_equal((entries[E_LEAF4_DATA].eax >> 14) & 0xfff, 0);
	assert_int_equal(entries[E_LEAF4_DATA].eax & 0x3fff, 0x0121);
	assert_int_equal(entries[E_LEAF4_DATA].ebx, 0x01c0003f);
	/* A null subleaf (cache type 0) ends the list and stays empty. */
	assert_int_equal(entries[E_LEAF4_NULL].eax, 0);

	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 0, 1, 1);
	assert_int_equal(entries[E_LEAF4_DATA].eax, 0x0121);
}

static void test_leaf_0xb(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 3, 4, 1);
	/* Subleaf 0: SMT level, one thread per core. */
	assert_int_equal(entries[E_LEAFB_0].eax, 0);
	assert_int_equal(entries[E_LEAFB_0].ebx, 1);
	assert_int_equal(entries[E_LEAFB_0].ecx, 0x100);
	assert_int_equal(entries[E_LEAFB_0].edx, 3);
	/* Subleaf 1: core level, all the CPUs. */
	assert_int_equal(entries[E_LEAFB_1].eax, 2);
	assert_int_equal(entries[E_LEAFB_1].ebx, 4);
	assert_int_equal(entries[E_LEAFB_1].ecx, 0x201);
	assert_int_equal(entries[E_LEAFB_1].edx, 3);
	/* Subleaf 2: invalid level, ECX echoes the subleaf. */
	assert_int_equal(entries[E_LEAFB_2].eax, 0);
	assert_int_equal(entries[E_LEAFB_2].ebx, 0);
	assert_int_equal(entries[E_LEAFB_2].ecx, 2);
	assert_int_equal(entries[E_LEAFB_2].edx, 3);
	/* Leaf 0x1F is described the same way. */
	assert_int_equal(entries[E_LEAF1F_1].eax, 2);
	assert_int_equal(entries[E_LEAF1F_1].ebx, 4);
	assert_int_equal(entries[E_LEAF1F_1].edx, 3);
}

static void test_leaf_0xb_other_sizes(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 0, 1, 1);
	assert_int_equal(entries[E_LEAFB_1].eax, 0);
	assert_int_equal(entries[E_LEAFB_1].ebx, 1);
	assert_int_equal(entries[E_LEAFB_1].edx, 0);

	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 200, 254, 1);
	assert_int_equal(entries[E_LEAFB_1].eax, 8);
	assert_int_equal(entries[E_LEAFB_1].ebx, 254);
	assert_int_equal(entries[E_LEAFB_1].edx, 200);
	assert_int_equal(entries[E_LEAFB_0].edx, 200);
}

static void test_amd_leaves(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 3, 4, 1);
	assert_true(entries[E_EXT1].ecx & CMP_LEGACY_BIT);
	assert_int_equal(entries[E_EXT1].ecx & ~CMP_LEGACY_BIT, 0x125);
	/* 0x80000008 ECX: cores - 1 in [7:0], APIC ID bits in [15:12]; the rest kept. */
	assert_int_equal(entries[E_EXT8].ecx & 0xff, 3);
	assert_int_equal((entries[E_EXT8].ecx >> 12) & 0xf, 2);
	assert_int_equal(entries[E_EXT8].ecx, 0x12342f03);
	assert_int_equal(entries[E_EXT8].eax, 0x3027);
	/* 0x8000001E: extended APIC ID, core ID; one thread per core, one node. */
	assert_int_equal(entries[E_EXT1E].eax, 3);
	assert_int_equal(entries[E_EXT1E].ebx, 3);
	assert_int_equal(entries[E_EXT1E].ecx, 0);

	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 0, 1, 1);
	assert_int_equal(entries[E_EXT8].ecx & 0xff, 0);
	assert_int_equal((entries[E_EXT8].ecx >> 12) & 0xf, 0);
}

static void test_other_leaves_untouched(void **state)
{
	struct kvm_cpuid_entry2 before = entries[E_LEAF7];
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 3, 4, 1);
	assert_memory_equal(&entries[E_LEAF7], &before, sizeof(before));
}

static void test_nent_respected(void **state)
{
	struct kvm_cpuid_entry2 before = entries[E_LEAF4_DATA];
	(void)state;

	cpuid_set_topology(entries, 1, 3, 4, 1);
	assert_int_equal(entries[E_LEAF1].ebx >> 24, 3);
	assert_memory_equal(&entries[E_LEAF4_DATA], &before, sizeof(before));
	cpuid_set_topology(entries, 0, 1, 4, 1);
	assert_int_equal(entries[E_LEAF1].ebx >> 24, 3);
}

/* The host table has VMX (leaf 1) and SVM (0x80000001) set, and an SVM feature leaf. */
static void test_nested_hidden(void **state)
{
	struct kvm_cpuid_entry2 leaf7 = entries[E_LEAF7];
	(void)state;

	assert_true(entries[E_LEAF1].ecx & VMX_BIT);
	assert_true(entries[E_EXT1].ecx & SVM_BIT);
	cpuid_hide_nested(entries, NR_ENTRIES);
	assert_int_equal(entries[E_LEAF1].ecx, 0x7ffafbbf & ~VMX_BIT);
	assert_int_equal(entries[E_EXT1].ecx, 0x127 & ~SVM_BIT);
	assert_int_equal(entries[E_EXT1].edx, 0x2c100800);
	assert_int_equal(entries[E_EXTA].eax | entries[E_EXTA].ebx | entries[E_EXTA].ecx | entries[E_EXTA].edx, 0);
	assert_memory_equal(&entries[E_LEAF7], &leaf7, sizeof(leaf7));
}

/* Topology does not touch the nested bits: with --nested on the guest sees the host's. */
static void test_nested_kept_by_topology(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 1, 2, 1);
	assert_true(entries[E_LEAF1].ecx & VMX_BIT);
	assert_true(entries[E_EXT1].ecx & SVM_BIT);
	assert_int_equal(entries[E_EXTA].edx, 0x1bcff);
}

static void test_id_bits(void **state)
{
	static const struct {
		unsigned cpus, bits;
	} cases[] = {
		{ 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 8, 3 }, { 9, 4 },
		{ 64, 6 }, { 65, 7 }, { 128, 7 }, { 129, 8 }, { 254, 8 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cpuid_id_bits(cases[i].cpus) != cases[i].bits)
			fail_msg("cpuid_id_bits(%u) = %u, want %u", cases[i].cpus, cpuid_id_bits(cases[i].cpus),
				 cases[i].bits);
}

/* smt: two threads per core; vCPU 5 of 4 is thread 1 of core 2, and every level says so. */
static void test_smt_two_threads(void **state)
{
	(void)state;

	cpuid_set_topology(entries, NR_ENTRIES, 5, 8, 2);
	assert_int_equal((entries[E_LEAF1].ebx >> 16) & 0xff, 8);
	assert_int_equal(entries[E_LEAF4_DATA].eax >> 26, 3);            /* 4 cores */
	assert_int_equal((entries[E_LEAF4_DATA].eax >> 14) & 0xfff, 1);  /* 2 threads share each cache */
	assert_int_equal(entries[E_LEAFB_0].eax, 1);                     /* 1 bit of thread in the APIC ID */
	assert_int_equal(entries[E_LEAFB_0].ebx, 2);
	assert_int_equal(entries[E_LEAFB_1].eax, 3);
	assert_int_equal(entries[E_LEAFB_1].ebx, 8);
	assert_int_equal(entries[E_LEAFB_1].edx, 5);
	assert_int_equal((entries[E_EXT1E].ebx >> 8) & 0xff, 1);          /* AMD: threads per core - 1 */
	assert_int_equal(entries[E_EXT1E].ebx & 0xff, 2);                 /* core 2 */
	assert_int_equal(entries[E_EXT1E].eax, 5);

	/* AMD's Linux reads leaf 0x8000001E only with TOPOEXT, which the host here lacks. */
	assert_true(entries[E_EXT1].ecx & TOPOEXT_BIT);
	host_entries();
	cpuid_set_topology(entries, NR_ENTRIES, 5, 8, 1);
	assert_false(entries[E_EXT1].ecx & TOPOEXT_BIT);
	/* Without the leaf (Intel), no TOPOEXT. */
	host_entries();
	cpuid_set_topology(entries, E_EXT1E, 5, 8, 2);
	assert_false(entries[E_EXT1].ecx & TOPOEXT_BIT);

	assert_int_equal(cpuid_threads_per_core(true, 2), 2);
	assert_int_equal(cpuid_threads_per_core(true, 1), 1);
	assert_int_equal(cpuid_threads_per_core(false, 4), 1);
	assert_int_equal(cpuid_threads_per_core(true, 3), 1); /* refused by the API; never half a core */
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_leaf1_four_cpus),
		T(test_leaf1_one_cpu),
		T(test_leaf1_rounds_up),
		T(test_leaf1_hypervisor_bit_on_any_host),
		T(test_leaf4),
		T(test_leaf_0xb),
		T(test_leaf_0xb_other_sizes),
		T(test_amd_leaves),
		T(test_other_leaves_untouched),
		T(test_nent_respected),
		T(test_nested_hidden),
		T(test_nested_kept_by_topology),
		T(test_id_bits),
		T(test_smt_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
