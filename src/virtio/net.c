// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net: one device per --net, joined to a host tap interface. Frames
 * go straight between the guest's buffers and the tap (readv/writev), each
 * with the 12-byte virtio_net_hdr_v1 in front, which the tap itself produces
 * and consumes (IFF_VNET_HDR). The offloads the tap accepts are offered
 * (include/virtio/vnet_hdr.h); a transmitted header is checked on a copy
 * before it reaches the host kernel, and a refused frame is dropped and
 * counted. With VIRTIO_NET_F_MRG_RXBUF a received frame spans several
 * receive chains.
 */
#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "api/json.h"
#include "api/section.h"
#include "io_thread.h"
#include "kv.h"
#include "options.h"
#include "state.h"
#include "virtio/net.h"
#include "virtio/throttle.h"
#include "virtio/virtio.h"
#include "virtio/vnet_hdr.h"

/* Queue pair p is queues 2p (receive) and 2p + 1 (transmit); the control queue follows the last pair. */
enum { NET_RXQ, NET_TXQ, NET_QUEUES };
static_assert(2 * NET_QUEUE_PAIRS_MAX + 1 <= VIRTIO_QUEUES_MAX, "the core carries every pair and the control queue");
#define NET_HDR_SIZE sizeof(struct virtio_net_hdr_v1)
/*
 * The largest frame either way: without VIRTIO_NET_F_MTU Linux allows an
 * MTU up to 65535, plus the Ethernet header and a VLAN tag; a TSO frame is
 * at most 64 KiB (GSO_MAX_SIZE) with its headers. A larger chain is
 * dropped, as a switch drops a giant frame.
 */
#define NET_FRAME_MAX (ETH_MAX_MTU + ETH_HLEN + 4)
/*
 * Receive chains one frame may span with VIRTIO_NET_F_MRG_RXBUF. Linux's
 * mergeable buffers are at least 1518 bytes, so 44 hold the largest frame;
 * a guest offering smaller ones gets what fits in these, and a frame that
 * does not is dropped and counted.
 */
#define NET_RX_CHAINS_MAX 64
/* The buffers one readv may fill (UIO_MAXIOV). */
#define NET_RX_IOV_MAX 1024
/* Dropped frames a device may log before it goes quiet. */
#define NET_DROP_BURST 10

/* Why frames were dropped: the transmit header checks (enum vnet_tx_verdict, from 1), then these. */
enum {
	NET_DROP_TX_TOO_BIG = VNET_TX_VERDICTS, /* a transmit chain over NET_FRAME_MAX */
	NET_DROP_RX_TOO_BIG,			/* a received frame larger than the buffers it was read into */
	NET_DROPS
};
static_assert(NET_DROPS - 1 <= DEVICE_DROP_REASONS_MAX, "every drop reason has its place in a stats row");

/*
 * Receive chains taken from the ring and waiting for a frame: their
 * writable buffers side by side, so one readv fills as many as it needs.
 */
struct net_rx_held {
	unsigned nr;
	size_t room; /* their bytes, in all */
	uint16_t head[NET_RX_CHAINS_MAX];
	uint32_t size[NET_RX_CHAINS_MAX];
	unsigned iov_end[NET_RX_CHAINS_MAX]; /* chain i's buffers end at iov[iov_end[i]] */
	unsigned nr_iov;
	struct iovec iov[NET_RX_IOV_MAX];
};

/* One receive and transmit queue pair and the tap queue (fd) it is joined to. */
struct net_pair {
	struct net_dev *net;
	unsigned index;
	int tap_fd;
	bool tap_watched; /* the I/O thread waits for frames on tap_fd */
	struct net_rx_held rx;
	struct vq_chain rx_chain; /* a receive chain being taken */
};

struct net_dev {
	struct virtio_dev vdev;
	struct virtio_net_config config;
	const char *tap; /* its name, for messages */
	struct io_thread *io; /* where the tap fds are watched */
	struct net_pair pairs[NET_QUEUE_PAIRS_MAX];
	unsigned nr_pairs;     /* queues= */
	unsigned active_pairs; /* the ones served: 1 until the driver sets more (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) */
	int tx_fd;             /* the tap fd of the transmit queue being served */
	bool tap_failed;  /* the tap went away: the link is down for good and its fds are off the I/O thread */
	bool tap_down;    /* the last write found the host interface down (EIO), said once with -v */
	struct vnet_tap_caps caps; /* what the tap accepts: the offloads offered follow */
	uint64_t dropped[NET_DROPS]; /* frames dropped, by reason */
	struct log_limit drops;
	const char *id; /* the API's iface_id */
	struct virtio_throttle rx_throttle, tx_throttle; /* rx_rate_limiter, tx_rate_limiter */
};

/* The tap cannot be used any more (its interface was deleted): link down, frames from the guest dropped. */
static void net_link_down(struct net_dev *net, const char *why)
{
	if (net->tap_failed)
		return;
	log_error("%s: tap '%s': %s; the link is down", net->vdev.name, net->tap, why);
	net->tap_failed = true;
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		net->pairs[p].tap_watched = false;
		event_loop_remove(&net->io->loop, net->pairs[p].tap_fd);
	}
	net->config.status = htole16(0);
	virtio_config_changed(&net->vdev);
}

/* Whether the I/O thread should wake us for frames: not while the guest has no buffer to put them in. */
static void net_watch_tap(struct net_pair *pair, bool on)
{
	if (pair->net->tap_failed || pair->tap_watched == on)
		return;
	if (!event_loop_set_events(&pair->net->io->loop, pair->tap_fd, on ? EPOLLIN : 0))
		pair->tap_watched = on;
}

static bool net_mrg_rxbuf(const struct virtio_dev *dev)
{
	return dev->driver_features & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
}

