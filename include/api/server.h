/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: HTTP/1.1 on a Unix stream socket, served by a thread
 * of its own with one epoll loop, so no client (slow, silent, gone, or one
 * that never reads its answer) can hold up the VM or the other clients.
 * Every request goes through api_route with the backend given here.
 */
#ifndef KVMINI_API_SERVER_H
#define KVMINI_API_SERVER_H

#include "api/router.h"
#include "errmsg.h"

/* Clients served at once; one more is told 503 and closed. */
#define API_SERVER_CLIENTS 32
/* A request must arrive whole within this; a response be taken within this. */
#define API_REQUEST_TIMEOUT_MS 10000
/* An idle keep-alive connection is closed after this. */
#define API_IDLE_TIMEOUT_MS 60000

struct api_server;

/*
 * Creates the socket at path (mode 0600 from the start; the path is never
 * followed) and starts serving. A stale socket file (nothing answers on it)
 * is replaced; a live one, or anything at path that is not a socket, is
 * refused with a message saying so and left alone.
 */
int api_server_start(struct api_server **server, const char *path, const struct api_backend *backend,
		     void *backend_ctx, struct errmsg *e);
/* Stops serving, closes every connection and removes the socket file. NULL is fine. */
void api_server_stop(struct api_server *server);

/*
 * Test seam for tests/fuzz/fuzz_server.c, which drives the connection
 * handling on its own thread, step by step: a server with no socket file
 * and no thread that serves fd, one connected stream socket it takes over
 * (and closes). Each api_server_turn handles what is ready, without
 * waiting, as one round of the server thread's loop would, deadlines
 * included; false once the server has closed the connection.
 * api_server_stop ends it.
 */
int api_server_adopt(struct api_server **server, int fd, const struct api_backend *backend, void *backend_ctx,
		     struct errmsg *e);
bool api_server_turn(struct api_server *server);

#endif
