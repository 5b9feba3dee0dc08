// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-console (--console virtio): the host console as the guest's hvc0.
 * One port, no MULTIPORT: queue 0 carries host input to the guest, queue 1
 * the guest's output. Once this device exists it takes the console's input
 * over from the UART; the UART keeps printing what the guest writes to it.
 *
 * `kvmini exec` backs hvc0 with a socket instead (its channel to the guest's
 * init, include/exec/proto.h): a byte stream both ways that loses nothing.
 * Output goes out non-blocking; while the socket is full the chain in hand is
 * held and the transmit queue is left alone until the I/O thread sees
 * POLLOUT. Input is read only into a receive buffer the driver posted, and
 * the socket is not watched while there is none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <linux/virtio_console.h>

#include "console.h"
#include "io_thread.h"
#include "options.h"
#include "state.h"
#include "virtio/console.h"
#include "virtio/virtio.h"

enum { CONSOLE_RECEIVEQ, CONSOLE_TRANSMITQ, CONSOLE_QUEUES };

/* Guest output is copied to the console in pieces of this size. */
#define CONSOLE_CHUNK 4096
/*
 * The most output one chain may carry. Linux's hvc writes at most a page at
 * a time (and a port's write or splice 64 KiB); the console has no error
 * answer, so a larger chain is a device error.
 */
#define CONSOLE_OUTPUT_MAX (64 * 1024)

struct virtio_console {
	struct virtio_dev dev;
	const struct device_host *host;
	struct virtio_console_config config; /* no F_SIZE: cols and rows stay 0 */
	/* The exec channel (chan_fd >= 0), driven by the I/O thread. */
	int chan_fd;
	uint32_t chan_events;  /* what the I/O thread waits for on chan_fd */
	bool chan_gone;        /* the peer closed or failed: chan_fd is off the I/O thread, output is dropped */
	bool rx_held;          /* rx_chain was taken from the receive queue and waits for input */
	bool tx_held;          /* tx_chain is partly sent: tx_off bytes of it went out */
	size_t tx_off;
	struct vq_chain rx_chain, tx_chain;
};

/* Guest output: every readable byte of the chain goes to the console. */
static int vcon_transmit(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written)
{
	struct virtio_console *vc = dev->priv;
	uint8_t buf[CONSOLE_CHUNK];

	for (size_t off = 0, n; (n = vq_chain_read(chain, off, buf, sizeof(buf))); off += n)
		console_write(vc->host->console, buf, n);
	*written = 0;
	return 0;
}

/* The I/O thread waits on the channel for input only while a receive buffer is held, for room only while output is. */
static void chan_watch(struct virtio_console *vc)
{
	uint32_t want = (vc->rx_held ? EPOLLIN : 0) | (vc->tx_held ? EPOLLOUT : 0);

	if (vc->chan_gone || want == vc->chan_events)
		return;
	if (!event_loop_set_events(&vc->host->io->loop, vc->chan_fd, want))
		vc->chan_events = want;
}

/* The peer is gone: nothing more comes in, and output is taken and dropped so the guest never waits on it. */
static void chan_close(struct virtio_console *vc, const char *why)
{
	if (vc->chan_gone)
		return;
	log_debug("%s: the channel %s; its output is dropped from now on", vc->dev.name, why);
	vc->chan_gone = true;
	event_loop_remove(&vc->host->io->loop, vc->chan_fd);
}

/* Sends what is left of the held chain; false while the socket has no room (the chain stays held). */
static bool chan_send_held(struct virtio_console *vc, struct virtio_turn *turn)
{
	const struct vq_chain *chain = &vc->tx_chain;
	uint8_t buf[CONSOLE_CHUNK];

	while (vc->tx_off < chain->out_len && !vc->chan_gone) {
		size_t n = vq_chain_read(chain, vc->tx_off, buf, sizeof(buf));
		ssize_t sent = write(vc->chan_fd, buf, n); /* SIGPIPE is ignored (runner.c): EPIPE */

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (sent < 0) {
			chan_close(vc, strerror(errno));
			break;
		}
		vc->tx_off += (size_t)sent;
		vc->dev.bytes_from_guest += (uint64_t)sent;
		turn->bytes += (uint64_t)sent;
	}
	return true;
}

