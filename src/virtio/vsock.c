// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock (--vsock, PUT /vsock) in Firecracker's hybrid design
 * (docs/vsock.md): the guest's AF_VSOCK stream connections to and from the
 * host (CID 2) are Unix stream connections on the host.
 *   host to guest: a client connects to the uds path kvmini listens on,
 *     sends "CONNECT <port>\n"; kvmini asks the guest (REQUEST) and on its
 *     RESPONSE answers "OK <host port>\n", after which the Unix connection
 *     is the stream. A refusal, or no answer in time, closes it.
 *   guest to host port P: kvmini connects to "<uds>_<P>", a listener of the
 *     host's; without one the guest gets RST.
 * Everything runs on the I/O thread: the listener, the connections and a
 * timer are on one epoll of the device's own, itself one source of the I/O
 * thread. Flow control is the virtio spec's credit: each side says how much
 * it can buffer (buf_alloc) and how much it has passed on (fwd_cnt), so
 * neither sends more than the other can hold: a host peer that does not read
 * stalls only its own connection, through the guest's credit.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <linux/virtio_vsock.h>

#include "api/json.h"
#include "api/section.h"
#include "clock.h"
#include "io_thread.h"
#include "kv.h"
#include "options.h"
#include "parse.h"
#include "state.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

enum { VSOCK_RXQ, VSOCK_TXQ, VSOCK_EVQ, VSOCK_QUEUES };
#define VSOCK_HOST_CID 2
#define HDR_SIZE sizeof(struct virtio_vsock_hdr)
/* The largest packet either way: Linux's own limit (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
#define VSOCK_PKT_MAX (64 * 1024)
/* What kvmini buffers per connection from the guest for a slow host peer: its buf_alloc. */
#define VSOCK_CONN_BUF (256 * 1024)
/* Connections at once, each one Unix socket. */
#define VSOCK_CONNS_MAX 64
/* Refusals (RST) to send for packets of no connection, queued while the guest gives no receive buffer. */
#define VSOCK_RST_QUEUE 16
/* How long a host client may take to send its CONNECT line, and the guest to answer the request. */
#define VSOCK_CONNECT_TIMEOUT_MS 2000
/* "CONNECT 4294967295\n" */
#define VSOCK_LINE_MAX 24
/* Ports kvmini gives host-initiated connections, as Firecracker does: from 2^30 up. */
#define VSOCK_LOCAL_PORT_FIRST (1u << 30)

enum conn_state {
	CONN_FREE,
	CONN_LINE,       /* a host client accepted: reading its CONNECT line */
	CONN_CONNECTING, /* REQUEST sent to the guest: waiting for RESPONSE */
	CONN_OPEN,
};

/* Control packets a connection owes the guest, sent as receive buffers allow. */
#define SEND_REQUEST 1u
#define SEND_RESPONSE 2u
#define SEND_CREDIT 4u
#define SEND_SHUTDOWN 8u
#define SEND_RST 16u

struct vsock_conn {
	enum conn_state state;
	int fd;
	uint32_t local_port, peer_port; /* host side, guest side */
	uint64_t deadline_ms;           /* CONN_LINE and CONN_CONNECTING */
	unsigned send;                  /* SEND_* */
	uint32_t events;                /* what fd is registered for on the epoll */
	bool readable;     /* the host socket may have bytes: read when the guest has credit */
	bool host_eof;     /* the host peer will send nothing more (the guest was told: SHUTDOWN) */
	bool guest_no_send, guest_no_recv; /* the guest's SHUTDOWN flags */
	/* The guest's side of the credit. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Ours: bytes passed on to the host socket, and what the guest was last told of it. */
	uint32_t fwd_cnt, fwd_cnt_told;
	/* Bytes from the guest (and the "OK" line) not yet taken by the host socket: a ring of VSOCK_CONN_BUF. */
	uint8_t *buf;
	size_t buf_head, buf_len;
	char line[VSOCK_LINE_MAX];
	size_t line_len;
};

struct vsock_dev {
	struct virtio_dev vdev;
	struct virtio_vsock_config config;
	uint32_t cid;
	char uds[VSOCK_UDS_MAX + 1];
	struct io_thread *io;
	int epfd, listen_fd, timer_fd;
	bool watched;     /* epfd is watched by the I/O thread (not while the guest gives no receive buffer) */
	bool timer_armed;
	bool reset_owed;  /* restored: the guest is owed TRANSPORT_RESET on the event queue */
	uint32_t next_local_port;
	unsigned rx_next; /* the connection the next receive pass starts at, so none starves the others */
	struct vsock_conn conns[VSOCK_CONNS_MAX];
	struct { uint32_t local_port, peer_port; } rst[VSOCK_RST_QUEUE];
	unsigned nr_rst;
	struct log_limit bad;
	uint8_t bounce[VSOCK_PKT_MAX];
};

