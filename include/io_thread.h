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
	bool started; /* written under call_lock, so a caller of io_thread_call sees whether to run fn itself */
	bool stop_wanted; /* atomic: io_thread_stop is waiting, so long device work yields between chains */
	/* io_thread_call: one call at a time, handed over through call_fd. */
	pthread_mutex_t call_lock;
	pthread_cond_t call_cond; /* CLOCK_MONOTONIC; broadcast when a call is done or the thread stops */
	int call_fd;              /* eventfd: a call is waiting */
	int (*call_fn)(void *arg); /* the waiting call; NULL when none */
	void *call_arg;
	bool call_taken;          /* the thread is running call_fn: it can no longer be withdrawn */
	bool call_done;
	int call_result;
};

int io_thread_init(struct io_thread *io);
/*
 * fn(ctx, events) runs on the I/O thread whenever fd has `events`. Only
 * before io_thread_start, or from the I/O thread itself (a device's
 * callback adding a source it needs only now: a rate limiter's timer).
 */
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

/*
 * Runs fn(arg) where device state may be touched from another thread (the
 * API's: a PATCH of a running device, the balloon's statistics): on the I/O
 * thread between two callbacks, or on the caller's thread while the I/O
 * thread is not running (before the start, while paused). Waits at most
 * timeout_ms for the thread to take it: -ETIMEDOUT, fn not run; once taken
 * it waits for fn, which must be short. Returns fn's result. Calls from
 * several threads are taken one at a time.
 */
int io_thread_call(struct io_thread *io, int (*fn)(void *arg), void *arg, int timeout_ms);

#endif