/* Guest output into the channel, chain by chain within one turn; a chain is handed back once all of it is sent. */
static void chan_transmit(struct virtio_console *vc)
{
	struct virtio_dev *dev = &vc->dev;
	struct virtqueue *vq = &dev->vqs[CONSOLE_TRANSMITQ];
	struct virtio_turn turn = { 0 };
	bool pushed = false;

	if (!virtio_device_live(dev) || !vq->started)
		return;
	while (!virtio_turn_over(dev, CONSOLE_TRANSMITQ, &turn)) {
		if (!vc->tx_held) {
			int got = vq_pop(vq, &vc->tx_chain);

			if (got < 0) {
				virtio_device_error(dev, "malformed transmit chain");
				break;
			}
			if (!got && vq_arm_notify(vq))
				continue;
			if (!got)
				break;
			if (vc->tx_chain.out_len + vc->tx_chain.in_len > CONSOLE_OUTPUT_MAX) {
				virtio_device_error(dev, "a %zu-byte transmit chain, over the %u-byte limit",
						    vc->tx_chain.out_len + vc->tx_chain.in_len, CONSOLE_OUTPUT_MAX);
				break;
			}
			vc->tx_held = true;
			vc->tx_off = 0;
		}
		if (!chan_send_held(vc, &turn))
			break;
		vq_push(vq, vc->tx_chain.head, 0);
		vc->tx_held = false;
		pushed = true;
		turn.chains++;
	}
	if (pushed)
		virtio_queue_done(dev, CONSOLE_TRANSMITQ);
	chan_watch(vc);
}

/* Channel input into the receive buffers the driver posted, within one turn; none posted, none read. */
static void chan_receive(struct virtio_console *vc)
{
	struct virtio_dev *dev = &vc->dev;
	struct virtqueue *vq = &dev->vqs[CONSOLE_RECEIVEQ];
	struct virtio_turn turn = { 0 };
	bool pushed = false;

	if (!virtio_device_live(dev) || !vq->started)
		return;
	while (!vc->chan_gone && !virtio_turn_over(dev, CONSOLE_RECEIVEQ, &turn)) {
		struct vq_chain *c = &vc->rx_chain;
		ssize_t len;

		if (!vc->rx_held) {
			int got = vq_pop(vq, c);

			if (got < 0) {
				virtio_device_error(dev, "malformed receive chain");
				break;
			}
			if (!got && vq_arm_notify(vq))
				continue;
			if (!got)
				break;
			if (!c->in_len) {
				virtio_device_error(dev, "a receive buffer the device cannot write");
				break;
			}
			vc->rx_held = true;
		}
		len = readv(vc->chan_fd, c->iov + c->nr_out, (int)c->nr_in);
		turn.chains++;
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (len <= 0) {
			chan_close(vc, len ? strerror(errno) : "was closed");
			break;
		}
		vq_push(vq, c->head, (uint32_t)len);
		vc->rx_held = false;
		dev->bytes_to_guest += (uint64_t)len;
		turn.bytes += (uint64_t)len;
		pushed = true;
	}
	if (pushed)
		virtio_queue_done(dev, CONSOLE_RECEIVEQ);
	chan_watch(vc);
}

/* The channel is ready (I/O thread). A hang-up with input still queued is read first: nothing is lost. */
static void chan_on_ready(void *ctx, uint32_t events)
{
	struct virtio_console *vc = ctx;

	pthread_mutex_lock(&vc->dev.lock);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		chan_receive(vc);
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		chan_transmit(vc);
	/* Watching nothing, epoll still reports a hang-up: a peer gone for good must not wake the thread again. */
	if ((events & (EPOLLHUP | EPOLLERR)) && !vc->rx_held && !vc->tx_held)
		chan_close(vc, "hung up");
	pthread_mutex_unlock(&vc->dev.lock);
}

/*
 * On the host console, receive buffers are filled when input arrives
 * (vcon_receive), not when the driver adds them; on the channel, a posted
 * buffer is what lets input in.
 */
static void vcon_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *vc = dev->priv;

	if (vc->chan_fd < 0 && q == CONSOLE_TRANSMITQ)
		virtio_queue_serve(dev, q, vcon_transmit);
	else if (vc->chan_fd >= 0 && q == CONSOLE_TRANSMITQ)
		chan_transmit(vc);
	else if (vc->chan_fd >= 0)
		chan_receive(vc);
}

/* Held chains belong to the old rings. */
static void vcon_reset(struct virtio_dev *dev)
{
	struct virtio_console *vc = dev->priv;

	vc->rx_held = false;
	vc->tx_held = false;
	if (vc->chan_fd >= 0)
		chan_watch(vc);
}

/*
 * Host input, on the main thread: as much as the driver's receive buffers
 * hold; the console keeps the rest. Each chain takes at least a byte, so len
 * bounds the work without a turn budget.
 */
static size_t vcon_receive(void *ctx, const uint8_t *buf, size_t len)
{
	struct virtio_console *vc = ctx;
	struct virtio_dev *dev = &vc->dev;
	struct virtqueue *vq = &dev->vqs[CONSOLE_RECEIVEQ];
	struct vq_chain chain;
	size_t taken = 0;

	pthread_mutex_lock(&dev->lock);
	/* A paused guest's memory stays as it was: the console holds the input until the resume. */
	while (taken < len && virtio_device_live(dev) && vq->started && !host_pause_requested(vc->host)) {
		int r = vq_pop(vq, &chain);

		if (r < 0) {
			virtio_device_error(dev, "malformed receive chain");
			break;
		}
		if (r == 0 && !vq_arm_notify(vq))
			break;
		if (r == 0)
			continue;
		if (!chain.in_len) {
			virtio_device_error(dev, "a receive buffer the device cannot write");
			break;
		}
		size_t n = vq_chain_write(&chain, 0, buf + taken, len - taken);

		vq_push(vq, chain.head, (uint32_t)n);
		dev->bytes_to_guest += n;
		taken += n;
	}
	if (taken)
		virtio_queue_done(dev, CONSOLE_RECEIVEQ);
	pthread_mutex_unlock(&dev->lock);
	return taken;
}

