// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "api/section.h"
#include "fake_host.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define SECTORS 64
#define SECTOR BLK_SECTOR_SIZE

static char path[64];
static struct drive_config cfg;
static struct blk_disk disk;
static struct vq_chain chain;
static uint32_t written;

/* Byte i of the image: its sector number plus its offset in the sector, so misplaced data shows. */
static uint8_t image_byte(size_t i)
{
	return (uint8_t)(i / SECTOR * 7 + i % SECTOR);
}

static int make_image(const char *dir, size_t size)
{
	uint8_t *buf = malloc(size);
	int fd;

	snprintf(path, sizeof(path), "%s/kvmini-blk-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || !buf)
		return -1;
	for (size_t i = 0; i < size; i++)
		buf[i] = image_byte(i);
	if (write(fd, buf, size) != (ssize_t)size)
		size = 0;
	free(buf);
	close(fd);
	return size ? 0 : -1;
}

static int open_disk(bool readonly, bool direct)
{
	snprintf(cfg.path, sizeof(cfg.path), "%s", path);
	snprintf(cfg.id, sizeof(cfg.id), "test-disk");
	cfg.readonly = readonly;
	cfg.direct = direct;
	struct errmsg e;
	int err = blk_disk_open(&disk, &cfg, &e);

	if (!err && (err = blk_disk_start(&disk, cfg.engine, &e)))
		blk_disk_close(&disk);
	if (err)
		print_message("blk_disk_open: %s\n", e.text);
	return err;
}

static int setup(void **state)
{
	(void)state;
	memset(&chain, 0, sizeof(chain));
	cfg.engine = BLKIO_AUTO;
	if (make_image(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", SECTORS * SECTOR))
		return -1;
	return open_disk(false, false);
}

static int teardown(void **state)
{
	(void)state;
	blk_disk_close(&disk);
	unlink(path);
	return 0;
}

static void add_out(void *buf, size_t len)
{
	assert_int_equal(chain.nr_in, 0);
	chain.iov[chain.nr_out++] = (struct iovec){ .iov_base = buf, .iov_len = len };
	chain.out_len += len;
}

static void add_in(void *buf, size_t len)
{
	chain.iov[chain.nr_out + chain.nr_in++] = (struct iovec){ .iov_base = buf, .iov_len = len };
	chain.in_len += len;
}

static struct virtio_blk_outhdr header(uint32_t type, uint64_t sector)
{
	return (struct virtio_blk_outhdr){ .type = htole32(type), .sector = htole64(sector) };
}

/* The status byte: the last of the chain's writable part. */
static uint8_t status_of(const struct vq_chain *c)
{
	const struct iovec *last = &c->iov[c->nr_out + c->nr_in - 1];

	return ((const uint8_t *)last->iov_base)[last->iov_len - 1];
}

/* Every completion of the n requests in flight, in the order they came; fails after 10 s. */
static void reap_all(struct blkio_completion *done, unsigned n)
{
	for (unsigned got = 0; got < n;) {
		int r;

		assert_int_equal(blkio_wait(disk.io, 10000), 0);
		r = blkio_reap(disk.io, done + got, n - got);
		assert_true(r >= 0);
		got += (unsigned)r;
	}
	assert_int_equal(blkio_in_flight(disk.io), 0);
}

/* One chain as the device serves it, through the engine: the status written, or -EIO. */
static int request(void)
{
	struct blk_req *req;
	struct blkio_completion done;
	int r;

	written = 0xdeadbeef;
	r = blk_request_start(&disk, &chain, &req, &written);
	if (r < 0)
		return r;
	if (r == VIRTIO_IN_FLIGHT) {
		assert_int_equal(blkio_commit(disk.io), 0);
		reap_all(&done, 1);
		assert_ptr_equal((void *)(uintptr_t)done.tag, req);
		written = blk_request_finish(&disk, req, done.result);
	}
	return status_of(&chain);
}

static void expect_image(size_t offset, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (data[i] != image_byte(offset + i))
			fail_msg("byte %zu: %#x, want %#x", offset + i, data[i], image_byte(offset + i));
}

static void test_open_sizes_the_disk(void **state)
{
	(void)state;
	assert_int_equal(disk.sectors, SECTORS);
	assert_false(disk.readonly);
	assert_memory_equal(disk.id, "test-disk\0\0\0\0\0\0\0\0\0\0\0", VIRTIO_BLK_ID_BYTES);
}

static void test_open_rounds_down(void **state)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "tail", 4), 4);
	close(fd);
	blk_disk_close(&disk);
	assert_int_equal(open_disk(false, false), 0);
	assert_int_equal(disk.sectors, SECTORS);
}

