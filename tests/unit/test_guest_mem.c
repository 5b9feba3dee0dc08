// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void expect_layout(uint64_t ram, unsigned nr, uint64_t low_size, uint64_t high_size)
{
	struct guest_region r[2];

	memset(r, 0xa5, sizeof(r));
	assert_int_equal(guest_mem_layout(ram, r), nr);
	assert_int_equal(r[0].gpa, 0);
	assert_int_equal(r[0].size, low_size);
	if (nr == 2) {
		assert_int_equal(r[1].gpa, GUEST_HOLE_END);
		assert_int_equal(r[1].size, high_size);
	}
}

static void test_layout_below_hole(void **state)
{
	(void)state;
	expect_layout(GUEST_MEM_MIN, 1, GUEST_MEM_MIN, 0);
	expect_layout(512 * MiB, 1, 512 * MiB, 0);
	expect_layout(3 * GiB - 4096, 1, 3 * GiB - 4096, 0);
	expect_layout(3 * GiB, 1, 3 * GiB, 0);
}

static void test_layout_above_hole(void **state)
{
	(void)state;
	expect_layout(3 * GiB + 4096, 2, 3 * GiB, 4096);
	expect_layout(3584 * MiB, 2, 3 * GiB, 512 * MiB);
	expect_layout(4 * GiB, 2, 3 * GiB, 1 * GiB);
	expect_layout(8 * GiB, 2, 3 * GiB, 5 * GiB);
}

static void test_wrap_places_regions(void **state)
{
	static uint8_t buf[64 * 1024];
	struct guest_mem mem;
	(void)state;

	guest_mem_wrap(&mem, buf, sizeof(buf));
	assert_ptr_equal(mem.base, buf);
	assert_int_equal(mem.size, sizeof(buf));
	assert_false(mem.mapped);
	assert_int_equal(mem.nr_regions, 1);
	assert_ptr_equal(mem.regions[0].host, buf);
	assert_int_equal(guest_mem_low_end(&mem), sizeof(buf));
}

static void test_ptr_inside(void **state)
{
	static uint8_t buf[64 * 1024];
	struct guest_mem mem;
	(void)state;

	guest_mem_wrap(&mem, buf, sizeof(buf));
	assert_ptr_equal(guest_ptr(&mem, 0, 1), buf);
	assert_ptr_equal(guest_ptr(&mem, 0, sizeof(buf)), buf);
	assert_ptr_equal(guest_ptr(&mem, 0x1234, 16), buf + 0x1234);
	assert_ptr_equal(guest_ptr(&mem, 0x1234, 0), buf + 0x1234);
}

/* A range may end exactly at the end of RAM; an empty range there is allowed too (one past the end). */
static void test_ptr_at_end(void **state)
{
	static uint8_t buf[64 * 1024];
	const uint64_t end = sizeof(buf);
	struct guest_mem mem;
	(void)state;

	guest_mem_wrap(&mem, buf, sizeof(buf));
	assert_ptr_equal(guest_ptr(&mem, end - 1, 1), buf + end - 1);
	assert_ptr_equal(guest_ptr(&mem, end - 16, 16), buf + end - 16);
	assert_ptr_equal(guest_ptr(&mem, end, 0), buf + end);
	assert_null(guest_ptr(&mem, end, 1));
	assert_null(guest_ptr(&mem, end + 1, 0));
}

static void test_ptr_crossing_end(void **state)
{
	static uint8_t buf[64 * 1024];
	const uint64_t end = sizeof(buf);
	struct guest_mem mem;
	(void)state;

	guest_mem_wrap(&mem, buf, sizeof(buf));
	assert_null(guest_ptr(&mem, end - 1, 2));
	assert_null(guest_ptr(&mem, end - 16, 17));
	assert_null(guest_ptr(&mem, 0, end + 1));
}

