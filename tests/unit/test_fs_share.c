// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../common/test_files.h"
#include "fs/share.h"

#define REQUEST_MAX (64 * 1024 + 4096)
#define NO_REPLY INT32_MIN

/* A share of a fresh temporary tree: top/share is shared, top/outside is what must stay out of reach. */
struct fixture {
	char top[64];
	char share[80];
	int dirfd;
	struct fs_share *s;
	_Alignas(8) uint8_t req[REQUEST_MAX];
	_Alignas(8) uint8_t reply[REQUEST_MAX];
	size_t reply_len;
	uint32_t uid, gid;	/* the requester's, in every header */
};

static const struct fs_share_limits limits = { .max_inodes = 64, .max_handles = 16, .max_request = REQUEST_MAX };

/* Sends one request: a header, arg, then each non-NULL name with its NUL. Returns the reply's error field. */
static int32_t call_at(struct fixture *f, size_t reply_cap, uint32_t opcode, uint64_t nodeid, const void *arg,
		       size_t arg_len, const char *name, const char *name2)
{
	struct fuse_in_header *h = (void *)f->req;
	const struct fuse_out_header *oh = (const void *)f->reply;
	size_t len = sizeof(*h);

	memset(h, 0, sizeof(*h));
	if (arg_len)
		memcpy(f->req + len, arg, arg_len);
	len += arg_len;
	for (const char *n = name; n; n = n == name ? name2 : NULL) {
		memcpy(f->req + len, n, strlen(n) + 1);
		len += strlen(n) + 1;
	}
	*h = (struct fuse_in_header){ .len = (uint32_t)len, .opcode = opcode, .unique = 42, .nodeid = nodeid,
				      .uid = f->uid, .gid = f->gid };
	assert_int_equal(fs_share_serve(f->s, f->req, len, f->reply, reply_cap, &f->reply_len), 0);
	if (!f->reply_len)
		return NO_REPLY;
	assert_true(f->reply_len <= reply_cap);
	assert_int_equal(oh->len, f->reply_len);
	assert_int_equal(oh->unique, 42);
	assert_true(oh->error <= 0);
	if (oh->error)
		assert_int_equal(f->reply_len, sizeof(*oh));
	return oh->error;
}

static int32_t call(struct fixture *f, uint32_t opcode, uint64_t nodeid, const void *arg, size_t arg_len,
		    const char *name, const char *name2)
{
	return call_at(f, sizeof(f->reply), opcode, nodeid, arg, arg_len, name, name2);
}

static const void *body(const struct fixture *f)
{
	return f->reply + sizeof(struct fuse_out_header);
}

static size_t body_len(const struct fixture *f)
{
	return f->reply_len - sizeof(struct fuse_out_header);
}

static void init(struct fixture *f)
{
	const struct fuse_init_in in = { .major = 7, .minor = 38, .max_readahead = 65536,
					 .flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES | FUSE_POSIX_LOCKS };

	assert_int_equal(call(f, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL), 0);
}

static void share_open(struct fixture *f, bool readonly, const struct fs_share_limits *l)
{
	struct errmsg e = { "" };

	assert_int_equal(fs_share_open(&f->s, f->dirfd, readonly, l, &e), 0);
	init(f);
}

