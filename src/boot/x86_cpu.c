// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "boot/layout.h"
#include "boot/x86_cpu.h"

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_PRESENT (1ULL << 0)
#define PTE_WRITE (1ULL << 1)
#define PTE_LARGE (1ULL << 7)

/* Segment access bytes: present, DPL 0, and the type. */
#define SEG_CODE 0x9b
#define SEG_DATA 0x93
#define SEG_TSS_BUSY 0x8b

#define GDT_ENTRIES 5
#define PAGE_TABLE_PAGES 6 /* PML4, PDPT, 4 page directories */

static uint64_t gdt_entry(uint8_t access, uint8_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf) << 52) |
	       ((uint64_t)(limit & 0xf0000) << 32) | ((uint64_t)access << 40) | ((uint64_t)(base & 0xffffff) << 16) |
	       (limit & 0xffff);
}

/* The hidden part of a segment register, matching the GDT entry its selector names. */
static struct kvm_segment segment(uint16_t selector, uint8_t access, uint8_t flags, uint32_t limit)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = limit,
		.selector = selector,
		.type = access & 0xf,
		.present = 1,
		.dpl = 0,
		.db = (flags >> 2) & 1,
		.s = (access >> 4) & 1,
		.l = (flags >> 1) & 1,
		.g = (flags >> 3) & 1,
	};
}

int boot_write_cpu_tables(struct guest_mem *mem)
{
	const uint64_t gdt[GDT_ENTRIES] = {
		0,
		gdt_entry(SEG_CODE, 0xc, 0, 0xfffff), /* 32-bit flat code, for PVH */
		gdt_entry(SEG_CODE, 0xa, 0, 0xfffff), /* 64-bit code */
		gdt_entry(SEG_DATA, 0xc, 0, 0xfffff),
		gdt_entry(SEG_TSS_BUSY, 0x0, 0, 0x67),
	};
	uint64_t *pml4 = guest_ptr(mem, LAYOUT_PML4, PAGE_TABLE_PAGES * 4096ULL);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	void *gdt_mem = guest_ptr(mem, LAYOUT_GDT, sizeof(gdt));

	if (!pml4 || !gdt_mem)
		return -EFAULT;
	memcpy(gdt_mem, gdt, sizeof(gdt));
	memset(pml4, 0, PAGE_TABLE_PAGES * 4096ULL);
	pml4[0] = (LAYOUT_PML4 + 0x1000) | PTE_PRESENT | PTE_WRITE;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PML4 + 0x2000 + i * 0x1000ULL) | PTE_PRESENT | PTE_WRITE;
	/* 2 MiB pages: the boot protocol only asks that the kernel, zero page, command line and initrd be mapped. */
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	return 0;
}

void boot_cpu_state(const struct boot_entry *entry, struct kvm_sregs *sregs, struct kvm_regs *regs)
{
	bool long_mode = entry->kind == BOOT_LINUX64;
	struct kvm_segment code = long_mode ? segment(BOOT_SEL_CODE64, SEG_CODE, 0xa, 0xffffffff)
					    : segment(BOOT_SEL_CODE32, SEG_CODE, 0xc, 0xffffffff);
	struct kvm_segment data = segment(BOOT_SEL_DATA, SEG_DATA, 0xc, 0xffffffff);

	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = segment(BOOT_SEL_TSS, SEG_TSS_BUSY, 0, 0x67);
	sregs->tr.s = 0;
	sregs->gdt.base = LAYOUT_GDT;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr4 = 0;
	sregs->cr3 = 0;
	sregs->efer = 0;
	if (long_mode) {
		sregs->cr0 |= CR0_PG;
		sregs->cr3 = LAYOUT_PML4;
		sregs->cr4 = CR4_PAE;
		sregs->efer = EFER_LME | EFER_LMA;
	}

	memset(regs, 0, sizeof(*regs));
	regs->rflags = 2; /* bit 1 is reserved-one; interrupts off */
	regs->rip = entry->entry;
	if (long_mode)
		regs->rsi = entry->arg;
	else
		regs->rbx = entry->arg;
}
