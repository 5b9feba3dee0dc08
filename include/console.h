/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the guest console: guest output to stdout, host input to
 * the guest's console device. On a terminal, raw mode and the Ctrl-A escape:
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A.
 *
 * Output is buffered and never blocks without bound: when the buffer is full
 * a writer waits for stdout at most CONSOLE_STALL_MS (console.c); if stdout
 * took nothing in that time it is stalled, and guest output is dropped, with
 * a line on stderr saying so and how much, until stdout takes some again.
 * Devices avoid that by back-pressure: console_has_room before they send
 * (the UART's transmit-empty bit), and a callback when room comes back.
 */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct console;

/* Sees every complete line the guest prints (without the line ending); runs under the console lock. */
typedef void (*console_line_fn)(void *ctx, const char *line, size_t len);
/* Takes input for the guest; returns how many bytes it accepted. */
typedef size_t (*console_input_fn)(void *ctx, const uint8_t *buf, size_t len);

int console_open(struct console **out, int in_fd, int out_fd);
/* Flushes and, if it was changed, puts the terminal back as it was. */
void console_close(struct console *c);
/* On a terminal: raw mode while the guest owns it (kvmini's own messages then end in CR LF). */
int console_enter_raw(struct console *c);
void console_leave_raw(struct console *c);

/* Called (without the console lock) once a device that console_has_room turned away may send again. */
typedef void (*console_room_fn)(void *ctx);

void console_write(struct console *c, const uint8_t *buf, size_t len);
/* Whether output written now goes into the buffer without waiting; if not, the room callback follows later. */
bool console_has_room(struct console *c);
void console_set_room_callback(struct console *c, console_room_fn fn, void *ctx);
/* monotonic_ns() of the guest's first console byte, 0 if none yet. */
uint64_t console_first_output_ns(struct console *c);
/* Writes out what stdout takes at once (the main loop's tick), and calls the room callback when due. */
void console_flush(struct console *c);
/* The same, waiting up to CONSOLE_STALL_MS for stdout to take everything: at the end of a run. */
void console_drain(struct console *c);
int console_add_line_watcher(struct console *c, console_line_fn fn, void *ctx);

void console_set_input(struct console *c, console_input_fn fn, void *ctx);
int console_input_fd(const struct console *c);
/* Reads what is ready on the input fd. Returns false once input has ended (EOF). */
bool console_read_input(struct console *c);
/* Offers held-back input to the guest again; true while some is still held back. */
bool console_retry_input(struct console *c);
bool console_quit_requested(const struct console *c);

/* The escape filter on its own, for tests: returns the bytes to pass on (at most 2 per input byte). */
struct console_escape {
	bool armed;
};
size_t console_escape_filter(struct console_escape *st, const uint8_t *in, size_t len, uint8_t *out, bool *quit);

#define CONSOLE_ESCAPE_KEY 0x01 /* Ctrl-A */

#endif
