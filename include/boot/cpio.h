/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A writer for cpio "newc" archives, the format the Linux kernel unpacks as
 * an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
 * each entry is a 110-byte ASCII header of 8-digit hex fields, the
 * NUL-terminated name padded so the data starts at a multiple of 4, then the
 * data padded to a multiple of 4. An entry named TRAILER!!! ends the archive.
 */
#ifndef KVMINI_BOOT_CPIO_H
#define KVMINI_BOOT_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define CPIO_NEWC_MAGIC "070701"
#define CPIO_HEADER_SIZE 110
#define CPIO_TRAILER_NAME "TRAILER!!!"
/* The kernel refuses longer names (PATH_MAX, counting the NUL). */
#define CPIO_NAME_MAX 4095

/*
 * Appends entries to buf[0..size). With buf NULL nothing is written and size
 * is ignored: the writer only counts, so a caller can size a buffer by
 * writing the same entries twice. Entries get inode numbers 1, 2, ... in
 * order, owner 0:0 and mtime 0, so an archive depends only on its contents.
 */
struct cpio_writer {
	uint8_t *buf;
	size_t size;
	size_t len;		/* bytes written (or counted) so far */
	uint32_t next_ino;
};

void cpio_writer_init(struct cpio_writer *w, uint8_t *buf, size_t size);

/*
 * Each adder takes the permission bits (at most 07777; the file type is
 * added here) and returns 0, -EINVAL (empty name, mode beyond 07777),
 * -ENAMETOOLONG (name longer than CPIO_NAME_MAX), -EFBIG (data of 4 GiB or
 * more) or -ENOSPC (the entry does not fit; nothing of it is written).
 */
int cpio_add_dir(struct cpio_writer *w, const char *name, uint32_t perm);
int cpio_add_file(struct cpio_writer *w, const char *name, uint32_t perm, const void *data, size_t data_len);
int cpio_add_chardev(struct cpio_writer *w, const char *name, uint32_t perm, uint32_t major, uint32_t minor);

/* Appends the TRAILER!!! entry that ends the archive: 0 or -ENOSPC. */
int cpio_finish(struct cpio_writer *w);

#endif
