// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api/http.h"
#include "api/server.h"
#include "clock.h"
#include "event_loop.h"
#include "jail.h"
#include "log.h"
#include "thread.h"

#define TICK_MS 100
#define BACKLOG 64
/* After an error answer the connection closes, but only once the client had a chance to read the answer. */
#define LINGER_MS 2000
#define IN_CAP (HTTP_HEAD_MAX + HTTP_BODY_MAX)
#define OUT_CAP (API_BODY_MAX + 512)
/* Requests a connection has answered (or 4 KiB reads it drops while lingering) before the others' turn. */
#define CONN_TURN_BUDGET 16

enum conn_phase {
	CONN_READING, /* waiting for (the rest of) a request */
	CONN_WRITING, /* an answer is going out */
	CONN_LINGER,  /* answered and shut for writing: dropping what the client still sends until it closes */
	CONN_PENDING, /* its request's answer comes later (api_route_pending): out of the loop until then */
};

struct conn {
	struct api_server *server;
	int fd;
	enum conn_phase phase;
	bool close_after; /* once the answer is out */
	bool peer_closed; /* the client sent all it will send */
	uint64_t deadline_ms;
	size_t in_len, out_len, out_sent;
	char in[IN_CAP];
	char out[OUT_CAP];
	char body[API_BODY_MAX];
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* of the socket file made here: a successor's file is not ours to remove */
	ino_t ino;
	int listen_fd;
	int wake_fd;
	int pending_fd; /* the backend's (not closed here), -1 if none */
	const struct api_backend *backend;
	void *backend_ctx;
	struct event_loop loop;
	pthread_t thread;
	struct conn *conns[API_SERVER_CLIENTS];
};

static void conn_close(struct conn *c)
{
	struct api_server *s = c->server;

	for (unsigned i = 0; i < API_SERVER_CLIENTS; i++)
		if (s->conns[i] == c)
			s->conns[i] = NULL;
	event_loop_remove(&s->loop, c->fd);
	close(c->fd);
	free(c);
}

/* Waits for `events` next; false when the connection had to be closed. */
static bool conn_watch(struct conn *c, uint32_t events)
{
	if (!event_loop_set_events(&c->server->loop, c->fd, events))
		return true;
	conn_close(c);
	return false;
}

/* Puts an answer in the output buffer for conn_run to send; false when the connection had to close. */
static bool conn_answer(struct conn *c, int status, const char *body, bool close_after)
{
	int len = http_format_response(c->out, sizeof(c->out), status, body, close_after);

	if (len < 0) {
		conn_close(c);
		return false;
	}
	c->out_len = (size_t)len;
	c->out_sent = 0;
	c->close_after = close_after;
	c->phase = CONN_WRITING;
	c->deadline_ms = monotonic_ms() + API_REQUEST_TIMEOUT_MS;
	return true;
}

/* An error answer; the connection closes after it (what follows in the stream cannot be trusted). */
static bool conn_fault(struct conn *c, int status, const char *msg)
{
	api_fault_body(c->body, sizeof(c->body), msg);
	return conn_answer(c, status, c->body, true);
}

enum io_result { IO_DONE, IO_BLOCKED, IO_CLOSED };

/* Sends what the socket takes of the answer; once it is all out, the connection reads or lingers. */
static enum io_result conn_send(struct conn *c)
{
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return conn_watch(c, EPOLLOUT) ? IO_BLOCKED : IO_CLOSED;
		if (n <= 0) {
			conn_close(c);
			return IO_CLOSED;
		}
		c->out_sent += (size_t)n;
	}
	if (c->close_after) {
		shutdown(c->fd, SHUT_WR);
		c->phase = CONN_LINGER;
		c->deadline_ms = monotonic_ms() + LINGER_MS;
		return conn_watch(c, EPOLLIN) ? IO_BLOCKED : IO_CLOSED;
	}
	c->phase = CONN_READING;
	c->deadline_ms = monotonic_ms() + (c->in_len ? API_REQUEST_TIMEOUT_MS : API_IDLE_TIMEOUT_MS);
	return IO_DONE;
}

/* Takes what the client sent into the input buffer, up to its end: IO_DONE when something came. */
static enum io_result conn_receive(struct conn *c)
{
	enum io_result got = IO_BLOCKED;

