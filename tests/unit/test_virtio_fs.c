// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-fs (src/virtio/fs.c) on the fake host (tests/common/fake_host.h):
 * the device as a driver sees it (ID, queues, its configuration space), FUSE
 * requests carried in descriptor chains as the kernel lays them out, and
 * hostile chains: short headers, lengths past the chain, no room or too
 * little for the reply, bad names, huge counts, requests over the limit, a
 * guest that never forgets; and --share's parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <linux/virtio_fs.h>

#include "fake_host.h"
#include "test_files.h"
#include "options.h"
#include "state.h"
#include "virtio/fs.h"
#include "virtio/virtio.h"

extern const struct virtio_kind virtio_kind_fs_create;

#define TEST_TIMEOUT_S 30
#define RAM_SIZE (4u << 20)
/* Per queue: descriptors at DESC_GPA + q * 4 KiB, rings likewise. */
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA 0x4000
#define REQ_GPA 0x10000
#define REPLY_GPA 0x200000
#define QSIZE 256
#define HIPRIO 0
#define REQUESTS 1
/* What src/virtio/fs.c serves at most (INIT's max_write is its data part). */
#define FS_REQUEST_MAX (128 * 4096 + 4096)
#define NO_REPLY INT32_MIN

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static struct virtio_dev *dev;
static char top[64], share_dir[80];
static uint16_t next_avail[2];
static uint32_t used_len;
static _Alignas(8) uint8_t req[FS_REQUEST_MAX + 4096];

static void fake_interrupt(struct virtio_dev *d, int queue)
{
	(void)d;
	(void)queue;
}

static const struct virtio_transport_ops fake_transport = { .name = "test", .interrupt = fake_interrupt };

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	test_write_file(path, text);
}

static void start_queue(unsigned q)
{
	struct virtqueue *vq = &dev->vqs[q];
	uint64_t kicks;

	vq->size = QSIZE;
	vq->desc_gpa = DESC_GPA + q * 0x1000;
	vq->avail_gpa = AVAIL_GPA + q * 0x400;
	vq->used_gpa = USED_GPA + q * 0x1000;
	vq->enabled = true;
	virtio_enable_queue(dev, q);
	/* The kick the core made when the queue started. */
	assert_int_equal(read(dev->kick_fd[q], &kicks, sizeof(kicks)), sizeof(kicks));
}

/* The driver's set-up, after the device was made or reset: both queues running. */
static void driver_ready(void)
{
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	virtio_set_driver_features(dev, 1, 1u << (VIRTIO_F_VERSION_1 - 32));
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				       VIRTIO_CONFIG_S_DRIVER_OK);
	memset(ram + DESC_GPA, 0, USED_GPA + 0x2000 - DESC_GPA);
	start_queue(HIPRIO);
	start_queue(REQUESTS);
	memset(next_avail, 0, sizeof(next_avail));
	assert_true(virtio_device_live(dev));
}

/* The device for share `index` of f.cfg, as the VM makes it, ready. */
static void make_device(unsigned index)
{
	struct errmsg e;

	assert_int_equal(virtio_kind_fs_create.create(&f.host, device_config_const(&f.cfg, device_find("virtio-fs")),
						      index, &dev, &e),
			 0);
	assert_int_equal(virtio_dev_setup(&f.host, dev, &e), 0);
	dev->transport = &fake_transport;
	driver_ready();
}

