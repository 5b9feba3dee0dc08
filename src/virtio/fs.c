// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-fs: one device per --share, each a host directory served by the
 * FUSE server of src/fs/share.c on the I/O thread, one request at a time
 * under the device's lock. Two queues, as the kernel's driver finds them:
 * hiprio (0), which carries FORGETs, and one request queue (1). Each chain
 * is a FUSE request in its readable part and room for the reply in its
 * writable part; the request is gathered into an aligned buffer, served,
 * and the reply scattered back, never past the room the driver gave.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <linux/fuse.h>
#include <linux/virtio_fs.h>

#include "fs/share.h"
#include "kv.h"
#include "options.h"
#include "state.h"
#include "virtio/fs.h"
#include "virtio/virtio.h"

enum { FS_QUEUE_HIPRIO, FS_QUEUE_REQUEST, FS_QUEUES };

/*
 * The largest request, and reply, a share serves: a WRITE or READ of 128
 * pages with its headers. That is max_write (and max_pages) in INIT; a page
 * a descriptor, such a request fits a chain (VQ_CHAIN_MAX).
 */
#define FS_REQUEST_MAX (128 * 4096 + 4096)
/*
 * Descriptors kvmini keeps for itself (its files, eventfds, the tap, the
 * API's connections); the rest of the process's limit is shared out among
 * the shares, each inode the guest knows and each file it has open being one.
 */
#define FS_FDS_RESERVED 256
#define FS_FDS_CEILING (1u << 20)
#define FS_INODES_MAX (1u << 17)
#define FS_HANDLES_MAX (1u << 14)
#define FS_TABLE_MIN 16
/* Requests the driver should not make that one share logs before it goes quiet. */
#define FS_LOG_BURST 5

struct fs_dev {
	struct virtio_dev vdev;
	struct virtio_fs_config config;
	struct fs_share *share;
	const char *path; /* for messages: the config's, which outlives the device */
	struct log_limit log;
	/* The request and the reply, 8-byte aligned as the FUSE structures are. */
	uint64_t *req;
	uint64_t *reply;
};

static int fs_malformed(struct virtio_dev *dev, const struct vq_chain *chain)
{
	virtio_device_error(dev, "a request of %zu readable and %zu writable bytes has no room for its header or "
			    "its reply's", chain->out_len, chain->in_len);
	return -EIO;
}

/*
 * The request's header, from the chain: false (a device error) when the
 * chain cannot hold it, or has no room for the reply's header and the
 * request gets a reply. So the share never acts on a request it cannot
 * answer.
 */
static bool fs_chain_usable(struct virtio_dev *dev, const struct vq_chain *chain, struct fuse_in_header *in)
{
	if (chain->out_len >= sizeof(*in)) {
		vq_chain_read(chain, 0, in, sizeof(*in));
		if (chain->in_len >= sizeof(struct fuse_out_header) || fs_share_no_reply(in->opcode))
			return true;
	}
	fs_malformed(dev, chain);
	return false;
}

/*
 * A request over FS_REQUEST_MAX, which INIT told the driver not to make:
 * EINVAL, the share untouched; nothing for one that gets no reply (FORGET).
 */
static int fs_refuse(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct fs_dev *fs = dev->priv;
	struct fuse_in_header in;
	struct fuse_out_header out;

	if (!fs_chain_usable(dev, chain, &in))
		return -EIO;
	log_limited(&fs->log, "share '%s': a request of %zu bytes (opcode %u), over the %d-byte limit it was given",
		    fs->path, chain->out_len + chain->in_len, in.opcode, FS_REQUEST_MAX);
	*written = 0;
	if (fs_share_no_reply(in.opcode))
		return 0;
	out = (struct fuse_out_header){ .len = sizeof(out), .error = -EINVAL, .unique = in.unique };
	*written = (uint32_t)vq_chain_write(chain, 0, &out, sizeof(out));
	return 0;
}

static int fs_serve(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct fs_dev *fs = dev->priv;
	size_t room = chain->in_len < FS_REQUEST_MAX ? chain->in_len : FS_REQUEST_MAX;
	/* The server wants room for a header even for a request that gets no reply. */
	size_t cap = room > sizeof(struct fuse_out_header) ? room : sizeof(struct fuse_out_header);
	struct fuse_in_header in;
	size_t len;

	if (chain->out_len > FS_REQUEST_MAX)
		return fs_refuse(dev, chain, written);
	if (!fs_chain_usable(dev, chain, &in))
		return -EIO;
	vq_chain_read(chain, 0, fs->req, chain->out_len);
	/* It cannot fail: the request holds its header, and the reply's fits. */
	fs_share_serve(fs->share, fs->req, chain->out_len, fs->reply, cap, &len);
	*written = (uint32_t)vq_chain_write(chain, 0, fs->reply, len);
	return 0;
}

