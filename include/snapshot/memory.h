/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memory file: guest RAM as it is, page for page in the order of its
 * host mapping (struct guest_mem: the region below the hole, then the one
 * above it), so file offset = host address - mem->base. A restore maps it
 * MAP_PRIVATE (guest_mem_map_file): pages load on first touch and the
 * guest's writes never reach the file.
 */
#ifndef KVMINI_SNAPSHOT_MEMORY_H
#define KVMINI_SNAPSHOT_MEMORY_H

#include <stdint.h>

#include "errmsg.h"
#include "guest_mem.h"

/* 64-bit words of a bitmap with one bit per 4 KiB page of mem (page n: word n / 64, bit n % 64). */
static inline uint64_t snapshot_bitmap_words(const struct guest_mem *mem)
{
	return (mem->size / GUEST_PAGE_SIZE + 63) / 64;
}

/* A 4 KiB page of all zero bytes (written as a hole); page is 8-byte aligned. */
bool snapshot_page_is_zero(const uint8_t *page);

/*
 * All of guest RAM into fd from offset 0: the file is truncated to mem->size
 * and pages that are all zero are not written (holes). -errno with a
 * one-line message ("memory file: ...") on a write error or a full disk;
 * -EINVAL for the file guest RAM is mapped from (mem->from_file).
 */
int snapshot_mem_write_full(const struct guest_mem *mem, int fd, struct errmsg *e);

/*
 * Only the pages set in dirty (snapshot_bitmap_words words) into fd, each
 * at its offset, over what fd holds: fd must already be mem->size bytes
 * (-EINVAL otherwise: not the memory file of this VM's Full snapshot).
 */
int snapshot_mem_write_pages(const struct guest_mem *mem, const uint64_t *dirty, int fd, struct errmsg *e);

#endif
