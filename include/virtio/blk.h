/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (src/virtio/blk.c): one device per --drive. The request
 * handling is apart from the queue, so the unit tests run it over a chain of
 * plain buffers and a temporary file.
 */
#ifndef KVMINI_VIRTIO_BLK_H
#define KVMINI_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "errmsg.h"
#include "log.h"
#include "rate_limiter.h"
#include "virtio/virtqueue.h"
#include "vm_config.h"

#define BLK_SECTOR_SIZE 512
/* Drives one VM may have (--drive, PUT /drives/{id}): Kata's root and 8-drive hot-plug pool, and more. */
#define BLK_MAX_DRIVES 16
#define DRIVE_ID_MAX 20 /* VIRTIO_BLK_ID_BYTES */
#define DRIVE_PARTUUID_MAX 63

/* --drive path=FILE[,readonly=on][,cache=none][,id=NAME] */
struct drive_config {
	char path[4096];
	char id[DRIVE_ID_MAX + 1]; /* VIRTIO_BLK_T_GET_ID; default "driveN" */
	bool readonly;
	bool direct; /* cache=none: O_DIRECT */
	bool path_from_api; /* named by an API client: it may not end in a symbolic link (include/open_file.h) */
	/*
	 * The API's cache_type "Unsafe" (its default): VIRTIO_BLK_F_FLUSH is not
	 * offered, so the guest never asks for a flush and writes stay in the
	 * host's page cache until it writes them back. "Writeback" (and --drive)
	 * offer it, and a flush is an fdatasync.
	 */
	bool no_flush;
	bool io_engine_async; /* io_engine "Async": shown back; served by the same synchronous engine */
	char partuuid[DRIVE_PARTUUID_MAX + 1]; /* with the root device: root=PARTUUID=<it> instead of /dev/vdX */
	struct rate_limiter_config rate_limiter; /* the API's rate_limiter: none unless active */
};

/* virtio-blk's configuration: its part of struct vm_config. */
struct blk_config {
	unsigned nr_drives;
	struct drive_config drives[BLK_MAX_DRIVES];
	bool has_root; /* the API's is_root_device: drives[root] is the guest's root=/dev/vdX */
	unsigned root;
};

/* virtio-blk's part of cfg. */
struct blk_config *blk_config_of(struct vm_config *cfg);
const struct blk_config *blk_config_of_const(const struct vm_config *cfg);

/* The host side of one drive. */
struct blk_disk {
	int fd;
	const char *path;  /* for messages */
	uint64_t sectors;  /* capacity in 512-byte sectors */
	bool readonly;
	bool direct;       /* fd has O_DIRECT: data goes through `bounce`, which is aligned */
	uint8_t *bounce;
	char id[VIRTIO_BLK_ID_BYTES]; /* NUL-padded, not NUL-terminated when 20 characters long */
	struct log_limit io_log; /* host I/O errors and requests the guest should not make */
};

/*
 * Opens the drive's file or block device as asked (read-only, O_DIRECT) and
 * sizes it. The message names the drive: "drive 'x.img': No such file or directory".
 */
int blk_disk_open(struct blk_disk *disk, const struct drive_config *cfg, struct errmsg *e);
void blk_disk_close(struct blk_disk *disk);

/*
 * Carries out one request chain: the header from the readable part, the
 * status in the last byte of the writable part. Returns the status written
 * (VIRTIO_BLK_S_*) with the bytes written into the chain in *written, or
 * -EIO when the chain cannot hold a request (header and status), which the
 * device treats as a broken driver.
 */
int blk_request(struct blk_disk *disk, const struct vq_chain *chain, uint32_t *written);

#endif