/* Counts a dropped frame and says why, rate-limited. */
static void net_drop(struct net_dev *net, unsigned reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void net_drop(struct net_dev *net, unsigned reason, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	__atomic_fetch_add(&net->dropped[reason], 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_limited(&net->drops, "%s: %s", net->vdev.name, why);
}

/*
 * Whether the held chains can take any frame: one chain without
 * MRG_RXBUF (the driver sized it, as the spec asks, for the offloads it
 * took), else room for the largest frame or as many chains as one frame
 * may span.
 */
static bool net_rx_ready(const struct net_pair *pair)
{
	const struct net_rx_held *rx = &pair->rx;

	if (!net_mrg_rxbuf(&pair->net->vdev))
		return rx->nr == 1;
	return rx->room >= NET_HDR_SIZE + NET_FRAME_MAX || rx->nr == NET_RX_CHAINS_MAX;
}

/*
 * Takes receive chains until a frame of any size fits: 1 then, 0 when the
 * driver must add buffers first (a big frame waits in the tap rather than
 * be cut), -EIO after a device error.
 */
static int net_rx_take(struct net_pair *pair)
{
	struct virtio_dev *dev = &pair->net->vdev;
	struct virtqueue *vq = &dev->vqs[2 * pair->index + NET_RXQ];
	struct vq_chain *c = &pair->rx_chain;
	struct net_rx_held *rx = &pair->rx;

	while (!net_rx_ready(pair)) {
		int got = vq_pop(vq, c);

		if (got < 0) {
			virtio_device_error(dev, "malformed descriptor chain on the receive queue");
			return -EIO;
		}
		if (!got) {
			if (vq_arm_notify(vq))
				continue;
			/* The driver has given all it has: no more will come before a frame goes. */
			return rx->nr && rx->nr == vq->size;
		}
		if (!rx->nr && c->in_len < NET_HDR_SIZE) {
			virtio_device_error(dev, "a %zu-byte receive buffer, smaller than the %zu-byte header",
					    c->in_len, NET_HDR_SIZE);
			return -EIO;
		}
		if (c->nr_in > NET_RX_IOV_MAX - rx->nr_iov) {
			/* More buffers than one readv takes: the next frame goes into those held already. */
			vq_unpop(vq);
			return 1;
		}
		memcpy(rx->iov + rx->nr_iov, c->iov + c->nr_out, c->nr_in * sizeof(struct iovec));
		rx->nr_iov += c->nr_in;
		rx->head[rx->nr] = c->head;
		rx->size[rx->nr] = c->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->in_len;
		rx->iov_end[rx->nr++] = rx->nr_iov;
		rx->room += c->in_len;
	}
	return 1;
}

/* A frame of len bytes, header included, was read into the held chains: the ones it fills go to the driver. */
static void net_rx_deliver(struct net_pair *pair, size_t len)
{
	struct net_dev *net = pair->net;
	struct virtio_dev *dev = &net->vdev;
	struct net_rx_held *rx = &pair->rx;
	uint32_t fill[NET_RX_CHAINS_MAX];
	struct virtio_net_hdr_v1 hdr = { 0 };
	unsigned first_iov;
	int n;

	n = vnet_rx_plan(len, rx->size, rx->nr, net_mrg_rxbuf(dev) ? NET_RX_CHAINS_MAX : 1, fill);
	if (n <= 0 || len < NET_HDR_SIZE) {
		/* Only a tap breaking its own rules gets here: it wrote no more than the buffers hold. */
		net_drop(net, NET_DROP_RX_TOO_BIG, "a %zu-byte frame from tap '%s' does not fit its buffers", len,
			 net->tap);
		return;
	}
	/* The tap leaves num_buffers alone. */
	vnet_set_num_buffers(&hdr, (unsigned)n);
	vq_iov_write(rx->iov, rx->iov_end[0], offsetof(struct virtio_net_hdr_v1, num_buffers), &hdr.num_buffers,
		     sizeof(hdr.num_buffers));
	for (int i = 0; i < n; i++) {
		vq_push(&dev->vqs[2 * pair->index + NET_RXQ], rx->head[i], fill[i]);
		rx->room -= rx->size[i];
	}
	/* The chains left over wait for the next frame, in ring order. */
	first_iov = rx->iov_end[n - 1];
	rx->nr -= (unsigned)n;
	rx->nr_iov -= first_iov;
	memmove(rx->head, rx->head + n, rx->nr * sizeof(rx->head[0]));
	memmove(rx->size, rx->size + n, rx->nr * sizeof(rx->size[0]));
	for (unsigned i = 0; i < rx->nr; i++)
		rx->iov_end[i] = rx->iov_end[i + (unsigned)n] - first_iov;
	memmove(rx->iov, rx->iov + first_iov, rx->nr_iov * sizeof(rx->iov[0]));
}

/*
 * Moves frames from the tap into receive buffers until one side runs out
 * or the turn's budget is spent, then interrupts the driver once.
 * dev->lock held.
 */
static void net_rx(struct net_pair *pair)
{
	struct net_dev *net = pair->net;
	struct virtio_dev *dev = &net->vdev;
	unsigned q = 2 * pair->index + NET_RXQ;
	struct virtqueue *vq = &dev->vqs[q];
	struct virtio_turn turn = { 0 };
	bool pushed = false;

	if (net->tap_failed)
		return;
	/* A pair the driver has not enabled: frames wait in its tap queue until VQ_PAIRS_SET takes it. */
	if (!virtio_device_live(dev) || !vq->started || pair->index >= net->active_pairs) {
		net_watch_tap(pair, false); /* a kick on the receive queue after DRIVER_OK starts it again */
		return;
	}
	for (;;) {
		ssize_t len;
		int got;

		/* A flooded tap or a busy guest must not keep the I/O thread from the other devices. */
		if (virtio_turn_over(dev, q, &turn))
			break;
		if ((got = net_rx_take(pair)) <= 0) {
			/* Frames wait in the tap until the driver adds buffers and kicks the receive queue. */
			if (!got)
				net_watch_tap(pair, false);
			break;
		}
		/* A frame's size is known once read: it goes while the limiter is not in debt, and is charged after. */
		if (!virtio_throttle_allow(&net->rx_throttle, 1, 0)) {
			net_watch_tap(pair, false); /* frames wait in the tap; the limiter's timer calls us again */
			break;
		}
		len = readv(pair->tap_fd, pair->rx.iov, (int)pair->rx.nr_iov);
		turn.chains++;
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN) {
			/* The ring still has room: the tap wakes us for the next frame. */
			net_watch_tap(pair, true);
			break;
		}
		if (len < 0 && (errno == EFAULT || errno == EINVAL)) {
			/* The tap drops a frame that does not fit; the buffers stay ours for the next one. */
			net_drop(net, NET_DROP_RX_TOO_BIG, "a frame larger than the %zu-byte receive buffers was dropped",
				 pair->rx.room);
			continue;
		}
		if (len < 0) {
			net_link_down(net, strerror(errno));
			break;
		}
		net_rx_deliver(pair, (size_t)len);
		virtio_throttle_charge(&net->rx_throttle, 1, (size_t)len > NET_HDR_SIZE ? (size_t)len - NET_HDR_SIZE : 0);
		dev->bytes_to_guest += (uint64_t)len;
		turn.bytes += (uint64_t)len;
		pushed = true;
	}
	if (pushed)
		virtio_queue_done(dev, q);
}

/* The frame goes with the checked copy of its header in front, its data straight from the guest's buffers. */
static void net_send(struct net_dev *net, const struct virtio_net_hdr_v1 *hdr, const struct vq_chain *c)
{
	struct iovec iov[VQ_CHAIN_MAX + 1];
	size_t skip = NET_HDR_SIZE;
	unsigned n = 1;
	ssize_t sent;

	if (net->tap_failed)
		return;
	iov[0] = (struct iovec){ .iov_base = (void *)hdr, .iov_len = NET_HDR_SIZE };
	for (unsigned i = 0; i < c->nr_out; i++) {
		if (skip >= c->iov[i].iov_len) {
			skip -= c->iov[i].iov_len;
			continue;
		}
		iov[n++] = (struct iovec){ .iov_base = (uint8_t *)c->iov[i].iov_base + skip,
					   .iov_len = c->iov[i].iov_len - skip };
		skip = 0;
	}
	do
		sent = writev(net->tx_fd, iov, (int)n);
	while (sent < 0 && errno == EINTR);
	if (sent >= 0) {
		net->tap_down = false;
		return;
	}
	if (errno == EBADFD) {
		net_link_down(net, strerror(errno));
		return;
	}
	/*
	 * EIO: the host interface is down, or going away (a deletion takes it
	 * down before EPOLLHUP says it is gone): an unplugged cable, not an
	 * error, so said once, with -v.
	 */
	if (errno == EIO) {
		if (!net->tap_down)
			log_debug("%s: tap '%s' is down: frames to it are dropped", net->vdev.name, net->tap);
		net->tap_down = true;
		return;
	}
	/* EAGAIN (queue full), EINVAL (a frame it refuses): dropped, as a switch would; not the guest's fault. */
	log_limited(&net->drops, "%s: a %zu-byte frame to tap '%s' was dropped: %s", net->vdev.name,
		    c->out_len - NET_HDR_SIZE, net->tap, strerror(errno));
}

/* One frame from the driver: sent, or dropped; either way its buffer goes back at once. */
static int net_tx(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct net_dev *net = dev->priv;
	struct virtio_net_hdr_v1 hdr;
	enum vnet_tx_verdict v;

	*written = 0;
	if (chain->out_len < NET_HDR_SIZE) {
		virtio_device_error(dev, "a frame of %zu bytes, smaller than the %zu-byte header", chain->out_len,
				    NET_HDR_SIZE);
		return -EIO;
	}
	/* Read once: the guest may rewrite its own copy while the host kernel reads the frame. */
	vq_chain_read(chain, 0, &hdr, sizeof(hdr));
	v = vnet_tx_check(&hdr, chain->out_len - NET_HDR_SIZE, dev->driver_features);
	if (v != VNET_TX_OK) {
		net_drop(net, v, "a %zu-byte frame with a bad header (%s) was dropped", chain->out_len - NET_HDR_SIZE,
			 vnet_tx_verdict_name(v));
		return 0;
	}
	/* Ethernet frames are what a limit counts, without the virtio header. */
	if (!virtio_throttle_take(&net->tx_throttle, 1, chain->out_len - NET_HDR_SIZE))
		return -EAGAIN;
	net_send(net, &hdr, chain);
	return 0;
}

/* A frame over NET_FRAME_MAX: dropped unread, its buffer handed back. */
static int net_tx_refuse(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct net_dev *net = dev->priv;

	net_drop(net, NET_DROP_TX_TOO_BIG, "a %zu-byte frame, over the %u-byte limit, was dropped",
		 chain->out_len + chain->in_len, NET_FRAME_MAX);
	*written = 0;
	return 0;
}

/* The pairs from `from` on were enabled: what their queues and tap queues hold is served now. */
static void net_set_pairs(struct net_dev *net, unsigned pairs)
{
	unsigned from = net->active_pairs;

	net->active_pairs = pairs;
	for (unsigned p = from; p < pairs; p++) {
		virtio_queue_kick(&net->vdev, 2 * p + NET_RXQ);
		virtio_queue_kick(&net->vdev, 2 * p + NET_TXQ);
	}
	for (unsigned p = pairs; p < from; p++)
		net_watch_tap(&net->pairs[p], false);
}

/*
 * One control command: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET with 1 to
 * max_virtqueue_pairs pairs is the only one taken (the features offered ask
 * for no other); anything else, or a command of the wrong size, gets
 * VIRTIO_NET_ERR. Only a chain with no room for the answer is a device error.
 */
static int net_ctrl(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct net_dev *net = dev->priv;
	struct __attribute__((packed)) {
		uint8_t class, command;
		uint16_t pairs; /* struct virtio_net_ctrl_mq */
	} cmd = { 0 };
	uint8_t ack = VIRTIO_NET_ERR;
	unsigned pairs;

	*written = 0;
	if (!chain->in_len) {
		virtio_device_error(dev, "a control command with no room for its answer");
		return -EIO;
	}
	vq_chain_read(chain, 0, &cmd, sizeof(cmd));
	pairs = le16toh(cmd.pairs);
	if (chain->out_len == sizeof(cmd) && cmd.class == VIRTIO_NET_CTRL_MQ &&
	    cmd.command == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && pairs >= 1 && pairs <= net->nr_pairs &&
	    (dev->driver_features & (1ULL << VIRTIO_NET_F_MQ))) {
		net_set_pairs(net, pairs);
		ack = VIRTIO_NET_OK;
	} else
		/* An answer the spec provides for, not a broken driver: said only with -v. */
		log_debug("%s: control command %u.%u (%zu bytes) refused", dev->name, cmd.class, cmd.command,
			  chain->out_len);
	*written = (uint32_t)vq_chain_write(chain, 0, &ack, sizeof(ack));
	return 0;
}

/* The control queue's index: after the last pair with VIRTIO_NET_F_MQ, else after the first (the spec's). */
static unsigned net_ctrl_queue(const struct net_dev *net)
{
	return net->vdev.driver_features & (1ULL << VIRTIO_NET_F_MQ) ? 2 * net->nr_pairs : 2;
}

static void net_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct net_dev *net = dev->priv;

	if (net->nr_pairs > 1 && q == net_ctrl_queue(net)) {
		virtio_queue_serve(dev, q, net_ctrl);
		return;
	}
	/* A pair not enabled waits with what it holds; a kick while a rate limiter waits changes nothing. */
	if (q / 2 >= net->active_pairs)
		return;
	if (q % 2 == NET_RXQ && !virtio_throttle_waiting(&net->rx_throttle))
		net_rx(&net->pairs[q / 2]);
	else if (q % 2 == NET_TXQ && !virtio_throttle_waiting(&net->tx_throttle)) {
		net->tx_fd = net->pairs[q / 2].tap_fd;
		virtio_queue_serve(dev, q, net_tx);
	}
}

