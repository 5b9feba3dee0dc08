// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"
#include "log.h"

#define CONSOLE_OUT_BUF 8192
/*
 * How long guest output may wait for the host's stdout to take anything.
 * Past that, stdout is stalled (a pipe nobody reads, a terminal on XOFF):
 * guest output is dropped, and counted, until stdout takes some again, so a
 * vCPU never waits on it for longer, and a pause or stop always gets through.
 */
#define CONSOLE_STALL_MS 1000
#define CONSOLE_LINE_MAX 512
#define CONSOLE_IN_BUF 4096
#define CONSOLE_MAX_WATCHERS 4

struct console {
	int in_fd, out_fd;
	bool tty;
	bool raw;
	struct termios saved;
	pthread_mutex_t lock;

	uint8_t out[CONSOLE_OUT_BUF];
	size_t out_len;
	bool out_broken;
	bool out_stalled;     /* see CONSOLE_STALL_MS */
	uint64_t out_dropped; /* bytes dropped since stdout stalled */
	/* A device told that the console had no room (console_has_room) is called back once it has. */
	bool room_wanted;
	console_room_fn on_room;
	void *room_ctx;
	bool mid_line; /* the guest's last byte out was not a newline */
	uint64_t first_output_ns;
	char line[CONSOLE_LINE_MAX];
	size_t line_len;
	struct {
		console_line_fn fn;
		void *ctx;
	} watchers[CONSOLE_MAX_WATCHERS];
	unsigned nr_watchers;

	/* The input side is used only by the main thread, so it takes no lock: the console
	 * device's input callback takes its own, and the device calls console_write under it. */
	console_input_fn input;
	void *input_ctx;
	uint8_t held[2 * CONSOLE_IN_BUF]; /* filtered input the guest has not taken yet */
	size_t held_off, held_len;
	struct console_escape escape;
	bool quit;
};

size_t console_escape_filter(struct console_escape *st, const uint8_t *in, size_t len, uint8_t *out, bool *quit)
{
	size_t n = 0;

	for (size_t i = 0; i < len && !*quit; i++) {
		if (!st->armed) {
			if (in[i] == CONSOLE_ESCAPE_KEY)
				st->armed = true;
			else
				out[n++] = in[i];
			continue;
		}
		st->armed = false;
		if (in[i] == 'x' || in[i] == 'X')
			*quit = true;
		else if (in[i] == CONSOLE_ESCAPE_KEY)
			out[n++] = CONSOLE_ESCAPE_KEY;
		else {
			/* Not a command: pass both keys on, so nothing typed is lost. */
			out[n++] = CONSOLE_ESCAPE_KEY;
			out[n++] = in[i];
		}
	}
	return n;
}

int console_open(struct console **out, int in_fd, int out_fd)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	pthread_mutex_init(&c->lock, NULL);
	c->tty = isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0;
	*out = c;
	return 0;
}

int console_enter_raw(struct console *c)
{
	struct termios raw;

	if (!c->tty || c->raw)
		return 0;
	raw = c->saved;
	cfmakeraw(&raw);
	if (tcsetattr(c->in_fd, TCSAFLUSH, &raw))
		return -errno;
	c->raw = true;
	log_set_raw_terminal(true);
	return 0;
}

void console_leave_raw(struct console *c)
{
	if (!c->raw)
		return;
	/* kvmini's closing message should not start after a guest's unfinished line (a prompt). */
	if (c->mid_line)
		console_write(c, (const uint8_t *)"\r\n", 2);
	console_drain(c);
	tcsetattr(c->in_fd, TCSAFLUSH, &c->saved);
	c->raw = false;
	log_set_raw_terminal(false);
}

/*
 * Writes out buffered output for up to timeout_ms (0: only what stdout takes
 * at once), until the buffer is empty or, unless `all`, some of it went.
 * Each write is at most PIPE_BUF bytes after poll said writable, which a
 * pipe or terminal takes without blocking even when stdout is a blocking fd
 * (it is not ours to make non-blocking). Returns the bytes written.
 */
static size_t drain_locked(struct console *c, int timeout_ms, bool all)
{
	uint64_t deadline = monotonic_ms() + (uint64_t)timeout_ms;
	size_t done = 0;

	while (c->out_len && !c->out_broken && (all || !done)) {
		struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
		int64_t left = (int64_t)(deadline - monotonic_ms());
		int ready = poll(&p, 1, left > 0 ? (int)left : 0);
		ssize_t n;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			break;
		n = write(c->out_fd, c->out, c->out_len < PIPE_BUF ? c->out_len : PIPE_BUF);
		if (n > 0) {
			memmove(c->out, c->out + n, c->out_len - (size_t)n);
			c->out_len -= (size_t)n;
			done += (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!timeout_ms)
				break;
		} else {
			c->out_broken = true;
			c->out_len = 0;
			log_error("guest console output stopped: %s", n ? strerror(errno) : "stdout took nothing");
		}
	}
	if (done && c->out_stalled) {
		c->out_stalled = false;
		log_error("guest console: stdout takes output again; %llu bytes of guest output were dropped",
			  (unsigned long long)c->out_dropped);
		c->out_dropped = 0;
	}
	return done;
}

