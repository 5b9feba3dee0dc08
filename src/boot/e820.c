// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <asm/e820.h>

#include "boot/e820.h"
#include "boot/layout.h"

static int e820_add(struct boot_e820_entry *out, unsigned max, unsigned *n, uint64_t addr, uint64_t size, uint32_t type)
{
	if (*n == max)
		return -ENOSPC;
	out[(*n)++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return 0;
}

int e820_build(const struct guest_mem *mem, struct boot_e820_entry *out, unsigned max)
{
	unsigned n = 0;
	int err;

	/* Guest memory is at least 64 MiB, so the first region always covers the BIOS area. */
	err = e820_add(out, max, &n, 0, LAYOUT_EBDA, E820_RAM);
	err = err ?: e820_add(out, max, &n, LAYOUT_EBDA, 0xa0000 - LAYOUT_EBDA, E820_RESERVED);
	err = err ?: e820_add(out, max, &n, LAYOUT_ACPI, LAYOUT_BIOS_END - LAYOUT_ACPI, E820_RESERVED);
	err = err ?: e820_add(out, max, &n, LAYOUT_BIOS_END, mem->regions[0].size - LAYOUT_BIOS_END, E820_RAM);
	for (unsigned i = 1; i < mem->nr_regions && !err; i++)
		err = e820_add(out, max, &n, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
	return err ?: (int)n;
}
