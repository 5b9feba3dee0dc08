// SPDX-License-Identifier: Apache-2.0
#include "smoke/symbols.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builder {
	struct symtab *t;
	size_t syms_cap;
	size_t names_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int add(struct builder *b, uint64_t addr, uint64_t size, bool text, const char *name, size_t len)
{
	struct symtab *t = b->t;
	int rc;

	if (len == 0 || len > SYMTAB_MAX_NAME)
		return 0;
	if (t->count >= SYMTAB_MAX_SYMBOLS)
		return -E2BIG;
	rc = grow((void **)&t->syms, &b->syms_cap, t->count + 1, sizeof(*t->syms));
	if (!rc)
		rc = grow((void **)&t->names, &b->names_cap, t->names_len + len + 1, 1);
	if (rc)
		return rc;
	memcpy(t->names + t->names_len, name, len);
	t->names[t->names_len + len] = '\0';
	t->syms[t->count++] = (struct symbol){
		.addr = addr, .size = size, .name = (uint32_t)t->names_len, .text = text,
	};
	t->names_len += len + 1;
	return 0;
}

/* Of symbols at one address, the one lookup finds (the last) is text, then sized, then the first defined. */
static int cmp_symbol(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->text != y->text)
		return x->text - y->text;
	if ((x->size != 0) != (y->size != 0))
		return (x->size != 0) - (y->size != 0);
	return x->name < y->name ? 1 : x->name > y->name ? -1 : 0;
}

static int finish(struct symtab *t, int rc)
{
	if (rc) {
		size_t line = t->bad_line;

		symtab_free(t);
		t->bad_line = line;
		return rc;
	}
	if (t->count)
		qsort(t->syms, t->count, sizeof(*t->syms), cmp_symbol);
	return 0;
}

void symtab_free(struct symtab *t)
{
	free(t->syms);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One line, without its newline: "ADDR TYPE NAME". */
static int parse_map_line(struct builder *b, const char *s, size_t len)
{
	uint64_t addr = 0;
	size_t i = 0, name_end;
	char type;

	for (; i < len && hexval(s[i]) >= 0; i++) {
		if (i >= 16)
			return -EINVAL;
		addr = addr << 4 | (uint64_t)hexval(s[i]);
	}
	if (i == 0 || i + 3 > len || s[i] != ' ' || s[i + 2] != ' ')
		return -EINVAL;
	type = s[i + 1];
	i += 3;
	for (name_end = i; name_end < len && s[name_end] != ' ' && s[name_end] != '\t'; name_end++)
		if ((unsigned char)s[name_end] < 0x21 || (unsigned char)s[name_end] > 0x7e)
			return -EINVAL;
	if (name_end == i)
		return -EINVAL;
	return add(b, addr, 0, strchr("tTwW", type) && type, s + i, name_end - i);
}

int symtab_from_map(struct symtab *t, const char *text, size_t len)
{
	struct builder b = { .t = t };
	size_t pos = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		t->bad_line++;
		if (end > pos)
			rc = parse_map_line(&b, text + pos, end - pos);
		pos = end + 1;
	}
	if (!rc)
		t->bad_line = 0;
	return finish(t, rc);
}

/* [off, off + n * size) lies inside a file of len bytes. */
static bool in_file(uint64_t off, uint64_t n, uint64_t size, size_t len)
{
	return size == 0 || (n <= len / size && off <= len && n * size <= len - off);
}

/* Copied out: the file's bytes need not be aligned. The caller has checked the table lies in the file. */
static Elf64_Shdr shdr(const uint8_t *file, const Elf64_Ehdr *eh, uint16_t i)
{
	Elf64_Shdr sh;

	memcpy(&sh, file + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
	return sh;
}

int symtab_from_elf(struct symtab *t, const uint8_t *file, size_t len)
{
	struct builder b = { .t = t };
	Elf64_Ehdr eh;
	Elf64_Shdr sym_sh, str_sh;
	uint64_t nsyms;
	uint16_t i;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (len < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, file, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr), len))
		return -EINVAL;
	for (i = 0; i < eh.e_shnum && shdr(file, &eh, i).sh_type != SHT_SYMTAB; i++)
		;
	if (i == eh.e_shnum)
		return -ENOENT; /* stripped */
	sym_sh = shdr(file, &eh, i);
	if (sym_sh.sh_link >= eh.e_shnum || sym_sh.sh_entsize != sizeof(Elf64_Sym))
		return -EINVAL;
	str_sh = shdr(file, &eh, (uint16_t)sym_sh.sh_link);
	nsyms = sym_sh.sh_size / sizeof(Elf64_Sym);
	if (str_sh.sh_type != SHT_STRTAB || !in_file(str_sh.sh_offset, str_sh.sh_size, 1, len) ||
	    !in_file(sym_sh.sh_offset, nsyms, sizeof(Elf64_Sym), len))
		return -EINVAL;
	for (uint64_t k = 0; k < nsyms && !rc; k++) {
		const char *strtab = (const char *)file + str_sh.sh_offset;
		unsigned type;
		Elf64_Sym s;
		bool text;

		memcpy(&s, file + sym_sh.sh_offset + k * sizeof(s), sizeof(s));
		type = ELF64_ST_TYPE(s.st_info);
		if (s.st_name >= str_sh.sh_size || (type != STT_FUNC && type != STT_NOTYPE && type != STT_OBJECT) ||
		    s.st_shndx == SHN_UNDEF || s.st_shndx >= eh.e_shnum)
			continue;
		/* Code is what lies in an executable section; assembly entry points are NOTYPE there. */
		text = type != STT_OBJECT && (shdr(file, &eh, s.st_shndx).sh_flags & SHF_EXECINSTR);
		rc = add(&b, s.st_value, s.st_size, text, strtab + s.st_name,
			 strnlen(strtab + s.st_name, str_sh.sh_size - s.st_name < SYMTAB_MAX_NAME + 1
							     ? str_sh.sh_size - s.st_name
							     : SYMTAB_MAX_NAME + 1));
	}
	return finish(t, rc);
}

int symtab_lookup(const struct symtab *t, uint64_t addr, char *buf, size_t size)
{
	size_t lo = 0, hi = t->count;
	const struct symbol *s;
	uint64_t off, span;
	int n;

	while (lo < hi) { /* the first symbol above addr */
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	s = &t->syms[lo - 1];
	off = addr - s->addr;
	span = s->size ? s->size : lo < t->count ? t->syms[lo].addr - s->addr : SYMTAB_UNSIZED_SPAN;
	if (!s->text || off >= span)
		return -ENOENT;
	n = snprintf(buf, size, "%s+0x%llx", t->names + s->name, (unsigned long long)off);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