/* A tap queue has frames (or failed). I/O thread. */
static void net_on_tap(void *ctx, uint32_t events)
{
	struct net_pair *pair = ctx;
	struct net_dev *net = pair->net;

	pthread_mutex_lock(&net->vdev.lock);
	if (events & (EPOLLERR | EPOLLHUP))
		net_link_down(net, "the interface is gone");
	else if (!virtio_throttle_waiting(&net->rx_throttle))
		net_rx(pair);
	pthread_mutex_unlock(&net->vdev.lock);
}

/* The tap hands over what the driver's features let it take: checksums left partial, TSO frames. */
static int net_apply_offloads(struct net_dev *net)
{
	unsigned offloads = vnet_tap_offloads(net->vdev.driver_features);
	int err = 0;

	for (unsigned p = 0; p < net->nr_pairs && !err; p++)
		err = virtio_net_tap_offload(net->pairs[p].tap_fd, offloads);

	if (err)
		log_error("%s: tap '%s': TUNSETOFFLOAD %#x: %s", net->vdev.name, net->tap, offloads, strerror(-err));
	else
		log_debug("%s: features %#llx accepted, tap offloads %#x", net->vdev.name,
			  (unsigned long long)net->vdev.driver_features, offloads);
	return err;
}

/* FEATURES_OK: the offloads accepted must respect the spec's dependencies; the tap then follows them. */
static int net_features_ok(struct virtio_dev *dev)
{
	struct net_dev *net = dev->priv;

	/* The spec: VIRTIO_NET_F_MQ needs VIRTIO_NET_F_CTRL_VQ. */
	if ((dev->driver_features & (1ULL << VIRTIO_NET_F_MQ)) &&
	    !(dev->driver_features & (1ULL << VIRTIO_NET_F_CTRL_VQ))) {
		log_limited(&dev->error_log, "%s: features %#llx refused: MQ without CTRL_VQ", dev->name,
			    (unsigned long long)dev->driver_features);
		return -EINVAL;
	}
	if (vnet_check_features(dev->driver_features)) {
		log_limited(&dev->error_log, "%s: features %#llx refused: an offload without the one it needs",
			    dev->name, (unsigned long long)dev->driver_features);
		return -EINVAL;
	}
	return net_apply_offloads(net);
}