	while (c->in_len < sizeof(c->in)) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_close(c);
			return IO_CLOSED;
		}
		if (n == 0) {
			c->peer_closed = true;
			break;
		}
		if (!c->in_len)
			c->deadline_ms = monotonic_ms() + API_REQUEST_TIMEOUT_MS;
		c->in_len += (size_t)n;
		got = IO_DONE;
	}
	return got;
}

/* After an error answer: drops what the client still sends, a bounded amount per turn, until it closes. */
static void conn_drain(struct conn *c)
{
	char scratch[4096];

	for (unsigned i = 0; i < CONN_TURN_BUDGET; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
	}
}

/*
 * One turn of a connection: receives, answers and sends until the socket
 * would block or CONN_TURN_BUDGET requests were answered, then returns to the
 * event loop so that other clients get their turn. Complete requests left in
 * the buffer raise no event of their own: the connection then waits for
 * EPOLLOUT, which a socket with room to send reports at once, so its next
 * turn comes on the next round of the loop (a client that does not read its
 * answers is not served more until it does, which is fair).
 */
static void conn_run(struct conn *c)
{
	unsigned answered = 0;

	for (;;) {
		struct http_request req;
		struct errmsg e = { "" };
		int used, status, len;

		if (c->phase == CONN_LINGER) {
			conn_drain(c);
			return;
		}
		if (c->phase == CONN_WRITING) {
			if (conn_send(c) != IO_DONE)
				return;
			continue;
		}
		used = http_parse_request(c->in, c->in_len, &req, &e);
		if (used == 0 && !c->peer_closed) {
			enum io_result got = conn_receive(c);

			if (got == IO_CLOSED)
				return;
			if (got == IO_DONE || c->peer_closed)
				continue;
		}
		if (used == 0) {
			if (c->in_len == sizeof(c->in)) {
				if (!conn_fault(c, 431, "the request does not fit in the server's buffer"))
					return;
				continue;
			}
			/* Half a request (or none) and nothing more to come. */
			if (c->peer_closed)
				conn_close(c);
			else
				conn_watch(c, EPOLLIN);
			return;
		}
		if (used < 0) {
			log_debug("api: bad request (%d): %s", -used, e.text);
			if (!conn_fault(c, -used, e.text[0] ? e.text : "malformed request"))
				return;
			continue;
		}
		if (answered++ == CONN_TURN_BUDGET) {
			conn_watch(c, EPOLLOUT);
			return;
		}
		len = api_route(c->server->backend, c->server->backend_ctx, &req, c->body, sizeof(c->body), &status);
		/* The answer is in c->body now: the request's bytes can go. */
		memmove(c->in, c->in + used, c->in_len - (size_t)used);
		c->in_len -= (size_t)used;
		if (status == API_STATUS_PENDING) {
			/* Nothing from this client is read until it is answered (pipelined requests wait their turn). */
			c->phase = CONN_PENDING;
			c->close_after = req.close;
			c->deadline_ms = UINT64_MAX;
			event_loop_remove(&c->server->loop, c->fd);
			return;
		}
		if (!conn_answer(c, status, len > 0 ? c->body : NULL, req.close))
			return;
	}
}

/* Whatever the event, the connection's turn finds out what it can do without blocking. */
static void on_conn(void *ctx, uint32_t events)
{
	(void)events;
	conn_run(ctx);
}

