// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk: one device per --drive, backed by a raw image file or a block
 * device. Requests are carried out synchronously on the I/O thread, one chain
 * at a time, so nothing is in flight when the driver resets the device.
 */
#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "api/json.h"
#include "api/section.h"
#include "kv.h"
#include "open_file.h"
#include "options.h"
#include "state.h"
#include "virtio/blk.h"
#include "virtio/throttle.h"
#include "virtio/virtio.h"

/* O_DIRECT data goes through this much aligned memory at a time. */
#define BLK_BOUNCE_SIZE (256 * 1024)
#define BLK_BOUNCE_ALIGN 4096
#define BLK_HDR_SIZE sizeof(struct virtio_blk_outhdr)
/*
 * What the driver is told a request may hold (VIRTIO_BLK_F_SEG_MAX and
 * F_SIZE_MAX; Linux makes them its queue's max_segments and
 * max_segment_size): segments of at most a page, and as many as a chain
 * has room for besides the header and the status. So a request carries at
 * most 1016 KiB of data, about Linux's default largest request
 * (max_sectors_kb: 512 or 1280 KiB by version), and one chain is about a
 * millisecond of page-cache work.
 */
#define BLK_SIZE_MAX 4096
#define BLK_SEG_MAX (VQ_CHAIN_MAX - 2)
#define BLK_REQUEST_MAX (BLK_HDR_SIZE + (size_t)BLK_SEG_MAX * BLK_SIZE_MAX + 1)
/* Host I/O errors and impossible requests a drive may log before it goes quiet. */
#define BLK_IO_ERROR_BURST 10