static void test_open_missing_file(void **state)
{
	struct drive_config missing = { .path = "/nonexistent/x.img" };
	struct blk_disk d;
	struct errmsg e;

	(void)state;
	assert_int_equal(blk_disk_open(&d, &missing, &e), -ENOENT);
	assert_string_equal(e.text, "drive '/nonexistent/x.img': No such file or directory");
	assert_int_equal(d.fd, -1);
}

static void test_open_directory(void **state)
{
	struct drive_config dir = { .path = "/", .readonly = true };
	struct blk_disk d;
	struct errmsg e;

	(void)state;
	assert_int_equal(blk_disk_open(&d, &dir, &e), -EINVAL);
	assert_non_null(strstr(e.text, "a directory, not a regular file or a block device"));
	/* cache=none does not hide what the file is (an open with O_DIRECT fails before that is known). */
	dir.direct = true;
	assert_int_equal(blk_disk_open(&d, &dir, &e), -EINVAL);
	assert_non_null(strstr(e.text, "a directory, not a regular file or a block device"));
}

/* A FIFO is not a disk, and one with no writer does not hold up the start (the alarm bounds this test). */
static void test_open_fifo(void **state)
{
	struct drive_config fifo = { .readonly = true, .direct = true };
	struct blk_disk d;
	struct errmsg e;

	(void)state;
	snprintf(fifo.path, sizeof(fifo.path), "%s.fifo", path);
	assert_int_equal(mkfifo(fifo.path, 0600), 0);
	alarm(10);
	assert_int_equal(blk_disk_open(&d, &fifo, &e), -EINVAL);
	alarm(0);
	unlink(fifo.path);
	assert_non_null(strstr(e.text, "a FIFO, not a regular file or a block device"));
	assert_int_equal(d.fd, -1);
}

/* One image, two writers: refused; two readers: fine. */
static void test_open_locks_the_image(void **state)
{
	struct blk_disk second;
	struct errmsg e;

	(void)state;
	assert_int_equal(blk_disk_open(&second, &cfg, &e), -EWOULDBLOCK);
	assert_non_null(strstr(e.text, "in use"));
	cfg.readonly = true;
	assert_int_equal(blk_disk_open(&second, &cfg, &e), -EWOULDBLOCK);

	blk_disk_close(&disk);
	assert_int_equal(open_disk(true, false), 0);
	assert_int_equal(blk_disk_open(&second, &cfg, &e), 0);
	blk_disk_close(&second);
}

/* The data split over buffers of odd sizes, the status sharing the last one. */
static void test_read(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_IN, 3);
	uint8_t a[100], b[900], c[24 + 1];

	(void)state;
	add_out(&hdr, sizeof(hdr));
	add_in(a, sizeof(a));
	add_in(b, sizeof(b));
	add_in(c, sizeof(c));
	c[24] = 0xff;
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_int_equal(c[24], VIRTIO_BLK_S_OK);
	assert_int_equal(written, 2 * SECTOR + 1);
	expect_image(3 * SECTOR, a, sizeof(a));
	expect_image(3 * SECTOR + 100, b, sizeof(b));
	expect_image(3 * SECTOR + 1000, c, 24);
}

static void test_read_last_sector(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_IN, SECTORS - 1);
	uint8_t data[SECTOR], status = 0xff;

	(void)state;
	add_out(&hdr, sizeof(hdr));
	add_in(data, sizeof(data));
	add_in(&status, 1);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	expect_image((SECTORS - 1) * SECTOR, data, sizeof(data));
}

/* Header and data in one readable buffer. */
static void test_write(void **state)
{
	uint8_t req[sizeof(struct virtio_blk_outhdr) + 2 * SECTOR], back[2 * SECTOR], status = 0xff;
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_OUT, 10);
	int fd;

	(void)state;
	memcpy(req, &hdr, sizeof(hdr));
	for (size_t i = 0; i < 2 * SECTOR; i++)
		req[sizeof(hdr) + i] = (uint8_t)(0xa5 ^ i);
	add_out(req, sizeof(req));
	add_in(&status, 1);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	assert_int_equal(written, 1);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, sizeof(back), 10 * SECTOR), sizeof(back));
	close(fd);
	assert_memory_equal(back, req + sizeof(hdr), sizeof(back));
}

static void test_flush(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_FLUSH, 0);
	uint8_t status = 0xff;

	(void)state;
	add_out(&hdr, sizeof(hdr));
	add_in(&status, 1);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	assert_int_equal(written, 1);
}

