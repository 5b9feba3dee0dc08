// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk: one device per --drive, backed by a raw image file or a block
 * device. The I/O thread checks each request chain and submits it to the
 * drive's blkio engine (io_uring, or a pool of threads); the chain goes back
 * to the driver when its completion is reaped, in whatever order they come.
 */
#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "api/json.h"
#include "api/section.h"
#include "io_thread.h"
#include "kv.h"
#include "open_file.h"
#include "options.h"
#include "state.h"
#include "virtio/blk.h"
#include "virtio/throttle.h"
#include "virtio/virtio.h"

/* O_DIRECT buffers are aligned to this (the bounce buffers; the probe reads into one). */
#define BLK_BOUNCE_ALIGN 4096
#define BLK_HDR_SIZE sizeof(struct virtio_blk_outhdr)
/*
 * What the driver is told a request may hold (VIRTIO_BLK_F_SEG_MAX and
 * F_SIZE_MAX; Linux makes them its queue's max_segments and
 * max_segment_size): segments of at most a page, and as many as a chain
 * has room for besides the header and the status. So a request carries at
 * most 1016 KiB of data, about Linux's default largest request
 * (max_sectors_kb: 512 or 1280 KiB by version).
 */
#define BLK_SIZE_MAX 4096
#define BLK_SEG_MAX (VQ_CHAIN_MAX - 2)
#define BLK_REQUEST_MAX (BLK_HDR_SIZE + (size_t)BLK_SEG_MAX * BLK_SIZE_MAX + 1)
/* Host I/O errors and impossible requests a drive may log before it goes quiet. */
#define BLK_IO_ERROR_BURST 10
/*
 * Queues with VIRTIO_BLK_F_MQ: one per vCPU, up to 4.
 * They share the drive's one engine: the one I/O thread serves them all, so
 * an engine each would only add rings and threads, and a shared one lets a
 * FLUSH on any queue cover the writes of all of them, as the guest means it.
 */
#define BLK_QUEUES_MAX 4
static_assert(BLK_QUEUES_MAX <= VIRTIO_QUEUES_MAX, "the core carries blk's queues");
/* Completions handed back per batch (one interrupt per queue per batch). */
#define BLK_REAP_BATCH 32
/* How long a reset, pause, file swap or teardown waits for the requests in flight. */
#define BLK_DRAIN_MS 10000

static int blk_disk_size(struct blk_disk *disk, uint64_t *bytes, bool *block_dev, struct errmsg *e)
{
	struct stat st;

	if (fstat(disk->fd, &st))
		return errmsg_set(e, errno, "drive '%s': %s", disk->path, strerror(errno));
	/* open_file took a regular file or a block device, nothing else. */
	*block_dev = !S_ISREG(st.st_mode);
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (ioctl(disk->fd, BLKGETSIZE64, bytes))
		return errmsg_set(e, errno, "drive '%s': cannot read its size: %s", disk->path, strerror(errno));
	return 0;
}

/*
 * Some file systems accept O_DIRECT at open and refuse it at the first read,
 * or need more than 512-byte alignment; better to say so now than fail every
 * guest request. The buffer is 512-byte aligned only, as guest buffers that
 * go straight to the engine are.
 */
static int blk_disk_probe_direct(struct blk_disk *disk, struct errmsg *e)
{
	uint8_t *buf;
	ssize_t got = 0;

	if (posix_memalign((void **)&buf, BLK_BOUNCE_ALIGN, 2 * BLK_SECTOR_SIZE))
		return errmsg_set(e, ENOMEM, "drive '%s': no memory for its O_DIRECT probe", disk->path);
	if (disk->sectors)
		got = pread(disk->fd, buf + BLK_SECTOR_SIZE, BLK_SECTOR_SIZE, 0);
	free(buf);
	if (got < 0)
		return errmsg_set(e, errno, "drive '%s': cache=none: a 512-byte O_DIRECT read fails (%s); "
				  "use cache=writeback", disk->path, strerror(errno));
	return 0;
}

/*
 * Whether fallocate takes `mode` on this file, asked where it changes no
 * data: past the end, size kept (an extent made there is punched again). A
 * block device refuses a range past its end (EINVAL) only once it took the mode.
 */
static bool blk_disk_probe_fallocate(struct blk_disk *disk, uint64_t bytes, bool block_dev, int mode)
{
	const off_t at = (off_t)((bytes + BLK_BOUNCE_ALIGN - 1) / BLK_BOUNCE_ALIGN * BLK_BOUNCE_ALIGN);

	if (!fallocate(disk->fd, mode | FALLOC_FL_KEEP_SIZE, at, BLK_BOUNCE_ALIGN)) {
		if (!(mode & FALLOC_FL_PUNCH_HOLE))
			(void)!fallocate(disk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, BLK_BOUNCE_ALIGN);
		return true;
	}
	return block_dev && errno == EINVAL;
}

