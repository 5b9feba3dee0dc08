// SPDX-License-Identifier: Apache-2.0
/*
 * What every virtio device shares, whatever its transport: feature
 * negotiation, the status byte and reset, queue start-up, interrupts after
 * used buffers, and the kick eventfds the I/O thread waits on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "state.h"
#include "virtio/transport.h"
#include "io_thread.h"
#include "virtio/virtio.h"

/* What the core offers on top of every device's own features. */
#define VIRTIO_CORE_FEATURES                                                                                    \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX))
/* Error lines one device may print before it goes quiet: a broken guest can repeat itself forever. */
#define VIRTIO_ERROR_BURST 5

static bool has_feature(const struct virtio_dev *dev, unsigned bit)
{
	return dev->driver_features & (1ULL << bit);
}

static void virtio_kick(struct virtio_dev *dev, unsigned q)
{
	uint64_t one = 1;

	/* Fails only if the counter would overflow, and then a kick is pending anyway. */
	(void)!write(dev->kick_fd[q], &one, sizeof(one));
}

/* Runs on the I/O thread whenever the guest kicked the queue (or the core, when the queue started). */
static void virtio_on_kick(void *ctx, uint32_t events)
{
	struct virtio_kick *kick = ctx;
	struct virtio_dev *dev = kick->dev;
	uint64_t count;

	(void)events;
	if (read(dev->kick_fd[kick->queue], &count, sizeof(count)) != sizeof(count))
		return;
	pthread_mutex_lock(&dev->lock);
	/* An eventfd adds up the writes it got: count is every kick since the last read, ours included. */
	if (dev->rekicked[kick->queue]) {
		dev->rekicked[kick->queue] = false;
		count--;
	}
	dev->notifications += count;
	if (virtio_device_live(dev) && dev->vqs[kick->queue].started)
		dev->ops->queue_notify(dev, kick->queue);
	pthread_mutex_unlock(&dev->lock);
}

int virtio_dev_setup(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e)
{
	int err;

	dev->host = host;
	dev->device_features |= VIRTIO_CORE_FEATURES;
	dev->driver_features = 0;
	dev->status = dev->isr = 0;
	dev->msix_config = VIRTIO_NO_VECTOR;
	snprintf(dev->error_what, sizeof(dev->error_what), "%s errors", dev->name);
	dev->error_log = (struct log_limit)LOG_LIMIT(dev->error_what, VIRTIO_ERROR_BURST);
	pthread_mutex_init(&dev->lock, NULL);
	for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++) {
		vq_reset(&dev->vqs[q]);
		dev->kick_fd[q] = -1;
	}
	if (dev->nr_queues < 1 || dev->nr_queues > VIRTIO_QUEUES_MAX)
		return errmsg_set(e, EINVAL, "%s: %u queues, at most %d supported", dev->name, dev->nr_queues,
				  VIRTIO_QUEUES_MAX);
	if (!dev->request_max)
		return errmsg_set(e, EINVAL, "%s: no request size limit", dev->name);

	for (unsigned q = 0; q < dev->nr_queues; q++) {
		dev->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->kick_fd[q] < 0)
			return errmsg_set(e, errno, "%s: eventfd: %s", dev->name, strerror(errno));
		dev->kicks[q] = (struct virtio_kick){ .dev = dev, .queue = q };
		if ((err = io_thread_add(host->io, dev->kick_fd[q], EPOLLIN, virtio_on_kick, &dev->kicks[q])))
			return errmsg_set(e, -err, "%s: cannot watch queue %u: %s", dev->name, q, strerror(-err));
	}
	return 0;
}

int virtio_dev_add(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e)
{
	int err;

	if ((err = virtio_dev_setup(host, dev, e)))
		return err;
	if (host->transport == VIRTIO_TRANSPORT_MMIO)
		return virtio_mmio_attach(host, dev, e);
	return virtio_pci_attach(host, dev, e);
}

void virtio_dev_remove(struct virtio_dev *dev)
{
	if (dev->notifications)
		log_debug("%s: %" PRIu64 " queue notifications, %" PRIu64 " of them through a vCPU exit", dev->name,
			  dev->notifications, dev->exit_notifications);
	for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++) {
		if (dev->kick_fd[q] < 0)
			continue;
		event_loop_remove(&dev->host->io->loop, dev->kick_fd[q]);
		close(dev->kick_fd[q]);
		dev->kick_fd[q] = -1;
	}
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
}