/* The epoll data of the listener and the timer; a connection's is its index. */
#define TAG_LISTENER UINT32_MAX
#define TAG_TIMER (UINT32_MAX - 1)

static uint32_t conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	/* A guest that says it forwarded more than it was sent, or has less room than in flight, gets nothing. */
	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* What the connection's socket should wake the device for. */
static uint32_t conn_wanted(const struct vsock_conn *c)
{
	switch (c->state) {
	case CONN_LINE:
		return EPOLLIN;
	case CONN_OPEN:
		return (!c->readable && !c->host_eof && !c->guest_no_recv ? EPOLLIN : 0) | (c->buf_len ? EPOLLOUT : 0);
	default:
		return 0;
	}
}

static void conn_update_events(struct vsock_dev *v, struct vsock_conn *c)
{
	struct epoll_event ev = { .events = conn_wanted(c), .data.u32 = (uint32_t)(c - v->conns) };

	if (ev.events != c->events && !epoll_ctl(v->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->events = ev.events;
}

static void conn_free(struct vsock_dev *v, struct vsock_conn *c)
{
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	*c = (struct vsock_conn){ .state = CONN_FREE, .fd = -1 };
}

/* The connection ends: the guest is told (RST) unless it ended it; the slot frees once RST is sent. */
static void conn_reset(struct vsock_dev *v, struct vsock_conn *c, bool tell_guest)
{
	if (!tell_guest || c->state == CONN_LINE) {
		conn_free(v, c);
		return;
	}
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->events = 0;
	c->send = SEND_RST;
	c->state = CONN_OPEN; /* nothing more moves: fd is gone */
	c->readable = false;
	c->buf_len = 0;
}

static struct vsock_conn *conn_find(struct vsock_dev *v, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state >= CONN_CONNECTING && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

static struct vsock_conn *conn_new(struct vsock_dev *v, int fd, enum conn_state state)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c = &v->conns[i];
		struct epoll_event ev = { .events = 0, .data.u32 = i };

		if (c->state != CONN_FREE)
			continue;
		*c = (struct vsock_conn){ .state = state, .fd = fd, .buf = malloc(VSOCK_CONN_BUF) };
		ev.events = c->events = conn_wanted(c);
		if (!c->buf || epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			log_limited(&v->bad, "%s: cannot take a connection: %s", v->vdev.name,
				    c->buf ? strerror(errno) : "out of memory");
			free(c->buf);
			*c = (struct vsock_conn){ .state = CONN_FREE, .fd = -1 };
			return NULL;
		}
		return c;
	}
	return NULL;
}

/* A connection waiting on the other side: the timer runs while there is one. */
static void conn_start_deadline(struct vsock_dev *v, struct vsock_conn *c)
{
	const struct itimerspec every_500ms = { .it_interval = { 0, 500000000 }, .it_value = { 0, 500000000 } };

	c->deadline_ms = monotonic_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	if (!v->timer_armed && !timerfd_settime(v->timer_fd, 0, &every_500ms, NULL))
		v->timer_armed = true;
}

/* Fills the header of a packet to the guest about connection (local, peer). */
static void fill_hdr(const struct vsock_dev *v, struct virtio_vsock_hdr *h, uint32_t local_port, uint32_t peer_port,
		     uint16_t op, uint32_t len, uint32_t flags, uint32_t fwd_cnt)
{
	*h = (struct virtio_vsock_hdr){
		.src_cid = htole64(VSOCK_HOST_CID),
		.dst_cid = htole64(v->cid),
		.src_port = htole32(local_port),
		.dst_port = htole32(peer_port),
		.len = htole32(len),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(op),
		.flags = htole32(flags),
		.buf_alloc = htole32(VSOCK_CONN_BUF),
		.fwd_cnt = htole32(fwd_cnt),
	};
}

/* Writes one packet into a receive chain (the header, then len bytes of data) and hands it back. */
static void rx_push(struct vsock_dev *v, const struct vq_chain *chain, const struct virtio_vsock_hdr *h,
		    const void *data, size_t len)
{
	struct virtio_dev *dev = &v->vdev;

	vq_chain_write(chain, 0, h, HDR_SIZE);
	if (len)
		vq_chain_write(chain, HDR_SIZE, data, len);
	vq_push(&dev->vqs[VSOCK_RXQ], chain->head, (uint32_t)(HDR_SIZE + len));
	dev->bytes_to_guest += HDR_SIZE + len;
}

/* The next control packet a connection owes, into chain; false if it owes none. */
static bool conn_control(struct vsock_dev *v, struct vsock_conn *c, const struct vq_chain *chain)
{
	static const unsigned order[] = { SEND_RST, SEND_REQUEST, SEND_RESPONSE, SEND_SHUTDOWN, SEND_CREDIT };
	static const uint16_t ops[] = { VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_OP_RESPONSE,
					VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_OP_CREDIT_UPDATE };
	struct virtio_vsock_hdr h;

	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->send & order[i]))
			continue;
		fill_hdr(v, &h, c->local_port, c->peer_port, ops[i], 0,
			 order[i] == SEND_SHUTDOWN ? VIRTIO_VSOCK_SHUTDOWN_SEND : 0, c->fwd_cnt);
		rx_push(v, chain, &h, NULL, 0);
		c->fwd_cnt_told = c->fwd_cnt;
		c->send &= ~order[i];
		if (order[i] == SEND_RST)
			conn_free(v, c);
		return true;
	}
	return false;
}

