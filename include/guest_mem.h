/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest RAM: one host mapping, seen by the guest as at most two regions,
 * below the 3-4 GiB hole (where the LAPIC, IOAPIC and device windows live) and above it.
 */
#ifndef KVMINI_GUEST_MEM_H
#define KVMINI_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MIN (64ULL << 20)
#define GUEST_HOLE_START (3ULL << 30)
#define GUEST_HOLE_END (4ULL << 30)

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	uint8_t *base;
	uint64_t size;
	bool mapped; /* base came from mmap and is ours to unmap */
	bool hugetlb; /* backed by huge pages (--hugepages): nothing smaller than one can be discarded */
	/*
	 * Pages the VMM itself wrote (devices filling guest buffers, used
	 * rings), which KVM's dirty log does not see: one bit per 4 KiB page in
	 * host order, set atomically from any thread. NULL unless
	 * guest_mem_track_writes was called (diff snapshots).
	 */
	uint64_t *written;
	/*
	 * Mapped from this memory file (guest_mem_map_file): untouched pages
	 * still read from it, so a Full snapshot must not empty it.
	 */
	bool from_file;
	uint64_t file_dev, file_ino;
	unsigned nr_regions;
	struct guest_region regions[2];
};

/* Splits ram_size around the hole; returns the number of regions. Pure. */
unsigned guest_mem_layout(uint64_t ram_size, struct guest_region regions[2]);
/* Maps anonymous memory (2 MiB huge pages if asked) and lays it out. */
int guest_mem_alloc(struct guest_mem *mem, uint64_t ram_size, bool hugepages);
/* Lays out a caller's buffer as guest memory (unit tests, builders). */
void guest_mem_wrap(struct guest_mem *mem, void *buf, uint64_t size);
/*
 * Maps guest RAM from a snapshot's memory file (MAP_PRIVATE: pages are read
 * from fd on first touch, the guest's writes stay in this process). The file
 * must be exactly ram_size bytes (-EINVAL otherwise).
 */
int guest_mem_map_file(struct guest_mem *mem, int fd, uint64_t ram_size);
/* Starts recording the pages the VMM writes (mem->written); -ENOMEM. */
int guest_mem_track_writes(struct guest_mem *mem);
/* Marks [host, host+len) written if tracking (a range outside guest RAM is ignored). Any thread. */
void guest_mem_mark_written(const struct guest_mem *mem, const void *host, uint64_t len);
/* ORs the pages marked written into out (snapshot_bitmap_words words) and clears them. */
void guest_mem_take_written(const struct guest_mem *mem, uint64_t *out);
void guest_mem_free(struct guest_mem *mem);
/* Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in one RAM region. */
void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/*
 * Gives guest RAM [gpa, gpa+len) back to the host (MADV_DONTNEED): the host
 * frees its pages and the guest reads zeros there on its next touch, or, in
 * RAM mapped from a memory file, the file's pages again (MADV_DONTNEED drops
 * a MAP_PRIVATE mapping's own copies; the balloon, the only caller, does not
 * care what a page it gave back holds). The range is marked written.
 * -EINVAL unless the range is page-aligned and lies in one RAM region;
 * -EOPNOTSUPP on huge pages, where the kernel would round the range up to
 * whole huge pages and zero guest memory around it.
 */
#define GUEST_PAGE_SIZE 4096ULL
int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* End of the RAM region that starts at 0 (the highest address a 32-bit loader may use, exclusive). */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
