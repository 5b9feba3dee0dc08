/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The initramfs `kvmini smoke` boots a kernel with: the built-in init
 * (guests/init) as /init, the mount points it uses, and /dev/console so the
 * kernel can give init a console before devtmpfs is mounted.
 */
#ifndef KVMINI_BOOT_INITRAMFS_H
#define KVMINI_BOOT_INITRAMFS_H

#include <stddef.h>
#include <stdint.h>

/* The built init program, placed in kvmini's read-only data by src/boot/init_blob.S. */
extern const uint8_t builtin_init_start[], builtin_init_end[];

/*
 * Builds the archive (cpio newc) in a buffer from malloc, which the caller
 * frees. Returns 0 with *out and *len set, or a negative errno (-ENOMEM).
 */
int builtin_initramfs(uint8_t **out, size_t *len);

#endif
