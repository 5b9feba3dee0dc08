// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <asm/e820.h>

#include "boot/e820.h"
#include "boot/layout.h"
#include "guest_mem.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define MAX_ENTRIES 8
/* RAM the map leaves out below 1 MiB: the EBDA, the VGA hole and the BIOS area. */
#define LOW_NOT_RAM (LAYOUT_BIOS_END - LAYOUT_EBDA)

struct want {
	uint64_t addr, size;
	uint32_t type;
};

/* Guest memory as guest_mem_wrap lays it out, without a host buffer: e820_build reads only gpa and size. */
static void fake_mem(struct guest_mem *mem, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	mem->size = size;
	mem->nr_regions = guest_mem_layout(size, mem->regions);
}

static int build(uint64_t size, struct boot_e820_entry *out, unsigned max)
{
	struct guest_mem mem;

	fake_mem(&mem, size);
	return e820_build(&mem, out, max);
}

/* Ordered, non-overlapping, the low reserved areas present, and all RAM accounted for. */
static void check_invariants(const struct boot_e820_entry *map, int n, uint64_t mem_size)
{
	uint64_t ram = 0;
	int ebda = 0, bios = 0;

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		uint64_t addr = map[i].addr, size = map[i].size, end = addr + size;

		assert_true(size > 0);
		assert_true(end > addr);
		if (i > 0)
			assert_true(addr >= map[i - 1].addr + map[i - 1].size);
		if (map[i].type == E820_RAM) {
			ram += size;
			/* No RAM where the BIOS area or the 3-4 GiB hole is. */
			assert_false(addr < LAYOUT_BIOS_END && end > LAYOUT_EBDA);
			assert_false(addr < GUEST_HOLE_END && end > GUEST_HOLE_START);
		} else {
			assert_int_equal(map[i].type, E820_RESERVED);
			ebda |= addr <= LAYOUT_EBDA && end >= 0xa0000;
			bios |= addr <= 0xe0000 && end >= 0x100000;
		}
	}
	assert_true(ebda);
	assert_true(bios);
	assert_int_equal(ram, mem_size - LOW_NOT_RAM);
}

static void check_map(uint64_t mem_size, const struct want *want, int nr_want)
{
	struct boot_e820_entry map[MAX_ENTRIES];
	int n = build(mem_size, map, MAX_ENTRIES);

	assert_int_equal(n, nr_want);
	for (int i = 0; i < n; i++) {
		if (map[i].addr != want[i].addr || map[i].size != want[i].size || map[i].type != want[i].type)
			fail_msg("entry %d: %#llx+%#llx type %u, want %#llx+%#llx type %u", i,
				 (unsigned long long)map[i].addr, (unsigned long long)map[i].size, map[i].type,
				 (unsigned long long)want[i].addr, (unsigned long long)want[i].size, want[i].type);
	}
	check_invariants(map, n, mem_size);
}

#define LOW_ENTRIES(low_end)                                          \
	{ 0, 0x9fc00, E820_RAM }, { 0x9fc00, 0x400, E820_RESERVED },  \
	{ 0xe0000, 0x20000, E820_RESERVED }, { 0x100000, (low_end) - 0x100000, E820_RAM }

static void test_64m(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(64 * MiB) };
	(void)state;

	check_map(64 * MiB, want, 4);
}

static void test_256m(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(256 * MiB) };
	(void)state;

	check_map(256 * MiB, want, 4);
}

static void test_exactly_3g(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(3 * GiB) };
	(void)state;

	check_map(3 * GiB, want, 4);
}

static void test_3584m_splits_around_hole(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(3 * GiB), { 4 * GiB, 512 * MiB, E820_RAM } };
	(void)state;

	check_map(3584 * MiB, want, 5);
}

static void test_8g(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(3 * GiB), { 4 * GiB, 5 * GiB, E820_RAM } };
	(void)state;

	check_map(8 * GiB, want, 5);
}

static void test_just_over_3g(void **state)
{
	static const struct want want[] = { LOW_ENTRIES(3 * GiB), { 4 * GiB, 4096, E820_RAM } };
	(void)state;

	check_map(3 * GiB + 4096, want, 5);
}

/* The same map through guest_mem_wrap, with a real (small-enough) buffer behind it. */
static void test_wrapped_memory(void **state)
{
	struct boot_e820_entry map[MAX_ENTRIES];
	struct guest_mem mem;
	void *buf = malloc(GUEST_MEM_MIN);
	int n;
	(void)state;

	assert_non_null(buf);
	guest_mem_wrap(&mem, buf, GUEST_MEM_MIN);
	n = e820_build(&mem, map, MAX_ENTRIES);
	assert_int_equal(n, 4);
	check_invariants(map, n, GUEST_MEM_MIN);
	assert_int_equal(map[3].size, GUEST_MEM_MIN - LAYOUT_BIOS_END);
	free(buf);
}

static void test_no_space(void **state)
{
	static const struct {
		uint64_t mem_size;
		unsigned needed;
	} cases[] = { { 64 * MiB, 4 }, { 3 * GiB, 4 }, { 3584 * MiB, 5 }, { 8 * GiB, 5 } };
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned max = 0; max <= cases[c].needed; max++) {
			struct boot_e820_entry map[MAX_ENTRIES];
			int want = max < cases[c].needed ? -ENOSPC : (int)cases[c].needed;

			/* Entries past max must stay untouched. */
			memset(map, 0xa5, sizeof(map));
			assert_int_equal(build(cases[c].mem_size, map, max), want);
			for (unsigned i = max; i < MAX_ENTRIES; i++)
				assert_int_equal(map[i].type, 0xa5a5a5a5);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_64m),
		cmocka_unit_test(test_256m),
		cmocka_unit_test(test_exactly_3g),
		cmocka_unit_test(test_3584m_splits_around_hole),
		cmocka_unit_test(test_8g),
		cmocka_unit_test(test_just_over_3g),
		cmocka_unit_test(test_wrapped_memory),
		cmocka_unit_test(test_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
