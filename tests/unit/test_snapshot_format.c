// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "snapshot/format.h"

/* Where the file's fields are (docs/snapshot.md). */
#define VERSION_AT 8
#define FLAGS_AT 12
#define LENGTH_AT 16
#define COUNT_AT 24
#define TABLE_AT 32
#define ENTRY_LEN 24
#define ENTRY_INDEX 4
#define ENTRY_OFFSET 8
#define ENTRY_LENGTH 16

static const struct kvm_cpuid_entry2 vm_cpuid[] = {
	{ .function = 0, .eax = 0xd, .ebx = 0x756e6547 },
	{ .function = 1, .eax = 0x806ec, .ecx = 0x80000001 | 1u << 27, .edx = 0x178bfbff },
	{ .function = 7, .index = 0, .ebx = 0x20 | 0x8, .ecx = 1u << 4 },
};
static const uint32_t vm_msrs[] = { 0x174, 0xc0000080, 0x4b564d01 };

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

/* After a test edits the file, so that only the edit is wrong. */
static void fix_crc(struct state_writer *f)
{
	put_le(f->buf + f->len - 4, crc32c(0, f->buf, f->len - 4), 4);
}

static void build(struct state_writer *file)
{
	struct snapshot_writer w;
	struct errmsg e = { "" };

	snapshot_writer_init(&w);
	snapshot_add_cpuid(&w, vm_cpuid, 3);
	snapshot_add_msr_list(&w, vm_msrs, 3);
	snapshot_add_xsave_size(&w, 4096);
	snapshot_add(&w, SNAPSHOT_VCPU, 0, 2, "vcpu zero", 9);
	snapshot_add(&w, SNAPSHOT_VCPU, 1, 2, "vcpu one", 8);
	snapshot_add(&w, SNAPSHOT_VM, 0, 1, "", 0);
	snapshot_add(&w, SNAPSHOT_DEVICES, 0, 1, "devices blob", 12);
	state_writer_init(file);
	assert_int_equal(snapshot_finish(&w, file, &e), 0);
	snapshot_writer_free(&w);
}

/* Entry i of the table. */
static uint8_t *entry(struct state_writer *f, unsigned i)
{
	return f->buf + TABLE_AT + i * ENTRY_LEN;
}

static void expect_refused(struct state_writer *f, const char *message)
{
	struct snapshot s;
	struct errmsg e = { "" };

	assert_int_equal(snapshot_parse(f->buf, f->len, &s, &e), -EINVAL);
	assert_string_equal(e.text, message);
	assert_null(s.sections);
	state_writer_free(f);
}

static void test_crc32c_known_vectors(void **state)
{
	uint8_t zeros[32] = { 0 }, ones[32];
	(void)state;

	memset(ones, 0xff, sizeof(ones));
	/* The check value of CRC-32C, and RFC 3720's (iSCSI) vectors B.4. */
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* In pieces as in one. */
	assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

static void test_round_trip(void **state)
{
	struct state_writer f;
	struct snapshot s;
	struct errmsg e = { "" };
	const struct snapshot_section *sec;
	(void)state;

	build(&f);
	assert_memory_equal(f.buf, "KVMINISN", 8);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	assert_int_equal(s.nr, 7);
	sec = snapshot_find(&s, SNAPSHOT_VCPU, 1);
	assert_non_null(sec);
	assert_int_equal(sec->version, 2);
	assert_int_equal(sec->len, 8);
	assert_memory_equal(sec->data, "vcpu one", 8);
	sec = snapshot_find(&s, SNAPSHOT_DEVICES, 0);
	assert_non_null(sec);
	assert_memory_equal(sec->data, "devices blob", 12);
	assert_int_equal(snapshot_find(&s, SNAPSHOT_VM, 0)->len, 0);
	assert_null(snapshot_find(&s, SNAPSHOT_VCPU, 2));
	assert_null(snapshot_find(&s, SNAPSHOT_CONFIG, 0));
	snapshot_free(&s);
	state_writer_free(&f);
}

static void test_every_flipped_byte_is_refused(void **state)
{
	struct state_writer f;
	(void)state;

	build(&f);
	for (size_t i = 0; i < f.len; i++) {
		struct snapshot s;
		struct errmsg e = { "" };

		f.buf[i] ^= 0x10;
		assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), -EINVAL);
		assert_true(e.text[0]);
		f.buf[i] ^= 0x10;
	}
	state_writer_free(&f);
}

