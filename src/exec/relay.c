// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include "clock.h"
#include "exec/relay.h"

/* Once the VM has ended, how long stdout or stderr may take nothing before the rest of the output is left. */
#define STALL_MS 2000
/* The most written to stdout or stderr at once: a pipe that polled writable takes this much without blocking. */
#define WRITE_MAX 4096

int exec_frame_parse(const uint8_t *buf, size_t len, struct exec_frame *f)
{
	if (len < sizeof(*f))
		return 0;
	memcpy(f, buf, sizeof(*f));
	if (f->len > EXEC_FRAME_MAX)
		return -EPROTO;
	return len - sizeof(*f) >= f->len;
}

static void consume(struct exec_relay *r, size_t n)
{
	memmove(r->in, r->in + n, r->in_len - n);
	r->in_len -= n;
	r->written = 0;
}

static void broken(struct exec_relay *r, const char *what, unsigned value)
{
	r->broken = true;
	snprintf(r->problem, sizeof(r->problem), "%s %u", what, value);
}

/* A frame that needs no output fd: what it says is kept for the caller. */
static void take(struct exec_relay *r, const struct exec_frame *f, const uint8_t *payload)
{
	switch (f->type) {
	case EXEC_STARTED:
		r->started = true;
		break;
	case EXEC_EXIT:
		if (f->len != sizeof(r->exit))
			return broken(r, "an EXIT frame of length", f->len);
		memcpy(&r->exit, payload, sizeof(r->exit));
		r->exited = true;
		break;
	case EXEC_FAILED:
		snprintf(r->failure, sizeof(r->failure), "%.*s", (int)f->len, (const char *)payload);
		r->failed = true;
		break;
	default:
		broken(r, "a frame of unknown type", f->type);
	}
}

static void queue(struct exec_relay *r, uint32_t type, size_t len)
{
	struct exec_frame f = { .type = type, .len = (uint32_t)len };

	memcpy(r->out, &f, sizeof(f));
	r->out_len = sizeof(f) + len;
	r->out_off = 0;
}

static void queue_winsize(struct exec_relay *r)
{
	struct winsize ws;
	struct exec_winsize w;

	if (ioctl(r->in_fd, TIOCGWINSZ, &ws))
		return;
	w = (struct exec_winsize){ .rows = ws.ws_row, .cols = ws.ws_col };
	memcpy(r->out + sizeof(struct exec_frame), &w, sizeof(w));
	queue(r, EXEC_WINSIZE, sizeof(w));
}

static struct pollfd watch(int fd, int events)
{
	return (struct pollfd){ .fd = fd, .events = (short)events };
}

enum { P_SOCK, P_WRITE, P_STDIN, P_WINCH, P_DONE, P_COUNT };

void exec_relay_run(struct exec_relay *r)
{
	bool stdin_open = true, sock_eof = false, vm_ended = false, winsize_due = r->tty;
	bool out_dead = false, err_dead = false;
	uint64_t last_progress = 0;

	for (;;) {
		struct pollfd p[P_COUNT];
		struct exec_frame f;
		int wfd = -1, got;

		/* The frames already here, up to one whose output has yet to be written. */
		while (!r->broken && (got = exec_frame_parse(r->in, r->in_len, &f))) {
			bool out = f.type == EXEC_STDOUT || f.type == EXEC_STDERR;

			if (got < 0) {
				broken(r, "a frame of length", f.len);
				break;
			}
			if (out && r->written < f.len && !(f.type == EXEC_STDOUT ? out_dead : err_dead)) {
				wfd = f.type == EXEC_STDOUT ? r->out_fd : r->err_fd;
				break;
			}
			if (!out)
				take(r, &f, r->in + sizeof(f));
			consume(r, sizeof(f) + f.len);
		}
		/* A guest that broke the protocol is not listened to, but is read so that it never waits on us. */
		if (r->broken)
			r->in_len = 0;
		if (sock_eof && wfd < 0)
			return;
		if (vm_ended && monotonic_ms() - last_progress > STALL_MS) {
			r->cut_short = true;
			return;
		}
		if (winsize_due && r->out_off == r->out_len) {
			queue_winsize(r);
			winsize_due = false;
		}
		/* A negative fd is not polled: each source is watched only while there is somewhere for its bytes to go. */
		p[P_SOCK] = watch(r->sock, (!sock_eof && wfd < 0 ? POLLIN : 0) | (r->out_off < r->out_len ? POLLOUT : 0));
		p[P_WRITE] = watch(wfd, POLLOUT);
		p[P_STDIN] = watch(stdin_open && r->out_off == r->out_len && !vm_ended ? r->in_fd : -1, POLLIN);
		p[P_WINCH] = watch(r->winch_fd, POLLIN);
		p[P_DONE] = watch(vm_ended ? -1 : r->done_fd, POLLIN);
		if (poll(p, P_COUNT, vm_ended ? 100 : -1) < 0 && errno != EINTR)
			return;

		if (p[P_DONE].revents) {
			uint64_t count;

			if (read(r->done_fd, &count, sizeof(count)) == sizeof(count)) {
				vm_ended = true;
				last_progress = monotonic_ms();
			}
		}
		if (p[P_WINCH].revents) {
			struct signalfd_siginfo si;

			if (read(r->winch_fd, &si, sizeof(si)) == sizeof(si))
				winsize_due = true;
		}
		if (p[P_WRITE].revents) {
			size_t left = f.len - r->written; /* f: the frame at in's start, whose output is due */
			ssize_t n = write(wfd, r->in + sizeof(struct exec_frame) + r->written, left < WRITE_MAX ? left : WRITE_MAX);

			if (n > 0) {
				r->written += (size_t)n;
				last_progress = monotonic_ms();
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* Nobody reads it any more (a closed pipe): the rest of this stream has nowhere to go. */
				*(wfd == r->out_fd ? &out_dead : &err_dead) = true;
			}
		}
		if (p[P_SOCK].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(r->sock, r->in + r->in_len, sizeof(r->in) - r->in_len);

			if (n > 0) {
				r->in_len += (size_t)n;
				last_progress = monotonic_ms();
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				sock_eof = true;
			}
		}
		if ((p[P_SOCK].revents & POLLOUT) && r->out_off < r->out_len) {
			ssize_t n = write(r->sock, r->out + r->out_off, r->out_len - r->out_off);

			if (n > 0)
				r->out_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				r->out_off = r->out_len = 0; /* the guest is gone; so is what it would have read */
		}
		if (p[P_STDIN].revents) {
			ssize_t n = read(r->in_fd, r->out + sizeof(struct exec_frame), sizeof(r->out) - sizeof(struct exec_frame));

			if (n > 0) {
				queue(r, EXEC_STDIN, (size_t)n);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				/* On a terminal, Ctrl-D is a byte for the guest's own terminal; the end of ours says nothing. */
				stdin_open = false;
				if (!r->tty)
					queue(r, EXEC_STDIN_EOF, 0);
			}
		}
	}
}