static void test_get_id(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_GET_ID, 0);
	uint8_t id[VIRTIO_BLK_ID_BYTES + 1];

	(void)state;
	memset(id, 0xee, sizeof(id));
	add_out(&hdr, sizeof(hdr));
	add_in(id, sizeof(id));
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "test-disk\0\0\0\0\0\0\0\0\0\0\0", VIRTIO_BLK_ID_BYTES);
	assert_int_equal(id[VIRTIO_BLK_ID_BYTES], VIRTIO_BLK_S_OK);
	assert_int_equal(written, VIRTIO_BLK_ID_BYTES + 1);

	/* A 20-character id has no NUL; a smaller buffer gets what fits. */
	blk_disk_close(&disk);
	snprintf(cfg.id, sizeof(cfg.id), "%s", "abcdefghijklmnopqrst");
	assert_int_equal(blk_disk_open(&disk, &cfg, &(struct errmsg){ 0 }), 0);
	assert_int_equal(blk_disk_start(&disk, BLKIO_THREADS, &(struct errmsg){ 0 }), 0);
	memset(&chain, 0, sizeof(chain));
	memset(id, 0xee, sizeof(id));
	add_out(&hdr, sizeof(hdr));
	add_in(id, 6);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "abcde", 5);
	assert_int_equal(id[5], VIRTIO_BLK_S_OK);
	assert_int_equal(id[6], 0xee);
	assert_int_equal(written, 6);
}

static void expect_rw_status(uint32_t type, uint64_t sector, size_t len, uint8_t want)
{
	struct virtio_blk_outhdr hdr = header(type, sector);
	static uint8_t data[4 * SECTOR];
	uint8_t status = 0xff;

	memset(&chain, 0, sizeof(chain));
	add_out(&hdr, sizeof(hdr));
	if (type == VIRTIO_BLK_T_OUT)
		add_out(data, len);
	else
		add_in(data, len);
	add_in(&status, 1);
	if (request() != want || status != want)
		fail_msg("type %u sector %llu len %zu: status %u, want %u", type, (unsigned long long)sector, len,
			 status, want);
	if (want != VIRTIO_BLK_S_OK)
		assert_int_equal(written, 1);
}

static void test_out_of_range(void **state)
{
	static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT };
	(void)state;

	for (unsigned i = 0; i < 2; i++) {
		uint32_t t = types[i];

		expect_rw_status(t, SECTORS - 2, 2 * SECTOR, VIRTIO_BLK_S_OK);
		expect_rw_status(t, SECTORS - 1, 2 * SECTOR, VIRTIO_BLK_S_IOERR);
		expect_rw_status(t, SECTORS, SECTOR, VIRTIO_BLK_S_IOERR);
		expect_rw_status(t, SECTORS, 0, VIRTIO_BLK_S_OK);
		expect_rw_status(t, SECTORS + 1, 0, VIRTIO_BLK_S_IOERR);
		/* sector * 512 and sector + count would wrap around. */
		expect_rw_status(t, UINT64_MAX, SECTOR, VIRTIO_BLK_S_IOERR);
		expect_rw_status(t, UINT64_MAX / SECTOR + 2, SECTOR, VIRTIO_BLK_S_IOERR);
		expect_rw_status(t, 1ULL << 63, 4 * SECTOR, VIRTIO_BLK_S_IOERR);
		/* Not whole sectors. */
		expect_rw_status(t, 0, 100, VIRTIO_BLK_S_IOERR);
	}
}

static void test_readonly(void **state)
{
	uint8_t back[SECTOR];
	int fd;

	(void)state;
	blk_disk_close(&disk);
	assert_int_equal(open_disk(true, false), 0);
	assert_true(disk.readonly);
	expect_rw_status(VIRTIO_BLK_T_OUT, 0, SECTOR, VIRTIO_BLK_S_IOERR);
	expect_rw_status(VIRTIO_BLK_T_IN, 0, SECTOR, VIRTIO_BLK_S_OK);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
	close(fd);
	expect_image(0, back, sizeof(back));
}

/* A type it does not know (here GET_LIFETIME, 10). */
static void test_unsupported(void **state)
{
	struct virtio_blk_outhdr hdr = header(10, 0);
	uint8_t seg[16] = { 0 }, status = 0xff;

	(void)state;
	add_out(&hdr, sizeof(hdr));
	add_out(seg, sizeof(seg));
	add_in(&status, 1);
	assert_int_equal(request(), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(written, 1);
}

static void test_short_chain(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_IN, 0);
	uint8_t data[SECTOR + 1];

	(void)state;
	/* No writable byte for the status. */
	add_out(&hdr, sizeof(hdr));
	assert_int_equal(request(), -EIO);

	/* A header cut short. */
	memset(&chain, 0, sizeof(chain));
	add_out(&hdr, sizeof(hdr) - 1);
	add_in(data, sizeof(data));
	assert_int_equal(request(), -EIO);

	/* The header in the writable part. */
	memset(&chain, 0, sizeof(chain));
	add_in(data, sizeof(data));
	assert_int_equal(request(), -EIO);
}

