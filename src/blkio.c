// SPDX-License-Identifier: Apache-2.0
/*
 * Asynchronous block I/O (include/blkio.h): io_uring through its system calls
 * and <linux/io_uring.h>, or a pool of worker threads. The front end checks
 * requests and counts what is in flight; each engine queues, starts and reaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blkio.h"
#include "jail.h"
#include "log.h"
#include "thread.h"

/* Enough to keep a disk busy while one thread waits on a flush; each costs a stack. */
#define POOL_THREADS 4u

struct uring {
	int fd;
	void *ring;
	size_t ring_size;
	struct io_uring_sqe *sqes;
	size_t sqes_size;
	uint32_t *sq_tail, *sq_mask, *sq_array;
	uint32_t *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	uint32_t tail;      /* ours: the kernel sees it at blkio_commit */
	unsigned unstarted; /* queued SQEs the kernel has not taken yet */
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a request became runnable, or stop */
	/* Requests: [head, committed) may run, [committed, tail) wait for blkio_commit. Indices mod depth. */
	struct blkio_req *queue;
	unsigned head, committed, tail;
	struct blkio_completion *done; /* [done_head, done_tail) mod depth */
	unsigned done_head, done_tail;
	unsigned running;
	bool barrier_running;
	bool stop;
	pthread_t threads[POOL_THREADS];
	unsigned nthreads;
};

struct blkio {
	enum blkio_engine engine; /* BLKIO_IO_URING or BLKIO_THREADS */
	int fd;
	int event_fd;
	unsigned depth;
	unsigned in_flight;
	union {
		struct uring uring;
		struct pool pool;
	};
};

/* io_uring */

static int ring_setup(unsigned entries, struct io_uring_params *p)
{
	long r = syscall(__NR_io_uring_setup, entries, p);

	return r < 0 ? -errno : (int)r;
}

static int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags)
{
	long r = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);

	return r < 0 ? -errno : (int)r;
}

static int ring_register(int fd, unsigned opcode, void *arg, unsigned nr)
{
	long r = syscall(__NR_io_uring_register, fd, opcode, arg, nr);

	return r < 0 ? -errno : 0;
}

/* 0 if the kernel knows every opcode blkio uses; -ENOSYS if it is too old (no probe before 5.6). */
static int uring_probe(int fd)
{
	static const uint8_t needed[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_FALLOCATE };
	const size_t size = sizeof(struct io_uring_probe) + IORING_OP_LAST * sizeof(struct io_uring_probe_op);
	struct io_uring_probe *probe = calloc(1, size);
	int err;

	if (!probe)
		return -ENOMEM;
	err = ring_register(fd, IORING_REGISTER_PROBE, probe, IORING_OP_LAST);
	for (size_t i = 0; !err && i < sizeof(needed); i++)
		if (needed[i] >= probe->ops_len || !(probe->ops[needed[i]].flags & IO_URING_OP_SUPPORTED))
			err = -ENOSYS;
	free(probe);
	return err == -EINVAL ? -ENOSYS : err;
}

static void uring_close(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_size);
	if (u->ring)
		munmap(u->ring, u->ring_size);
	close(u->fd);
}

