// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the guest kernel's symbol table (src/smoke/symbols.c):
 * the input is read both as a System.map and as an ELF vmlinux, both untrusted
 * files; each table that loads is looked up at addresses taken from it and
 * from the input, which must name a text symbol or none, never read out of
 * bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/symbols.h"

static void probe(const struct symtab *t, const uint8_t *data, size_t size)
{
	char buf[64];

	for (size_t i = 0; i < t->count && i < 64; i++) {
		symtab_lookup(t, t->syms[i].addr, buf, sizeof(buf));
		symtab_lookup(t, t->syms[i].addr - 1, buf, sizeof(buf));
		symtab_lookup(t, t->syms[i].addr + t->syms[i].size, buf, sizeof(buf));
	}
	for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
		uint64_t addr;

		memcpy(&addr, data + i, sizeof(addr));
		symtab_lookup(t, addr, buf, sizeof(buf));
	}
	/* Sorted, as lookup's search assumes. */
	for (size_t i = 1; i < t->count; i++)
		if (t->syms[i - 1].addr > t->syms[i].addr)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct symtab t;

	if (!symtab_from_map(&t, (const char *)data, size))
		probe(&t, data, size);
	symtab_free(&t);
	if (!symtab_from_elf(&t, data, size))
		probe(&t, data, size);
	symtab_free(&t);
	return 0;
}
