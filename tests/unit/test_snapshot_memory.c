// SPDX-License-Identifier: Apache-2.0
/*
 * The memory file (src/snapshot/memory.c) and what it rests on in guest_mem:
 * RAM mapped from a file, and the record of pages the VMM wrote. Files are
 * memfds (tmpfs: holes are visible to SEEK_DATA, and a 3 GiB one costs
 * nothing until written).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "guest_mem.h"
#include "snapshot/memory.h"

#define PAGE GUEST_PAGE_SIZE
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TEST_TIMEOUT 20

static int arm_timeout(void **state)
{
	(void)state;
	alarm(TEST_TIMEOUT);
	return 0;
}

static int memfd_of(uint64_t size)
{
	int fd = memfd_create("kvmini-test-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/* Guest RAM of `pages` pages over a page-aligned heap buffer, zeroed. */
static void wrap_pages(struct guest_mem *mem, uint64_t pages)
{
	void *buf = aligned_alloc(PAGE, pages * PAGE);

	assert_non_null(buf);
	memset(buf, 0, pages * PAGE);
	guest_mem_wrap(mem, buf, pages * PAGE);
}

static void unwrap(struct guest_mem *mem)
{
	free(mem->base);
	guest_mem_free(mem);
}

static void fill_page(const struct guest_mem *mem, uint64_t n, uint8_t byte)
{
	memset(mem->base + n * PAGE, byte, PAGE);
}

/* The file's page n is `byte` all through. */
static void expect_file_page(int fd, uint64_t n, uint8_t byte)
{
	static uint8_t got[PAGE], want[PAGE];

	memset(want, byte, PAGE);
	assert_int_equal(pread(fd, got, PAGE, (off_t)(n * PAGE)), PAGE);
	assert_memory_equal(got, want, PAGE);
}

static void expect_file_equals_ram(int fd, const struct guest_mem *mem)
{
	uint8_t *copy = malloc(mem->size);
	struct stat st;

	assert_non_null(copy);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, mem->size);
	assert_int_equal(pread(fd, copy, mem->size, 0), (ssize_t)mem->size);
	assert_memory_equal(copy, mem->base, mem->size);
	free(copy);
}

static void test_full_leaves_holes(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	int fd = memfd_of(0);
	(void)state;

	wrap_pages(&mem, 100);
	fill_page(&mem, 0, 0x11);
	mem.base[4 * PAGE + PAGE - 1] = 0x44; /* one byte at the end of a page makes it data */
	fill_page(&mem, 5, 0x55);
	fill_page(&mem, 99, 0x99);
	/* A stale, longer file: every byte of it must go. */
	{
		uint8_t junk[PAGE];

		memset(junk, 0xee, sizeof(junk));
		for (uint64_t n = 0; n < 120; n++)
			assert_int_equal(pwrite(fd, junk, PAGE, (off_t)(n * PAGE)), PAGE);
	}

	assert_int_equal(snapshot_mem_write_full(&mem, fd, &e), 0);
	expect_file_equals_ram(fd, &mem);
	/* Data where pages 0, 4-5 and 99 are, holes between. */
	assert_int_equal(lseek(fd, 0, SEEK_DATA), 0);
	assert_int_equal(lseek(fd, 0, SEEK_HOLE), PAGE);
	assert_int_equal(lseek(fd, PAGE, SEEK_DATA), 4 * PAGE);
	assert_int_equal(lseek(fd, 4 * PAGE, SEEK_HOLE), 6 * PAGE);
	assert_int_equal(lseek(fd, 6 * PAGE, SEEK_DATA), 99 * PAGE);
	unwrap(&mem);
	close(fd);
}

static void test_full_all_zero_is_one_hole(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	int fd = memfd_of(0);
	struct stat st;
	(void)state;

	wrap_pages(&mem, 64);
	assert_int_equal(snapshot_mem_write_full(&mem, fd, &e), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 64 * PAGE);
	assert_int_equal(st.st_blocks, 0);
	unwrap(&mem);
	close(fd);
}

/* A write that fails (a sealed memfd refuses with EPERM) is one line naming the file and where. */
static void test_write_error(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	int fd = memfd_of(0);
	(void)state;

	wrap_pages(&mem, 8);
	fill_page(&mem, 3, 0x33);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	assert_int_equal(snapshot_mem_write_full(&mem, fd, &e), -EPERM);
	assert_string_equal(e.text, "memory file: write at offset 0x3000: Operation not permitted");
	unwrap(&mem);
	close(fd);
}

