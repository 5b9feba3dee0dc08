// SPDX-License-Identifier: Apache-2.0
/* The control socket over real Unix sockets in a scratch folder, with a fake backend. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "api/http.h"
#include "api/server.h"

static char dir[48], path[96];
static struct api_server *server;
/* The instance id is the count of answers so far: clients can tell answers apart and check their order. */
static unsigned described;

static void fake_describe(void *ctx, enum api_state *state, char *id, size_t id_size, const char **version)
{
	(void)ctx;
	*state = API_STATE_RUNNING;
	snprintf(id, id_size, "%u", described++);
	*version = "0";
}

static int fake_refuse(void *ctx, bool paused, struct errmsg *e)
{
	(void)ctx;
	(void)paused;
	return errmsg_set(e, EINVAL, "no");
}

/* A snapshot whose answer comes when the test says: snapshot_result is its outcome, -EINPROGRESS until then. */
static int snapshot_result = -EINPROGRESS;
static int snapshot_done_fd = -1;

static int fake_create_snapshot(void *ctx, const struct api_snapshot_create *p, struct errmsg *e)
{
	(void)ctx;
	(void)p;
	(void)e;
	return -EINPROGRESS;
}

static int fake_pending_result(void *ctx, struct errmsg *e)
{
	int err = __atomic_load_n(&snapshot_result, __ATOMIC_ACQUIRE);

	(void)ctx;
	return err && err != -EINPROGRESS ? errmsg_set(e, -err, "the disk is full") : err;
}

static int fake_pending_fd(void *ctx)
{
	(void)ctx;
	return snapshot_done_fd;
}

static const struct api_backend backend = {
	.describe = fake_describe, .set_paused = fake_refuse, .create_snapshot = fake_create_snapshot,
	.pending_result = fake_pending_result, .pending_fd = fake_pending_fd,
};

