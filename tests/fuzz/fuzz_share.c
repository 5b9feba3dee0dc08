// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the FUSE server (src/fs/share.c): a sequence of
 * requests against a share of a small fresh tree, made again for each input.
 *
 * The input: a flags byte (bit 0: the share is read-only; bit 1: no INIT is
 * sent first), then records: a little-endian 16-bit length, a record flags
 * byte and that many bytes of request. Record flags: bit 0 keeps the
 * request's own len field (else it is set to the record's length); bits 1-2
 * pick the reply's room: all of it, the header's alone, 64 or 256 bytes.
 *
 * Each reply must fit its room and carry its own length, the request's
 * unique and no error other than a negative errno; after each input the
 * tree's sibling, top/outside, must be as it was (a symbolic link in the
 * share points at it, another at /), and no file descriptor may be left open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/share.h"

#define REQUEST_MAX (4096 + 80)
/* Above this, a FALLOCATE's length is cut: a fuzzer that fills the host's /tmp finds nothing. */
#define FALLOCATE_MAX (1u << 20)

static char top[64], share_dir[80], outside[80];

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_share: %s\n", what);
	abort();
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("cannot write the tree");
	close(fd);
}

static void make_tree(void)
{
	char path[128];

	if (mkdir(share_dir, 0755))
		fail("cannot make the share");
	write_file(share_dir, "file", "hello");
	snprintf(path, sizeof(path), "%s/dir", share_dir);
	if (mkdir(path, 0755))
		fail("cannot make dir");
	write_file(path, "inner", "inner");
	snprintf(path, sizeof(path), "%s/root", share_dir);
	if (symlink("/", path))
		fail("cannot make root");
	snprintf(path, sizeof(path), "%s/out", share_dir);
	if (symlink("../outside", path))
		fail("cannot make out");
	snprintf(path, sizeof(path), "%s/fifo", share_dir);
	if (mkfifo(path, 0644))
		fail("cannot make fifo");
}

/* Removes name under dirfd and everything below it: the guest may have taken a directory's permissions away. */
static void remove_tree(int dirfd, const char *name)
{
	struct stat st;
	bool dir;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		fail("cannot stat the tree");
	dir = S_ISDIR(st.st_mode);
	if (dir) {
		int fd = (fchmodat(dirfd, name, 0700, 0), openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;
		int removed;

		if (!d)
			fail("cannot list the tree");
		/* Listed again until empty: removing entries while listing may skip some. */
		do {
			rewinddir(d);
			for (removed = 0; (de = readdir(d)); removed++) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
					removed--;
					continue;
				}
				remove_tree(fd, de->d_name);
			}
		} while (removed);
		closedir(d);
	}
	if (unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0))
		fail("cannot remove the tree");
}

static void check_outside(void)
{
	char buf[16] = "";
	char path[128];
	struct stat st;
	int fd, entries = 0;
	DIR *d = opendir(outside);

	if (!d)
		fail("top/outside is gone");
	while (readdir(d))
		entries++;
	closedir(d);
	snprintf(path, sizeof(path), "%s/secret", outside);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) || read(fd, buf, sizeof(buf)) != 6 || memcmp(buf, "secret", 6) ||
	    (st.st_mode & 07777) != 0644 || entries != 3)
		fail("top/outside was changed through the share");
	close(fd);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void remove_top(void)
{
	remove_tree(AT_FDCWD, top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	strcpy(top, "/tmp/kvmini-fuzz-share-XXXXXX");
	if (!mkdtemp(top))
		fail("no temporary directory");
	snprintf(share_dir, sizeof(share_dir), "%s/share", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	if (mkdir(outside, 0755))
		fail("cannot make top/outside");
	write_file(outside, "secret", "secret");
	if (chmod(top, 0755))
		fail("cannot chmod top");
	atexit(remove_top);
	return 0;
}

static void check_reply(int rc, const struct fuse_in_header *h, size_t len, const uint8_t *reply, size_t cap,
			size_t reply_len)
{
	const struct fuse_out_header *oh = (const void *)reply;

	if (rc) {
		if (rc != -EINVAL || (len >= sizeof(*h) && cap >= sizeof(*oh)))
			fail("a request went unanswered");
		return;
	}
	if (!reply_len)
		return;
	if (reply_len > cap || reply_len < sizeof(*oh) || oh->len != reply_len || oh->unique != h->unique)
		fail("a reply does not fit, or says the wrong length or unique");
	if (oh->error > 0 || oh->error < -4095 || (oh->error && reply_len != sizeof(*oh)))
		fail("a reply's error is no negative errno, or comes with an answer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { REQUEST_MAX, sizeof(struct fuse_out_header), 64, 256 };
	static const struct fs_share_limits limits = { .max_inodes = 16, .max_handles = 8, .max_request = REQUEST_MAX };
	static _Alignas(8) uint8_t req[REQUEST_MAX + 0x10000], reply[REQUEST_MAX];
	struct fuse_in_header *h = (void *)req;
	struct fs_share *s;
	struct errmsg e;
	size_t at = 1, reply_len;
	int dirfd, fds = count_fds();

	if (size < 1)
		return 0;
	make_tree();
	dirfd = open(share_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || fs_share_open(&s, dirfd, data[0] & 1, &limits, &e))
		fail("cannot open the share");
	if (!(data[0] & 2)) {
		const struct fuse_init_in in = { .major = 7, .minor = 38, .flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES };

		*h = (struct fuse_in_header){ .len = sizeof(*h) + sizeof(in), .opcode = FUSE_INIT, .unique = 1 };
		memcpy(h + 1, &in, sizeof(in));
		if (fs_share_serve(s, req, h->len, reply, sizeof(reply), &reply_len))
			fail("INIT went unanswered");
	}
	while (size - at >= 3) {
		size_t len = (size_t)data[at] | (size_t)data[at + 1] << 8;
		uint8_t flags = data[at + 2];
		size_t cap = caps[(flags >> 1) & 3];
		int rc;

		at += 3;
		if (len > size - at)
			len = size - at;
		memset(req, 0, sizeof(*h));
		memcpy(req, data + at, len);
		at += len;
		if (!(flags & 1) && len >= sizeof(*h))
			h->len = (uint32_t)len;
		if (h->opcode == FUSE_FALLOCATE && len >= sizeof(*h) + sizeof(struct fuse_fallocate_in)) {
			struct fuse_fallocate_in *fa = (void *)(h + 1);

			if (fa->length > FALLOCATE_MAX || fa->offset > FALLOCATE_MAX) {
				fa->length %= FALLOCATE_MAX;
				fa->offset %= FALLOCATE_MAX;
			}
		}
		rc = fs_share_serve(s, req, len, reply, cap, &reply_len);
		check_reply(rc, h, len, reply, cap, reply_len);
	}
	fs_share_close(s);
	close(dirfd);
	if (count_fds() != fds)
		fail("a file descriptor was left open");
	check_outside();
	remove_tree(AT_FDCWD, share_dir);
	return 0;
}