/* The file shrank under the guest: a short read is an I/O error, not garbage. */
static void test_short_read(void **state)
{
	(void)state;
	assert_int_equal(truncate(path, 8 * SECTOR + 100), 0);
	expect_rw_status(VIRTIO_BLK_T_IN, 7, 2 * SECTOR, VIRTIO_BLK_S_IOERR);
	expect_rw_status(VIRTIO_BLK_T_IN, 20, SECTOR, VIRTIO_BLK_S_IOERR);
	expect_rw_status(VIRTIO_BLK_T_IN, 7, SECTOR, VIRTIO_BLK_S_OK);
}

/*
 * The engine wrote only the first of two sectors, as a file system filling
 * up does: the rest is written then, or its error (here EFBIG past
 * RLIMIT_FSIZE; ENOSPC on a full disk) fails the request.
 */
static void short_write(uint8_t want, size_t fsize_limit)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_OUT, 4);
	static uint8_t data[2 * SECTOR];
	uint8_t status = 0xff, back[2 * SECTOR];
	const uint8_t zero[SECTOR] = { 0 };
	struct rlimit old, low;
	struct blkio_completion done;
	struct blk_req *req;
	int fd = open(path, O_RDWR);

	memset(data, 0x5a, sizeof(data));
	memset(&chain, 0, sizeof(chain));
	add_out(&hdr, sizeof(hdr));
	add_out(data, sizeof(data));
	add_in(&status, 1);
	assert_int_equal(blk_request_start(&disk, &chain, &req, &written), VIRTIO_IN_FLIGHT);
	assert_int_equal(blkio_commit(disk.io), 0);
	reap_all(&done, 1);
	assert_int_equal(done.result, sizeof(data));
	/* As if only the first sector had been written. */
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, SECTOR, 5 * SECTOR), SECTOR);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	low = (struct rlimit){ .rlim_cur = fsize_limit, .rlim_max = old.rlim_max };
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	written = blk_request_finish(&disk, req, SECTOR);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(status, want);
	assert_int_equal(written, 1);
	assert_int_equal(pread(fd, back, sizeof(back), 4 * SECTOR), sizeof(back));
	close(fd);
	assert_memory_equal(back + SECTOR, want == VIRTIO_BLK_S_OK ? data : zero, SECTOR);
}

static void test_short_write_continued(void **state)
{
	(void)state;
	short_write(VIRTIO_BLK_S_OK, RLIM_INFINITY);
	short_write(VIRTIO_BLK_S_IOERR, 5 * SECTOR);
}

/* An errno from the host (here EISDIR) fails the request, not kvmini. */
static void test_host_error(void **state)
{
	(void)state;
	close(disk.fd);
	disk.fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(disk.fd >= 0);
	assert_int_equal(blkio_set_fd(disk.io, disk.fd), 0);
	expect_rw_status(VIRTIO_BLK_T_IN, 0, SECTOR, VIRTIO_BLK_S_IOERR);
	expect_rw_status(VIRTIO_BLK_T_OUT, 0, SECTOR, VIRTIO_BLK_S_IOERR);
}

/*
 * cache=none: O_DIRECT through the bounce buffer, with guest buffers that are
 * not aligned. Where the file system refuses O_DIRECT, the error must say so.
 */
static void test_direct(void **state)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_IN, 5);
	static uint8_t buf[3 * SECTOR + 8];
	uint8_t *odd = buf + 3;
	struct errmsg e;
	int err;

	(void)state;
	blk_disk_close(&disk);
	unlink(path);
	assert_int_equal(make_image("/var/tmp", SECTORS * SECTOR), 0);
	snprintf(cfg.path, sizeof(cfg.path), "%s", path);
	cfg.direct = true;
	err = blk_disk_open(&disk, &cfg, &e);
	if (err) {
		assert_non_null(strstr(e.text, "cache="));
		skip();
	}
	assert_int_equal(blk_disk_start(&disk, BLKIO_AUTO, &e), 0);
	add_out(&hdr, sizeof(hdr));
	add_in(odd, 3 * SECTOR - 7);
	add_in(odd + 3 * SECTOR - 7, 8);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
	assert_int_equal(odd[3 * SECTOR], VIRTIO_BLK_S_OK);
	expect_image(5 * SECTOR, odd, 3 * SECTOR);

	expect_rw_status(VIRTIO_BLK_T_OUT, 1, 4 * SECTOR, VIRTIO_BLK_S_OK);
	expect_rw_status(VIRTIO_BLK_T_IN, SECTORS - 1, 2 * SECTOR, VIRTIO_BLK_S_IOERR);
}