static struct fixture *fixture_new(bool readonly, const struct fs_share_limits *l)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[160];

	assert_non_null(f);
	/* Each test's own limit (every test makes a fixture first): a hang fails, never stalls make. */
	alarm(30);
	strcpy(f->top, "/tmp/kvmini-share-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->share, sizeof(f->share), "%s/share", f->top);
	snprintf(path, sizeof(path), "%s/outside", f->top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/outside/secret", f->top);
	test_write_file(path, "secret");
	assert_int_equal(mkdir(f->share, 0755), 0);
	snprintf(path, sizeof(path), "%s/file", f->share);
	test_write_file(path, "hello");
	snprintf(path, sizeof(path), "%s/dir", f->share);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/inner", f->share);
	test_write_file(path, "inner");
	snprintf(path, sizeof(path), "%s/root", f->share);
	assert_int_equal(symlink("/", path), 0);
	snprintf(path, sizeof(path), "%s/out", f->share);
	assert_int_equal(symlink("../outside", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", f->share);
	assert_int_equal(mkfifo(path, 0644), 0);
	f->dirfd = open(f->share, O_PATH | O_DIRECTORY);
	assert_true(f->dirfd >= 0);
	share_open(f, readonly, l);
	return f;
}

static void fixture_free(struct fixture *f)
{
	char cmd[128];

	fs_share_close(f->s);
	close(f->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
}

static int setup(void **state)
{
	*state = fixture_new(false, &limits);
	return 0;
}

static int setup_readonly(void **state)
{
	*state = fixture_new(true, &limits);
	return 0;
}

static int teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static uint64_t lookup(struct fixture *f, uint64_t parent, const char *name)
{
	assert_int_equal(call(f, FUSE_LOOKUP, parent, NULL, 0, name, NULL), 0);
	return ((const struct fuse_entry_out *)body(f))->nodeid;
}

static void forget(struct fixture *f, uint64_t nodeid, uint64_t n)
{
	const struct fuse_forget_in in = { .nlookup = n };

	assert_int_equal(call(f, FUSE_FORGET, nodeid, &in, sizeof(in), NULL, NULL), NO_REPLY);
}

static int32_t open_node(struct fixture *f, uint32_t opcode, uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
	const struct fuse_open_in in = { .flags = flags };
	int32_t err = call(f, opcode, nodeid, &in, sizeof(in), NULL, NULL);

	if (!err)
		*fh = ((const struct fuse_open_out *)body(f))->fh;
	return err;
}

static int32_t release(struct fixture *f, uint32_t opcode, uint64_t fh)
{
	const struct fuse_release_in in = { .fh = fh };

	return call(f, opcode, FUSE_ROOT_ID, &in, sizeof(in), NULL, NULL);
}

static int32_t read_at(struct fixture *f, uint32_t opcode, uint64_t fh, uint64_t offset, uint32_t size)
{
	const struct fuse_read_in in = { .fh = fh, .offset = offset, .size = size };

	return call(f, opcode, FUSE_ROOT_ID, &in, sizeof(in), NULL, NULL);
}

/* Makes and opens name under parent; the file handle goes to *fh, the node id is returned. */
static uint64_t create(struct fixture *f, uint64_t parent, const char *name, uint32_t mode, uint64_t *fh)
{
	const struct fuse_create_in in = { .flags = O_RDWR | O_CREAT | O_EXCL, .mode = S_IFREG | mode };
	const struct fuse_entry_out *e = body(f);

	assert_int_equal(call(f, FUSE_CREATE, parent, &in, sizeof(in), name, NULL), 0);
	assert_int_equal(body_len(f), sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out));
	*fh = ((const struct fuse_open_out *)(e + 1))->fh;
	return e->nodeid;
}

static void test_init_negotiates_what_the_header_has(void **state)
{
	struct fixture *f = *state;
	struct fuse_init_in in = { .major = 7, .minor = 99, .flags = FUSE_MAX_PAGES | FUSE_WRITEBACK_CACHE };
	const struct fuse_init_out *out = body(f);

	assert_int_equal(call(f, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL), 0);
	assert_int_equal(out->major, FUSE_KERNEL_VERSION);
	assert_int_equal(out->minor, FUSE_KERNEL_MINOR_VERSION);
	assert_int_equal(out->flags, FUSE_MAX_PAGES);
	/* The largest page multiple that a WRITE's headers leave room for in a request. */
	assert_int_equal(out->max_write, 64 * 1024);
	assert_int_equal(out->max_pages, 16);
	/* A kernel older than ours gets its own minor; before 7.36 it sends only the first four fields. */
	in.minor = 31;
	assert_int_equal(call(f, FUSE_INIT, 0, &in, offsetof(struct fuse_init_in, flags2), NULL, NULL), 0);
	assert_int_equal(out->minor, 31);
	/* A newer major version gets ours alone, to ask again in. */
	in.major = 8;
	assert_int_equal(call(f, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL), 0);
	assert_int_equal(out->major, 7);
	assert_int_equal(out->minor, 0);
	in.major = 7;
	in.minor = 30;
	assert_int_equal(call(f, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL), -EPROTO);
	assert_int_equal(call(f, FUSE_INIT, 0, &in, 12, NULL, NULL), -EINVAL);
}

static void test_nothing_before_init_and_after_destroy(void **state)
{
	struct fixture *f = *state;
	int fds = test_count_fds();
	uint64_t fh;

	lookup(f, FUSE_ROOT_ID, "file");
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh), 0);
	assert_int_equal(test_count_fds(), fds + 2);
	assert_int_equal(call(f, FUSE_DESTROY, 0, NULL, 0, NULL, NULL), 0);
	assert_int_equal(test_count_fds(), fds);
	assert_int_equal(call(f, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL), -EIO);
	init(f);
	assert_int_equal(call(f, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL), 0);
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), -EBADF);
}

static void test_lookup_getattr_forget(void **state)
{
	struct fixture *f = *state;
	const struct fuse_entry_out *e = body(f);
	const struct fuse_attr_out *a = body(f);
	uint64_t file = lookup(f, FUSE_ROOT_ID, "file");
	uint64_t dir;

	assert_int_not_equal(file, FUSE_ROOT_ID);
	assert_int_equal(e->attr.size, 5);
	assert_true(S_ISREG(e->attr.mode));
	/* The same inode keeps its node id, and counts the references. */
	assert_int_equal(lookup(f, FUSE_ROOT_ID, "file"), file);
	dir = lookup(f, FUSE_ROOT_ID, "dir");
	assert_int_equal(call(f, FUSE_LOOKUP, dir, NULL, 0, "inner", NULL), 0);
	assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "missing", NULL), -ENOENT);
	assert_int_equal(call(f, FUSE_GETATTR, file, NULL, 0, NULL, NULL), 0);
	assert_int_equal(a->attr.size, 5);
	forget(f, file, 1);
	assert_int_equal(call(f, FUSE_GETATTR, file, NULL, 0, NULL, NULL), 0);
	forget(f, file, 1);
	assert_int_equal(call(f, FUSE_GETATTR, file, NULL, 0, NULL, NULL), -ENOENT);
	/* The root is never forgotten. */
	forget(f, FUSE_ROOT_ID, 100);
	assert_int_equal(call(f, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL), 0);
	assert_int_equal(call(f, FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, NULL, NULL), 0);
	assert_true(((const struct fuse_statfs_out *)body(f))->st.bsize > 0);
}