/* Its drop counters, every reason always there, so that a client sees zeros rather than nothing. */
static void net_stats(struct virtio_dev *dev, struct device_stats *row)
{
	struct net_dev *net = dev->priv;

	row->nr_drops = 0;
	for (unsigned r = VNET_TX_OK + 1; r < NET_DROPS; r++) {
		struct device_drop *d = &row->drops[row->nr_drops++];

		d->reason = r < VNET_TX_VERDICTS ? vnet_tx_verdict_name(r)
			  : r == NET_DROP_TX_TOO_BIG ? "tx_too_big" : "rx_too_big";
		d->count = __atomic_load_n(&net->dropped[r], __ATOMIC_RELAXED);
	}
}

static void net_reset(struct virtio_dev *dev)
{
	struct net_dev *net = dev->priv;

	net->active_pairs = 1; /* the spec: until the driver sets more */
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		struct net_pair *pair = &net->pairs[p];

		/* Held receive buffers belong to the old rings. */
		pair->rx.nr = pair->rx.nr_iov = 0;
		pair->rx.room = 0;
		/* The next driver may take fewer offloads: frames the tap makes meanwhile must suit any. */
		if (!net->tap_failed)
			virtio_net_tap_offload(pair->tap_fd, 0);
	}
}

/* Still open, so no other source can have their numbers: removing one is safe even if it was never added. */
static void net_close_taps(struct net_dev *net)
{
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		event_loop_remove(&net->io->loop, net->pairs[p].tap_fd);
		close(net->pairs[p].tap_fd);
	}
	net->nr_pairs = 0;
}

static void net_destroy(struct virtio_dev *dev)
{
	struct net_dev *net = dev->priv;

	virtio_throttle_close(&net->rx_throttle);
	virtio_throttle_close(&net->tx_throttle);
	net_close_taps(net);
	free(net);
}