/* The image made again, size bytes of image_byte, opened on the given engine (with O_DIRECT if direct). */
static void remake_image_as(size_t size, enum blkio_engine engine, bool direct)
{
	blk_disk_close(&disk);
	unlink(path);
	assert_int_equal(make_image(direct ? "/var/tmp" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", size), 0);
	cfg.engine = engine;
	assert_int_equal(open_disk(false, direct), 0);
}

static void remake_image(size_t size, enum blkio_engine engine)
{
	remake_image_as(size, engine, false);
}

/* A chain of header, data (out for a write, in for a read) and status, in c. */
static void make_rw(struct vq_chain *c, struct virtio_blk_outhdr *hdr, uint8_t *data, size_t len, uint8_t *status)
{
	const bool write = le32toh(hdr->type) == VIRTIO_BLK_T_OUT;

	memset(c, 0, sizeof(*c));
	c->iov[c->nr_out++] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(*hdr) };
	c->out_len = sizeof(*hdr);
	if (write) {
		c->iov[c->nr_out++] = (struct iovec){ .iov_base = data, .iov_len = len };
		c->out_len += len;
	} else {
		c->iov[c->nr_out + c->nr_in++] = (struct iovec){ .iov_base = data, .iov_len = len };
		c->in_len += len;
	}
	c->iov[c->nr_out + c->nr_in++] = (struct iovec){ .iov_base = status, .iov_len = 1 };
	c->in_len += 1;
	*status = 0xff;
}

/*
 * Starts n chains at once, then finishes them in the reverse of the order
 * their completions came in; the order of those completions in *order
 * (indices into c) when not NULL.
 */
static void run_reversed(struct vq_chain *c, unsigned n, unsigned *order)
{
	struct blk_req *req[16];
	struct blkio_completion done[16];
	uint32_t w;

	assert_true(n <= 16);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(blk_request_start(&disk, &c[i], &req[i], &w), VIRTIO_IN_FLIGHT);
	assert_int_equal(blkio_commit(disk.io), 0);
	reap_all(done, n);
	for (unsigned i = n; i--;) {
		for (unsigned j = 0; order && j < n; j++)
			if ((uintptr_t)req[j] == done[i].tag)
				order[i] = j;
		blk_request_finish(&disk, (struct blk_req *)(uintptr_t)done[i].tag, done[i].result);
	}
}

#define BATCH 8

/* Eight writes, then eight reads of them and of untouched sectors, completed in reverse: the same bytes. */
static void out_of_order(enum blkio_engine engine)
{
	static struct vq_chain c[BATCH];
	static uint8_t data[BATCH][2 * SECTOR];
	struct virtio_blk_outhdr hdr[BATCH];
	uint8_t status[BATCH];
	int fd;

	remake_image(SECTORS * SECTOR, engine);
	for (unsigned i = 0; i < BATCH; i++) {
		hdr[i] = header(VIRTIO_BLK_T_OUT, 4 * i);
		memset(data[i], 0x10 + i, sizeof(data[i]));
		make_rw(&c[i], &hdr[i], data[i], sizeof(data[i]), &status[i]);
	}
	run_reversed(c, BATCH, NULL);
	for (unsigned i = 0; i < BATCH; i++)
		assert_int_equal(status[i], VIRTIO_BLK_S_OK);
	/* Each read spans a written pair of sectors and half of the untouched ones after it. */
	for (unsigned i = 0; i < BATCH; i++) {
		hdr[i] = header(VIRTIO_BLK_T_IN, 4 * i + 1);
		memset(data[i], 0, sizeof(data[i]));
		make_rw(&c[i], &hdr[i], data[i], sizeof(data[i]), &status[i]);
	}
	run_reversed(c, BATCH, NULL);
	for (unsigned i = 0; i < BATCH; i++) {
		assert_int_equal(status[i], VIRTIO_BLK_S_OK);
		for (size_t b = 0; b < SECTOR; b++)
			assert_int_equal(data[i][b], 0x10 + i);
		expect_image((4 * i + 2) * SECTOR, data[i] + SECTOR, SECTOR);
	}
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < BATCH; i++) {
		uint8_t back[2 * SECTOR];

		assert_int_equal(pread(fd, back, sizeof(back), 4 * i * SECTOR), sizeof(back));
		for (size_t b = 0; b < sizeof(back); b++)
			assert_int_equal(back[b], 0x10 + i);
	}
	close(fd);
}

static void test_out_of_order_threads(void **state)
{
	(void)state;
	out_of_order(BLKIO_THREADS);
}

static void test_out_of_order_auto(void **state)
{
	(void)state;
	out_of_order(BLKIO_AUTO);
}

#define FLUSHED BATCH

/*
 * A FLUSH after big writes completes after all of them: it starts only
 * once they are done. The writes go to the disk (O_DIRECT), so each takes
 * longer than a flush with nothing left to write back would.
 */
