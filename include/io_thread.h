/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The I/O thread: device work (virtqueue kicks through ioeventfds, tap
 * input, disk requests) runs here, driven by epoll, so a vCPU thread never
 * waits on a disk or the network. Sources are added while the VM is built;
 * the thread runs from vm_start to vm_join, and is stopped while the VM is
 * paused: each callback runs to completion, so between two of them no device
 * is mid-request, and events that arrive meanwhile wait in their fds.
 */
#ifndef KVMINI_IO_THREAD_H
#define KVMINI_IO_THREAD_H

#include <pthread.h>
#include <stdbool.h>

#include "event_loop.h"

struct io_thread {
	struct event_loop loop;
	int wake_fd; /* eventfd: ends the thread */
	pthread_t thread;
	bool started;
	bool stop_wanted; /* atomic: io_thread_stop is waiting, so long device work yields between chains */
};

int io_thread_init(struct io_thread *io);
/* fn(ctx, events) runs on the I/O thread whenever fd has `events`. Only before io_thread_start. */
int io_thread_add(struct io_thread *io, int fd, uint32_t events, event_fn fn, void *ctx);
/* Starts the thread; again after io_thread_stop (a no-op while it runs). */
int io_thread_start(struct io_thread *io);
/*
 * Ends the thread and waits for it; the sources stay registered until
 * io_thread_close. Device work sees io_thread_stop_wanted and yields after
 * the chain it is on, so the wait is at most one request long.
 */
void io_thread_stop(struct io_thread *io);
/* Whether io_thread_stop is waiting for the thread: device work should leave the rest for the next start. */
bool io_thread_stop_wanted(const struct io_thread *io);
void io_thread_close(struct io_thread *io);

#endif