static void test_every_truncation_is_refused(void **state)
{
	struct state_writer f;
	struct snapshot s;
	struct errmsg e = { "" };
	char want[64];
	(void)state;

	build(&f);
	for (size_t len = 0; len < f.len; len++) {
		assert_int_equal(snapshot_parse(f.buf, len, &s, &e), -EINVAL);
		if (len >= 36) {
			snprintf(want, sizeof(want), "truncated: %zu bytes of %zu", len, f.len);
			assert_string_equal(e.text, want);
		}
	}
	assert_int_equal(snapshot_parse(f.buf, 20, &s, &e), -EINVAL);
	assert_string_equal(e.text, "truncated: 20 bytes, shorter than the header");
	state_writer_free(&f);
}

static void test_trailing_bytes(void **state)
{
	struct state_writer f;
	(void)state;

	build(&f);
	state_put_u16(&f, 0);
	expect_refused(&f, "2 bytes after the end of the snapshot");
}

static void test_bad_magic(void **state)
{
	struct state_writer f;
	struct snapshot s;
	struct errmsg e = { "" };
	(void)state;

	assert_int_equal(snapshot_parse("KVMX", 4, &s, &e), -EINVAL);
	assert_string_equal(e.text, "not a kvmini snapshot (bad magic)");
	build(&f);
	f.buf[7] = 'X';
	fix_crc(&f);
	expect_refused(&f, "not a kvmini snapshot (bad magic)");
}

static void test_unknown_version_and_flags(void **state)
{
	struct state_writer f;
	(void)state;

	build(&f);
	put_le(f.buf + VERSION_AT, 2, 4);
	fix_crc(&f);
	expect_refused(&f, "format version 2, this build reads version 1");
	build(&f);
	put_le(f.buf + FLAGS_AT, 0x100, 4);
	fix_crc(&f);
	expect_refused(&f, "unknown flags 0x100");
}

static void test_crc_mismatch(void **state)
{
	struct state_writer f;
	char want[128];
	uint32_t crc;
	(void)state;

	build(&f);
	crc = crc32c(0, f.buf, f.len - 4);
	f.buf[f.len - 10] ^= 1;
	snprintf(want, sizeof(want), "CRC32C mismatch: the file says 0x%08x, its contents give 0x%08x", crc,
		 crc32c(0, f.buf, f.len - 4));
	expect_refused(&f, want);
}

static void test_section_table_too_big(void **state)
{
	struct state_writer f;
	(void)state;

	build(&f);
	put_le(f.buf + COUNT_AT, SNAPSHOT_MAX_SECTIONS + 1, 4);
	fix_crc(&f);
	expect_refused(&f, "1025 sections, a snapshot holds at most 1024");
	build(&f);
	put_le(f.buf + COUNT_AT, 100, 4);
	fix_crc(&f);
	expect_refused(&f, "the table of 100 sections runs past the end");
}

static void test_section_out_of_range(void **state)
{
	struct state_writer f;
	char want[128];
	size_t data_end;
	(void)state;

	/* Into the table. */
	build(&f);
	data_end = f.len - 4;
	put_le(entry(&f, 3) + ENTRY_OFFSET, TABLE_AT, 8);
	fix_crc(&f);
	snprintf(want, sizeof(want), "section vcpu 0: bytes [32, +9) outside the data [200, %zu)", data_end);
	expect_refused(&f, want);
	/* Over the CRC. */
	build(&f);
	put_le(entry(&f, 6) + ENTRY_LENGTH, 13, 8);
	fix_crc(&f);
	snprintf(want, sizeof(want), "section devices 0: bytes [%zu, +13) outside the data [200, %zu)",
		 data_end - 12, data_end);
	expect_refused(&f, want);
	/* So long that offset + length wraps around. */
	build(&f);
	put_le(entry(&f, 6) + ENTRY_LENGTH, UINT64_MAX, 8);
	fix_crc(&f);
	snprintf(want, sizeof(want), "section devices 0: bytes [%zu, +%llu) outside the data [200, %zu)",
		 data_end - 12, (unsigned long long)UINT64_MAX, data_end);
	expect_refused(&f, want);
}

