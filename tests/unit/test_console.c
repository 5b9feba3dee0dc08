// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

#define CTRL_A "\x01"

struct filter {
	struct console_escape st;
	bool quit;
	uint8_t out[64];
	size_t n;
};

/* Runs one chunk of input through the filter; out holds what the guest would get. */
static size_t feed(struct filter *f, const char *in)
{
	size_t len = strlen(in);

	assert_true(2 * len <= sizeof(f->out));
	memset(f->out, 0xee, sizeof(f->out));
	f->n = console_escape_filter(&f->st, (const uint8_t *)in, len, f->out, &f->quit);
	return f->n;
}

static void expect_out(const struct filter *f, const char *want)
{
	assert_int_equal(f->n, strlen(want));
	assert_memory_equal(f->out, want, f->n);
}

static void test_plain_bytes_pass(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, "hello\r\n\x1b[A\x7f");
	expect_out(&f, "hello\r\n\x1b[A\x7f");
	assert_false(f.quit);
	assert_false(f.st.armed);
}

static void test_empty_input(void **state)
{
	struct filter f = { 0 };
	(void)state;

	assert_int_equal(feed(&f, ""), 0);
	assert_false(f.quit);
}

static void test_ctrl_a_x_quits(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, "ab" CTRL_A "xcd");
	expect_out(&f, "ab");
	assert_true(f.quit);
	assert_false(f.st.armed);
}

static void test_ctrl_a_capital_x_quits(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, CTRL_A "X" "more");
	expect_out(&f, "");
	assert_true(f.quit);
}

/* Once quit is set, nothing more is consumed, in this call or the next. */
static void test_quit_stops_consuming(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, CTRL_A "x" CTRL_A CTRL_A "zz");
	expect_out(&f, "");
	assert_true(f.quit);
	assert_int_equal(feed(&f, "after"), 0);
	assert_int_equal(f.out[0], 0xee);
}

static void test_ctrl_a_ctrl_a_sends_one(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, "a" CTRL_A CTRL_A "b");
	expect_out(&f, "a" CTRL_A "b");
	assert_false(f.quit);
	assert_false(f.st.armed);

	feed(&f, CTRL_A CTRL_A CTRL_A CTRL_A);
	expect_out(&f, CTRL_A CTRL_A);
}

static void test_ctrl_a_other_key_passes_both(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, CTRL_A "c" CTRL_A "y");
	expect_out(&f, CTRL_A "c" CTRL_A "y");
	assert_false(f.quit);
}

/* A key after an escape armed by the previous read: two bytes out for one in, the most there can be. */
static void test_output_at_most_twice_input(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, "q" CTRL_A);
	expect_out(&f, "q");
	assert_true(f.st.armed);
	assert_int_equal(feed(&f, "q"), 2);
	expect_out(&f, CTRL_A "q");
}

static void test_escape_split_across_reads(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, "ab" CTRL_A);
	expect_out(&f, "ab");
	assert_true(f.st.armed);
	feed(&f, "x");
	expect_out(&f, "");
	assert_true(f.quit);
}

static void test_split_ctrl_a_ctrl_a(void **state)
{
	struct filter f = { 0 };
	(void)state;

	feed(&f, CTRL_A);
	expect_out(&f, "");
	feed(&f, CTRL_A "z");
	expect_out(&f, CTRL_A "z");
	assert_false(f.st.armed);
	assert_false(f.quit);
}

/* ---- output: bounded waits and back-pressure ---- */

struct room_calls {
	unsigned n;
};

static void count_room(void *ctx)
{
	((struct room_calls *)ctx)->n++;
}

/* A console writing into a pipe that nobody reads yet; the pipe is blocking, as a shell's would be. */
static struct console *console_on_pipe(int fds[2])
{
	struct console *c;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(console_open(&c, -1, fds[1]), 0);
	return c;
}

/* Reads everything the pipe holds now; returns how much. */
static size_t read_pipe(int fd, uint8_t *into, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < cap && (n = read(fd, into + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

static void test_output_to_unread_pipe_does_not_block(void **state)
{
	static uint8_t chunk[4096];
	struct room_calls calls = { 0 };
	int fds[2];
	struct console *c = console_on_pipe(fds);
	(void)state;

	console_set_room_callback(c, count_room, &calls);
	memset(chunk, 'x', sizeof(chunk));
	/* A watchdog, not a speed check: before the fix this write blocked forever. */
	alarm(20);
	/* Far more than the pipe (64 KiB) and the console's buffer hold: the rest is dropped, not waited for. */
	for (unsigned i = 0; i < 64; i++)
		console_write(c, chunk, sizeof(chunk));
	alarm(0);
	/* Stalled: the guest is not held back any more (its output is dropped until stdout moves). */
	assert_true(console_has_room(c));
	console_close(c);
	close(fds[0]);
}

static void test_full_console_pushes_back_until_stdout_takes_more(void **state)
{
	static uint8_t chunk[1024], out[256 * 1024];
	struct room_calls calls = { 0 };
	int fds[2];
	struct console *c = console_on_pipe(fds);
	size_t written = 0, got;
	(void)state;

	console_set_room_callback(c, count_room, &calls);
	memset(chunk, 'y', sizeof(chunk));
	/* Fill the pipe and then the console's buffer, asking for room first as the UART does. */
	alarm(20);
	while (console_has_room(c)) {
		console_write(c, chunk, sizeof(chunk));
		written += sizeof(chunk);
		assert_true(written < sizeof(out));
	}
	alarm(0);
	assert_int_equal(calls.n, 0);
	console_flush(c);
	assert_int_equal(calls.n, 0); /* still full: no call yet */
	/* The reader catches up: the next flush moves the rest and tells the device it may send again. */
	got = read_pipe(fds[0], out, sizeof(out));
	console_flush(c);
	assert_int_equal(calls.n, 1);
	got += read_pipe(fds[0], out + got, sizeof(out) - got);
	/* Back-pressure lost nothing: every byte written before the device was turned away arrived. */
	assert_true(got >= written - sizeof(chunk));
	for (size_t i = 0; i < got; i++)
		assert_int_equal(out[i], 'y');
	console_close(c);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes_pass),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_ctrl_a_x_quits),
		cmocka_unit_test(test_ctrl_a_capital_x_quits),
		cmocka_unit_test(test_quit_stops_consuming),
		cmocka_unit_test(test_ctrl_a_ctrl_a_sends_one),
		cmocka_unit_test(test_ctrl_a_other_key_passes_both),
		cmocka_unit_test(test_output_at_most_twice_input),
		cmocka_unit_test(test_escape_split_across_reads),
		cmocka_unit_test(test_split_ctrl_a_ctrl_a),
		cmocka_unit_test(test_output_to_unread_pipe_does_not_block),
		cmocka_unit_test(test_full_console_pushes_back_until_stdout_takes_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
