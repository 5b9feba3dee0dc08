/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Puts a kernel (bzImage or PVH ELF), its initrd, command line and the
 * platform tables (ACPI or MP) into guest memory, and sets the boot vCPU at
 * the kernel's entry point.
 */
#ifndef KVMINI_BOOT_LOADER_H
#define KVMINI_BOOT_LOADER_H

#include "errmsg.h"

struct vm;

int boot_load(struct vm *vm, struct errmsg *e);

#endif
