/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 tables, for guests booted with ACPI
 * off: one processor entry per vCPU, an ISA bus, the IOAPIC with ISA IRQ n on
 * pin n (KVM's default routing), ExtINT on LINT0 and NMI on LINT1.
 */
#ifndef KVMINI_BOOT_MPTABLE_H
#define KVMINI_BOOT_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the MP floating pointer and configuration table into buf, which the
 * guest sees at guest-physical buf_gpa; that should lie in 0xF0000-0xFFFFF,
 * the BIOS area Linux scans. The floating pointer goes at the first 16-byte
 * aligned guest address in buf (Linux only looks there), the configuration
 * table right after it. Returns the number of bytes used (counted from buf),
 * -ENOSPC, or -EINVAL when nr_cpus is 0, an APIC id 0..nr_cpus-1 would reach
 * ioapic_id, or the tables would not lie below 4 GiB.
 */
int mptable_build(uint8_t *buf, size_t len, uint64_t buf_gpa, unsigned nr_cpus, uint32_t ioapic_addr,
		 uint8_t ioapic_id);

#endif