static void refuse_busy(int fd)
{
	char body[128], out[512];
	int len;

	api_fault_body(body, sizeof(body), "too many clients; try again");
	len = http_format_response(out, sizeof(out), 503, body, true);
	if (len > 0 && send(fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("api: cannot tell a client the server is busy: %s", strerror(errno));
	close(fd);
}

/* A new client in a free slot; false when there is none (or no memory): the caller still has fd. */
static bool conn_add(struct api_server *s, int fd)
{
	unsigned slot;
	struct conn *c;

	for (slot = 0; slot < API_SERVER_CLIENTS && s->conns[slot]; slot++)
		;
	if (slot == API_SERVER_CLIENTS || !(c = malloc(sizeof(*c))))
		return false;
	c->server = s;
	c->fd = fd;
	c->phase = CONN_READING;
	c->close_after = c->peer_closed = false;
	c->in_len = c->out_len = c->out_sent = 0;
	c->deadline_ms = monotonic_ms() + API_IDLE_TIMEOUT_MS;
	if (event_loop_add(&s->loop, fd, EPOLLIN, on_conn, c)) {
		free(c);
		return false;
	}
	s->conns[slot] = c;
	return true;
}

static void on_listen(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;
	int fd;

	(void)events;
	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		if (!conn_add(s, fd))
			refuse_busy(fd);
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_debug("api: accept: %s", strerror(errno));
}

static void on_wake(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;

	(void)events;
	s->loop.done = true;
}

/* Answers the requests that were pending and have ended (the backend keeps their deadline). */
static void answer_pending(struct api_server *s)
{
	for (unsigned i = 0; i < API_SERVER_CLIENTS; i++) {
		struct conn *c = s->conns[i];
		int len, status;

		if (!c || c->phase != CONN_PENDING)
			continue;
		len = api_route_pending(s->backend, s->backend_ctx, c->body, sizeof(c->body), &status);
		if (status == API_STATUS_PENDING)
			continue;
		if (event_loop_add(&s->loop, c->fd, EPOLLOUT, on_conn, c)) {
			conn_close(c);
			continue;
		}
		if (conn_answer(c, status, len > 0 ? c->body : NULL, c->close_after))
			conn_run(c);
	}
}

static void on_pending(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;
	uint64_t count;

	(void)events;
	if (read(s->pending_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("api: pending eventfd: %s", strerror(errno));
	answer_pending(s);
}

/* Deadlines: a request that never completes gets 408, anything else that stalls is closed. */
static void on_tick(void *ctx)
{
	struct api_server *s = ctx;
	uint64_t now = monotonic_ms();

	/* Without an eventfd of the backend's, this is how a pending answer is found (and its deadline kept). */
	answer_pending(s);

	for (unsigned i = 0; i < API_SERVER_CLIENTS; i++) {
		struct conn *c = s->conns[i];

		if (!c || now < c->deadline_ms)
			continue;
		if (c->phase == CONN_READING && c->in_len && !c->peer_closed) {
			if (conn_fault(c, 408, "the request did not arrive in time"))
				conn_run(c);
		} else
			conn_close(c);
	}
}

static void *server_thread(void *arg)
{
	struct api_server *s = arg;
	const char *what;
	int err;

	if ((err = jail_enter(SECCOMP_API, &what))) {
		log_error("api: cannot confine the server thread: %s: %s; the API does not answer", what, strerror(-err));
		return NULL;
	}
	event_loop_run(&s->loop, TICK_MS, on_tick, s);
	return NULL;
}

/* Whether a kvmini (or anything) answers on the socket at path. */
static bool socket_is_live(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = !connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) || errno == EAGAIN;
	close(fd);
	return live;
}

/* Makes room for the socket: a stale one goes, anything else stays and is an error. */
static int clear_path(const struct sockaddr_un *addr, struct errmsg *e)
{
	struct stat st;

	if (lstat(addr->sun_path, &st))
		return errno == ENOENT ? 0 : errmsg_set(e, errno, "--api-sock %s: %s", addr->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return errmsg_set(e, EEXIST, "--api-sock %s: exists and is not a socket; not replacing it",
				  addr->sun_path);
	if (socket_is_live(addr))
		return errmsg_set(e, EADDRINUSE, "--api-sock %s: another process (another kvmini?) is serving it",
				  addr->sun_path);
	if (unlink(addr->sun_path) && errno != ENOENT)
		return errmsg_set(e, errno, "--api-sock %s: cannot remove the stale socket: %s", addr->sun_path,
				  strerror(errno));
	return 0;
}

static int open_socket(struct api_server *s, struct errmsg *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int err;

	if (!s->path[0] || strlen(s->path) >= sizeof(addr.sun_path))
		return errmsg_set(e, ENAMETOOLONG, "--api-sock: the path must have 1 to %zu characters",
				  sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, s->path, sizeof(addr.sun_path));
	if ((err = clear_path(&addr, e)))
		return err;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return errmsg_set(e, errno, "socket: %s", strerror(errno));
	/*
	 * Linux's unix_bind creates the file with the socket inode's mode less
	 * the umask: after this fchmod, 0600 (or less, if the umask takes owner
	 * bits too) from the moment the file exists. Nothing here changes the
	 * file by its path afterwards: whoever can write the folder could have
	 * put a symbolic link to some other file there by then.
	 */
	if (fchmod(s->listen_fd, 0600))
		return errmsg_set(e, errno, "--api-sock %s: fchmod: %s", s->path, strerror(errno));
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)))
		return errmsg_set(e, errno, "--api-sock %s: %s", s->path, strerror(errno));
	/* Which file is ours, to remove at the end; lstat, as a path is never followed here. */
	if (lstat(s->path, &st) || !S_ISSOCK(st.st_mode))
		return errmsg_set(e, EEXIST, "--api-sock %s: replaced by something else as it was made", s->path);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	/* On failure, destroy() removes the file. */
	if (listen(s->listen_fd, BACKLOG))
		return errmsg_set(e, errno, "--api-sock %s: listen: %s", s->path, strerror(errno));
	return 0;
}

static void remove_socket_file(struct api_server *s)
{
	struct stat st;

	if (s->ino && !lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	s->ino = 0;
}

static void destroy(struct api_server *s)
{
	for (unsigned i = 0; i < API_SERVER_CLIENTS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	remove_socket_file(s);
	event_loop_close(&s->loop);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
}

/* A server with no socket, no thread and no connection yet. */
static struct api_server *create(const struct api_backend *backend, void *backend_ctx)
{
	struct api_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->listen_fd = s->wake_fd = -1;
	s->loop.epfd = -1;
	s->backend = backend;
	s->backend_ctx = backend_ctx;
	s->pending_fd = backend->pending_fd ? backend->pending_fd(backend_ctx) : -1;
	return s;
}

int api_server_start(struct api_server **server, const char *path, const struct api_backend *backend,
		     void *backend_ctx, struct errmsg *e)
{
	struct api_server *s = create(backend, backend_ctx);
	sigset_t all, old;
	int err;

	*server = NULL;
	if (!s)
		return errmsg_set(e, ENOMEM, "out of memory");
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (strlen(path) >= sizeof(s->path)) {
		free(s);
		return errmsg_set(e, ENAMETOOLONG, "--api-sock: the path must have at most %zu characters",
				  sizeof(s->path) - 1);
	}
	if ((err = open_socket(s, e)))
		goto fail;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		err = errmsg_set(e, errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((err = event_loop_init(&s->loop)) || (err = event_loop_add(&s->loop, s->wake_fd, EPOLLIN, on_wake, s)) ||
	    (err = event_loop_add(&s->loop, s->listen_fd, EPOLLIN, on_listen, s)) ||
	    (s->pending_fd >= 0 && (err = event_loop_add(&s->loop, s->pending_fd, EPOLLIN, on_pending, s)))) {
		errmsg_set(e, -err, "api: event loop: %s", strerror(-err));
		goto fail;
	}
	/* Stop signals belong to the main thread's signalfd; this thread must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = thread_start(&s->thread, server_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errmsg_set(e, -err, "api: cannot start its thread: %s", strerror(-err));
		goto fail;
	}
	*server = s;
	return 0;
fail:
	destroy(s);
	return err;
}

int api_server_adopt(struct api_server **server, int fd, const struct api_backend *backend, void *backend_ctx,
		     struct errmsg *e)
{
	struct api_server *s = create(backend, backend_ctx);
	int err;

	*server = NULL;
	if (!s)
		return errmsg_set(e, ENOMEM, "out of memory");
	if ((err = event_loop_init(&s->loop))) {
		destroy(s);
		return errmsg_set(e, -err, "api: event loop: %s", strerror(-err));
	}
	if (!conn_add(s, fd)) {
		destroy(s);
		return errmsg_set(e, ENOMEM, "api: cannot serve fd %d", fd);
	}
	*server = s;
	return 0;
}

bool api_server_turn(struct api_server *s)
{
	event_loop_dispatch(&s->loop, 0);
	on_tick(s);
	for (unsigned i = 0; i < API_SERVER_CLIENTS; i++)
		if (s->conns[i])
			return true;
	return false;
}

void api_server_stop(struct api_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	/* An adopted server has no thread (nor wake_fd). */
	if (s->wake_fd >= 0) {
		if (write(s->wake_fd, &one, sizeof(one)) != sizeof(one))
			log_error("api: cannot stop the server thread: %s", strerror(errno));
		else
			pthread_join(s->thread, NULL);
	}
	destroy(s);
}