static void test_batch_forget_takes_what_the_request_holds(void **state)
{
	struct fixture *f = *state;
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[2];
	} b = { .in = { .count = 1000000 } };

	b.one[0] = (struct fuse_forget_one){ .nodeid = lookup(f, FUSE_ROOT_ID, "file"), .nlookup = 1 };
	b.one[1] = (struct fuse_forget_one){ .nodeid = lookup(f, FUSE_ROOT_ID, "dir"), .nlookup = 5 };
	assert_int_equal(call(f, FUSE_BATCH_FORGET, 0, &b, sizeof(b), NULL, NULL), NO_REPLY);
	assert_int_equal(call(f, FUSE_GETATTR, b.one[0].nodeid, NULL, 0, NULL, NULL), -ENOENT);
	assert_int_equal(call(f, FUSE_GETATTR, b.one[1].nodeid, NULL, 0, NULL, NULL), -ENOENT);
	assert_int_equal(call(f, FUSE_BATCH_FORGET, 0, &b, 4, NULL, NULL), NO_REPLY);
}

static void test_bad_names(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "", ".", "..", "a/b", "/", "dir/inner", "../outside" };
	struct fuse_in_header *h = (void *)f->req;
	uint64_t fh;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, bad[i], NULL), -EINVAL);
		assert_int_equal(call(f, FUSE_MKDIR, FUSE_ROOT_ID, &(struct fuse_mkdir_in){ .mode = 0755 },
				      sizeof(struct fuse_mkdir_in), bad[i], NULL), -EINVAL);
	}
	/* A name without its NUL: the request ends first, though the buffer goes on. */
	assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "file", NULL), 0);
	h->len--;
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h) + 5, f->reply, sizeof(f->reply), &f->reply_len), 0);
	assert_int_equal(((const struct fuse_out_header *)f->reply)->error, -EINVAL);
	assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, NULL, NULL), -EINVAL);
	/* RENAME's second name is checked as its first. */
	assert_int_equal(call(f, FUSE_RENAME, FUSE_ROOT_ID, &(struct fuse_rename_in){ .newdir = FUSE_ROOT_ID },
			      sizeof(struct fuse_rename_in), "file", ".."), -EINVAL);
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_RDWR },
			      sizeof(struct fuse_create_in), "a/b", NULL), -EINVAL);
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh), 0);
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), 0);
}

static void test_bad_headers_and_lengths(void **state)
{
	struct fixture *f = *state;
	struct fuse_in_header *h = (void *)f->req;
	const struct fuse_out_header *oh = (const void *)f->reply;
	const struct fuse_read_in rd = { .fh = 1, .size = 10 };
	uint64_t fh;

	/* Too short for a header, or no room for the reply's: nothing to answer with. */
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h) - 1, f->reply, sizeof(f->reply), &f->reply_len),
			 -EINVAL);
	assert_int_equal(f->reply_len, 0);
	assert_int_equal(call(f, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL), 0);
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h), f->reply, sizeof(*oh) - 1, &f->reply_len), -EINVAL);
	/* len past the request, or short of its own header and extensions. */
	h->len = sizeof(*h) + 1;
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h), f->reply, sizeof(f->reply), &f->reply_len), 0);
	assert_int_equal(oh->error, -EINVAL);
	h->len = sizeof(*h) - 1;
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h), f->reply, sizeof(f->reply), &f->reply_len), 0);
	assert_int_equal(oh->error, -EINVAL);
	h->len = sizeof(*h);
	h->total_extlen = 1;
	assert_int_equal(fs_share_serve(f->s, f->req, sizeof(*h), f->reply, sizeof(f->reply), &f->reply_len), 0);
	assert_int_equal(oh->error, -EINVAL);
	/* Arguments cut short. */
	assert_int_equal(call(f, FUSE_READ, FUSE_ROOT_ID, &rd, sizeof(rd) - 1, NULL, NULL), -EINVAL);
	assert_int_equal(call(f, FUSE_OPEN, FUSE_ROOT_ID, &rd, 4, NULL, NULL), -EINVAL);
	/* A WRITE whose data is shorter than its size, on a handle that is open. */
	assert_int_equal(open_node(f, FUSE_OPEN, lookup(f, FUSE_ROOT_ID, "file"), O_RDWR, &fh), 0);
	assert_int_equal(call(f, FUSE_WRITE, FUSE_ROOT_ID, &(struct fuse_write_in){ .fh = fh, .size = 100 },
			      sizeof(struct fuse_write_in), "short", NULL), -EINVAL);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
	assert_int_equal(call(f, 9999, FUSE_ROOT_ID, NULL, 0, NULL, NULL), -ENOSYS);
	assert_int_equal(call(f, FUSE_MKNOD, FUSE_ROOT_ID, NULL, 0, "dev", NULL), -ENOSYS);
	/* A reply with no room for its answer. */
	assert_int_equal(call_at(f, sizeof(*oh) + 8, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL), -ERANGE);
}

