// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "smoke/symbols.h"

static const char MAP[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T _text\n"
	"ffffffff81001000 t do_one_initcall\n"
	"ffffffff81001200 T native_safe_halt\n"
	"ffffffff81002000 D some_data\n"
	"ffffffff81003000 T _etext\n";

static void expect_name(const struct symtab *t, uint64_t addr, const char *want)
{
	char buf[128];
	int rc = symtab_lookup(t, addr, buf, sizeof(buf));

	if (rc)
		fail_msg("lookup 0x%llx: %d, want %s", (unsigned long long)addr, rc, want);
	assert_string_equal(buf, want);
}

static void expect_none(const struct symtab *t, uint64_t addr)
{
	char buf[128];

	assert_int_equal(symtab_lookup(t, addr, buf, sizeof(buf)), -ENOENT);
}

static void test_map_lookup(void **state)
{
	struct symtab t;

	(void)state;
	assert_int_equal(symtab_from_map(&t, MAP, strlen(MAP)), 0);
	assert_int_equal(t.count, 6);
	expect_name(&t, 0xffffffff81000000, "_stext+0x0"); /* of two at one address, the first listed */
	expect_name(&t, 0xffffffff81001234, "native_safe_halt+0x34");
	expect_name(&t, 0xffffffff81001000, "do_one_initcall+0x0");
	expect_name(&t, 0xffffffff81001fff, "native_safe_halt+0xdff");
	expect_name(&t, 0xffffffff81003fff, "_etext+0xfff");
	expect_none(&t, 0xffffffff80ffffff); /* before the first */
	expect_none(&t, 0xffffffff81002010); /* in data */
	expect_none(&t, 0xffffffff81004000); /* past the last one's plausible end */
	expect_none(&t, 0);
	symtab_free(&t);
}

static void test_map_unsorted_and_small_buffer(void **state)
{
	static const char map[] = "ffffffff81000100 T bb\nffffffff81000000 T a\n";
	static const char crlf[] = "ffffffff81000000 T a\r\n";
	struct symtab t;
	char buf[7];

	(void)state;
	/* A CR is not part of a name: the line is refused. */
	assert_int_equal(symtab_from_map(&t, crlf, strlen(crlf)), -EINVAL);
	assert_int_equal(t.bad_line, 1);
	assert_int_equal(t.count, 0);
	assert_int_equal(symtab_from_map(&t, map, strlen(map)), 0);
	assert_int_equal(symtab_lookup(&t, 0xffffffff81000010, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a+0x10");
	assert_int_equal(symtab_lookup(&t, 0xffffffff81000110, buf, sizeof(buf)), -ENOSPC);
	symtab_free(&t);
}

static void test_map_malformed(void **state)
{
	static const char *const bad[] = {
		"ffffffff81000000 T\n",            /* no name */
		"ffffffff81000000T x\n",           /* no space */
		"1ffffffff81000000 T x\n",         /* 17 digits */
		" ffffffff81000000 T x\n",         /* no address */
		"ffffffff81000000 T x\nzz T y\n",  /* second line */
	};
	struct symtab t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(symtab_from_map(&t, bad[i], strlen(bad[i])), -EINVAL);
		assert_null(t.syms);
	}
	assert_int_equal(t.bad_line, 2);
	/* Blank lines and a missing final newline are fine; so is an empty file. */
	assert_int_equal(symtab_from_map(&t, "\n10 T x", 7), 0);
	assert_int_equal(t.count, 1);
	symtab_free(&t);
	assert_int_equal(symtab_from_map(&t, "", 0), 0);
	expect_none(&t, 0x10);
	symtab_free(&t);
}

/* A tiny vmlinux: header, sections [null, .text (exec), .data, .symtab, .strtab], their bytes after. */
struct tiny_elf {
	Elf64_Ehdr eh;
	Elf64_Shdr sh[5];
	Elf64_Sym sym[6];
	char str[64];
};

static const char STRTAB[] = "\0startup_64\0do_idle\0jiffies\0undef\0huge";

static void build_elf(struct tiny_elf *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_ehsize = sizeof(e->eh);
	e->eh.e_shoff = offsetof(struct tiny_elf, sh);
	e->eh.e_shentsize = sizeof(Elf64_Shdr);
	e->eh.e_shnum = 5;
	e->sh[1] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				 .sh_addr = 0xffffffff81000000, .sh_size = 0x10000 };
	e->sh[2] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE,
				 .sh_addr = 0xffffffff82000000, .sh_size = 0x1000 };
	e->sh[3] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = offsetof(struct tiny_elf, sym),
				 .sh_size = sizeof(e->sym), .sh_link = 4, .sh_entsize = sizeof(Elf64_Sym) };
	e->sh[4] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = offsetof(struct tiny_elf, str),
				 .sh_size = sizeof(STRTAB) };
	memcpy(e->str, STRTAB, sizeof(STRTAB));
	/* sym[0] is the null symbol. An assembly entry point: NOTYPE, no size. */
	e->sym[1] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), .st_shndx = 1,
				 .st_value = 0xffffffff81000000 };
	e->sym[2] = (Elf64_Sym){ .st_name = 12, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1,
				 .st_value = 0xffffffff81000400, .st_size = 0x80 };
	e->sym[3] = (Elf64_Sym){ .st_name = 20, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = 2,
				 .st_value = 0xffffffff82000000, .st_size = 8 };
	e->sym[4] = (Elf64_Sym){ .st_name = 28, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
				 .st_shndx = SHN_UNDEF };
	/* A name offset past the string table: skipped, not read. */
	e->sym[5] = (Elf64_Sym){ .st_name = 4000, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1,
				 .st_value = 0xffffffff81000800, .st_size = 16 };
}