static void flush_after_writes(enum blkio_engine engine)
{
	static struct vq_chain c[FLUSHED + 1];
	static uint8_t data[FLUSHED][256 * 1024] __attribute__((aligned(4096)));
	struct virtio_blk_outhdr hdr[FLUSHED + 1];
	uint8_t status[FLUSHED + 1];
	unsigned order[FLUSHED + 1];

	remake_image_as(FLUSHED * sizeof(data[0]), engine, true);
	for (unsigned i = 0; i < FLUSHED; i++) {
		hdr[i] = header(VIRTIO_BLK_T_OUT, i * sizeof(data[0]) / SECTOR);
		memset(data[i], 0x20 + i, sizeof(data[i]));
		make_rw(&c[i], &hdr[i], data[i], sizeof(data[i]), &status[i]);
	}
	hdr[FLUSHED] = header(VIRTIO_BLK_T_FLUSH, 0);
	memset(&c[FLUSHED], 0, sizeof(c[FLUSHED]));
	c[FLUSHED].iov[c[FLUSHED].nr_out++] = (struct iovec){ .iov_base = &hdr[FLUSHED], .iov_len = sizeof(hdr[0]) };
	c[FLUSHED].out_len = sizeof(hdr[0]);
	c[FLUSHED].iov[c[FLUSHED].nr_out + c[FLUSHED].nr_in++] = (struct iovec){ .iov_base = &status[FLUSHED], .iov_len = 1 };
	c[FLUSHED].in_len = 1;
	run_reversed(c, FLUSHED + 1, order);
	assert_int_equal(order[FLUSHED], FLUSHED);
	for (unsigned i = 0; i <= FLUSHED; i++)
		assert_int_equal(status[i], VIRTIO_BLK_S_OK);
}

static void test_flush_after_writes_threads(void **state)
{
	(void)state;
	flush_after_writes(BLKIO_THREADS);
}

static void test_flush_after_writes_auto(void **state)
{
	(void)state;
	flush_after_writes(BLKIO_AUTO);
}

/* A DISCARD or WRITE_ZEROES request of one segment (or of `segs` bytes of segments when not 16); its status. */
static int dwz(uint32_t type, uint64_t sector, uint32_t sectors, uint32_t flags, size_t segs)
{
	struct virtio_blk_outhdr hdr = header(type, 0);
	struct virtio_blk_discard_write_zeroes seg[2] = {
		{ .sector = htole64(sector), .num_sectors = htole32(sectors), .flags = htole32(flags) },
		{ .sector = htole64(sector), .num_sectors = htole32(sectors), .flags = htole32(flags) },
	};
	uint8_t status = 0xff;

	memset(&chain, 0, sizeof(chain));
	add_out(&hdr, sizeof(hdr));
	if (segs)
		add_out(seg, segs);
	add_in(&status, 1);
	return request();
}

static void read_sectors(uint64_t sector, uint8_t *buf, size_t len)
{
	struct virtio_blk_outhdr hdr = header(VIRTIO_BLK_T_IN, sector);
	uint8_t status;

	memset(&chain, 0, sizeof(chain));
	add_out(&hdr, sizeof(hdr));
	add_in(buf, len);
	add_in(&status, 1);
	assert_int_equal(request(), VIRTIO_BLK_S_OK);
}

#define BIG (1u << 20)
#define SEG sizeof(struct virtio_blk_discard_write_zeroes)