static void test_unknown_node_ids_and_handles(void **state)
{
	struct fixture *f = *state;
	static const uint64_t bad[] = { 0, 2, 63, 64, 65, 1ull << 40, UINT64_MAX };
	uint64_t fh;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(call(f, FUSE_GETATTR, bad[i], NULL, 0, NULL, NULL), -ENOENT);
		assert_int_equal(call(f, FUSE_LOOKUP, bad[i], NULL, 0, "file", NULL), -ENOENT);
		assert_int_equal(read_at(f, FUSE_READ, bad[i], 0, 10), -EBADF);
		assert_int_equal(release(f, FUSE_RELEASE, bad[i]), -EBADF);
	}
	/* A handle is of the kind it was opened as. */
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh), 0);
	assert_int_equal(read_at(f, FUSE_READ, fh, 0, 10), -EBADF);
	assert_int_equal(release(f, FUSE_RELEASE, fh), -EBADF);
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), 0);
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), -EBADF);
}

static void test_symlinks_are_never_followed(void **state)
{
	struct fixture *f = *state;
	uint64_t root = lookup(f, FUSE_ROOT_ID, "root");
	uint64_t out = lookup(f, FUSE_ROOT_ID, "out");
	const struct fuse_create_in c = { .flags = O_RDWR, .mode = 0644 };
	uint64_t fh;

	/* LOOKUP gives the link itself. */
	assert_true(S_ISLNK(((const struct fuse_entry_out *)body(f))->attr.mode));
	assert_int_equal(call(f, FUSE_READLINK, root, NULL, 0, NULL, NULL), 0);
	assert_int_equal(body_len(f), 1);
	assert_memory_equal(body(f), "/", 1);
	assert_int_equal(call(f, FUSE_READLINK, FUSE_ROOT_ID, NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(open_node(f, FUSE_OPEN, root, O_RDONLY, &fh), -ELOOP);
	assert_int_equal(open_node(f, FUSE_OPENDIR, root, O_RDONLY, &fh), -ENOTDIR);
	/* A link is no directory to look up, make or open in. */
	assert_int_equal(call(f, FUSE_LOOKUP, root, NULL, 0, "etc", NULL), -ENOTDIR);
	assert_int_equal(call(f, FUSE_LOOKUP, out, NULL, 0, "secret", NULL), -ENOTDIR);
	assert_int_not_equal(call(f, FUSE_CREATE, out, &c, sizeof(c), "new", NULL), 0);
	/* Nor is it opened, or written through, by its own name. */
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &c, sizeof(c), "out", NULL), -ELOOP);
	assert_int_equal(call(f, FUSE_SETATTR, out, &(struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = 0777 },
			      sizeof(struct fuse_setattr_in), NULL, NULL), -EOPNOTSUPP);
	assert_int_equal(call(f, FUSE_SETATTR, out, &(struct fuse_setattr_in){ .valid = FATTR_SIZE },
			      sizeof(struct fuse_setattr_in), NULL, NULL), -EINVAL);
}

/* Every entry of the root through READDIR or READDIRPLUS, size bytes a request; each name once. */
static int list_root(struct fixture *f, uint32_t opcode, uint32_t size, char names[][16], int max)
{
	uint64_t fh, offset = 0;
	int n = 0;

	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh), 0);
	for (;;) {
		size_t at = 0;

		assert_int_equal(read_at(f, opcode, fh, offset, size), 0);
		assert_true(body_len(f) <= size);
		if (!body_len(f))
			break;
		while (at < body_len(f)) {
			const uint8_t *p = (const uint8_t *)body(f) + at;
			const struct fuse_dirent *d = (const void *)p;

			if (opcode == FUSE_READDIRPLUS) {
				const struct fuse_direntplus *dp = (const void *)p;

				d = &dp->dirent;
				if (dp->entry_out.nodeid)
					assert_int_equal(dp->entry_out.attr.ino, d->ino);
				at += FUSE_DIRENTPLUS_SIZE(dp);
			} else {
				at += FUSE_DIRENT_SIZE(d);
			}
			assert_true(n < max && d->namelen < 16);
			memcpy(names[n], d->name, d->namelen);
			names[n++][d->namelen] = '\0';
			offset = d->off;
		}
	}
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), 0);
	return n;
}

static bool listed(char names[][16], int n, const char *name)
{
	int found = 0;

	for (int i = 0; i < n; i++)
		found += !strcmp(names[i], name);
	assert_true(found <= 1);
	return found == 1;
}

static void test_readdir_and_readdirplus(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = { ".", "..", "file", "dir", "root", "out", "fifo" };
	char names[16][16];
	const uint32_t sizes[] = { 4096, 200, 80 };

	for (int plus = 0; plus < 2; plus++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			int n = list_root(f, plus ? FUSE_READDIRPLUS : FUSE_READDIR, sizes[k], names, 16);

			/* An entry that fits no request at all ends the listing early, never loops. */
			if (plus && sizes[k] == 80) {
				assert_int_equal(n, 0);
				continue;
			}
			assert_int_equal(n, 7);
			for (size_t i = 0; i < 7; i++)
				assert_true(listed(names, n, want[i]));
		}
	}
	/* READDIRPLUS looked each entry up: "file" is known now, under the id a LOOKUP gets. */
	assert_int_equal(lookup(f, FUSE_ROOT_ID, "file"), lookup(f, FUSE_ROOT_ID, "file"));
	assert_int_equal(read_at(f, FUSE_READDIR, 7, 0, 4096), -EBADF);
}