/* The buffer is full: waits (boundedly) for stdout to take some, or drops from now on (CONSOLE_STALL_MS). */
static void make_room_locked(struct console *c)
{
	if (drain_locked(c, c->out_stalled ? 0 : CONSOLE_STALL_MS, false) || c->out_stalled || c->out_broken)
		return;
	c->out_stalled = true;
	log_error("guest console: stdout took nothing for %d ms; dropping guest output until it does",
		  CONSOLE_STALL_MS);
}

static bool has_room_locked(const struct console *c)
{
	/* Stalled or broken, output is dropped anyway: the guest need not wait for it. */
	return c->out_len < sizeof(c->out) || c->out_stalled || c->out_broken;
}

/* Drains, then tells a device that was turned away that it may send again (outside the lock: it takes its own). */
static void flush_for(struct console *c, int timeout_ms)
{
	console_room_fn notify = NULL;
	void *ctx = NULL;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	drain_locked(c, timeout_ms, true);
	if (c->room_wanted && has_room_locked(c)) {
		c->room_wanted = false;
		notify = c->on_room;
		ctx = c->room_ctx;
	}
	pthread_mutex_unlock(&c->lock);
	if (notify)
		notify(ctx);
}

void console_flush(struct console *c)
{
	flush_for(c, 0);
}

void console_drain(struct console *c)
{
	flush_for(c, CONSOLE_STALL_MS);
}

bool console_has_room(struct console *c)
{
	bool room;

	pthread_mutex_lock(&c->lock);
	if (c->out_len == sizeof(c->out))
		drain_locked(c, 0, false);
	room = has_room_locked(c);
	if (!room)
		c->room_wanted = true;
	pthread_mutex_unlock(&c->lock);
	return room;
}

void console_set_room_callback(struct console *c, console_room_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->on_room = fn;
	c->room_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

static void end_line(struct console *c)
{
	while (c->line_len && c->line[c->line_len - 1] == '\r')
		c->line_len--;
	c->line[c->line_len] = '\0';
	for (unsigned i = 0; i < c->nr_watchers; i++)
		c->watchers[i].fn(c->watchers[i].ctx, c->line, c->line_len);
	c->line_len = 0;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	bool newline = false;

	pthread_mutex_lock(&c->lock);
	if (!c->first_output_ns && len)
		c->first_output_ns = monotonic_ns();
	for (size_t i = 0; i < len; i++) {
		if (c->out_len == sizeof(c->out))
			make_room_locked(c);
		if (c->out_len < sizeof(c->out))
			c->out[c->out_len++] = buf[i];
		else if (!c->out_broken)
			c->out_dropped++;
		c->mid_line = buf[i] != '\n';
		if (buf[i] == '\n') {
			newline = true;
			end_line(c);
		} else if (c->line_len < CONSOLE_LINE_MAX - 1) {
			c->line[c->line_len++] = buf[i];
		}
	}
	/* Whole lines go out at once, as far as stdout takes them; partial ones (a prompt, an echo) on the next tick. */
	if (newline)
		drain_locked(c, 0, true);
	pthread_mutex_unlock(&c->lock);
}

uint64_t console_first_output_ns(struct console *c)
{
	uint64_t t;

	pthread_mutex_lock(&c->lock);
	t = c->first_output_ns;
	pthread_mutex_unlock(&c->lock);
	return t;
}

int console_add_line_watcher(struct console *c, console_line_fn fn, void *ctx)
{
	int err = 0;

	pthread_mutex_lock(&c->lock);
	if (c->nr_watchers == CONSOLE_MAX_WATCHERS)
		err = -ENOSPC;
	else
		c->watchers[c->nr_watchers++] = (typeof(c->watchers[0])){ fn, ctx };
	pthread_mutex_unlock(&c->lock);
	return err;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	console_leave_raw(c);
	console_drain(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void console_set_input(struct console *c, console_input_fn fn, void *ctx)
{
	c->input = fn;
	c->input_ctx = ctx;
}

int console_input_fd(const struct console *c)
{
	return c->in_fd;
}

bool console_quit_requested(const struct console *c)
{
	return c->quit;
}

bool console_retry_input(struct console *c)
{
	if (c->held_len && c->input) {
		size_t taken = c->input(c->input_ctx, c->held + c->held_off, c->held_len);

		c->held_off += taken;
		c->held_len -= taken;
	}
	if (!c->held_len)
		c->held_off = 0;
	return c->held_len != 0;
}

bool console_read_input(struct console *c)
{
	uint8_t raw[CONSOLE_IN_BUF];
	ssize_t n;

	/* Read only when everything before has been taken, so input keeps its order and is never dropped. */
	if (console_retry_input(c))
		return true;
	n = read(c->in_fd, raw, sizeof(raw));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (c->tty)
		c->held_len = console_escape_filter(&c->escape, raw, n, c->held, &c->quit);
	else {
		memcpy(c->held, raw, n);
		c->held_len = n;
	}
	console_retry_input(c);
	return true;
}
