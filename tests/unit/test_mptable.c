// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "boot/mptable.h"

#define MP_GPA 0xF0000ULL
#define MP_SIZE 0x10000
#define IOAPIC_ADDR 0xFEC00000u

static uint8_t buf[MP_SIZE];

static size_t expected_len(unsigned nr_cpus)
{
	/* floating pointer, header, processors, bus, IOAPIC, 16 ISA IRQs, 2 local interrupts */
	return 16 + 44 + 20 * nr_cpus + 8 + 8 + 16 * 8 + 2 * 8;
}

/* The entries as the MP spec lays them out, in the order Linux and the spec expect (by type). */
static size_t expected_entries(uint8_t *out, unsigned nr_cpus, uint8_t ioapic_id)
{
	uint8_t *p = out;

	for (unsigned i = 0; i < nr_cpus; i++) {
		const uint8_t cpu[20] = { 0, (uint8_t)i, 0x14, i ? 0x01 : 0x03, 0x00, 0x06, 0, 0, 0x01, 0x02, 0, 0 };

		memcpy(p, cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	memcpy(p, (const uint8_t[]){ 1, 0, 'I', 'S', 'A', ' ', ' ', ' ' }, 8);
	p += 8;
	memcpy(p, (const uint8_t[]){ 2, ioapic_id, 0x11, 0x01, 0x00, 0x00, 0xC0, 0xFE }, 8);
	p += 8;
	for (uint8_t irq = 0; irq < 16; irq++) {
		memcpy(p, (const uint8_t[]){ 3, 0, 0, 0, 0, irq, ioapic_id, irq }, 8);
		p += 8;
	}
	memcpy(p, (const uint8_t[]){ 4, 3, 0, 0, 0, 0, 0xFF, 0 }, 8); /* ExtINT -> LINT0 */
	p += 8;
	memcpy(p, (const uint8_t[]){ 4, 1, 0, 0, 0, 0, 0xFF, 1 }, 8); /* NMI -> LINT1 */
	p += 8;
	return (size_t)(p - out);
}

/* Finds the floating pointer the way Linux's smp_scan_config does: 16-byte steps in guest memory. */
static const uint8_t *scan(const uint8_t *mem, size_t len, uint64_t gpa)
{
	for (size_t off = (size_t)(-gpa & 15); off + 16 <= len; off += 16) {
		const uint8_t *p = mem + off;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && !acpi_checksum(p, 16) && (p[9] == 1 || p[9] == 4))
			return p;
	}
	return NULL;
}

static void check_tables(unsigned nr_cpus, uint8_t ioapic_id, uint64_t gpa)
{
	static uint8_t want[MP_SIZE];
	const uint8_t *mpf, *mpc;
	size_t len = (size_t)(-gpa & 15) + expected_len(nr_cpus), entries_len;
	uint32_t physptr, lapic;
	uint16_t mpc_len, count;

	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(mptable_build(buf, sizeof(buf), gpa, nr_cpus, IOAPIC_ADDR, ioapic_id), len);

	mpf = scan(buf, len, gpa);
	assert_ptr_equal(mpf, buf + (-gpa & 15));
	assert_int_equal(mpf[9], 4);                 /* MP spec 1.4 */
	assert_memory_equal(mpf + 11, "\0\0\0\0\0", 5); /* a table follows; virtual-wire mode */
	memcpy(&physptr, mpf + 4, 4);
	assert_int_equal(physptr, gpa + (size_t)(mpf - buf) + 16);

	mpc = buf + (physptr - gpa);
	memcpy(&mpc_len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	memcpy(&lapic, mpc + 36, 4);
	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(mpc_len, expected_len(nr_cpus) - 16);
	assert_ptr_equal(mpc + mpc_len, buf + len);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(acpi_checksum(mpc, mpc_len), 0);
	assert_memory_equal(mpc + 8, "KVMINI  ", 8);
	assert_int_equal(count, nr_cpus + 20);
	assert_int_equal(lapic, 0xFEE00000);
	assert_memory_equal(mpc + 40, "\0\0\0\0", 4); /* no extended table */

	entries_len = expected_entries(want, nr_cpus, ioapic_id);
	assert_int_equal(44 + entries_len, mpc_len);
	assert_memory_equal(mpc + 44, want, entries_len);
}

static void test_cpu_counts(void **state)
{
	static const unsigned counts[] = { 1, 2, 4, 255 };
	(void)state;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_tables(counts[i], (uint8_t)counts[i], MP_GPA);
	check_tables(3, 8, MP_GPA);
}

static void test_unaligned_gpa(void **state)
{
	(void)state;
	check_tables(2, 2, MP_GPA + 8);
	check_tables(2, 2, MP_GPA + 15);
}

static void test_invalid(void **state)
{
	(void)state;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, 0, IOAPIC_ADDR, 1), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, 4, IOAPIC_ADDR, 3), -EINVAL);  /* APIC id 3 */
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, 256, IOAPIC_ADDR, 255), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, 2, 0, 2), -EINVAL);
	assert_int_equal(mptable_build(NULL, sizeof(buf), MP_GPA, 2, IOAPIC_ADDR, 2), -EINVAL);
	/* physptr is 32-bit: the tables must end at or below 4 GiB */
	assert_int_equal(mptable_build(buf, sizeof(buf), 0x100000000ULL, 2, IOAPIC_ADDR, 2), -EINVAL);
	/* one vCPU: 240 bytes, a multiple of 16, so they can end exactly at 4 GiB */
	assert_int_equal(mptable_build(buf, sizeof(buf), 0x100000000ULL - 240, 1, IOAPIC_ADDR, 1), 240);
	assert_int_equal(mptable_build(buf, sizeof(buf), 0x100000000ULL - 224, 1, IOAPIC_ADDR, 1), -EINVAL);
}

/* Every buffer shorter than needed fails with -ENOSPC, inside its bounds (run under ASan). */
static void check_enospc(unsigned nr_cpus)
{
	size_t need = expected_len(nr_cpus);

	for (size_t len = 0; len <= need; len++) {
		uint8_t *b = malloc(len);

		assert_true(b || !len);
		assert_int_equal(mptable_build(b, len, MP_GPA, nr_cpus, IOAPIC_ADDR, (uint8_t)nr_cpus),
				 len < need ? -ENOSPC : (int)need);
		free(b);
	}
}

static void test_enospc_every_size(void **state)
{
	(void)state;
	check_enospc(1);
	check_enospc(255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_counts),
		cmocka_unit_test(test_unaligned_gpa),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_enospc_every_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
