// SPDX-License-Identifier: Apache-2.0
#include "fs/share.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* virtio-fs came with protocol 7.31: an older kernel has no driver to send us anything. */
#define MINOR_MIN 31
#define PAGE 4096u
/* How long the guest may cache names and attributes: the host may change the directory under it. */
#define CACHE_SECONDS 1
/* The open(2) flags a guest's open may carry to the host; O_DIRECT is not among them (replies are not aligned). */
#define OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC | O_NONBLOCK | O_NOATIME)
/* Neither set-user-ID nor set-group-ID bits are ever set on the host. */
#define MODE_BITS (07777 & ~(S_ISUID | S_ISGID))

struct inode {
	int fd;			/* O_PATH of the inode itself (a symbolic link's too); -1: a free slot */
	mode_t type;		/* S_IFMT, which an inode never changes */
	dev_t dev;
	ino_t ino;
	uint64_t nlookup;	/* the guest's references, which FORGET gives back */
	uint32_t next;		/* next node id in its hash chain, 0 at the end */
};

/*
 * A directory handle's entries that getdents64 gave and the guest has not
 * had yet. Where offsets are positions (tmpfs before Linux 6.6), seeking
 * back to the offset a READDIR stopped at after the guest unlinked entries
 * (rm -r does) would skip as many: the stream goes on where it stopped, and
 * is sought only when the guest asks for another offset.
 */
struct dir_stream {
	uint64_t next_off;	/* the offset of the entry at `at`, as the guest asks for it */
	long len, at;		/* bytes in buf; the next entry */
	_Alignas(struct dirent64) char buf[4096];
};

struct handle {
	int fd;			/* -1: a free slot */
	bool dir;
	struct dir_stream *stream;	/* a directory's, once it is read */
};

/* Free slots of a table, as a stack of indexes. */
struct free_stack {
	uint32_t *slot;
	uint32_t n;
};

struct fs_share {
	bool readonly;
	bool initialized;
	bool chown_new;		/* new nodes get the requester's uid and gid: the server may chown (root) */
	int proc_fd;		/* /proc/self/fd: reopens an O_PATH handle for I/O (only files and directories) */
	uint32_t max_write;
	struct inode *inodes;	/* node id n is inodes[n - 1], the root's FUSE_ROOT_ID */
	uint32_t max_inodes;
	uint32_t *buckets;	/* (dev, ino) hash -> first node id of its chain */
	uint32_t nbuckets;	/* a power of two */
	struct free_stack free_inodes;
	struct handle *handles;	/* fh n is handles[n - 1] */
	uint32_t max_handles;
	struct free_stack free_handles;
};

/* What is left of a request, taken from the front. */
struct req {
	const uint8_t *p;
	size_t left;
};

struct reply {
	uint8_t *p;
	size_t cap;
	size_t len;
};

static const void *take(struct req *r, size_t n)
{
	const void *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

/* One name component, NUL-terminated within the request: never empty, ".", ".." or with a '/'. */
static int take_name(struct req *r, const char **name)
{
	const char *n = (const char *)r->p;
	const char *nul = memchr(n, '\0', r->left);

	if (!nul || nul == n || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, ".."))
		return -EINVAL;
	take(r, (size_t)(nul - n) + 1);
	*name = n;
	return 0;
}

/* Room for n more bytes of the reply, zeroed; NULL when they do not fit. */
static void *put(struct reply *o, size_t n)
{
	void *p = o->p + o->len;

	if (n > o->cap - o->len)
		return NULL;
	memset(p, 0, n);
	o->len += n;
	return p;
}

static int stack_init(struct free_stack *f, uint32_t n)
{
	f->slot = calloc(n, sizeof(*f->slot));
	if (!f->slot)
		return -ENOMEM;
	/* Low indexes on top, so ids are handed out from 1 up. */
	for (f->n = 0; f->n < n; f->n++)
		f->slot[f->n] = n - 1 - f->n;
	return 0;
}

static uint32_t hash(const struct fs_share *s, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4full);

	return (uint32_t)(h >> 32) & (s->nbuckets - 1);
}

static int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/*
 * Opens one checked name under a directory: RESOLVE_BENEATH and no symbolic
 * link, magic or not, even as the last component (O_PATH|O_NOFOLLOW then gives
 * the link itself).
 */
