// SPDX-License-Identifier: Apache-2.0
/*
 * mode=exec: the command and the exec channel (include/exec/proto.h) on
 * hvc0. The init forks the command as the caller's user, on pipes or on a
 * pseudo-terminal, then relays between it and the host until it has exited
 * and its output has ended, sends EXEC_EXIT and powers off. Every queue is
 * bounded: a source is not read while its destination has no room, and
 * the host is not read while a frame of input is still being written.
 */
#include <stdbool.h>
#include <string.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/signalfd.h>
#include <linux/time_types.h>
#include <linux/wait.h>
#include <asm/signal.h>
#include <asm/termios.h>

#include "frames.h"
#include "init.h"
#include "path_search.h"
#include "raw_tty.h"
#include "sys.h"

#define CHANNEL_PATH "/dev/hvc0"
/* How long hvc0 may take to appear (its driver may be a module that just loaded). */
#define CHANNEL_WAIT_MS 5000
/* How long output is still relayed after the command exited, if descendants hold its pipes open. */
#define DRAIN_AFTER_EXIT_MS 2000
/* How long the last frames may wait for the host to take them. */
#define LAST_FRAMES_WAIT_MS 10000

int channel_fd = -1;
static struct frame_queue to_host;
static struct frame_reader from_host;

int channel_open(struct line *err)
{
	struct termios t;
	long fd = -ENOENT, rc;

	for (int waited = 0; waited <= CHANNEL_WAIT_MS; waited += 20) {
		fd = sys_open(CHANNEL_PATH, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (fd != -ENOENT && fd != -ENXIO && fd != -ENODEV)
			break;
		sleep_ms(20);
	}
	if (fd < 0) {
		line_error(err, "open", CHANNEL_PATH, fd);
		return (int)fd;
	}
	rc = sys_ioctl((int)fd, TCGETS, &t);
	if (!rc) {
		raw_tty_flags(&t);
		rc = sys_ioctl((int)fd, TCSETS, &t);
	}
	if (rc) {
		line_error(err, "raw mode for", CHANNEL_PATH, rc);
		sys_close((int)fd);
		return (int)rc;
	}
	channel_fd = (int)fd;
	return 0;
}

static long poll_fds(struct pollfd *fds, unsigned int n, long timeout_ms)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = timeout_ms % 1000 * 1000000 };

	return syscall5(__NR_ppoll, (long)fds, n, timeout_ms < 0 ? 0 : (long)&ts, 0, 8);
}

static long now_ms(void)
{
	struct __kernel_timespec ts;

	syscall5(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0, 0, 0);
	return (long)ts.tv_sec * 1000 + (long)ts.tv_nsec / 1000000;
}

/* Writes what the queue holds to the host, as much as it takes now: 0, or a negative errno (the host is gone). */
static int send_some(void)
{
	size_t len;
	const uint8_t *p = frame_queue_pending(&to_host, &len);
	long n;

	if (!len)
		return 0;
	n = sys_write(channel_fd, p, len);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n <= 0)
		return n ? (int)n : -EIO;
	frame_queue_sent(&to_host, (size_t)n);
	return 0;
}

/* Sends everything queued, waiting at most LAST_FRAMES_WAIT_MS for the host. */
static void send_all(void)
{
	long deadline = now_ms() + LAST_FRAMES_WAIT_MS;
	size_t len;

	while (frame_queue_pending(&to_host, &len), len) {
		struct pollfd p = { .fd = channel_fd, .events = POLLOUT };
		long left = deadline - now_ms();

		if (left <= 0 || poll_fds(&p, 1, left) < 0 || send_some())
			return;
	}
}

/* The last frames: whatever waits goes first, then this one. */
static void send_last(uint32_t type, const void *payload, size_t len)
{
	send_all();
	if (!frame_queue_add(&to_host, type, payload, len))
		send_all();
}

void channel_send_failed(const struct line *l)
{
	send_last(EXEC_FAILED, l->text, l->len);
}