/*
 * rm -r: each READDIR's names are unlinked before the next READDIR, which
 * asks for the offset the last one stopped at; every entry is still seen
 * (where offsets are positions, tmpfs before Linux 6.6, seeking back there
 * would skip as many as were unlinked), and the directory ends up empty.
 */
static void test_listing_while_removing_sees_everything(void **state)
{
	struct fixture *f = *state;
	uint64_t dir, fh, offset = 0;
	char path[160];
	int seen = 0, removed = 0;

	snprintf(path, sizeof(path), "%s/many", f->share);
	assert_int_equal(mkdir(path, 0755), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "%s/many/file-%d", f->share, i);
		test_write_file(path, "x");
	}
	dir = lookup(f, FUSE_ROOT_ID, "many");
	assert_int_equal(open_node(f, FUSE_OPENDIR, dir, O_RDONLY, &fh), 0);
	for (;;) {
		char names[16][16];
		size_t at = 0;
		int n = 0;

		assert_int_equal(read_at(f, FUSE_READDIR, fh, offset, 256), 0);
		if (!body_len(f))
			break;
		for (; at < body_len(f); n++) {
			const struct fuse_dirent *d = (const void *)((const uint8_t *)body(f) + at);

			assert_true(n < 16 && d->namelen < 16);
			memcpy(names[n], d->name, d->namelen);
			names[n][d->namelen] = '\0';
			offset = d->off;
			at += FUSE_DIRENT_SIZE(d);
		}
		seen += n;
		for (int i = 0; i < n; i++)
			if (strcmp(names[i], ".") && strcmp(names[i], "..")) {
				assert_int_equal(call(f, FUSE_UNLINK, dir, NULL, 0, names[i], NULL), 0);
				removed++;
			}
	}
	assert_int_equal(seen, 302);
	assert_int_equal(removed, 300);
	/* Back to the start: sought again, and only . and .. are left. */
	assert_int_equal(read_at(f, FUSE_READDIR, fh, 0, 4096), 0);
	assert_int_equal(body_len(f), 2 * FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + 2));
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh), 0);
	assert_int_equal(call(f, FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "many", NULL), 0);
}

/* Opening a FIFO would wait for a writer, a device node reach past the share: only files and directories open. */
static void test_special_files_do_not_open(void **state)
{
	struct fixture *f = *state;
	uint64_t fifo = lookup(f, FUSE_ROOT_ID, "fifo");
	uint64_t fh;

	assert_true(S_ISFIFO(((const struct fuse_entry_out *)body(f))->attr.mode));
	assert_int_equal(open_node(f, FUSE_OPEN, fifo, O_RDONLY, &fh), -ENXIO);
	assert_int_equal(open_node(f, FUSE_OPEN, fifo, O_WRONLY, &fh), -ENXIO);
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_WRONLY },
			      sizeof(struct fuse_create_in), "fifo", NULL), -ENXIO);
	assert_int_equal(call(f, FUSE_SETATTR, fifo, &(struct fuse_setattr_in){ .valid = FATTR_SIZE },
			      sizeof(struct fuse_setattr_in), NULL, NULL), -EINVAL);
}

static void test_open_read_seek_release(void **state)
{
	struct fixture *f = *state;
	uint64_t file = lookup(f, FUSE_ROOT_ID, "file");
	const struct fuse_fsync_in sync = { .fh = 0, .fsync_flags = FUSE_FSYNC_FDATASYNC };
	struct fuse_lseek_in seek = { .offset = 0, .whence = SEEK_HOLE };
	uint64_t fh;

	assert_int_equal(open_node(f, FUSE_OPEN, FUSE_ROOT_ID, O_RDONLY, &fh), -EISDIR);
	assert_int_equal(open_node(f, FUSE_OPENDIR, file, O_RDONLY, &fh), -ENOTDIR);
	assert_int_equal(open_node(f, FUSE_OPEN, file, O_RDONLY, &fh), 0);
	assert_int_equal(read_at(f, FUSE_READ, fh, 1, 100), 0);
	assert_int_equal(body_len(f), 4);
	assert_memory_equal(body(f), "ello", 4);
	/* A read is cut to the reply's room. */
	assert_int_equal(call_at(f, sizeof(struct fuse_out_header) + 2, FUSE_READ, 0,
				 &(struct fuse_read_in){ .fh = fh, .size = 100 }, sizeof(struct fuse_read_in),
				 NULL, NULL), 0);
	assert_int_equal(body_len(f), 2);
	seek.fh = fh;
	assert_int_equal(call(f, FUSE_LSEEK, file, &seek, sizeof(seek), NULL, NULL), 0);
	assert_int_equal(((const struct fuse_lseek_out *)body(f))->offset, 5);
	seek.whence = SEEK_DATA;
	seek.offset = 6;
	assert_int_equal(call(f, FUSE_LSEEK, file, &seek, sizeof(seek), NULL, NULL), -ENXIO);
	seek.whence = 77;
	assert_int_equal(call(f, FUSE_LSEEK, file, &seek, sizeof(seek), NULL, NULL), -EINVAL);
	assert_int_equal(call(f, FUSE_FLUSH, file, &(struct fuse_flush_in){ .fh = fh }, sizeof(struct fuse_flush_in),
			      NULL, NULL), 0);
	assert_int_equal(call(f, FUSE_FSYNC, file, &(struct fuse_fsync_in){ .fh = fh }, sizeof(sync), NULL, NULL), 0);
	assert_int_equal(call(f, FUSE_FSYNC, file, &sync, sizeof(sync), NULL, NULL), -EBADF);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
	assert_int_equal(read_at(f, FUSE_READ, fh, 0, 100), -EBADF);
}

