/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A matrix cell as a VM: the boot-path axes (include/smoke/matrix.h) turned
 * into the vm_config fields `kvmini run` sets for the same options. Pure.
 */
#ifndef KVMINI_SMOKE_CELL_H
#define KVMINI_SMOKE_CELL_H

#include <stddef.h>

#include "errmsg.h"
#include "smoke/matrix.h"
#include "vm_config.h"

/*
 * Where a kernel build tree keeps the ELF kernel its bzImage was made from:
 * DIR/arch/x86/boot/bzImage gives DIR/vmlinux (the path is not checked).
 * -ENOENT when bzimage is not at that place in a tree, -ENAMETOOLONG.
 */
int cell_vmlinux_beside(const char *bzimage, char *out, size_t size);

/*
 * cfg = base with the cell's cpus and mem, and its axes: transport; acpi
 * off as --no-acpi; boot bzimage boots `kernel`, boot pvh the ELF `vmlinux`
 * (NULL or "": -EINVAL, the cell cannot run); console virtio adds virtio-console and makes hvc0 the
 * kernel's console (console=hvc0 in place of the default console=ttyS0),
 * unless base's --cmdline already names a console. -EINVAL or -E2BIG with
 * a one-line reason.
 */
int cell_config(const struct vm_config *base, const struct matrix_cell *c, const char *kernel, const char *vmlinux,
		struct vm_config *cfg, struct errmsg *e);

#endif
