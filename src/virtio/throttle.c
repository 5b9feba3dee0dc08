// SPDX-License-Identifier: Apache-2.0
/* A virtio queue under a rate limiter: see include/virtio/throttle.h. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "clock.h"
#include "io_thread.h"
#include "virtio/throttle.h"
#include "virtio/virtio.h"

void virtio_throttle_init(struct virtio_throttle *t, struct virtio_dev *dev, unsigned queue,
			  const struct rate_limiter_config *c)
{
	*t = (struct virtio_throttle){ .dev = dev, .queue = queue, .timer_fd = -1 };
	if (rate_limiter_config_active(c))
		rate_limiter_init(&t->rl, c, monotonic_ns());
}

/* The tokens are there (or the limiter changed): the queue takes chains again. I/O thread. */
static void throttle_on_timer(void *ctx, uint32_t events)
{
	struct virtio_throttle *t = ctx;
	struct virtio_dev *dev = t->dev;
	uint64_t expirations;

	(void)events;
	if (read(t->timer_fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	pthread_mutex_lock(&dev->lock);
	if (t->waiting) {
		t->waiting = false;
		if (virtio_device_live(dev) && dev->vqs[t->queue].started)
			dev->ops->queue_notify(dev, t->queue);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* The timer fires in wait_ns; made on first use. */
static int throttle_arm(struct virtio_throttle *t, uint64_t wait_ns)
{
	struct itimerspec when = { .it_value = { .tv_sec = (time_t)(wait_ns / 1000000000),
						  .tv_nsec = (long)(wait_ns % 1000000000) } };
	int err;

	if (t->timer_fd < 0) {
		t->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (t->timer_fd < 0)
			return -errno;
		if ((err = io_thread_add(t->dev->host->io, t->timer_fd, EPOLLIN, throttle_on_timer, t))) {
			close(t->timer_fd);
			t->timer_fd = -1;
			return err;
		}
	}
	return timerfd_settime(t->timer_fd, 0, &when, NULL) ? -errno : 0;
}

bool virtio_throttle_allow(struct virtio_throttle *t, uint64_t ops, uint64_t bytes)
{
	uint64_t wait;
	int err;

	if (t->waiting)
		return false;
	if (!rate_limiter_active(&t->rl))
		return true;
	wait = rate_limiter_wait(&t->rl, ops, bytes, monotonic_ns());
	if (wait && (err = throttle_arm(t, wait))) {
		/* Nothing would wake the queue: better unlimited than stalled for good. */
		log_limited(&t->dev->error_log, "%s: queue %u: no timer for its rate limiter (%s); not limited",
			    t->dev->name, t->queue, strerror(-err));
		wait = 0;
	}
	if (!wait)
		return true;
	t->waiting = true;
	t->dev->throttled++;
	return false;
}

void virtio_throttle_charge(struct virtio_throttle *t, uint64_t ops, uint64_t bytes)
{
	if (rate_limiter_active(&t->rl))
		rate_limiter_charge(&t->rl, ops, bytes, monotonic_ns());
}

bool virtio_throttle_take(struct virtio_throttle *t, uint64_t ops, uint64_t bytes)
{
	if (!virtio_throttle_allow(t, ops, bytes))
		return false;
	virtio_throttle_charge(t, ops, bytes);
	return true;
}

bool virtio_throttle_waiting(const struct virtio_throttle *t)
{
	return t->waiting;
}

void virtio_throttle_update(struct virtio_throttle *t, const struct rate_limiter_update *u)
{
	rate_limiter_update(&t->rl, u, monotonic_ns());
	if (!t->waiting)
		return;
	/*
	 * Looked at again by a kick rather than here: this may run on the API's
	 * thread while the VM is paused. The old expiry, if it still comes,
	 * finds the queue not waiting, or is replaced by a new one.
	 */
	t->waiting = false;
	virtio_queue_kick(t->dev, t->queue);
}

void virtio_throttle_close(struct virtio_throttle *t)
{
	if (t->timer_fd < 0)
		return;
	event_loop_remove(&t->dev->host->io->loop, t->timer_fd);
	close(t->timer_fd);
	t->timer_fd = -1;
}