/*
 * The MAC the guest read, which may be a random one of this process's, and
 * whether receive buffers were held: their iovecs point into this process,
 * so they are taken again instead (they are all the receive queue's chains
 * not handed back). With queues= over 1 (the restoring VM's configuration
 * opens as many tap queues), the pairs enabled and each further pair's held
 * flag follow. Frames in the tap's queues or the host's network are not
 * the VM's: they are not saved.
 */
static void net_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct net_dev *net = dev->priv;

	state_put_bytes(w, net->config.mac, sizeof(net->config.mac));
	state_put_bool(w, net->pairs[0].rx.nr > 0);
	if (net->nr_pairs == 1)
		return;
	state_put_u16(w, (uint16_t)net->active_pairs);
	for (unsigned p = 1; p < net->nr_pairs; p++)
		state_put_bool(w, net->pairs[p].rx.nr > 0);
}

static int net_check_held(struct virtio_dev *dev, const struct virtqueue *vq, struct state_reader *r)
{
	if (!vq->started || vq->last_avail == vq->used_idx)
		return state_invalid(r, "rx_held", "%s: a receive buffer held, but none is taken from the queue",
				     dev->name);
	if ((uint16_t)(vq->last_avail - vq->used_idx) > vq->size)
		return state_invalid(r, "rx_held", "%s: %u receive buffers held, more than the queue's %u", dev->name,
				     (uint16_t)(vq->last_avail - vq->used_idx), vq->size);
	return 0;
}

static int net_restore(struct virtio_dev *dev, struct state_reader *r)
{
	struct net_dev *net = dev->priv;
	uint8_t mac[sizeof(net->config.mac)];
	bool held[NET_QUEUE_PAIRS_MAX];
	unsigned active = 1;
	int err;

	state_get_bytes(r, "mac", mac, sizeof(mac));
	held[0] = state_get_bool(r, "rx_held");
	if (net->nr_pairs > 1)
		active = state_get_u16(r, "active_pairs");
	for (unsigned p = 1; p < net->nr_pairs; p++)
		held[p] = state_get_bool(r, "rx_held");
	if (!state_ok(r))
		return r->err;
	if (mac[0] & 1)
		return state_invalid(r, "mac", "%s: %02x:%02x:%02x:%02x:%02x:%02x is a multicast address", dev->name,
				     mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (active < 1 || active > net->nr_pairs)
		return state_invalid(r, "active_pairs", "%s: %u pairs enabled, the device has %u", dev->name, active,
				     net->nr_pairs);
	for (unsigned p = 0; p < net->nr_pairs; p++)
		if (held[p] && (err = net_check_held(dev, &dev->vqs[2 * p + NET_RXQ], r)))
			return err;
	/* The tap reopened has its offloads off: the negotiated ones come back. */
	if ((dev->status & VIRTIO_CONFIG_S_FEATURES_OK) && net_apply_offloads(net))
		return state_invalid(r, "driver_features", "%s: the tap refuses the offloads negotiated", dev->name);
	memcpy(net->config.mac, mac, sizeof(mac));
	net->active_pairs = active;
	/* The held chains go back to the driver's side: the next frame takes them again. */
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		struct virtqueue *vq = &dev->vqs[2 * p + NET_RXQ];

		if (held[p])
			while (vq->last_avail != vq->used_idx)
				vq_unpop(vq);
	}
	return 0;
}

static const struct virtio_dev_ops net_ops = {
	.queue_notify = net_queue_notify,
	.refuse = net_tx_refuse,
	.features_ok = net_features_ok,
	.reset = net_reset,
	.stats = net_stats,
	.destroy = net_destroy,
	.save = net_save,
	.restore = net_restore,
};

/* The error a user can act on when the tap cannot be had. */
static int net_tap_error(const char *tap, bool multi_queue, int err, struct errmsg *e)
{
	if (multi_queue && err == EINVAL)
		return errmsg_set(e, err, "tap '%s': %s (queues= needs a multi-queue tap: ip tuntap add %s mode tap "
				  "multi_queue)", tap, strerror(err), tap);
	switch (err) {
	case EPERM:
		return errmsg_set(e, err, "tap '%s': %s (create it for this user first: ip tuntap add %s mode tap user "
				  "$USER)", tap, strerror(err), tap);
	case EBUSY:
		return errmsg_set(e, err, "tap '%s': %s (another program has it open)", tap, strerror(err));
	case EINVAL:
		return errmsg_set(e, err, "tap '%s': %s (is it a tun interface, or multi-queue?)", tap, strerror(err));
	default:
		return errmsg_set(e, err, "tap '%s': %s", tap, strerror(err));
	}
}

/* The offloads the tap accepts, each set with the ones it needs: TSO needs the checksum offload. */
static unsigned net_probe_offloads(int fd)
{
	static const unsigned tries[] = { TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM };

	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!ioctl(fd, TUNSETOFFLOAD, tries[i]))
			return tries[i];
	return 0;
}

/*
 * Weak so that the unit tests and fuzz targets (tests/common/fake_host.c)
 * can put one end of a SOCK_SEQPACKET socketpair in place of a tap: kvmini
 * itself links this definition, nothing else does.
 */
__attribute__((weak)) int virtio_net_tap_offload(int fd, unsigned offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, offloads) ? -errno : 0;
}

__attribute__((weak)) int virtio_net_open_tap(const char *tap, bool multi_queue, struct vnet_tap_caps *caps,
					      struct errmsg *e)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0) };
	int hdr_size = NET_HDR_SIZE;
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		return errmsg_set(e, err, "tap '%s': /dev/net/tun: %s%s", tap, strerror(err),
				  err == ENOENT ? " (load the tun module: modprobe tun)" : "");
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	if (ioctl(fd, TUNSETIFF, &ifr))
		err = net_tap_error(tap, multi_queue, errno, e);
	else if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size))
		err = errmsg_set(e, errno, "tap '%s': TUNSETVNETHDRSZ: %s", tap, strerror(errno));
	else {
		*caps = (struct vnet_tap_caps){ .vnet_hdr = true, .hdr_size_v1 = true,
						.offloads = net_probe_offloads(fd) };
		/* A persistent tap keeps offloads an earlier user enabled; the driver has taken none yet. */
		if (!ioctl(fd, TUNSETOFFLOAD, 0))
			return fd;
		err = errmsg_set(e, errno, "tap '%s': TUNSETOFFLOAD: %s", tap, strerror(errno));
	}
	close(fd);
	return err;
}

