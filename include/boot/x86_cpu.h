/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU state a kernel expects at its entry point: GDT, page tables, registers. */
#ifndef KVMINI_BOOT_X86_CPU_H
#define KVMINI_BOOT_X86_CPU_H

#include <stdint.h>
#include <linux/kvm.h>

#include "guest_mem.h"

enum boot_kind {
	BOOT_LINUX64, /* bzImage 64-bit entry: long mode, paging on, %rsi = zero page */
	BOOT_PVH,     /* PVH: 32-bit protected mode, paging off, %ebx = hvm_start_info */
};

struct boot_entry {
	enum boot_kind kind;
	uint64_t entry;
	uint64_t arg;
};

/* GDT selectors of the boot protocols (__BOOT_CS and __BOOT_DS for the 64-bit one). */
#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20

/* Writes the GDT and the identity-mapped page tables for the first 4 GiB. -EFAULT if RAM is too small. */
int boot_write_cpu_tables(struct guest_mem *mem);
/* Fills the special and general registers for the boot CPU's entry. Pure. */
void boot_cpu_state(const struct boot_entry *entry, struct kvm_sregs *sregs, struct kvm_regs *regs);

#endif
