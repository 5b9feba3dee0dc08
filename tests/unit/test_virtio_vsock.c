// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock (src/virtio/vsock.c) on the fake host: this test plays the
 * guest's driver on the three queues over a buffer as guest RAM, and the
 * host's programs on real Unix sockets in a temporary directory; the device's
 * epoll is served as the I/O thread would (fake_host_run_io).
 */
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
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/virtio_vsock.h>

#include "api/section.h"
#include "fake_host.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

extern const struct virtio_kind virtio_kind_vsock_create;

#define TEST_TIMEOUT_S 20
#define RAM_SIZE (4u << 20)
#define QSIZE 256
#define RXQ 0
#define TXQ 1
#define RX_DATA 0x100000
#define RX_BUF (4096 + sizeof(struct virtio_vsock_hdr))
#define TX_DATA 0x280000
#define TX_SLOT 0x11000
#define TX_SLOTS 16
#define CID 42
#define HDR sizeof(struct virtio_vsock_hdr)
/* The device's buf_alloc per connection and its connection limit (src/virtio/vsock.c). */
#define CONN_BUF (256 * 1024)
#define CONNS_MAX 64

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct fake_host f;
static struct virtio_dev *dev;
static char dir[32], uds[48];
static uint16_t rx_avail, rx_used_seen, tx_avail;

static void fake_interrupt(struct virtio_dev *d, int queue)
{
	(void)d;
	(void)queue;
}

static const struct virtio_transport_ops fake_transport = { .name = "test", .interrupt = fake_interrupt };

static uint64_t desc_gpa(unsigned q)
{
	return 0x10000 + q * 0x4000;
}

static struct vring_avail *avail(unsigned q)
{
	return (struct vring_avail *)(ram + desc_gpa(q) + 0x1000);
}

static struct vring_used *used(unsigned q)
{
	return (struct vring_used *)(ram + desc_gpa(q) + 0x2000);
}

static void notify(unsigned q)
{
	pthread_mutex_lock(&dev->lock);
	dev->ops->queue_notify(dev, q);
	pthread_mutex_unlock(&dev->lock);
}

/* What the I/O thread would do now: the device's sockets, its kicks. */
static void run_io(void)
{
	fake_host_run_io(&f, 64);
}

/* n more receive buffers. */
static void give_rx(unsigned n)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + desc_gpa(RXQ));

	for (unsigned i = 0; i < n; i++, rx_avail++) {
		unsigned d = rx_avail % QSIZE;

		desc[d] = (struct vring_desc){ .addr = htole64(RX_DATA + d * RX_BUF), .len = htole32(RX_BUF),
					       .flags = htole16(VRING_DESC_F_WRITE) };
		avail(RXQ)->ring[d] = htole16((uint16_t)d);
	}
	__atomic_store_n(&avail(RXQ)->idx, htole16(rx_avail), __ATOMIC_RELEASE);
	notify(RXQ);
}

/* The next packet the device sent the guest: false if none. data gets up to cap bytes of its payload. */
static bool next_rx(struct virtio_vsock_hdr *h, void *data, size_t cap)
{
	struct vring_used *u = used(RXQ);
	struct vring_used_elem e;

	if (le16toh(u->idx) == rx_used_seen)
		return false;
	e = u->ring[rx_used_seen++ % QSIZE];
	assert_true(le32toh(e.len) >= HDR);
	memcpy(h, ram + RX_DATA + le32toh(e.id) * RX_BUF, HDR);
	assert_int_equal(le32toh(e.len), HDR + le32toh(h->len));
	if (data)
		memcpy(data, ram + RX_DATA + le32toh(e.id) * RX_BUF + HDR, le32toh(h->len) < cap ? le32toh(h->len) : cap);
	return true;
}

