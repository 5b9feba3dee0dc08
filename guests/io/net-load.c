/* net-load: TCP load for the I/O benchmarks (docs/benchmarks.md), the same program in a guest and in L1.
 *
 *   net-load server PORT [CONNS]     serve CONNS connections one after another (default 0: forever)
 *   net-load send HOST PORT SECS     stream to the server for SECS; the server reports what it received
 *   net-load recv HOST PORT SECS     the server streams to us for SECS
 *   net-load rr HOST PORT SECS       1-byte request/response round trips for SECS: p50 and p99 latency
 *
 * HOST is an IPv4 address (the bench's tap has no names to resolve). A client's first byte tells the server what
 * to do. Nothing waits without a deadline: connect, every read and every write time out, so a dead peer ends a
 * run with a one-line error instead of a hang. The client prints one line on stdout:
 *   net-load mode=send secs=F bytes=N gbps=F
 *   net-load mode=rr secs=F rounds=N p50us=F p99us=F
 * Exit status: 0 done, 1 a network error or timeout, 2 bad arguments.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 * 1024)
#define IO_TIMEOUT_MS 5000
/* Round trips kept for the percentiles; a run that does more stops early. */
#define MAX_ROUNDS (1u << 20)

enum { CMD_SINK = 'S', CMD_SOURCE = 'R', CMD_ECHO = 'P' };

static void usage(void)
{
	fputs("usage: net-load server PORT [CONNS]\n"
	      "       net-load send|recv|rr IPV4 PORT SECS   (0 < SECS <= 3600)\n",
	      stderr);
	exit(2);
}

static void bad_arg(const char *what, const char *value)
{
	fprintf(stderr, "net-load: bad %s: '%s'\n", what, value);
	exit(2);
}