static void test_pages_writes_only_the_set_ones(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	uint64_t dirty[3] = { 0 };
	int fd = memfd_of(0);
	(void)state;

	wrap_pages(&mem, 130);
	assert_int_equal(snapshot_bitmap_words(&mem), 3);
	for (uint64_t n = 0; n < 130; n++)
		fill_page(&mem, n, 0xa0);
	assert_int_equal(snapshot_mem_write_full(&mem, fd, &e), 0);

	/* Pages 2, 63-64 (across a word) and 129 change and are set; 9 changes but is not set; 70 is set, unchanged. */
	for (uint64_t n = 0; n < 130; n++)
		fill_page(&mem, n, n == 2 || n == 9 || n == 63 || n == 64 || n == 129 ? 0xb0 : 0xa0);
	dirty[0] = 1ULL << 2 | 1ULL << 63;
	dirty[1] = 1ULL << 0 | 1ULL << 6;
	dirty[2] = 1ULL << 1;
	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, fd, &e), 0);
	for (uint64_t n = 0; n < 130; n++)
		expect_file_page(fd, n, n == 2 || n == 63 || n == 64 || n == 129 ? 0xb0 : 0xa0);
	unwrap(&mem);
	close(fd);
}

static void test_pages_refuses_another_size(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	uint64_t dirty[1] = { 1 };
	int fd = memfd_of(15 * PAGE), pipe_fds[2];
	(void)state;

	wrap_pages(&mem, 16);
	fill_page(&mem, 0, 0x77);
	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, fd, &e), -EINVAL);
	assert_string_equal(e.text,
			    "memory file: 61440 bytes, not the 65536 of this VM's RAM: not its Full snapshot's memory file");
	assert_int_equal(ftruncate(fd, 17 * PAGE), 0);
	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, fd, &e), -EINVAL);
	/* Nothing was written. */
	assert_int_equal(lseek(fd, 0, SEEK_DATA), -1);
	/* Not a regular file at all. */
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, pipe_fds[1], &e), -EINVAL);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	unwrap(&mem);
	close(fd);
}

static void test_map_file_is_private(void **state)
{
	struct guest_mem mem;
	uint64_t size = 4 * MiB;
	int fd = memfd_of(size);
	uint8_t byte;
	(void)state;

	assert_int_equal(pwrite(fd, "kvmini", 6, (off_t)(2 * MiB + 5)), 6);
	assert_int_equal(guest_mem_map_file(&mem, fd, size), 0);
	assert_true(mem.mapped);
	assert_int_equal(mem.size, size);
	assert_int_equal((uintptr_t)mem.base % (2 * MiB), 0);
	assert_int_equal(mem.nr_regions, 1);
	assert_ptr_equal(mem.regions[0].host, mem.base);
	assert_memory_equal(mem.base + 2 * MiB + 5, "kvmini", 6);
	assert_int_equal(mem.base[0], 0);

	/* The guest's writes stay in this process. */
	memset(mem.base, 0x5a, 3 * PAGE);
	mem.base[2 * MiB + 5] = 'K';
	assert_int_equal(pread(fd, &byte, 1, 0), 1);
	assert_int_equal(byte, 0);
	assert_int_equal(pread(fd, &byte, 1, (off_t)(2 * MiB + 5)), 1);
	assert_int_equal(byte, 'k');
	guest_mem_free(&mem);
	assert_null(mem.base);
	close(fd);
}

/* A Full snapshot of a restored VM into the file its RAM comes from would empty it under the VM: refused. */
static void test_full_refuses_its_own_file(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	int fd = memfd_of(2 * MiB), other = memfd_of(0);
	uint64_t dirty[8] = { 0 };
	(void)state;

	assert_int_equal(pwrite(fd, "kept", 4, PAGE), 4);
	assert_int_equal(guest_mem_map_file(&mem, fd, 2 * MiB), 0);
	assert_int_equal(snapshot_mem_write_full(&mem, fd, &e), -EINVAL);
	assert_string_equal(e.text, "memory file: this VM's RAM is mapped from it; a Full snapshot needs another");
	assert_memory_equal(mem.base + PAGE, "kept", 4);
	/* Another file is fine. */
	assert_int_equal(snapshot_mem_write_full(&mem, other, &e), 0);
	expect_file_equals_ram(other, &mem);
	/* A Diff into its own file writes only pages the VM has its own copies of: the file becomes the VM's RAM. */
	memcpy(mem.base + 2 * PAGE, "diff", 4);
	dirty[0] = 1ULL << 2;
	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, fd, &e), 0);
	expect_file_equals_ram(fd, &mem);
	guest_mem_free(&mem);
	close(other);
	close(fd);
}