struct virtio_kind_devices {
	unsigned nr;
	struct virtio_dev *devs[];
};

int virtio_kind_init(const struct virtio_kind *kind, const struct device_host *host, const void *config,
		     void **data, struct errmsg *e)
{
	unsigned n = kind->count(config);
	struct virtio_kind_devices *all;
	int err;

	*data = NULL;
	if (!n)
		return 0;
	all = calloc(1, sizeof(*all) + n * sizeof(all->devs[0]));
	if (!all)
		return errmsg_set(e, ENOMEM, "%s: out of memory", kind->name);
	for (unsigned i = 0; i < n; i++) {
		struct virtio_dev *dev;

		if ((err = kind->create(host, config, i, &dev, e)))
			goto fail;
		if ((err = virtio_dev_add(host, dev, e))) {
			virtio_dev_remove(dev);
			goto fail;
		}
		all->devs[all->nr++] = dev;
	}
	*data = all;
	return 0;
fail:
	virtio_kind_exit(all);
	return err;
}

void virtio_kind_exit(void *data)
{
	struct virtio_kind_devices *all = data;

	if (!all)
		return;
	while (all->nr)
		virtio_dev_remove(all->devs[--all->nr]);
	free(all);
}

struct virtio_dev *virtio_kind_device(void *data, unsigned index)
{
	struct virtio_kind_devices *all = data;

	return all && index < all->nr ? all->devs[index] : NULL;
}

unsigned virtio_kind_stats(void *data, struct device_stats *rows, unsigned max)
{
	struct virtio_dev *dev;
	unsigned n = 0;

	for (; n < max && (dev = virtio_kind_device(data, n)); n++) {
		snprintf(rows[n].name, sizeof(rows[n].name), "%s", dev->name);
		rows[n].notifications = __atomic_load_n(&dev->notifications, __ATOMIC_RELAXED);
		rows[n].bytes_from_guest = __atomic_load_n(&dev->bytes_from_guest, __ATOMIC_RELAXED);
		rows[n].bytes_to_guest = __atomic_load_n(&dev->bytes_to_guest, __ATOMIC_RELAXED);
		rows[n].throttled = __atomic_load_n(&dev->throttled, __ATOMIC_RELAXED);
		rows[n].engine = NULL;
		rows[n].nr_drops = 0;
		if (dev->ops->stats)
			dev->ops->stats(dev, &rows[n]);
	}
	return n;
}

void virtio_kind_pause(void *data)
{
	struct virtio_dev *dev;

	for (unsigned i = 0; (dev = virtio_kind_device(data, i)); i++) {
		pthread_mutex_lock(&dev->lock);
		if (dev->ops->pause)
			dev->ops->pause(dev);
		pthread_mutex_unlock(&dev->lock);
	}
}

uint32_t virtio_device_features(const struct virtio_dev *dev, uint32_t word)
{
	return word < 2 ? (uint32_t)(dev->device_features >> (32 * word)) : 0;
}

void virtio_set_driver_features(struct virtio_dev *dev, uint32_t word, uint32_t value)
{
	/* The spec allows feature writes only between DRIVER and FEATURES_OK. */
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER) || (dev->status & VIRTIO_CONFIG_S_FEATURES_OK) || word > 1)
		return;
	dev->driver_features &= ~(0xffffffffULL << (32 * word));
	dev->driver_features |= (uint64_t)value << (32 * word);
}

static void virtio_reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned q = 0; q < dev->nr_queues; q++)
		vq_reset(&dev->vqs[q]);
	dev->driver_features = 0;
	dev->status = 0;
	dev->isr = 0;
	dev->msix_config = VIRTIO_NO_VECTOR;
}

static void virtio_start_queue(struct virtio_dev *dev, unsigned q)
{
	struct virtqueue *vq = &dev->vqs[q];

	if (vq->started || !vq->enabled)
		return;
	if (vq_start(vq, dev->host->mem, has_feature(dev, VIRTIO_RING_F_EVENT_IDX),
		     has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC))) {
		virtio_device_error(dev, "queue %u: size %u or ring addresses (%#llx, %#llx, %#llx) are not usable", q,
				    vq->size, (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
				    (unsigned long long)vq->used_gpa);
		return;
	}
	/* Buffers the driver made available before it said DRIVER_OK (receive queues) are work too. */
	virtio_kick(dev, q);
}