/* The child's ends and the init's: pipes (stdin, stdout, stderr) or a terminal's master and its slave's name. */
struct command_io {
	bool tty;
	int child_in, child_out, child_err; /* pipes only */
	int in, out, err;		    /* the init's ends, -1 once closed; a terminal's master is in and out */
	int master;			    /* a terminal's master, for its window size; -1 with pipes */
	char slave[32];
};

static int make_pipe(int *read_end, int *write_end, bool init_reads, struct line *err)
{
	int fds[2];
	long rc = syscall5(__NR_pipe2, (long)fds, O_CLOEXEC, 0, 0, 0);

	if (rc) {
		line_error(err, "create", "a pipe", rc);
		return (int)rc;
	}
	*read_end = fds[0];
	*write_end = fds[1];
	/* Only the init's end is non-blocking: the command gets ordinary pipes. */
	syscall5(__NR_fcntl, init_reads ? fds[0] : fds[1], F_SETFL, O_NONBLOCK, 0, 0);
	return 0;
}

static int open_pty(struct command_io *io, struct line *err)
{
	long master = sys_open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), rc;
	int unlock = 0;
	unsigned int n;
	struct line name = { .len = 0 };

	if (master < 0) {
		line_error(err, "open", "/dev/ptmx", master);
		return (int)master;
	}
	rc = sys_ioctl((int)master, TIOCSPTLCK, &unlock) ?: sys_ioctl((int)master, TIOCGPTN, &n);
	if (rc) {
		line_error(err, "unlock a terminal of", "/dev/ptmx", rc);
		return (int)rc;
	}
	line_add(&name, "/dev/pts/");
	line_add_num(&name, n);
	memcpy(io->slave, name.text, name.len);
	io->slave[name.len] = '\0';
	io->in = io->out = io->master = (int)master;
	io->err = -1; /* the command's stderr is the terminal too */
	return 0;
}

static int open_io(const struct init_conf *c, struct command_io *io, struct line *err)
{
	io->tty = c->tty;
	io->child_in = io->child_out = io->child_err = io->master = -1;
	if (c->tty)
		return open_pty(io, err);
	return make_pipe(&io->child_in, &io->in, false, err) ?: make_pipe(&io->out, &io->child_out, true, err) ?:
	       make_pipe(&io->err, &io->child_err, true, err);
}

/* A child's setup failure, sent back to the init on the status pipe; the child then exits. */
static _Noreturn void child_failed(int status_fd, const char *what, const char *object, long rc)
{
	struct line l;

	line_error(&l, what, object, rc);
	sys_write(status_fd, l.text, l.len);
	sys_exit(125);
}

/* "kvmini: CMD: why" on the command's stderr, then the shell's status for it. */
static _Noreturn void child_not_run(const char *cmd, const char *why, long rc, int status)
{
	struct line l = { .len = 0 };

	line_add(&l, "kvmini: ");
	line_add(&l, cmd);
	line_add(&l, ": ");
	line_add(&l, why);
	if (rc)
		line_add_errno(&l, rc);
	l.text[l.len++] = '\n';
	sys_write(2, l.text, l.len);
	sys_exit(status);
}

/* Runs cmd: by its path if it has a '/', else the first that runs from PATH, as a shell would. */
static _Noreturn void child_exec(const struct init_conf *c)
{
	static char candidate[4096];
	const char *cmd = c->args[0], *path = env_value(c->env, "PATH") ?: PATH_SEARCH_DEFAULT;
	bool denied = false;
	size_t pos = 0;
	long rc;
	int more;

	if (strchr(cmd, '/')) {
		rc = sys_execve(cmd, c->args, c->env);
		if (rc == -ENOENT || rc == -ENOTDIR)
			child_not_run(cmd, "command not found", 0, 127);
		child_not_run(cmd, rc == -EACCES ? "permission denied" : "cannot execute: ", rc == -EACCES ? 0 : rc,
			      126);
	}
	while ((more = path_search_next(path, &pos, cmd, candidate, sizeof(candidate)))) {
		if (more < 0)
			continue;
		rc = sys_execve(candidate, c->args, c->env);
		if (rc == -EACCES)
			denied = true;
		else if (rc != -ENOENT && rc != -ENOTDIR && rc != -ENAMETOOLONG)
			child_not_run(cmd, "cannot execute: ", rc, 126);
	}
	if (denied)
		child_not_run(cmd, "permission denied", 0, 126);
	child_not_run(cmd, "command not found", 0, 127);
}