static void test_overlapping_sections(void **state)
{
	struct state_writer f;
	uint8_t offset[8];
	(void)state;

	/* vCPU 1's bytes start inside vCPU 0's. */
	build(&f);
	memcpy(offset, entry(&f, 3) + ENTRY_OFFSET, 8);
	offset[0] += 8;
	memcpy(entry(&f, 4) + ENTRY_OFFSET, offset, 8);
	fix_crc(&f);
	expect_refused(&f, "section vcpu 1 overlaps section vcpu 0");
}

static void test_table_in_any_order(void **state)
{
	struct state_writer f;
	struct snapshot s;
	struct errmsg e = { "" };
	uint8_t clock[ENTRY_LEN];
	(void)state;

	/* The empty clock section and the devices one start at the same offset: either may come first. */
	build(&f);
	memcpy(clock, entry(&f, 5), ENTRY_LEN);
	memmove(entry(&f, 5), entry(&f, 6), ENTRY_LEN);
	memcpy(entry(&f, 6), clock, ENTRY_LEN);
	fix_crc(&f);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	assert_memory_equal(snapshot_find(&s, SNAPSHOT_DEVICES, 0)->data, "devices blob", 12);
	snapshot_free(&s);
	state_writer_free(&f);
}

static void test_duplicate_and_unknown_sections(void **state)
{
	struct state_writer f;
	(void)state;

	build(&f);
	put_le(entry(&f, 4) + ENTRY_INDEX, 0, 4);
	fix_crc(&f);
	expect_refused(&f, "section vcpu 0 given twice (entries 3 and 4)");
	build(&f);
	put_le(entry(&f, 5), 99, 2);
	fix_crc(&f);
	expect_refused(&f, "section 5: unknown kind 99");
}

static void test_writer_refuses_duplicates(void **state)
{
	struct snapshot_writer w;
	struct state_writer f;
	struct errmsg e = { "" };
	(void)state;

	snapshot_writer_init(&w);
	snapshot_add(&w, SNAPSHOT_VCPU, 3, 1, "a", 1);
	snapshot_add(&w, SNAPSHOT_VCPU, 3, 1, "b", 1);
	state_writer_init(&f);
	assert_int_equal(snapshot_finish(&w, &f, &e), -EINVAL);
	assert_string_equal(e.text, "section vcpu 3 added twice");
	snapshot_writer_free(&w);
	state_writer_free(&f);
}

static void test_writer_refuses_too_many_sections(void **state)
{
	struct snapshot_writer w;
	struct state_writer f;
	struct errmsg e = { "" };
	(void)state;

	snapshot_writer_init(&w);
	for (uint32_t i = 0; i <= SNAPSHOT_MAX_SECTIONS; i++)
		snapshot_add(&w, SNAPSHOT_VCPU, i, 1, "", 0);
	state_writer_init(&f);
	assert_int_equal(snapshot_finish(&w, &f, &e), -EINVAL);
	assert_string_equal(e.text, "1025 sections, a snapshot holds at most 1024");
	assert_int_equal(f.len, 0);
	snapshot_writer_free(&w);
	state_writer_free(&f);
}

/* A host offering what vm_cpuid, vm_msrs and a 4096-byte XSAVE area need, and more. */
static struct kvm_cpuid_entry2 host_cpuid[] = {
	{ .function = 1, .ecx = 0x7ffafbff, .edx = 0xffffffff },
	{ .function = 7, .index = 0, .ebx = 0xffff, .ecx = 0 },
};
static const uint32_t host_msrs[] = { 0x10, 0x174, 0x4b564d01, 0xc0000080 };

static const char *check_host(const struct snapshot_host *host)
{
	static struct errmsg e;
	struct state_writer f;
	struct snapshot s;
	int ret;

	build(&f);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	strcpy(e.text, "");
	ret = snapshot_check_host(&s, host, &e);
	assert_int_equal(ret, e.text[0] ? -EINVAL : 0);
	snapshot_free(&s);
	state_writer_free(&f);
	return e.text;
}

