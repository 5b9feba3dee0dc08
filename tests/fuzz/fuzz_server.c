// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the control socket's connection handling
 * (src/api/server.c): one client on a socketpair, the server's turns run
 * here on this thread (api_server_adopt), over the fake backend. The input
 * is a script of client steps, each one byte (kind in the low 2 bits, an
 * argument above):
 *   0  send the next (arg + 1)^2 bytes of the input (pipelined requests,
 *      cut anywhere)
 *   1  read up to (arg + 1) * 64 bytes of answers (a slow reader: the
 *      server's sends go partial, its socket buffer being small)
 *   2  let the server take (arg % 4) + 1 turns
 *   3  odd arg: close the client (a reset, wherever the stream is);
 *      even: shut its writing side (no more requests)
 * Besides the sanitizers, it checks that every answer is well-formed HTTP
 * with a status the API uses, and that once the client is gone the server
 * drops the connection within a few turns (no leak, no spin). `make fuzz`
 * runs it; seeds are in tests/fuzz/corpus-server/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "api/http.h"
#include "api/server.h"
#include "fake_backend.h"

#define check(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_server: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* The smallest send buffer Linux allows: a client that does not read soon blocks the server's sends. */
#define SERVER_SNDBUF 4096
/* Turns the server may take, once the client is gone, to see it and close. */
#define TURNS_TO_CLOSE 4

/* What the client has read and not yet checked: at least one whole answer (API_BODY_MAX and a head). */
static char answers[2 * API_BODY_MAX];
static size_t answers_len;

/* Every complete answer in the buffer parses; what is left is the start of the next one. */
static void check_answers(void)
{
	size_t pos = 0;

	for (;;) {
		const char *body;
		size_t body_len;
		int status, used = http_parse_response(answers + pos, answers_len - pos, &status, &body, &body_len);

		check(used >= 0);
		if (!used)
			break;
		check(status >= 200 && status <= 599);
		pos += (size_t)used;
	}
	memmove(answers, answers + pos, answers_len - pos);
	answers_len -= pos;
	/* An answer larger than the buffer would be a server bug, not a slow client. */
	check(answers_len < sizeof(answers));
}

static void client_read(int fd, size_t max)
{
	size_t room = sizeof(answers) - answers_len;
	ssize_t n = recv(fd, answers + answers_len, max < room ? max : room, MSG_DONTWAIT);

	if (n > 0) {
		answers_len += (size_t)n;
		check_answers();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_vm fake;
	struct api_server *server;
	struct errmsg e;
	int sv[2], sndbuf = SERVER_SNDBUF, client;
	bool served = true;
	size_t pos = 0;

	check(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	check(!setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	client = sv[1];
	fake_vm_reset(&fake);
	answers_len = 0;
	if (api_server_adopt(&server, sv[0], &fake_backend, &fake, &e)) {
		fprintf(stderr, "fuzz_server: %s\n", e.text);
		abort();
	}
	while (pos < size && served) {
		unsigned op = data[pos++], arg = op >> 2;

		switch (op & 3) {
		case 0: {
			size_t n = (size_t)(arg + 1) * (arg + 1);

			if (n > size - pos)
				n = size - pos;
			/* Whatever the socket does not take is dropped, as a client's write error would drop it. */
			if (client >= 0 && send(client, data + pos, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
				check(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
			pos += n;
			break;
		}
		case 1:
			if (client >= 0)
				client_read(client, (size_t)(arg + 1) * 64);
			break;
		case 2:
			for (unsigned i = 0; i <= arg % 4 && served; i++)
				served = api_server_turn(server);
			break;
		case 3:
			if (client < 0)
				break;
			if (arg & 1) {
				close(client);
				client = -1;
			} else {
				shutdown(client, SHUT_WR);
			}
			break;
		}
	}
	/* The client goes; the server must notice within a few turns. */
	if (client >= 0)
		close(client);
	for (unsigned i = 0; i < TURNS_TO_CLOSE && served; i++)
		served = api_server_turn(server);
	check(!served);
	api_server_stop(server);
	return 0;
}