/* The next packet, which must be op between host port local and guest port peer. */
static uint32_t expect_rx(uint16_t op, uint32_t local, uint32_t peer, void *data, size_t cap)
{
	struct virtio_vsock_hdr h;

	assert_true(next_rx(&h, data, cap));
	assert_int_equal(le16toh(h.op), op);
	assert_int_equal(le64toh(h.src_cid), 2);
	assert_int_equal(le64toh(h.dst_cid), CID);
	if (local)
		assert_int_equal(le32toh(h.src_port), local);
	assert_int_equal(le32toh(h.dst_port), peer);
	assert_int_equal(le16toh(h.type), VIRTIO_VSOCK_TYPE_STREAM);
	return le16toh(h.op) == VIRTIO_VSOCK_OP_RW ? le32toh(h.len) : le32toh(h.src_port);
}

static void expect_no_rx(void)
{
	struct virtio_vsock_hdr h;

	run_io();
	assert_false(next_rx(&h, NULL, 0));
}

struct pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
	uint32_t len; /* the header's len; data_len bytes follow it */
};

/* One packet from the guest, in one descriptor, then the kick. */
static void send_raw(const struct pkt *p, const void *data, size_t data_len)
{
	struct vring_desc *desc = (struct vring_desc *)(ram + desc_gpa(TXQ));
	unsigned d = tx_avail % QSIZE;
	uint64_t gpa = TX_DATA + (tx_avail % TX_SLOTS) * TX_SLOT;
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(p->src_cid), .dst_cid = htole64(p->dst_cid),
		.src_port = htole32(p->src_port), .dst_port = htole32(p->dst_port),
		.len = htole32(p->len), .type = htole16(p->type), .op = htole16(p->op),
		.flags = htole32(p->flags), .buf_alloc = htole32(p->buf_alloc), .fwd_cnt = htole32(p->fwd_cnt),
	};

	assert_true(HDR + data_len <= TX_SLOT);
	memcpy(ram + gpa, &h, HDR);
	if (data_len)
		memcpy(ram + gpa + HDR, data, data_len);
	desc[d] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32((uint32_t)(HDR + data_len)) };
	avail(TXQ)->ring[d] = htole16((uint16_t)d);
	tx_avail++;
	__atomic_store_n(&avail(TXQ)->idx, htole16(tx_avail), __ATOMIC_RELEASE);
	notify(TXQ);
}

/* A well-formed packet of the guest's on connection (guest port, host port). */
static void send_op(uint16_t op, uint32_t guest_port, uint32_t host_port, uint32_t flags, uint32_t buf_alloc,
		    uint32_t fwd_cnt, const void *data, uint32_t len)
{
	struct pkt p = { .src_cid = CID, .dst_cid = 2, .src_port = guest_port, .dst_port = host_port,
			 .type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags, .buf_alloc = buf_alloc,
			 .fwd_cnt = fwd_cnt, .len = len };

	send_raw(&p, data, len);
}

static void send_simple(uint16_t op, uint32_t guest_port, uint32_t host_port, uint32_t flags)
{
	send_op(op, guest_port, host_port, flags, CONN_BUF, 0, NULL, 0);
}