int blk_disk_open(struct blk_disk *disk, const struct drive_config *cfg, struct errmsg *e)
{
	uint64_t bytes;
	bool block_dev;
	int fd, err;

	*disk = (struct blk_disk){
		.fd = -1,
		.path = cfg->path,
		.readonly = cfg->readonly,
		.direct = cfg->direct,
		.io_log = LOG_LIMIT("virtio-blk I/O errors", BLK_IO_ERROR_BURST),
	};
	memcpy(disk->id, cfg->id, strnlen(cfg->id, sizeof(disk->id)));
	fd = open_file("drive", cfg->path, cfg->readonly ? O_RDONLY : O_RDWR, OPEN_REGULAR | OPEN_BLOCK_DEV,
		       cfg->path_from_api, e);
	if (fd == -EROFS || (fd == -EACCES && !cfg->readonly && !access(cfg->path, R_OK)))
		return errmsg_set(e, -fd, "drive '%s': %s (readonly=on opens it read-only)", cfg->path, strerror(-fd));
	if (fd < 0)
		return fd;
	disk->fd = fd;
	/* O_DIRECT only now: an open with it fails (EINVAL) on a FIFO or a directory before its kind is known. */
	if (cfg->direct && fcntl(disk->fd, F_SETFL, O_DIRECT)) {
		err = errno == EINVAL ? errmsg_set(e, EINVAL, "drive '%s': cache=none: the file system refuses O_DIRECT; "
						   "use cache=writeback", cfg->path)
				      : errmsg_set(e, errno, "drive '%s': %s", cfg->path, strerror(errno));
		goto fail;
	}
	/* Two writers (or a writer and a reader) of one image corrupt what the guests see. */
	if (flock(disk->fd, (cfg->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		err = errmsg_set(e, errno, "drive '%s': %s", cfg->path,
				 errno == EWOULDBLOCK ? "in use by another drive or program" : strerror(errno));
		goto fail;
	}
	if ((err = blk_disk_size(disk, &bytes, &block_dev, e)))
		goto fail;
	if (bytes % BLK_SECTOR_SIZE)
		log_debug("drive '%s': its size, %llu bytes, is not a whole number of sectors; the guest sees %llu",
			  cfg->path, (unsigned long long)bytes,
			  (unsigned long long)(bytes / BLK_SECTOR_SIZE * BLK_SECTOR_SIZE));
	disk->sectors = bytes / BLK_SECTOR_SIZE;
	if (cfg->direct && (err = blk_disk_probe_direct(disk, e)))
		goto fail;
	if (!cfg->readonly) {
		disk->can_discard = blk_disk_probe_fallocate(disk, bytes, block_dev, FALLOC_FL_PUNCH_HOLE);
		disk->can_zero = blk_disk_probe_fallocate(disk, bytes, block_dev, FALLOC_FL_ZERO_RANGE);
	}
	return 0;
fail:
	blk_disk_close(disk);
	return err;
}

int blk_disk_start(struct blk_disk *disk, enum blkio_engine engine, struct errmsg *e)
{
	int err = blkio_create(&disk->io, disk->fd, BLK_DEPTH, engine);

	if (err)
		return errmsg_set(e, -err, "drive '%s': cannot start its I/O engine: %s", disk->path, strerror(-err));
	return 0;
}

void blk_disk_close(struct blk_disk *disk)
{
	blkio_destroy(disk->io);
	disk->io = NULL;
	if (disk->fd >= 0)
		close(disk->fd);
	disk->fd = -1;
}

/* The iovecs covering bytes [skip, skip + len) of iov[0, n); returns how many were filled in out. */
static unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *out)
{
	unsigned nr = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t part = iov[i].iov_len;

		if (skip >= part) {
			skip -= part;
			continue;
		}
		part -= skip;
		if (part > len)
			part = len;
		out[nr++] = (struct iovec){ .iov_base = (uint8_t *)iov[i].iov_base + skip, .iov_len = part };
		skip = 0;
		len -= part;
	}
	return nr;
}

/* O_DIRECT takes memory and lengths in whole logical blocks only. */
static bool iov_aligned(const struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) % BLK_SECTOR_SIZE)
			return false;
	return true;
}

/* The status byte's place: the last byte of the chain's writable part (in_len >= 1). */
static uint8_t *status_byte(const struct vq_chain *c)
{
	for (unsigned i = c->nr_out + c->nr_in; i-- > c->nr_out;)
		if (c->iov[i].iov_len)
			return (uint8_t *)c->iov[i].iov_base + c->iov[i].iov_len - 1;
	return NULL;
}

static bool blk_range_ok(const struct blk_disk *disk, uint64_t sector, uint64_t sectors)
{
	return sector <= disk->sectors && sectors <= disk->sectors - sector;
}

