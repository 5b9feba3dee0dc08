// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "snapshot/memory.h"

/* The most one pwrite is asked for: large enough to cost nothing per call, small enough to stay under Linux's cap. */
#define RUN_MAX_PAGES ((256ULL << 20) / GUEST_PAGE_SIZE)

/* One cache line at a time, so a page with data stops the test early and an empty one costs 64 loads. */
bool snapshot_page_is_zero(const uint8_t *page)
{
	const uint64_t *w = (const uint64_t *)page;

	for (size_t i = 0; i < GUEST_PAGE_SIZE / sizeof(*w); i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

/* Pages [first, first+count) of guest RAM to the same offset of fd, through short writes and signals. */
static int write_run(const struct guest_mem *mem, int fd, uint64_t first, uint64_t count, struct errmsg *e)
{
	uint64_t offset = first * GUEST_PAGE_SIZE, end = offset + count * GUEST_PAGE_SIZE;

	while (offset < end) {
		ssize_t n = pwrite(fd, mem->base + offset, end - offset, (off_t)offset);

		if (n > 0) {
			offset += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOSPC)
			return errmsg_set(e, ENOSPC, "memory file: no space left on device (wrote %llu of %llu MiB)",
					  (unsigned long long)(offset >> 20), (unsigned long long)(mem->size >> 20));
		/* pwrite returning 0 for a non-empty buffer would loop forever: call it an I/O error. */
		return errmsg_set(e, n < 0 ? errno : EIO, "memory file: write at offset %#llx: %s",
				  (unsigned long long)offset, strerror(n < 0 ? errno : EIO));
	}
	return 0;
}

/* Whether page n goes into the file: the predicate of one kind of write. */
typedef bool page_wanted(const struct guest_mem *mem, uint64_t n, const uint64_t *bitmap);

static bool page_has_data(const struct guest_mem *mem, uint64_t n, const uint64_t *bitmap)
{
	(void)bitmap;
	return !snapshot_page_is_zero(mem->base + n * GUEST_PAGE_SIZE);
}

static bool page_set(const struct guest_mem *mem, uint64_t n, const uint64_t *bitmap)
{
	(void)mem;
	return bitmap[n / 64] >> (n % 64) & 1;
}

/* Every wanted page, adjacent ones in one write of at most RUN_MAX_PAGES. */
static int write_wanted(const struct guest_mem *mem, int fd, page_wanted *wanted, const uint64_t *bitmap,
			struct errmsg *e)
{
	uint64_t pages = mem->size / GUEST_PAGE_SIZE, first = 0, count = 0;
	int err;

	/* The bitmap and the file have whole pages; kvmini's RAM is whole MiB, so only a broken caller gets here. */
	if (mem->size % GUEST_PAGE_SIZE)
		return errmsg_set(e, EINVAL, "memory file: guest RAM of %llu bytes is not whole pages",
				  (unsigned long long)mem->size);
	for (uint64_t n = 0; n < pages; n++) {
		if (!wanted(mem, n, bitmap))
			continue;
		if (count && n == first + count && count < RUN_MAX_PAGES) {
			count++;
			continue;
		}
		if (count && (err = write_run(mem, fd, first, count, e)))
			return err;
		first = n;
		count = 1;
	}
	return count ? write_run(mem, fd, first, count, e) : 0;
}

int snapshot_mem_write_full(const struct guest_mem *mem, int fd, struct errmsg *e)
{
	struct stat st;

	if (fstat(fd, &st))
		return errmsg_set(e, errno, "memory file: %s", strerror(errno));
	/* Emptying it would take the pages the guest has not touched from under it: SIGBUS, in kvmini's own reads too. */
	if (mem->from_file && st.st_dev == mem->file_dev && st.st_ino == mem->file_ino)
		return errmsg_set(e, EINVAL, "memory file: this VM's RAM is mapped from it; a Full snapshot needs another");
	/* Emptied first, so that whatever an older file held where guest RAM is now zero becomes a hole. */
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)mem->size))
		return errmsg_set(e, errno, "memory file: cannot size it to %llu MiB: %s",
				  (unsigned long long)(mem->size >> 20), strerror(errno));
	return write_wanted(mem, fd, page_has_data, NULL, e);
}

int snapshot_mem_write_pages(const struct guest_mem *mem, const uint64_t *dirty, int fd, struct errmsg *e)
{
	struct stat st;

	if (fstat(fd, &st))
		return errmsg_set(e, errno, "memory file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != mem->size)
		return errmsg_set(e, EINVAL,
				  "memory file: %llu bytes, not the %llu of this VM's RAM: not its Full snapshot's memory file",
				  (unsigned long long)st.st_size, (unsigned long long)mem->size);
	return write_wanted(mem, fd, page_set, dirty, e);
}
