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
#include "boot/layout.h"
#include "boot/mptable.h"

#define MP_GPA 0xF0000ULL
#define MP_SIZE 0x10000
#define IOAPIC_ADDR 0xFEC00000u

static uint8_t buf[MP_SIZE];

static struct mptable_config config(unsigned nr_cpus, uint8_t ioapic_id)
{
	return (struct mptable_config){ .nr_cpus = nr_cpus, .ioapic_addr = IOAPIC_ADDR, .ioapic_id = ioapic_id };
}

/* The PCI bus as kvmini wires it: slots 1-15, INTA-INTD swizzled over pins 16-19; the rest level-high. */
static struct mptable_config config_pci(unsigned nr_cpus, uint8_t ioapic_id)
{
	struct mptable_config c = config(nr_cpus, ioapic_id);

	c.pci_bus = true;
	for (unsigned slot = 1; slot < 16; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			c.pci_intx[slot][pin] = (uint8_t)(16 + (slot + pin) % 4);
	c.level_high_pins = 0xF00000;
	return c;
}

static unsigned nr_pci_lines(const struct mptable_config *c)
{
	unsigned n = 0;

	for (unsigned slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < MPTABLE_PCI_PINS; pin++)
			n += c->pci_intx[slot][pin] != 0;
	return n;
}

static unsigned nr_device_lines(const struct mptable_config *c)
{
	return (unsigned)__builtin_popcount(c->level_high_pins) + nr_pci_lines(c);
}

static size_t expected_len(const struct mptable_config *c)
{
	/* floating pointer, header, processors, buses, IOAPIC, 16 ISA IRQs, device lines, 2 local interrupts */
	return 16 + 44 + 20 * c->nr_cpus + 8 * (c->pci_bus ? 2 : 1) + 8 + 16 * 8 + 8 * nr_device_lines(c) + 2 * 8;
}

/* The entries as the MP spec lays them out, in the order Linux and the spec expect (by type, buses by id). */
static size_t expected_entries(uint8_t *out, const struct mptable_config *c)
{
	uint8_t *p = out, id = c->ioapic_id, isa = c->pci_bus ? 1 : 0;

	for (unsigned i = 0; i < c->nr_cpus; i++) {
		const uint8_t cpu[20] = { 0, (uint8_t)i, 0x14, i ? 0x01 : 0x03, 0x00, 0x06, 0, 0, 0x01, 0x02, 0, 0 };

		memcpy(p, cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	if (c->pci_bus) {
		memcpy(p, (const uint8_t[]){ 1, 0, 'P', 'C', 'I', ' ', ' ', ' ' }, 8);
		p += 8;
	}
	memcpy(p, (const uint8_t[]){ 1, isa, 'I', 'S', 'A', ' ', ' ', ' ' }, 8);
	p += 8;
	memcpy(p, (const uint8_t[]){ 2, id, 0x11, 0x01, 0x00, 0x00, 0xC0, 0xFE }, 8);
	p += 8;
	for (uint8_t irq = 0; irq < 16; irq++) {
		memcpy(p, (const uint8_t[]){ 3, 0, 0, 0, isa, irq, id, irq }, 8);
		p += 8;
	}
	/* Level-high lines: ISA IRQ n on pin n, flags level (3 << 2) | active high (1). */
	for (uint8_t pin = 16; pin < 24; pin++)
		if (c->level_high_pins & 1u << pin) {
			memcpy(p, (const uint8_t[]){ 3, 0, 0x0D, 0, isa, pin, id, pin }, 8);
			p += 8;
		}
	/* PCI INTx: bus 0, IRQ (device << 2) | pin, flags level (3 << 2) | active low (3). */
	for (uint8_t slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (uint8_t pin = 0; pin < 4; pin++)
			if (c->pci_intx[slot][pin]) {
				memcpy(p, (const uint8_t[]){ 3, 0, 0x0F, 0, 0, (uint8_t)(slot << 2 | pin), id,
							     c->pci_intx[slot][pin] }, 8);
				p += 8;
			}
	memcpy(p, (const uint8_t[]){ 4, 3, 0, 0, isa, 0, 0xFF, 0 }, 8); /* ExtINT -> LINT0 */
	p += 8;
	memcpy(p, (const uint8_t[]){ 4, 1, 0, 0, isa, 0, 0xFF, 1 }, 8); /* NMI -> LINT1 */
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

static void check_config(const struct mptable_config *c, uint64_t gpa)
{
	static uint8_t want[MP_SIZE];
	const uint8_t *mpf, *mpc;
	size_t len = (size_t)(-gpa & 15) + expected_len(c), entries_len;
	uint32_t physptr, lapic;
	uint16_t mpc_len, count;

	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(mptable_build(buf, sizeof(buf), gpa, c), len);

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
	assert_int_equal(mpc_len, expected_len(c) - 16);
	assert_ptr_equal(mpc + mpc_len, buf + len);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(acpi_checksum(mpc, mpc_len), 0);
	assert_memory_equal(mpc + 8, "KVMINI  ", 8);
	/* processors, buses, IOAPIC, ISA IRQs, device lines, local interrupts */
	assert_int_equal(count, c->nr_cpus + (c->pci_bus ? 2 : 1) + 1 + 16 + nr_device_lines(c) + 2);
	assert_int_equal(lapic, 0xFEE00000);
	assert_memory_equal(mpc + 40, "\0\0\0\0", 4); /* no extended table */

	entries_len = expected_entries(want, c);
	assert_int_equal(44 + entries_len, mpc_len);
	assert_memory_equal(mpc + 44, want, entries_len);
}

static void check_tables(unsigned nr_cpus, uint8_t ioapic_id, uint64_t gpa)
{
	struct mptable_config c = config(nr_cpus, ioapic_id);

	check_config(&c, gpa);
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

/* Finds the I/O interrupt entry (type 3) for IOAPIC pin `pin` from bus `bus`, IRQ `irq`; NULL if none. */
static const uint8_t *find_io_interrupt(const uint8_t *mpc, uint8_t bus, uint8_t irq, uint8_t pin)
{
	uint16_t mpc_len;

	memcpy(&mpc_len, mpc + 4, 2);
	for (size_t off = 44; off < mpc_len; off += mpc[off] ? 8 : 20)
		if (mpc[off] == 3 && mpc[off + 4] == bus && mpc[off + 5] == irq && mpc[off + 7] == pin)
			return mpc + off;
	return NULL;
}

static void test_pci_bus(void **state)
{
	struct mptable_config c = config_pci(2, 2);
	const uint8_t *mpc = buf + 16, *e;
	(void)state;

	check_config(&c, MP_GPA + 4);
	/* 2 CPUs, 2 buses, IOAPIC, 16 ISA IRQs, 4 level-high lines, 15 slots x 4 pins, 2 local */
	check_config(&c, MP_GPA);
	assert_int_equal(mpc[34], 2 + 2 + 1 + 16 + 4 + 60 + 2);
	/* 00:03.0 INTA -> pin 19 and 00:01.0 INTB -> pin 18, level-triggered, active low */
	e = find_io_interrupt(mpc, 0, 3 << 2 | 0, 19);
	assert_non_null(e);
	assert_int_equal(e[2], 0x0F);
	assert_non_null(find_io_interrupt(mpc, 0, 1 << 2 | 1, 18));
	assert_null(find_io_interrupt(mpc, 0, 1 << 2 | 1, 17));
	/* ISA moved to bus 1: IRQ 4 (COM1) on pin 4, conforming */
	e = find_io_interrupt(mpc, 1, 4, 4);
	assert_non_null(e);
	assert_int_equal(e[2], 0);
	/* the lines PCI does not use stay level-triggered, active high */
	e = find_io_interrupt(mpc, 1, 23, 23);
	assert_non_null(e);
	assert_int_equal(e[2], 0x0D);
	assert_null(find_io_interrupt(mpc, 1, 16, 16));

	/* a bus with one line, some pins unconnected */
	c = config(1, 1);
	c.pci_bus = true;
	c.pci_intx[1][0] = 16;
	c.pci_intx[31][3] = 16;
	check_config(&c, MP_GPA);
	/* a PCI bus with no lines at all is still a bus */
	c = config(1, 1);
	c.pci_bus = true;
	check_config(&c, MP_GPA);
}

static void test_level_high_lines(void **state)
{
	struct mptable_config c = config(4, 4);
	const uint8_t *mpc = buf + 16, *e;
	(void)state;

	/* virtio-mmio: every device line 16-23, on the ISA bus (id 0 without PCI) */
	c.level_high_pins = 0xFF0000;
	check_config(&c, MP_GPA);
	for (uint8_t pin = 16; pin < 24; pin++) {
		e = find_io_interrupt(mpc, 0, pin, pin);
		assert_non_null(e);
		assert_int_equal(e[2] & 0x3, 1);        /* active high */
		assert_int_equal(e[2] >> 2 & 0x3, 3);   /* level-triggered */
	}
	c.level_high_pins = 1u << 16 | 1u << 21;
	check_config(&c, MP_GPA + 1);
}

static int build(unsigned nr_cpus, uint32_t ioapic_addr, uint8_t ioapic_id, uint64_t gpa)
{
	struct mptable_config c = config(nr_cpus, ioapic_id);

	c.ioapic_addr = ioapic_addr;
	return mptable_build(buf, sizeof(buf), gpa, &c);
}

static void test_invalid(void **state)
{
	struct mptable_config c = config(2, 2);
	(void)state;
	assert_int_equal(build(0, IOAPIC_ADDR, 1, MP_GPA), -EINVAL);
	assert_int_equal(build(4, IOAPIC_ADDR, 3, MP_GPA), -EINVAL);  /* APIC id 3 */
	assert_int_equal(build(256, IOAPIC_ADDR, 255, MP_GPA), -EINVAL);
	assert_int_equal(build(2, 0, 2, MP_GPA), -EINVAL);
	assert_int_equal(mptable_build(NULL, sizeof(buf), MP_GPA, &c), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, NULL), -EINVAL);
	/* physptr is 32-bit: the tables must end at or below 4 GiB */
	assert_int_equal(build(2, IOAPIC_ADDR, 2, 0x100000000ULL), -EINVAL);
	/* one vCPU: 240 bytes, a multiple of 16, so they can end exactly at 4 GiB */
	assert_int_equal(build(1, IOAPIC_ADDR, 1, 0x100000000ULL - 240), 240);
	assert_int_equal(build(1, IOAPIC_ADDR, 1, 0x100000000ULL - 224), -EINVAL);
}

static void test_invalid_device_lines(void **state)
{
	struct mptable_config c;
	(void)state;

	/* level-high lines only on device pins 16-23 */
	c = config(2, 2);
	c.level_high_pins = 1u << 15;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	c.level_high_pins = 1u << 24;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	/* PCI lines need the PCI bus */
	c = config(2, 2);
	c.pci_intx[1][0] = 16;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	/* ... and a device pin */
	c.pci_bus = true;
	c.pci_intx[1][0] = 9;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	c.pci_intx[1][0] = 24;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	c.pci_intx[1][0] = 255;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
	/* a pin is either a PCI line or a level-high one */
	c = config_pci(2, 2);
	c.level_high_pins |= 1u << 17;
	assert_int_equal(mptable_build(buf, sizeof(buf), MP_GPA, &c), -EINVAL);
}

/* Every buffer shorter than needed fails with -ENOSPC, inside its bounds (run under ASan). */
static void check_enospc(const struct mptable_config *c)
{
	size_t need = expected_len(c);

	for (size_t len = 0; len <= need; len++) {
		uint8_t *b = malloc(len);

		assert_true(b || !len);
		assert_int_equal(mptable_build(b, len, MP_GPA, c), len < need ? -ENOSPC : (int)need);
		free(b);
	}
}

static void test_enospc_every_size(void **state)
{
	struct mptable_config c;
	(void)state;

	c = config(1, 1);
	check_enospc(&c);
	c = config(255, 255);
	check_enospc(&c);
	c = config_pci(255, 255);
	check_enospc(&c);
}

/* The largest table kvmini builds fits the space layout.h reserves for it. */
static void test_fits_reserved_space(void **state)
{
	struct mptable_config c = config_pci(254, 254);
	(void)state;

	for (unsigned slot = 0; slot < MPTABLE_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			c.pci_intx[slot][pin] = (uint8_t)(16 + (slot + pin) % 4);
	assert_true(expected_len(&c) <= LAYOUT_MPTABLE_SIZE);
	check_config(&c, MP_GPA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_counts),
		cmocka_unit_test(test_unaligned_gpa),
		cmocka_unit_test(test_pci_bus),
		cmocka_unit_test(test_level_high_lines),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_device_lines),
		cmocka_unit_test(test_enospc_every_size),
		cmocka_unit_test(test_fits_reserved_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