static void test_map_file_refuses(void **state)
{
	struct guest_mem mem = { 0 };
	int fd = memfd_of(4 * MiB), dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), pipe_fds[2];
	(void)state;

	assert_int_equal(guest_mem_map_file(&mem, fd, 4 * MiB + PAGE), -EINVAL);
	assert_int_equal(guest_mem_map_file(&mem, fd, 4 * MiB - PAGE), -EINVAL);
	assert_true(dir >= 0);
	assert_int_equal(guest_mem_map_file(&mem, dir, 4 * MiB), -EINVAL);
	assert_int_equal(pipe(pipe_fds), 0);
	assert_int_equal(guest_mem_map_file(&mem, pipe_fds[0], 0), -EINVAL);
	assert_int_equal(guest_mem_map_file(&mem, -1, 4 * MiB), -EBADF);
	assert_null(mem.base);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	close(dir);
	close(fd);
}

/*
 * A page given back over a file mapping reads as the file has it again (not
 * zeros: MADV_DONTNEED drops the private copy), and is marked written, since
 * what the guest sees there changed without a guest write.
 */
static void test_discard_over_file(void **state)
{
	struct guest_mem mem;
	uint64_t size = 4 * MiB, out[16] = { 0 };
	int fd = memfd_of(size);
	(void)state;

	assert_int_equal(pwrite(fd, "file", 4, (off_t)(MiB + PAGE)), 4);
	assert_int_equal(guest_mem_map_file(&mem, fd, size), 0);
	assert_int_equal(guest_mem_track_writes(&mem), 0);
	memcpy(mem.base + MiB + PAGE, "gues", 4);
	assert_int_equal(guest_mem_discard(&mem, MiB + PAGE, PAGE), 0);
	assert_memory_equal(mem.base + MiB + PAGE, "file", 4);
	guest_mem_take_written(&mem, out);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(out[i], i == (MiB + PAGE) / PAGE / 64 ? 1ULL << ((MiB + PAGE) / PAGE % 64) : 0);
	guest_mem_free(&mem);
	close(fd);
}

static void test_mark_and_take(void **state)
{
	struct guest_mem mem;
	uint64_t out[4];
	(void)state;

	wrap_pages(&mem, 200);
	/* Not tracking: marks are nothing and take adds nothing. */
	guest_mem_mark_written(&mem, mem.base, PAGE);
	memset(out, 0, sizeof(out));
	guest_mem_take_written(&mem, out);
	assert_int_equal(out[0], 0);

	assert_int_equal(guest_mem_track_writes(&mem), 0);
	assert_int_equal(guest_mem_track_writes(&mem), 0); /* again: the same record */
	guest_mem_mark_written(&mem, mem.base + PAGE - 1, 2);          /* pages 0 and 1 */
	guest_mem_mark_written(&mem, mem.base + 63 * PAGE + 8, 2 * PAGE); /* 63, 64, 65 */
	guest_mem_mark_written(&mem, mem.base + 130 * PAGE, 0);        /* empty */
	guest_mem_mark_written(&mem, mem.base - 16, 8);                /* below RAM */
	guest_mem_mark_written(&mem, mem.base + 200 * PAGE, PAGE);      /* just past it */
	guest_mem_mark_written(&mem, mem.base + 199 * PAGE, 8 * PAGE);  /* runs past the end: cut there */
	memset(out, 0, sizeof(out));
	out[1] = 1ULL << 40; /* take ORs into what the caller has */
	guest_mem_take_written(&mem, out);
	assert_int_equal(out[0], 1ULL << 0 | 1ULL << 1 | 1ULL << 63);
	assert_int_equal(out[1], 1ULL << 0 | 1ULL << 1 | 1ULL << 40);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 1ULL << (199 - 192));

	/* Taking clears. */
	memset(out, 0, sizeof(out));
	guest_mem_take_written(&mem, out);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(out[i], 0);
	unwrap(&mem);
}

/*
 * Above 3 GiB, guest RAM goes on above the hole in the guest but straight on
 * in the mapping and the file: a page written at guest 4 GiB + 4 KiB is file
 * offset 3 GiB + 4 KiB. The memfds stay sparse: only two pages are touched.
 */
