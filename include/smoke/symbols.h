/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest kernel's symbol table, to turn a vCPU's RIP into "function+0xoff".
 * Read from a System.map ("ffffffff81000000 T _stext" per line) or from an
 * ELF vmlinux's .symtab (64-bit little-endian); both are untrusted files:
 * every offset is bounds-checked, at most SYMTAB_MAX_SYMBOLS symbols and
 * names of at most SYMTAB_MAX_NAME bytes (longer ones are skipped).
 *
 * Addresses are the link-time ones. kvmini's default command line does not
 * say nokaslr and Debian's kernel is built with RANDOMIZE_BASE, so a guest's
 * RIP is usually slid by a random offset that its registers alone do not
 * reveal. The caller subtracts the slide before symtab_lookup(): 0 when the
 * guest's command line has nokaslr, else the value of the kernel's own
 * "Kernel Offset: 0x... from 0xffffffff81000000" line, which it prints on a
 * panic; with neither, no lookup should be attempted (a wrong slide names
 * wrong functions, which is worse than none).
 */
#ifndef KVMINI_SMOKE_SYMBOLS_H
#define KVMINI_SMOKE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#define SYMTAB_MAX_SYMBOLS (1u << 21) /* a Debian vmlinux has about 150,000 */
#define SYMTAB_MAX_NAME 511           /* the kernel's KSYM_NAME_LEN less its NUL */
/* An unsized symbol's span when no symbol follows it: past this, no name. */
#define SYMTAB_UNSIZED_SPAN 4096

struct symbol {
	uint64_t addr;
	uint64_t size; /* 0: unknown (System.map, assembly symbols) */
	uint32_t name; /* offset into symtab.names */
	uint8_t text;  /* code: only these name an address */
};

struct symtab {
	struct symbol *syms; /* sorted by address */
	size_t count;
	char *names;
	size_t names_len;
	size_t bad_line; /* symtab_from_map's -EINVAL: the 1-based line at fault */
};

/* Each returns 0 (the table may be empty) or a negative errno; -EINVAL for a
 * malformed file. On error the table is left empty; symtab_free() it either way. */
int symtab_from_map(struct symtab *t, const char *text, size_t len);
int symtab_from_elf(struct symtab *t, const uint8_t *file, size_t len);
void symtab_free(struct symtab *t);

/* "name+0xoff" into buf. -ENOENT when addr is in no text symbol (before the
 * first, in data, past the last one's end), -ENOSPC when buf is too small. */
int symtab_lookup(const struct symtab *t, uint64_t addr, char *buf, size_t size);

#endif
