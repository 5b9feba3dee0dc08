// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "boot/bzimage.h"

/* Setup header offsets in the file (Documentation/arch/x86/boot.rst). */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_SYSSIZE 0x1f4
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP 0x200
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_LOADFLAGS 0x211
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define HEADER_END 0x26c /* just past kernel_info_offset, the last field kvmini knows */

#define LOADED_HIGH_FLAG 0x01
#define XLF_KERNEL_64_FLAG 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G_FLAG 0x02

#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE 8192
#define IMAGE_SIZE (SETUP_SIZE + KERNEL_SIZE)
#define LOAD_ADDR 0x100000ULL
#define PREF_ADDRESS 0x1000000ULL
#define INIT_SIZE 0x1000000ULL

static uint8_t img[IMAGE_SIZE];

static void put_le(size_t off, uint32_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		img[off + i] = v >> (8 * i);
}

/* A minimal 64-bit bzImage like Debian's: protocol 2.15, relocatable, prefers 16 MiB; 4 setup sectors, 8 KiB of "kernel". */
static void make_image(void)
{
	memset(img, 0, sizeof(img));
	for (size_t i = SETUP_SIZE; i < sizeof(img); i++)
		img[i] = (uint8_t)i;
	img[OFF_SETUP_SECTS] = SETUP_SECTS;
	put_le(OFF_SYSSIZE, KERNEL_SIZE / 16, 4);
	put_le(OFF_BOOT_FLAG, 0xaa55, 2);
	img[OFF_JUMP] = 0xeb; /* jmp short, over the header */
	img[OFF_JUMP + 1] = HEADER_END - OFF_HEADER;
	memcpy(img + OFF_HEADER, "HdrS", 4);
	put_le(OFF_VERSION, 0x020f, 2);
	img[OFF_LOADFLAGS] = LOADED_HIGH_FLAG;
	put_le(OFF_INITRD_ADDR_MAX, 0x7fffffff, 4);
	put_le(OFF_KERNEL_ALIGNMENT, 0x200000, 4);
	img[OFF_RELOCATABLE] = 1;
	put_le(OFF_XLOADFLAGS, XLF_KERNEL_64_FLAG | XLF_CAN_BE_LOADED_ABOVE_4G_FLAG, 2);
	put_le(OFF_CMDLINE_SIZE, 2047, 4);
	put_le(OFF_PREF_ADDRESS, PREF_ADDRESS, 4);
	put_le(OFF_INIT_SIZE, INIT_SIZE, 4);
}

static int setup(void **state)
{
	(void)state;
	make_image();
	return 0;
}

static void expect_reject(size_t len, const char *fragment)
{
	struct bzimage_info info;
	struct errmsg e = { .text = "" };

	assert_int_equal(bzimage_parse(img, len, LOAD_ADDR, &info, &e), -EINVAL);
	if (!strstr(e.text, fragment))
		fail_msg("error \"%s\" does not mention \"%s\"", e.text, fragment);
}

static void test_good_image(void **state)
{
	struct bzimage_info info;
	struct errmsg e = { .text = "" };
	(void)state;

	assert_true(bzimage_probe(img, sizeof(img)));
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.protocol, 0x020f);
	assert_int_equal(info.setup_size, SETUP_SIZE);
	assert_int_equal(info.kernel_size, KERNEL_SIZE);
	assert_int_equal(info.header_end, HEADER_END);
	assert_int_equal(info.init_size, INIT_SIZE);
	assert_int_equal(info.decompress_end, PREF_ADDRESS + INIT_SIZE);
	assert_int_equal(info.initrd_addr_max, 0x7fffffff);
	assert_int_equal(info.cmdline_max, 2047);
	assert_string_equal(e.text, "");
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	img[OFF_SETUP_SECTS] = 0;
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.setup_size, 5 * 512);
	assert_int_equal(info.kernel_size, KERNEL_SIZE);
}

static void test_other_setup_sects(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	img[OFF_SETUP_SECTS] = 2;
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.setup_size, 3 * 512);
	assert_int_equal(info.kernel_size, sizeof(img) - 3 * 512);
}

/* The kernel needs at least its own size in memory, whatever init_size says. */
static void test_init_size_at_least_kernel_size(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	put_le(OFF_INIT_SIZE, 100, 4);
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.init_size, KERNEL_SIZE);
}

/* A relocatable kernel moves up to its preferred address before it decompresses, never down. */
static void test_decompress_end_relocatable(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.decompress_end, PREF_ADDRESS + INIT_SIZE);

	assert_int_equal(bzimage_parse(img, sizeof(img), 0x4000000, &info, &e), 0);
	assert_int_equal(info.decompress_end, 0x4000000 + INIT_SIZE);

	assert_int_equal(bzimage_parse(img, sizeof(img), PREF_ADDRESS, &info, &e), 0);
	assert_int_equal(info.decompress_end, PREF_ADDRESS + INIT_SIZE);

	put_le(OFF_PREF_ADDRESS, LOAD_ADDR, 4);
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.decompress_end, LOAD_ADDR + INIT_SIZE);
}

/* A kernel that cannot relocate runs at its preferred address, so it needs the same room. */
static void test_decompress_end_not_relocatable(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	img[0x234] = 0; /* relocatable_kernel */
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.decompress_end, PREF_ADDRESS + INIT_SIZE);
}

static void test_decompress_end_uses_init_size_floor(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	put_le(OFF_INIT_SIZE, 0, 4);
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.decompress_end, PREF_ADDRESS + KERNEL_SIZE);
}