static void fs_queue_notify(struct virtio_dev *dev, unsigned q)
{
	virtio_queue_serve(dev, q, fs_serve);
}

/* A driver reset forgets every node id and handle, as an unmount would: the next driver starts with INIT. */
static void fs_reset(struct virtio_dev *dev)
{
	struct fs_dev *fs = dev->priv;

	fs_share_reset(fs->share);
}

/*
 * The node ids and open files a guest holds are host descriptors, which no
 * blob can carry: a VM with a share cannot be saved, and no blob restores one.
 */
static void fs_save(struct virtio_dev *dev, struct state_writer *w)
{
	(void)dev;
	if (!w->err)
		w->err = -EOPNOTSUPP;
}

static int fs_restore(struct virtio_dev *dev, struct state_reader *r)
{
	return state_invalid(r, "share", "%s: a share's open files and node ids cannot be restored", dev->name);
}

static void fs_destroy(struct virtio_dev *dev)
{
	struct fs_dev *fs = dev->priv;

	fs_share_close(fs->share);
	free(fs->req);
	free(fs->reply);
	free(fs);
}

static const struct virtio_dev_ops fs_ops = {
	.queue_notify = fs_queue_notify,
	.refuse = fs_refuse,
	.reset = fs_reset,
	.destroy = fs_destroy,
	.save = fs_save,
	.restore = fs_restore,
};

static unsigned fs_count(const void *config)
{
	const struct fs_config *cfg = config;

	return cfg->nr_shares;
}

/*
 * Each inode the guest knows holds a descriptor, and a guest keeps what it
 * looked up until its caches shrink: as a file server does, kvmini raises
 * its limit to what the shares could use (above the hard limit when it may,
 * as root), else to the hard limit, and shares out what is left after its
 * own descriptors, mostly for inodes.
 */
static struct fs_share_limits fs_limits(unsigned nr_shares)
{
	rlim_t want = FS_FDS_RESERVED + (rlim_t)nr_shares * (FS_INODES_MAX + FS_HANDLES_MAX);
	struct fs_share_limits l = { .max_request = FS_REQUEST_MAX };
	struct rlimit rl;
	rlim_t budget = 0;

	/* Linux's own ceiling (fs.nr_open) is 2^20 unless raised. */
	if (want > FS_FDS_CEILING)
		want = FS_FDS_CEILING;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < want) {
		struct rlimit up = { want, want > rl.rlim_max ? want : rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > FS_FDS_RESERVED)
		budget = (rl.rlim_cur - FS_FDS_RESERVED) / nr_shares;
	l.max_inodes = budget / 8 * 7 < FS_INODES_MAX ? (uint32_t)(budget / 8 * 7) : FS_INODES_MAX;
	l.max_handles = budget / 8 < FS_HANDLES_MAX ? (uint32_t)(budget / 8) : FS_HANDLES_MAX;
	if (l.max_inodes < FS_TABLE_MIN)
		l.max_inodes = FS_TABLE_MIN;
	if (l.max_handles < FS_TABLE_MIN)
		l.max_handles = FS_TABLE_MIN;
	return l;
}

/*
 * The directory the user named, a symbolic link to one included: the user
 * chose it. O_PATH needs no permission to read it; the server checks as it
 * goes.
 */
