/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 tables, for guests booted with ACPI
 * off: one processor entry per vCPU, an ISA bus, the IOAPIC with ISA IRQ n on
 * pin n (KVM's default routing), ExtINT on LINT0 and NMI on LINT1; and the
 * device lines on IOAPIC pins 16 and up: a PCI bus with one entry per routed
 * INTx pin, and the other lines with their trigger mode and polarity.
 */
#ifndef KVMINI_BOOT_MPTABLE_H
#define KVMINI_BOOT_MPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an MP interrupt entry can name: a PCI device number is 5 bits, INTA#-INTD#. */
#define MPTABLE_PCI_SLOTS 32
#define MPTABLE_PCI_PINS 4
/* The IOAPIC's pins; 0-15 carry the ISA IRQs, device lines use the others. */
#define MPTABLE_IOAPIC_PINS 24
#define MPTABLE_FIRST_DEVICE_PIN 16

struct mptable_config {
	unsigned nr_cpus;       /* APIC ids 0..nr_cpus-1, 0 the boot CPU */
	uint32_t ioapic_addr;
	uint8_t ioapic_id;
	/*
	 * A PCI bus 0. pci_intx[slot][pin] is the IOAPIC pin that INT(A + pin)#
	 * of that slot reaches (level-triggered, active low, as PCI lines are);
	 * 0: not connected.
	 */
	bool pci_bus;
	uint8_t pci_intx[MPTABLE_PCI_SLOTS][MPTABLE_PCI_PINS];
	/* Device lines that are level-triggered and active high, not PCI INTx (bit n: IOAPIC pin n). */
	uint32_t level_high_pins;
};

/*
 * Writes the MP floating pointer and configuration table into buf, which the
 * guest sees at guest-physical buf_gpa; that should lie in 0xF0000-0xFFFFF,
 * the BIOS area Linux scans. The floating pointer goes at the first 16-byte
 * aligned guest address in buf (Linux only looks there), the configuration
 * table right after it. Returns the number of bytes used (counted from buf),
 * -ENOSPC, or -EINVAL when nr_cpus is 0, an APIC id 0..nr_cpus-1 would reach
 * ioapic_id, a device line is not on a pin from MPTABLE_FIRST_DEVICE_PIN up
 * or is both a PCI and a level-high line, PCI lines are given without a PCI
 * bus, or the tables would not lie below 4 GiB.
 */
int mptable_build(uint8_t *buf, size_t len, uint64_t buf_gpa, const struct mptable_config *cfg);

#endif
