/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asynchronous block I/O on one file descriptor: many reads, writes, flushes
 * and hole punches in flight at once, completed in any order, each completion
 * carrying the caller's tag. Two engines behind this one interface: io_uring,
 * driven with the kernel's system calls, and a small pool of worker threads
 * for hosts where io_uring is missing or refused. Either way an eventfd
 * becomes readable when completions may be waiting, so the I/O thread's epoll
 * wakes on it. One thread submits and reaps; the engine's own threads (the
 * kernel's or the pool's) are hidden.
 */
#ifndef KVMINI_BLKIO_H
#define KVMINI_BLKIO_H

#include <stdint.h>
#include <sys/uio.h>

enum blkio_op {
	BLKIO_READ,         /* preadv */
	BLKIO_WRITE,        /* pwritev */
	BLKIO_FLUSH,        /* fdatasync: what was written reads back after a crash */
	BLKIO_DISCARD,      /* fallocate(PUNCH_HOLE | KEEP_SIZE) over offset, len */
	BLKIO_WRITE_ZEROES, /* fallocate(ZERO_RANGE | KEEP_SIZE) over offset, len */
};

/*
 * Starts only once every earlier submission has completed, and every later
 * one waits for it: a FLUSH with it covers all the writes before it.
 */
#define BLKIO_BARRIER 1u

/*
 * One request. The iovec array and its buffers must stay valid until the
 * request's completion is reaped. offset is used by all but FLUSH (which
 * covers the whole file), len by DISCARD and WRITE_ZEROES only, iov and
 * iovcnt by READ and WRITE only.
 */
struct blkio_req {
	enum blkio_op op;
	unsigned flags; /* BLKIO_BARRIER */
	uint64_t offset;
	uint64_t len;
	const struct iovec *iov;
	unsigned iovcnt;
	uint64_t tag;
};

struct blkio_completion {
	uint64_t tag;
	int64_t result; /* bytes moved (READ, WRITE; possibly short), 0, or a negative errno */
};

enum blkio_engine {
	BLKIO_AUTO,     /* io_uring, else the threads where io_uring is missing or refused */
	BLKIO_IO_URING, /* io_uring or an error: -ENOSYS or -EPERM where it is missing or refused */
	BLKIO_THREADS,
};

/* The most requests in flight blkio_create accepts. */
#define BLKIO_MAX_DEPTH 4096u

struct blkio;

/*
 * An engine for fd (not taken over: the caller closes it after
 * blkio_destroy) holding at most depth (1..BLKIO_MAX_DEPTH) requests between
 * submission and reaping. Returns 0 or a negative errno.
 */
int blkio_create(struct blkio **out, int fd, unsigned depth, enum blkio_engine engine);

/* Waits for every request submitted to complete (the buffers are then free), then frees the engine. */
void blkio_destroy(struct blkio *b);

/* "io_uring" or "threads", for the log and the stats. */
const char *blkio_engine_name(const struct blkio *b);

/* Readable when completions may be waiting; blkio_reap clears it. */
int blkio_event_fd(const struct blkio *b);

/*
 * Queues a request; it starts at the next blkio_commit. -EAGAIN when depth
 * requests are already between submission and reaping, -EINVAL for a
 * malformed one (an unknown op or flag, an offset or length past INT64_MAX,
 * no or too many iovecs).
 */
int blkio_submit(struct blkio *b, const struct blkio_req *req);

/* Starts every queued request: one system call for io_uring. Returns 0 or a negative errno. */
int blkio_commit(struct blkio *b);

/*
 * Takes up to max completions without blocking: returns how many, or a
 * negative errno. With max taken the eventfd stays readable if any request
 * is still in flight, so a caller that reaps in batches is woken again.
 */
int blkio_reap(struct blkio *b, struct blkio_completion *out, unsigned max);

/*
 * Blocks until a completion may be waiting, at most timeout_ms (-1: no
 * limit): 0, or -ETIMEDOUT. Returns at once when nothing is in flight.
 */
int blkio_wait(struct blkio *b, int timeout_ms);

/*
 * Points the engine at another file (a drive's new backing file) while
 * nothing is in flight: 0, or -EBUSY. The engine is made where it may be
 * (io_uring_setup before the seccomp filters), then kept.
 */
int blkio_set_fd(struct blkio *b, int fd);

/* Requests submitted and not yet reaped. */
unsigned blkio_in_flight(const struct blkio *b);

#endif