static void test_ptr_overflow(void **state)
{
	static uint8_t buf[64 * 1024];
	struct guest_mem mem;
	(void)state;

	guest_mem_wrap(&mem, buf, sizeof(buf));
	assert_null(guest_ptr(&mem, UINT64_MAX, 1));
	assert_null(guest_ptr(&mem, UINT64_MAX, 0));
	assert_null(guest_ptr(&mem, 1, UINT64_MAX));
	assert_null(guest_ptr(&mem, 0, UINT64_MAX));
	assert_null(guest_ptr(&mem, 16, UINT64_MAX - 15));
	assert_null(guest_ptr(&mem, UINT64_MAX, UINT64_MAX));
	assert_null(guest_ptr(&mem, UINT64_MAX - 15, 16));
}

/*
 * The real layout of a 3584M guest, built by hand: the host pointers are small
 * buffers, so only ranges near the start of each region are asked for successfully.
 */
static uint8_t low_buf[4096], high_buf[4096];

static void split_mem(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	mem->size = 3584 * MiB;
	mem->nr_regions = guest_mem_layout(mem->size, mem->regions);
	assert_int_equal(mem->nr_regions, 2);
	mem->regions[0].host = low_buf;
	mem->regions[1].host = high_buf;
}

static void test_ptr_two_regions(void **state)
{
	struct guest_mem mem;
	(void)state;

	split_mem(&mem);
	assert_ptr_equal(guest_ptr(&mem, 0x100, 0x100), low_buf + 0x100);
	assert_ptr_equal(guest_ptr(&mem, GUEST_HOLE_END, 16), high_buf);
	assert_ptr_equal(guest_ptr(&mem, GUEST_HOLE_END + 8, 8), high_buf + 8);
	assert_int_equal(guest_mem_low_end(&mem), GUEST_HOLE_START);
}

static void test_ptr_in_hole(void **state)
{
	struct guest_mem mem;
	(void)state;

	split_mem(&mem);
	assert_null(guest_ptr(&mem, GUEST_HOLE_START, 1));
	assert_null(guest_ptr(&mem, GUEST_HOLE_START + 0x1000, 4));
	assert_null(guest_ptr(&mem, 0xfee00000, 4)); /* the LAPIC */
	assert_null(guest_ptr(&mem, GUEST_HOLE_END - 1, 1));
	assert_null(guest_ptr(&mem, GUEST_HOLE_END - 1, 0));
}

static void test_ptr_crossing_regions(void **state)
{
	struct guest_mem mem;
	(void)state;

	split_mem(&mem);
	assert_null(guest_ptr(&mem, GUEST_HOLE_START - 1, 2));
	assert_null(guest_ptr(&mem, GUEST_HOLE_END - 1, 2));
	/* Both ends are RAM, but the hole lies between them. */
	assert_null(guest_ptr(&mem, GUEST_HOLE_START - 16, GUEST_HOLE_END - GUEST_HOLE_START + 32));
	assert_null(guest_ptr(&mem, 0, 3584 * MiB));
	assert_null(guest_ptr(&mem, GUEST_HOLE_END + 512 * MiB, 1));
	assert_null(guest_ptr(&mem, GUEST_HOLE_END + 512 * MiB - 1, 2));
	assert_null(guest_ptr(&mem, GUEST_HOLE_END, UINT64_MAX));
}

/* Contiguous in guest-physical space but two regions: a range must lie in one. */
static void test_ptr_adjacent_regions(void **state)
{
	static uint8_t a[4096], b[4096];
	struct guest_mem mem = {
		.size = 8192,
		.nr_regions = 2,
		.regions = { { .gpa = 0, .size = 4096, .host = a }, { .gpa = 4096, .size = 4096, .host = b } },
	};
	(void)state;

	assert_ptr_equal(guest_ptr(&mem, 4000, 96), a + 4000);
	assert_ptr_equal(guest_ptr(&mem, 4096, 16), b);
	assert_ptr_equal(guest_ptr(&mem, 8191, 1), b + 4095);
	assert_null(guest_ptr(&mem, 4088, 16));
	assert_null(guest_ptr(&mem, 0, 8192));
}