static void test_create_write_and_change(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct stat st;
	uint64_t fh, fh2;
	uint64_t node = create(f, FUSE_ROOT_ID, "new", 06777, &fh);
	struct {
		struct fuse_write_in in;
		char data[5];
	} w = { { .fh = fh, .offset = 1 << 20, .size = 5 }, "world" };
	struct fuse_setattr_in sa = { .valid = FATTR_MODE, .mode = 04700 };
	struct fuse_lseek_in seek = { .fh = fh, .whence = SEEK_DATA };
	const struct fuse_attr_out *a = body(f);

	/* No set-id bits, whatever the guest asks for. */
	snprintf(path, sizeof(path), "%s/new", f->share);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(call(f, FUSE_WRITE, node, &w, sizeof(w), NULL, NULL), 0);
	assert_int_equal(((const struct fuse_write_out *)body(f))->size, 5);
	assert_int_equal(call(f, FUSE_LSEEK, node, &seek, sizeof(seek), NULL, NULL), 0);
	assert_int_equal(((const struct fuse_lseek_out *)body(f))->offset & ~4095ull, 1 << 20);
	assert_int_equal(read_at(f, FUSE_READ, fh, 1 << 20, 10), 0);
	assert_memory_equal(body(f), "world", 5);
	assert_int_equal(call(f, FUSE_SETATTR, node, &sa, sizeof(sa), NULL, NULL), 0);
	assert_int_equal(a->attr.mode & 07777, 0700);
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh, .size = 3 };
	assert_int_equal(call(f, FUSE_SETATTR, node, &sa, sizeof(sa), NULL, NULL), 0);
	assert_int_equal(a->attr.size, 3);
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_MTIME | FATTR_UID, .size = 2, .mtime = 1000000,
				       .uid = getuid() };
	assert_int_equal(call(f, FUSE_SETATTR, node, &sa, sizeof(sa), NULL, NULL), 0);
	assert_int_equal(a->attr.size, 2);
	assert_int_equal(a->attr.mtime, 1000000);
	assert_int_equal(call(f, FUSE_FALLOCATE, node, &(struct fuse_fallocate_in){ .fh = fh, .length = 8192 },
			      sizeof(struct fuse_fallocate_in), NULL, NULL), 0);
	assert_int_equal(call(f, FUSE_GETATTR, node, NULL, 0, NULL, NULL), 0);
	assert_int_equal(a->attr.size, 8192);
	/* CREATE without O_EXCL opens what is there; with it, refuses. */
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_RDWR },
			      sizeof(struct fuse_create_in), "new", NULL), 0);
	assert_int_equal(((const struct fuse_entry_out *)body(f))->nodeid, node);
	fh2 = ((const struct fuse_open_out *)((const struct fuse_entry_out *)body(f) + 1))->fh;
	assert_int_equal(release(f, FUSE_RELEASE, fh2), 0);
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_RDWR | O_EXCL },
			      sizeof(struct fuse_create_in), "new", NULL), -EEXIST);
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_RDWR },
			      sizeof(struct fuse_create_in), "dir", NULL), -EISDIR);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
}

/* Checks the owner of top/share/name: the requester's as root, else the server's own. */
static void expect_owner(const struct fixture *f, const char *name, uid_t uid, gid_t gid)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->share, name);
	assert_int_equal(lstat(path, &st), 0);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, uid);
		assert_int_equal(st.st_gid, gid);
	} else {
		assert_int_equal(st.st_uid, geteuid());
	}
}

/* As root the server gives new nodes the requester's uid and gid: a container's root file system keeps its owners. */
static void test_new_nodes_belong_to_the_requester(void **state)
{
	struct fixture *f = *state;
	const struct fuse_mkdir_in mk = { .mode = 0755 };
	struct fuse_link_in link_in = { 0 };
	char path[160];
	uint64_t fh, sgid;

	f->uid = 1234;
	f->gid = 5678;
	create(f, FUSE_ROOT_ID, "made", 0644, &fh);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
	expect_owner(f, "made", 1234, 5678);
	assert_int_equal(call(f, FUSE_MKDIR, FUSE_ROOT_ID, &mk, sizeof(mk), "made-dir", NULL), 0);
	expect_owner(f, "made-dir", 1234, 5678);
	assert_int_equal(call(f, FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0, "made-link", "made"), 0);
	expect_owner(f, "made-link", 1234, 5678);
	/* A hard link is the same inode: its owner stays. */
	link_in.oldnodeid = lookup(f, FUSE_ROOT_ID, "file");
	assert_int_equal(call(f, FUSE_LINK, FUSE_ROOT_ID, &link_in, sizeof(link_in), "linked", NULL), 0);
	expect_owner(f, "linked", geteuid(), getegid());
	/* A set-group-ID directory gives its own group, as the host kernel does. */
	snprintf(path, sizeof(path), "%s/sgid", f->share);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(chmod(path, 02775), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(path, 0, 4321), 0);
	sgid = lookup(f, FUSE_ROOT_ID, "sgid");
	create(f, sgid, "inherits", 0644, &fh);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
	expect_owner(f, "sgid/inherits", 1234, 4321);
}