/* A read or write's checks: its status, VIRTIO_BLK_S_OK when it may go to the engine. */
static uint8_t blk_rw_check(struct blk_disk *disk, uint64_t sector, size_t len, bool write)
{
	const char *what = write ? "write" : "read";

	if (len % BLK_SECTOR_SIZE) {
		log_limited(&disk->io_log, "drive '%s': a %s of %zu bytes, not whole sectors", disk->path, what, len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!blk_range_ok(disk, sector, len / BLK_SECTOR_SIZE)) {
		log_limited(&disk->io_log, "drive '%s': a %s of %zu bytes at sector %llu, beyond its %llu sectors",
			    disk->path, what, len, (unsigned long long)sector, (unsigned long long)disk->sectors);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write && disk->readonly) {
		log_limited(&disk->io_log, "drive '%s': the guest wrote to a read-only drive", disk->path);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * A DISCARD or WRITE_ZEROES: one segment (what Linux sends for a single
 * range), checked as the spec says: a feature not offered, more segments
 * or flags it does not know are UNSUPP; a range that is empty, too long,
 * unaligned or past the end is IOERR. *op is what the engine does.
 */
static uint8_t blk_dwz_check(struct blk_disk *disk, const struct vq_chain *c, uint32_t type, uint64_t *sector,
			     uint64_t *sectors, enum blkio_op *op)
{
	const bool zero = type == VIRTIO_BLK_T_WRITE_ZEROES;
	const char *what = zero ? "write-zeroes" : "discard";
	const size_t segs = c->out_len - BLK_HDR_SIZE;
	struct virtio_blk_discard_write_zeroes seg;
	uint32_t flags;

	if (zero ? !disk->can_zero : !disk->can_discard)
		return VIRTIO_BLK_S_UNSUPP;
	if (segs != sizeof(seg)) {
		log_limited(&disk->io_log, "drive '%s': a %s of %zu bytes of segments, not one of %zu", disk->path,
			    what, segs, sizeof(seg));
		return segs && segs % sizeof(seg) == 0 ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
	}
	vq_chain_read(c, BLK_HDR_SIZE, &seg, sizeof(seg));
	*sector = le64toh(seg.sector);
	*sectors = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	/* Unmapped or zeroed, the range reads back as zeroes: an unmapping WRITE_ZEROES punches a hole. */
	*op = zero && !(flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ? BLKIO_WRITE_ZEROES : BLKIO_DISCARD;
	if (flags & ~(uint32_t)(zero ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0)) {
		log_limited(&disk->io_log, "drive '%s': a %s with flags %#x", disk->path, what, flags);
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (*op == BLKIO_DISCARD && !disk->can_discard)
		return VIRTIO_BLK_S_UNSUPP;
	if (!*sectors || *sectors > BLK_DWZ_MAX_SECTORS || (*sector | *sectors) % BLK_DWZ_ALIGN ||
	    !blk_range_ok(disk, *sector, *sectors)) {
		log_limited(&disk->io_log, "drive '%s': a %s of %llu sectors at sector %llu: empty, over %u, "
			    "not aligned to %u or beyond its %llu sectors", disk->path, what,
			    (unsigned long long)*sectors, (unsigned long long)*sector, BLK_DWZ_MAX_SECTORS,
			    BLK_DWZ_ALIGN, (unsigned long long)disk->sectors);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* A request for the engine, its data buffers the guest's (or a bounce buffer) for a read or write. */
static struct blk_req *blk_req_new(struct blk_disk *disk, const struct vq_chain *c, uint32_t type, uint64_t sector,
				   size_t len)
{
	const bool write = type == VIRTIO_BLK_T_OUT;
	const unsigned max = type == VIRTIO_BLK_T_IN ? c->nr_in : type == VIRTIO_BLK_T_OUT ? c->nr_out : 0;
	struct blk_req *req = calloc(1, sizeof(*req) + max * sizeof(req->iov[0]));

	if (!req)
		return NULL;
	req->type = type;
	req->sector = sector;
	req->len = len;
	req->status = status_byte(c);
	if (max)
		req->nr_iov = write ? iov_slice(c->iov, c->nr_out, BLK_HDR_SIZE, len, req->iov)
				    : iov_slice(c->iov + c->nr_out, c->nr_in, 0, len, req->iov);
	if (!disk->direct || !len || iov_aligned(req->iov, req->nr_iov))
		return req;
	if (posix_memalign((void **)&req->bounce, BLK_BOUNCE_ALIGN, len)) {
		free(req);
		return NULL;
	}
	req->bounce_iov = (struct iovec){ .iov_base = req->bounce, .iov_len = len };
	if (write)
		vq_chain_read(c, BLK_HDR_SIZE, req->bounce, len);
	return req;
}

void blk_request_free(struct blk_req *req)
{
	free(req->bounce);
	free(req);
}

/* The engine's request for req: op, range, and the buffers it reads or fills. */
static int blk_req_submit(struct blk_disk *disk, struct blk_req *req, enum blkio_op op, uint64_t sectors)
{
	/* FLUSH covers the writes before it; a DISCARD or WRITE_ZEROES must not pass a write of its range. */
	const struct blkio_req r = {
		.op = op,
		.flags = op == BLKIO_READ || op == BLKIO_WRITE ? 0 : BLKIO_BARRIER,
		.offset = req->sector * BLK_SECTOR_SIZE,
		.len = sectors * BLK_SECTOR_SIZE,
		.iov = req->bounce ? &req->bounce_iov : req->iov,
		.iovcnt = req->bounce ? 1 : req->nr_iov,
		.tag = (uintptr_t)req,
	};

	return blkio_submit(disk->io, &r);
}

int blk_request_start(struct blk_disk *disk, const struct vq_chain *chain, struct blk_req **out, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;
	uint64_t sector, sectors = 0;
	enum blkio_op op = BLKIO_FLUSH;
	struct blk_req *req;
	uint8_t status = VIRTIO_BLK_S_OK;
	size_t len = 0, id_len;
	uint32_t type;
	int err;

	if (chain->out_len < sizeof(hdr) || chain->in_len < 1)
		return -EIO;
	if (blkio_in_flight(disk->io) >= BLK_DEPTH)
		return -EAGAIN;
	vq_chain_read(chain, 0, &hdr, sizeof(hdr));
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	*written = 1;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		op = type == VIRTIO_BLK_T_IN ? BLKIO_READ : BLKIO_WRITE;
		len = op == BLKIO_WRITE ? chain->out_len - BLK_HDR_SIZE : chain->in_len - 1;
		status = blk_rw_check(disk, sector, len, op == BLKIO_WRITE);
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_dwz_check(disk, chain, type, &sector, &sectors, &op);
		break;
	case VIRTIO_BLK_T_GET_ID:
		id_len = chain->in_len - 1 < sizeof(disk->id) ? chain->in_len - 1 : sizeof(disk->id);
		vq_chain_write(chain, 0, disk->id, id_len);
		*written += (uint32_t)id_len;
		vq_chain_write(chain, chain->in_len - 1, &status, 1);
		return 0;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	/* A read or write of nothing has nothing to wait for. */
	if (status != VIRTIO_BLK_S_OK || ((op == BLKIO_READ || op == BLKIO_WRITE) && !len)) {
		vq_chain_write(chain, chain->in_len - 1, &status, 1);
		return 0;
	}
	if (!(req = blk_req_new(disk, chain, type, sector, len))) {
		log_limited(&disk->io_log, "drive '%s': no memory for a request", disk->path);
		status = VIRTIO_BLK_S_IOERR;
		vq_chain_write(chain, chain->in_len - 1, &status, 1);
		return 0;
	}
	if ((err = blk_req_submit(disk, req, op, sectors))) {
		log_limited(&disk->io_log, "drive '%s': the I/O engine refused a request: %s", disk->path,
			    strerror(-err));
		blk_request_free(req);
		status = VIRTIO_BLK_S_IOERR;
		vq_chain_write(chain, chain->in_len - 1, &status, 1);
		return 0;
	}
	*out = req;
	return VIRTIO_IN_FLIGHT;
}

static const char *blk_type_name(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return "read";
	case VIRTIO_BLK_T_OUT:
		return "write";
	case VIRTIO_BLK_T_FLUSH:
		return "flush";
	case VIRTIO_BLK_T_DISCARD:
		return "discard";
	default:
		return "write-zeroes";
	}
}

/*
 * The rest of a short read or write, on this thread: rare (a file system
 * filling up, a file that shrank) and going on is what says which it is,
 * ENOSPC or nothing more to read. Bytes moved in all, or a negative errno.
 */
static int64_t blk_finish_short(struct blk_disk *disk, const struct blk_req *req, int64_t done)
{
	const struct iovec *iov = req->bounce ? &req->bounce_iov : req->iov;
	const unsigned nr = req->bounce ? 1 : req->nr_iov;
	struct iovec rest[VQ_CHAIN_MAX];

	while ((uint64_t)done < req->len) {
		const unsigned cnt = iov_slice(iov, nr, (size_t)done, req->len - (size_t)done, rest);
		const off_t at = (off_t)(req->sector * BLK_SECTOR_SIZE + (uint64_t)done);
		ssize_t got = req->type == VIRTIO_BLK_T_OUT ? pwritev(disk->fd, rest, (int)cnt, at)
							    : preadv(disk->fd, rest, (int)cnt, at);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (!got)
			break;
		done += got;
	}
	return done;
}

uint32_t blk_request_finish(struct blk_disk *disk, struct blk_req *req, int64_t result)
{
	const bool moves_data = req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_OUT;
	uint8_t status = VIRTIO_BLK_S_OK;
	uint32_t written = 1;

	if (moves_data && result >= 0 && (uint64_t)result < req->len)
		result = blk_finish_short(disk, req, result);
	if (result < 0) {
		log_limited(&disk->io_log, "drive '%s': %s of %zu bytes at sector %llu: %s", disk->path,
			    blk_type_name(req->type), req->len, (unsigned long long)req->sector,
			    strerror((int)-result));
		status = VIRTIO_BLK_S_IOERR;
	} else if (moves_data && (uint64_t)result != req->len) {
		log_limited(&disk->io_log, "drive '%s': %s of %zu bytes at sector %llu: only %lld (did the file "
			    "shrink?)", disk->path, blk_type_name(req->type), req->len,
			    (unsigned long long)req->sector, (long long)result);
		status = VIRTIO_BLK_S_IOERR;
	} else if (req->type == VIRTIO_BLK_T_IN) {
		/* Only a successful read fills the buffers; it is then less than 2 GiB (one request). */
		for (size_t i = 0, done = 0; req->bounce && i < req->nr_iov; done += req->iov[i++].iov_len)
			memcpy(req->iov[i].iov_base, req->bounce + done, req->iov[i].iov_len);
		written += (uint32_t)req->len;
	}
	*req->status = status;
	blk_request_free(req);
	return written;
}

/* --- The virtio device around a disk. --- */

struct blk_dev {
	struct virtio_dev vdev;
	struct virtio_blk_config config;
	struct blk_disk disk;
	struct virtio_throttle throttle; /* the drive's rate_limiter, over all its queues */
	struct drive_config drive; /* how the disk was opened; disk.path is its path, which PATCH /drives changes */
	struct io_thread *io;      /* which watches the engine's eventfd */
	unsigned serving;          /* the queue blk_serve takes chains from */
	unsigned waiting;          /* queues stopped for the rate limiter or a full engine: looked at again */
	uint32_t generation;       /* a reset's: completions of requests from before it go to no ring */
	/* For the stats, which read them without the lock: requests in flight, and finished. */
	uint64_t in_flight, completed;
	const char *engine;        /* blkio_engine_name: the engine stays while the device lives */
};

static int blk_malformed(struct virtio_dev *dev, const struct vq_chain *chain)
{
	virtio_device_error(dev, "a request of %zu readable and %zu writable bytes has no room for its header and status",
			    chain->out_len, chain->in_len);
	return -EIO;
}

static int blk_serve(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct blk_dev *blk = dev->priv;
	/* The data a read or write moves, whichever it is: what lies between the header and the status. */
	uint64_t data = chain->out_len >= BLK_HDR_SIZE && chain->in_len >= 1
				? chain->out_len - BLK_HDR_SIZE + chain->in_len - 1
				: 0;
	struct blk_req *req;
	int r;

	/* A full engine takes nothing until a completion makes room: nor should the limiter count it. */
	if (blkio_in_flight(blk->disk.io) >= BLK_DEPTH || !virtio_throttle_take(&blk->throttle, 1, data)) {
		blk->waiting |= 1u << blk->serving;
		return -EAGAIN;
	}
	r = blk_request_start(&blk->disk, chain, &req, written);
	if (r == VIRTIO_IN_FLIGHT) {
		req->queue = blk->serving;
		req->head = chain->head;
		req->generation = blk->generation;
		__atomic_store_n(&blk->in_flight, blkio_in_flight(blk->disk.io), __ATOMIC_RELAXED);
	}
	return r >= 0 || r == -EAGAIN ? r : blk_malformed(dev, chain);
}

/* A request over BLK_REQUEST_MAX, which the driver was told not to make: VIRTIO_BLK_S_IOERR, the disk untouched. */
static int blk_refuse(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct blk_dev *blk = dev->priv;
	const uint8_t status = VIRTIO_BLK_S_IOERR;

	if (!chain->in_len)
		return blk_malformed(dev, chain);
	log_limited(&blk->disk.io_log, "drive '%s': a request of %zu bytes, over the %zu-byte limit it was given",
		    blk->disk.path, chain->out_len + chain->in_len, (size_t)BLK_REQUEST_MAX);
	vq_chain_write(chain, chain->in_len - 1, &status, 1);
	*written = 1;
	return 0;
}

/*
 * Hands back what the engine finished, at most a full engine's worth (its
 * eventfd stays readable for the rest); one interrupt per queue. Chains
 * from before a reset go nowhere. Queues that stopped for a full engine
 * are looked at again. With dev->lock held.
 */
static void blk_reap(struct blk_dev *blk)
{
	struct blkio_completion done[BLK_REAP_BATCH];
	unsigned pushed = 0, total = 0;
	int n;

	do {
		if ((n = blkio_reap(blk->disk.io, done, BLK_REAP_BATCH)) < 0) {
			log_limited(&blk->disk.io_log, "drive '%s': reaping completions: %s", blk->disk.path,
				    strerror(-n));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct blk_req *req = (struct blk_req *)(uintptr_t)done[i].tag;
			const unsigned q = req->queue;
			const uint16_t head = req->head;

			__atomic_store_n(&blk->completed, blk->completed + 1, __ATOMIC_RELAXED);
			if (req->generation != blk->generation) {
				blk_request_free(req);
				continue;
			}
			pushed |= 1u << q;
			virtio_queue_complete(&blk->vdev, q, head, blk_request_finish(&blk->disk, req, done[i].result));
		}
		total += (unsigned)n;
	} while (n == BLK_REAP_BATCH && total < BLK_DEPTH);
	__atomic_store_n(&blk->in_flight, blkio_in_flight(blk->disk.io), __ATOMIC_RELAXED);
	for (unsigned q = 0; q < blk->vdev.nr_queues; q++) {
		if (pushed & (1u << q))
			virtio_queue_done(&blk->vdev, q);
		if (total && (blk->waiting & (1u << q)))
			virtio_queue_kick(&blk->vdev, q);
	}
	if (total)
		blk->waiting = 0;
}

/* The engine's eventfd: completions are waiting. I/O thread. */
static void blk_on_complete(void *ctx, uint32_t events)
{
	struct blk_dev *blk = ctx;

	(void)events;
	pthread_mutex_lock(&blk->vdev.lock);
	blk_reap(blk);
	pthread_mutex_unlock(&blk->vdev.lock);
}

/*
 * Waits (at most BLK_DRAIN_MS) for every request in flight and hands each
 * back (or drops it, after a reset). 0, or -ETIMEDOUT with requests still
 * in flight, which the caller reports. With dev->lock held.
 */
static int blk_drain(struct blk_dev *blk, const char *why)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += BLK_DRAIN_MS / 1000;
	while (blk->disk.io && blkio_in_flight(blk->disk.io)) {
		long left_ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0 || blkio_wait(blk->disk.io, (int)left_ms) == -ETIMEDOUT) {
			log_error("%s: %s: %u requests still in flight after %d ms", blk->vdev.name, why,
				  blkio_in_flight(blk->disk.io), BLK_DRAIN_MS);
			return -ETIMEDOUT;
		}
		blk_reap(blk);
	}
	return 0;
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct blk_dev *blk = dev->priv;
	unsigned queues = blk->waiting | 1u << q;
	int err;

	/* Kicks while the rate limiter waits are remembered: its timer resumes the queue it names, and so all. */
	if (virtio_throttle_waiting(&blk->throttle)) {
		blk->waiting = queues;
		return;
	}
	blk->waiting = 0;
	for (blk->serving = 0; blk->serving < dev->nr_queues; blk->serving++)
		if (queues & (1u << blk->serving) && dev->vqs[blk->serving].started)
			virtio_queue_serve(dev, blk->serving, blk_serve);
	/* One system call starts what every queue submitted. */
	if ((err = blkio_commit(blk->disk.io)))
		log_limited(&blk->disk.io_log, "drive '%s': starting requests: %s", blk->disk.path, strerror(-err));
}

/* A reset leaves nothing for the driver: what is in flight is waited for, and its chains dropped. */
static void blk_reset(struct virtio_dev *dev)
{
	struct blk_dev *blk = dev->priv;

	blk->generation++;
	blk->waiting = 0;
	blk_drain(blk, "reset");
}

static void blk_pause(struct virtio_dev *dev)
{
	blk_drain(dev->priv, "pause");
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct blk_dev *blk = dev->priv;

	if (blk->disk.io) {
		blk->generation++;
		/* Requests that never end keep the engine and their buffers: the process is ending anyway. */
		if (blk_drain(blk, "teardown"))
			blk->disk.io = NULL;
		else
			event_loop_remove(&blk->io->loop, blkio_event_fd(blk->disk.io));
	}
	virtio_throttle_close(&blk->throttle);
	blk_disk_close(&blk->disk);
	free(blk);
}

/*
 * Nothing is in flight to save: a pause hands back every request (blk_pause)
 * before the save, and a request its rate limiter or a full engine holds
 * back stays in the ring. What the guest sees beyond the core's state is the capacity it
 * read, which a restore reads again from the reopened file: so the saved
 * one is checked against it.
 */
static void blk_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct blk_dev *blk = dev->priv;

	state_put_u64(w, le64toh(blk->config.capacity));
}

static int blk_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct blk_dev *blk = dev->priv;
	uint64_t sectors = state_get_u64(r, "capacity");

	if (state_ok(r) && sectors != blk->disk.sectors)
		return state_invalid(r, "capacity", "drive '%s': %llu sectors, the guest saw %llu (the file changed "
				     "since the snapshot)", blk->disk.path, (unsigned long long)blk->disk.sectors,
				     (unsigned long long)sectors);
	return r->err;
}

static void blk_stats(struct virtio_dev *dev, struct device_stats *row)
{
	struct blk_dev *blk = dev->priv;

	row->engine = blk->engine;
	row->in_flight = __atomic_load_n(&blk->in_flight, __ATOMIC_RELAXED);
	row->completed = __atomic_load_n(&blk->completed, __ATOMIC_RELAXED);
}

static const struct virtio_dev_ops blk_ops = {
	.queue_notify = blk_queue_notify,
	.refuse = blk_refuse,
	.reset = blk_reset,
	.pause = blk_pause,
	.stats = blk_stats,
	.destroy = blk_destroy,
	.save = blk_save,
	.restore = blk_restore,
};

static unsigned blk_count(const void *config)
{
	const struct blk_config *blk_cfg = config;

	return blk_cfg->nr_drives;
}

/* What the driver is told of the drive: its size, request limits, queues, and DISCARD and WRITE_ZEROES'. */
static void blk_fill_config(struct blk_dev *blk)
{
	struct virtio_blk_config *c = &blk->config;

	c->capacity = htole64(blk->disk.sectors);
	c->size_max = htole32(BLK_SIZE_MAX);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(BLK_SECTOR_SIZE);
	c->num_queues = htole16((uint16_t)blk->vdev.nr_queues);
	c->max_discard_sectors = htole32(BLK_DWZ_MAX_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(BLK_DWZ_ALIGN);
	c->max_write_zeroes_sectors = htole32(BLK_DWZ_MAX_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = blk->disk.can_discard;
}

static int blk_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		      struct errmsg *e)
{
	const struct drive_config *cfg = &((const struct blk_config *)config)->drives[index];
	struct blk_dev *blk = calloc(1, sizeof(*blk));
	int err;

	if (!blk)
		return errmsg_set(e, ENOMEM, "drive '%s': out of memory", cfg->path);
	blk->drive = *cfg;
	blk->io = host->io;
	if ((err = blk_disk_open(&blk->disk, &blk->drive, e)) || (err = blk_disk_start(&blk->disk, cfg->engine, e)))
		goto fail;
	blk->engine = blkio_engine_name(blk->disk.io);
	if ((err = io_thread_add(host->io, blkio_event_fd(blk->disk.io), EPOLLIN, blk_on_complete, blk))) {
		errmsg_set(e, -err, "drive '%s': cannot watch its I/O engine: %s", cfg->path, strerror(-err));
		goto fail;
	}
	blk->vdev.ops = &blk_ops;
	blk->vdev.priv = blk;
	blk->vdev.device_id = VIRTIO_ID_BLOCK;
	snprintf(blk->vdev.name, sizeof(blk->vdev.name), "virtio-blk%u", index);
	blk->vdev.nr_queues = host->nr_cpus < 1 ? 1 : host->nr_cpus > BLK_QUEUES_MAX ? BLK_QUEUES_MAX : host->nr_cpus;
	blk->vdev.request_max = BLK_REQUEST_MAX;
	blk->vdev.device_features = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
				    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (cfg->no_flush ? 0 : 1ULL << VIRTIO_BLK_F_FLUSH) |
				    (cfg->readonly ? 1ULL << VIRTIO_BLK_F_RO : 0) |
				    (blk->vdev.nr_queues > 1 ? 1ULL << VIRTIO_BLK_F_MQ : 0) |
				    (blk->disk.can_discard ? 1ULL << VIRTIO_BLK_F_DISCARD : 0) |
				    (blk->disk.can_zero ? 1ULL << VIRTIO_BLK_F_WRITE_ZEROES : 0);
	blk_fill_config(blk);
	blk->vdev.config = (uint8_t *)&blk->config;
	blk->vdev.config_size = sizeof(blk->config);
	virtio_throttle_init(&blk->throttle, &blk->vdev, 0, &cfg->rate_limiter);
	log_debug("%s: drive '%s', %llu sectors%s%s, id '%s', %u queue%s, engine %s%s%s", blk->vdev.name, cfg->path,
		  (unsigned long long)blk->disk.sectors, cfg->readonly ? ", read-only" : "",
		  cfg->direct ? ", O_DIRECT" : "", cfg->id, blk->vdev.nr_queues, blk->vdev.nr_queues > 1 ? "s" : "",
		  blk->engine, blk->disk.can_discard ? ", discard" : "",
		  blk->disk.can_zero ? ", write-zeroes" : "");
	*dev = &blk->vdev;
	return 0;
fail:
	blk_disk_close(&blk->disk);
	free(blk);
	return err;
}

/* --drive path=FILE[,readonly=on|off][,cache=none|writeback][,id=NAME][,io=auto|uring|threads] */
enum { DRIVE_PATH, DRIVE_READONLY, DRIVE_CACHE, DRIVE_ID, DRIVE_IO, DRIVE_KEYS };
static const char *const drive_keys[DRIVE_KEYS] = { "path", "readonly", "cache", "id", "io" };

/* io=: the engine, by its blkio_engine value; uring fails at the start where io_uring cannot run. */
static int parse_io(const struct kv_item *it, enum blkio_engine *out, struct errmsg *e)
{
	static const char *const names[] = { [BLKIO_AUTO] = "auto", [BLKIO_IO_URING] = "uring",
					     [BLKIO_THREADS] = "threads" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == it->value_len && !memcmp(names[i], it->value, it->value_len)) {
			*out = (enum blkio_engine)i;
			return 0;
		}
	return errmsg_set(e, EINVAL, "io '%.*s': must be auto, uring or threads", (int)it->value_len, it->value);
}

static int parse_drive(const char *arg, struct drive_config *d, struct errmsg *e)
{
	unsigned seen = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, drive_keys, DRIVE_KEYS, &seen, e)) < 0)
			return err ? err : key;
		switch (key) {
		case DRIVE_PATH:
			err = kv_string(&it, d->path, sizeof(d->path), e);
			break;
		case DRIVE_READONLY:
			err = kv_choice(&it, "off", "on", &d->readonly, e);
			break;
		case DRIVE_CACHE:
			err = kv_choice(&it, "writeback", "none", &d->direct, e);
			break;
		case DRIVE_IO:
			err = parse_io(&it, &d->engine, e);
			break;
		case DRIVE_ID:
			err = kv_string(&it, d->id, sizeof(d->id), e);
			/* The guest shows it as the disk's serial (/sys/block/vda/serial, /dev/disk/by-id). */
			for (const char *c = d->id; !err && *c; c++)
				if (!isgraph((unsigned char)*c))
					err = errmsg_set(e, EINVAL, "id '%s': printable characters only, no spaces",
							 d->id);
			break;
		}
	}
	if (!err && !(seen & (1u << DRIVE_PATH)))
		err = errmsg_set(e, EINVAL, "missing path= (e.g. --drive path=disk.img)");
	return err;
}

