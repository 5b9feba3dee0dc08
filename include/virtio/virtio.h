/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio 1.x device, independent of its transport. Each device (blk, net,
 * console, rng) fills a struct virtio_dev and calls virtio_dev_add; the core
 * attaches it to the VM's transport (virtio-pci by default, virtio-mmio with
 * --transport mmio) and wires its queue notifications to the I/O thread.
 *
 * Both transports keep the driver-visible state here and change it only
 * through the virtio_*() functions below, so feature negotiation, the status
 * state machine and reset behave the same on PCI and MMIO.
 *
 * Threads: register accesses come from vCPU threads, queue work runs on the
 * I/O thread; both hold dev->lock. Device callbacks are called with it held.
 */
#ifndef KVMINI_VIRTIO_VIRTIO_H
#define KVMINI_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "device.h"
#include "errmsg.h"
#include "log.h"
#include "virtio/virtqueue.h"

struct virtio_dev;
struct state_reader;
struct state_writer;

/* virtio-net's 4 queue pairs and its control queue. */
#define VIRTIO_QUEUES_MAX 9
/* VIRTIO_MSI_NO_VECTOR */
#define VIRTIO_NO_VECTOR 0xffff
/* The `queue` argument of transport->interrupt for a configuration change. */
#define VIRTIO_CONFIG_IRQ (-1)
/* ISR status bits (PCI ISR capability, MMIO InterruptStatus). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

/*
 * Serves one request chain: returns 0 with the bytes written into the
 * chain's writable part in *written, -EIO after reporting a broken
 * request with virtio_device_error, or -EAGAIN for "not now" (its rate
 * limiter waits): the chain goes back to the ring untouched and the queue
 * stops until the device calls queue_notify again. Or VIRTIO_IN_FLIGHT: the
 * device keeps the chain (its buffers stay valid until the driver has it
 * back) and hands it back later with virtio_queue_complete.
 */
#define VIRTIO_IN_FLIGHT 1
typedef int (*virtio_serve_fn)(struct virtio_dev *dev, const struct vq_chain *chain, uint32_t *written);

struct virtio_dev_ops {
	/* The driver made buffers available on queue q (or the device's own fd is ready). I/O thread. */
	void (*queue_notify)(struct virtio_dev *dev, unsigned q);
	/* Optional: the driver wrote the device configuration space (already bounds-checked, stored in config). */
	void (*config_write)(struct virtio_dev *dev, uint32_t offset, unsigned size);
	/*
	 * Optional: the driver set FEATURES_OK and the core found the accepted
	 * features (dev->driver_features) a valid subset of the offered ones:
	 * the device checks its own rules among them and acts on them; non-zero
	 * refuses FEATURES_OK (the bit stays clear).
	 */
	int (*features_ok)(struct virtio_dev *dev);
	/*
	 * Optional: answers a chain larger than dev->request_max with the
	 * device's error answer, touching none of its data. Without it such a
	 * chain is a device error (NEEDS_RESET).
	 */
	virtio_serve_fn refuse;
	/* Optional: the driver reset the device; drop any in-flight state. */
	void (*reset)(struct virtio_dev *dev);
	/*
	 * Optional: the VM pauses (the I/O thread has stopped): hand back every
	 * chain still in flight, so nothing writes guest memory until the I/O
	 * thread runs again and a save sees no request half done.
	 */
	void (*pause)(struct virtio_dev *dev);
	/* Optional: its own counters into row (GET /vm/stats), read without dev->lock. */
	void (*stats)(struct virtio_dev *dev, struct device_stats *row);
	/* Optional: frees what the device owns, at VM teardown. */
	void (*destroy)(struct virtio_dev *dev);
	/*
	 * Optional: state of its own beyond the core's and the transport's
	 * (include/state.h), saved after them with dev->lock held; restore
	 * checks it as guest input, with dev->lock held, after the core's and
	 * the transport's state are back.
	 */
	void (*save)(struct virtio_dev *dev, struct state_writer *w);
	int (*restore)(struct virtio_dev *dev, struct state_reader *r);
};

/* Filled in by the transport that carries the device. */
struct virtio_transport_ops {
	const char *name; /* "pci" or "mmio" */
	/* Interrupts the driver: for used buffers on queue q, or VIRTIO_CONFIG_IRQ. dev->isr is already set. */
	void (*interrupt)(struct virtio_dev *dev, int queue);
	/*
	 * Its registers' state, after the core's: save with dev->lock held;
	 * restore without it (it takes the locks it needs), after the core's
	 * state is back, checking every value as guest input, and driving the
	 * interrupt to what the restored state says.
	 */
	void (*save)(struct virtio_dev *dev, struct state_writer *w);
	int (*restore)(struct virtio_dev *dev, struct state_reader *r);
};