/*
 * One data packet from the host socket into chain, within the guest's
 * credit. Returns true if the chain was used.
 */
static bool conn_data(struct vsock_dev *v, struct vsock_conn *c, const struct vq_chain *chain)
{
	size_t room = chain->in_len - HDR_SIZE, want = conn_credit(c);
	struct virtio_vsock_hdr h;
	ssize_t n;

	if (want > room)
		want = room;
	if (want > VSOCK_PKT_MAX)
		want = VSOCK_PKT_MAX;
	if (!want)
		return false; /* a read of nothing would look like the end of the stream */
	do
		n = read(c->fd, v->bounce, want);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		fill_hdr(v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_RW, (uint32_t)n, 0, c->fwd_cnt);
		rx_push(v, chain, &h, v->bounce, (size_t)n);
		c->tx_cnt += (uint32_t)n;
		c->fwd_cnt_told = c->fwd_cnt;
		return true;
	}
	c->readable = false;
	if (n == 0) {
		/* The host peer shut down its sending side: the guest reads to the end, then sees EOF. */
		c->host_eof = true;
		c->send |= SEND_SHUTDOWN;
	} else if (errno != EAGAIN) {
		conn_reset(v, c, true);
		return false;
	}
	conn_update_events(v, c);
	return false;
}

/* Whether c has something for the guest: a control packet, or data it has credit for. */
static bool conn_has_rx(const struct vsock_conn *c)
{
	if (c->state == CONN_FREE)
		return false;
	return c->send || (c->state == CONN_OPEN && c->readable && !c->host_eof && !c->guest_no_recv &&
			   conn_credit(c) > 0);
}

/* Whether the I/O thread should wake the device for its sockets: not while the guest gives no buffer. */
static void vsock_watch(struct vsock_dev *v, bool on)
{
	if (v->watched != on && !event_loop_set_events(&v->io->loop, v->epfd, on ? EPOLLIN : 0))
		v->watched = on;
}

/*
 * Sends the guest what is waiting (refusals, control packets, data), taking
 * the connections in turn from where the last pass stopped, within one
 * turn's budget. dev->lock held.
 */
static void vsock_rx(struct vsock_dev *v)
{
	struct virtio_dev *dev = &v->vdev;
	struct virtqueue *vq = &dev->vqs[VSOCK_RXQ];
	struct virtio_turn turn = { 0 };
	struct vq_chain chain_storage, *chain = &chain_storage;
	bool pushed = false, held = false;
	unsigned idle = 0;

	if (!virtio_device_live(dev) || !vq->started)
		return;
	while (idle < VSOCK_CONNS_MAX + 1) {
		struct vsock_conn *c;
		bool used;

		if (!held) {
			if (v->nr_rst == 0) {
				/* Is there anything to send at all? Only then is a buffer taken. */
				bool any = false;

				for (unsigned i = 0; i < VSOCK_CONNS_MAX && !any; i++)
					any = conn_has_rx(&v->conns[i]);
				if (!any)
					break;
			}
			if (virtio_turn_over(dev, VSOCK_RXQ, &turn))
				break;
			int got = vq_pop(vq, chain);

			if (got < 0) {
				virtio_device_error(dev, "malformed descriptor chain on the receive queue");
				break;
			}
			if (!got) {
				if (vq_arm_notify(vq))
					continue;
				/* What waits stays in the sockets until the driver gives buffers and kicks. */
				vsock_watch(v, false);
				break;
			}
			if (chain->nr_out || chain->in_len < HDR_SIZE) {
				virtio_device_error(dev, "a receive buffer of %zu bytes, not a writable %zu-byte header",
						    chain->in_len, HDR_SIZE);
				break;
			}
			held = true;
			turn.chains++;
		}
		if (v->nr_rst) {
			struct virtio_vsock_hdr h;

			v->nr_rst--;
			fill_hdr(v, &h, v->rst[v->nr_rst].local_port, v->rst[v->nr_rst].peer_port, VIRTIO_VSOCK_OP_RST, 0,
				 0, 0);
			rx_push(v, chain, &h, NULL, 0);
			held = false;
			pushed = true;
			continue;
		}
		c = &v->conns[v->rx_next];
		v->rx_next = (v->rx_next + 1) % VSOCK_CONNS_MAX;
		/* Data first unless control is owed; a read that finds the end (or a reset) owes control at once. */
		used = !c->send && conn_has_rx(c) && conn_data(v, c, chain);
		if (!used && c->state != CONN_FREE && c->send)
			used = conn_control(v, c, chain);
		if (used) {
			turn.bytes += chain->in_len;
			held = false;
			pushed = true;
			idle = 0;
		} else {
			idle++;
		}
	}
	/* A buffer taken for data the socket did not have after all goes back to the driver's side, unused. */
	if (held)
		vq->last_avail--;
	if (pushed)
		virtio_queue_done(dev, VSOCK_RXQ);
}