static _Noreturn void child_run(const struct init_conf *c, const struct command_io *io, int status_fd)
{
	uint64_t none = 0;
	long rc;

	/* The init blocks SIGCHLD for its signalfd; the command starts with nothing blocked. */
	syscall5(__NR_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0);
	rc = syscall5(__NR_setsid, 0, 0, 0, 0, 0);
	if (rc < 0)
		child_failed(status_fd, "setsid", "for the command", rc);
	if (io->tty) {
		long fd = sys_open(io->slave, O_RDWR);

		if (fd < 0)
			child_failed(status_fd, "open", io->slave, fd);
		rc = sys_ioctl((int)fd, TIOCSCTTY, 0);
		if (rc)
			child_failed(status_fd, "make the controlling terminal", io->slave, rc);
		/* The user owns the terminal, as after a login. */
		syscall5(__NR_fchown, fd, c->uid, c->gid, 0, 0);
		for (int i = 0; i < 3; i++)
			sys_dup2((int)fd, i);
		if (fd > 2)
			sys_close((int)fd);
	} else {
		sys_dup2(io->child_in, 0);
		sys_dup2(io->child_out, 1);
		sys_dup2(io->child_err, 2);
	}
	rc = syscall5(__NR_setgroups, (long)c->n_groups, (long)c->groups, 0, 0, 0);
	if (rc)
		child_failed(status_fd, "setgroups", "for the command", rc);
	rc = syscall5(__NR_setgid, c->gid, 0, 0, 0, 0);
	if (rc)
		child_failed(status_fd, "setgid", "for the command", rc);
	rc = syscall5(__NR_setuid, c->uid, 0, 0, 0, 0);
	if (rc)
		child_failed(status_fd, "setuid", "for the command", rc);
	rc = syscall5(__NR_chdir, (long)c->cwd, 0, 0, 0, 0);
	if (rc)
		child_failed(status_fd, "cannot enter", c->cwd, rc);
	child_exec(c);
}

/* The relay's state. */
struct relay {
	struct command_io io;
	int signals;	  /* signalfd for SIGCHLD */
	int child;	  /* the command's pid */
	bool exited;	  /* the command has been reaped */
	int status;	  /* its wait status then */
	long exited_at;	  /* now_ms() then */
	bool input_held;  /* from_host holds an EXEC_STDIN frame not yet all written */
	size_t input_done; /* how much of it is written */
	bool host_quiet;  /* the host's side ended or broke: it is not read any more */
};

/* Reaps every child that has ended: the command's status is kept, orphans that came to PID 1 are just reaped. */
static void reap(struct relay *r)
{
	struct signalfd_siginfo info;
	int status;
	long pid;

	while (sys_read(r->signals, &info, sizeof(info)) > 0)
		;
	while ((pid = sys_wait4(-1, &status, WNOHANG)) > 0) {
		if (pid == r->child) {
			r->exited = true;
			r->status = status;
			r->exited_at = now_ms();
		}
	}
}

/* One of the command's output sources into the queue: stays open, or becomes -1 at its end. */
static void relay_output(struct relay *r, int *fd, uint32_t type)
{
	size_t room = frame_queue_room(&to_host);
	long n;

	if (!room)
		return;
	n = sys_read(*fd, frame_queue_payload(&to_host), room);
	if (n > 0) {
		frame_queue_commit(&to_host, type, (size_t)n);
		return;
	}
	if (n == -EAGAIN || n == -EINTR)
		return;
	/* 0 on a pipe, EIO on a terminal whose slave every process closed: the end of this output. */
	if (!r->io.tty)
		sys_close(*fd);
	*fd = -1;
}