/* One --drive value, appended to the drives; the id defaults to "drive<index>". */
static int add_drive(void *blk_config, const char *arg, struct errmsg *e)
{
	struct blk_config *cfg = blk_config;
	struct drive_config d = { .readonly = false };
	int err;

	if (cfg->nr_drives == BLK_MAX_DRIVES)
		return errmsg_set(e, EINVAL, "--drive: at most %d drives", BLK_MAX_DRIVES);
	if ((err = parse_drive(arg, &d, e)))
		return kv_option_error(e, "--drive", arg);
	if (!d.id[0])
		snprintf(d.id, sizeof(d.id), "drive%u", cfg->nr_drives);
	cfg->drives[cfg->nr_drives++] = d;
	return 0;
}

static const struct option_spec blk_options[] = {
	{ "drive", 0, "path=FILE[,readonly=on|off][,cache=none|writeback][,id=NAME][,io=auto|uring|threads]",
	  "a virtio-blk disk backed by FILE (raw image or block device);\n"
	  "repeatable, up to " OPTION_TEXT(BLK_MAX_DRIVES) "; id (at most " OPTION_TEXT(DRIVE_ID_MAX)
	  " characters) is its serial;\nio: its I/O engine (auto: io_uring, else threads)", add_drive, 0 },
	{ .name = NULL },
};