/* KVM maps guest RAM with 2 MiB pages only if host and guest addresses agree modulo 2 MiB. */
static void test_alloc_is_2mib_aligned(void **state)
{
	struct guest_mem mem;

	(void)state;
	for (int i = 0; i < 4; i++) {
		/* Odd sizes, so earlier mappings leave the next mmap unaligned. */
		assert_int_equal(guest_mem_alloc(&mem, (64ULL << 20) + (uint64_t)i * 4096, false), 0);
		assert_int_equal((uintptr_t)mem.base % (2u << 20), 0);
		((volatile uint8_t *)mem.base)[mem.size - 1] = 1; /* the whole size is usable */
		guest_mem_free(&mem);
		assert_int_equal(guest_mem_alloc(&mem, 8192, false), 0);
		assert_int_equal((uintptr_t)mem.base % (2u << 20), 0);
		guest_mem_free(&mem);
	}
}

/* The balloon's pages go back to the host: zeros on the next touch, and no longer resident. */
static void test_discard(void **state)
{
	struct guest_mem mem;
	unsigned char resident[4];
	(void)state;

	assert_int_equal(guest_mem_alloc(&mem, 64 * MiB, false), 0);
	memset(mem.base + MiB, 0xaa, 4 * GUEST_PAGE_SIZE);
	assert_int_equal(guest_mem_discard(&mem, MiB + GUEST_PAGE_SIZE, 2 * GUEST_PAGE_SIZE), 0);
	assert_int_equal(mincore(mem.base + MiB, 4 * GUEST_PAGE_SIZE, resident), 0);
	assert_true(resident[0] & 1);
	assert_false(resident[1] & 1);
	assert_false(resident[2] & 1);
	assert_true(resident[3] & 1);
	assert_int_equal(mem.base[MiB], 0xaa);
	assert_int_equal(mem.base[MiB + GUEST_PAGE_SIZE], 0);
	assert_int_equal(mem.base[MiB + 3 * GUEST_PAGE_SIZE - 1], 0);
	assert_int_equal(mem.base[MiB + 3 * GUEST_PAGE_SIZE], 0xaa);
	/* Only whole pages of RAM. */
	assert_int_equal(guest_mem_discard(&mem, 64 * MiB, GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(guest_mem_discard(&mem, 64 * MiB - GUEST_PAGE_SIZE, 2 * GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(guest_mem_discard(&mem, MiB + 1, GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(guest_mem_discard(&mem, MiB, 100), -EINVAL);
	assert_int_equal(guest_mem_discard(&mem, MiB, 0), -EINVAL);
	assert_int_equal(guest_mem_discard(&mem, UINT64_MAX & ~(GUEST_PAGE_SIZE - 1), GUEST_PAGE_SIZE), -EINVAL);
	assert_int_equal(mem.base[MiB], 0xaa);
	/* On huge pages the kernel would free whole ones: nothing is given back. */
	mem.hugetlb = true;
	assert_int_equal(guest_mem_discard(&mem, MiB, GUEST_PAGE_SIZE), -EOPNOTSUPP);
	assert_int_equal(mem.base[MiB], 0xaa);
	guest_mem_free(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_below_hole),
		cmocka_unit_test(test_layout_above_hole),
		cmocka_unit_test(test_wrap_places_regions),
		cmocka_unit_test(test_ptr_inside),
		cmocka_unit_test(test_ptr_at_end),
		cmocka_unit_test(test_ptr_crossing_end),
		cmocka_unit_test(test_ptr_overflow),
		cmocka_unit_test(test_ptr_two_regions),
		cmocka_unit_test(test_ptr_in_hole),
		cmocka_unit_test(test_ptr_crossing_regions),
		cmocka_unit_test(test_ptr_adjacent_regions),
		cmocka_unit_test(test_alloc_is_2mib_aligned),
		cmocka_unit_test(test_discard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
