/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The split virtqueue (virtio 1.x, "Split Virtqueues"), shared by every
 * device. Everything in the rings is written by the guest and untrusted:
 * every address and length is checked against guest memory, and a chain that
 * loops, runs longer than the queue, mixes a readable buffer after a writable
 * one, or points outside RAM is refused with -EIO and marks the queue broken
 * (the device then asks for a reset, VIRTIO_CONFIG_S_NEEDS_RESET).
 *
 * Pure: it touches only a struct guest_mem, so the unit tests run it over a
 * plain buffer. One thread at a time works on a queue (the device's lock).
 */
#ifndef KVMINI_VIRTIO_VIRTQUEUE_H
#define KVMINI_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "guest_mem.h"

/* The largest queue kvmini offers; also the longest chain it accepts. */
#define VIRTQ_SIZE_MAX 256
#define VQ_CHAIN_MAX VIRTQ_SIZE_MAX

struct virtqueue {
	/* Written by the transport while the driver sets the queue up. */
	uint16_t size;     /* queue size the driver chose: a power of two, 1..VIRTQ_SIZE_MAX */
	uint64_t desc_gpa; /* descriptor table, 16-byte aligned */
	uint64_t avail_gpa; /* driver ("available") ring, 2-byte aligned */
	uint64_t used_gpa;  /* device ("used") ring, 4-byte aligned */
	bool enabled;       /* queue_enable (PCI) / QueueReady (MMIO) */
	uint16_t msix_vector; /* virtio-pci only; VIRTIO_MSI_NO_VECTOR (0xffff) when none */

	/* Set by vq_start, used while the queue runs. */
	const struct guest_mem *mem;
	struct vring_desc *desc;   /* host views of the rings, checked by vq_start (guest RAM never moves) */
	struct vring_avail *avail;
	struct vring_used *used;
	bool started;
	bool event_idx;     /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;      /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool broken;        /* a malformed chain was seen: nothing more is popped until reset */
	uint16_t last_avail; /* the next available-ring slot to take */
	uint16_t used_idx;   /* the next used-ring slot to fill (the used ring's idx) */
	uint16_t signalled_used; /* used_idx when the driver was last interrupted */
	bool signalled_valid;
};

/*
 * One descriptor chain, as host buffers: iov[0, nr_out) are the
 * device-readable buffers (the driver's request), iov[nr_out, nr_out + nr_in)
 * the device-writable ones (room for the answer), in chain order.
 */
struct vq_chain {
	uint16_t head; /* descriptor index to hand back with vq_push */
	unsigned nr_out, nr_in;
	size_t out_len, in_len; /* total bytes of each part */
	struct iovec iov[VQ_CHAIN_MAX];
};

/* Back to the state after a device reset: not started, size VIRTQ_SIZE_MAX, addresses 0, no vector. */
void vq_reset(struct virtqueue *vq);

/*
 * Starts using the queue (DRIVER_OK, or a queue enabled later). -EINVAL when
 * the size is not a power of two in 1..VIRTQ_SIZE_MAX, an address is
 * misaligned, or a ring does not lie wholly inside one RAM region.
 */
int vq_start(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx, bool indirect);

/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * driver has made nothing new available, -EIO when the chain (or the
 * available index itself: more than `size` ahead) is malformed; the queue is
 * then broken and every later call returns -EIO.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);

/* Gives the chain vq_pop took last back to the driver's side, untouched: the next vq_pop takes it again. */
void vq_unpop(struct virtqueue *vq);

/* Hands chain `head` back with `written` bytes written into its writable part (release ordering). */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t written);

/*
 * After one or more vq_push calls: whether the driver wants an interrupt now
 * (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX). Call it once per
 * batch; it records what was signalled.
 */
bool vq_should_interrupt(struct virtqueue *vq);

/*
 * Before the device goes idle: asks the driver for a notification on the next
 * buffer it makes available (avail_event with EVENT_IDX) and returns true if
 * one already arrived meanwhile, so the caller pops again instead of
 * sleeping through it.
 */
bool vq_arm_notify(struct virtqueue *vq);

/* Copies up to len bytes at `offset` within the chain's readable part into dst; returns bytes copied. */
size_t vq_chain_read(const struct vq_chain *chain, size_t offset, void *dst, size_t len);
/* Copies up to len bytes into the chain's writable part at `offset`; returns bytes copied. */
size_t vq_chain_write(const struct vq_chain *chain, size_t offset, const void *src, size_t len);
/* The same over any n iovecs (a device that gathered several chains' buffers for one readv). */
size_t vq_iov_write(const struct iovec *iov, unsigned n, size_t offset, const void *src, size_t len);

#endif