/* ---- its section of the API and the config file: PUT /drives/{id}, "drives": [...] ---- */

/* One drive as a client describes it. */
struct drive_item {
	struct drive_config drive; /* id is the drive_id */
	bool root;                 /* is_root_device */
};

static_assert(sizeof(struct drive_item) <= API_ITEM_MAX, "a drive fits a configuration change");

/* One of Firecracker's two-valued enums: *second set for b, cleared for a, untouched when not given (""). */
static int read_choice(const char *field, const char *value, const char *a, const char *b, bool *second,
		       struct errmsg *e)
{
	if (!value[0])
		return 0;
	if (strcmp(value, a) && strcmp(value, b))
		return errmsg_set(e, EINVAL, "'%s' must be \"%s\" or \"%s\", not \"%s\"", field, a, b, value);
	*second = !strcmp(value, b);
	return 0;
}

/*
 * As at the start, but now: a client learns of a missing file from its PUT
 * (and a PATCH), not from InstanceStart. A path the API thread may not look
 * at (with --uid it runs as that user from the start) is left to the open,
 * which comes before kvmini drops its privileges.
 */
static int check_path(const char *path, struct errmsg *e)
{
	int err;

	if (!path[0])
		return errmsg_set(e, EINVAL, "'path_on_host' is empty");
	err = check_file("drive", path, OPEN_REGULAR | OPEN_BLOCK_DEV, true, e);
	return err == -EACCES ? 0 : err;
}