/* 52:54:00 and three random bytes: locally administered, unicast. */
static void net_random_mac(uint8_t mac[6])
{
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	if (getrandom(mac + 3, 3, 0) != 3) {
		/* Only without a seeded pool this early; any address will do, unique within this process. */
		static unsigned counter;

		mac[3] = 0x12;
		mac[4] = (uint8_t)getpid();
		mac[5] = (uint8_t)__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	}
}

static unsigned net_count(const void *config)
{
	const struct net_configs *nets = config;

	return nets->nr;
}

static int net_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		      struct errmsg *e)
{
	const struct net_config *cfg = &((const struct net_configs *)config)->nets[index];
	struct net_dev *net = calloc(1, sizeof(*net));
	const uint8_t *m;
	int err;

	if (!net)
		return errmsg_set(e, ENOMEM, "tap '%s': out of memory", cfg->tap);
	net->tap = cfg->tap;
	net->id = cfg->id;
	net->io = host->io;
	net->drops = (struct log_limit)LOG_LIMIT("virtio-net dropped frames", NET_DROP_BURST);
	net->active_pairs = 1;
	/* One tap queue per pair; a single-queue device opens the tap as it always did. */
	for (unsigned p = 0; p < (cfg->queues > 1 ? cfg->queues : 1u); p++) {
		struct net_pair *pair = &net->pairs[p];

		*pair = (struct net_pair){ .net = net, .index = p };
		if ((pair->tap_fd = virtio_net_open_tap(cfg->tap, cfg->queues > 1, &net->caps, e)) < 0) {
			err = pair->tap_fd;
			net_close_taps(net);
			free(net);
			return err;
		}
		net->nr_pairs++;
	}
	if (cfg->mac_set)
		memcpy(net->config.mac, cfg->mac, sizeof(net->config.mac));
	else
		net_random_mac(net->config.mac);
	net->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	net->vdev.ops = &net_ops;
	net->vdev.priv = net;
	net->vdev.device_id = VIRTIO_ID_NET;
	snprintf(net->vdev.name, sizeof(net->vdev.name), "virtio-net%u", index);
	net->vdev.nr_queues = NET_QUEUES;
	net->vdev.device_features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
				    (cfg->mtu ? 1ULL << VIRTIO_NET_F_MTU : 0) | vnet_offered_features(&net->caps);
	if (net->nr_pairs > 1) {
		net->vdev.nr_queues = 2 * net->nr_pairs + 1; /* and the control queue */
		net->vdev.device_features |= (1ULL << VIRTIO_NET_F_MQ) | (1ULL << VIRTIO_NET_F_CTRL_VQ);
		net->config.max_virtqueue_pairs = htole16((uint16_t)net->nr_pairs);
	}
	net->config.mtu = htole16(cfg->mtu);
	net->vdev.config = (uint8_t *)&net->config;
	net->vdev.config_size = sizeof(net->config);
	net->vdev.request_max = NET_HDR_SIZE + NET_FRAME_MAX;
	virtio_throttle_init(&net->rx_throttle, &net->vdev, NET_RXQ, &cfg->rx_rate_limiter);
	virtio_throttle_init(&net->tx_throttle, &net->vdev, NET_TXQ, &cfg->tx_rate_limiter);
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		if ((err = io_thread_add(host->io, net->pairs[p].tap_fd, EPOLLIN, net_on_tap, &net->pairs[p]))) {
			errmsg_set(e, -err, "%s: cannot watch tap '%s': %s", net->vdev.name, cfg->tap, strerror(-err));
			net_close_taps(net);
			free(net);
			return err;
		}
		net->pairs[p].tap_watched = true;
	}
	m = net->config.mac;
	log_debug("%s: tap '%s', mac %02x:%02x:%02x:%02x:%02x:%02x, %u queue pairs, offloads offered %#llx",
		  net->vdev.name, cfg->tap, m[0], m[1], m[2], m[3], m[4], m[5], net->nr_pairs,
		  (unsigned long long)vnet_offered_features(&net->caps));
	*dev = &net->vdev;
	return 0;
}

/* What Linux accepts as an interface name (dev_valid_name), so a bad one fails here and not at TUNSETIFF. */
static int check_ifname(const char *name, struct errmsg *e)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return errmsg_set(e, EINVAL, "tap '%s': not an interface name", name);
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return errmsg_set(e, EINVAL, "tap '%s': no '/', ':' or spaces in an interface name", name);
	return 0;
}

static int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static int parse_mac(const struct kv_item *it, uint8_t mac[6], struct errmsg *e)
{
	const char *v = it->value;
	uint8_t any = 0;

	for (unsigned i = 0; i < 6; i++, v += 3) {
		if (it->value_len != 17 || !isxdigit((unsigned char)v[0]) || !isxdigit((unsigned char)v[1]) ||
		    (i < 5 && v[2] != ':'))
			return errmsg_set(e, EINVAL, "mac '%.*s': not six hex pairs like 52:54:00:12:34:56",
					  (int)it->value_len, it->value);
		mac[i] = (uint8_t)(hex_digit(v[0]) << 4 | hex_digit(v[1]));
		any |= mac[i];
	}
	if (mac[0] & 1)
		return errmsg_set(e, EINVAL, "mac '%.*s': a multicast address (the first byte must be even)",
				  (int)it->value_len, it->value);
	if (!any)
		return errmsg_set(e, EINVAL, "mac '%.*s': all zeros", (int)it->value_len, it->value);
	return 0;
}

enum { NET_TAP, NET_MAC, NET_QUEUES_KEY, NET_KEYS };
static const char *const net_keys[NET_KEYS] = { "tap", "mac", "queues" };

