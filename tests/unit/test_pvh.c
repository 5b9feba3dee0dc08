// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot/pvh.h"

#define MAX_PHDRS (PVH_MAX_SEGMENTS + 4)
#define LOAD_PADDR 0x1000000ULL
#define PVH_ENTRY 0x1000040U

/* The whole ELF file: header, program headers, one note area and one segment's bytes. */
static struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uint8_t notes[256];
	uint8_t text[512];
} img;
static size_t notes_len;

#define IMG ((const uint8_t *)&img)

static void add_note(const char *name, uint32_t type, const void *desc, uint32_t desc_len)
{
	Elf64_Nhdr nh = { .n_namesz = strlen(name) + 1, .n_descsz = desc_len, .n_type = type };

	memcpy(img.notes + notes_len, &nh, sizeof(nh));
	notes_len += sizeof(nh);
	memcpy(img.notes + notes_len, name, nh.n_namesz);
	notes_len += (nh.n_namesz + 3) & ~3U;
	memcpy(img.notes + notes_len, desc, desc_len);
	notes_len += (desc_len + 3) & ~3U;
}

static void set_load(unsigned i, uint64_t paddr)
{
	img.ph[i] = (Elf64_Phdr){
		.p_type = PT_LOAD,
		.p_flags = PF_R | PF_X,
		.p_offset = offsetof(struct image, text),
		.p_vaddr = paddr,
		.p_paddr = paddr,
		.p_filesz = sizeof(img.text),
		.p_memsz = 0x2000,
		.p_align = 0x1000,
	};
}

static void set_note(unsigned i)
{
	img.ph[i] = (Elf64_Phdr){
		.p_type = PT_NOTE,
		.p_flags = PF_R,
		.p_offset = offsetof(struct image, notes),
		.p_filesz = notes_len,
		.p_align = 4,
	};
}

/* A PVH kernel: one PT_LOAD at 16 MiB, one PT_NOTE with the Xen PHYS32_ENTRY note. */
static int setup(void **state)
{
	uint32_t entry = PVH_ENTRY;
	(void)state;

	memset(&img, 0, sizeof(img));
	notes_len = 0;
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = 0xffffffff81000000ULL;
	img.eh.e_phoff = offsetof(struct image, ph);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 2;
	for (size_t i = 0; i < sizeof(img.text); i++)
		img.text[i] = (uint8_t)(i * 7);
	add_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, sizeof(entry));
	set_load(0, LOAD_PADDR);
	set_note(1);
	return 0;
}

static void expect_reject(size_t len, const char *fragment)
{
	struct pvh_info info;
	struct errmsg e = { .text = "" };

	assert_int_equal(pvh_parse(IMG, len, &info, &e), -EINVAL);
	if (fragment && !strstr(e.text, fragment))
		fail_msg("error \"%s\" does not mention \"%s\"", e.text, fragment);
}

static void test_good_image(void **state)
{
	struct pvh_info info;
	struct errmsg e = { .text = "" };
	(void)state;

	assert_true(pvh_probe(IMG, sizeof(img)));
	assert_int_equal(pvh_parse(IMG, sizeof(img), &info, &e), 0);
	assert_int_equal(info.entry, PVH_ENTRY);
	assert_int_equal(info.nr_segments, 1);
	assert_int_equal(info.segments[0].offset, offsetof(struct image, text));
	assert_int_equal(info.segments[0].filesz, sizeof(img.text));
	assert_int_equal(info.segments[0].paddr, LOAD_PADDR);
	assert_int_equal(info.segments[0].memsz, 0x2000);
	assert_string_equal(e.text, "");
}

static void test_entry_note_after_others(void **state)
{
	static const uint8_t build_id[20] = { 1, 2, 3 };
	uint32_t other = 0x12345678, entry = 0x00200000;
	struct pvh_info info;
	struct errmsg e;
	(void)state;

	notes_len = 0;
	add_note("GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	add_note("Xen", 5, &other, sizeof(other)); /* XEN_ELFNOTE_XEN_VERSION-like: not the entry */
	add_note("Linux", XEN_ELFNOTE_PHYS32_ENTRY, &other, sizeof(other)); /* right type, wrong owner */
	add_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, sizeof(entry));
	set_note(1);
	assert_int_equal(pvh_parse(IMG, sizeof(img), &info, &e), 0);
	assert_int_equal(info.entry, entry);
}