static int blk_disk_size(struct blk_disk *disk, uint64_t *bytes, struct errmsg *e)
{
	struct stat st;

	if (fstat(disk->fd, &st))
		return errmsg_set(e, errno, "drive '%s': %s", disk->path, strerror(errno));
	/* open_file took a regular file or a block device, nothing else. */
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
 * guest request.
 */
static int blk_disk_probe_direct(struct blk_disk *disk, struct errmsg *e)
{
	if (posix_memalign((void **)&disk->bounce, BLK_BOUNCE_ALIGN, BLK_BOUNCE_SIZE)) {
		disk->bounce = NULL;
		return errmsg_set(e, ENOMEM, "drive '%s': no memory for its O_DIRECT buffer", disk->path);
	}
	if (disk->sectors && pread(disk->fd, disk->bounce, BLK_SECTOR_SIZE, 0) < 0)
		return errmsg_set(e, errno, "drive '%s': cache=none: a 512-byte O_DIRECT read fails (%s); "
				  "use cache=writeback", disk->path, strerror(errno));
	return 0;
}

int blk_disk_open(struct blk_disk *disk, const struct drive_config *cfg, struct errmsg *e)
{
	uint64_t bytes;
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
	if ((err = blk_disk_size(disk, &bytes, e)))
		goto fail;
	if (bytes % BLK_SECTOR_SIZE)
		log_debug("drive '%s': its size, %llu bytes, is not a whole number of sectors; the guest sees %llu",
			  cfg->path, (unsigned long long)bytes,
			  (unsigned long long)(bytes / BLK_SECTOR_SIZE * BLK_SECTOR_SIZE));
	disk->sectors = bytes / BLK_SECTOR_SIZE;
	if (cfg->direct && (err = blk_disk_probe_direct(disk, e)))
		goto fail;
	return 0;
fail:
	blk_disk_close(disk);
	return err;
}

void blk_disk_close(struct blk_disk *disk)
{
	if (disk->fd >= 0)
		close(disk->fd);
	disk->fd = -1;
	free(disk->bounce);
	disk->bounce = NULL;
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

/*
 * Straight between the guest's buffers and the page cache. A transfer the
 * host cuts short (a file system filling up takes what fits) goes on from
 * where it stopped, so an error is the one that stopped it (ENOSPC), not a
 * short count. Bytes done (fewer only at the end of the file), or -errno.
 */
static ssize_t blk_buffered_io(struct blk_disk *disk, const struct vq_chain *c, size_t len, off_t off, bool write)
{
	struct iovec iov[VQ_CHAIN_MAX];
	size_t done = 0;

	while (done < len) {
		unsigned n = write ? iov_slice(c->iov, c->nr_out, BLK_HDR_SIZE + done, len - done, iov)
				   : iov_slice(c->iov + c->nr_out, c->nr_in, done, len - done, iov);
		ssize_t got;

		do
			got = write ? pwritev(disk->fd, iov, (int)n, off + (off_t)done)
				    : preadv(disk->fd, iov, (int)n, off + (off_t)done);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* O_DIRECT wants aligned memory, which guest buffers need not be: through the bounce buffer. */
static ssize_t blk_direct_io(struct blk_disk *disk, const struct vq_chain *c, size_t len, off_t off, bool write)
{
	size_t done = 0;

	while (done < len) {
		size_t want = len - done < BLK_BOUNCE_SIZE ? len - done : BLK_BOUNCE_SIZE;
		ssize_t got;

		if (write)
			vq_chain_read(c, BLK_HDR_SIZE + done, disk->bounce, want);
		do
			got = write ? pwrite(disk->fd, disk->bounce, want, off + (off_t)done)
				    : pread(disk->fd, disk->bounce, want, off + (off_t)done);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -errno;
		if (!write)
			vq_chain_write(c, done, disk->bounce, (size_t)got);
		done += (size_t)got;
		if ((size_t)got < want)
			break;
	}
	return (ssize_t)done;
}

static uint8_t blk_rw(struct blk_disk *disk, const struct vq_chain *c, uint64_t sector, bool write)
{
	size_t len = write ? c->out_len - BLK_HDR_SIZE : c->in_len - 1;
	const char *what = write ? "write" : "read";
	ssize_t done;

	if (len % BLK_SECTOR_SIZE) {
		log_limited(&disk->io_log, "drive '%s': a %s of %zu bytes, not whole sectors", disk->path, what, len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (sector > disk->sectors || len / BLK_SECTOR_SIZE > disk->sectors - sector) {
		log_limited(&disk->io_log, "drive '%s': a %s of %zu bytes at sector %llu, beyond its %llu sectors",
			    disk->path, what, len, (unsigned long long)sector, (unsigned long long)disk->sectors);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write && disk->readonly) {
		log_limited(&disk->io_log, "drive '%s': the guest wrote to a read-only drive", disk->path);
		return VIRTIO_BLK_S_IOERR;
	}
	if (disk->direct)
		done = blk_direct_io(disk, c, len, (off_t)(sector * BLK_SECTOR_SIZE), write);
	else
		done = blk_buffered_io(disk, c, len, (off_t)(sector * BLK_SECTOR_SIZE), write);
	if (done < 0) {
		log_limited(&disk->io_log, "drive '%s': %s of %zu bytes at sector %llu: %s", disk->path, what, len,
			    (unsigned long long)sector, strerror((int)-done));
		return VIRTIO_BLK_S_IOERR;
	}
	if ((size_t)done != len) {
		log_limited(&disk->io_log, "drive '%s': short %s at sector %llu: %zd of %zu bytes (did it shrink?)",
			    disk->path, what, (unsigned long long)sector, done, len);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_flush(struct blk_disk *disk)
{
	if (!fdatasync(disk->fd))
		return VIRTIO_BLK_S_OK;
	log_limited(&disk->io_log, "drive '%s': flush: %s", disk->path, strerror(errno));
	return VIRTIO_BLK_S_IOERR;
}

int blk_request(struct blk_disk *disk, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;
	size_t status_at, id_len;
	uint8_t status;

	if (chain->out_len < sizeof(hdr) || chain->in_len < 1)
		return -EIO;
	vq_chain_read(chain, 0, &hdr, sizeof(hdr));
	status_at = chain->in_len - 1;
	*written = 1;
	switch (le32toh(hdr.type)) {
	case VIRTIO_BLK_T_IN:
		status = blk_rw(disk, chain, le64toh(hdr.sector), false);
		/* Only a successful read fills the buffers; it is then less than 2 GiB (one preadv). */
		if (status == VIRTIO_BLK_S_OK)
			*written = (uint32_t)chain->in_len;
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_rw(disk, chain, le64toh(hdr.sector), true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk_flush(disk);
		break;
	case VIRTIO_BLK_T_GET_ID:
		id_len = status_at < sizeof(disk->id) ? status_at : sizeof(disk->id);
		vq_chain_write(chain, 0, disk->id, id_len);
		*written += (uint32_t)id_len;
		status = VIRTIO_BLK_S_OK;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	vq_chain_write(chain, status_at, &status, 1);
	return status;
}

/* --- The virtio device around a disk. --- */

struct blk_dev {
	struct virtio_dev vdev;
	struct virtio_blk_config config;
	struct blk_disk disk;
	struct virtio_throttle throttle; /* the drive's rate_limiter */
	struct drive_config drive; /* how the disk was opened; disk.path is its path, which PATCH /drives changes */
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

	if (!virtio_throttle_take(&blk->throttle, 1, data))
		return -EAGAIN;
	if (blk_request(&blk->disk, chain, written) >= 0)
		return 0;
	return blk_malformed(dev, chain);
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

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct blk_dev *blk = dev->priv;

	/* Kicks while the rate limiter waits change nothing: its timer resumes the queue. */
	if (!virtio_throttle_waiting(&blk->throttle))
		virtio_queue_serve(dev, q, blk_serve);
}

static void blk_destroy(struct virtio_dev *dev)
{
	struct blk_dev *blk = dev->priv;

	virtio_throttle_close(&blk->throttle);
	blk_disk_close(&blk->disk);
	free(blk);
}

/*
 * Nothing is in flight to save: the I/O thread serves each request to its
 * end (the data read or written, the status pushed) before it takes the next
 * or stops for a pause, and a request its rate limiter holds back stays in
 * the ring. What the guest sees beyond the core's state is the capacity it
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

static const struct virtio_dev_ops blk_ops = {
	.queue_notify = blk_queue_notify,
	.refuse = blk_refuse,
	.destroy = blk_destroy,
	.save = blk_save,
	.restore = blk_restore,
};

static unsigned blk_count(const void *config)
{
	const struct blk_config *blk_cfg = config;

	return blk_cfg->nr_drives;
}

static int blk_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		      struct errmsg *e)
{
	const struct drive_config *cfg = &((const struct blk_config *)config)->drives[index];
	struct blk_dev *blk = calloc(1, sizeof(*blk));
	int err;

	(void)host;
	if (!blk)
		return errmsg_set(e, ENOMEM, "drive '%s': out of memory", cfg->path);
	blk->drive = *cfg;
	if ((err = blk_disk_open(&blk->disk, &blk->drive, e))) {
		free(blk);
		return err;
	}
	blk->config.capacity = htole64(blk->disk.sectors);
	blk->config.size_max = htole32(BLK_SIZE_MAX);
	blk->config.seg_max = htole32(BLK_SEG_MAX);
	blk->config.blk_size = htole32(BLK_SECTOR_SIZE);
	blk->vdev.ops = &blk_ops;
	blk->vdev.priv = blk;
	blk->vdev.device_id = VIRTIO_ID_BLOCK;
	snprintf(blk->vdev.name, sizeof(blk->vdev.name), "virtio-blk%u", index);
	blk->vdev.nr_queues = 1;
	blk->vdev.request_max = BLK_REQUEST_MAX;
	blk->vdev.device_features = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
				    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (cfg->no_flush ? 0 : 1ULL << VIRTIO_BLK_F_FLUSH) |
				    (cfg->readonly ? 1ULL << VIRTIO_BLK_F_RO : 0);
	blk->vdev.config = (uint8_t *)&blk->config;
	blk->vdev.config_size = sizeof(blk->config);
	virtio_throttle_init(&blk->throttle, &blk->vdev, 0, &cfg->rate_limiter);
	log_debug("%s: drive '%s', %llu sectors%s%s, id '%s'", blk->vdev.name, cfg->path,
		  (unsigned long long)blk->disk.sectors, cfg->readonly ? ", read-only" : "",
		  cfg->direct ? ", O_DIRECT" : "", cfg->id);
	*dev = &blk->vdev;
	return 0;
}

/* --drive path=FILE[,readonly=on|off][,cache=none|writeback][,id=NAME] */
enum { DRIVE_PATH, DRIVE_READONLY, DRIVE_CACHE, DRIVE_ID, DRIVE_KEYS };
static const char *const drive_keys[DRIVE_KEYS] = { "path", "readonly", "cache", "id" };

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
	{ "drive", 0, "path=FILE[,readonly=on|off][,cache=none|writeback][,id=NAME]",
	  "a virtio-blk disk backed by FILE (raw image or block device);\n"
	  "repeatable, up to " OPTION_TEXT(BLK_MAX_DRIVES) "; id (at most " OPTION_TEXT(DRIVE_ID_MAX)
	  " characters) is its serial", add_drive, 0 },
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
 * in between two requests (this runs on the I/O thread, which serves them)
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
