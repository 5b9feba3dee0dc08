/* SPDX-License-Identifier: Apache-2.0 */
/* The main thread's epoll loop: file descriptors with callbacks, plus a periodic tick. */
#ifndef KVMINI_EVENT_LOOP_H
#define KVMINI_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *ctx, uint32_t events);

/*
 * The I/O thread's loop holds the most: every queue's kick eventfd, the
 * taps, and a timer for each rate-limited queue (16 drives, 4 interfaces
 * with two each, the shares' queues).
 */
#define EVENT_LOOP_MAX 128

struct event_loop {
	int epfd;
	bool done;
	unsigned nr;
	struct event_source {
		int fd;
		event_fn fn;
		void *ctx;
	} sources[EVENT_LOOP_MAX];
};

int event_loop_init(struct event_loop *loop);
void event_loop_close(struct event_loop *loop);
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *ctx);
/* Changes what fd waits for; 0 pauses it without removing it. */
int event_loop_set_events(struct event_loop *loop, int fd, uint32_t events);
int event_loop_remove(struct event_loop *loop, int fd);
/* Waits up to timeout_ms for events and calls their callbacks, once. */
void event_loop_dispatch(struct event_loop *loop, int timeout_ms);
/* Runs until loop->done, calling tick(ctx) about every tick_ms. */
void event_loop_run(struct event_loop *loop, int tick_ms, void (*tick)(void *ctx), void *ctx);

#endif
