/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The initramfs `kvmini smoke` boots a kernel with: the built-in init
 * (guests/init) as /init, the mount points it uses, and /dev/console so the
 * kernel can give init a console before devtmpfs is mounted. `kvmini exec`
 * and `run --rootfs` add the init's configuration and modules to it.
 */
#ifndef KVMINI_BOOT_INITRAMFS_H
#define KVMINI_BOOT_INITRAMFS_H

#include <stddef.h>
#include <stdint.h>

/* The built init program, placed in kvmini's read-only data by src/boot/init_blob.S. */
extern const uint8_t builtin_init_start[], builtin_init_end[];

/* An entry added after the init's own: a directory when data is NULL, else a file of len bytes. */
struct initramfs_entry {
	const char *name; /* without a leading '/'; its directory comes before it */
	const void *data;
	size_t len;
};

/*
 * Builds the archive (cpio newc), with the `nr` extra entries after the
 * init's (kvmini exec's configuration and modules), in a buffer from malloc,
 * which the caller frees. Returns 0 with *out and *len set, or a negative
 * errno (-ENOMEM, or the cpio writer's for a bad entry).
 */
int builtin_initramfs(const struct initramfs_entry *extra, size_t nr, uint8_t **out, size_t *len);

#endif
