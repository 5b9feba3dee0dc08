/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `kvmini exec` and `kvmini run --rootfs` both do before the VM is
 * made (src/exec/guest.c): find the guest kernel's release and the modules
 * it needs, write the init's configuration, and build the initramfs around
 * the built-in init that the VM boots from memory.
 */
#ifndef KVMINI_EXEC_GUEST_H
#define KVMINI_EXEC_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"
#include "exec/conf.h"
#include "vm_config.h"

/* The share tag of the guest's root (the host's / or --rootfs DIR). */
#define GUEST_ROOT_TAG "kvmini-root"

/* --rootfs DIR[,readonly=on] and --modules DIR (src/cmd/shared_options.c fills it). */
struct guest_root {
	const char *dir;     /* NULL: exec shares the host's /, run boots as usual */
	bool readonly;
	const char *modules; /* NULL: /lib/modules/RELEASE, if there is one */
};

/*
 * Finds the modules cfg's kernel needs for plan (the transport cfg names,
 * virtio_console for exec, fuse and virtiofs), writes the plan's init.conf
 * and builds the initramfs, which cfg then boots (initrd_data). *initramfs
 * is the buffer to free once the VM is gone. 0, or a negative errno with
 * the reason in e.
 */
int guest_build(struct vm_config *cfg, struct exec_plan *plan, const char *modules_dir, uint8_t **initramfs,
		struct errmsg *e);

#endif