static int setup_dirs(void)
{
	snprintf(top, sizeof(top), "/tmp/kvmini-test-virtio-fs-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(share_dir, sizeof(share_dir), "%s/share", top);
	if (mkdir(share_dir, 0755))
		return -1;
	write_file(share_dir, "hello.txt", "hello from the host\n");
	return 0;
}

static int setup(void **state)
{
	struct errmsg e;

	(void)state;
	alarm(TEST_TIMEOUT_S);
	memset(ram, 0, sizeof(ram));
	memset(&f.cfg, 0, sizeof(f.cfg));
	if (setup_dirs() || fake_host_init(&f, ram, sizeof(ram)))
		return -1;
	if (fs_config_add_share(fs_config_of(&f.cfg), share_dir, "work", false, &e) ||
	    fs_config_add_share(fs_config_of(&f.cfg), share_dir, "readonly", true, &e))
		return -1;
	dev = NULL;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (dev)
		virtio_dev_remove(dev);
	fake_host_exit(&f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	alarm(0);
	return 0;
}

/*
 * Offers one chain on queue q: the readable bytes req[0, out_len) cut into
 * pieces of `piece` bytes (at odd guest addresses, so nothing is aligned),
 * then `room` writable bytes at REPLY_GPA in one descriptor (none for 0),
 * and serves it as the I/O thread would. Returns the used length, or -1
 * when the chain was not given back.
 */
static long serve(unsigned q, size_t out_len, size_t piece, size_t room)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + DESC_GPA + q * 0x1000);
	struct vring_avail *avail = (struct vring_avail *)(ram + AVAIL_GPA + q * 0x400);
	struct vring_used *used = (struct vring_used *)(ram + USED_GPA + q * 0x1000);
	uint16_t before = le16toh(used->idx);
	unsigned n = 0;
	uint64_t gpa = REQ_GPA + 1;

	memcpy(ram + gpa, req, out_len);
	for (size_t at = 0; at < out_len; at += piece, n++) {
		size_t len = out_len - at < piece ? out_len - at : piece;

		desc[n] = (struct vring_desc){ .addr = htole64(gpa + at), .len = htole32((uint32_t)len) };
	}
	if (room)
		desc[n++] = (struct vring_desc){ .addr = htole64(REPLY_GPA), .len = htole32((uint32_t)room),
						 .flags = htole16(VRING_DESC_F_WRITE) };
	for (unsigned i = 0; i + 1 < n; i++) {
		desc[i].flags |= htole16(VRING_DESC_F_NEXT);
		desc[i].next = htole16((uint16_t)(i + 1));
	}
	avail->ring[next_avail[q] % QSIZE] = 0;
	avail->idx = htole16(++next_avail[q]);
	pthread_mutex_lock(&dev->lock);
	dev->ops->queue_notify(dev, q);
	pthread_mutex_unlock(&dev->lock);
	if (le16toh(used->idx) == before)
		return -1;
	used_len = le32toh(used->ring[before % QSIZE].len);
	return used_len;
}

/* A request: header, arg, then each non-NULL name with its NUL; its length. */
static size_t make_req(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arg_len, const char *name)
{
	struct fuse_in_header *h = (void *)req;
	size_t len = sizeof(*h) + arg_len;

	memset(h, 0, sizeof(*h));
	if (arg_len)
		memcpy(req + sizeof(*h), arg, arg_len);
	if (name) {
		memcpy(req + len, name, strlen(name) + 1);
		len += strlen(name) + 1;
	}
	*h = (struct fuse_in_header){ .len = (uint32_t)len, .opcode = opcode, .unique = 7, .nodeid = nodeid };
	return len;
}

/* Sends a request on the request queue with `room` for the reply; the reply's error, NO_REPLY for none. */
static int32_t call(size_t room, uint32_t opcode, uint64_t nodeid, const void *arg, size_t arg_len, const char *name)
{
	const struct fuse_out_header *oh = (const void *)(ram + REPLY_GPA);
	size_t len = make_req(opcode, nodeid, arg, arg_len, name);

	memset(ram + REPLY_GPA, 0xa5, room + 64);
	assert_true(serve(REQUESTS, len, 7, room) >= 0);
	if (!used_len)
		return NO_REPLY;
	assert_true(used_len <= room);
	assert_int_equal(oh->len, used_len);
	assert_int_equal(oh->unique, 7);
	/* Nothing past the room the driver gave. */
	for (size_t i = room; i < room + 64; i++)
		assert_int_equal(ram[REPLY_GPA + i], 0xa5);
	return oh->error;
}

