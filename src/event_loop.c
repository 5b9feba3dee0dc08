// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "clock.h"
#include "event_loop.h"

int event_loop_init(struct event_loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epfd < 0 ? -errno : 0;
}

void event_loop_close(struct event_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

static struct event_source *find(struct event_loop *loop, int fd)
{
	for (unsigned i = 0; i < loop->nr; i++)
		if (loop->sources[i].fd == fd)
			return &loop->sources[i];
	return NULL;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *ctx)
{
	struct event_source *s;
	struct epoll_event ev = { .events = events };

	if (find(loop, fd))
		return -EEXIST;
	if (loop->nr == EVENT_LOOP_MAX)
		return -ENOSPC;
	s = &loop->sources[loop->nr];
	*s = (struct event_source){ .fd = fd, .fn = fn, .ctx = ctx };
	ev.data.fd = fd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	loop->nr++;
	return 0;
}

int event_loop_set_events(struct event_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int event_loop_remove(struct event_loop *loop, int fd)
{
	struct event_source *s = find(loop, fd);

	if (!s)
		return -ENOENT;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	*s = loop->sources[--loop->nr];
	return 0;
}

void event_loop_dispatch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event events[EVENT_LOOP_MAX];
	int n = epoll_wait(loop->epfd, events, EVENT_LOOP_MAX, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct event_source *s = find(loop, events[i].data.fd);

		if (s)
			s->fn(s->ctx, events[i].events);
	}
}

void event_loop_run(struct event_loop *loop, int tick_ms, void (*tick)(void *ctx), void *ctx)
{
	uint64_t next_tick = monotonic_ms() + tick_ms;

	while (!loop->done) {
		int64_t wait = (int64_t)(next_tick - monotonic_ms());

		event_loop_dispatch(loop, wait > 0 ? (int)wait : 0);
		if (monotonic_ms() >= next_tick) {
			tick(ctx);
			next_tick = monotonic_ms() + tick_ms;
		}
	}
}