static void test_host_compatibility(void **state)
{
	struct snapshot_host host = { host_cpuid, 2, host_msrs, 4, 4096 };
	(void)state;

	/* OSXSAVE (1.ECX bit 27), the hypervisor bit and OSPKE (7.0 ECX bit 4) are not the host's to offer. */
	assert_string_equal(check_host(&host), "");
	host_cpuid[1].ebx = 0x20;
	assert_string_equal(check_host(&host),
			    "CPUID leaf 0x7.0 EBX bit 3 (a feature the VM saw) is missing on this host");
	host_cpuid[1].ebx = 0xffff;
	host.nr_cpuid = 1;
	assert_string_equal(check_host(&host),
			    "CPUID leaf 0x7.0 EBX bit 3 (a feature the VM saw) is missing on this host");
	host.nr_cpuid = 2;
	host.nr_msrs = 3;
	assert_string_equal(check_host(&host),
			    "MSR 0xc0000080, saved with the VM, is not one this host's KVM saves");
	host.nr_msrs = 4;
	host.xsave_size = 1024;
	assert_string_equal(check_host(&host), "the VM's XSAVE area is 4096 bytes, this host's holds 1024");
}

static void test_compatibility_sections_checked(void **state)
{
	struct snapshot_host host = { host_cpuid, 2, host_msrs, 4, 4096 };
	struct snapshot_writer w;
	struct state_writer f;
	struct snapshot s;
	struct errmsg e = { "" };
	(void)state;

	snapshot_writer_init(&w);
	snapshot_add(&w, SNAPSHOT_CPUID, 0, 1, "short", 5);
	state_writer_init(&f);
	assert_int_equal(snapshot_finish(&w, &f, &e), 0);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	assert_int_equal(snapshot_check_host(&s, &host, &e), -EINVAL);
	assert_string_equal(e.text, "cpuid section of 5 bytes, not a whole number of 28-byte entries");
	snapshot_free(&s);
	state_writer_free(&f);
	snapshot_writer_free(&w);

	snapshot_writer_init(&w);
	snapshot_add_cpuid(&w, vm_cpuid, 3);
	snapshot_add(&w, SNAPSHOT_MSR_LIST, 0, 2, "", 0);
	state_writer_init(&f);
	assert_int_equal(snapshot_finish(&w, &f, &e), 0);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	assert_int_equal(snapshot_check_host(&s, &host, &e), -EINVAL);
	assert_string_equal(e.text, "msr-list section version 2, this build reads version 1");
	snapshot_free(&s);
	state_writer_free(&f);
	snapshot_writer_free(&w);

	snapshot_writer_init(&w);
	snapshot_add_cpuid(&w, vm_cpuid, 3);
	snapshot_add_msr_list(&w, vm_msrs, 3);
	state_writer_init(&f);
	assert_int_equal(snapshot_finish(&w, &f, &e), 0);
	assert_int_equal(snapshot_parse(f.buf, f.len, &s, &e), 0);
	assert_int_equal(snapshot_check_host(&s, &host, &e), -EINVAL);
	assert_string_equal(e.text, "no xsave-size section");
	snapshot_free(&s);
	state_writer_free(&f);
	snapshot_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_flipped_byte_is_refused),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_unknown_version_and_flags),
		cmocka_unit_test(test_crc_mismatch),
		cmocka_unit_test(test_section_table_too_big),
		cmocka_unit_test(test_section_out_of_range),
		cmocka_unit_test(test_overlapping_sections),
		cmocka_unit_test(test_table_in_any_order),
		cmocka_unit_test(test_duplicate_and_unknown_sections),
		cmocka_unit_test(test_writer_refuses_duplicates),
		cmocka_unit_test(test_writer_refuses_too_many_sections),
		cmocka_unit_test(test_host_compatibility),
		cmocka_unit_test(test_compatibility_sections_checked),
	};

	alarm(30); /* pure code, a second at most: a loop gone wrong fails the run instead of hanging it */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
