/* vsock-tool: both ends of a vsock stream for the boot tests and the vsock benchmark.
 *
 * The same program runs in a guest (AF_VSOCK through its virtio-vsock driver) and on a host: with QEMU's
 * vhost-vsock the host side is plain AF_VSOCK too; with kvmini's hybrid design (docs/vsock.md) it is a Unix
 * socket, hence the uds-* forms, which do the same work over that socket:
 *   uds-*  that connect: to kvmini's socket PATH, send "CONNECT PORT\n", expect "OK <host port>\n", then stream;
 *   uds-*  that listen:  on PATH (kvmini's socket name + "_" + port), where kvmini connects for a guest.
 * Results go to stdout as key=value words, one line, for scripts to pick up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define CHUNK 65536

static void die(const char *what)
{
	fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fputs("usage: vsock-tool COMMAND ARGS\n"
	      "  listen PORT             echo each connection back until EOF, one at a time, forever\n"
	      "  pong PORT               echo one connection back until EOF (pingpong's other side)\n"
	      "  sink PORT               read one connection until EOF: bytes= seconds= MBps=\n"
	      "  connect CID PORT        stdin to the socket, the socket to stdout, until both ends close\n"
	      "  source CID PORT BYTES   write BYTES to a sink, shut down, wait for its EOF: bytes= seconds= MBps=\n"
	      "  pingpong CID PORT N     N one-byte round trips: rounds= median_us=\n"
	      "  uds-listen|uds-pong|uds-sink PATH              the same on a Unix socket listening at PATH\n"
	      "  uds-connect|uds-source|uds-pingpong PATH PORT [ARG]  through kvmini's hybrid socket PATH\n",
	      stderr);
	exit(2);
}

static unsigned long number(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "vsock-tool: not a number: '%s'\n", s);
		exit(2);
	}
	return v;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		buf += n;
		len -= (size_t)n;
	}
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "vsock-tool: socket path too long: %s\n", path);
		exit(2);
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static int vsock_listener(unsigned long port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned)port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_VSOCK)");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		die("bind/listen vsock");
	return fd;
}

static int uds_listener(const char *path)
{
	struct sockaddr_un sa;
	unix_addr(path, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_UNIX)");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		die(path);
	return fd;
}

static int vsock_connect(unsigned long cid, unsigned long port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = (unsigned)cid, .svm_port = (unsigned)port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_VSOCK)");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect vsock");
	return fd;
}

/* kvmini's hybrid handshake: the reply line is read a byte at a time so that no stream byte is taken with it. */
static int uds_connect(const char *path, unsigned long port)
{
	struct sockaddr_un sa;
	unix_addr(path, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket(AF_UNIX)");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(path);
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %lu\n", port);
	write_all(fd, line, (size_t)n);
	size_t len = 0;
	for (;;) {
		if (len == sizeof(line) - 1) {
			fputs("vsock-tool: reply line too long\n", stderr);
			exit(1);
		}
		ssize_t r = read(fd, &line[len], 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vsock-tool: %s closed the connection to port %lu (refused)\n", path, port);
			exit(1);
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = 0;
	if (strncmp(line, "OK ", 3) != 0) {
		fprintf(stderr, "vsock-tool: unexpected reply: %s", line);
		exit(1);
	}
	return fd;
}

static int accept_one(int lfd)
{
	int fd;
	while ((fd = accept(lfd, NULL, NULL)) < 0)
		if (errno != EINTR)
			die("accept");
	return fd;
}

static void echo(int fd)
{
	char *buf = malloc(CHUNK);
	ssize_t n;
	if (!buf)
		die("malloc");
	while ((n = read(fd, buf, CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				break;
			die("read");
		}
		write_all(fd, buf, (size_t)n);
	}
	free(buf);
	close(fd);
}

static void report(unsigned long long bytes, double seconds)
{
	printf("bytes=%llu seconds=%.6f MBps=%.2f\n", bytes, seconds, seconds > 0 ? bytes / seconds / 1e6 : 0.0);
}

static void sink(int fd)
{
	char *buf = malloc(CHUNK);
	unsigned long long total = 0;
	double start = now();
	ssize_t n;
	if (!buf)
		die("malloc");
	while ((n = read(fd, buf, CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		total += (unsigned long long)n;
	}
	report(total, now() - start);
	free(buf);
	close(fd);
}

/* The time counts until the peer's EOF, so that it covers the bytes' arrival and not only their queueing. */
static void source(int fd, unsigned long long bytes)
{
	char *buf = calloc(1, CHUNK);
	unsigned long long left = bytes;
	double start = now();
	if (!buf)
		die("calloc");
	while (left) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		write_all(fd, buf, n);
		left -= n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	while (read(fd, buf, CHUNK) > 0)
		;
	report(bytes, now() - start);
	free(buf);
	close(fd);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void pingpong(int fd, unsigned long rounds)
{
	if (!rounds) {
		fputs("vsock-tool: pingpong needs at least one round\n", stderr);
		exit(2);
	}
	double *us = malloc(rounds * sizeof(*us));
	if (!us)
		die("malloc");
	for (unsigned long i = 0; i < rounds; i++) {
		char c = (char)i;
		double t = now();
		write_all(fd, &c, 1);
		ssize_t n;
		while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1) {
			fprintf(stderr, "vsock-tool: pingpong: the peer stopped after %lu rounds\n", i);
			exit(1);
		}
		us[i] = (now() - t) * 1e6;
	}
	qsort(us, rounds, sizeof(*us), cmp_double);
	printf("rounds=%lu median_us=%.1f\n", rounds, us[rounds / 2]);
	free(us);
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* stdin to the socket and the socket to stdout, both at once: the socket is non-blocking and stdin is read only
 * when what came from it before is all sent, so a peer that echoes can never leave both sides blocked writing. */
static void relay(int fd)
{
	char *up = malloc(CHUNK), *down = malloc(CHUNK);
	size_t up_len = 0, up_off = 0;
	int in_open = 1, sock_open = 1;
	if (!up || !down)
		die("malloc");
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	while (in_open || up_len || sock_open) {
		struct pollfd p[2] = {
			{ .fd = in_open && !up_len ? 0 : -1, .events = POLLIN },
			{ .fd = fd, .events = (sock_open ? POLLIN : 0) | (up_len ? POLLOUT : 0) },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[0].revents) {
			ssize_t n = read(0, up, CHUNK);
			if (n < 0 && errno != EINTR)
				die("read stdin");
			if (n == 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			} else if (n > 0) {
				up_len = (size_t)n;
				up_off = 0;
			}
		}
		if (up_len && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(fd, up + up_off, up_len);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("write socket");
			if (n > 0) {
				up_off += (size_t)n;
				up_len -= (size_t)n;
				if (!up_len && !in_open)
					shutdown(fd, SHUT_WR);
			}
		}
		if (sock_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(fd, down, CHUNK);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("read socket");
			if (n == 0)
				sock_open = 0;
			else if (n > 0)
				write_all(1, down, (size_t)n);
		}
		/* A peer that has gone will take nothing more. */
		if (!sock_open && up_len && (p[1].revents & (POLLERR | POLLHUP)))
			break;
	}
	free(up);
	free(down);
	close(fd);
}

enum action { LISTEN, PONG, SINK, CONNECT, SOURCE, PINGPONG };

static const struct command {
	const char *name;
	enum action action;
	int uds;
	int argc; /* arguments after the command */
} commands[] = {
	{ "listen", LISTEN, 0, 1 },	   { "pong", PONG, 0, 1 },
	{ "sink", SINK, 0, 1 },		   { "connect", CONNECT, 0, 2 },
	{ "source", SOURCE, 0, 3 },	   { "pingpong", PINGPONG, 0, 3 },
	{ "uds-listen", LISTEN, 1, 1 },	   { "uds-pong", PONG, 1, 1 },
	{ "uds-sink", SINK, 1, 1 },	   { "uds-connect", CONNECT, 1, 2 },
	{ "uds-source", SOURCE, 1, 3 },	   { "uds-pingpong", PINGPONG, 1, 3 },
};

int main(int argc, char **argv)
{
	const struct command *c = NULL;
	if (argc < 2)
		usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			c = &commands[i];
	if (!c || argc != c->argc + 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (c->action == LISTEN || c->action == PONG || c->action == SINK) {
		int lfd = c->uds ? uds_listener(argv[2]) : vsock_listener(number(argv[2]));
		do {
			int fd = accept_one(lfd);
			if (c->action == SINK)
				sink(fd);
			else
				echo(fd);
		} while (c->action == LISTEN);
		close(lfd);
		if (c->uds)
			unlink(argv[2]);
		return 0;
	}

	int fd = c->uds ? uds_connect(argv[2], number(argv[3])) : vsock_connect(number(argv[2]), number(argv[3]));
	if (c->action == CONNECT)
		relay(fd);
	else if (c->action == SOURCE)
		source(fd, number(argv[4]));
	else
		pingpong(fd, number(argv[4]));
	return 0;
}