static void test_segments_in_order_and_other_types_skipped(void **state)
{
	struct pvh_info info;
	struct errmsg e;
	(void)state;

	img.ph[2] = (Elf64_Phdr){ .p_type = PT_GNU_STACK, .p_offset = UINT64_MAX, .p_filesz = UINT64_MAX };
	set_load(3, LOAD_PADDR + 0x100000);
	img.ph[3].p_filesz = 0; /* a .bss-only segment */
	img.eh.e_phnum = 4;
	assert_int_equal(pvh_parse(IMG, sizeof(img), &info, &e), 0);
	assert_int_equal(info.nr_segments, 2);
	assert_int_equal(info.segments[0].paddr, LOAD_PADDR);
	assert_int_equal(info.segments[1].paddr, LOAD_PADDR + 0x100000);
	assert_int_equal(info.segments[1].filesz, 0);
	assert_int_equal(info.segments[1].memsz, 0x2000);
}

static void test_probe(void **state)
{
	static const uint8_t bzimage_start[8] = { 0xeb, 0x5a };
	(void)state;

	assert_true(pvh_probe(IMG, SELFMAG));
	assert_false(pvh_probe(IMG, SELFMAG - 1));
	assert_false(pvh_probe(bzimage_start, sizeof(bzimage_start)));
}

static void test_not_elf(void **state)
{
	(void)state;
	expect_reject(0, "not an ELF");
	expect_reject(EI_NIDENT - 1, "not an ELF");
	img.eh.e_ident[EI_MAG1] = 'X';
	expect_reject(sizeof(img), "not an ELF");
}

static void test_truncated_elf64_header(void **state)
{
	(void)state;
	expect_reject(sizeof(Elf64_Ehdr) - 1, "truncated ELF header");
	expect_reject(EI_NIDENT, NULL);
}

static void test_elfclass32(void **state)
{
	(void)state;
	img.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject(sizeof(img), "32-bit");
}

static void test_other_machine(void **state)
{
	(void)state;
	img.eh.e_machine = EM_AARCH64;
	expect_reject(sizeof(img), "aarch64");
	img.eh.e_machine = EM_386;
	expect_reject(sizeof(img), "i386");
	img.eh.e_machine = EM_SPARCV9;
	expect_reject(sizeof(img), "unknown");
}

static void test_big_endian(void **state)
{
	(void)state;
	img.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_reject(sizeof(img), "big-endian");
}

static void test_not_executable(void **state)
{
	(void)state;
	img.eh.e_type = ET_DYN;
	expect_reject(sizeof(img), "not an executable");
}

static void test_no_entry_note(void **state)
{
	(void)state;
	img.eh.e_phnum = 1;
	expect_reject(sizeof(img), "no PVH entry point");
}

static void test_empty_note_segment(void **state)
{
	(void)state;
	img.ph[1].p_filesz = 0;
	expect_reject(sizeof(img), "no PVH entry point");
}

static void test_entry_note_too_short(void **state)
{
	uint16_t half = 0x1234;
	(void)state;

	notes_len = 0;
	add_note("Xen", XEN_ELFNOTE_PHYS32_ENTRY, &half, sizeof(half));
	set_note(1);
	expect_reject(sizeof(img), "no PVH entry point");
}

static void test_note_past_segment(void **state)
{
	Elf64_Nhdr nh;
	(void)state;

	/* The segment ends inside the descriptor. */
	img.ph[1].p_filesz = notes_len - 2;
	expect_reject(sizeof(img), "malformed note");

	/* The lengths claim far more than the segment holds. */
	img.ph[1].p_filesz = notes_len;
	memcpy(&nh, img.notes, sizeof(nh));
	nh.n_descsz = 0xfffffff0;
	memcpy(img.notes, &nh, sizeof(nh));
	expect_reject(sizeof(img), "malformed note");

	nh.n_descsz = 4;
	nh.n_namesz = 0xffffffff;
	memcpy(img.notes, &nh, sizeof(nh));
	expect_reject(sizeof(img), "malformed note");
}