static int drive_parse(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct drive_item *item = (struct drive_item *)c->item;
	struct drive_config *d = &item->drive;
	char cache_type[16] = "", io_engine[16] = "";
	const char *rate_limiter = NULL;
	size_t rate_limiter_len = 0;
	bool writeback = false;
	const struct json_field f[] = {
		{ .name = "drive_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "path_on_host", .type = JSON_STRING, .required = true, .str = d->path,
		  .str_cap = sizeof(d->path) },
		{ .name = "is_root_device", .type = JSON_BOOL, .required = true, .boolean = &item->root },
		{ .name = "is_read_only", .type = JSON_BOOL, .boolean = &d->readonly },
		{ .name = "partuuid", .type = JSON_STRING, .str = d->partuuid, .str_cap = sizeof(d->partuuid) },
		{ .name = "cache_type", .type = JSON_STRING, .str = cache_type, .str_cap = sizeof(cache_type) },
		{ .name = "io_engine", .type = JSON_STRING, .str = io_engine, .str_cap = sizeof(io_engine) },
		{ .name = "rate_limiter", .type = JSON_OBJECT, .object = &rate_limiter,
		  .object_len = &rate_limiter_len },
	};
	int err;

	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!c->id[0] || strlen(c->id) > DRIVE_ID_MAX)
		return errmsg_set(e, EINVAL, "'drive_id' must have 1 to %d characters (it is the disk's serial)",
				  DRIVE_ID_MAX);
	/* It goes on the kernel command line: one word of the characters a PARTUUID (and /PARTNROFF=) has. */
	for (const char *p = d->partuuid; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-/=", *p))
			return errmsg_set(e, EINVAL, "'partuuid' must be letters, digits, '-', '/' and '=', not \"%s\"",
					  d->partuuid);
	memcpy(d->id, c->id, strlen(c->id) + 1);
	d->path_from_api = true;
	if ((err = read_choice("cache_type", cache_type, "Unsafe", "Writeback", &writeback, e)) ||
	    (err = read_choice("io_engine", io_engine, "Sync", "Async", &d->io_engine_async, e)) ||
	    (err = rate_limiter_config_parse("rate_limiter", rate_limiter, rate_limiter_len, &d->rate_limiter, e)))
		return err;
	d->no_flush = !writeback;
	return check_path(d->path, e);
}