/* pref_address exists from protocol 2.10; before that the field is something else. */
static void test_pref_address_ignored_before_2_10(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	put_le(OFF_VERSION, 0x0209, 2);
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.decompress_end, LOAD_ADDR + INIT_SIZE);
}

static void test_header_end_capped(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	img[OFF_JUMP + 1] = 0xff;
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.header_end, HEADER_END);
}

/* Fields past the end the jump declares are not part of this (older) header, so they read as 0. */
static void test_short_header_ignores_later_fields(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	img[OFF_JUMP + 1] = OFF_INIT_SIZE - OFF_HEADER;
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.header_end, OFF_INIT_SIZE);
	assert_int_equal(info.init_size, KERNEL_SIZE);
	assert_int_equal(info.cmdline_max, 2047);

	img[OFF_JUMP + 1] = OFF_XLOADFLAGS - OFF_HEADER;
	expect_reject(sizeof(img), "64-bit");
}

static void test_protocol_2_06_accepted(void **state)
{
	struct bzimage_info info;
	struct errmsg e;
	(void)state;

	put_le(OFF_VERSION, 0x0206, 2);
	assert_int_equal(bzimage_parse(img, sizeof(img), LOAD_ADDR, &info, &e), 0);
	assert_int_equal(info.protocol, 0x0206);
}

static void test_probe(void **state)
{
	(void)state;

	assert_true(bzimage_probe(img, OFF_HEADER + 4));
	assert_false(bzimage_probe(img, OFF_HEADER + 3));
	assert_false(bzimage_probe(img, 0));
	img[OFF_HEADER + 3] = 's';
	assert_false(bzimage_probe(img, sizeof(img)));
}

static void test_empty(void **state)
{
	(void)state;
	expect_reject(0, "too small");
}

static void test_too_small(void **state)
{
	(void)state;
	expect_reject(1023, "too small");
	expect_reject(OFF_HEADER + 4, "too small");
}

static void test_no_hdrs_magic(void **state)
{
	(void)state;
	memcpy(img + OFF_HEADER, "HdrT", 4);
	expect_reject(sizeof(img), "no HdrS magic");
}

static void test_no_boot_flag(void **state)
{
	(void)state;
	put_le(OFF_BOOT_FLAG, 0x55aa, 2);
	expect_reject(sizeof(img), "0xAA55");
}

static void test_protocol_too_old(void **state)
{
	(void)state;
	put_le(OFF_VERSION, 0x0205, 2);
	expect_reject(sizeof(img), "too old");
	expect_reject(sizeof(img), "2.05");
}

static void test_no_loaded_high(void **state)
{
	(void)state;
	img[OFF_LOADFLAGS] = 0x80; /* CAN_USE_HEAP alone */
	expect_reject(sizeof(img), "zImage");
}

static void test_no_64bit_entry(void **state)
{
	(void)state;
	put_le(OFF_XLOADFLAGS, XLF_CAN_BE_LOADED_ABOVE_4G_FLAG, 2);
	expect_reject(sizeof(img), "64-bit");
}

static void test_truncated_kernel(void **state)
{
	(void)state;
	put_le(OFF_SYSSIZE, KERNEL_SIZE / 16 + 1, 4);
	expect_reject(sizeof(img), "truncated");

	make_image();
	expect_reject(sizeof(img) - 1, "truncated");
}

static void test_truncated_setup(void **state)
{
	(void)state;
	img[OFF_SETUP_SECTS] = 255;
	expect_reject(sizeof(img), "truncated");
}

static void test_huge_syssize(void **state)
{
	(void)state;
	put_le(OFF_SYSSIZE, 0xffffffff, 4);
	expect_reject(sizeof(img), "truncated");
}

/* kernel_version points (from 0x200) at "RELEASE (builder) #1 ..." in the setup code: its first word. */
static void test_kernel_version(void **state)
{
	static const char text[] = "6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP";
	char version[32];

	(void)state;
	assert_int_equal(bzimage_kernel_version(img, sizeof(img), version, sizeof(version)), -ENOENT);
	memcpy(img + 0x400, text, sizeof(text));
	put_le(0x20e, 0x200, 2);
	assert_int_equal(bzimage_kernel_version(img, sizeof(img), version, sizeof(version)), 0);
	assert_string_equal(version, "6.1.0-57-amd64");
	/* Too long for the buffer, running off the image, or pointing past it: none. */
	assert_int_equal(bzimage_kernel_version(img, sizeof(img), version, 8), -ENOENT);
	assert_int_equal(bzimage_kernel_version(img, 0x404, version, sizeof(version)), -ENOENT);
	put_le(0x20e, 0xffff, 2);
	assert_int_equal(bzimage_kernel_version(img, sizeof(img), version, sizeof(version)), -ENOENT);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_image),
		T(test_setup_sects_zero_means_four),
		T(test_other_setup_sects),
		T(test_init_size_at_least_kernel_size),
		T(test_decompress_end_relocatable),
		T(test_decompress_end_not_relocatable),
		T(test_decompress_end_uses_init_size_floor),
		T(test_pref_address_ignored_before_2_10),
		T(test_header_end_capped),
		T(test_short_header_ignores_later_fields),
		T(test_protocol_2_06_accepted),
		T(test_probe),
		T(test_empty),
		T(test_too_small),
		T(test_no_hdrs_magic),
		T(test_no_boot_flag),
		T(test_protocol_too_old),
		T(test_no_loaded_high),
		T(test_no_64bit_entry),
		T(test_truncated_kernel),
		T(test_truncated_setup),
		T(test_huge_syssize),
		T(test_kernel_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