static void fuse_init(void)
{
	struct fuse_init_in in = { .major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
				   .flags = FUSE_MAX_PAGES };
	const struct fuse_init_out *out = (const void *)(ram + REPLY_GPA + sizeof(struct fuse_out_header));

	assert_int_equal(call(4096, FUSE_INIT, 0, &in, sizeof(in), NULL), 0);
	assert_int_equal(out->major, FUSE_KERNEL_VERSION);
	/* A page a descriptor: the largest READ or WRITE still fits a chain. */
	assert_int_equal(out->max_write, 128 * 4096);
	assert_int_equal(out->max_pages, 128);
}

static uint64_t lookup(const char *name)
{
	const struct fuse_entry_out *e = (const void *)(ram + REPLY_GPA + sizeof(struct fuse_out_header));

	assert_int_equal(call(4096, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, name), 0);
	return e->nodeid;
}

static void test_device_as_the_driver_sees_it(void **state)
{
	struct virtio_fs_config cfg;
	struct errmsg e;

	(void)state;
	make_device(0);
	assert_int_equal(dev->device_id, 26);
	assert_int_equal(dev->nr_queues, 2);
	virtio_config_read(dev, 0, (uint8_t *)&cfg, sizeof(cfg));
	assert_memory_equal(cfg.tag, "work\0\0\0", 8);
	assert_int_equal(le32toh(cfg.num_request_queues), 1);
	virtio_dev_remove(dev);

	/* A tag of all 36 bytes has no NUL in the field. */
	assert_int_equal(fs_config_add_share(fs_config_of(&f.cfg), share_dir, "abcdefghijklmnopqrstuvwxyz0123456789",
					     false, &e),
			 0);
	make_device(2);
	virtio_config_read(dev, 0, (uint8_t *)&cfg, sizeof(cfg));
	assert_memory_equal(cfg.tag, "abcdefghijklmnopqrstuvwxyz0123456789", 36);
}

static void test_requests_gathered_and_replies_scattered(void **state)
{
	struct fuse_open_in open_in = { .flags = O_RDONLY };
	struct fuse_read_in read_in = { .size = 4096 };
	const struct fuse_open_out *oo = (const void *)(ram + REPLY_GPA + sizeof(struct fuse_out_header));
	uint64_t node;

	(void)state;
	make_device(0);
	fuse_init();
	node = lookup("hello.txt");
	assert_true(node > FUSE_ROOT_ID);
	assert_int_equal(call(4096, FUSE_OPEN, node, &open_in, sizeof(open_in), NULL), 0);
	read_in.fh = oo->fh;
	/* 7-byte pieces at odd addresses: the device gathers the request into its aligned buffer. */
	assert_int_equal(call(4096, FUSE_READ, node, &read_in, sizeof(read_in), NULL), 0);
	assert_int_equal(used_len, sizeof(struct fuse_out_header) + 20);
	assert_memory_equal(ram + REPLY_GPA + sizeof(struct fuse_out_header), "hello from the host\n", 20);
	/* Room for 5 bytes of data: the READ is cut to it. */
	assert_int_equal(call(sizeof(struct fuse_out_header) + 5, FUSE_READ, node, &read_in, sizeof(read_in), NULL), 0);
	assert_int_equal(used_len, sizeof(struct fuse_out_header) + 5);
	assert_true(dev->bytes_from_guest > 0 && dev->bytes_to_guest > 0);
}