static int open_name(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* The name of an O_PATH handle under /proc/self/fd, which reaches its inode even without permission to read it. */
static void proc_name(int fd, char name[16])
{
	snprintf(name, 16, "%d", fd);
}

/* Opens a file or directory for I/O from its O_PATH handle; anything else (a FIFO would block) is refused. */
static int reopen(const struct fs_share *s, int path_fd, mode_t type, int flags)
{
	char name[16];
	int fd;

	if (S_ISLNK(type))
		return -ELOOP;
	if (!S_ISREG(type) && !S_ISDIR(type))
		return -ENXIO;
	proc_name(path_fd, name);
	fd = openat(s->proc_fd, name, flags | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/*
 * The mode of the inode behind an O_PATH handle (fchmod refuses those),
 * through /proc/self/fd: a path call, but to a magic link the share made.
 */
static int chmod_handle(const struct fs_share *s, int path_fd, mode_t mode)
{
	char name[16];

	proc_name(path_fd, name);
	return fchmodat(s->proc_fd, name, mode & MODE_BITS, 0) ? -errno : 0;
}

/*
 * As root, a new node belongs to whoever made it in the guest, as on a local
 * disk, so a container's root file system keeps its owners; the group of a
 * set-group-ID directory stays, as the host gave it. Best effort: an owner
 * the host cannot give (an id outside its user namespace) leaves the node
 * kvmini's, and a server that lost the right (kvmini dropped to --uid after
 * the share opened) stops trying.
 */
static void own_new_node(struct fs_share *s, const struct fuse_in_header *h, int dirfd, int fd)
{
	struct stat dir;
	gid_t gid = h->gid;

	if (!s->chown_new)
		return;
	if (!stat_fd(dirfd, &dir) && (dir.st_mode & S_ISGID))
		gid = (gid_t)-1;
	if (fchownat(fd, "", h->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) && errno == EPERM)
		s->chown_new = false;
}

static int inode_get(struct fs_share *s, uint64_t nodeid, struct inode **n)
{
	if (nodeid == 0 || nodeid > s->max_inodes || s->inodes[nodeid - 1].fd < 0)
		return -ENOENT;
	*n = &s->inodes[nodeid - 1];
	return 0;
}

/* Takes fd: the guest gets one more reference to its inode, under the node id it already has if it has one. */
static int inode_add(struct fs_share *s, int fd, const struct stat *st, uint64_t *nodeid)
{
	uint32_t b = hash(s, st->st_dev, st->st_ino);
	uint32_t id;
	struct inode *n;

	for (id = s->buckets[b]; id; id = s->inodes[id - 1].next) {
		n = &s->inodes[id - 1];
		if (n->dev == st->st_dev && n->ino == st->st_ino) {
			close(fd);
			n->nlookup++;
			*nodeid = id;
			return 0;
		}
	}
	if (!s->free_inodes.n) {
		close(fd);
		return -ENFILE;
	}
	id = s->free_inodes.slot[--s->free_inodes.n] + 1;
	s->inodes[id - 1] = (struct inode){ .fd = fd, .type = st->st_mode & S_IFMT, .dev = st->st_dev,
					     .ino = st->st_ino, .nlookup = 1, .next = s->buckets[b] };
	s->buckets[b] = id;
	*nodeid = id;
	return 0;
}

static void inode_drop(struct fs_share *s, uint32_t id)
{
	struct inode *n = &s->inodes[id - 1];
	uint32_t *link = &s->buckets[hash(s, n->dev, n->ino)];

	while (*link != id)
		link = &s->inodes[*link - 1].next;
	*link = n->next;
	close(n->fd);
	n->fd = -1;
	s->free_inodes.slot[s->free_inodes.n++] = id - 1;
}

static void forget(struct fs_share *s, uint64_t nodeid, uint64_t count)
{
	struct inode *n;

	if (nodeid == FUSE_ROOT_ID || inode_get(s, nodeid, &n))
		return;
	n->nlookup -= count < n->nlookup ? count : n->nlookup;
	if (!n->nlookup)
		inode_drop(s, (uint32_t)nodeid);
}

static int handle_add(struct fs_share *s, int fd, bool dir, uint64_t *fh)
{
	uint32_t i;

	if (!s->free_handles.n) {
		close(fd);
		return -ENFILE;
	}
	i = s->free_handles.slot[--s->free_handles.n];
	s->handles[i] = (struct handle){ .fd = fd, .dir = dir };
	*fh = i + 1;
	return 0;
}

static int handle_get(struct fs_share *s, uint64_t fh, bool dir, int *fd)
{
	if (fh == 0 || fh > s->max_handles || s->handles[fh - 1].fd < 0 || s->handles[fh - 1].dir != dir)
		return -EBADF;
	*fd = s->handles[fh - 1].fd;
	return 0;
}

/* The arguments of a request on an open handle, which all start with its fh, and that handle's fd. */
static int take_handle_args(struct fs_share *s, struct req *r, size_t size, bool dir, const void **in, int *fd)
{
	*in = take(r, size);
	if (!*in)
		return -EINVAL;
	return handle_get(s, *(const uint64_t *)*in, dir, fd);
}

static int handle_close(struct fs_share *s, uint64_t fh, bool dir)
{
	int fd;
	int err = handle_get(s, fh, dir, &fd);

	if (err)
		return err;
	close(fd);
	free(s->handles[fh - 1].stream);
	s->handles[fh - 1] = (struct handle){ .fd = -1 };
	s->free_handles.slot[s->free_handles.n++] = (uint32_t)(fh - 1);
	return 0;
}

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino, .size = (uint64_t)st->st_size, .blocks = (uint64_t)st->st_blocks,
		.atime = (uint64_t)st->st_atim.tv_sec, .atimensec = (uint32_t)st->st_atim.tv_nsec,
		.mtime = (uint64_t)st->st_mtim.tv_sec, .mtimensec = (uint32_t)st->st_mtim.tv_nsec,
		.ctime = (uint64_t)st->st_ctim.tv_sec, .ctimensec = (uint32_t)st->st_ctim.tv_nsec,
		.mode = st->st_mode, .nlink = (uint32_t)st->st_nlink, .uid = st->st_uid, .gid = st->st_gid,
		.rdev = (uint32_t)st->st_rdev, .blksize = (uint32_t)st->st_blksize,
	};
}

static void fill_entry(struct fuse_entry_out *e, uint64_t nodeid, const struct stat *st)
{
	e->nodeid = nodeid;
	e->entry_valid = CACHE_SECONDS;
	e->attr_valid = CACHE_SECONDS;
	fill_attr(&e->attr, st);
}

/* Looks name up under a directory and gives the guest a reference to what it names. */
static int lookup(struct fs_share *s, int dirfd, const char *name, struct fuse_entry_out *e)
{
	struct stat st;
	uint64_t nodeid;
	int fd = open_name(dirfd, name, O_PATH, 0);
	int err;

	if (fd < 0)
		return fd;
	err = stat_fd(fd, &st);
	if (err) {
		close(fd);
		return err;
	}
	err = inode_add(s, fd, &st, &nodeid);
	if (!err)
		fill_entry(e, nodeid, &st);
	return err;
}

/* The reply of the requests that name a new entry (LOOKUP, MKDIR, SYMLINK, LINK). */
static int reply_entry(struct fs_share *s, int dirfd, const char *name, struct reply *o)
{
	struct fuse_entry_out *e = put(o, sizeof(*e));

	return e ? lookup(s, dirfd, name, e) : -ERANGE;
}

/* The parent directory of a request that names an entry in it, and that name. */
static int take_parent_name(struct fs_share *s, uint64_t nodeid, struct req *r, struct inode **dir, const char **name)
{
	int err = inode_get(s, nodeid, dir);

	return err ? err : take_name(r, name);
}

typedef int op_fn(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o);

static int op_init(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	/* Before 7.36 the kernel sends only the first four fields. */
	const struct fuse_init_in *in = (const void *)r->p;
	const uint32_t offered = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_PARALLEL_DIROPS |
				 FUSE_MAX_PAGES;
	struct fuse_init_out *out;

	(void)h;
	if (r->left < offsetof(struct fuse_init_in, flags2))
		return -EINVAL;
	/* A newer major version: answer with ours alone, and the kernel asks again in it. */
	if (in->major > FUSE_KERNEL_VERSION) {
		out = put(o, sizeof(*out));
		if (!out)
			return -ERANGE;
		out->major = FUSE_KERNEL_VERSION;
		return 0;
	}
	if (in->major < FUSE_KERNEL_VERSION || in->minor < MINOR_MIN)
		return -EPROTO;
	out = put(o, sizeof(*out));
	if (!out)
		return -ERANGE;
	*out = (struct fuse_init_out){
		.major = FUSE_KERNEL_VERSION,
		.minor = in->minor < FUSE_KERNEL_MINOR_VERSION ? in->minor : FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in->max_readahead,
		.flags = in->flags & offered,
		.max_write = s->max_write,
		.time_gran = 1,
		.max_pages = (uint16_t)(s->max_write / PAGE),
	};
	s->initialized = true;
	return 0;
}

/* Every handle and node id but the root's: what a share opened for a guest that left. */
static void release_all(struct fs_share *s)
{
	uint32_t i;

	for (i = 0; i < s->max_handles; i++)
		if (s->handles[i].fd >= 0)
			handle_close(s, i + 1, s->handles[i].dir);
	for (i = FUSE_ROOT_ID + 1; i <= s->max_inodes; i++)
		if (s->inodes[i - 1].fd >= 0)
			inode_drop(s, i);
}

void fs_share_reset(struct fs_share *s)
{
	release_all(s);
	s->initialized = false;
}

/* The guest unmounted. */
static int op_destroy(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	(void)h, (void)r, (void)o;
	fs_share_reset(s);
	return 0;
}

static int op_lookup(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	struct inode *dir;
	const char *name;
	int err = take_parent_name(s, h->nodeid, r, &dir, &name);

	return err ? err : reply_entry(s, dir->fd, name, o);
}

static int op_forget(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_forget_in *in = take(r, sizeof(*in));

	(void)o;
	if (in)
		forget(s, h->nodeid, in->nlookup);
	return 0;
}

static int op_batch_forget(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_batch_forget_in *in = take(r, sizeof(*in));
	const struct fuse_forget_one *one;
	uint32_t i;

	(void)h, (void)o;
	/* As many as the request holds, whatever count says. */
	for (i = 0; in && i < in->count && (one = take(r, sizeof(*one))); i++)
		forget(s, one->nodeid, one->nlookup);
	return 0;
}

static int reply_attr(int fd, struct reply *o)
{
	struct fuse_attr_out *a = put(o, sizeof(*a));
	struct stat st;
	int err;

	if (!a)
		return -ERANGE;
	err = stat_fd(fd, &st);
	if (err)
		return err;
	a->attr_valid = CACHE_SECONDS;
	fill_attr(&a->attr, &st);
	return 0;
}

static int op_getattr(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	struct inode *n;
	int err = inode_get(s, h->nodeid, &n);

	(void)r;
	return err ? err : reply_attr(n->fd, o);
}

static int op_statfs(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	struct fuse_statfs_out *out;
	struct statfs sf;
	struct inode *n;
	int err = inode_get(s, h->nodeid, &n);

	(void)r;
	if (err)
		return err;
	if (fstatfs(n->fd, &sf))
		return -errno;
	out = put(o, sizeof(*out));
	if (!out)
		return -ERANGE;
	out->st = (struct fuse_kstatfs){
		.blocks = sf.f_blocks, .bfree = sf.f_bfree, .bavail = sf.f_bavail, .files = sf.f_files,
		.ffree = sf.f_ffree, .bsize = (uint32_t)sf.f_bsize, .namelen = (uint32_t)sf.f_namelen,
		.frsize = (uint32_t)sf.f_frsize,
	};
	return 0;
}

static int op_readlink(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	size_t room = o->cap - o->len;
	struct inode *n;
	ssize_t len;
	int err = inode_get(s, h->nodeid, &n);

	(void)r;
	if (err)
		return err;
	if (!S_ISLNK(n->type))
		return -EINVAL;
	len = readlinkat(n->fd, "", (char *)o->p + o->len, room);
	if (len < 0)
		return -errno;
	/* readlink truncates silently: a target that fills the room may not be all of it. */
	if ((size_t)len == room)
		return -ERANGE;
	o->len += (size_t)len;
	return 0;
}

static int reply_open(struct fs_share *s, int fd, bool dir, struct reply *o)
{
	struct fuse_open_out *out = put(o, sizeof(*out));

	if (!out) {
		close(fd);
		return -ERANGE;
	}
	return handle_add(s, fd, dir, &out->fh);
}

static int op_opendir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	struct inode *n;
	int fd, err = inode_get(s, h->nodeid, &n);

	(void)r;
	if (err)
		return err;
	if (!S_ISDIR(n->type))
		return -ENOTDIR;
	fd = reopen(s, n->fd, n->type, O_RDONLY | O_DIRECTORY);
	return fd < 0 ? fd : reply_open(s, fd, true, o);
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/*
 * One READDIRPLUS entry's lookup. "." and "..", and an entry the table has no
 * room for or that went away, get node id 0: the kernel then only lists them.
 */
static void readdirplus_lookup(struct fs_share *s, int dirfd, const struct dirent64 *d, struct fuse_entry_out *e)
{
	if (is_dot_or_dotdot(d->d_name) || lookup(s, dirfd, d->d_name, e)) {
		e->attr.ino = d->d_ino;
		e->attr.mode = (uint32_t)d->d_type << 12;
	}
}

/*
 * Entries from the offset the guest gives, as long as they fit: the offsets
 * are getdents64's own, and what was read but did not fit stays in the
 * handle's stream for the next request.
 */
static int read_dir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o, bool plus)
{
	const struct fuse_read_in *in;
	const size_t start = o->len;
	struct dir_stream *ds;
	int fd, err = take_handle_args(s, r, sizeof(*in), true, (const void **)&in, &fd);

	(void)h;
	if (err)
		return err;
	ds = s->handles[in->fh - 1].stream;
	if (!ds) {
		ds = calloc(1, sizeof(*ds));
		if (!ds)
			return -ENOMEM;
		/* A fresh handle reads from the start. */
		s->handles[in->fh - 1].stream = ds;
	}
	if (in->size < o->cap - o->len)
		o->cap = o->len + in->size;
	if (in->offset != ds->next_off) {
		if (lseek(fd, (off_t)in->offset, SEEK_SET) < 0)
			return -errno;
		*ds = (struct dir_stream){ .next_off = in->offset };
	}
	for (;;) {
		const struct dirent64 *d;
		size_t namelen, size;
		struct fuse_dirent *de;

		if (ds->at == ds->len) {
			long got = syscall(SYS_getdents64, fd, ds->buf, sizeof(ds->buf));

			/* Entries already in the reply are the guest's: an error waits for the next request. */
			if (got < 0)
				return o->len > start ? 0 : -errno;
			if (!got)
				return 0;
			ds->len = got;
			ds->at = 0;
		}
		d = (const void *)(ds->buf + ds->at);
		namelen = strlen(d->d_name);
		size = plus ? FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + namelen)
			    : FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
		if (size > o->cap - o->len)
			return 0;
		if (plus) {
			struct fuse_direntplus *dp = put(o, size);

			readdirplus_lookup(s, fd, d, &dp->entry_out);
			de = &dp->dirent;
		} else {
			de = put(o, size);
		}
		*de = (struct fuse_dirent){ .ino = d->d_ino, .off = (uint64_t)d->d_off, .namelen = (uint32_t)namelen,
					    .type = d->d_type };
		memcpy(de->name, d->d_name, namelen);
		ds->next_off = (uint64_t)d->d_off;
		ds->at += d->d_reclen;
	}
}