static void test_unlinked_file_stays_readable(void **state)
{
	struct fixture *f = *state;
	uint64_t file = lookup(f, FUSE_ROOT_ID, "file");
	uint64_t fh;

	assert_int_equal(open_node(f, FUSE_OPEN, file, O_RDONLY, &fh), 0);
	assert_int_equal(call(f, FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, "file", NULL), 0);
	assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "file", NULL), -ENOENT);
	assert_int_equal(read_at(f, FUSE_READ, fh, 0, 100), 0);
	assert_int_equal(body_len(f), 5);
	assert_memory_equal(body(f), "hello", 5);
	assert_int_equal(call(f, FUSE_GETATTR, file, NULL, 0, NULL, NULL), 0);
	assert_int_equal(((const struct fuse_attr_out *)body(f))->attr.nlink, 0);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
}

static void test_directories_links_and_renames(void **state)
{
	struct fixture *f = *state;
	const struct fuse_mkdir_in md = { .mode = 07777 };
	struct fuse_rename2_in rn = { .newdir = FUSE_ROOT_ID, .flags = RENAME_NOREPLACE };
	const struct fuse_link_in ln = { .oldnodeid = lookup(f, FUSE_ROOT_ID, "file") };
	char path[160], target[32] = "";
	struct stat st;
	uint64_t sub;

	assert_int_equal(call(f, FUSE_MKDIR, FUSE_ROOT_ID, &md, sizeof(md), "sub", NULL), 0);
	sub = ((const struct fuse_entry_out *)body(f))->nodeid;
	snprintf(path, sizeof(path), "%s/sub", f->share);
	assert_int_equal(stat(path, &st), 0);
	/* As asked, the host's umask aside (the guest's own is applied by its kernel), without set-id bits. */
	assert_int_equal(st.st_mode & 07777, 01777);
	assert_int_equal(call(f, FUSE_MKDIR, FUSE_ROOT_ID, &md, sizeof(md), "sub", NULL), -EEXIST);
	assert_int_equal(call(f, FUSE_LINK, sub, &ln, sizeof(ln), "hard", NULL), 0);
	assert_int_equal(((const struct fuse_entry_out *)body(f))->nodeid, ln.oldnodeid);
	assert_int_equal(((const struct fuse_entry_out *)body(f))->attr.nlink, 2);
	assert_int_equal(call(f, FUSE_SYMLINK, sub, NULL, 0, "soft", "../../outside/secret"), 0);
	snprintf(path, sizeof(path), "%s/sub/soft", f->share);
	assert_int_equal(readlink(path, target, sizeof(target) - 1), 20);
	assert_int_equal(call(f, FUSE_SYMLINK, sub, NULL, 0, "empty", ""), -EINVAL);
	/* NOREPLACE refuses, EXCHANGE swaps, plain RENAME replaces. */
	assert_int_equal(call(f, FUSE_RENAME2, sub, &rn, sizeof(rn), "hard", "dir"), -EEXIST);
	rn.flags = RENAME_EXCHANGE;
	assert_int_equal(call(f, FUSE_RENAME2, sub, &rn, sizeof(rn), "hard", "dir"), 0);
	snprintf(path, sizeof(path), "%s/dir", f->share);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	rn.flags = RENAME_WHITEOUT;
	assert_int_equal(call(f, FUSE_RENAME2, sub, &rn, sizeof(rn), "hard", "dir"), -EINVAL);
	assert_int_equal(call(f, FUSE_RENAME, FUSE_ROOT_ID, &(struct fuse_rename_in){ .newdir = sub },
			      sizeof(struct fuse_rename_in), "dir", "moved"), 0);
	assert_int_equal(call(f, FUSE_RMDIR, sub, NULL, 0, "moved", NULL), -ENOTDIR);
	assert_int_equal(call(f, FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "sub", NULL), -ENOTEMPTY);
	assert_int_equal(call(f, FUSE_UNLINK, sub, NULL, 0, "moved", NULL), 0);
	assert_int_equal(call(f, FUSE_UNLINK, sub, NULL, 0, "soft", NULL), 0);
	assert_int_equal(call(f, FUSE_UNLINK, lookup(f, sub, "hard"), NULL, 0, "inner", NULL), 0);
	assert_int_equal(call(f, FUSE_RMDIR, sub, NULL, 0, "hard", NULL), 0);
	assert_int_equal(call(f, FUSE_RMDIR, FUSE_ROOT_ID, NULL, 0, "sub", NULL), 0);
	assert_int_equal(call(f, FUSE_GETATTR, sub, NULL, 0, NULL, NULL), 0);
	assert_int_equal(((const struct fuse_attr_out *)body(f))->attr.nlink, 0);
}