/* Acts on a whole frame from the host. */
static void take_frame(struct relay *r)
{
	struct exec_frame h = frame_reader_header(&from_host);

	switch (h.type) {
	case EXEC_STDIN:
		if (r->io.in >= 0 && h.len) {
			r->input_held = true;
			r->input_done = 0;
			return;
		}
		break;
	case EXEC_STDIN_EOF:
		/* A terminal has no end of input to pass on: the user types ^D. */
		if (!r->io.tty && r->io.in >= 0) {
			sys_close(r->io.in);
			r->io.in = -1;
		}
		break;
	case EXEC_WINSIZE:
		if (r->io.tty && h.len == sizeof(struct exec_winsize)) {
			struct exec_winsize ws;
			struct winsize w = { 0 };

			memcpy(&ws, frame_reader_payload(&from_host), sizeof(ws));
			w.ws_row = ws.rows;
			w.ws_col = ws.cols;
			sys_ioctl(r->io.master, TIOCSWINSZ, &w);
		}
		break;
	default:
		break; /* nothing else comes from the host; an unknown frame is skipped whole */
	}
	frame_reader_next(&from_host);
}

static void relay_from_host(struct relay *r)
{
	size_t want = frame_reader_want(&from_host);
	long n = sys_read(channel_fd, frame_reader_space(&from_host), want);
	int whole;

	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n <= 0) {
		r->host_quiet = true;
		return;
	}
	whole = frame_reader_got(&from_host, (size_t)n);
	if (whole < 0) {
		struct line l;

		line_error(&l, "read a frame from", CHANNEL_PATH, whole);
		line_print(&l);
		r->host_quiet = true;
	} else if (whole) {
		take_frame(r);
	}
}

static void relay_input(struct relay *r)
{
	const uint8_t *p = frame_reader_payload(&from_host) + r->input_done;
	size_t len = frame_reader_header(&from_host).len - r->input_done;
	long n = sys_write(r->io.in, p, len);

	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n < 0) {
		/* The command will read no more (EPIPE), or its terminal is gone: the rest is for nobody. */
		if (!r->io.tty)
			sys_close(r->io.in);
		r->io.in = -1;
		n = (long)len;
	}
	r->input_done += (size_t)n;
	if (r->input_done == frame_reader_header(&from_host).len) {
		r->input_held = false;
		frame_reader_next(&from_host);
	}
}

enum { POLL_HOST, POLL_OUT, POLL_ERR, POLL_IN, POLL_SIGNALS, POLL_COUNT };

static void watch(struct pollfd *p, int fd, short events)
{
	p->fd = events ? fd : -1; /* an fd with nothing asked would still wake the loop on POLLHUP */
	p->events = events;
	p->revents = 0;
}

