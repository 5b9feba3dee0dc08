// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/mman.h> /* MAP_HUGE_2MB */

#include "guest_mem.h"
#include "snapshot/memory.h"

#define THP_ALIGN (2ULL << 20)

unsigned guest_mem_layout(uint64_t ram_size, struct guest_region regions[2])
{
	regions[0] = (struct guest_region){ .gpa = 0, .size = ram_size };
	if (ram_size <= GUEST_HOLE_START)
		return 1;
	regions[0].size = GUEST_HOLE_START;
	regions[1] = (struct guest_region){ .gpa = GUEST_HOLE_END, .size = ram_size - GUEST_HOLE_START };
	return 2;
}

static void guest_mem_place(struct guest_mem *mem)
{
	uint64_t offset = 0;

	mem->nr_regions = guest_mem_layout(mem->size, mem->regions);
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		mem->regions[i].host = mem->base + offset;
		offset += mem->regions[i].size;
	}
}

/*
 * Guest RAM at an address that is a multiple of 2 MiB, as the guest-physical
 * addresses it backs are: only then can the host back it with transparent huge
 * pages and KVM map them as 2 MiB pages, so a booting guest takes one nested
 * page fault per 2 MiB instead of one per 4 KiB (make bench: the stock
 * kernel's boot took 33,866 VM exits before, 6,198 after). Anonymous, or with
 * fd >= 0 the file's first size bytes, private, over an aligned reservation.
 */
static void *map_thp_aligned(uint64_t size, int fd)
{
	uint64_t slack = THP_ALIGN;
	uint8_t *p = mmap(NULL, size + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	uint8_t *aligned;

	if (p == MAP_FAILED)
		return p;
	aligned = (uint8_t *)(((uintptr_t)p + THP_ALIGN - 1) & ~(uintptr_t)(THP_ALIGN - 1));
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	munmap(aligned + size, (size_t)(p + size + slack - (aligned + size)));
	/* MAP_FIXED replaces the reservation in one step: no window in which another thread could map there. */
	if (fd >= 0 && mmap(aligned, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd, 0) ==
			       MAP_FAILED) {
		int err = errno;

		munmap(aligned, size);
		errno = err;
		return MAP_FAILED;
	}
	/* On hosts whose THP setting is "madvise" (not "always"), this asks for them. */
	madvise(aligned, size, MADV_HUGEPAGE);
	return aligned;
}

static void guest_mem_adopt(struct guest_mem *mem, void *p, uint64_t ram_size, bool hugetlb)
{
	/* Guest RAM is never worth a core dump of gigabytes, and must not be shared with a fork. */
	madvise(p, ram_size, MADV_DONTDUMP);
	madvise(p, ram_size, MADV_DONTFORK);
	memset(mem, 0, sizeof(*mem));
	mem->base = p;
	mem->size = ram_size;
	mem->mapped = true;
	mem->hugetlb = hugetlb;
	guest_mem_place(mem);
}

int guest_mem_alloc(struct guest_mem *mem, uint64_t ram_size, bool hugepages)
{
	void *p;

	/*
	 * Huge pages are reserved at mmap time, so a shortage fails here rather
	 * than as SIGBUS in a vCPU. 2 MiB ones whatever the host's default
	 * size: what the API's huge_pages "2M" names.
	 */
	if (hugepages)
		p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	else
		p = map_thp_aligned(ram_size, -1);
	if (p == MAP_FAILED)
		return -errno;
	guest_mem_adopt(mem, p, ram_size, hugepages);
	return 0;
}

int guest_mem_map_file(struct guest_mem *mem, int fd, uint64_t ram_size)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st))
		return -errno;
	/* A shorter file would fault SIGBUS in a vCPU past its end; a FIFO or a device cannot be mapped as RAM. */
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != ram_size)
		return -EINVAL;
	p = map_thp_aligned(ram_size, fd);
	if (p == MAP_FAILED)
		return -errno;
	guest_mem_adopt(mem, p, ram_size, false);
	mem->from_file = true;
	mem->file_dev = st.st_dev;
	mem->file_ino = st.st_ino;
	return 0;
}

void guest_mem_wrap(struct guest_mem *mem, void *buf, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	mem->base = buf;
	mem->size = size;
	guest_mem_place(mem);
}

void guest_mem_free(struct guest_mem *mem)
{
	if (mem->mapped && mem->base)
		munmap(mem->base, mem->size);
	free(mem->written);
	memset(mem, 0, sizeof(*mem));
}

void *guest_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];

		/* Written so that no sum can overflow, whatever gpa and len the guest supplied. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *host = guest_ptr(mem, gpa, len);

	if (!host || !len || ((gpa | len) & (GUEST_PAGE_SIZE - 1)))
		return -EINVAL;
	if (mem->hugetlb)
		return -EOPNOTSUPP;
	if (madvise(host, len, MADV_DONTNEED))
		return -errno;
	/* What the guest reads there changed without a guest write: KVM's dirty log does not know. */
	guest_mem_mark_written(mem, host, len);
	return 0;
}

int guest_mem_track_writes(struct guest_mem *mem)
{
	if (!mem->written && !(mem->written = calloc(snapshot_bitmap_words(mem), sizeof(uint64_t))))
		return -ENOMEM;
	return 0;
}

void guest_mem_mark_written(const struct guest_mem *mem, const void *host, uint64_t len)
{
	uint64_t offset, end, first, last;

	/* The only test on the path of a VM that does not track writes. */
	if (!mem->written)
		return;
	offset = (uintptr_t)host - (uintptr_t)mem->base;
	/* Below base, offset wraps to a huge value: one test refuses both sides. The bitmap has whole pages. */
	end = mem->size / GUEST_PAGE_SIZE * GUEST_PAGE_SIZE;
	if (!len || offset >= end)
		return;
	if (len > end - offset)
		len = end - offset;
	first = offset / GUEST_PAGE_SIZE;
	last = (offset + len - 1) / GUEST_PAGE_SIZE;
	/* Bits first..last, a word at a time: most ranges are one page, one atomic OR. */
	for (uint64_t word = first / 64; word <= last / 64; word++) {
		uint64_t lo = word == first / 64 ? first % 64 : 0;
		uint64_t hi = word == last / 64 ? last % 64 : 63;
		uint64_t bits = (~0ULL >> (63 - hi)) & (~0ULL << lo);

		__atomic_fetch_or(&mem->written[word], bits, __ATOMIC_RELAXED);
	}
}

void guest_mem_take_written(const struct guest_mem *mem, uint64_t *out)
{
	if (!mem->written)
		return;
	for (uint64_t i = 0; i < snapshot_bitmap_words(mem); i++)
		out[i] |= __atomic_exchange_n(&mem->written[i], 0, __ATOMIC_RELAXED);
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->regions[0].size;
}