static int op_readdir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	return read_dir(s, h, r, o, false);
}

static int op_readdirplus(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	return read_dir(s, h, r, o, true);
}

static int op_releasedir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_release_in *in = take(r, sizeof(*in));

	(void)h, (void)o;
	return in ? handle_close(s, in->fh, true) : -EINVAL;
}

/* The open(2) flags of a guest's open or create, as the host gets them; writing to a read-only share is EROFS. */
static int open_flags(const struct fs_share *s, uint32_t guest, int *flags)
{
	*flags = (int)guest & OPEN_FLAGS;
	if (s->readonly && ((*flags & O_ACCMODE) != O_RDONLY || (*flags & O_TRUNC)))
		return -EROFS;
	return 0;
}

static int op_open(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_open_in *in = take(r, sizeof(*in));
	struct inode *n;
	int fd, flags, err;

	if (!in)
		return -EINVAL;
	err = inode_get(s, h->nodeid, &n);
	if (!err)
		err = open_flags(s, in->flags, &flags);
	if (err)
		return err;
	if (S_ISDIR(n->type))
		return -EISDIR;
	fd = reopen(s, n->fd, n->type, flags);
	return fd < 0 ? fd : reply_open(s, fd, false, o);
}

static int op_read(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_read_in *in;
	size_t size;
	ssize_t got;
	int fd, err = take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);

	(void)h;
	if (err)
		return err;
	size = in->size < o->cap - o->len ? in->size : o->cap - o->len;
	got = pread(fd, o->p + o->len, size, (off_t)in->offset);
	if (got < 0)
		return -errno;
	o->len += (size_t)got;
	return 0;
}

