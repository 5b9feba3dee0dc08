/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI tables for a Linux guest booted without firmware: RSDP (revision 2),
 * XSDT, FADT (revision 6, hardware-reduced), MADT and DSDT.
 */
#ifndef KVMINI_BOOT_ACPI_H
#define KVMINI_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "boot/aml.h"

/*
 * Hardware-reduced sleep control register (ACPI 6.x "Sleep Control and Status
 * Registers"): the guest writes (SLP_TYP << 2) | SLP_EN, with SLP_TYP taken
 * from the first element of \_Sx.
 * Powering off writes ACPI_SLEEP_CTL_S5 (0x34) to sleep_ctl_port; just before,
 * Linux writes WAK_STS (bit 7) to sleep_sts_port to clear the wake status.
 */
#define ACPI_SLEEP_TYP_S5 5
#define ACPI_SLEEP_CTL_TYP_SHIFT 2
#define ACPI_SLEEP_CTL_SLP_EN (1u << 5)
#define ACPI_SLEEP_CTL_S5 ((ACPI_SLEEP_TYP_S5 << ACPI_SLEEP_CTL_TYP_SHIFT) | ACPI_SLEEP_CTL_SLP_EN)

struct acpi_platform {
	unsigned nr_cpus;           /* APIC IDs 0..nr_cpus-1, ACPI processor UIDs the same */
	uint32_t ioapic_addr;       /* 0xFEC00000 */
	uint8_t ioapic_id;          /* nr_cpus, so it does not clash with a LAPIC id */
	uint16_t sleep_ctl_port;    /* FADT SLEEP_CONTROL_REG, an 8-bit I/O port */
	uint16_t sleep_sts_port;    /* FADT SLEEP_STATUS_REG */
	/* Called inside Scope(\_SB) while the DSDT is written, so every device can declare itself. */
	int (*describe_devices)(struct aml *aml, void *ctx);
	void *ctx;
};

/*
 * Builds RSDP (rev 2), XSDT, FADT, MADT and DSDT into buf, which the guest sees
 * at guest-physical buf_gpa. Tables start 16-byte aligned in guest memory, the
 * RSDP first, so buf_gpa in 0xE0000-0xFFFFF lets Linux find it by scanning.
 * Returns 0 and the RSDP's guest address, -ENOSPC, -EINVAL (nr_cpus is 0 or
 * not below ioapic_id, or a port/address is 0), or the error describe_devices
 * returned.
 */
int acpi_build(const struct acpi_platform *p, uint8_t *buf, size_t len, uint64_t buf_gpa, uint64_t *rsdp_gpa);

/* The byte that makes len bytes sum to zero mod 256, as ACPI and the MP spec require. */
uint8_t acpi_checksum(const uint8_t *bytes, size_t len);

#endif