/* DISCARD punches a hole (SEEK_HOLE finds it), the size stays, and the range reads back as zeroes. */
static void test_discard_punches_hole(void **state)
{
	static uint8_t back[128 * 1024];
	struct stat before, after;

	(void)state;
	remake_image(BIG, BLKIO_AUTO);
	assert_true(disk.can_discard);
	assert_int_equal(fstat(disk.fd, &before), 0);
	assert_int_equal(dwz(VIRTIO_BLK_T_DISCARD, 256, 256, 0, SEG), VIRTIO_BLK_S_OK);
	assert_int_equal(fstat(disk.fd, &after), 0);
	assert_int_equal(after.st_size, BIG);
	assert_true(after.st_blocks < before.st_blocks);
	assert_int_equal(lseek(disk.fd, 0, SEEK_HOLE), 128 * 1024);
	assert_int_equal(lseek(disk.fd, 128 * 1024, SEEK_DATA), 256 * 1024);
	read_sectors(256, back, sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	read_sectors(512, back, SECTOR);
	expect_image(256 * 1024, back, SECTOR);
}

/* WRITE_ZEROES reads back as zeroes, with or without unmap; around it nothing changed. */
static void test_write_zeroes(void **state)
{
	static uint8_t back[6 * 4096];

	(void)state;
	remake_image(BIG, BLKIO_AUTO);
	assert_true(disk.can_zero);
	assert_int_equal(dwz(VIRTIO_BLK_T_WRITE_ZEROES, 16, 8, 0, SEG), VIRTIO_BLK_S_OK);
	assert_int_equal(dwz(VIRTIO_BLK_T_WRITE_ZEROES, 32, 16, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, SEG),
			 VIRTIO_BLK_S_OK);
	read_sectors(8, back, sizeof(back));
	expect_image(8 * SECTOR, back, 8 * SECTOR);
	for (size_t i = 8 * SECTOR; i < 16 * SECTOR; i++)
		assert_int_equal(back[i], 0);
	expect_image(24 * SECTOR, back + 16 * SECTOR, 8 * SECTOR);
	for (size_t i = 24 * SECTOR; i < 40 * SECTOR; i++)
		assert_int_equal(back[i], 0);
	expect_image(56 * SECTOR, back + 48 * SECTOR, sizeof(back) - 48 * SECTOR);
	assert_int_equal(lseek(disk.fd, 0, SEEK_END), BIG);
}

/* Malformed segments are refused with the spec's status, and the image is untouched. */
static void test_dwz_malformed(void **state)
{
	static uint8_t back[BIG];
	const uint32_t D = VIRTIO_BLK_T_DISCARD, Z = VIRTIO_BLK_T_WRITE_ZEROES;
	const uint64_t end = BIG / SECTOR;
	struct stat before, after;
	int fd;

	(void)state;
	remake_image(BIG, BLKIO_AUTO);
	assert_int_equal(fstat(disk.fd, &before), 0);
	assert_int_equal(dwz(D, end, 8, 0, SEG), VIRTIO_BLK_S_IOERR);           /* past the end */
	assert_int_equal(dwz(D, end - 8, 16, 0, SEG), VIRTIO_BLK_S_IOERR);      /* across it */
	assert_int_equal(dwz(Z, UINT64_MAX - 7, 8, 0, SEG), VIRTIO_BLK_S_IOERR); /* wrapping */
	assert_int_equal(dwz(D, 8, 0, 0, SEG), VIRTIO_BLK_S_IOERR);             /* empty */
	assert_int_equal(dwz(Z, 0, BLK_DWZ_MAX_SECTORS + 8, 0, SEG), VIRTIO_BLK_S_IOERR); /* over the max */
	assert_int_equal(dwz(D, 4, 8, 0, SEG), VIRTIO_BLK_S_IOERR);             /* unaligned start */
	assert_int_equal(dwz(Z, 8, 12, 0, SEG), VIRTIO_BLK_S_IOERR);            /* unaligned length */
	assert_int_equal(dwz(D, 8, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, SEG), VIRTIO_BLK_S_UNSUPP); /* unmap on discard */
	assert_int_equal(dwz(Z, 8, 8, 2, SEG), VIRTIO_BLK_S_UNSUPP);            /* unknown flag */
	assert_int_equal(dwz(D, 8, 8, 0, 2 * SEG), VIRTIO_BLK_S_UNSUPP);        /* two segments */
	assert_int_equal(dwz(Z, 8, 8, 0, SEG - 1), VIRTIO_BLK_S_IOERR);         /* a torn one */
	assert_int_equal(dwz(D, 8, 8, 0, 0), VIRTIO_BLK_S_IOERR);               /* none */
	assert_int_equal(fstat(disk.fd, &after), 0);
	assert_int_equal(after.st_size, BIG);
	assert_int_equal(after.st_blocks, before.st_blocks);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, BIG, 0), BIG);
	close(fd);
	expect_image(0, back, BIG);
}

/* A read-only drive offers neither, and answers them UNSUPP. */
static void test_dwz_readonly(void **state)
{
	(void)state;
	blk_disk_close(&disk);
	assert_int_equal(open_disk(true, false), 0);
	assert_false(disk.can_discard);
	assert_false(disk.can_zero);
	assert_int_equal(dwz(VIRTIO_BLK_T_DISCARD, 8, 8, 0, SEG), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0, SEG), VIRTIO_BLK_S_UNSUPP);
}

