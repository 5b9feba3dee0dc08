// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini exec's relay (src/exec/relay.c) against a fake guest on the other
 * end of a socketpair: frames to stdout and stderr kept apart and whole,
 * stdin and its end passed on, how the command ended kept, back-pressure
 * without loss, and a broken or stalled peer never hanging it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "exec/relay.h"

#define TEST_TIMEOUT_S 30

struct rig {
	struct exec_relay r;
	int guest;              /* the init's end of the channel (blocking) */
	int stdin_w, stdout_r, stderr_r;
	pthread_t thread;
};

static struct rig *rig;

static void *relay_thread(void *arg)
{
	exec_relay_run(arg);
	return NULL;
}

static int setup(void **state)
{
	int sv[2], in[2], out[2], err[2];

	(void)state;
	alarm(TEST_TIMEOUT_S);
	signal(SIGPIPE, SIG_IGN);
	rig = calloc(1, sizeof(*rig));
	if (!rig || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(in, O_CLOEXEC) ||
	    pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	rig->r.sock = sv[0];
	rig->guest = sv[1];
	rig->r.in_fd = in[0];
	rig->stdin_w = in[1];
	rig->r.out_fd = out[1];
	rig->stdout_r = out[0];
	rig->r.err_fd = err[1];
	rig->stderr_r = err[0];
	rig->r.winch_fd = -1;
	rig->r.done_fd = eventfd(0, EFD_CLOEXEC);
	return pthread_create(&rig->thread, NULL, relay_thread, &rig->r);
}

static int teardown(void **state)
{
	(void)state;
	close(rig->r.sock);
	close(rig->r.in_fd);
	close(rig->r.out_fd);
	close(rig->r.err_fd);
	close(rig->r.done_fd);
	close(rig->stdout_r);
	close(rig->stderr_r);
	if (rig->stdin_w >= 0)
		close(rig->stdin_w);
	free(rig);
	alarm(0);
	return 0;
}

static void send_frame(uint32_t type, const void *data, size_t len)
{
	struct exec_frame f = { .type = type, .len = (uint32_t)len };

	assert_int_equal(write(rig->guest, &f, sizeof(f)), sizeof(f));
	for (size_t off = 0; off < len;) {
		ssize_t n = write(rig->guest, (const uint8_t *)data + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
}

static void read_exactly(int fd, void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = read(fd, (uint8_t *)buf + off, len - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
}

/* The guest is gone: the relay reads to the end of the channel and returns. */
static void guest_ends(void)
{
	close(rig->guest);
	assert_int_equal(pthread_join(rig->thread, NULL), 0);
}

static void test_streams_and_exit(void **state)
{
	const struct exec_exit how = { EXEC_EXITED, 3 };
	struct exec_frame f;
	char buf[16] = { 0 };

	(void)state;
	send_frame(EXEC_STARTED, NULL, 0);
	send_frame(EXEC_STDOUT, "out1 ", 5);
	send_frame(EXEC_STDERR, "err1", 4);
	send_frame(EXEC_STDOUT, "out2", 4);
	assert_int_equal(write(rig->stdin_w, "input", 5), 5);
	close(rig->stdin_w);
	rig->stdin_w = -1;
	/* stdin arrives as a frame, then its end as another. */
	read_exactly(rig->guest, &f, sizeof(f));
	assert_int_equal(f.type, EXEC_STDIN);
	assert_int_equal(f.len, 5);
	read_exactly(rig->guest, buf, 5);
	assert_string_equal(buf, "input");
	read_exactly(rig->guest, &f, sizeof(f));
	assert_int_equal(f.type, EXEC_STDIN_EOF);
	assert_int_equal(f.len, 0);
	send_frame(EXEC_EXIT, &how, sizeof(how));
	guest_ends();
	assert_true(rig->r.started);
	assert_true(rig->r.exited);
	assert_int_equal(rig->r.exit.how, EXEC_EXITED);
	assert_int_equal(rig->r.exit.value, 3);
	assert_false(rig->r.broken);
	memset(buf, 0, sizeof(buf));
	read_exactly(rig->stdout_r, buf, 9);
	assert_string_equal(buf, "out1 out2");
	memset(buf, 0, sizeof(buf));
	read_exactly(rig->stderr_r, buf, 4);
	assert_string_equal(buf, "err1");
}

static void test_failed_text(void **state)
{
	(void)state;
	send_frame(EXEC_FAILED, "mount root: errno 19 (ENODEV)", 29);
	guest_ends();
	assert_true(rig->r.failed);
	assert_false(rig->r.started);
	assert_string_equal(rig->r.failure, "mount root: errno 19 (ENODEV)");
}

struct writer {
	size_t total;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + i / 4093);
}

/* The guest writes 4 MiB of stdout in frames of every size, as fast as the channel takes it. */
static void *guest_writer(void *arg)
{
	struct writer *w = arg;
	static uint8_t chunk[EXEC_FRAME_MAX];
	size_t off = 0, size = 1;

	while (off < w->total) {
		size_t n = size < w->total - off ? size : w->total - off;

		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(off + i);
		send_frame(EXEC_STDOUT, chunk, n);
		off += n;
		size = size * 3 % EXEC_FRAME_MAX + 1;
	}
	close(rig->guest);
	return NULL;
}

/* A reader of stdout much slower than the guest: everything arrives, in order. */
static void test_back_pressure_loses_nothing(void **state)
{
	struct writer w = { .total = 4u << 20 };
	static uint8_t got[4u << 20];
	pthread_t writer;
	size_t have = 0;

	(void)state;
	assert_int_equal(pthread_create(&writer, NULL, guest_writer, &w), 0);
	usleep(100 * 1000); /* let the pipe fill and the relay stop reading */
	while (have < w.total) {
		ssize_t n = read(rig->stdout_r, got + have, w.total - have < 3000 ? w.total - have : 3000);

		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_int_equal(pthread_join(writer, NULL), 0);
	assert_int_equal(pthread_join(rig->thread, NULL), 0);
	for (size_t i = 0; i < w.total; i++)
		if (got[i] != pattern(i))
			fail_msg("byte %zu differs", i);
	rig->guest = -1;
}

/* A frame longer than the protocol allows: the relay says so and still reads the channel to its end. */
static void test_broken_peer(void **state)
{
	struct exec_frame f = { .type = EXEC_STDOUT, .len = EXEC_FRAME_MAX + 1 };
	static uint8_t junk[256 << 10];

	(void)state;
	assert_int_equal(write(rig->guest, &f, sizeof(f)), sizeof(f));
	for (size_t off = 0; off < sizeof(junk);) {
		ssize_t n = write(rig->guest, junk + off, sizeof(junk) - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	guest_ends();
	assert_true(rig->r.broken);
	assert_false(rig->r.exited);
}

/* The VM ended but stdout takes nothing: the relay gives up after a while instead of hanging. */
static void test_stalled_stdout_after_the_end(void **state)
{
	static uint8_t frames[64][sizeof(struct exec_frame) + 4096];
	const uint64_t one = 1;
	size_t sent = 0;

	(void)state;
	for (int i = 0; i < 64; i++)
		memcpy(frames[i], &(struct exec_frame){ .type = EXEC_STDOUT, .len = 4096 }, sizeof(struct exec_frame));
	fcntl(rig->guest, F_SETFL, O_NONBLOCK);
	/* Until the channel is full too: the pipe holds 64 KiB, the relay one frame, the socket the rest. */
	for (;;) {
		ssize_t n = write(rig->guest, (uint8_t *)frames + sent % sizeof(frames),
				  sizeof(frames) - sent % sizeof(frames));

		if (n < 0 && errno == EAGAIN)
			break;
		assert_true(n > 0);
		sent += (size_t)n;
	}
	assert_true(sent > (64u << 10) + 4096);
	assert_int_equal(write(rig->r.done_fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(pthread_join(rig->thread, NULL), 0);
	assert_true(rig->r.cut_short);
	close(rig->guest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_streams_and_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_pressure_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_stdout_after_the_end, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
