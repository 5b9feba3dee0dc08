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

#include "blkio.h"
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

/* --drive path=FILE[,readonly=on][,cache=none][,id=NAME][,io=auto|uring|threads] */
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
	bool io_engine_async; /* io_engine "Async": shown back; every drive runs the engine blkio picks */
	enum blkio_engine engine; /* io=: BLKIO_AUTO unless given (the API's drives always are) */
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
	bool direct;       /* fd has O_DIRECT: unaligned guest buffers go through a bounce buffer */
	bool can_discard;  /* the file punches holes: VIRTIO_BLK_F_DISCARD */
	bool can_zero;     /* and zeroes ranges: VIRTIO_BLK_F_WRITE_ZEROES */
	struct blkio *io;  /* NULL until blk_disk_start */
	char id[VIRTIO_BLK_ID_BYTES]; /* NUL-padded, not NUL-terminated when 20 characters long */
	struct log_limit io_log; /* host I/O errors and requests the guest should not make */
};

/* Requests one drive has in flight at most: a queue's worth; a full engine leaves chains in the ring. */
#define BLK_DEPTH 128u
/* DISCARD and WRITE_ZEROES: one segment of at most this many sectors, aligned to BLK_DWZ_ALIGN sectors. */
#define BLK_DWZ_MAX_SECTORS (1u << 21)
#define BLK_DWZ_ALIGN 8u

/*
 * Opens the drive's file or block device as asked (read-only, O_DIRECT),
 * sizes it and finds whether it can punch holes and zero ranges. The
 * message names the drive: "drive 'x.img': No such file or directory".
 */
int blk_disk_open(struct blk_disk *disk, const struct drive_config *cfg, struct errmsg *e);
/* Makes its I/O engine (before the seccomp filters: io_uring_setup is not allowed after). */
int blk_disk_start(struct blk_disk *disk, enum blkio_engine engine, struct errmsg *e);
/* Closes it; its engine must have nothing in flight (or be taken away first). */
void blk_disk_close(struct blk_disk *disk);

/* One request from its chain's pop to its completion: its blkio tag is its address. */
struct blk_req {
	/* The device's: where the chain goes back. */
	unsigned queue;
	uint16_t head;
	uint32_t generation;
	/* blk_request_start's. */
	uint32_t type;     /* VIRTIO_BLK_T_* */
	uint64_t sector;
	size_t len;        /* bytes a read or write moves */
	uint8_t *status;   /* the chain's last writable byte */
	uint8_t *bounce;   /* O_DIRECT with unaligned guest buffers: len aligned bytes; else NULL */
	struct iovec bounce_iov; /* the engine's view of it: valid while in flight */
	unsigned nr_iov;
	struct iovec iov[]; /* the guest's data buffers */
};

/*
 * Starts one request chain: the header from the readable part, the status
 * in the last byte of the writable part. Returns VIRTIO_IN_FLIGHT with the
 * request submitted to the engine (started at the next blkio_commit) in
 * *req; 0 when answered at once (a bad request, GET_ID), the status written
 * and the bytes written in *written; -EAGAIN when the engine is full
 * (nothing done); -EIO when the chain cannot hold a request (header and
 * status), which the device treats as a broken driver.
 */
int blk_request_start(struct blk_disk *disk, const struct vq_chain *chain, struct blk_req **req, uint32_t *written);
/*
 * Finishes a request whose completion was reaped: its status (and a read's
 * data from the bounce buffer) into the chain, req freed. Returns the bytes
 * written into the chain.
 */
uint32_t blk_request_finish(struct blk_disk *disk, struct blk_req *req, int64_t result);
/* Frees a request whose chain the driver no longer owns (a device reset came between): nothing is written. */
void blk_request_free(struct blk_req *req);

#endif