static int parse_net(const char *arg, struct net_config *n, struct errmsg *e)
{
	unsigned seen = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, net_keys, NET_KEYS, &seen, e)) < 0)
			return err ? err : key;
		switch (key) {
		case NET_TAP:
			if (!(err = kv_string(&it, n->tap, sizeof(n->tap), e)))
				err = check_ifname(n->tap, e);
			break;
		case NET_MAC:
			err = parse_mac(&it, n->mac, e);
			n->mac_set = true;
			break;
		case NET_QUEUES_KEY:
			if (it.value_len != 1 || it.value[0] < '1' || it.value[0] > '0' + NET_QUEUE_PAIRS_MAX)
				return errmsg_set(e, EINVAL, "queues '%.*s': 1 to %d", (int)it.value_len, it.value,
						  NET_QUEUE_PAIRS_MAX);
			n->queues = (uint8_t)(it.value[0] - '0');
			break;
		}
	}
	if (!err && !(seen & (1u << NET_TAP)))
		err = errmsg_set(e, EINVAL, "missing tap= (e.g. --net tap=tap0)");
	return err;
}

int net_config_parse(const char *arg, struct net_config *n, struct errmsg *e)
{
	*n = (struct net_config){ .mac_set = false };
	return parse_net(arg, n, e) ? kv_option_error(e, "--net", arg) : 0;
}

/*
 * The interface other than nets->nets[skip] that n would share a tap or a
 * MAC with (*mac says which), or NULL: each may be named only once.
 */
static const struct net_config *net_clash(const struct net_configs *nets, const struct net_config *n, unsigned skip,
					  bool *mac)
{
	for (unsigned k = 0; k < nets->nr; k++) {
		const struct net_config *other = &nets->nets[k];

		if (k == skip)
			continue;
		*mac = strcmp(other->tap, n->tap) != 0;
		if (!*mac || (n->mac_set && other->mac_set && !memcmp(other->mac, n->mac, sizeof(n->mac))))
			return other;
	}
	return NULL;
}

/* One --net value, appended to the interfaces; a tap (and a MAC given) may be named only once. */
static int add_net(void *net_configs, const char *arg, struct errmsg *e)
{
	struct net_configs *cfg = net_configs;
	struct net_config n;
	bool mac;

	if (cfg->nr == NET_MAX_INTERFACES)
		return errmsg_set(e, EINVAL, "--net: at most %d interfaces", NET_MAX_INTERFACES);
	if (net_config_parse(arg, &n, e))
		return -EINVAL;
	if (net_clash(cfg, &n, cfg->nr, &mac)) {
		if (mac)
			errmsg_set(e, EINVAL, "mac already used by another --net");
		else
			errmsg_set(e, EINVAL, "tap '%s' is already used by another --net", n.tap);
		return kv_option_error(e, "--net", arg);
	}
	/* The API's name for it, as GET /vm/config shows a `run` configuration. */
	snprintf(n.id, sizeof(n.id), "net%u", cfg->nr);
	cfg->nets[cfg->nr++] = n;
	return 0;
}

static const struct option_spec net_options[] = {
	{ "net", 0, "tap=NAME[,mac=52:54:00:12:34:56][,queues=N]",
	  "a virtio-net interface on host tap NAME, with N queue pairs (1-" OPTION_TEXT(NET_QUEUE_PAIRS_MAX)
	  ", a multi-queue tap for more than 1); repeatable, up to " OPTION_TEXT(NET_MAX_INTERFACES), add_net, 0 },
	{ .name = NULL },
};

/* ---- its section of the API and the config file: PUT /network-interfaces/{id}, "network-interfaces": [...] ---- */

static_assert(sizeof(struct net_config) <= API_ITEM_MAX, "an interface fits a configuration change");

/* Firecracker's bounds: IPv4's smallest MTU, and what virtio's 16-bit field (and a frame here) holds. */
#define NET_MTU_MIN 68
#define NET_MTU_MAX ETH_MAX_MTU


static int iface_parse(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct net_config *n = (struct net_config *)c->item;
	struct rate_limiter_config rx = { 0 }, tx = { 0 };
	char tap[64], mac[32] = "", opt[128];
	const char *rx_text = NULL, *tx_text = NULL;
	size_t rx_len = 0, tx_len = 0;
	uint64_t mtu = 0, queues = 1;
	bool mac_set = false;
	const struct json_field f[] = {
		{ .name = "iface_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "host_dev_name", .type = JSON_STRING, .required = true, .str = tap, .str_cap = sizeof(tap) },
		{ .name = "guest_mac", .type = JSON_STRING, .present = &mac_set, .str = mac, .str_cap = sizeof(mac) },
		{ .name = "mtu", .type = JSON_UINT, .uint = &mtu, .min = NET_MTU_MIN, .max = NET_MTU_MAX },
		/* kvmini's own, so GET /vm/config (and a snapshot's configuration) carries --net queues=. */
		{ .name = "queues", .type = JSON_UINT, .uint = &queues, .min = 1, .max = NET_QUEUE_PAIRS_MAX },
		{ .name = "rx_rate_limiter", .type = JSON_OBJECT, .object = &rx_text, .object_len = &rx_len },
		{ .name = "tx_rate_limiter", .type = JSON_OBJECT, .object = &tx_text, .object_len = &tx_len },
	};
	int err;

	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!c->id[0])
		return errmsg_set(e, EINVAL, "'iface_id' is empty");
	/* The --net parser checks the name and the MAC; its syntax has no room for these two characters. */
	if (!tap[0] || strpbrk(tap, ",="))
		return errmsg_set(e, EINVAL, "'host_dev_name' '%s' is not an interface name", tap);
	snprintf(opt, sizeof(opt), "tap=%s%s%s", tap, mac_set ? ",mac=" : "", mac_set ? mac : "");
	if ((err = rate_limiter_config_parse("rx_rate_limiter", rx_text, rx_len, &rx, e)) ||
	    (err = rate_limiter_config_parse("tx_rate_limiter", tx_text, tx_len, &tx, e)) ||
	    (err = net_config_parse(opt, n, e)))
		return err;
	/* A limiter's timer wakes the first pair only. */
	if (queues > 1 && (rate_limiter_config_active(&rx) || rate_limiter_config_active(&tx)))
		return errmsg_set(e, EINVAL, "rate limiters need 'queues' 1");
	snprintf(n->id, sizeof(n->id), "%s", c->id);
	n->mtu = (uint16_t)mtu;
	n->queues = queues > 1 ? (uint8_t)queues : 0; /* as --net leaves it */
	n->rx_rate_limiter = rx;
	n->tx_rate_limiter = tx;
	return 0;
}