/* A chain that cannot carry a FUSE request at all is a broken driver: NEEDS_RESET, nothing given back. */
static void test_short_header_is_a_device_error(void **state)
{
	(void)state;
	make_device(0);
	fuse_init();
	make_req(FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL);
	assert_int_equal(serve(REQUESTS, sizeof(struct fuse_in_header) - 1, 64, 4096), -1);
	assert_true(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* A request that gets a reply but has no room for its header: a device error, and the share does nothing. */
static void test_no_room_for_the_reply_header_is_a_device_error(void **state)
{
	struct fuse_create_in in = { .flags = O_WRONLY | O_CREAT, .mode = 0644 };
	char path[160];
	size_t len;

	(void)state;
	make_device(0);
	fuse_init();
	len = make_req(FUSE_CREATE, FUSE_ROOT_ID, &in, sizeof(in), "made.txt");
	memset(ram + REPLY_GPA, 0xa5, 64);
	assert_int_equal(serve(REQUESTS, len, 64, sizeof(struct fuse_out_header) - 1), -1);
	assert_true(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(ram[REPLY_GPA + i], 0xa5);
	snprintf(path, sizeof(path), "%s/made.txt", share_dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_small_reply_room_gets_an_error_not_an_overrun(void **state)
{
	(void)state;
	make_device(0);
	fuse_init();
	/* GETATTR's answer does not fit a bare header's room: ERANGE, within it. */
	assert_int_equal(call(sizeof(struct fuse_out_header), FUSE_GETATTR, FUSE_ROOT_ID, &(struct fuse_getattr_in){ 0 },
			      sizeof(struct fuse_getattr_in), NULL),
			 -ERANGE);
	assert_int_equal(used_len, sizeof(struct fuse_out_header));
	assert_int_equal(call(sizeof(struct fuse_out_header) + 8, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "hello.txt"),
			 -ERANGE);
	assert_true(virtio_device_live(dev));
}

static void test_lengths_past_the_chain(void **state)
{
	struct fuse_in_header *h = (void *)req;
	size_t len;

	(void)state;
	make_device(0);
	fuse_init();
	len = make_req(FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "hello.txt");
	h->len = (uint32_t)len + 100;
	memset(ram + REPLY_GPA, 0, 4096);
	assert_int_equal(serve(REQUESTS, len, 5, 4096), sizeof(struct fuse_out_header));
	assert_int_equal(((struct fuse_out_header *)(ram + REPLY_GPA))->error, -EINVAL);
	/* A header that says more than FS_REQUEST_MAX, carried by a short chain: the same. */
	h->len = UINT32_MAX;
	assert_int_equal(serve(REQUESTS, len, 5, 4096), sizeof(struct fuse_out_header));
	assert_int_equal(((struct fuse_out_header *)(ram + REPLY_GPA))->error, -EINVAL);
	assert_true(virtio_device_live(dev));
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "/etc", "../share" };
	struct fuse_in_header *h = (void *)req;
	size_t len;

	(void)state;
	make_device(0);
	fuse_init();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(call(4096, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, bad[i]), -EINVAL);
	/* A name whose NUL is past the end of the request. */
	len = make_req(FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "hello.txt");
	h->len = (uint32_t)len - 1;
	assert_int_equal(serve(REQUESTS, len - 1, 3, 4096), sizeof(struct fuse_out_header));
	assert_int_equal(((struct fuse_out_header *)(ram + REPLY_GPA))->error, -EINVAL);
	assert_true(virtio_device_live(dev));
}

static void test_huge_counts(void **state)
{
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one;
	} batch = { .in = { .count = UINT32_MAX }, .one = { .nodeid = 2, .nlookup = UINT64_MAX } };
	struct fuse_read_in read_in = { .size = UINT32_MAX };
	struct fuse_open_in open_in = { .flags = O_RDONLY };
	const struct fuse_open_out *oo = (const void *)(ram + REPLY_GPA + sizeof(struct fuse_out_header));
	uint64_t node;

	(void)state;
	make_device(0);
	fuse_init();
	node = lookup("hello.txt");
	/* A count far past what the request holds: only the one entry there is used, and no reply. */
	assert_int_equal(call(4096, FUSE_BATCH_FORGET, 0, &batch, sizeof(batch), NULL), NO_REPLY);
	assert_int_equal(call(4096, FUSE_GETATTR, node, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in),
			      NULL),
			 -ENOENT);
	node = lookup("hello.txt");
	assert_int_equal(call(4096, FUSE_OPEN, node, &open_in, sizeof(open_in), NULL), 0);
	read_in.fh = oo->fh;
	assert_int_equal(call(4096, FUSE_READ, node, &read_in, sizeof(read_in), NULL), 0);
	assert_int_equal(used_len, sizeof(struct fuse_out_header) + 20);
}

/* FORGET on the hiprio queue, as the kernel sends it: a readable part only, given back with length 0. */
static void test_forget_on_hiprio_has_no_reply(void **state)
{
	struct fuse_forget_in in = { .nlookup = 1 };
	uint64_t node;
	size_t len;

	(void)state;
	make_device(0);
	fuse_init();
	node = lookup("hello.txt");
	len = make_req(FUSE_FORGET, node, &in, sizeof(in), NULL);
	assert_int_equal(serve(HIPRIO, len, 64, 0), 0);
	assert_true(virtio_device_live(dev));
	/* Nor with a little room, less than a reply header: nothing is written there. */
	memset(ram + REPLY_GPA, 0xa5, 8);
	assert_int_equal(serve(HIPRIO, len, 64, 8), 0);
	assert_true(virtio_device_live(dev));
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(ram[REPLY_GPA + i], 0xa5);
	assert_int_equal(call(4096, FUSE_GETATTR, node, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in),
			      NULL),
			 -ENOENT);
}

/* Over FS_REQUEST_MAX: an EINVAL reply naming the request, the share untouched; a FORGET just given back. */
static void test_requests_over_the_limit(void **state)
{
	struct fuse_write_in in = { .size = FS_REQUEST_MAX };
	struct fuse_in_header *h = (void *)req;
	const struct fuse_out_header *oh = (const void *)(ram + REPLY_GPA);
	char path[160];
	struct stat st;
	size_t len;

	(void)state;
	make_device(0);
	fuse_init();
	len = make_req(FUSE_WRITE, lookup("hello.txt"), &in, sizeof(in), NULL) + FS_REQUEST_MAX;
	h->len = (uint32_t)len;
	h->unique = 99;
	assert_int_equal(serve(REQUESTS, len, 4096, 4096), sizeof(*oh));
	assert_int_equal(oh->error, -EINVAL);
	assert_int_equal(oh->unique, 99);
	snprintf(path, sizeof(path), "%s/hello.txt", share_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 20);
	h->opcode = FUSE_FORGET;
	assert_int_equal(serve(HIPRIO, len, 4096, 0), 0);
	/* The same, with its header cut short: nothing to answer. */
	assert_int_equal(serve(REQUESTS, 8, 4, 2 * FS_REQUEST_MAX), -1);
	assert_true(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_readonly_share(void **state)
{
	struct fuse_create_in in = { .flags = O_WRONLY | O_CREAT, .mode = 0644 };

	(void)state;
	make_device(1);
	fuse_init();
	assert_int_equal(call(4096, FUSE_CREATE, FUSE_ROOT_ID, &in, sizeof(in), "new.txt"), -EROFS);
	assert_int_equal(call(4096, FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, "hello.txt"), -EROFS);
}

/* A driver reset forgets what the guest held: its node ids are unknown after a new INIT. */
static void test_reset_lets_go(void **state)
{
	uint64_t node;
	int fds;

	(void)state;
	make_device(0);
	fuse_init();
	fds = test_count_fds();
	node = lookup("hello.txt");
	assert_int_equal(test_count_fds(), fds + 1);
	virtio_set_status(dev, 0);
	assert_int_equal(test_count_fds(), fds);
	driver_ready();
	/* Nothing but INIT before INIT. */
	assert_int_equal(call(4096, FUSE_GETATTR, FUSE_ROOT_ID, &(struct fuse_getattr_in){ 0 },
			      sizeof(struct fuse_getattr_in), NULL),
			 -EIO);
	fuse_init();
	assert_int_equal(call(4096, FUSE_GETATTR, node, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in),
			      NULL),
			 -ENOENT);
}

/* Root may raise its descriptor limit past the hard one, which the device would: this thread may no longer. */
static void drop_sys_resource(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	d[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

/*
 * A guest that looks up and never forgets: the share's tables are sized
 * from the process's descriptor limit, so with a low hard limit they fill
 * (ENFILE) and the host keeps its descriptors. Last: the limit stays low.
 */
static void test_never_forgetting_guest_is_bounded(void **state)
{
	struct rlimit rl = { 256 + 64, 256 + 64 };
	struct fuse_forget_in forget = { .nlookup = 1 };
	struct fuse_open_in open_in = { .flags = O_RDONLY };
	char name[32];
	unsigned found = 0, opened;
	uint64_t node;
	int32_t err = 0;
	uint64_t first = 0;
	int fds;

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		write_file(share_dir, name, "x");
	}
	drop_sys_resource();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	make_device(0);
	fuse_init();
	fds = test_count_fds();
	for (unsigned i = 0; i < 100 && !err; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		err = call(4096, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, name);
		if (!err && !first)
			first = ((const struct fuse_entry_out *)(ram + REPLY_GPA + sizeof(struct fuse_out_header)))->nodeid;
		found += !err;
	}
	assert_int_equal(err, -ENFILE);
	/* 7/8 of this share's half of the 64 descriptors left over (setup made two shares), the root's slot included. */
	assert_int_equal(found, 64 / 2 / 8 * 7 - 1);
	assert_int_equal(test_count_fds(), fds + (int)found);
	/* A FORGET makes room again. */
	make_req(FUSE_FORGET, first, &forget, sizeof(forget), NULL);
	assert_int_equal(serve(HIPRIO, sizeof(struct fuse_in_header) + sizeof(forget), 64, 0), 0);
	assert_int_equal(call(4096, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, "f99"), 0);
	/* A guest that never closes: the handle table (1/8 of the part, at least 16) fills the same way. */
	node = ((const struct fuse_entry_out *)(ram + REPLY_GPA + sizeof(struct fuse_out_header)))->nodeid;
	fds = test_count_fds();
	for (opened = 0; !(err = call(4096, FUSE_OPEN, node, &open_in, sizeof(open_in), NULL)); opened++)
		assert_true(opened < 100);
	assert_int_equal(err, -ENFILE);
	assert_int_equal(opened, 16);
	assert_int_equal(test_count_fds(), fds + 16);
}

/* A share's node ids and open files are host descriptors: saving fails, and no blob restores one. */
static void test_save_and_restore_refused(void **state)
{
	struct state_writer w;
	struct state_reader r;
	struct errmsg e;

	(void)state;
	make_device(0);
	state_writer_init(&w);
	pthread_mutex_lock(&dev->lock);
	dev->ops->save(dev, &w);
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(w.err, -EOPNOTSUPP);
	state_writer_free(&w);
	state_reader_init(&r, "", 0, "virtio-fs");
	pthread_mutex_lock(&dev->lock);
	assert_int_equal(dev->ops->restore(dev, &r), -EINVAL);
	pthread_mutex_unlock(&dev->lock);
	assert_int_equal(state_reader_done(&r, &e), -EINVAL);
	assert_non_null(strstr(e.text, "cannot be restored"));
}

static int parse_share(const char *arg, struct errmsg *e)
{
	const struct option_spec *spec = device_find("virtio-fs")->options;

	assert_string_equal(spec->name, "share");
	return spec->parse((uint8_t *)fs_config_of(&f.cfg) + spec->offset, arg, e);
}

static void test_share_option(void **state)
{
	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{ "tag=a", "--share 'tag=a': missing path=" },
		{ "path=/tmp", "--share 'path=/tmp': missing tag=" },
		{ "path=/tmp,tag=", "--share 'path=/tmp,tag=': empty tag" },
		{ "path=/tmp,tag=abcdefghijklmnopqrstuvwxyz01234567890", "tag longer than 36 characters" },
		{ "path=/tmp,tag=work", "tag 'work' is already the tag of share '" },
		{ "path=/tmp,tag=b,readonly=yes", "readonly 'yes': must be off or on" },
		{ "path=/tmp,tag=b,cache=none", "unknown key 'cache'" },
		{ "path=/tmp,path=/etc,tag=b", "'path' given twice" },
	};
	struct fs_config *cfg = fs_config_of(&f.cfg);
	struct errmsg e;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_share(bad[i].arg, &e), -EINVAL);
		if (!strstr(e.text, bad[i].msg))
			fail_msg("'%s': '%s' does not say '%s'", bad[i].arg, e.text, bad[i].msg);
	}
	assert_int_equal(cfg->nr_shares, 2);
	assert_int_equal(parse_share("path=/tmp,tag=third,readonly=on", &e), 0);
	assert_int_equal(cfg->nr_shares, 3);
	assert_string_equal(cfg->shares[2].path, "/tmp");
	assert_string_equal(cfg->shares[2].tag, "third");
	assert_true(cfg->shares[2].readonly);
	assert_int_equal(fs_config_add_share(cfg, "", "x", false, &e), -EINVAL);
	assert_int_equal(fs_config_add_share(cfg, "/tmp", "", false, &e), -EINVAL);
	for (unsigned i = cfg->nr_shares; i < FS_MAX_SHARES; i++) {
		char tag[8];

		snprintf(tag, sizeof(tag), "t%u", i);
		assert_int_equal(fs_config_add_share(cfg, "/tmp", tag, false, &e), 0);
	}
	assert_int_equal(parse_share("path=/tmp,tag=one-too-many", &e), -EINVAL);
	assert_non_null(strstr(e.text, "at most 8 shares"));
}

