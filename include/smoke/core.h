/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An ELF core file of a stopped guest, for gdb or crash: ELF64 ET_CORE,
 * EM_X86_64, one PT_NOTE (an NT_PRSTATUS per vCPU, pid = index + 1, then
 * one NT_PRPSINFO) and one PT_LOAD per guest RAM region whose p_paddr is
 * its guest-physical address and p_vaddr the kernel's direct map of it,
 * CORE_DIRECT_MAP + gpa. That base is x86-64 4-level paging's
 * page_offset_base without memory-layout KASLR (a randomised kernel moves
 * it; p_paddr stays right). Segments start on page boundaries; all-zero
 * pages are holes.
 */
#ifndef KVMINI_SMOKE_CORE_H
#define KVMINI_SMOKE_CORE_H

#include <stddef.h>
#include <linux/kvm.h>

#include "errmsg.h"
#include "guest_mem.h"

#define CORE_DIRECT_MAP 0xffff888000000000ULL

/* Writes the core to fd (truncated first) with pwrite; 0 or -errno with a one-line message in e. */
int core_write(int fd, const struct guest_mem *mem, const struct kvm_regs *regs, const struct kvm_sregs *sregs,
	       size_t nr_vcpus, struct errmsg *e);

#endif
