/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where kvmini puts things in the guest's low memory. Everything below 1 MiB
 * that Linux must not use as RAM is marked reserved in the e820 map.
 */
#ifndef KVMINI_BOOT_LAYOUT_H
#define KVMINI_BOOT_LAYOUT_H

#define LAYOUT_GDT 0x500ULL
#define LAYOUT_PVH_INFO 0x6000ULL /* hvm_start_info, then its memory map and module list */
#define LAYOUT_ZERO_PAGE 0x7000ULL
#define LAYOUT_PML4 0x9000ULL /* then the PDPT and four page directories: 4 GiB identity-mapped */
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_CMDLINE_MAX 0x10000ULL
#define LAYOUT_EBDA 0x9fc00ULL
#define LAYOUT_ACPI 0xe0000ULL /* 64 KiB of ACPI tables */
#define LAYOUT_ACPI_SIZE 0x10000ULL
#define LAYOUT_MPTABLE 0xf0000ULL
#define LAYOUT_MPTABLE_SIZE 0x10000ULL
#define LAYOUT_BIOS_END 0x100000ULL
#define LAYOUT_KERNEL 0x100000ULL

#endif