static unsigned long number(const char *what, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		bad_arg(what, s);
	return v;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 when fd is ready for events, -ETIMEDOUT after IO_TIMEOUT_MS, or another negative errno. */
static int wait_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;
	while ((n = poll(&p, 1, IO_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Bytes read (0 at EOF) or a negative errno, never blocking past the timeout. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		int err = wait_ready(fd, POLLIN);
		if (err < 0)
			return err;
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		int err = wait_ready(fd, POLLOUT);
		if (err < 0)
			return err;
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "net-load: %s: %s\n", what, strerror(-err));
	exit(1);
}

static int connect_to(const char *host, const char *port_arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_port = htons((uint16_t)number("PORT", port_arg, 65535));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		bad_arg("IPv4 address", host);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket", -errno);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		fail("connect", -errno);
	int err = wait_ready(fd, POLLOUT);
	socklen_t len = sizeof(int);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0)
		err = -err;
	if (err < 0) {
		fprintf(stderr, "net-load: connect to %s:%s: %s\n", host, port_arg, strerror(-err));
		exit(1);
	}
	return fd;
}

/* What the server does for one connection; errors end the connection, not the server. */
static int serve(int fd, char *buf)
{
	char cmd;
	ssize_t n = read_some(fd, &cmd, 1);
	if (n <= 0)
		return n < 0 ? (int)n : -EPROTO;
	if (cmd == CMD_SINK) {
		uint64_t total = 0;
		while ((n = read_some(fd, buf, CHUNK)) > 0)
			total += (uint64_t)n;
		if (n < 0)
			return (int)n;
		/* After the sender's EOF: the byte count, which it reports. */
		char reply[32];
		int len = snprintf(reply, sizeof(reply), "%llu\n", (unsigned long long)total);
		return write_all(fd, reply, (size_t)len);
	}
	if (cmd == CMD_SOURCE) {
		int err;
		while ((err = write_all(fd, buf, CHUNK)) == 0)
			;
		/* The receiver closing is how a run ends. */
		return err == -EPIPE || err == -ECONNRESET ? 0 : err;
	}
	if (cmd == CMD_ECHO) {
		while ((n = read_some(fd, buf, 1)) > 0) {
			int err = write_all(fd, buf, 1);
			if (err < 0)
				return err;
		}
		return (int)n;
	}
	return -EPROTO;
}

static int run_server(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		usage();
	unsigned long port = number("PORT", argv[2], 65535);
	unsigned long conns = argc == 4 ? number("CONNS", argv[3], 1000000) : 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		fail("socket", -errno);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		fprintf(stderr, "net-load: listen on port %lu: %s\n", port, strerror(errno));
		exit(1);
	}
	char *buf = malloc(CHUNK);
	if (!buf)
		fail("buffer", -ENOMEM);
	memset(buf, 0x5a, CHUNK);
	for (unsigned long served = 0; !conns || served < conns; served++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fail("accept", -errno);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		int err = serve(fd, buf);
		if (err < 0)
			fprintf(stderr, "net-load: server: connection %lu: %s\n", served + 1, strerror(-err));
		close(fd);
	}
	free(buf);
	close(lfd);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void round_trips(int fd, double secs)
{
	double *rtt = malloc(MAX_ROUNDS * sizeof(*rtt));
	if (!rtt)
		fail("buffer", -ENOMEM);
	unsigned rounds = 0;
	double start = now(), end = start + secs, t = start;
	char byte = 1;
	while (t < end && rounds < MAX_ROUNDS) {
		int err = write_all(fd, &byte, 1);
		if (err < 0)
			fail("rr send", err);
		ssize_t n = read_some(fd, &byte, 1);
		if (n <= 0)
			fail("rr reply", n < 0 ? (int)n : -ECONNRESET);
		double done = now();
		rtt[rounds++] = (done - t) * 1e6;
		t = done;
	}
	if (!rounds)
		fail("rr", -ETIMEDOUT);
	qsort(rtt, rounds, sizeof(*rtt), by_value);
	printf("net-load mode=rr secs=%.3f rounds=%u p50us=%.1f p99us=%.1f\n", t - start, rounds,
	       rtt[rounds / 2], rtt[(unsigned)((rounds - 1) * 0.99)]);
	free(rtt);
}

static void report(const char *mode, double secs, unsigned long long bytes)
{
	printf("net-load mode=%s secs=%.3f bytes=%llu gbps=%.3f\n", mode, secs, bytes, (double)bytes * 8 / secs / 1e9);
}

static int run_client(int argc, char **argv)
{
	if (argc != 5)
		usage();
	const char *mode = argv[1];
	char cmd = !strcmp(mode, "send") ? CMD_SINK : !strcmp(mode, "recv") ? CMD_SOURCE : CMD_ECHO;
	char *end;
	double secs = strtod(argv[4], &end);
	if (end == argv[4] || *end || !(secs > 0 && secs <= 3600))
		bad_arg("SECS (0 < SECS <= 3600)", argv[4]);
	int fd = connect_to(argv[2], argv[3]);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int err = write_all(fd, &cmd, 1);
	if (err < 0)
		fail("sending the command", err);
	if (cmd == CMD_ECHO) {
		round_trips(fd, secs);
		close(fd);
		return 0;
	}
	char *buf = malloc(CHUNK);
	if (!buf)
		fail("buffer", -ENOMEM);
	memset(buf, 0xa5, CHUNK);
	double start = now(), stop = start + secs;
	unsigned long long bytes = 0;
	if (cmd == CMD_SOURCE) {
		while (now() < stop) {
			ssize_t n = read_some(fd, buf, CHUNK);
			if (n <= 0)
				fail("recv", n < 0 ? (int)n : -ECONNRESET);
			bytes += (unsigned long long)n;
		}
		report(mode, now() - start, bytes);
		free(buf);
		close(fd);
		return 0;
	}
	while (now() < stop)
		if ((err = write_all(fd, buf, CHUNK)) < 0)
			fail("send", err);
	/* The figure is what arrived: time until the server has read it all and said how much. */
	if (shutdown(fd, SHUT_WR) < 0)
		fail("shutdown", -errno);
	char reply[32];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(reply) - 1 && (n = read_some(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
		len += (size_t)n;
	double elapsed = now() - start;
	reply[len] = 0;
	if (sscanf(reply, "%llu\n", &bytes) != 1) {
		fputs("net-load: send: the server did not report the bytes it received\n", stderr);
		exit(1);
	}
	report(mode, elapsed, bytes);
	free(buf);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "server"))
		return run_server(argc, argv);
	if (strcmp(argv[1], "send") && strcmp(argv[1], "recv") && strcmp(argv[1], "rr"))
		bad_arg("MODE (server, send, recv or rr)", argv[1]);
	return run_client(argc, argv);
}