static void test_readonly_refuses_every_change(void **state)
{
	struct fixture *f = *state;
	uint64_t file = lookup(f, FUSE_ROOT_ID, "file");
	static const uint32_t changes[] = { FUSE_SETATTR, FUSE_CREATE, FUSE_WRITE, FUSE_MKDIR, FUSE_UNLINK,
					    FUSE_RMDIR, FUSE_RENAME, FUSE_RENAME2, FUSE_LINK, FUSE_SYMLINK,
					    FUSE_FALLOCATE };
	uint8_t args[64] = { 0 };
	uint64_t fh;

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		assert_int_equal(call(f, changes[i], FUSE_ROOT_ID, args, sizeof(args), "x", "y"), -EROFS);
	assert_int_equal(open_node(f, FUSE_OPEN, file, O_WRONLY, &fh), -EROFS);
	assert_int_equal(open_node(f, FUSE_OPEN, file, O_RDWR, &fh), -EROFS);
	assert_int_equal(open_node(f, FUSE_OPEN, file, O_RDONLY | O_TRUNC, &fh), -EROFS);
	assert_int_equal(open_node(f, FUSE_OPEN, file, O_RDONLY, &fh), 0);
	assert_int_equal(read_at(f, FUSE_READ, fh, 0, 100), 0);
	assert_memory_equal(body(f), "hello", 5);
	assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
}

/* A guest that never sends FORGET runs out of node ids, not the host out of file descriptors. */
static void test_inode_and_handle_limits(void **state)
{
	const struct fs_share_limits small = { .max_inodes = 4, .max_handles = 2, .max_request = REQUEST_MAX };
	struct fixture *f = fixture_new(false, &small);
	uint64_t file, fh[2], extra;
	int fds;

	(void)state;
	file = lookup(f, FUSE_ROOT_ID, "file");
	lookup(f, FUSE_ROOT_ID, "dir");
	lookup(f, FUSE_ROOT_ID, "root");
	/* What is refused from here on holds nothing. */
	fds = test_count_fds();
	assert_int_equal(call(f, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "out", NULL), -ENFILE);
	assert_int_equal(call(f, FUSE_CREATE, FUSE_ROOT_ID, &(struct fuse_create_in){ .flags = O_RDWR },
			      sizeof(struct fuse_create_in), "new", NULL), -ENFILE);
	/* Another reference to a known inode needs no room. */
	assert_int_equal(lookup(f, FUSE_ROOT_ID, "file"), file);
	assert_int_equal(test_count_fds(), fds);
	forget(f, file, 2);
	assert_int_not_equal(lookup(f, FUSE_ROOT_ID, "out"), 0);
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh[0]), 0);
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh[1]), 0);
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &extra), -ENFILE);
	assert_int_equal(release(f, FUSE_RELEASEDIR, fh[1]), 0);
	assert_int_equal(open_node(f, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &extra), 0);
	assert_int_equal(extra, fh[1]);
	fixture_free(f);
}

static void test_ten_thousand_files_leak_nothing(void **state)
{
	struct fixture *f = *state;
	int fds = test_count_fds();
	char name[32];

	for (int i = 0; i < 10000; i++) {
		uint64_t fh, node;

		snprintf(name, sizeof(name), "f%d", i);
		node = create(f, FUSE_ROOT_ID, name, 0644, &fh);
		assert_int_equal(release(f, FUSE_RELEASE, fh), 0);
		assert_int_equal(call(f, FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, name, NULL), 0);
		forget(f, node, 1);
	}
	assert_int_equal(test_count_fds(), fds);
}

static void test_open_refuses_bad_limits_and_closes_everything(void **state)
{
	struct fs_share_limits l = limits;
	struct fs_share *s;
	struct errmsg e = { "" };
	int fds = test_count_fds();
	int dirfd = open("/tmp", O_PATH | O_DIRECTORY);

	(void)state;
	alarm(30);
	l.max_inodes = 0;
	assert_int_equal(fs_share_open(&s, dirfd, false, &l, &e), -EINVAL);
	assert_non_null(strstr(e.text, "limits"));
	l = limits;
	l.max_request = 4096;
	assert_int_equal(fs_share_open(&s, dirfd, false, &l, &e), -EINVAL);
	assert_int_equal(fs_share_open(&s, -1, false, &limits, &e), -EBADF);
	assert_non_null(strstr(e.text, "shared directory"));
	assert_int_equal(fs_share_open(&s, dirfd, false, &limits, &e), 0);
	fs_share_close(s);
	close(dirfd);
	assert_int_equal(test_count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_negotiates_what_the_header_has, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_before_init_and_after_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_getattr_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_forget_takes_what_the_request_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers_and_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_node_ids_and_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_are_never_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_and_readdirplus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_while_removing_sees_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_files_do_not_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_read_seek_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_write_and_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_nodes_belong_to_the_requester, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlinked_file_stays_readable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directories_links_and_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_refuses_every_change, setup_readonly, teardown),
		cmocka_unit_test(test_inode_and_handle_limits),
		cmocka_unit_test_setup_teardown(test_ten_thousand_files_leak_nothing, setup, teardown),
		cmocka_unit_test(test_open_refuses_bad_limits_and_closes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