static int fs_open_dir(const struct share_config *cfg, struct errmsg *e)
{
	int fd = open(cfg->path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errmsg_set(e, errno, "share '%s': %s", cfg->path, strerror(errno));
	return fd;
}

static int fs_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		     struct errmsg *e)
{
	const struct fs_config *fs_cfg = config;
	const struct share_config *cfg = &fs_cfg->shares[index];
	struct fs_share_limits limits = fs_limits(fs_cfg->nr_shares);
	struct fs_dev *fs = calloc(1, sizeof(*fs));
	int dirfd, err;

	(void)host;
	if (!fs)
		return errmsg_set(e, ENOMEM, "share '%s': out of memory", cfg->path);
	fs->req = malloc(FS_REQUEST_MAX);
	fs->reply = malloc(FS_REQUEST_MAX);
	if (!fs->req || !fs->reply) {
		err = errmsg_set(e, ENOMEM, "share '%s': out of memory", cfg->path);
		goto fail;
	}
	if ((err = dirfd = fs_open_dir(cfg, e)) < 0)
		goto fail;
	err = fs_share_open(&fs->share, dirfd, cfg->readonly, &limits, e);
	close(dirfd);
	if (err) {
		errmsg_prefix(e, -err, "share '%s': ", cfg->path);
		goto fail;
	}
	fs->path = cfg->path;
	fs->log = (struct log_limit)LOG_LIMIT("virtio-fs requests refused", FS_LOG_BURST);
	/* Not NUL-terminated when FS_TAG_MAX bytes long: the field is exactly that. */
	memcpy(fs->config.tag, cfg->tag, strnlen(cfg->tag, sizeof(fs->config.tag)));
	fs->config.num_request_queues = htole32(FS_QUEUES - 1);
	fs->vdev.ops = &fs_ops;
	fs->vdev.priv = fs;
	fs->vdev.device_id = VIRTIO_ID_FS;
	snprintf(fs->vdev.name, sizeof(fs->vdev.name), "virtio-fs%u", index);
	fs->vdev.nr_queues = FS_QUEUES;
	/* A request and its reply, each up to FS_REQUEST_MAX; a larger chain gets fs_refuse. */
	fs->vdev.request_max = 2 * FS_REQUEST_MAX;
	fs->vdev.config = (uint8_t *)&fs->config;
	fs->vdev.config_size = sizeof(fs->config);
	log_debug("%s: share '%s' as tag '%s'%s, up to %u inodes and %u open files", fs->vdev.name, cfg->path,
		  cfg->tag, cfg->readonly ? ", read-only" : "", limits.max_inodes, limits.max_handles);
	*dev = &fs->vdev;
	return 0;
fail:
	free(fs->req);
	free(fs->reply);
	free(fs);
	return err;
}

int fs_config_add_share(struct fs_config *cfg, const char *path, const char *tag, bool readonly, struct errmsg *e)
{
	struct share_config *s;
	size_t tag_len = strlen(tag);

	if (cfg->nr_shares == FS_MAX_SHARES)
		return errmsg_set(e, EINVAL, "at most %d shares", FS_MAX_SHARES);
	if (!path[0] || strlen(path) >= sizeof(s->path))
		return errmsg_set(e, EINVAL, "the path must have 1 to %zu characters", sizeof(s->path) - 1);
	if (!tag_len || tag_len > FS_TAG_MAX)
		return errmsg_set(e, EINVAL, "tag '%s': it must have 1 to %d bytes", tag, FS_TAG_MAX);
	for (unsigned i = 0; i < cfg->nr_shares; i++)
		if (!strcmp(cfg->shares[i].tag, tag))
			return errmsg_set(e, EINVAL, "tag '%s' is already the tag of share '%s'", tag,
					  cfg->shares[i].path);
	s = &cfg->shares[cfg->nr_shares++];
	memcpy(s->path, path, strlen(path) + 1);
	memcpy(s->tag, tag, tag_len + 1);
	s->readonly = readonly;
	return 0;
}

/* --share path=DIR,tag=NAME[,readonly=on|off] */
enum { SHARE_PATH, SHARE_TAG, SHARE_READONLY, SHARE_KEYS };
static const char *const share_keys[SHARE_KEYS] = { "path", "tag", "readonly" };

static int add_share(void *fs_config, const char *arg, struct errmsg *e)
{
	struct share_config s = { .readonly = false };
	unsigned seen = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)))
			break;
		if ((key = kv_key(&it, share_keys, SHARE_KEYS, &seen, e)) < 0) {
			err = key;
			break;
		}
		if (key == SHARE_PATH)
			err = kv_string(&it, s.path, sizeof(s.path), e);
		else if (key == SHARE_TAG)
			err = kv_string(&it, s.tag, sizeof(s.tag), e);
		else
			err = kv_choice(&it, "off", "on", &s.readonly, e);
	}
	if (!err && !(seen & (1u << SHARE_PATH)))
		err = errmsg_set(e, EINVAL, "missing path= (e.g. --share path=DIR,tag=NAME)");
	if (!err && !(seen & (1u << SHARE_TAG)))
		err = errmsg_set(e, EINVAL, "missing tag= (the name the guest mounts: mount -t virtiofs NAME /mnt)");
	if (!err)
		err = fs_config_add_share(fs_config, s.path, s.tag, s.readonly, e);
	return err ? kv_option_error(e, "--share", arg) : 0;
}

static const struct option_spec fs_options[] = {
	{ "share", 0, "path=DIR,tag=NAME[,readonly=on|off]",
	  "share the host directory DIR over virtio-fs; the guest mounts it\n"
	  "with mount -t virtiofs NAME; repeatable, up to " OPTION_TEXT(FS_MAX_SHARES), add_share, 0 },
	{ .name = NULL },
};

VIRTIO_DEVICE_REGISTER("virtio-fs", struct fs_config, fs_count, fs_create, .options = fs_options);
DEVICE_CONFIG_OF(struct fs_config, fs_config_of, virtio_device_fs_create)
