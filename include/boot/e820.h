/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KVMINI_BOOT_E820_H
#define KVMINI_BOOT_E820_H

#include <asm/bootparam.h>

#include "guest_mem.h"

/* The guest's physical memory map: RAM, with the EBDA and BIOS area reserved. Returns the entry count or -ENOSPC. */
int e820_build(const struct guest_mem *mem, struct boot_e820_entry *out, unsigned max);

#endif