/* Relays until the command has exited and its output ended (or DRAIN_AFTER_EXIT_MS passed): 0, or the host's error. */
static int relay(struct relay *r)
{
	for (;;) {
		struct pollfd p[POLL_COUNT];
		size_t pending, room = frame_queue_room(&to_host);
		long timeout = -1;
		int rc;

		if (r->exited) {
			timeout = r->exited_at + DRAIN_AFTER_EXIT_MS - now_ms();
			if ((r->io.out < 0 && r->io.err < 0) || timeout <= 0)
				return 0;
		}
		frame_queue_pending(&to_host, &pending);
		watch(&p[POLL_HOST], channel_fd,
		      (short)((!r->input_held && !r->host_quiet ? POLLIN : 0) | (pending ? POLLOUT : 0)));
		watch(&p[POLL_OUT], r->io.out, r->io.out >= 0 && room ? POLLIN : 0);
		watch(&p[POLL_ERR], r->io.err, r->io.err >= 0 && room ? POLLIN : 0);
		watch(&p[POLL_IN], r->io.in, r->input_held && r->io.in >= 0 ? POLLOUT : 0);
		watch(&p[POLL_SIGNALS], r->signals, POLLIN);
		if (poll_fds(p, POLL_COUNT, timeout) < 0)
			continue; /* EINTR; nothing else can fail with these arguments */
		if (p[POLL_SIGNALS].revents)
			reap(r);
		if (p[POLL_HOST].revents & (POLLOUT | POLLERR)) {
			rc = send_some();
			if (rc)
				return rc;
		}
		if (p[POLL_HOST].revents & (POLLIN | POLLHUP | POLLERR) && !r->host_quiet && !r->input_held)
			relay_from_host(r);
		if (p[POLL_IN].revents)
			relay_input(r);
		if (p[POLL_OUT].revents)
			relay_output(r, &r->io.out, EXEC_STDOUT);
		if (p[POLL_ERR].revents)
			relay_output(r, &r->io.err, EXEC_STDERR);
		/* A stdin frame that arrived for a command whose input has closed is for nobody. */
		if (r->input_held && r->io.in < 0) {
			r->input_held = false;
			frame_reader_next(&from_host);
		}
	}
}

/* Forks the command and waits until it runs or its setup failed: 0, or a negative errno with err saying why. */
static int start_command(const struct init_conf *c, struct relay *r, struct line *err)
{
	uint64_t chld = 1ull << (SIGCHLD - 1);
	int status_pipe[2];
	long rc, n;

	rc = open_io(c, &r->io, err);
	if (rc)
		return (int)rc;
	/* SIGCHLD is blocked before the fork, so no exit can come before the signalfd sees it. */
	syscall5(__NR_rt_sigprocmask, SIG_BLOCK, (long)&chld, 0, 8, 0);
	rc = syscall5(__NR_signalfd4, -1, (long)&chld, 8, SFD_CLOEXEC | SFD_NONBLOCK, 0);
	if (rc < 0) {
		line_error(err, "create", "a signalfd", rc);
		return (int)rc;
	}
	r->signals = (int)rc;
	rc = syscall5(__NR_pipe2, (long)status_pipe, O_CLOEXEC, 0, 0, 0);
	if (rc) {
		line_error(err, "create", "a pipe", rc);
		return (int)rc;
	}
	rc = sys_fork();
	if (rc < 0) {
		line_error(err, "fork", "the command", rc);
		return (int)rc;
	}
	if (rc == 0) {
		sys_close(status_pipe[0]);
		child_run(c, &r->io, status_pipe[1]);
	}
	r->child = (int)rc;
	sys_close(status_pipe[1]);
	if (!r->io.tty) {
		sys_close(r->io.child_in);
		sys_close(r->io.child_out);
		sys_close(r->io.child_err);
		r->io.child_in = r->io.child_out = r->io.child_err = -1;
	}
	/* Its end closes at the execve (close-on-exec), or carries the line of what failed before it. */
	err->len = 0;
	while ((n = sys_read(status_pipe[0], err->text + err->len, sizeof(err->text) - 1 - err->len)) > 0)
		err->len += (size_t)n;
	sys_close(status_pipe[0]);
	return err->len ? -ECHILD : 0;
}

_Noreturn void exec_command(const struct init_conf *c)
{
	static struct relay r;
	struct exec_exit result;
	struct line err;
	int rc;

	if (start_command(c, &r, &err))
		fail(&err);
	frame_queue_add(&to_host, EXEC_STARTED, NULL, 0);
	rc = relay(&r);
	if (rc) {
		line_error(&err, "write to", CHANNEL_PATH, rc);
		line_print(&err);
		power_off();
	}
	result = frame_exit_from_status(r.status);
	send_last(EXEC_EXIT, &result, sizeof(result));
	power_off();
}