/* An interface with a new id is added, one with a known id replaced; no two share a tap or a MAC. */
static int iface_put(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct net_config *n = (const struct net_config *)c->item;
	struct net_configs *nets = config;
	const struct net_config *other;
	unsigned i;
	bool mac;

	for (i = 0; i < nets->nr && strcmp(nets->nets[i].id, n->id); i++)
		;
	if (i == NET_MAX_INTERFACES)
		return errmsg_set(e, EINVAL, "at most %d network interfaces", NET_MAX_INTERFACES);
	if ((other = net_clash(nets, n, i, &mac)) && mac)
		return errmsg_set(e, EINVAL, "guest_mac is already used by interface '%s'", other->id);
	if (other)
		return errmsg_set(e, EINVAL, "host_dev_name '%s' is already used by interface '%s'", n->tap,
				  other->id);
	nets->nets[i] = *n;
	if (i == nets->nr)
		nets->nr++;
	return 0;
}

static void ifaces_format(const void *config, struct json_out *j)
{
	const struct net_configs *nets = config;
	const uint8_t *m;
	char mac[18];

	for (unsigned i = 0; i < nets->nr; i++) {
		json_object_begin(j, NULL);
		json_put_string(j, "iface_id", nets->nets[i].id);
		json_put_string(j, "host_dev_name", nets->nets[i].tap);
		if (nets->nets[i].mac_set) {
			m = nets->nets[i].mac;
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
			json_put_string(j, "guest_mac", mac);
		}
		if (nets->nets[i].mtu)
			json_put_uint(j, "mtu", nets->nets[i].mtu);
		if (nets->nets[i].queues > 1)
			json_put_uint(j, "queues", nets->nets[i].queues);
		rate_limiter_config_format(j, "rx_rate_limiter", &nets->nets[i].rx_rate_limiter);
		rate_limiter_config_format(j, "tx_rate_limiter", &nets->nets[i].tx_rate_limiter);
		json_object_end(j);
	}
}

/* PATCH /network-interfaces/{id} after the start: Firecracker's PartialNetworkInterface. */
struct iface_patch {
	struct rate_limiter_update rx, tx;
};

static_assert(sizeof(struct iface_patch) <= API_ITEM_MAX, "an interface's PATCH fits a configuration change");

static int iface_parse_patch(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct iface_patch *p = (struct iface_patch *)c->item;
	const char *text[2] = { NULL, NULL };
	size_t text_len[2] = { 0, 0 };
	const struct json_field f[] = {
		{ .name = "iface_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "rx_rate_limiter", .type = JSON_OBJECT, .object = &text[0], .object_len = &text_len[0] },
		{ .name = "tx_rate_limiter", .type = JSON_OBJECT, .object = &text[1], .object_len = &text_len[1] },
	};
	struct rate_limiter_update *u[2] = { &p->rx, &p->tx };
	int err;

	if ((err = json_read_object(json, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!text[0] && !text[1])
		return errmsg_set(e, EINVAL, "nothing to change: give rx_rate_limiter or tx_rate_limiter");
	for (unsigned i = 0; i < 2; i++)
		if (text[i] && (err = rate_limiter_update_parse(text[i], text_len[i], u[i], e)))
			return errmsg_prefix(e, -err, "'%s': ", f[1 + i].name);
	return 0;
}

static int iface_patch_config(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct iface_patch *p = (const struct iface_patch *)c->item;
	struct net_configs *nets = config;

	for (unsigned i = 0; i < nets->nr; i++)
		if (!strcmp(nets->nets[i].id, c->id)) {
			rate_limiter_config_update(&nets->nets[i].rx_rate_limiter, &p->rx);
			rate_limiter_config_update(&nets->nets[i].tx_rate_limiter, &p->tx);
			return 0;
		}
	return errmsg_set(e, EINVAL, "no network interface '%s'", c->id);
}

/* The running interface's limiters take the PATCH at once (include/virtio/throttle.h). */
static int net_api_patch(void *data, const struct api_config_change *c, struct errmsg *e)
{
	const struct iface_patch *p = (const struct iface_patch *)c->item;
	struct virtio_dev *dev;

	for (unsigned i = 0; (dev = virtio_kind_device(data, i)); i++) {
		struct net_dev *net = dev->priv;

		if (strcmp(net->id, c->id))
			continue;
		/* A limiter's timer wakes the first pair only. */
		if (net->nr_pairs > 1)
			return errmsg_set(e, EINVAL, "network interface '%s': rate limiters need 'queues' 1", c->id);
		pthread_mutex_lock(&dev->lock);
		virtio_throttle_update(&net->rx_throttle, &p->rx);
		virtio_throttle_update(&net->tx_throttle, &p->tx);
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	return errmsg_set(e, EINVAL, "no network interface '%s'", c->id);
}

static const struct device_api network_interfaces_api = {
	.name = "network-interfaces",
	.id_field = "iface_id",
	.parse = iface_parse,
	.put = iface_put,
	.format = ifaces_format,
	.parse_patch = iface_parse_patch,
	.patch_config = iface_patch_config,
};

VIRTIO_DEVICE_REGISTER("virtio-net", struct net_configs, net_count, net_create, .options = net_options,
		       .api = &network_interfaces_api, .api_patch = net_api_patch);
DEVICE_CONFIG_OF(struct net_configs, net_config_of, virtio_device_net_create)
