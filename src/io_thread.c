// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
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

int io_thread_init(struct io_thread *io)
{
	int err;

	io->started = false;
	io->stop_wanted = false;
	io->wake_fd = -1;
	if ((err = event_loop_init(&io->loop)))
		return err;
	io->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->wake_fd < 0)
		return -errno;
	return event_loop_add(&io->loop, io->wake_fd, EPOLLIN, io_thread_wake, io);
}

int io_thread_add(struct io_thread *io, int fd, uint32_t events, event_fn fn, void *ctx)
{
	return io->started ? -EBUSY : event_loop_add(&io->loop, fd, events, fn, ctx);
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
	err = thread_start(&io->thread, io_thread_main, io);
	if (err)
		return err;
	io->started = true;
	return 0;
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
	io->started = false;
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
	io->wake_fd = -1;
}