/* A refusal for a packet that has no connection (or a bad one), if there is room to remember it. */
static void vsock_refuse(struct vsock_dev *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->nr_rst == VSOCK_RST_QUEUE) {
		log_limited(&v->bad, "%s: too many refusals waiting for the guest; one dropped", v->vdev.name);
		return;
	}
	v->rst[v->nr_rst].local_port = local_port;
	v->rst[v->nr_rst].peer_port = peer_port;
	v->nr_rst++;
}

/* Writes what the connection buffered to its host socket, as far as it takes it. */
static void conn_flush(struct vsock_dev *v, struct vsock_conn *c)
{
	while (c->buf_len) {
		size_t chunk = c->buf_len, to_end = VSOCK_CONN_BUF - c->buf_head;
		ssize_t n;

		if (chunk > to_end)
			chunk = to_end;
		n = send(c->fd, c->buf + c->buf_head, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_reset(v, c, true);
			return;
		}
		c->buf_head = (c->buf_head + (size_t)n) % VSOCK_CONN_BUF;
		c->buf_len -= (size_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	/* Room freed tells the guest once a quarter of the buffer is free again, so a blocked sender resumes. */
	if (c->fwd_cnt - c->fwd_cnt_told >= VSOCK_CONN_BUF / 4)
		c->send |= SEND_CREDIT;
	if (!c->buf_len && c->guest_no_send) {
		if (c->guest_no_recv) {
			conn_reset(v, c, true); /* closed both ways: RST ends it */
			return;
		}
		shutdown(c->fd, SHUT_WR);
	}
	conn_update_events(v, c);
}

/* Queues bytes for the host socket; the caller checked they fit. */
static void conn_queue(struct vsock_conn *c, const struct vq_chain *chain, size_t offset, size_t len)
{
	while (len) {
		size_t tail = (c->buf_head + c->buf_len) % VSOCK_CONN_BUF;
		size_t chunk = VSOCK_CONN_BUF - tail < len ? VSOCK_CONN_BUF - tail : len;

		vq_chain_read(chain, offset, c->buf + tail, chunk);
		c->buf_len += chunk;
		offset += chunk;
		len -= chunk;
	}
}

/* The guest connects to host port `port`: to the host's listener at "<uds>_<port>", or refused. */
static void vsock_guest_connect(struct vsock_dev *v, const struct virtio_vsock_hdr *h)
{
	uint32_t port = le32toh(h->dst_port), peer_port = le32toh(h->src_port);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_conn *c;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->uds, port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_limited(&v->bad, "%s: socket: %s", v->vdev.name, strerror(errno));
		vsock_refuse(v, port, peer_port);
		return;
	}
	/* A Unix connect does not wait for the listener: it succeeds, or the backlog is full (EAGAIN). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_debug("%s: guest port %u to host port %u: %s: %s", v->vdev.name, peer_port, port, sa.sun_path,
			  strerror(errno));
		close(fd);
		vsock_refuse(v, port, peer_port);
		return;
	}
	c = conn_new(v, fd, CONN_OPEN);
	if (!c) {
		log_limited(&v->bad, "%s: more than %d connections: guest port %u to host port %u refused",
			    v->vdev.name, VSOCK_CONNS_MAX, peer_port, port);
		close(fd);
		vsock_refuse(v, port, peer_port);
		return;
	}
	c->local_port = port;
	c->peer_port = peer_port;
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	c->send = SEND_RESPONSE;
}

/* One packet from the guest. Anything wrong in it is the guest's problem: RST or dropped, never more. */
static int vsock_tx(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct vsock_dev *v = dev->priv;
	struct virtio_vsock_hdr h;
	uint32_t len, src_port, dst_port;
	uint16_t op;
	struct vsock_conn *c;

	*written = 0;
	if (vq_chain_read(chain, 0, &h, HDR_SIZE) != HDR_SIZE) {
		log_limited(&v->bad, "%s: a %zu-byte packet, shorter than its header: dropped", dev->name,
			    chain->out_len);
		return 0;
	}
	len = le32toh(h.len);
	op = le16toh(h.op);
	src_port = le32toh(h.src_port);
	dst_port = le32toh(h.dst_port);
	if (le64toh(h.src_cid) != v->cid || le64toh(h.dst_cid) != VSOCK_HOST_CID ||
	    le16toh(h.type) != VIRTIO_VSOCK_TYPE_STREAM || len > chain->out_len - HDR_SIZE ||
	    (op != VIRTIO_VSOCK_OP_RW && len)) {
		log_limited(&v->bad, "%s: a bad packet (cid %llu to %llu, type %u, op %u, len %u of %zu): refused",
			    dev->name, (unsigned long long)le64toh(h.src_cid), (unsigned long long)le64toh(h.dst_cid),
			    le16toh(h.type), op, len, chain->out_len - HDR_SIZE);
		if (op != VIRTIO_VSOCK_OP_RST)
			vsock_refuse(v, dst_port, src_port);
		return 0;
	}
	c = conn_find(v, dst_port, src_port);
	if (op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c)
			conn_reset(v, c, true); /* a second request for a live connection ends both */
		else
			vsock_guest_connect(v, &h);
		return 0;
	}
	if (!c) {
		if (op != VIRTIO_VSOCK_OP_RST)
			vsock_refuse(v, dst_port, src_port);
		return 0;
	}
	if (op == VIRTIO_VSOCK_OP_RST) {
		conn_free(v, c);
		return 0;
	}
	if (c->fd < 0)
		return 0; /* already reset: its RST is on its way */
	c->peer_buf_alloc = le32toh(h.buf_alloc);
	c->peer_fwd_cnt = le32toh(h.fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != CONN_CONNECTING) {
			conn_reset(v, c, true);
			break;
		}
		c->state = CONN_OPEN;
		/* The client's answer goes ahead of any data, through the same buffer (not counted as forwarded). */
		c->buf_len = (size_t)snprintf((char *)c->buf, VSOCK_LINE_MAX, "OK %u\n", c->local_port);
		c->fwd_cnt -= (uint32_t)c->buf_len;
		c->fwd_cnt_told = c->fwd_cnt;
		c->readable = true;
		conn_flush(v, c);
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != CONN_OPEN || c->guest_no_send || len > VSOCK_CONN_BUF - c->buf_len) {
			log_limited(&v->bad, "%s: %u bytes from guest port %u %s: reset", dev->name, len, src_port,
				    c->state != CONN_OPEN || c->guest_no_send ? "on a connection not open for them"
									      : "beyond the credit given");
			conn_reset(v, c, true);
			break;
		}
		conn_queue(c, chain, HDR_SIZE, len);
		dev->bytes_from_guest += len;
		conn_flush(v, c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->guest_no_recv |= (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_RCV) != 0;
		c->guest_no_send |= (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_SEND) != 0;
		conn_flush(v, c);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break; /* the credit was read above */
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->send |= SEND_CREDIT;
		break;
	default:
		log_limited(&v->bad, "%s: unknown op %u from guest port %u: reset", dev->name, op, src_port);
		conn_reset(v, c, true);
		break;
	}
	return 0;
}