static int uring_open(struct blkio *b)
{
	struct uring *u = &b->uring;
	struct io_uring_params p = { 0 };
	size_t sq_size, cq_size;
	void *sqes;
	int err;

	*u = (struct uring){ .fd = -1 };
	if ((u->fd = ring_setup(b->depth, &p)) < 0)
		return u->fd;
	/* One mmap for both rings (5.4); a kernel without it lacks the opcodes too. */
	err = p.features & IORING_FEAT_SINGLE_MMAP ? uring_probe(u->fd) : -ENOSYS;
	if (err)
		goto fail;
	sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	u->ring_size = sq_size > cq_size ? sq_size : cq_size;
	u->ring = mmap(NULL, u->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		       IORING_OFF_SQ_RING);
	if (u->ring == MAP_FAILED) {
		u->ring = NULL;
		err = -errno;
		goto fail;
	}
	u->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
	sqes = mmap(NULL, u->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (sqes == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	u->sqes = sqes;
	u->sq_tail = (uint32_t *)((char *)u->ring + p.sq_off.tail);
	u->sq_mask = (uint32_t *)((char *)u->ring + p.sq_off.ring_mask);
	u->sq_array = (uint32_t *)((char *)u->ring + p.sq_off.array);
	u->cq_head = (uint32_t *)((char *)u->ring + p.cq_off.head);
	u->cq_tail = (uint32_t *)((char *)u->ring + p.cq_off.tail);
	u->cq_mask = (uint32_t *)((char *)u->ring + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->ring + p.cq_off.cqes);
	u->tail = *u->sq_tail;
	err = ring_register(u->fd, IORING_REGISTER_EVENTFD, &b->event_fd, 1);
	if (!err)
		return 0;
fail:
	uring_close(u);
	return err;
}

/* The SQ has room: in_flight < depth <= sq_entries, and every queued SQE is in flight. */
static void uring_queue(struct blkio *b, const struct blkio_req *req)
{
	struct uring *u = &b->uring;
	const uint32_t i = u->tail & *u->sq_mask;
	struct io_uring_sqe *sqe = &u->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->fd = b->fd;
	sqe->off = req->offset;
	sqe->user_data = req->tag;
	if (req->flags & BLKIO_BARRIER)
		sqe->flags = IOSQE_IO_DRAIN;
	switch (req->op) {
	case BLKIO_READ:
	case BLKIO_WRITE:
		sqe->opcode = req->op == BLKIO_READ ? IORING_OP_READV : IORING_OP_WRITEV;
		sqe->addr = (uintptr_t)req->iov;
		sqe->len = req->iovcnt;
		break;
	case BLKIO_FLUSH:
		/* The whole file, as fdatasync: an offset or length here would sync only that range. */
		sqe->opcode = IORING_OP_FSYNC;
		sqe->off = 0;
		sqe->fsync_flags = IORING_FSYNC_DATASYNC;
		break;
	case BLKIO_DISCARD:
	case BLKIO_WRITE_ZEROES:
		/* fallocate's length goes in addr, its mode in len. */
		sqe->opcode = IORING_OP_FALLOCATE;
		sqe->addr = req->len;
		sqe->len = FALLOC_FL_KEEP_SIZE |
			   (req->op == BLKIO_DISCARD ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
		break;
	}
	u->sq_array[i] = i;
	u->tail++;
	u->unstarted++;
}

static int uring_commit(struct uring *u)
{
	/* The SQEs are written before the kernel may see the new tail. */
	__atomic_store_n(u->sq_tail, u->tail, __ATOMIC_RELEASE);
	while (u->unstarted) {
		int n = ring_enter(u->fd, u->unstarted, 0, 0);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			return -EAGAIN;
		u->unstarted -= (unsigned)n;
	}
	return 0;
}

static unsigned uring_reap(struct uring *u, struct blkio_completion *out, unsigned max)
{
	uint32_t head = *u->cq_head;
	/* The CQE is read only after its tail is seen. */
	const uint32_t tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	for (; n < max && head != tail; head++, n++) {
		const struct io_uring_cqe *cqe = &u->cqes[head & *u->cq_mask];

		out[n] = (struct blkio_completion){ .tag = cqe->user_data, .result = cqe->res };
	}
	/* And its slot is given back only after it was read. */
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	return n;
}

/* The worker pool */

static int64_t pool_run(int fd, const struct blkio_req *r)
{
	const off_t off = (off_t)r->offset;
	ssize_t n = -1;

	switch (r->op) {
	case BLKIO_READ:
		n = preadv(fd, r->iov, (int)r->iovcnt, off);
		break;
	case BLKIO_WRITE:
		n = pwritev(fd, r->iov, (int)r->iovcnt, off);
		break;
	case BLKIO_FLUSH:
		n = fdatasync(fd);
		break;
	case BLKIO_DISCARD:
		n = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)r->len);
		break;
	case BLKIO_WRITE_ZEROES:
		n = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, (off_t)r->len);
		break;
	}
	return n < 0 ? -errno : n;
}

