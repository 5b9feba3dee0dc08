// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "io_thread.h"
#include "jail.h"
#include "log.h"
#include "thread.h"

/* Device work is driven by its fds alone; the loop's periodic tick has nothing to do here. */
#define IO_THREAD_TICK_MS 1000

static void io_thread_idle(void *ctx)
{
	(void)ctx;
}

static void io_thread_wake(void *ctx, uint32_t events)
{
	struct io_thread *io = ctx;
	uint64_t count;

	(void)events;
	/* Consumed, so that a thread started again (after a pause) does not see the old wake-up. */
	(void)!read(io->wake_fd, &count, sizeof(count));
	io->loop.done = true;
}

/* A call handed over by io_thread_call: run between two callbacks. */
static void io_thread_take_call(void *ctx, uint32_t events)
{
	struct io_thread *io = ctx;
	uint64_t count;
	int result;

	(void)events;
	(void)!read(io->call_fd, &count, sizeof(count));
	pthread_mutex_lock(&io->call_lock);
	if (!io->call_fn || io->call_taken) {
		pthread_mutex_unlock(&io->call_lock);
		return;
	}
	io->call_taken = true;
	pthread_mutex_unlock(&io->call_lock);
	result = io->call_fn(io->call_arg);
	pthread_mutex_lock(&io->call_lock);
	io->call_result = result;
	io->call_done = true;
	pthread_cond_broadcast(&io->call_cond);
	pthread_mutex_unlock(&io->call_lock);
}

int io_thread_init(struct io_thread *io)
{
	pthread_condattr_t attr;
	int err;

	io->started = false;
	io->stop_wanted = false;
	io->wake_fd = io->call_fd = -1;
	io->call_fn = NULL;
	pthread_mutex_init(&io->call_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&io->call_cond, &attr);
	pthread_condattr_destroy(&attr);
	if ((err = event_loop_init(&io->loop)))
		return err;
	io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	io->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->wake_fd < 0 || io->call_fd < 0)
		return -errno;
	if ((err = event_loop_add(&io->loop, io->wake_fd, EPOLLIN, io_thread_wake, io)))
		return err;
	return event_loop_add(&io->loop, io->call_fd, EPOLLIN, io_thread_take_call, io);
}

int io_thread_add(struct io_thread *io, int fd, uint32_t events, event_fn fn, void *ctx)
{
	if (io->started && !pthread_equal(pthread_self(), io->thread))
		return -EBUSY;
	return event_loop_add(&io->loop, fd, events, fn, ctx);
}

static void *io_thread_main(void *arg)
{
	struct io_thread *io = arg;
	const char *what;
	int err;

	if ((err = jail_enter(SECCOMP_IO, &what))) {
		log_error("I/O thread: cannot confine it: %s: %s; device work stops", what, strerror(-err));
		return NULL;
	}
	event_loop_run(&io->loop, IO_THREAD_TICK_MS, io_thread_idle, io);
	return NULL;
}

int io_thread_start(struct io_thread *io)
{
	int err;

	if (io->started)
		return 0;
	io->loop.done = false;
	__atomic_store_n(&io->stop_wanted, false, __ATOMIC_RELAXED);
	/* Under call_lock: a call running on a caller's thread (the thread was stopped) finishes first. */
	pthread_mutex_lock(&io->call_lock);
	err = thread_start(&io->thread, io_thread_main, io);
	if (!err)
		io->started = true;
	pthread_mutex_unlock(&io->call_lock);
	return err;
}

void io_thread_stop(struct io_thread *io)
{
	uint64_t one = 1;

	if (!io->started)
		return;
	__atomic_store_n(&io->stop_wanted, true, __ATOMIC_RELAXED);
	/* An eventfd write only fails when the counter would overflow, which one wake-up cannot do. */
	(void)!write(io->wake_fd, &one, sizeof(one));
	pthread_join(io->thread, NULL);
	pthread_mutex_lock(&io->call_lock);
	io->started = false;
	/* A call the thread did not take is now its caller's to run. */
	pthread_cond_broadcast(&io->call_cond);
	pthread_mutex_unlock(&io->call_lock);
}

bool io_thread_stop_wanted(const struct io_thread *io)
{
	return __atomic_load_n(&io->stop_wanted, __ATOMIC_RELAXED);
}

void io_thread_close(struct io_thread *io)
{
	io_thread_stop(io);
	event_loop_close(&io->loop);
	if (io->wake_fd >= 0)
		close(io->wake_fd);
	if (io->call_fd >= 0)
		close(io->call_fd);
	io->wake_fd = io->call_fd = -1;
	pthread_cond_destroy(&io->call_cond);
	pthread_mutex_destroy(&io->call_lock);
}

int io_thread_call(struct io_thread *io, int (*fn)(void *arg), void *arg, int timeout_ms)
{
	struct timespec deadline;
	uint64_t one = 1;
	int result = -ETIMEDOUT;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&io->call_lock);
	/* Another caller's call first. */
	while (io->call_fn)
		if (pthread_cond_timedwait(&io->call_cond, &io->call_lock, &deadline) == ETIMEDOUT && io->call_fn)
			goto out;
	if (!io->started) {
		/* Nothing else touches the devices: run it here, holding the lock so the thread cannot start meanwhile. */
		result = fn(arg);
		goto out;
	}
	io->call_fn = fn;
	io->call_arg = arg;
	io->call_taken = io->call_done = false;
	(void)!write(io->call_fd, &one, sizeof(one));
	for (;;) {
		if (io->call_done) {
			result = io->call_result;
			break;
		}
		if (!io->call_taken && !io->started) {
			result = fn(arg); /* the thread stopped without taking it */
			break;
		}
		/* Once taken, fn is short and runs to its end: wait for it without the deadline. */
		if (io->call_taken) {
			pthread_cond_wait(&io->call_cond, &io->call_lock);
			continue;
		}
		if (pthread_cond_timedwait(&io->call_cond, &io->call_lock, &deadline) == ETIMEDOUT && !io->call_taken &&
		    !io->call_done) {
			result = -ETIMEDOUT;
			break;
		}
	}
	io->call_fn = NULL;
	pthread_cond_broadcast(&io->call_cond);
out:
	pthread_mutex_unlock(&io->call_lock);
	return result;
}