/* A chain over the largest packet: dropped unread. */
static int vsock_tx_refuse(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct vsock_dev *v = dev->priv;

	log_limited(&v->bad, "%s: a %zu-byte packet, over the %zu-byte limit: dropped", dev->name,
		    chain->out_len + chain->in_len, HDR_SIZE + VSOCK_PKT_MAX);
	*written = 0;
	return 0;
}

/* A host client connected to the uds path: its CONNECT line comes next. */
static void vsock_accept(struct vsock_dev *v)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vsock_conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_limited(&v->bad, "%s: accept on %s: %s", v->vdev.name, v->uds, strerror(errno));
			return;
		}
		if (!virtio_device_live(&v->vdev) || !(c = conn_new(v, fd, CONN_LINE))) {
			log_limited(&v->bad, "%s: a host connection refused: %s", v->vdev.name,
				    virtio_device_live(&v->vdev) ? "too many connections" : "no driver yet");
			close(fd);
			continue;
		}
		conn_start_deadline(v, c);
	}
}

/* Reads the client's "CONNECT <port>\n" a byte at a time: what follows the line is the stream's. */
static void conn_read_line(struct vsock_dev *v, struct vsock_conn *c)
{
	uint64_t port;
	ssize_t n;

	while (c->line_len < VSOCK_LINE_MAX - 1) {
		n = read(c->fd, &c->line[c->line_len], 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(v, c);
			return;
		}
		if (c->line[c->line_len++] == '\n')
			break;
	}
	/* The port's digits end where the newline was (or the line is too long: no newline, refused). */
	c->line[c->line_len - 1] = c->line[c->line_len - 1] == '\n' ? 0 : 'x';
	c->line[c->line_len] = 0;
	if (strncmp(c->line, "CONNECT ", 8) || parse_uint(c->line + 8, 0, UINT32_MAX, &port)) {
		log_limited(&v->bad, "%s: a host client sent no 'CONNECT <port>' line: closed", v->vdev.name);
		conn_free(v, c);
		return;
	}
	/* The next port of ours that no connection to that guest port has. */
	do
		c->local_port = v->next_local_port++;
	while (conn_find(v, c->local_port, (uint32_t)port) || c->local_port < VSOCK_LOCAL_PORT_FIRST);
	c->peer_port = (uint32_t)port;
	c->state = CONN_CONNECTING;
	c->send = SEND_REQUEST;
	c->deadline_ms = monotonic_ms() + VSOCK_CONNECT_TIMEOUT_MS;
	conn_update_events(v, c);
}