struct virtio_dev {
	/* Set by the device before virtio_dev_add. */
	const struct virtio_dev_ops *ops;
	void *priv;
	uint16_t device_id;       /* VIRTIO_ID_BLOCK, ... */
	char name[24];            /* for messages and ACPI: "virtio-blk0" */
	unsigned nr_queues;       /* 1..VIRTIO_QUEUES_MAX */
	uint64_t device_features; /* device-specific bits; the core adds VERSION_1, INDIRECT_DESC, EVENT_IDX */
	uint8_t *config;          /* device configuration space, owned by the device */
	uint32_t config_size;
	size_t request_max;       /* the most bytes (readable + writable) one chain of virtio_queue_serve may hold */

	/* Set by the core. */
	const struct device_host *host;
	pthread_mutex_t lock;
	uint64_t driver_features;
	uint8_t status;
	uint8_t isr;
	uint32_t config_generation;
	struct virtqueue vqs[VIRTIO_QUEUES_MAX];
	int kick_fd[VIRTIO_QUEUES_MAX]; /* eventfds; the transport makes them KVM ioeventfds */
	struct virtio_kick {
		struct virtio_dev *dev;
		unsigned queue;
	} kicks[VIRTIO_QUEUES_MAX];     /* the I/O thread's context for each kick_fd */
	bool rekicked[VIRTIO_QUEUES_MAX]; /* the queue yielded and kicked itself: not the driver's notification */
	struct log_limit error_log;
	char error_what[48];            /* "further virtio-blk0 errors", for error_log */
	uint64_t notifications;         /* queue notifications the I/O thread took */
	uint64_t exit_notifications;    /* ...of which reached kvmini as a vCPU exit rather than an ioeventfd */
	uint64_t bytes_from_guest;      /* read out of the driver's buffers (requests, frames sent, output) */
	uint64_t bytes_to_guest;        /* written into them (data read, frames received, input) */
	uint64_t throttled;             /* times a queue waited for its rate limiter (include/virtio/throttle.h) */

	/* Set by the transport. */
	const struct virtio_transport_ops *transport;
	void *transport_data;
	uint16_t msix_config; /* virtio-pci: the configuration-change vector */
};

/*
 * A kind of virtio device (blk, net, ...): its configuration type (its part
 * of struct vm_config), how many of it that configuration
 * asks for, and how to make the index-th. create fills in a struct virtio_dev
 * (ops, priv, device_id, name, queues, features, config) and everything the
 * device owns; on failure it frees what it made. The device's ops->destroy
 * undoes create. VIRTIO_DEVICE_REGISTER makes it a device of the VM (the
 * rest of its record, such as .options and .api, follows as designated
 * initializers), and names the kind virtio_kind_<create> so unit tests can
 * make a device alone.
 */
struct virtio_kind {
	const char *name;
	unsigned (*count)(const void *config);
	int (*create)(const struct device_host *host, const void *config, unsigned index, struct virtio_dev **dev,
		      struct errmsg *e);
};

/* The device_ops hooks of every virtio kind: make and add count() devices; remove them in reverse. */
int virtio_kind_init(const struct virtio_kind *kind, const struct device_host *host, const void *config,
		     void **data, struct errmsg *e);
void virtio_kind_exit(void *data);
/* Its devices' queue counters, one row each. */
unsigned virtio_kind_stats(void *data, struct device_stats *rows, unsigned max);
/*
 * Waits out whoever holds one of its devices' locks: with the vCPUs parked
 * and the I/O thread stopped, only the main thread's console input
 * (virtio-console) can be inside one, and once a pause was requested it
 * touches no guest memory. Then each device's ops->pause hands back what
 * it has in flight.
 */
void virtio_kind_pause(void *data);
/* The index-th device of a kind (data as virtio_kind_init made it), NULL past the last. */
struct virtio_dev *virtio_kind_device(void *data, unsigned index);
/*
 * device_ops.save/restore of every virtio kind: per device the core's
 * driver-visible state (features, status, ISR, configuration generation,
 * each queue's set-up and indices), then the transport's, then the device's
 * own. Restore checks each part before it applies it, restarts the queues
 * that ran (their rings must lie in guest RAM) and kicks them, so buffers
 * the driver offered meanwhile are served.
 */
int virtio_kind_save(void *data, struct state_writer *w);
int virtio_kind_restore(void *data, struct state_reader *r, struct errmsg *e);
#define VIRTIO_STATE_VERSION 1