static void test_phdrs_outside_file(void **state)
{
	(void)state;
	expect_reject(offsetof(struct image, ph) + sizeof(Elf64_Phdr) * 2 - 1, "program headers outside");

	img.eh.e_phoff = sizeof(img) - sizeof(Elf64_Phdr) + 1;
	expect_reject(sizeof(img), "program headers outside");

	img.eh.e_phoff = UINT64_MAX - 8;
	expect_reject(sizeof(img), "program headers outside");

	img.eh.e_phoff = offsetof(struct image, ph);
	img.eh.e_phnum = 0xffff;
	expect_reject(sizeof(img), "program headers outside");

	img.eh.e_phnum = 2;
	img.eh.e_phentsize = sizeof(Elf32_Phdr);
	expect_reject(sizeof(img), "program headers");
}

static void test_segment_outside_file(void **state)
{
	(void)state;
	img.ph[0].p_offset = sizeof(img);
	expect_reject(sizeof(img), "segment 0 lies outside");

	img.ph[0].p_offset = UINT64_MAX - 16;
	expect_reject(sizeof(img), "segment 0 lies outside");

	set_load(0, LOAD_PADDR);
	img.ph[0].p_filesz = sizeof(img);
	img.ph[0].p_memsz = sizeof(img);
	expect_reject(sizeof(img), "segment 0 lies outside");

	/* The segment is the last thing in the file: one byte short is one byte too few. */
	set_load(0, LOAD_PADDR);
	expect_reject(sizeof(img) - 1, "segment 0 lies outside");

	img.ph[1].p_filesz = UINT64_MAX;
	expect_reject(sizeof(img), "segment 1 lies outside");
}

static void test_filesz_over_memsz(void **state)
{
	(void)state;
	img.ph[0].p_memsz = img.ph[0].p_filesz - 1;
	expect_reject(sizeof(img), "more file than memory");
}

static void test_segment_limit(void **state)
{
	struct pvh_info info;
	struct errmsg e;
	(void)state;

	set_note(0);
	for (unsigned i = 1; i <= PVH_MAX_SEGMENTS; i++)
		set_load(i, LOAD_PADDR + i * 0x100000ULL);
	img.eh.e_phnum = PVH_MAX_SEGMENTS + 1;
	assert_int_equal(pvh_parse(IMG, sizeof(img), &info, &e), 0);
	assert_int_equal(info.nr_segments, PVH_MAX_SEGMENTS);
	assert_int_equal(info.segments[PVH_MAX_SEGMENTS - 1].paddr, LOAD_PADDR + PVH_MAX_SEGMENTS * 0x100000ULL);

	set_load(PVH_MAX_SEGMENTS + 1, 0x100000);
	img.eh.e_phnum = PVH_MAX_SEGMENTS + 2;
	expect_reject(sizeof(img), "more than 16 loadable segments");
}

static void test_nothing_to_load(void **state)
{
	(void)state;
	set_note(0);
	img.eh.e_phnum = 1;
	expect_reject(sizeof(img), "nothing to load");
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_image),
		T(test_entry_note_after_others),
		T(test_segments_in_order_and_other_types_skipped),
		T(test_probe),
		T(test_not_elf),
		T(test_truncated_elf64_header),
		T(test_elfclass32),
		T(test_other_machine),
		T(test_big_endian),
		T(test_not_executable),
		T(test_no_entry_note),
		T(test_empty_note_segment),
		T(test_entry_note_too_short),
		T(test_note_past_segment),
		T(test_phdrs_outside_file),
		T(test_segment_outside_file),
		T(test_filesz_over_memsz),
		T(test_segment_limit),
		T(test_nothing_to_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