/* Ends the connections whose other side took too long, and stops the timer when none waits. */
static void vsock_expire(struct vsock_dev *v)
{
	const struct itimerspec off = { 0 };
	uint64_t now = monotonic_ms(), ticks;
	bool waiting = false;

	if (read(v->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_limited(&v->bad, "%s: timer: %s", v->vdev.name, strerror(errno));
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state != CONN_LINE && c->state != CONN_CONNECTING)
			continue;
		if (now < c->deadline_ms) {
			waiting = true;
			continue;
		}
		log_debug("%s: a connection to guest port %u timed out", v->vdev.name, c->peer_port);
		/* A request the guest never saw needs no RST. */
		conn_reset(v, c, c->state == CONN_CONNECTING && !(c->send & SEND_REQUEST));
	}
	if (!waiting && !timerfd_settime(v->timer_fd, 0, &off, NULL))
		v->timer_armed = false;
}

/* The device's epoll is ready. I/O thread. */
static void vsock_on_epoll(void *ctx, uint32_t events)
{
	struct vsock_dev *v = ctx;
	struct epoll_event evs[16];
	int n;

	(void)events;
	pthread_mutex_lock(&v->vdev.lock);
	n = epoll_wait(v->epfd, evs, 16, 0);
	for (int i = 0; i < n; i++) {
		uint32_t tag = evs[i].data.u32;
		struct vsock_conn *c;

		if (tag == TAG_LISTENER) {
			vsock_accept(v);
			continue;
		}
		if (tag == TAG_TIMER) {
			vsock_expire(v);
			continue;
		}
		c = &v->conns[tag];
		if (c->state == CONN_FREE || c->fd < 0)
			continue;
		if (c->state == CONN_LINE) {
			conn_read_line(v, c);
			continue;
		}
		if (c->state == CONN_CONNECTING) {
			/* Only a hang-up wakes a connection waiting for the guest: the client gave up. */
			conn_reset(v, c, !(c->send & SEND_REQUEST));
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			c->readable = true;
		if (evs[i].events & EPOLLOUT)
			conn_flush(v, c);
		if (c->fd >= 0 && (evs[i].events & (EPOLLHUP | EPOLLERR))) {
			/* Both ways closed: the rest is read as credit allows, with no more wake-ups. */
			epoll_ctl(v->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			c->buf_len = 0;
		}
		if (c->fd >= 0)
			conn_update_events(v, c);
	}
	vsock_rx(v);
	pthread_mutex_unlock(&v->vdev.lock);
}

/*
 * TRANSPORT_RESET into the driver's first event buffer, if there is one
 * yet: the guest then drops every connection it had and reads its CID
 * again. Without a buffer it stays owed until the driver posts one and kicks.
 */
static void vsock_send_reset(struct vsock_dev *v)
{
	struct virtio_dev *dev = &v->vdev;
	struct virtqueue *vq = &dev->vqs[VSOCK_EVQ];
	const struct virtio_vsock_event event = { .id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) };
	struct vq_chain chain;
	int got;

	if (!v->reset_owed || !virtio_device_live(dev) || !vq->started)
		return;
	while (!(got = vq_pop(vq, &chain)) && vq_arm_notify(vq))
		;
	if (!got)
		return;
	if (got < 0) {
		virtio_device_error(dev, "malformed descriptor chain on the event queue");
		return;
	}
	if (chain.in_len < sizeof(event)) {
		virtio_device_error(dev, "an event buffer of %zu writable bytes, not room for a %zu-byte event",
				    chain.in_len, sizeof(event));
		return;
	}
	vq_chain_write(&chain, 0, &event, sizeof(event));
	vq_push(vq, chain.head, sizeof(event));
	v->reset_owed = false;
	virtio_queue_done(dev, VSOCK_EVQ);
}

static void vsock_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct vsock_dev *v = dev->priv;

	if (q == VSOCK_TXQ)
		virtio_queue_serve(dev, q, vsock_tx);
	/* Receive buffers came (or the packets sent free some): the sockets may be read again. */
	if (q != VSOCK_EVQ) {
		vsock_watch(v, true);
		vsock_rx(v);
	}
	/* The event queue's buffers are for TRANSPORT_RESET, which only a restore owes. */
	if (q == VSOCK_EVQ)
		vsock_send_reset(v);
}