/* What the device opens, and the messages that name the share. */
static void test_share_directory_errors(void **state)
{
	struct fs_config *cfg = fs_config_of(&f.cfg);
	char file[160], link[160];
	struct errmsg e;

	(void)state;
	snprintf(file, sizeof(file), "%s/hello.txt", share_dir);
	snprintf(link, sizeof(link), "%s/link", top);
	assert_int_equal(symlink("share", link), 0);
	assert_int_equal(fs_config_add_share(cfg, file, "file", false, &e), 0);
	assert_int_equal(fs_config_add_share(cfg, "/nonexistent/dir", "missing", false, &e), 0);
	assert_int_equal(fs_config_add_share(cfg, link, "link", false, &e), 0);
	assert_int_equal(virtio_kind_fs_create.create(&f.host, cfg, 2, &dev, &e), -ENOTDIR);
	assert_string_equal(e.text + strlen(e.text) - strlen("': Not a directory"), "': Not a directory");
	assert_non_null(strstr(e.text, "share '"));
	assert_int_equal(virtio_kind_fs_create.create(&f.host, cfg, 3, &dev, &e), -ENOENT);
	assert_string_equal(e.text, "share '/nonexistent/dir': No such file or directory");
	/* A symbolic link the user named is theirs to follow. */
	dev = NULL;
	assert_int_equal(virtio_kind_fs_create.create(&f.host, cfg, 4, &dev, &e), 0);
	assert_int_equal(virtio_dev_setup(&f.host, dev, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_as_the_driver_sees_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_gathered_and_replies_scattered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_header_is_a_device_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_for_the_reply_header_is_a_device_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_reply_room_gets_an_error_not_an_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths_past_the_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_on_hiprio_has_no_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_over_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_lets_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_and_restore_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_share_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_share_directory_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_forgetting_guest_is_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