static void vcon_destroy(struct virtio_dev *dev)
{
	struct virtio_console *vc = dev->priv;

	if (vc->chan_fd < 0) {
		console_set_input(vc->host->console, NULL, NULL);
	} else {
		/* Still open, so no other source can have its number: removing it is safe even if it is gone. */
		event_loop_remove(&vc->host->io->loop, vc->chan_fd);
		close(vc->chan_fd);
	}
	free(vc);
}

/*
 * On the host console the device holds nothing between turns: output is
 * written out as each chain is served, and input goes into the buffers the
 * driver posted as it arrives (what finds none waits in the console, which
 * is the process's, not the VM's). Its state is the core's alone. The exec
 * channel is a socket of this process, with output it may hold half sent,
 * and `kvmini exec` shares a directory (virtio-fs), which cannot be saved
 * either: a VM with the channel cannot be saved.
 */
static void vcon_save(struct virtio_dev *dev, struct state_writer *w)
{
	struct virtio_console *vc = dev->priv;

	if (vc->chan_fd >= 0 && !w->err)
		w->err = -EOPNOTSUPP;
}

static const struct virtio_dev_ops vcon_ops = {
	.queue_notify = vcon_queue_notify,
	.reset = vcon_reset,
	.destroy = vcon_destroy,
	.save = vcon_save,
};

static unsigned vcon_count(const void *config)
{
	const struct vcon_config *cfg = config;

	return cfg->enabled || cfg->channel ? 1 : 0;
}

static int vcon_create(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		       struct errmsg *e)
{
	const struct vcon_config *cfg = config;
	struct virtio_console *vc = calloc(1, sizeof(*vc));
	int err;

	if (!vc)
		return errmsg_set(e, ENOMEM, "virtio-console: out of memory");
	vc->host = host;
	vc->chan_fd = -1;
	vc->dev.ops = &vcon_ops;
	vc->dev.priv = vc;
	vc->dev.device_id = VIRTIO_ID_CONSOLE;
	snprintf(vc->dev.name, sizeof(vc->dev.name), "virtio-console%u", index);
	vc->dev.nr_queues = CONSOLE_QUEUES;
	vc->dev.config = (uint8_t *)&vc->config;
	vc->dev.config_size = sizeof(vc->config);
	vc->dev.request_max = CONSOLE_OUTPUT_MAX;
	if (cfg->channel) {
		/* Our own copy, non-blocking (a socketpair's ends are separate files: the caller's end is untouched). */
		vc->chan_fd = fcntl(cfg->channel_fd, F_DUPFD_CLOEXEC, 3);
		if (vc->chan_fd < 0 || fcntl(vc->chan_fd, F_SETFL, O_RDWR | O_NONBLOCK)) {
			err = errno;
			if (vc->chan_fd >= 0)
				close(vc->chan_fd);
			free(vc);
			return errmsg_set(e, err, "virtio-console: the exec channel: %s", strerror(err));
		}
		/* Nothing to wait for until the driver posts a buffer or output fills the socket (chan_watch). */
		if ((err = io_thread_add(host->io, vc->chan_fd, 0, chan_on_ready, vc))) {
			close(vc->chan_fd);
			free(vc);
			return errmsg_set(e, -err, "virtio-console: the exec channel: %s", strerror(-err));
		}
	} else {
		/* Input from here on goes to hvc0 instead of the UART (registered at a lower level). */
		console_set_input(host->console, vcon_receive, vc);
	}
	*dev = &vc->dev;
	return 0;
}

static int parse_console(void *virtio_console, const char *arg, struct errmsg *e)
{
	if (!strcmp(arg, "serial"))
		*(bool *)virtio_console = false;
	else if (!strcmp(arg, "virtio"))
		*(bool *)virtio_console = true;
	else
		return errmsg_set(e, EINVAL, "--console '%s': must be serial or virtio", arg);
	return 0;
}

static const struct option_spec vcon_options[] = {
	{ "console", 0, "serial|virtio", "virtio: the console is also hvc0 (virtio-console), and input goes there",
	  parse_console, offsetof(struct vcon_config, enabled) },
	{ .name = NULL },
};

VIRTIO_DEVICE_REGISTER("virtio-console", struct vcon_config, vcon_count, vcon_create, .options = vcon_options);
DEVICE_CONFIG_OF(struct vcon_config, vcon_config_of, virtio_device_vcon_create)
