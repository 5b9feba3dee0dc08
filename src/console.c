// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
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
	console_flush(c);
	tcsetattr(c->in_fd, TCSAFLUSH, &c->saved);
	c->raw = false;
	log_set_raw_terminal(false);
}

static void write_all(struct console *c, const uint8_t *buf, size_t len)
{
	while (len && !c->out_broken) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };

			poll(&p, 1, -1);
		} else if (n < 0 && errno != EINTR) {
			c->out_broken = true;
			log_error("guest console output stopped: %s", strerror(errno));
		}
	}
}

static void flush_locked(struct console *c)
{
	write_all(c, c->out, c->out_len);
	c->out_len = 0;
}

void console_flush(struct console *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	flush_locked(c);
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
			flush_locked(c);
		c->out[c->out_len++] = buf[i];
		c->mid_line = buf[i] != '\n';
		if (buf[i] == '\n') {
			newline = true;
			end_line(c);
		} else if (c->line_len < CONSOLE_LINE_MAX - 1) {
			c->line[c->line_len++] = buf[i];
		}
	}
	/* Whole lines go out at once; partial ones (a prompt, an echo) on the next tick. */
	if (newline)
		flush_locked(c);
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
	console_flush(c);
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