static int op_release(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_release_in *in = take(r, sizeof(*in));

	(void)h, (void)o;
	return in ? handle_close(s, in->fh, false) : -EINVAL;
}

/* Each close(2) of the guest's: nothing is buffered here, and host locks are not taken for the guest. */
static int op_flush(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_flush_in *in;
	int fd;

	(void)h, (void)o;
	return take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);
}

static int op_fsync(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_fsync_in *in;
	int fd, err = take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);

	(void)h, (void)o;
	if (err)
		return err;
	return ((in->fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(fd) : fsync(fd)) ? -errno : 0;
}

static int op_lseek(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_lseek_in *in;
	struct fuse_lseek_out *out;
	off_t at;
	int fd, err = take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);

	(void)h;
	if (err)
		return err;
	if (in->whence != SEEK_SET && in->whence != SEEK_CUR && in->whence != SEEK_END &&
	    in->whence != SEEK_DATA && in->whence != SEEK_HOLE)
		return -EINVAL;
	out = put(o, sizeof(*out));
	if (!out)
		return -ERANGE;
	at = lseek(fd, (off_t)in->offset, (int)in->whence);
	if (at < 0)
		return -errno;
	out->offset = (uint64_t)at;
	return 0;
}

/* Mode, owner, size and times, in that order; the reply has the attributes after all of them. */
static int op_setattr(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_setattr_in *in = take(r, sizeof(*in));
	struct inode *n;
	int fd, err;

	if (!in)
		return -EINVAL;
	err = inode_get(s, h->nodeid, &n);
	if (err)
		return err;
	if (in->valid & FATTR_MODE) {
		/* Linux cannot change a symbolic link's mode. */
		if (S_ISLNK(n->type))
			return -EOPNOTSUPP;
		err = chmod_handle(s, n->fd, in->mode);
		if (err)
			return err;
	}
	if ((in->valid & (FATTR_UID | FATTR_GID)) &&
	    fchownat(n->fd, "", (in->valid & FATTR_UID) ? in->uid : (uid_t)-1,
		     (in->valid & FATTR_GID) ? in->gid : (gid_t)-1, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (in->valid & FATTR_SIZE) {
		if (!S_ISREG(n->type))
			return S_ISDIR(n->type) ? -EISDIR : -EINVAL;
		if (in->valid & FATTR_FH) {
			err = handle_get(s, in->fh, false, &fd);
			if (err)
				return err;
			err = ftruncate(fd, (off_t)in->size) ? -errno : 0;
		} else {
			fd = reopen(s, n->fd, n->type, O_WRONLY);
			if (fd < 0)
				return fd;
			err = ftruncate(fd, (off_t)in->size) ? -errno : 0;
			close(fd);
		}
		if (err)
			return err;
	}
	if (in->valid & (FATTR_ATIME | FATTR_MTIME)) {
		struct timespec t[2] = {
			{ .tv_sec = (time_t)in->atime, .tv_nsec = in->atimensec },
			{ .tv_sec = (time_t)in->mtime, .tv_nsec = in->mtimensec },
		};

		if (!(in->valid & FATTR_ATIME))
			t[0].tv_nsec = UTIME_OMIT;
		else if (in->valid & FATTR_ATIME_NOW)
			t[0].tv_nsec = UTIME_NOW;
		if (!(in->valid & FATTR_MTIME))
			t[1].tv_nsec = UTIME_OMIT;
		else if (in->valid & FATTR_MTIME_NOW)
			t[1].tv_nsec = UTIME_NOW;
		if (utimensat(n->fd, "", t, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	return reply_attr(n->fd, o);
}

/*
 * Makes a regular file and opens it, or opens the one there unless the guest
 * asked for O_EXCL: the guest's view of the directory may be older than the
 * host's. What is there is opened as OPEN does, so never a FIFO or a device.
 */
static int create_open(const struct fs_share *s, int dirfd, const char *name, int flags, mode_t mode, bool excl,
		       int *path_fd, bool *made)
{
	struct stat st;
	char self[16];
	int err, fd = open_name(dirfd, name, flags | O_CREAT | O_EXCL, mode);

	*made = fd >= 0;
	if (fd >= 0) {
		proc_name(fd, self);
		*path_fd = openat(s->proc_fd, self, O_PATH | O_CLOEXEC);
		if (*path_fd >= 0)
			return fd;
		err = -errno;
		close(fd);
		return err;
	}
	if (fd != -EEXIST || excl)
		return fd;
	*path_fd = open_name(dirfd, name, O_PATH, 0);
	if (*path_fd < 0)
		return *path_fd;
	fd = stat_fd(*path_fd, &st);
	if (!fd)
		fd = S_ISDIR(st.st_mode) ? -EISDIR : reopen(s, *path_fd, st.st_mode, flags);
	if (fd < 0)
		close(*path_fd);
	return fd;
}

/* The reply is the file's entry and its open handle. */
static int op_create(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_create_in *in = take(r, sizeof(*in));
	struct fuse_entry_out *e;
	struct fuse_open_out *out;
	struct inode *dir;
	const char *name;
	/* A regular file gets no set-id nor sticky bit. */
	mode_t mode = in ? in->mode & 0777 : 0;
	struct stat st;
	int fd, path_fd, flags, err;
	bool made;

	if (!in)
		return -EINVAL;
	err = take_parent_name(s, h->nodeid, r, &dir, &name);
	if (!err)
		err = open_flags(s, in->flags, &flags);
	if (err)
		return err;
	e = put(o, sizeof(*e));
	out = put(o, sizeof(*out));
	if (!e || !out)
		return -ERANGE;
	/* Room first: a file made and then refused would be left behind. */
	if (!s->free_inodes.n || !s->free_handles.n)
		return -ENFILE;
	fd = create_open(s, dir->fd, name, flags, mode, in->flags & O_EXCL, &path_fd, &made);
	if (fd < 0)
		return fd;
	if (made)
		own_new_node(s, h, dir->fd, path_fd);
	err = stat_fd(path_fd, &st);
	/* The guest's kernel applied the guest's umask already: the host's would be one more. */
	if (!err && made && (st.st_mode & 0777) != mode) {
		err = fchmod(fd, mode) ? -errno : 0;
		st.st_mode = (st.st_mode & S_IFMT) | mode;
	}
	if (err) {
		close(path_fd);
		close(fd);
		return err;
	}
	/* Neither fails: both had room. */
	inode_add(s, path_fd, &st, &e->nodeid);
	fill_entry(e, e->nodeid, &st);
	return handle_add(s, fd, false, &out->fh);
}

static int op_write(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_write_in *in;
	struct fuse_write_out *out;
	const void *data;
	ssize_t done;
	int fd, err = take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);

	(void)h;
	if (err)
		return err;
	data = take(r, in->size);
	if (!data)
		return -EINVAL;
	out = put(o, sizeof(*out));
	if (!out)
		return -ERANGE;
	done = pwrite(fd, data, in->size, (off_t)in->offset);
	if (done < 0)
		return -errno;
	out->size = (uint32_t)done;
	return 0;
}

static int op_mkdir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_mkdir_in *in = take(r, sizeof(*in));
	struct inode *dir;
	const char *name;
	int fd, err;

	if (!in)
		return -EINVAL;
	err = take_parent_name(s, h->nodeid, r, &dir, &name);
	if (err)
		return err;
	if (mkdirat(dir->fd, name, in->mode & MODE_BITS))
		return -errno;
	/* As in CREATE, without the host's umask; the name is not followed if it became a link meanwhile. */
	fd = open_name(dir->fd, name, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	own_new_node(s, h, dir->fd, fd);
	err = chmod_handle(s, fd, in->mode);
	close(fd);
	return err ? err : reply_entry(s, dir->fd, name, o);
}

static int remove_entry(struct fs_share *s, const struct fuse_in_header *h, struct req *r, int flags)
{
	struct inode *dir;
	const char *name;
	int err = take_parent_name(s, h->nodeid, r, &dir, &name);

	if (err)
		return err;
	return unlinkat(dir->fd, name, flags) ? -errno : 0;
}

static int op_unlink(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	(void)o;
	return remove_entry(s, h, r, 0);
}

static int op_rmdir(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	(void)o;
	return remove_entry(s, h, r, AT_REMOVEDIR);
}

static int rename_entry(struct fs_share *s, const struct fuse_in_header *h, struct req *r, uint64_t newdir,
			uint32_t flags)
{
	struct inode *from, *to;
	const char *name, *newname;
	int err;

	if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	err = take_parent_name(s, h->nodeid, r, &from, &name);
	if (!err)
		err = take_parent_name(s, newdir, r, &to, &newname);
	if (err)
		return err;
	return renameat2(from->fd, name, to->fd, newname, flags) ? -errno : 0;
}

static int op_rename(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_rename_in *in = take(r, sizeof(*in));

	(void)o;
	return in ? rename_entry(s, h, r, in->newdir, 0) : -EINVAL;
}

static int op_rename2(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_rename2_in *in = take(r, sizeof(*in));

	(void)o;
	return in ? rename_entry(s, h, r, in->newdir, in->flags) : -EINVAL;
}

/* A hard link to the inode itself, whatever its names are now: linkat through /proc/self/fd. */
static int op_link(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_link_in *in = take(r, sizeof(*in));
	struct inode *n, *dir;
	const char *name;
	char self[16];
	int err;

	if (!in)
		return -EINVAL;
	err = inode_get(s, in->oldnodeid, &n);
	if (!err)
		err = take_parent_name(s, h->nodeid, r, &dir, &name);
	if (err)
		return err;
	proc_name(n->fd, self);
	if (linkat(s->proc_fd, self, dir->fd, name, AT_SYMLINK_FOLLOW))
		return -errno;
	return reply_entry(s, dir->fd, name, o);
}

/* The target is only stored: the server never follows it, the guest's VFS does, inside the guest. */
static int op_symlink(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	struct inode *dir;
	const char *name, *target;
	int err = take_parent_name(s, h->nodeid, r, &dir, &name);

	if (err)
		return err;
	target = (const char *)r->p;
	if (!r->left || !memchr(target, '\0', r->left) || !*target)
		return -EINVAL;
	if (symlinkat(target, dir->fd, name))
		return -errno;
	if (s->chown_new) {
		int fd = open_name(dir->fd, name, O_PATH, 0);

		if (fd < 0)
			return fd;
		own_new_node(s, h, dir->fd, fd);
		close(fd);
	}
	return reply_entry(s, dir->fd, name, o);
}

static int op_fallocate(struct fs_share *s, const struct fuse_in_header *h, struct req *r, struct reply *o)
{
	const struct fuse_fallocate_in *in;
	int fd, err = take_handle_args(s, r, sizeof(*in), false, (const void **)&in, &fd);

	(void)h, (void)o;
	if (err)
		return err;
	return fallocate(fd, (int)in->mode, (off_t)in->offset, (off_t)in->length) ? -errno : 0;
}

static const struct op {
	op_fn *fn;
	bool changes;		/* answered EROFS on a read-only share */
	bool no_reply;
} ops[] = {
	[FUSE_INIT] = { .fn = op_init },
	[FUSE_DESTROY] = { .fn = op_destroy },
	[FUSE_LOOKUP] = { .fn = op_lookup },
	[FUSE_FORGET] = { .fn = op_forget, .no_reply = true },
	[FUSE_BATCH_FORGET] = { .fn = op_batch_forget, .no_reply = true },
	[FUSE_GETATTR] = { .fn = op_getattr },
	[FUSE_STATFS] = { .fn = op_statfs },
	[FUSE_READLINK] = { .fn = op_readlink },
	[FUSE_OPENDIR] = { .fn = op_opendir },
	[FUSE_READDIR] = { .fn = op_readdir },
	[FUSE_READDIRPLUS] = { .fn = op_readdirplus },
	[FUSE_RELEASEDIR] = { .fn = op_releasedir },
	[FUSE_OPEN] = { .fn = op_open },
	[FUSE_READ] = { .fn = op_read },
	[FUSE_RELEASE] = { .fn = op_release },
	[FUSE_FLUSH] = { .fn = op_flush },
	[FUSE_FSYNC] = { .fn = op_fsync },
	[FUSE_LSEEK] = { .fn = op_lseek },
	[FUSE_SETATTR] = { .fn = op_setattr, .changes = true },
	[FUSE_CREATE] = { .fn = op_create, .changes = true },
	[FUSE_WRITE] = { .fn = op_write, .changes = true },
	[FUSE_MKDIR] = { .fn = op_mkdir, .changes = true },
	[FUSE_UNLINK] = { .fn = op_unlink, .changes = true },
	[FUSE_RMDIR] = { .fn = op_rmdir, .changes = true },
	[FUSE_RENAME] = { .fn = op_rename, .changes = true },
	[FUSE_RENAME2] = { .fn = op_rename2, .changes = true },
	[FUSE_LINK] = { .fn = op_link, .changes = true },
	[FUSE_SYMLINK] = { .fn = op_symlink, .changes = true },
	[FUSE_FALLOCATE] = { .fn = op_fallocate, .changes = true },
};

bool fs_share_no_reply(uint32_t opcode)
{
	return opcode < sizeof(ops) / sizeof(ops[0]) && ops[opcode].no_reply;
}

int fs_share_serve(struct fs_share *s, const void *req, size_t req_len, void *reply, size_t reply_cap,
		   size_t *reply_len)
{
	struct fuse_in_header h;
	struct fuse_out_header *oh = reply;
	struct reply o = { .p = reply, .cap = reply_cap, .len = sizeof(*oh) };
	struct req r = { .p = (const uint8_t *)req + sizeof(h) };
	const struct op *op = NULL;
	size_t ext;
	int err;

	*reply_len = 0;
	if (req_len < sizeof(h) || reply_cap < sizeof(*oh))
		return -EINVAL;
	memcpy(&h, req, sizeof(h));
	/* Extensions (a security context, groups) come last; none is negotiated, so they are only skipped. */
	ext = (size_t)h.total_extlen * 8;
	if (h.opcode < sizeof(ops) / sizeof(ops[0]) && ops[h.opcode].fn)
		op = &ops[h.opcode];
	if (h.len < sizeof(h) + ext || h.len > req_len) {
		err = -EINVAL;
	} else if (!op) {
		err = -ENOSYS;
	} else if (!s->initialized && h.opcode != FUSE_INIT) {
		err = -EIO;
	} else if (op->changes && s->readonly) {
		err = -EROFS;
	} else {
		r.left = h.len - sizeof(h) - ext;
		err = op->fn(s, &h, &r, &o);
	}
	/* Not even an error goes back: the kernel waits for no answer to these. */
	if (fs_share_no_reply(h.opcode))
		return 0;
	if (err)
		o.len = sizeof(*oh);
	*oh = (struct fuse_out_header){ .len = (uint32_t)o.len, .error = err, .unique = h.unique };
	*reply_len = o.len;
	return 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

int fs_share_open(struct fs_share **sp, int dirfd, bool readonly, const struct fs_share_limits *limits,
		  struct errmsg *e)
{
	const size_t write_header = sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in);
	struct fs_share *s;
	struct stat st;
	uint32_t i;
	int fd, err;

	if (limits->max_inodes < 1 || limits->max_handles < 1)
		return errmsg_set(e, EINVAL, "the share's limits must allow an inode and a handle");
	if (limits->max_request < write_header + PAGE)
		return errmsg_set(e, EINVAL, "the share's request size must hold one page's write, %zu bytes",
				  write_header + PAGE);
	s = calloc(1, sizeof(*s));
	if (!s)
		return errmsg_set(e, ENOMEM, "out of memory for a share");
	s->readonly = readonly;
	s->chown_new = geteuid() == 0;
	s->proc_fd = -1;
	s->max_write = (uint32_t)((limits->max_request - write_header) / PAGE * PAGE);
	if (s->max_write / PAGE > UINT16_MAX)
		s->max_write = UINT16_MAX * PAGE;
	s->max_inodes = limits->max_inodes;
	s->max_handles = limits->max_handles;
	s->nbuckets = pow2_at_least(limits->max_inodes);
	s->inodes = calloc(s->max_inodes, sizeof(*s->inodes));
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	s->handles = calloc(s->max_handles, sizeof(*s->handles));
	if (!s->inodes || !s->buckets || !s->handles || stack_init(&s->free_inodes, s->max_inodes) ||
	    stack_init(&s->free_handles, s->max_handles)) {
		fs_share_close(s);
		return errmsg_set(e, ENOMEM, "out of memory for a share of %u inodes and %u handles",
				  limits->max_inodes, limits->max_handles);
	}
	for (i = 0; i < s->max_inodes; i++)
		s->inodes[i].fd = -1;
	for (i = 0; i < s->max_handles; i++)
		s->handles[i].fd = -1;
	s->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->proc_fd < 0) {
		err = errmsg_set(e, errno, "/proc/self/fd: %s", strerror(errno));
		fs_share_close(s);
		return err;
	}
	fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || stat_fd(fd, &st)) {
		err = errmsg_set(e, errno, "the shared directory: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		fs_share_close(s);
		return err;
	}
	/* The root takes the first slot: node id FUSE_ROOT_ID. */
	inode_add(s, fd, &st, &(uint64_t){ 0 });
	*sp = s;
	return 0;
}

void fs_share_close(struct fs_share *s)
{
	if (!s)
		return;
	if (s->inodes && s->handles && s->free_inodes.slot && s->free_handles.slot) {
		release_all(s);
		if (s->inodes[FUSE_ROOT_ID - 1].fd >= 0)
			close(s->inodes[FUSE_ROOT_ID - 1].fd);
	}
	if (s->proc_fd >= 0)
		close(s->proc_fd);
	free(s->free_inodes.slot);
	free(s->free_handles.slot);
	free(s->inodes);
	free(s->buckets);
	free(s->handles);
	free(s);
}