/* A drive with a new id is added, one with a known id replaced; one root device at most. */
static int drive_put(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct drive_item *item = (const struct drive_item *)c->item;
	struct blk_config *blk = config;
	unsigned i;

	for (i = 0; i < blk->nr_drives && strcmp(blk->drives[i].id, c->id); i++)
		;
	if (i == BLK_MAX_DRIVES)
		return errmsg_set(e, EINVAL, "at most %d drives", BLK_MAX_DRIVES);
	if (item->root && blk->has_root && blk->root != i)
		return errmsg_set(e, EINVAL, "drive '%s' is already the root device; there can be only one",
				  blk->drives[blk->root].id);
	blk->drives[i] = item->drive;
	if (i == blk->nr_drives)
		blk->nr_drives++;
	if (item->root) {
		blk->has_root = true;
		blk->root = i;
	} else if (blk->has_root && blk->root == i) {
		blk->has_root = false;
	}
	return 0;
}

static void drives_format(const void *config, struct json_out *j)
{
	const struct blk_config *blk = config;

	for (unsigned i = 0; i < blk->nr_drives; i++) {
		const struct drive_config *d = &blk->drives[i];

		json_object_begin(j, NULL);
		json_put_string(j, "drive_id", d->id);
		json_put_string(j, "path_on_host", d->path);
		json_put_bool(j, "is_root_device", blk->has_root && blk->root == i);
		if (d->partuuid[0])
			json_put_string(j, "partuuid", d->partuuid);
		json_put_bool(j, "is_read_only", d->readonly);
		json_put_string(j, "cache_type", d->no_flush ? "Unsafe" : "Writeback");
		json_put_string(j, "io_engine", d->io_engine_async ? "Async" : "Sync");
		rate_limiter_config_format(j, "rate_limiter", &d->rate_limiter);
		json_object_end(j);
	}
}

/*
 * The root device is the guest's root file system: by its partition's UUID
 * when given, else its disk in the order the guest finds them, vda first.
 */