void virtio_set_status(struct virtio_dev *dev, uint8_t status)
{
	uint8_t was = dev->status;

	if (status == 0) {
		virtio_reset(dev);
		return;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(was & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((dev->driver_features & ~dev->device_features) || !has_feature(dev, VIRTIO_F_VERSION_1) ||
	     (dev->ops->features_ok && dev->ops->features_ok(dev))))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	/* NEEDS_RESET is the device's to set; only a reset clears it. */
	dev->status = status | (was & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(was & VIRTIO_CONFIG_S_DRIVER_OK))
		for (unsigned q = 0; q < dev->nr_queues; q++)
			virtio_start_queue(dev, q);
}

void virtio_enable_queue(struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->nr_queues)
		return;
	dev->vqs[q].enabled = true;
	if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_start_queue(dev, q);
}

static bool config_range_ok(const struct virtio_dev *dev, uint32_t offset, unsigned size)
{
	return offset <= dev->config_size && size <= dev->config_size - offset;
}

void virtio_config_read(struct virtio_dev *dev, uint32_t offset, uint8_t *data, unsigned size)
{
	if (config_range_ok(dev, offset, size))
		memcpy(data, dev->config + offset, size);
	else
		memset(data, 0, size);
}

void virtio_config_write(struct virtio_dev *dev, uint32_t offset, const uint8_t *data, unsigned size)
{
	if (!config_range_ok(dev, offset, size) || !dev->ops->config_write)
		return;
	memcpy(dev->config + offset, data, size);
	dev->ops->config_write(dev, offset, size);
}

uint8_t virtio_read_isr(struct virtio_dev *dev)
{
	uint8_t isr = dev->isr;

	dev->isr = 0;
	return isr;
}

void virtio_exit_notify(struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->nr_queues)
		return;
	dev->exit_notifications++;
	virtio_kick(dev, q);
}

void virtio_queue_done(struct virtio_dev *dev, unsigned q)
{
	if (!vq_should_interrupt(&dev->vqs[q]))
		return;
	dev->isr |= VIRTIO_ISR_QUEUE;
	dev->transport->interrupt(dev, (int)q);
}

bool virtio_turn_over(struct virtio_dev *dev, unsigned q, const struct virtio_turn *turn)
{
	if (turn->chains < VIRTIO_TURN_CHAINS && turn->bytes < VIRTIO_TURN_BYTES &&
	    !io_thread_stop_wanted(dev->host->io))
		return false;
	/* The driver's buffers stay available; this kick stays in the eventfd over a pause. */
	virtio_queue_kick(dev, q);
	return true;
}

void virtio_queue_kick(struct virtio_dev *dev, unsigned q)
{
	dev->rekicked[q] = true;
	virtio_kick(dev, q);
}

/* A chain over the device's limit: its error answer, or a device error when it has none. */
static int virtio_refuse(struct virtio_dev *dev, unsigned q, const struct vq_chain *chain, uint32_t *written)
{
	if (dev->ops->refuse)
		return dev->ops->refuse(dev, chain, written);
	virtio_device_error(dev, "queue %u: a request of %zu bytes, over the device's limit of %zu", q,
			    chain->out_len + chain->in_len, dev->request_max);
	return -EIO;
}

void virtio_queue_serve(struct virtio_dev *dev, unsigned q, virtio_serve_fn serve)
{
	struct virtqueue *vq = &dev->vqs[q];
	struct virtio_turn turn = { 0 };
	struct vq_chain chain;
	bool pushed = false, yielded;
	int got = 0;

	do {
		while (!(yielded = virtio_turn_over(dev, q, &turn)) && (got = vq_pop(vq, &chain)) > 0) {
			bool fits = chain.out_len + chain.in_len <= dev->request_max;
			uint32_t written = 0;
			int err = fits ? serve(dev, &chain, &written) : virtio_refuse(dev, q, &chain, &written);

			if (err == -EAGAIN)
				vq_unpop(vq);
			if (err < 0)
				break;
			turn.chains++;
			if (err == VIRTIO_IN_FLIGHT) {
				/* Its data is moved later, but it is this turn's work: counted at its full size. */
				dev->bytes_from_guest += chain.out_len;
				turn.bytes += chain.out_len + chain.in_len;
				continue;
			}
			vq_push(vq, chain.head, written);
			pushed = true;
			if (!fits)
				continue;
			dev->bytes_from_guest += chain.out_len;
			dev->bytes_to_guest += written;
			turn.bytes += chain.out_len + written;
		}
		if (got < 0)
			virtio_device_error(dev, "queue %u: malformed descriptor chain", q);
	} while (!yielded && got == 0 && vq_arm_notify(vq));
	if (pushed)
		virtio_queue_done(dev, q);
}