/* The driver reset the device: its connections were the old driver's. */
static void vsock_reset(struct virtio_dev *dev)
{
	struct vsock_dev *v = dev->priv;

	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++)
		if (v->conns[i].state != CONN_FREE)
			conn_free(v, &v->conns[i]);
	v->nr_rst = 0;
	v->reset_owed = false; /* a new driver has no connections to drop */
	vsock_watch(v, true);
}

/*
 * As the virtio spec has it for a device whose host side changed: the
 * connections were Unix sockets of the saved process and are gone, so
 * nothing of them is saved; the restored device tells the guest with
 * TRANSPORT_RESET (virtio_kind_restore kicks every running queue, the event
 * queue's included, and that sends it). What must stay is the guest's CID,
 * which the guest read once: the configuration that made this device must
 * give the same one.
 */
static void vsock_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct vsock_dev *v = dev->priv;

	state_put_u32(w, v->cid);
}

static int vsock_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct vsock_dev *v = dev->priv;
	uint32_t cid = state_get_u32(r, "guest_cid");

	if (state_ok(r) && cid != v->cid)
		return state_invalid(r, "guest_cid", "%s: %u saved, this device has %u", dev->name, cid, v->cid);
	v->reset_owed = state_ok(r);
	return r->err;
}

static void vsock_close_fds(struct vsock_dev *v)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++)
		if (v->conns[i].state != CONN_FREE)
			conn_free(v, &v->conns[i]);
	if (v->epfd >= 0) {
		event_loop_remove(&v->io->loop, v->epfd);
		close(v->epfd);
	}
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->uds);
	}
	if (v->timer_fd >= 0)
		close(v->timer_fd);
}

static void vsock_destroy(struct virtio_dev *dev)
{
	struct vsock_dev *v = dev->priv;

	vsock_close_fds(v);
	free(v);
}

static const struct virtio_dev_ops vsock_ops = {
	.queue_notify = vsock_queue_notify,
	.refuse = vsock_tx_refuse,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
	.save = vsock_save,
	.restore = vsock_restore,
};

/*
 * The listener at the uds path. bind makes the socket file and refuses any
 * name already there (EADDRINUSE), a symbolic link included, so kvmini
 * never replaces or follows what it did not make; it removes its own at exit.
 */
static int vsock_listen(struct vsock_dev *v, struct errmsg *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errmsg_set(e, errno, "vsock uds '%s': socket: %s", v->uds, strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", v->uds);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		return errmsg_set(e, err, "vsock uds '%s': %s%s", v->uds, strerror(err),
				  err == EADDRINUSE ? " (something is there already: remove it first)" : "");
	}
	if (listen(fd, VSOCK_CONNS_MAX)) {
		int err = errno;

		close(fd);
		unlink(v->uds);
		return errmsg_set(e, err, "vsock uds '%s': listen: %s", v->uds, strerror(err));
	}
	v->listen_fd = fd;
	return 0;
}

static int vsock_epoll_add(struct vsock_dev *v, int fd, uint32_t tag, struct errmsg *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev))
		return errmsg_set(e, errno, "%s: epoll: %s", v->vdev.name, strerror(errno));
	return 0;
}

static unsigned vsock_count(const void *config)
{
	return ((const struct vsock_config *)config)->cid ? 1 : 0;
}

static int vsock_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
			struct errmsg *e)
{
	const struct vsock_config *cfg = config;
	struct vsock_dev *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return errmsg_set(e, ENOMEM, "virtio-vsock: out of memory");
	v->cid = cfg->cid;
	snprintf(v->uds, sizeof(v->uds), "%s", cfg->uds);
	v->io = host->io;
	v->next_local_port = VSOCK_LOCAL_PORT_FIRST;
	v->bad = (struct log_limit)LOG_LIMIT("virtio-vsock refusals", 10);
	v->listen_fd = v->timer_fd = -1;
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++)
		v->conns[i].fd = -1;
	snprintf(v->vdev.name, sizeof(v->vdev.name), "virtio-vsock%u", index);
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epfd < 0) {
		err = errmsg_set(e, errno, "%s: epoll: %s", v->vdev.name, strerror(errno));
		free(v);
		return err;
	}
	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (v->timer_fd < 0)
		err = errmsg_set(e, errno, "%s: timerfd: %s", v->vdev.name, strerror(errno));
	else
		err = vsock_listen(v, e);
	if (!err && !(err = vsock_epoll_add(v, v->listen_fd, TAG_LISTENER, e)) &&
	    !(err = vsock_epoll_add(v, v->timer_fd, TAG_TIMER, e)) &&
	    (err = io_thread_add(host->io, v->epfd, EPOLLIN, vsock_on_epoll, v)))
		errmsg_set(e, -err, "%s: cannot watch its sockets: %s", v->vdev.name, strerror(-err));
	if (err) {
		close(v->epfd);
		v->epfd = -1;
		vsock_close_fds(v);
		free(v);
		return err;
	}
	v->watched = true;
	v->config.guest_cid = htole64(v->cid);
	v->vdev.ops = &vsock_ops;
	v->vdev.priv = v;
	v->vdev.device_id = VIRTIO_ID_VSOCK;
	v->vdev.nr_queues = VSOCK_QUEUES;
	v->vdev.config = (uint8_t *)&v->config;
	v->vdev.config_size = sizeof(v->config);
	v->vdev.request_max = HDR_SIZE + VSOCK_PKT_MAX;
	log_debug("%s: guest cid %u, host socket %s", v->vdev.name, v->cid, v->uds);
	*dev = &v->vdev;
	return 0;
}