static int drives_boot_args(const void *config, char *out, size_t size)
{
	const struct blk_config *blk = config;
	const struct drive_config *root = &blk->drives[blk->root];

	if (!blk->has_root)
		return 0;
	if (root->partuuid[0])
		return snprintf(out, size, "root=PARTUUID=%s %s", root->partuuid, root->readonly ? "ro" : "rw");
	return snprintf(out, size, "root=/dev/vd%c %s", 'a' + blk->root, root->readonly ? "ro" : "rw");
}

/* ---- PATCH /drives/{id} after the start: a new backing file (Kata's disk hot-plug), a new rate limiter ---- */

struct drive_patch {
	char path[sizeof(((struct drive_config *)0)->path)]; /* "": keep the file */
	bool has_rate_limiter;
	struct rate_limiter_update rate_limiter; /* the buckets given replace the old ones, as in Firecracker */
};

static_assert(sizeof(struct drive_patch) <= API_ITEM_MAX, "a drive's PATCH fits a configuration change");

static int drive_parse_patch(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct drive_patch *p = (struct drive_patch *)c->item;
	const char *rate_limiter = NULL;
	size_t rate_limiter_len = 0;
	bool has_path = false;
	const struct json_field f[] = {
		{ .name = "drive_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "path_on_host", .type = JSON_STRING, .present = &has_path, .str = p->path,
		  .str_cap = sizeof(p->path) },
		{ .name = "rate_limiter", .type = JSON_OBJECT, .present = &p->has_rate_limiter, .object = &rate_limiter,
		  .object_len = &rate_limiter_len },
	};
	int err;

	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!has_path && !p->has_rate_limiter)
		return errmsg_set(e, EINVAL, "nothing to change: give 'path_on_host' or 'rate_limiter'");
	if (rate_limiter && (err = rate_limiter_update_parse(rate_limiter, rate_limiter_len, &p->rate_limiter, e)))
		return errmsg_prefix(e, -err, "'rate_limiter': ");
	return has_path ? check_path(p->path, e) : 0;
}

/* The drive named id: its index among the VM's, or -EINVAL (Firecracker answers 400). */
static int drive_index(const struct blk_config *blk, const char *id, struct errmsg *e)
{
	for (unsigned i = 0; i < blk->nr_drives; i++)
		if (!strcmp(blk->drives[i].id, id))
			return (int)i;
	return errmsg_set(e, EINVAL, "no drive '%s'", id);
}

/* The configuration follows the device, so GET /vm/config shows what the guest has. */
static int drive_patch_config(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct drive_patch *p = (const struct drive_patch *)c->item;
	struct blk_config *blk = config;
	int i = drive_index(blk, c->id, e);

	if (i < 0)
		return i;
	if (p->path[0])
		memcpy(blk->drives[i].path, p->path, sizeof(p->path));
	if (p->has_rate_limiter)
		rate_limiter_config_update(&blk->drives[i].rate_limiter, &p->rate_limiter);
	return 0;
}

/* The running drive's rate limiter takes the update at once: a queue waiting for it looks again. */
static int blk_update_rate_limiter(struct blk_dev *blk, const struct rate_limiter_update *u)
{
	pthread_mutex_lock(&blk->vdev.lock);
	virtio_throttle_update(&blk->throttle, u);
	pthread_mutex_unlock(&blk->vdev.lock);
	return 0;
}

/*
 * Opens the new file as the old one was (read-only or not), then swaps it
 * in once the requests in flight are back (this runs on the I/O thread, which serves them)
 * and tells the driver of the new capacity with a configuration change.
 */
static int blk_swap_file(struct blk_dev *blk, const char *path, struct errmsg *e)
{
	struct drive_config cfg = blk->drive;
	struct blk_disk disk;
	int err;

	memcpy(cfg.path, path, sizeof(cfg.path));
	cfg.path_from_api = true;
	if ((err = blk_disk_open(&disk, &cfg, e)))
		return err;
	pthread_mutex_lock(&blk->vdev.lock);
	/* The engine moves to the new file once the old one's requests are back; it was made before seccomp. */
	if ((err = blk_drain(blk, "new backing file"))) {
		pthread_mutex_unlock(&blk->vdev.lock);
		blk_disk_close(&disk);
		return errmsg_set(e, -err, "drive '%s': requests to the old file do not finish", blk->drive.id);
	}
	disk.io = blk->disk.io;
	blk->disk.io = NULL;
	blkio_set_fd(disk.io, disk.fd);
	blk_disk_close(&blk->disk);
	blk->drive = cfg;
	blk->disk = disk;
	blk->disk.path = blk->drive.path;
	blk->config.capacity = htole64(disk.sectors);
	virtio_config_changed(&blk->vdev);
	pthread_mutex_unlock(&blk->vdev.lock);
	log_debug("%s: now drive '%s', %llu sectors", blk->vdev.name, path, (unsigned long long)disk.sectors);
	return 0;
}

static int drive_api_patch(void *data, const struct api_config_change *c, struct errmsg *e)
{
	const struct drive_patch *p = (const struct drive_patch *)c->item;
	struct virtio_dev *dev;
	struct blk_dev *blk = NULL;
	int err;

	for (unsigned i = 0; !blk && (dev = virtio_kind_device(data, i)); i++)
		if (!strcmp(((struct blk_dev *)dev->priv)->drive.id, c->id))
			blk = dev->priv;
	if (!blk)
		return errmsg_set(e, EINVAL, "no drive '%s'", c->id);
	/* A file that cannot be opened is the client's to fix: 400, as Firecracker. */
	if (p->path[0] && (err = blk_swap_file(blk, p->path, e)))
		return err == -ENOMEM ? err : -EINVAL;
	return p->has_rate_limiter ? blk_update_rate_limiter(blk, &p->rate_limiter) : 0;
}

static const struct device_api drives_api = {
	.name = "drives",
	.id_field = "drive_id",
	.parse = drive_parse,
	.put = drive_put,
	.format = drives_format,
	.parse_patch = drive_parse_patch,
	.patch_config = drive_patch_config,
};

VIRTIO_DEVICE_REGISTER("virtio-blk", struct blk_config, blk_count, blk_create, .options = blk_options,
		       .api = &drives_api, .boot_args = drives_boot_args, .api_patch = drive_api_patch);
DEVICE_CONFIG_OF(struct blk_config, blk_config_of, virtio_device_blk_create)