void virtio_queue_complete(struct virtio_dev *dev, unsigned q, uint16_t head, uint32_t written)
{
	vq_push(&dev->vqs[q], head, written);
	dev->bytes_to_guest += written;
}

void virtio_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	if (!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	dev->isr |= VIRTIO_ISR_CONFIG;
	dev->transport->interrupt(dev, VIRTIO_CONFIG_IRQ);
}

void virtio_device_error(struct virtio_dev *dev, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_limited(&dev->error_log, "%s: %s; the device needs a reset", dev->name, what);
	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	virtio_config_changed(dev);
}

bool virtio_device_live(const struct virtio_dev *dev)
{
	return (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* --- Save and restore --- */

#define STATUS_BITS                                                                                             \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |                       \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

/* The driver's set-up and the ring indices; the ring views and negotiated ring features follow from them. */
static void save_queue(const struct virtqueue *vq, struct state_writer *w)
{
	state_put_u16(w, vq->size);
	state_put_u64(w, vq->desc_gpa);
	state_put_u64(w, vq->avail_gpa);
	state_put_u64(w, vq->used_gpa);
	state_put_bool(w, vq->enabled);
	state_put_bool(w, vq->started);
	state_put_bool(w, vq->broken);
	state_put_u16(w, vq->last_avail);
	state_put_u16(w, vq->used_idx);
	state_put_u16(w, vq->signalled_used);
	state_put_bool(w, vq->signalled_valid);
}

static int virtio_dev_save(struct virtio_dev *dev, struct state_writer *w)
{
	pthread_mutex_lock(&dev->lock);
	state_put_u64(w, dev->driver_features);
	state_put_u8(w, dev->status);
	state_put_u8(w, dev->isr);
	state_put_u32(w, dev->config_generation);
	state_put_u8(w, (uint8_t)dev->nr_queues);
	for (unsigned q = 0; q < dev->nr_queues; q++)
		save_queue(&dev->vqs[q], w);
	dev->transport->save(dev, w);
	if (dev->ops->save)
		dev->ops->save(dev, w);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int virtio_kind_save(void *data, struct state_writer *w)
{
	struct virtio_kind_devices *all = data;
	unsigned nr = all ? all->nr : 0;

	state_put_u8(w, (uint8_t)nr);
	for (unsigned i = 0; i < nr; i++)
		virtio_dev_save(all->devs[i], w);
	return 0;
}

/*
 * Queue q as saved, into *vq (fresh from vq_reset): a queue that ran is
 * started again here, which checks its size and that its rings lie in guest
 * RAM, so nothing about it is applied until it all holds.
 */
static void restore_queue(struct virtio_dev *dev, unsigned q, uint64_t features, uint8_t status,
			  struct state_reader *r, struct virtqueue *vq)
{
	uint16_t last_avail, used_idx, signalled_used;
	bool started, broken, signalled_valid;

	vq->size = state_get_u16(r, "queue size");
	vq->desc_gpa = state_get_u64(r, "queue desc");
	vq->avail_gpa = state_get_u64(r, "queue avail");
	vq->used_gpa = state_get_u64(r, "queue used");
	vq->enabled = state_get_bool(r, "queue enabled");
	started = state_get_bool(r, "queue started");
	broken = state_get_bool(r, "queue broken");
	last_avail = state_get_u16(r, "queue last_avail");
	used_idx = state_get_u16(r, "queue used_idx");
	signalled_used = state_get_u16(r, "queue signalled_used");
	signalled_valid = state_get_bool(r, "queue signalled_valid");
	if (!state_ok(r))
		return;
	if (vq->size > VIRTQ_SIZE_MAX) {
		state_invalid(r, "queue size", "%s queue %u: %u, at most %d", dev->name, q, vq->size,
			      VIRTQ_SIZE_MAX);
		return;
	}
	if (!started)
		return;
	if (!vq->enabled || !(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		state_invalid(r, "queue started", "%s queue %u ran, but it is not enabled or the driver not ready",
			      dev->name, q);
		return;
	}
	if (vq_start(vq, dev->host->mem, features & (1ULL << VIRTIO_RING_F_EVENT_IDX),
		     features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC))) {
		state_invalid(r, "queue rings", "%s queue %u: size %u or rings at %#llx, %#llx, %#llx not usable",
			      dev->name, q, vq->size, (unsigned long long)vq->desc_gpa,
			      (unsigned long long)vq->avail_gpa, (unsigned long long)vq->used_gpa);
		return;
	}
	/* Chains taken and not yet given back: never more than the ring holds. */
	if ((uint16_t)(last_avail - used_idx) > vq->size) {
		state_invalid(r, "queue last_avail", "%s queue %u: %u chains in flight, the ring holds %u", dev->name,
			      q, (uint16_t)(last_avail - used_idx), vq->size);
		return;
	}
	vq->broken = broken;
	vq->last_avail = last_avail;
	vq->used_idx = used_idx;
	vq->signalled_used = signalled_used;
	vq->signalled_valid = signalled_valid;
}

/* The core's part: everything read and checked first, then applied under the device's lock. */
static int restore_core(struct virtio_dev *dev, struct state_reader *r)
{
	uint64_t features = state_get_u64(r, "driver_features");
	uint8_t status = state_get_u8(r, "status");
	uint8_t isr = state_get_u8(r, "isr");
	uint32_t generation = state_get_u32(r, "config_generation");
	uint8_t nr = state_get_u8(r, "queues");
	struct virtqueue vqs[VIRTIO_QUEUES_MAX];

	if (!state_ok(r))
		return r->err;
	if (status & ~STATUS_BITS)
		return state_invalid(r, "status", "%s: %#x has bits virtio does not define", dev->name, status);
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((features & ~dev->device_features) || !(features & (1ULL << VIRTIO_F_VERSION_1))))
		return state_invalid(r, "driver_features", "%s: %#llx accepted, %#llx offered (with VERSION_1)",
				     dev->name, (unsigned long long)features, (unsigned long long)dev->device_features);
	if (isr & ~(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG))
		return state_invalid(r, "isr", "%s: %#x has bits virtio does not define", dev->name, isr);
	if (nr != dev->nr_queues)
		return state_invalid(r, "queues", "%s: %u saved, the device has %u", dev->name, nr, dev->nr_queues);
	for (unsigned q = 0; q < nr && state_ok(r); q++) {
		vq_reset(&vqs[q]);
		restore_queue(dev, q, features, status, r, &vqs[q]);
	}
	if (!state_ok(r))
		return r->err;

	pthread_mutex_lock(&dev->lock);
	dev->driver_features = features;
	dev->status = status;
	dev->isr = isr;
	dev->config_generation = generation;
	for (unsigned q = 0; q < nr; q++)
		dev->vqs[q] = vqs[q];
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int virtio_dev_restore(struct virtio_dev *dev, struct state_reader *r)
{
	int err = restore_core(dev, r);

	err = err ?: dev->transport->restore(dev, r);
	pthread_mutex_lock(&dev->lock);
	if (!err && dev->ops->restore)
		err = dev->ops->restore(dev, r);
	/* Buffers the driver made available before the save, or since: the I/O thread looks at each queue. */
	for (unsigned q = 0; !err && q < dev->nr_queues; q++)
		if (dev->vqs[q].started)
			virtio_kick(dev, q);
	pthread_mutex_unlock(&dev->lock);
	return err;
}

int virtio_kind_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct virtio_kind_devices *all = data;
	unsigned nr = all ? all->nr : 0;
	uint8_t saved = state_get_u8(r, "devices");

	if (state_ok(r) && saved != nr)
		state_invalid(r, "devices", "%u saved, this VM has %u", saved, nr);
	for (unsigned i = 0; i < nr && state_ok(r); i++)
		if (virtio_dev_restore(all->devs[i], r))
			break;
	return state_reader_done(r, e);
}