#define VIRTIO_DEVICE_REGISTER(name_, config_type_, count_, create_, ...)                                     \
	const struct virtio_kind virtio_kind_##create_ = { .name = (name_), .count = (count_),                 \
						   .create = (create_) };                                      \
	static int virtio_init_##create_(const struct device_host *host, const void *config, void **data,      \
					 struct errmsg *e)                                                     \
	{                                                                                                      \
		return virtio_kind_init(&virtio_kind_##create_, host, config, data, e);                        \
	}                                                                                                      \
	static const struct device_ops virtio_device_##create_ = {                                             \
		.name = (name_), .level = DEVICE_LEVEL_VIRTIO, .init = virtio_init_##create_,                  \
		.exit = virtio_kind_exit, .stats = virtio_kind_stats, .pause = virtio_kind_pause,              \
		.save = virtio_kind_save, .restore = virtio_kind_restore,                                       \
		.state_version = VIRTIO_STATE_VERSION,                                                         \
		.config_size = sizeof(config_type_), __VA_ARGS__                                               \
	};                                                                                                     \
	DEVICE_REGISTER(virtio_device_##create_)

/*
 * Registers dev with the host: creates its kick eventfds, puts them on the
 * I/O thread and attaches dev to the transport the host names.
 * virtio_kind_init calls it; the device must stay allocated until its
 * ops->destroy.
 */
int virtio_dev_add(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e);
/* virtio_dev_add without the transport: the core's state and the kick eventfds on the I/O thread (unit tests). */
int virtio_dev_setup(const struct device_host *host, struct virtio_dev *dev, struct errmsg *e);
/* Closes what virtio_dev_add opened, logs the notification counts (-v), then calls ops->destroy. */
void virtio_dev_remove(struct virtio_dev *dev);

/* --- For transports: the driver-visible state, with dev->lock held. --- */

/* 32 bits of the offered features: word 0 is bits 0-31, word 1 bits 32-63; later words are 0. */
uint32_t virtio_device_features(const struct virtio_dev *dev, uint32_t word);
/* Accepted features, taken only between DRIVER and FEATURES_OK. */
void virtio_set_driver_features(struct virtio_dev *dev, uint32_t word, uint32_t value);
/*
 * The driver writes the status byte: 0 resets the device; FEATURES_OK is
 * refused (stays clear) unless the accepted features are a subset of the
 * offered ones and include VERSION_1; DRIVER_OK starts every enabled queue.
 */
void virtio_set_status(struct virtio_dev *dev, uint8_t status);
/* The driver enabled queue q (PCI queue_enable, MMIO QueueReady); started now if DRIVER_OK is set. */
void virtio_enable_queue(struct virtio_dev *dev, unsigned q);
/* Device configuration space accesses; out-of-range reads give 0, writes are dropped. */
void virtio_config_read(struct virtio_dev *dev, uint32_t offset, uint8_t *data, unsigned size);
void virtio_config_write(struct virtio_dev *dev, uint32_t offset, const uint8_t *data, unsigned size);
/* The ISR byte is read-to-clear. */
uint8_t virtio_read_isr(struct virtio_dev *dev);
/* A queue notification that reached kvmini as a vCPU exit (no ioeventfd took it): counted, then handled as any kick. */
void virtio_exit_notify(struct virtio_dev *dev, unsigned q);

/* --- For devices, with dev->lock held. --- */

/* After pushing used buffers on queue q: interrupts the driver if it wants one. */
void virtio_queue_done(struct virtio_dev *dev, unsigned q);
/*
 * What one turn of a queue (one call of queue_notify, or of a device's own
 * fd handler) may do before it yields to the I/O thread's other sources:
 * a full queue's worth of chains, so a driver that fills its ring is still
 * served in one turn; and about 4 MiB of data, a millisecond or so of
 * memcpy or page-cache I/O, which is 64 of blk's 64 KiB requests yet keeps
 * the other devices' wait short. The last chain may cross the byte budget,
 * by at most the device's request_max.
 */
#define VIRTIO_TURN_CHAINS VIRTQ_SIZE_MAX
#define VIRTIO_TURN_BYTES (4u << 20)

struct virtio_turn {
	unsigned chains;
	uint64_t bytes;
};

/*
 * Called before each chain of a turn: true when the turn must end, because
 * its budget is spent or the I/O thread is being stopped (a pause). Queue q
 * has then kicked itself, so the I/O thread comes back to it after the
 * other ready sources, or after the pause.
 */
bool virtio_turn_over(struct virtio_dev *dev, unsigned q, const struct virtio_turn *turn);
/*
 * Serves the chains the driver made available on queue q, within one turn's
 * budget, hands each back, interrupts the driver once, and asks to be
 * notified of the next one. A chain over dev->request_max gets ops->refuse
 * instead of serve; a malformed one is a device error.
 */
void virtio_queue_serve(struct virtio_dev *dev, unsigned q, virtio_serve_fn serve);
/*
 * Hands back a chain the device's serve kept (VIRTIO_IN_FLIGHT), with
 * `written` bytes written into it; the device calls virtio_queue_done once
 * after a batch of them.
 */
void virtio_queue_complete(struct virtio_dev *dev, unsigned q, uint16_t head, uint32_t written);
/* The device wants queue q looked at again (a rate limiter lifted): a kick of its own, not the driver's. */
void virtio_queue_kick(struct virtio_dev *dev, unsigned q);
/* The device changed its configuration space: new generation, and a configuration interrupt once DRIVER_OK. */
void virtio_config_changed(struct virtio_dev *dev);
/*
 * The guest broke the protocol (a malformed chain, an impossible request):
 * logs one rate-limited line naming the device, sets NEEDS_RESET and raises a
 * configuration interrupt. The device does no more work until reset.
 */
void virtio_device_error(struct virtio_dev *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the driver finished setting up (DRIVER_OK) and the device has not failed. */
bool virtio_device_live(const struct virtio_dev *dev);

#endif