/* PATCH /drives/{id} on a running drive: the new file, its capacity, and the driver told of the change. */
static void test_patch_swaps_file(void **state)
{
	static struct fake_host f;
	static uint8_t ram[1 << 16];
	const struct device_api *drives = api_section_find("drives", 6);
	static struct api_config_change change;
	struct device_instance *inst;
	struct virtio_dev *dev;
	char first[64], body[256];
	struct errmsg e;

	(void)state;
	blk_disk_close(&disk); /* setup's: the device takes the image's lock */
	memcpy(first, path, sizeof(first));
	assert_int_equal(make_image(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", 2 * SECTORS * SECTOR), 0);
	memset(&f.cfg, 0, sizeof(f.cfg));
	blk_config_of(&f.cfg)->nr_drives = 1;
	blk_config_of(&f.cfg)->drives[0] = (struct drive_config){ .id = "d0" };
	memcpy(blk_config_of(&f.cfg)->drives[0].path, first, sizeof(first));
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, "pci"), 0);
	assert_int_equal(fake_host_add(&f, "virtio-blk"), 0);
	dev = virtio_kind_device(fake_host_last(&f), 0);
	assert_int_equal(le64toh(((struct virtio_blk_config *)dev->config)->capacity), SECTORS);
	inst = devices_find_api(&f.devices, drives);
	assert_non_null(inst);

	snprintf(body, sizeof(body), "{\"drive_id\": \"d0\", \"path_on_host\": \"%s\"}", path);
	memset(&change, 0, sizeof(change));
	assert_int_equal(drives->parse_patch(body, strlen(body), &change, &e), 0);
	assert_int_equal(inst->ops->api_patch(inst->data, &change, &e), 0);
	assert_int_equal(le64toh(((struct virtio_blk_config *)dev->config)->capacity), 2 * SECTORS);
	assert_int_equal(dev->config_generation, 1);

	/* The old file stays if the new one cannot be opened; another id is not this VM's. */
	unlink(path);
	assert_int_equal(inst->ops->api_patch(inst->data, &change, &e), -EINVAL);
	assert_non_null(strstr(e.text, "No such file"));
	assert_int_equal(le64toh(((struct virtio_blk_config *)dev->config)->capacity), 2 * SECTORS);
	snprintf(change.id, sizeof(change.id), "d1");
	assert_int_equal(inst->ops->api_patch(inst->data, &change, &e), -EINVAL);
	assert_non_null(strstr(e.text, "no drive 'd1'"));
	fake_host_exit(&f);
	memcpy(path, first, sizeof(first));
}

/* BLK_MAX_DRIVES drives fit either transport: on MMIO the windows past the eighth share the IOAPIC's lines. */
static void sixteen_drives(enum virtio_transport_kind transport, const char *bus)
{
	static struct fake_host f;
	static uint8_t ram[1 << 16];
	char want[64];

	blk_disk_close(&disk); /* setup's exclusive lock: these read-only drives share the image */
	memset(&f.cfg, 0, sizeof(f.cfg));
	f.cfg.transport = transport;
	f.cfg.mmio_cmdline = true;
	for (unsigned i = 0; i < BLK_MAX_DRIVES; i++) {
		struct drive_config *d = &blk_config_of(&f.cfg)->drives[i];

		*d = (struct drive_config){ .readonly = true };
		snprintf(d->id, sizeof(d->id), "d%u", i);
		memcpy(d->path, path, sizeof(path));
	}
	blk_config_of(&f.cfg)->nr_drives = BLK_MAX_DRIVES;
	assert_int_equal(fake_host_init(&f, ram, sizeof(ram)), 0);
	assert_int_equal(fake_host_add(&f, bus), 0);
	assert_int_equal(fake_host_add(&f, "virtio-blk"), 0);
	assert_non_null(virtio_kind_device(fake_host_last(&f), BLK_MAX_DRIVES - 1));
	if (transport == VIRTIO_TRANSPORT_MMIO) {
		/* The ninth window is on the first's line; the last is announced too. */
		assert_non_null(strstr(f.cmdline, "virtio_mmio.device=512@0xd0001000:16"));
		snprintf(want, sizeof(want), "virtio_mmio.device=512@%#x:23",
			 VIRTIO_MMIO_BASE + (BLK_MAX_DRIVES - 1) * VIRTIO_MMIO_WINDOW);
		assert_non_null(strstr(f.cmdline, want));
	}
	fake_host_exit(&f);
}

static void test_sixteen_drives_mmio(void **state)
{
	(void)state;
	sixteen_drives(VIRTIO_TRANSPORT_MMIO, "virtio-mmio");
}

static void test_sixteen_drives_pci(void **state)
{
	(void)state;
	sixteen_drives(VIRTIO_TRANSPORT_PCI, "pci");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_sizes_the_disk),
		T(test_open_rounds_down),
		T(test_open_missing_file),
		T(test_open_directory),
		T(test_open_fifo),
		T(test_open_locks_the_image),
		T(test_read),
		T(test_read_last_sector),
		T(test_write),
		T(test_flush),
		T(test_get_id),
		T(test_out_of_range),
		T(test_readonly),
		T(test_unsupported),
		T(test_short_chain),
		T(test_short_read),
		T(test_short_write_continued),
		T(test_host_error),
		T(test_direct),
		T(test_out_of_order_threads),
		T(test_out_of_order_auto),
		T(test_flush_after_writes_threads),
		T(test_flush_after_writes_auto),
		T(test_discard_punches_hole),
		T(test_write_zeroes),
		T(test_dwz_malformed),
		T(test_dwz_readonly),
		T(test_patch_swaps_file),
		T(test_sixteen_drives_mmio),
		T(test_sixteen_drives_pci),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