/* ---- --vsock cid=N,uds=PATH ---- */

/* What both --vsock and PUT /vsock check: a guest CID (0-2 are taken, -1 is "any") and a uds path that fits. */
static int vsock_check(const struct vsock_config *c, struct errmsg *e)
{
	if (c->cid < 3 || c->cid == UINT32_MAX)
		return errmsg_set(e, EINVAL, "cid %u: a guest CID is from 3 to 4294967294", c->cid);
	if (!c->uds[0])
		return errmsg_set(e, EINVAL, "the uds path is empty");
	return 0;
}

enum { VSOCK_CID, VSOCK_UDS, VSOCK_KEYS };
static const char *const vsock_keys[VSOCK_KEYS] = { "cid", "uds" };

static int parse_vsock(void *config, const char *arg, struct errmsg *e)
{
	struct vsock_config *cfg = config, c = { 0 };
	unsigned seen = 0;
	uint64_t cid = 0;
	int key = 0, err = 0;
	char num[16];

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, vsock_keys, VSOCK_KEYS, &seen, e)) < 0) {
			err = err ? err : key;
			break;
		}
		if (key == VSOCK_UDS) {
			err = kv_string(&it, c.uds, sizeof(c.uds), e);
		} else if (!(err = kv_string(&it, num, sizeof(num), e)) && parse_uint(num, 0, UINT32_MAX, &cid)) {
			err = errmsg_set(e, EINVAL, "cid '%s' is not a number", num);
		}
	}
	c.cid = (uint32_t)cid;
	if (!err && seen != (1u << VSOCK_KEYS) - 1)
		err = errmsg_set(e, EINVAL, "both cid= and uds= are needed (e.g. --vsock cid=3,uds=/tmp/v.sock)");
	if (!err)
		err = vsock_check(&c, e);
	if (err)
		return kv_option_error(e, "--vsock", arg);
	*cfg = c;
	return 0;
}

static const struct option_spec vsock_options[] = {
	{ "vsock", 0, "cid=N,uds=PATH",
	  "a virtio-vsock device, guest CID N; host programs reach it through the Unix socket PATH\n"
	  "(\"CONNECT <port>\"), and the guest reaches host port P at PATH_P (docs/vsock.md)", parse_vsock, 0 },
	{ .name = NULL },
};

/* ---- its section of the API and the config file: PUT /vsock, "vsock": {...} ---- */

static int vsock_api_parse(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct vsock_config *v = (struct vsock_config *)c->item;
	uint64_t cid = 0;
	const struct json_field f[] = {
		{ .name = "guest_cid", .type = JSON_UINT, .required = true, .uint = &cid, .min = 3,
		  .max = UINT32_MAX - 1 },
		{ .name = "uds_path", .type = JSON_STRING, .required = true, .str = v->uds, .str_cap = sizeof(v->uds) },
		{ .name = "vsock_id", .type = JSON_STRING, .str = v->id, .str_cap = sizeof(v->id) },
	};
	int err;

	*v = (struct vsock_config){ .cid = 0 };
	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	v->cid = (uint32_t)cid;
	return vsock_check(v, e);
}

static int vsock_api_put(void *config, const struct api_config_change *c, struct errmsg *e)
{
	(void)e;
	*(struct vsock_config *)config = *(const struct vsock_config *)c->item;
	return 0;
}

static void vsock_api_format(const void *config, struct json_out *j)
{
	const struct vsock_config *v = config;

	if (v->id[0])
		json_put_string(j, "vsock_id", v->id);
	json_put_uint(j, "guest_cid", v->cid);
	json_put_string(j, "uds_path", v->uds);
}

static bool vsock_api_configured(const void *config)
{
	return ((const struct vsock_config *)config)->cid != 0;
}

static const struct device_api vsock_api = {
	.name = "vsock",
	.parse = vsock_api_parse,
	.put = vsock_api_put,
	.format = vsock_api_format,
	.configured = vsock_api_configured,
};

VIRTIO_DEVICE_REGISTER("virtio-vsock", struct vsock_config, vsock_count, vsock_create, .options = vsock_options,
		       .api = &vsock_api);
DEVICE_CONFIG_OF(struct vsock_config, vsock_config_of, virtio_device_vsock_create)