static int setup(void **state)
{
	struct errmsg e;
	struct vsock_config *cfg;

	(void)state;
	alarm(TEST_TIMEOUT_S);
	memset(ram, 0, sizeof(ram));
	memset(&f.cfg, 0, sizeof(f.cfg));
	snprintf(dir, sizeof(dir), "/tmp/kvmini-vsock-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	cfg = vsock_config_of(&f.cfg);
	cfg->cid = CID;
	snprintf(cfg->uds, sizeof(cfg->uds), "%s", uds);
	if (fake_host_init(&f, ram, sizeof(ram)))
		return -1;
	if (virtio_kind_vsock_create.create(&f.host, cfg, 0, &dev, &e) || virtio_dev_setup(&f.host, dev, &e)) {
		fprintf(stderr, "%s\n", e.text);
		return -1;
	}
	dev->transport = &fake_transport;
	for (unsigned q = 0; q < 3; q++) {
		struct virtqueue *vq = &dev->vqs[q];

		vq->size = QSIZE;
		vq->desc_gpa = desc_gpa(q);
		vq->avail_gpa = desc_gpa(q) + 0x1000;
		vq->used_gpa = desc_gpa(q) + 0x2000;
		vq->enabled = true;
	}
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	virtio_set_driver_features(dev, 1, 1u << (VIRTIO_F_VERSION_1 - 32));
	virtio_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				       VIRTIO_CONFIG_S_DRIVER_OK);
	rx_avail = rx_used_seen = tx_avail = 0;
	give_rx(128);
	run_io();
	return virtio_device_live(dev) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	virtio_dev_remove(dev);
	fake_host_exit(&f);
	/* The device removed its socket; what a test made is removed here. */
	for (unsigned port = 5000; port < 5000 + CONNS_MAX + 2; port++) {
		snprintf(path, sizeof(path), "%s_%u", uds, port);
		unlink(path);
	}
	assert_int_equal(access(uds, F_OK), -1);
	rmdir(dir);
	alarm(0);
	return 0;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int unix_listen(unsigned port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", uds, port);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, CONNS_MAX + 4), 0);
	return fd;
}

/* Reads exactly len bytes (the device must have sent them already). */
static void read_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

static ssize_t recv_now(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* The device closed its end (with unread bytes in it, a Unix socket says ECONNRESET). */
static bool peer_closed(int fd)
{
	char c;
	ssize_t n = recv_now(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* A host client's connection to guest port `port`, answered by the guest: returns the client's fd. */
static int host_connect(unsigned port, uint32_t *local)
{
	char line[32], want[32];
	int fd = unix_connect(uds);
	int n;

	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	assert_int_equal(write(fd, line, (size_t)n), n);
	run_io();
	*local = expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, port, NULL, 0);
	assert_true(*local >= 1u << 30);
	send_simple(VIRTIO_VSOCK_OP_RESPONSE, port, *local, 0);
	run_io();
	n = snprintf(want, sizeof(want), "OK %u\n", *local);
	memset(line, 0, sizeof(line));
	read_exact(fd, line, (size_t)n);
	assert_string_equal(line, want);
	return fd;
}

/* The guest's connection from guest port `gport` to host port `port`, which the host accepts: its fd. */
static int guest_connect(int listener, uint32_t gport, uint32_t port)
{
	int fd;

	send_simple(VIRTIO_VSOCK_OP_REQUEST, gport, port, 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, port, gport, NULL, 0);
	fd = accept(listener, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* Host to guest: CONNECT, REQUEST, RESPONSE, "OK port", then bytes both ways. */
static void test_host_connects(void **state)
{
	char buf[64] = { 0 };
	uint32_t local;
	int fd;

	(void)state;
	fd = host_connect(1234, &local);
	assert_int_equal(write(fd, "hello", 5), 5);
	run_io();
	assert_int_equal(expect_rx(VIRTIO_VSOCK_OP_RW, local, 1234, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	send_op(VIRTIO_VSOCK_OP_RW, 1234, local, 0, CONN_BUF, 5, "world!", 6);
	run_io();
	read_exact(fd, buf, 6);
	assert_memory_equal(buf, "world!", 6);
	expect_no_rx();
	close(fd);
}

/* Bytes the client sends right after its CONNECT line belong to the stream, not to the line. */
static void test_host_data_before_ok(void **state)
{
	char buf[64] = { 0 }, line[32];
	int fd = unix_connect(uds);
	uint32_t local;

	(void)state;
	assert_int_equal(write(fd, "CONNECT 77\nearly", 16), 16);
	run_io();
	local = expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 77, NULL, 0);
	send_simple(VIRTIO_VSOCK_OP_RESPONSE, 77, local, 0);
	run_io();
	assert_int_equal(expect_rx(VIRTIO_VSOCK_OP_RW, local, 77, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "early", 5);
	snprintf(line, sizeof(line), "OK %u\n", local);
	read_exact(fd, buf, strlen(line));
	assert_memory_equal(buf, line, strlen(line));
	close(fd);
}

/* A guest that refuses (RST), and one that never answers: the client's connection is closed. */
static void test_host_connect_refused_or_unanswered(void **state)
{
	uint32_t local;
	int fd = unix_connect(uds);

	(void)state;
	assert_int_equal(write(fd, "CONNECT 9\n", 10), 10);
	run_io();
	local = expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 9, NULL, 0);
	send_simple(VIRTIO_VSOCK_OP_RST, 9, local, 0);
	run_io();
	assert_true(peer_closed(fd));
	close(fd);

	fd = unix_connect(uds);
	assert_int_equal(write(fd, "CONNECT 10\n", 11), 11);
	run_io();
	local = expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 10, NULL, 0);
	/* The device's deadline is 2 s; its timer ticks every half second. */
	for (int i = 0; i < 30 && !peer_closed(fd); i++) {
		usleep(100000);
		run_io();
	}
	assert_true(peer_closed(fd));
	/* The guest saw the request, so it is told the connection is gone. */
	expect_rx(VIRTIO_VSOCK_OP_RST, local, 10, NULL, 0);
	close(fd);
}

/* Not a CONNECT line: closed, and the guest hears nothing. */
static void test_host_bad_line(void **state)
{
	static const char *const lines[] = { "CONNECT\n", "connect 5\n", "CONNECT 5x\n", "CONNECT 99999999999\n",
					     "CONNECT 123456789012345678901234\n" };

	(void)state;
	for (unsigned i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fd = unix_connect(uds);

		assert_true(write(fd, lines[i], strlen(lines[i])) > 0);
		run_io();
		assert_true(peer_closed(fd));
		close(fd);
	}
	expect_no_rx();
}

/* Guest to host: the device connects to <uds>_<port>; bytes both ways. */
static void test_guest_connects(void **state)
{
	char buf[16] = { 0 };
	int lfd = unix_listen(5000), fd;

	(void)state;
	fd = guest_connect(lfd, 300, 5000);
	send_op(VIRTIO_VSOCK_OP_RW, 300, 5000, 0, CONN_BUF, 0, "ping", 4);
	run_io();
	read_exact(fd, buf, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(write(fd, "pong", 4), 4);
	run_io();
	assert_int_equal(expect_rx(VIRTIO_VSOCK_OP_RW, 5000, 300, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	close(fd);
	close(lfd);
}

/* No host listener on that port: RST. */
static void test_guest_connect_refused(void **state)
{
	(void)state;
	send_simple(VIRTIO_VSOCK_OP_REQUEST, 301, 5001, 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5001, 301, NULL, 0);
}

/* The guest's credit: the device never sends more than buf_alloc beyond what the guest said it forwarded. */
static void test_guest_credit_respected(void **state)
{
	static char data[8192];
	struct virtio_vsock_hdr h;
	uint32_t local, got = 0;
	int fd;

	(void)state;
	fd = host_connect(1, &local);
	/* The guest has room for 1000 bytes. */
	send_op(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1, local, 0, 1000, 0, NULL, 0);
	assert_int_equal(write(fd, data, sizeof(data)), sizeof(data));
	run_io();
	while (next_rx(&h, NULL, 0)) {
		assert_int_equal(le16toh(h.op), VIRTIO_VSOCK_OP_RW);
		got += le32toh(h.len);
	}
	assert_int_equal(got, 1000);
	give_rx(16);
	expect_no_rx();
	/* It read 600 of them: 600 more may come. */
	send_op(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1, local, 0, 1000, 600, NULL, 0);
	run_io();
	got = 0;
	while (next_rx(&h, NULL, 0))
		got += le32toh(h.len);
	assert_int_equal(got, 600);
	close(fd);
}

/*
 * A host peer that does not read: the device buffers at most its buf_alloc
 * beyond what the socket holds, the guest's credit runs out, and a packet
 * past it resets the connection. Once the host reads, the guest hears of
 * the room (CREDIT_UPDATE).
 */
static void test_host_stops_reading(void **state)
{
	static char data[60000], sink[1 << 16];
	struct virtio_vsock_hdr h;
	uint32_t sent = 0, fwd = 0, credit;
	int lfd = unix_listen(5002), fd, sndbuf;
	socklen_t sl = sizeof(sndbuf);

	(void)state;
	fd = guest_connect(lfd, 302, 5002);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl), 0);
	for (;;) {
		while (next_rx(&h, NULL, 0))
			fwd = le32toh(h.fwd_cnt);
		credit = CONN_BUF - (sent - fwd);
		if (!credit)
			break;
		uint32_t n = credit < sizeof(data) ? credit : sizeof(data);

		send_op(VIRTIO_VSOCK_OP_RW, 302, 5002, 0, CONN_BUF, 0, data, n);
		sent += n;
		run_io();
		/* What the host's socket holds is bounded by the kernel, what the device holds by its buf_alloc. */
		assert_true(sent <= CONN_BUF + 4u * (unsigned)sndbuf + 2u * CONN_BUF);
	}
	assert_int_equal(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	/* The host reads everything: the guest gets its credit back. */
	for (uint32_t total = 0; total < sent;) {
		ssize_t n = recv_now(fd, sink, sizeof(sink));

		if (n > 0)
			total += (uint32_t)n;
		run_io();
	}
	/* Unasked, at least a quarter of the buffer's worth; asked (CREDIT_REQUEST), all of it. */
	fwd = 0;
	while (next_rx(&h, NULL, 0)) {
		assert_int_equal(le16toh(h.op), VIRTIO_VSOCK_OP_CREDIT_UPDATE);
		fwd = le32toh(h.fwd_cnt);
	}
	assert_true(sent - fwd < CONN_BUF / 4);
	send_simple(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 302, 5002, 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5002, 302, NULL, 0);
	assert_int_equal(le32toh(((struct virtio_vsock_hdr *)(ram + RX_DATA +
			 le32toh(used(RXQ)->ring[(rx_used_seen - 1) % QSIZE].id) * RX_BUF))->fwd_cnt), sent);
	close(fd);
	close(lfd);
}

/* A guest that overruns the credit it was given is reset, and its host peer sees the connection end. */
static void test_guest_overrun_resets(void **state)
{
	static char data[60000], sink[1 << 16];
	int lfd = unix_listen(5003), fd;
	struct virtio_vsock_hdr h;
	bool reset = false;
	ssize_t n;

	(void)state;
	fd = guest_connect(lfd, 303, 5003);
	/* The host never reads; the guest ignores the credit. */
	for (unsigned i = 0; i < 64 && !reset; i++) {
		send_op(VIRTIO_VSOCK_OP_RW, 303, 5003, 0, CONN_BUF, 0, data, sizeof(data));
		run_io();
		while (next_rx(&h, NULL, 0))
			reset |= le16toh(h.op) == VIRTIO_VSOCK_OP_RST;
	}
	assert_true(reset);
	while ((n = recv_now(fd, sink, sizeof(sink))) > 0)
		;
	assert_int_equal(n, 0);
	close(fd);
	close(lfd);
}

/* Half-close both ways, then the guest's full close ends with RST. */
static void test_half_close(void **state)
{
	char buf[16] = { 0 };
	int lfd = unix_listen(5004), fd;

	(void)state;
	fd = guest_connect(lfd, 304, 5004);
	/* The host stops sending: the guest is told, and may still send. */
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 5004, 304, NULL, 0);
	send_op(VIRTIO_VSOCK_OP_RW, 304, 5004, 0, CONN_BUF, 0, "late", 4);
	run_io();
	read_exact(fd, buf, 4);
	assert_memory_equal(buf, "late", 4);
	/* The guest stops sending: the host reads EOF. */
	send_simple(VIRTIO_VSOCK_OP_SHUTDOWN, 304, 5004, VIRTIO_VSOCK_SHUTDOWN_SEND);
	run_io();
	assert_int_equal(recv_now(fd, buf, 1), 0);
	expect_no_rx();
	/* And closes: RST ends it. */
	send_simple(VIRTIO_VSOCK_OP_SHUTDOWN, 304, 5004, VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5004, 304, NULL, 0);
	close(fd);
	close(lfd);
}

/* RST from the guest closes the host's side; the host closing is SHUTDOWN to the guest. */
static void test_reset_both_ways(void **state)
{
	int lfd = unix_listen(5005), fd;

	(void)state;
	fd = guest_connect(lfd, 305, 5005);
	send_simple(VIRTIO_VSOCK_OP_RST, 305, 5005, 0);
	run_io();
	assert_true(peer_closed(fd));
	expect_no_rx();
	close(fd);
	/* After the RST the connection is unknown: data on it is refused. */
	send_op(VIRTIO_VSOCK_OP_RW, 305, 5005, 0, CONN_BUF, 0, "x", 1);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5005, 305, NULL, 0);

	fd = guest_connect(lfd, 306, 5005);
	close(fd);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 5005, 306, NULL, 0);
	send_simple(VIRTIO_VSOCK_OP_SHUTDOWN, 306, 5005, VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5005, 306, NULL, 0);
	close(lfd);
}

/* Garbage from the guest: refused with RST (or dropped when it is too short to answer), never more. */
static void test_garbage(void **state)
{
	struct pkt p = { .src_cid = CID, .dst_cid = 2, .src_port = 400, .dst_port = 6000,
			 .type = VIRTIO_VSOCK_TYPE_STREAM, .buf_alloc = CONN_BUF };
	int lfd = unix_listen(5006), fd;

	(void)state;
	/* An unknown op on no connection, RW on no connection, a wrong source CID, a wrong type. */
	p.op = 99;
	send_raw(&p, NULL, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, 6000, 400, NULL, 0);
	p.op = VIRTIO_VSOCK_OP_RW;
	p.len = 1;
	send_raw(&p, "x", 1);
	expect_rx(VIRTIO_VSOCK_OP_RST, 6000, 400, NULL, 0);
	p.len = 0;
	p.op = VIRTIO_VSOCK_OP_REQUEST;
	p.src_cid = 7;
	send_raw(&p, NULL, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, 6000, 400, NULL, 0);
	p.src_cid = CID;
	p.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	send_raw(&p, NULL, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, 6000, 400, NULL, 0);
	/* A length past the packet. */
	p.type = VIRTIO_VSOCK_TYPE_STREAM;
	p.op = VIRTIO_VSOCK_OP_RW;
	p.len = 5000;
	send_raw(&p, "abc", 3);
	expect_rx(VIRTIO_VSOCK_OP_RST, 6000, 400, NULL, 0);
	/* An RST on no connection is not answered; a packet shorter than its header is dropped. */
	p.op = VIRTIO_VSOCK_OP_RST;
	p.len = 0;
	send_raw(&p, NULL, 0);
	expect_no_rx();
	{
		struct vring_desc *desc = (struct vring_desc *)(ram + desc_gpa(TXQ));
		unsigned d = tx_avail % QSIZE;

		desc[d] = (struct vring_desc){ .addr = htole64(TX_DATA), .len = htole32(10) };
		avail(TXQ)->ring[d] = htole16((uint16_t)d);
		avail(TXQ)->idx = htole16(++tx_avail);
		notify(TXQ);
	}
	expect_no_rx();
	/* An unknown op on a live connection resets it. */
	fd = guest_connect(lfd, 401, 5006);
	send_simple(99, 401, 5006, 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5006, 401, NULL, 0);
	assert_true(peer_closed(fd));
	assert_int_equal(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	close(fd);
	close(lfd);
}

/* At most CONNS_MAX connections: the next one is refused, and a freed slot is taken again. */
static void test_connection_limit(void **state)
{
	int lfd = unix_listen(5007), fds[CONNS_MAX], extra;

	(void)state;
	give_rx(CONNS_MAX);
	for (unsigned i = 0; i < CONNS_MAX; i++)
		fds[i] = guest_connect(lfd, 1000 + i, 5007);
	send_simple(VIRTIO_VSOCK_OP_REQUEST, 2000, 5007, 0);
	run_io();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5007, 2000, NULL, 0);
	/* A host client is refused too. */
	extra = unix_connect(uds);
	run_io();
	assert_true(peer_closed(extra));
	close(extra);
	send_simple(VIRTIO_VSOCK_OP_RST, 1000, 5007, 0);
	run_io();
	close(guest_connect(lfd, 2000, 5007));
	for (unsigned i = 0; i < CONNS_MAX; i++)
		close(fds[i]);
	close(lfd);
}

/* With no receive buffer the device waits (and does not spin); buffers given later get what waited. */
static void test_no_rx_buffers(void **state)
{
	struct virtio_vsock_hdr h;
	int lfd = unix_listen(5008), fd;
	unsigned refusals = 0;

	(void)state;
	fd = guest_connect(lfd, 500, 5008);
	/* Use up the buffers: refusals, each of which takes one. */
	for (unsigned i = 0; i < 200; i++)
		send_simple(VIRTIO_VSOCK_OP_RW, 600, 7000, 0);
	while (next_rx(&h, NULL, 0))
		refusals++;
	assert_true(refusals < 200);
	assert_int_equal(write(fd, "abc", 3), 3);
	run_io();
	give_rx(QSIZE / 2);
	run_io();
	bool data = false;

	while (next_rx(&h, NULL, 0))
		data |= le16toh(h.op) == VIRTIO_VSOCK_OP_RW && le32toh(h.len) == 3;
	assert_true(data);
	close(fd);
	close(lfd);
}

static int parse_put(const struct device_ops *ops, const char *json, struct api_config_change *c, struct errmsg *e)
{
	return ops->api->parse(json, strlen(json), c, e);
}

/* PUT /vsock's checks; the uds path must not exist (not even as a symbolic link). */
static void test_config(void **state)
{
	const struct device_ops *ops = device_find("virtio-vsock");
	struct api_config_change c;
	struct virtio_dev *other;
	struct vsock_config cfg = { .cid = 5 };
	struct errmsg e;
	char link[48];

	(void)state;
	assert_non_null(ops);
	assert_int_equal(parse_put(ops, "{\"guest_cid\":3,\"uds_path\":\"/tmp/x\",\"vsock_id\":\"v\"}", &c, &e), 0);
	assert_int_equal(((struct vsock_config *)c.item)->cid, 3);
	assert_string_equal(((struct vsock_config *)c.item)->uds, "/tmp/x");
	assert_int_equal(parse_put(ops, "{\"guest_cid\":2,\"uds_path\":\"/tmp/x\"}", &c, &e), -EINVAL);
	assert_int_equal(parse_put(ops, "{\"guest_cid\":3}", &c, &e), -EINVAL);
	assert_int_equal(parse_put(ops, "{\"guest_cid\":3,\"uds_path\":\"\"}", &c, &e), -EINVAL);
	/* The device's own socket is there: a second one is refused. */
	snprintf(cfg.uds, sizeof(cfg.uds), "%s", uds);
	assert_int_equal(virtio_kind_vsock_create.create(&f.host, &cfg, 1, &other, &e), -EADDRINUSE);
	assert_non_null(strstr(e.text, "remove it first"));
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("/nonexistent", link), 0);
	snprintf(cfg.uds, sizeof(cfg.uds), "%s", link);
	assert_int_equal(virtio_kind_vsock_create.create(&f.host, &cfg, 1, &other, &e), -EADDRINUSE);
	unlink(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_data_before_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connect_refused_or_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_bad_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_credit_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_stops_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_overrun_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rx_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