/* The next request may start: none runs past a barrier, and a barrier waits for all before it. Under the lock. */
static bool pool_runnable(const struct blkio *b)
{
	const struct pool *p = &b->pool;

	if (p->head == p->committed || p->barrier_running)
		return false;
	return !(p->queue[p->head % b->depth].flags & BLKIO_BARRIER) || p->running == 0;
}

static void *pool_worker(void *arg)
{
	struct blkio *b = arg;
	struct pool *p = &b->pool;
	const uint64_t one = 1;
	const char *what;
	int err;

	/* Filtered as the I/O thread that feeds it: what a request calls is on that list. */
	if ((err = jail_enter(SECCOMP_IO, &what))) {
		log_error("blkio worker: cannot confine it: %s: %s; it takes no requests", what, strerror(-err));
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stop || pool_runnable(b)) {
		struct blkio_req req;
		int64_t result;

		if (!pool_runnable(b)) {
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		req = p->queue[p->head++ % b->depth];
		p->running++;
		p->barrier_running = req.flags & BLKIO_BARRIER;
		pthread_mutex_unlock(&p->lock);
		result = pool_run(b->fd, &req);
		pthread_mutex_lock(&p->lock);
		p->running--;
		p->barrier_running = false;
		p->done[p->done_tail++ % b->depth] = (struct blkio_completion){ .tag = req.tag, .result = result };
		/* A full eventfd counter cannot happen: it counts at most depth completions between reaps. */
		(void)!write(b->event_fd, &one, sizeof(one));
		/* A finished request may unblock a barrier, a finished barrier everything after it. */
		if (pool_runnable(b))
			pthread_cond_broadcast(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->queue);
	free(p->done);
}

static int pool_open(struct blkio *b)
{
	struct pool *p = &b->pool;
	const unsigned n = b->depth < POOL_THREADS ? b->depth : POOL_THREADS;
	int err = 0;

	*p = (struct pool){ 0 };
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->queue = calloc(b->depth, sizeof(*p->queue));
	p->done = calloc(b->depth, sizeof(*p->done));
	if (!p->queue || !p->done)
		err = -ENOMEM;
	while (!err && p->nthreads < n)
		if (!(err = thread_start(&p->threads[p->nthreads], pool_worker, b)))
			p->nthreads++;
	if (err)
		pool_stop(p);
	return err;
}

static unsigned pool_reap(struct blkio *b, struct blkio_completion *out, unsigned max)
{
	struct pool *p = &b->pool;
	unsigned n = 0;

	pthread_mutex_lock(&p->lock);
	for (; n < max && p->done_head != p->done_tail; n++)
		out[n] = p->done[p->done_head++ % b->depth];
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* The front end */

int blkio_create(struct blkio **out, int fd, unsigned depth, enum blkio_engine engine)
{
	struct blkio *b;
	int err = -EINVAL;

	if (fd < 0 || depth == 0 || depth > BLKIO_MAX_DEPTH || engine > BLKIO_THREADS)
		return -EINVAL;
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	*b = (struct blkio){ .fd = fd, .depth = depth };
	if ((b->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err = -errno;
		free(b);
		return err;
	}
	if (engine != BLKIO_THREADS) {
		b->engine = BLKIO_IO_URING;
		err = uring_open(b);
		/* Missing (ENOSYS) or refused (EPERM: seccomp, kernel.io_uring_disabled): the threads do instead. */
		if (engine == BLKIO_AUTO && (err == -ENOSYS || err == -EPERM))
			engine = BLKIO_THREADS;
	}
	if (engine == BLKIO_THREADS) {
		b->engine = BLKIO_THREADS;
		err = pool_open(b);
	}
	if (err) {
		close(b->event_fd);
		free(b);
		return err;
	}
	*out = b;
	return 0;
}

const char *blkio_engine_name(const struct blkio *b)
{
	return b->engine == BLKIO_IO_URING ? "io_uring" : "threads";
}

int blkio_event_fd(const struct blkio *b)
{
	return b->event_fd;
}

unsigned blkio_in_flight(const struct blkio *b)
{
	return b->in_flight;
}

int blkio_set_fd(struct blkio *b, int fd)
{
	if (b->in_flight)
		return -EBUSY;
	/* The pool's threads read it only after taking a request, under the lock. */
	if (b->engine == BLKIO_THREADS)
		pthread_mutex_lock(&b->pool.lock);
	b->fd = fd;
	if (b->engine == BLKIO_THREADS)
		pthread_mutex_unlock(&b->pool.lock);
	return 0;
}

static bool req_valid(const struct blkio_req *r)
{
	if (r->flags & ~BLKIO_BARRIER || r->offset > INT64_MAX)
		return false;
	switch (r->op) {
	case BLKIO_READ:
	case BLKIO_WRITE:
		return r->iov && r->iovcnt > 0 && r->iovcnt <= IOV_MAX;
	case BLKIO_FLUSH:
		return true;
	case BLKIO_DISCARD:
	case BLKIO_WRITE_ZEROES:
		return r->len > 0 && r->len <= INT64_MAX - r->offset;
	}
	return false;
}

int blkio_submit(struct blkio *b, const struct blkio_req *req)
{
	if (!req_valid(req))
		return -EINVAL;
	if (b->in_flight >= b->depth)
		return -EAGAIN;
	if (b->engine == BLKIO_IO_URING) {
		uring_queue(b, req);
	} else {
		pthread_mutex_lock(&b->pool.lock);
		b->pool.queue[b->pool.tail++ % b->depth] = *req;
		pthread_mutex_unlock(&b->pool.lock);
	}
	b->in_flight++;
	return 0;
}

int blkio_commit(struct blkio *b)
{
	struct pool *p = &b->pool;

	if (b->engine == BLKIO_IO_URING)
		return uring_commit(&b->uring);
	pthread_mutex_lock(&p->lock);
	p->committed = p->tail;
	if (pool_runnable(b))
		pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int blkio_reap(struct blkio *b, struct blkio_completion *out, unsigned max)
{
	uint64_t count;
	unsigned n;

	/* Cleared before the rings are read: a completion after that sets it again, none is missed. */
	if (read(b->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	n = b->engine == BLKIO_IO_URING ? uring_reap(&b->uring, out, max) : pool_reap(b, out, max);
	b->in_flight -= n;
	/* Some may be left: the eventfd is set again so that an epoll loop comes back for them. */
	if (n == max && b->in_flight)
		(void)!write(b->event_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
	return (int)n;
}

int blkio_wait(struct blkio *b, int timeout_ms)
{
	struct pollfd pfd = { .fd = b->event_fd, .events = POLLIN };
	int n;

	if (!b->in_flight)
		return 0;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n ? 0 : -ETIMEDOUT;
}

void blkio_destroy(struct blkio *b)
{
	struct blkio_completion sink[64];

	if (!b)
		return;
	/*
	 * The buffers are the caller's: nothing may still write into them once
	 * this returns, so every request the engine took must finish. A request
	 * io_uring never took (its commit failed) never will.
	 */
	blkio_commit(b);
	while (b->in_flight > (b->engine == BLKIO_IO_URING ? b->uring.unstarted : 0))
		if (blkio_reap(b, sink, 64) == 0)
			blkio_wait(b, -1);
	if (b->engine == BLKIO_IO_URING)
		uring_close(&b->uring);
	else
		pool_stop(&b->pool);
	close(b->event_fd);
	free(b);
}
