/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ELF kernels with a PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY): entered in
 * 32-bit protected mode with paging off and %ebx pointing at hvm_start_info.
 */
#ifndef KVMINI_BOOT_PVH_H
#define KVMINI_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

#define PVH_MAX_SEGMENTS 16
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

struct pvh_segment {
	uint64_t offset; /* in the file */
	uint64_t filesz;
	uint64_t paddr;
	uint64_t memsz;
};

struct pvh_info {
	uint32_t entry;
	unsigned nr_segments;
	struct pvh_segment segments[PVH_MAX_SEGMENTS];
};

/* The start-of-day structures of the PVH boot ABI (version 1). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

int pvh_probe(const uint8_t *img, size_t len);
/* Validates an ELF64 x86-64 image and finds its loadable segments and PVH entry. Pure. */
int pvh_parse(const uint8_t *img, size_t len, struct pvh_info *info, struct errmsg *e);

#endif
