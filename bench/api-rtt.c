// SPDX-License-Identifier: Apache-2.0
/*
 * api-rtt: how long a pause + resume round trip over a VMM's control
 * socket takes, from a client that is already connected (so neither a
 * process start nor a connect is counted).
 *
 *   api-rtt kvmini SOCKET ROUNDS   PATCH /vm Paused, then Resumed (HTTP/1.1, one connection)
 *   api-rtt qmp SOCKET ROUNDS      QEMU's QMP: stop, then cont
 *
 * Prints "rounds=N median_us= min_us= max_us=" on stdout; exit 0 if every
 * round got a success reply, else 1 with a one-line reason on stderr.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MAX_ROUNDS 1000
#define REPLY_MAX 8192

static int sock_fd = -1;
static char pending[REPLY_MAX]; /* received but not yet consumed */
static size_t pending_len;

static _Noreturn void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "api-rtt: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void send_all(const char *text)
{
	size_t len = strlen(text), done = 0;

	while (done < len) {
		ssize_t n = write(sock_fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", strerror(errno));
		done += (size_t)n;
	}
}

/* Appends what the socket has to `pending`. */
static void receive_more(void)
{
	ssize_t n;

	if (pending_len == sizeof(pending) - 1)
		die("reply too long: %.80s", pending);
	do
		n = read(sock_fd, pending + pending_len, sizeof(pending) - 1 - pending_len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		die("the VMM closed the socket (%s)", n ? strerror(errno) : "EOF");
	pending_len += (size_t)n;
	pending[pending_len] = '\0';
}

/* Reads until `pending` holds `until`; returns the length up to and including it. */
static size_t receive_until(const char *until)
{
	char *hit;

	pending[pending_len] = '\0';
	while (!(hit = strstr(pending, until)))
		receive_more();
	return (size_t)(hit - pending) + strlen(until);
}

static void consume(size_t len)
{
	memmove(pending, pending + len, pending_len - len);
	pending_len -= len;
}

/* One HTTP request; the reply must be a 2xx whose body (Content-Length) is then skipped. */
static void http_request(const char *body)
{
	char req[256];
	size_t head, body_len = 0;
	const char *cl;

	snprintf(req, sizeof(req),
		 "PATCH /vm HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	send_all(req);
	head = receive_until("\r\n\r\n");
	if (strncmp(pending, "HTTP/1.1 2", 10) != 0)
		die("PATCH /vm failed: %.60s", pending);
	cl = strcasestr(pending, "content-length:");
	if (cl && cl < pending + head)
		body_len = strtoul(cl + strlen("content-length:"), NULL, 10);
	while (pending_len < head + body_len)
		receive_more();
	consume(head + body_len);
}

/* One QMP command; events (lines with "event") are skipped until the "return". */
static void qmp_command(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "{\"execute\":\"%s\"}\n", name);
	send_all(cmd);
	for (;;) {
		size_t len = receive_until("\n");
		bool is_return = memmem(pending, len, "\"return\"", 8) != NULL;
		bool is_error = memmem(pending, len, "\"error\"", 7) != NULL;

		consume(len);
		if (is_error)
			die("QMP %s failed", name);
		if (is_return)
			return;
	}
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static double rtt[MAX_ROUNDS];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool qmp;
	int rounds;

	if (argc != 4 || (strcmp(argv[1], "kvmini") && strcmp(argv[1], "qmp")) || (rounds = atoi(argv[3])) < 1 ||
	    rounds > MAX_ROUNDS || strlen(argv[2]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: api-rtt kvmini|qmp SOCKET ROUNDS (1-%d)\n", MAX_ROUNDS);
		return 2;
	}
	qmp = !strcmp(argv[1], "qmp");
	strcpy(addr.sun_path, argv[2]);
	sock_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock_fd < 0 || connect(sock_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect: %s", strerror(errno));
	if (qmp) {
		consume(receive_until("\n")); /* the greeting */
		qmp_command("qmp_capabilities");
	}
	for (int i = 0; i < rounds; i++) {
		double t0 = now_us();

		if (qmp) {
			qmp_command("stop");
			qmp_command("cont");
		} else {
			http_request("{\"state\":\"Paused\"}");
			http_request("{\"state\":\"Resumed\"}");
		}
		rtt[i] = now_us() - t0;
	}
	qsort(rtt, (size_t)rounds, sizeof(rtt[0]), compare_doubles);
	printf("rounds=%d median_us=%.0f min_us=%.0f max_us=%.0f\n", rounds,
	       rounds % 2 ? rtt[rounds / 2] : (rtt[rounds / 2 - 1] + rtt[rounds / 2]) / 2, rtt[0], rtt[rounds - 1]);
	return 0;
}