static int setup(void **state)
{
	struct errmsg e;

	(void)state;
	described = 0;
	snapshot_result = -EINPROGRESS;
	snapshot_done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(snapshot_done_fd >= 0);
	snprintf(dir, sizeof(dir), "/tmp/kvmini-api-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	if (api_server_start(&server, path, &backend, NULL, &e))
		fail_msg("cannot start the server: %s", e.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop(server);
	server = NULL;
	close(snapshot_done_fd);
	unlink(path);
	rmdir(dir);
	return 0;
}

static int client(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	/* Only a bound on a hang: a busy machine can starve the server thread for a while. */
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* One response from fd (2 s at most); returns its status. */
static int read_status(int fd)
{
	static char buf[65536];
	size_t len = 0, body_len;
	const char *body;
	int status;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (n <= 0)
			fail_msg("no complete response (%zu bytes, recv %zd, %s)", len, n, strerror(errno));
		len += (size_t)n;
		if (http_parse_response(buf, len, &status, &body, &body_len) > 0)
			return status;
	}
}

static bool closed_by_server(int fd)
{
	char c;

	return recv(fd, &c, 1, 0) == 0;
}

#define GET_ROOT "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

static void test_serves_and_cleans_up(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	/* Keep-alive: a second request on the same connection. */
	send_str(fd, "PATCH /vm HTTP/1.1\r\nContent-Length: 19\r\n\r\n{\"state\": \"Paused\"}");
	assert_int_equal(read_status(fd), 400);
	close(fd);
	api_server_stop(server);
	server = NULL;
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_live_socket_refused(void **state)
{
	struct api_server *second;
	struct errmsg e;
	int fd;

	(void)state;
	assert_int_equal(api_server_start(&second, path, &backend, NULL, &e), -EADDRINUSE);
	assert_non_null(strstr(e.text, "another process"));
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct errmsg e;
	int fd;

	(void)state;
	api_server_stop(server);
	/* What a killed kvmini leaves: a socket file nobody listens on. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	if (api_server_start(&server, path, &backend, NULL, &e))
		fail_msg("a stale socket was not replaced: %s", e.text);
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
}

/* What is at the path, unless it is a socket, stays as it is, and the server says why it does not start. */
static void refused_and_kept(const char *what)
{
	struct errmsg e;

	assert_int_equal(api_server_start(&server, path, &backend, NULL, &e), -EEXIST);
	if (!strstr(e.text, "exists and is not a socket; not replacing it") || !strstr(e.text, path))
		fail_msg("%s at the path: unexpected message '%s'", what, e.text);
	assert_null(server);
}

static void test_other_files_kept(void **state)
{
	char target[128], link[128];
	struct stat st;
	ssize_t n;
	FILE *f;

	(void)state;
	api_server_stop(server);
	server = NULL;

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("data", f);
	fclose(f);
	refused_and_kept("a regular file");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 4);
	unlink(path);

	/* A link to a file the server must not touch (a socket file, even, could be someone else's). */
	snprintf(target, sizeof(target), "%s/target", dir);
	f = fopen(target, "w");
	assert_non_null(f);
	fclose(f);
	chmod(target, 0644);
	assert_int_equal(symlink(target, path), 0);
	refused_and_kept("a symbolic link");
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, target);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	unlink(path);
	unlink(target);

	assert_int_equal(symlink("/nonexistent", path), 0);
	refused_and_kept("a dangling symbolic link");
	unlink(path);

	assert_int_equal(mkdir(path, 0700), 0);
	refused_and_kept("a directory");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	rmdir(path);
}

static void test_path_too_long(void **state)
{
	struct api_server *second;
	struct errmsg e;

	(void)state;
	assert_int_equal(api_server_start(&second, "/tmp/a-path-longer-than-sun_path-allows-aaaaaaaaaaaaaaaaaaaaaaaaa"
						   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
					  &backend, NULL, &e),
			 -ENAMETOOLONG);
}

/* 0600 whatever the umask leaves (it may only take bits away, and this one takes none of the owner's). */
static void test_socket_mode(void **state)
{
	mode_t old = umask(0);
	struct errmsg e;
	struct stat st;

	(void)state;
	api_server_stop(server);
	server = NULL;
	if (api_server_start(&server, path, &backend, NULL, &e))
		fail_msg("cannot start the server: %s", e.text);
	umask(old);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* Many clients with half a request each do not keep another from its answer, and all get theirs. */
static void test_many_partial_clients(void **state)
{
	int fds[24], fd;

	(void)state;
	for (unsigned i = 0; i < 24; i++) {
		fds[i] = client();
		send_str(fds[i], "GET / HT");
	}
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
	for (unsigned i = 0; i < 24; i++) {
		send_str(fds[i], "TP/1.1\r\n\r\n");
		assert_int_equal(read_status(fds[i]), 200);
		close(fds[i]);
	}
}

/* A client that sends and never reads fills its own socket, not the server's time. */
static void test_client_that_never_reads(void **state)
{
	char many[sizeof(GET_ROOT) * 256];
	int hog, fd;

	(void)state;
	many[0] = '\0';
	for (unsigned i = 0; i < 256; i++)
		strcat(many, GET_ROOT);
	hog = client();
	for (unsigned round = 0; round < 40; round++)
		if (send(hog, many, strlen(many), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
	close(hog);
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
}

/*
 * Thousands of pipelined requests in one go, read back as fast as they come:
 * every answer arrives, in order, and the server is still there. (Answering
 * the next buffered request from the end of the previous send once nested a
 * stack frame per answer, until the server thread overflowed its stack.)
 */
#define PIPELINED 8192

static void test_pipelined_flood(void **state)
{
	static char requests[PIPELINED * (sizeof(GET_ROOT) - 1)], buf[65536];
	size_t sent = 0, len = 0, total = sizeof(requests);
	unsigned answers = 0;
	int fd;

	(void)state;
	for (unsigned i = 0; i < PIPELINED; i++)
		memcpy(requests + i * (sizeof(GET_ROOT) - 1), GET_ROOT, sizeof(GET_ROOT) - 1);
	fd = client();
	while (answers < PIPELINED) {
		ssize_t n;

		if (sent < total) {
			n = send(fd, requests + sent, total - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				fail_msg("send after %zu bytes: %s", sent, strerror(errno));
			sent += n > 0 ? (size_t)n : 0;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, sent < total ? MSG_DONTWAIT : 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			fail_msg("the server stopped after %u answers (recv %zd: %s)", answers, n, strerror(errno));
		len += n > 0 ? (size_t)n : 0;
		for (;;) {
			const char *body;
			size_t body_len;
			int status, used = http_parse_response(buf, len, &status, &body, &body_len);

			const char *id;

			if (used <= 0)
				break;
			assert_int_equal(status, 200);
			id = memmem(body, body_len, "\"id\":", 5);
			assert_non_null(id);
			assert_int_equal(strtoul(id + 5 + strspn(id + 5, " \""), NULL, 10), answers);
			memmove(buf, buf + used, len - (size_t)used);
			len -= (size_t)used;
			answers++;
		}
	}
	assert_int_equal(len, 0);
	close(fd);
	fd = client();
	send_str(fd, GET_ROOT);
	assert_int_equal(read_status(fd), 200);
	close(fd);
}

/* More requests than one turn answers, then the client's end shut: all are answered, then the server closes. */
static void test_pipelined_then_half_close(void **state)
{
	static char buf[65536];
	size_t len = 0, pos = 0;
	unsigned answers = 0;
	int fd = client();
	ssize_t n;

	(void)state;
	for (unsigned i = 0; i < 100; i++)
		send_str(fd, GET_ROOT);
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, buf + len, sizeof(buf) - len, 0)) > 0)
		len += (size_t)n;
	assert_int_equal(n, 0);
	while (pos < len) {
		const char *body;
		size_t body_len;
		int status, used = http_parse_response(buf + pos, len - pos, &status, &body, &body_len);

		assert_true(used > 0);
		assert_int_equal(status, 200);
		pos += (size_t)used;
		answers++;
	}
	assert_int_equal(answers, 100);
	close(fd);
}

static void test_bad_requests_close(void **state)
{
	int fd;

	(void)state;
	fd = client();
	send_str(fd, "GARBAGE\r\n\r\n");
	assert_int_equal(read_status(fd), 400);
	assert_true(closed_by_server(fd));
	close(fd);

	fd = client();
	send_str(fd, "PUT /actions HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
	assert_int_equal(read_status(fd), 413);
	assert_true(closed_by_server(fd));
	close(fd);

	/* Connection: close is honoured. */
	fd = client();
	send_str(fd, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(read_status(fd), 200);
	assert_true(closed_by_server(fd));
	close(fd);
}

/* Clients that go away mid-request, and more clients than slots: the server goes on. */
static void test_abandoned_and_too_many(void **state)
{
	int fds[API_SERVER_CLIENTS + 8], fd, busy = 0;

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		fd = client();
		send_str(fd, "PATCH /vm HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"sta");
		close(fd);
	}
	for (unsigned i = 0; i < API_SERVER_CLIENTS + 8; i++)
		fds[i] = client();
	for (unsigned i = 0; i < API_SERVER_CLIENTS + 8; i++) {
		/* A client over the limit may have been answered and closed already: its send can fail. */
		if (send(fds[i], GET_ROOT, strlen(GET_ROOT), MSG_NOSIGNAL) < 0)
			assert_int_equal(errno, EPIPE);
		if (read_status(fds[i]) == 503)
			busy++;
	}
	for (unsigned i = 0; i < API_SERVER_CLIENTS + 8; i++)
		close(fds[i]);
	assert_true(busy >= 8);
	/* Once the server has seen those connections end (in its own time), a new client is served. */
	for (unsigned tries = 0;; tries++) {
		int status;

		fd = client();
		if (send(fd, GET_ROOT, strlen(GET_ROOT), MSG_NOSIGNAL) < 0)
			assert_int_equal(errno, EPIPE); /* answered 503 and closed already */
		status = read_status(fd);
		close(fd);
		if (status == 200)
			break;
		assert_int_equal(status, 503);
		assert_true(tries < 100);
		usleep(100 * 1000);
	}
}

/* Two responses from fd, which may come in one read. */
static void read_two_statuses(int fd, int *first, int *second)
{
	static char buf[65536];
	size_t len = 0, body_len;
	const char *body;
	int used;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (n <= 0)
			fail_msg("no two complete responses (%zu bytes, recv %zd, %s)", len, n, strerror(errno));
		len += (size_t)n;
		used = http_parse_response(buf, len, first, &body, &body_len);
		if (used > 0 && http_parse_response(buf + used, len - (size_t)used, second, &body, &body_len) > 0)
			return;
	}
}

/* Nothing to read on fd for 300 ms: no answer yet. */
static void expect_no_answer(int fd)
{
	struct timeval tv = { .tv_usec = 300 * 1000 }, back = { .tv_sec = 10 };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(recv(fd, &c, 1, 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &back, sizeof(back));
}

#define PUT_SNAPSHOT(close)                                                                                      \
	"PUT /snapshot/create HTTP/1.1\r\nHost: x\r\n" close "Content-Length: 44\r\n\r\n"                           \
	"{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\"}"

/* A snapshot's answer comes when it is written; the other clients are served meanwhile, its own later requests after. */
static void test_pending_answer(void **state)
{
	uint64_t one = 1;
	int a, b, first, second;

	(void)state;
	a = client();
	send_str(a, PUT_SNAPSHOT("") GET_ROOT);
	expect_no_answer(a);
	b = client();
	send_str(b, GET_ROOT);
	assert_int_equal(read_status(b), 200);
	expect_no_answer(a);
	/* Done: told through the backend's eventfd. */
	__atomic_store_n(&snapshot_result, 0, __ATOMIC_RELEASE);
	assert_int_equal(write(snapshot_done_fd, &one, sizeof(one)), sizeof(one));
	read_two_statuses(a, &first, &second);
	assert_int_equal(first, 204);
	assert_int_equal(second, 200);
	close(a);

	/* A failure is the backend's fault answer, found by the tick alone; Connection: close is kept. */
	__atomic_store_n(&snapshot_result, -EINPROGRESS, __ATOMIC_RELEASE);
	a = client();
	send_str(a, PUT_SNAPSHOT("Connection: close\r\n"));
	expect_no_answer(a);
	__atomic_store_n(&snapshot_result, -EINVAL, __ATOMIC_RELEASE);
	assert_int_equal(read_status(a), 400);
	assert_true(closed_by_server(a));
	close(a);
	close(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_serves_and_cleans_up),
		T(test_live_socket_refused),
		T(test_stale_socket_replaced),
		T(test_other_files_kept),
		T(test_path_too_long),
		T(test_socket_mode),
		T(test_many_partial_clients),
		T(test_client_that_never_reads),
		T(test_pipelined_flood),
		T(test_pipelined_then_half_close),
		T(test_bad_requests_close),
		T(test_abandoned_and_too_many),
		T(test_pending_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
