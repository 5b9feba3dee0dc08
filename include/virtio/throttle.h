/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtio queue under a rate limiter (include/rate_limiter.h): virtio-blk's
 * queue, virtio-net's receive and transmit queues, virtio-rng's. While the
 * limiter has no tokens for the next request, the queue takes no chain
 * (they stay in the ring, nothing is dropped), its kicks do nothing, and a
 * timerfd on the I/O thread calls the device's queue_notify once the
 * tokens are there. A queue without an active limiter reads no clock and
 * has no timer; the timer is made the first time the queue must wait.
 *
 * All of it with the device's lock held, on the I/O thread (or where the
 * I/O thread's work runs: a unit test, a fuzz target).
 */
#ifndef KVMINI_VIRTIO_THROTTLE_H
#define KVMINI_VIRTIO_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "rate_limiter.h"

struct virtio_dev;

struct virtio_throttle {
	struct rate_limiter rl;
	struct virtio_dev *dev;
	unsigned queue;
	int timer_fd; /* -1 until the queue first waits */
	bool waiting; /* for timer_fd: the queue takes nothing until it fires or the limiter is updated */
};

void virtio_throttle_init(struct virtio_throttle *t, struct virtio_dev *dev, unsigned queue,
			  const struct rate_limiter_config *c);
/*
 * Whether the queue may serve a request of `ops` operations and `bytes`
 * bytes now; if not, the queue waits (the device leaves the chain in the
 * ring). virtio_throttle_charge then takes what the request cost. A request
 * whose size is known only once served (a received frame) asks with bytes
 * 0 and is charged with its size after.
 */
bool virtio_throttle_allow(struct virtio_throttle *t, uint64_t ops, uint64_t bytes);
void virtio_throttle_charge(struct virtio_throttle *t, uint64_t ops, uint64_t bytes);
/* Both for a request whose cost is known: whether it may go, charged if so. */
bool virtio_throttle_take(struct virtio_throttle *t, uint64_t ops, uint64_t bytes);
/* Whether the queue waits for its timer (its kicks can be ignored). */
bool virtio_throttle_waiting(const struct virtio_throttle *t);
/* A new limiter (PATCH after boot) takes effect now: a waiting queue is looked at again. */
void virtio_throttle_update(struct virtio_throttle *t, const struct rate_limiter_update *u);
/* Takes the timer off the I/O thread and closes it (device teardown). */
void virtio_throttle_close(struct virtio_throttle *t);

#endif