static void test_elf_lookup(void **state)
{
	struct tiny_elf e;
	struct symtab t;

	(void)state;
	build_elf(&e);
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), 0);
	assert_int_equal(t.count, 3);
	expect_name(&t, 0xffffffff81000010, "startup_64+0x10");
	expect_name(&t, 0xffffffff810003ff, "startup_64+0x3ff"); /* unsized: up to the next symbol */
	expect_name(&t, 0xffffffff8100047f, "do_idle+0x7f");
	expect_none(&t, 0xffffffff81000480); /* past do_idle's size */
	expect_none(&t, 0xffffffff82000004); /* data */
	expect_none(&t, 0xffffffff80000000);
	symtab_free(&t);
}

static void test_elf_malformed(void **state)
{
	struct tiny_elf e;
	struct symtab t;

	(void)state;
	build_elf(&e);
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.eh.e_shoff = sizeof(e) - sizeof(Elf64_Shdr); /* table runs past the end */
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.eh.e_shoff = UINT64_MAX - 8; /* wraps */
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.sh[3].sh_size = UINT64_MAX & ~(uint64_t)23; /* symbols past the end */
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.sh[4].sh_offset = sizeof(e) - 2; /* strings past the end */
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.sh[3].sh_link = 9;
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -EINVAL);
	build_elf(&e);
	e.sh[3].sh_type = SHT_PROGBITS; /* stripped */
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), -ENOENT);
	build_elf(&e);
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, 10), -EINVAL);
	assert_null(t.syms);
}

static void test_elf_long_and_unterminated_names(void **state)
{
	struct tiny_elf e;
	struct symtab t;

	(void)state;
	build_elf(&e);
	/* The string table ends inside "huge": the name stops at the table's end, never past it. */
	e.sym[5].st_name = 34;
	e.sh[4].sh_size = 36;
	assert_int_equal(symtab_from_elf(&t, (const uint8_t *)&e, sizeof(e)), 0);
	expect_name(&t, 0xffffffff81000801, "hu+0x1");
	symtab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_lookup),
		cmocka_unit_test(test_map_unsorted_and_small_buffer),
		cmocka_unit_test(test_map_malformed),
		cmocka_unit_test(test_elf_lookup),
		cmocka_unit_test(test_elf_malformed),
		cmocka_unit_test(test_elf_long_and_unterminated_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