static void test_two_regions_keep_file_offsets(void **state)
{
	struct guest_mem mem;
	struct errmsg e = { "" };
	uint64_t size = 3 * GiB + 64 * MiB, *dirty;
	int from = memfd_of(size), to = memfd_of(size);
	uint8_t *page;
	char got[8];
	(void)state;

	assert_int_equal(pwrite(from, "low", 3, PAGE), 3);
	assert_int_equal(guest_mem_map_file(&mem, from, size), 0);
	assert_int_equal(mem.nr_regions, 2);
	assert_ptr_equal(mem.regions[1].host, mem.base + 3 * GiB);
	assert_memory_equal(guest_ptr(&mem, PAGE, 3), "low", 3);
	assert_int_equal(guest_mem_track_writes(&mem), 0);

	page = guest_ptr(&mem, 4 * GiB + PAGE, PAGE);
	assert_non_null(page);
	memcpy(page, "high", 4);
	guest_mem_mark_written(&mem, page, 4);
	dirty = calloc(snapshot_bitmap_words(&mem), sizeof(*dirty));
	assert_non_null(dirty);
	guest_mem_take_written(&mem, dirty);
	assert_int_equal(dirty[(3 * GiB + PAGE) / PAGE / 64], 1ULL << ((3 * GiB + PAGE) / PAGE % 64));

	assert_int_equal(snapshot_mem_write_pages(&mem, dirty, to, &e), 0);
	assert_int_equal(pread(to, got, 4, (off_t)(3 * GiB + PAGE)), 4);
	assert_memory_equal(got, "high", 4);
	assert_int_equal(lseek(to, 0, SEEK_DATA), 3 * GiB + PAGE);
	assert_int_equal(lseek(to, 3 * GiB + PAGE, SEEK_HOLE), 3 * GiB + 2 * PAGE);
	free(dirty);
	guest_mem_free(&mem);
	close(from);
	close(to);
}

#define MARKERS 4
#define ROUNDS 2000
#define RACE_PAGES (64 * 8)

struct race {
	struct guest_mem mem;
	unsigned id;
};

/* Marker i marks pages i, i + MARKERS, ... over and over: the markers share every word of the record. */
static void *marker(void *arg)
{
	struct race *r = arg;

	for (unsigned round = 0; round < ROUNDS; round++)
		for (uint64_t n = r->id; n < RACE_PAGES; n += MARKERS)
			guest_mem_mark_written(&r->mem, r->mem.base + n * PAGE + round % PAGE, 1);
	return NULL;
}

/* Several threads marking while one takes: every mark lands in exactly one take, none is lost. */
static void test_mark_while_taking(void **state)
{
	struct race r[MARKERS];
	struct guest_mem mem;
	pthread_t threads[MARKERS];
	uint64_t seen[RACE_PAGES / 64] = { 0 };
	(void)state;

	wrap_pages(&mem, RACE_PAGES);
	assert_int_equal(guest_mem_track_writes(&mem), 0);
	for (unsigned i = 0; i < MARKERS; i++) {
		r[i] = (struct race){ .mem = mem, .id = i };
		assert_int_equal(pthread_create(&threads[i], NULL, marker, &r[i]), 0);
	}
	for (unsigned i = 0; i < 1000; i++)
		guest_mem_take_written(&mem, seen);
	for (unsigned i = 0; i < MARKERS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	guest_mem_take_written(&mem, seen);
	for (unsigned w = 0; w < RACE_PAGES / 64; w++)
		assert_int_equal(seen[w], ~0ULL);
	/* Everything was taken. */
	memset(seen, 0, sizeof(seen));
	guest_mem_take_written(&mem, seen);
	for (unsigned w = 0; w < RACE_PAGES / 64; w++)
		assert_int_equal(seen[w], 0);
	unwrap(&mem);
}

#define T(fn) cmocka_unit_test_setup(fn, arm_timeout)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_leaves_holes),
		T(test_full_all_zero_is_one_hole),
		T(test_write_error),
		T(test_pages_writes_only_the_set_ones),
		T(test_pages_refuses_another_size),
		T(test_map_file_is_private),
		T(test_full_refuses_its_own_file),
		T(test_map_file_refuses),
		T(test_discard_over_file),
		T(test_mark_and_take),
		T(test_two_regions_keep_file_offsets),
		T(test_mark_while_taking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
