// SPDX-License-Identifier: Apache-2.0
/*
 * The asynchronous block I/O engine, each test on both engines (io_uring and
 * the threads) and on a temporary file and a memfd where it applies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blkio.h"

#define TEST_TIMEOUT 60
/* How long a test waits for one completion before it fails. */
#define WAIT_MS 10000
#define KIB 1024u
#define MIB (1024u * KIB)

struct fixture {
	enum blkio_engine engine;
	bool memfd;
	int fd;
	struct blkio *b;
};

static int open_file(bool memfd)
{
	char path[] = "/tmp/kvmini-blkio-XXXXXX";
	int fd;

	if (memfd)
		return memfd_create("kvmini-blkio", MFD_CLOEXEC);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* io_uring refused or missing here: the test is skipped, saying why, and nothing else is. */
static bool uring_refused(int err)
{
	if (err != -ENOSYS && err != -EPERM)
		return false;
	print_message("io_uring unavailable here (%s): skipped, the threads engine ran\n", strerror(-err));
	return true;
}

static struct blkio *create(struct fixture *f, unsigned depth)
{
	struct blkio *b = NULL;
	int err = blkio_create(&b, f->fd, depth, f->engine);

	if (f->engine == BLKIO_IO_URING && uring_refused(err))
		skip();
	assert_int_equal(err, 0);
	assert_string_equal(blkio_engine_name(b), f->engine == BLKIO_IO_URING ? "io_uring" : "threads");
	return b;
}

static int setup(void **state)
{
	struct fixture *f = *state;

	alarm(TEST_TIMEOUT);
	f->fd = open_file(f->memfd);
	f->b = NULL;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	blkio_destroy(f->b);
	close(f->fd);
	return 0;
}

/* Reaps n completions into out, in the order they come, failing if one takes longer than WAIT_MS. */
static void reap(struct blkio *b, struct blkio_completion *out, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		int r = blkio_reap(b, out + got, n - got);

		assert_true(r >= 0);
		got += (unsigned)r;
		if (got < n)
			assert_int_equal(blkio_wait(b, WAIT_MS), 0);
	}
	assert_int_equal(blkio_in_flight(b), 0);
}

static void submit(struct blkio *b, enum blkio_op op, unsigned flags, uint64_t offset, uint64_t len,
		   const struct iovec *iov, unsigned iovcnt, uint64_t tag)
{
	const struct blkio_req req = {
		.op = op, .flags = flags, .offset = offset, .len = len, .iov = iov, .iovcnt = iovcnt, .tag = tag,
	};

	assert_int_equal(blkio_submit(b, &req), 0);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 12));
}

/* 64 writes of 4 KiB (two iovecs each), then reads of them: every tag once with its result, the bytes right. */
static void test_data(void **state)
{
	enum { N = 64, SZ = 4 * KIB };
	struct fixture *f = *state;
	static uint8_t src[N][SZ], dst[N][SZ];
	struct iovec wiov[N][2], riov[N];
	struct blkio_completion c[N];
	bool seen[N] = { false };

	f->b = create(f, N);
	for (unsigned i = 0; i < N; i++) {
		fill(src[i], SZ, i + 1);
		wiov[i][0] = (struct iovec){ src[i], 1000 };
		wiov[i][1] = (struct iovec){ src[i] + 1000, SZ - 1000 };
		/* Scattered over 4 MiB, backwards, so that offsets and tags do not follow each other. */
		submit(f->b, BLKIO_WRITE, 0, (uint64_t)(N - 1 - i) * 64 * KIB, 0, wiov[i], 2, 1000 + i);
	}
	assert_int_equal(blkio_in_flight(f->b), N);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, N);
	for (unsigned i = 0; i < N; i++) {
		assert_in_range(c[i].tag, 1000, 1000 + N - 1);
		assert_false(seen[c[i].tag - 1000]);
		seen[c[i].tag - 1000] = true;
		assert_int_equal(c[i].result, SZ);
	}
	for (unsigned i = 0; i < N; i++) {
		riov[i] = (struct iovec){ dst[i], SZ };
		submit(f->b, BLKIO_READ, 0, (uint64_t)(N - 1 - i) * 64 * KIB, 0, &riov[i], 1, 2000 + i);
	}
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, N);
	for (unsigned i = 0; i < N; i++) {
		assert_in_range(c[i].tag, 2000, 2000 + N - 1);
		assert_int_equal(c[i].result, SZ);
	}
	for (unsigned i = 0; i < N; i++)
		assert_memory_equal(src[i], dst[i], SZ);
}

/*
 * A large write, then small reads: on the threads the reads finish first.
 * The kernel's scheduling decides each round, so the test needs only one
 * reordered round of many; the tags must be right in every round.
 */
static void test_out_of_order(void **state)
{
	enum { SMALL = 8, BIG = 32 * MIB };
	struct fixture *f = *state;
	uint8_t *big = malloc(BIG);
	static uint8_t small[SMALL][512];
	struct iovec big_iov = { big, BIG }, small_iov[SMALL];
	struct blkio_completion c[SMALL + 1];
	bool reordered = false;

	assert_non_null(big);
	memset(big, 0x5a, BIG);
	f->b = create(f, SMALL + 1);
	for (int round = 0; round < 20 && !reordered; round++) {
		bool seen[SMALL + 1] = { false };

		submit(f->b, BLKIO_WRITE, 0, 0, 0, &big_iov, 1, 0);
		for (unsigned i = 0; i < SMALL; i++) {
			small_iov[i] = (struct iovec){ small[i], sizeof(small[i]) };
			submit(f->b, BLKIO_READ, 0, BIG + i * 512, 0, &small_iov[i], 1, i + 1);
		}
		assert_int_equal(blkio_commit(f->b), 0);
		reap(f->b, c, SMALL + 1);
		for (unsigned i = 0; i <= SMALL; i++) {
			assert_in_range(c[i].tag, 0, SMALL);
			assert_false(seen[c[i].tag]);
			seen[c[i].tag] = true;
			/* The reads are past the end of the file the write makes: they read nothing. */
			assert_int_equal(c[i].result, c[i].tag == 0 ? BIG : 0);
		}
		reordered = c[0].tag != 0;
	}
	free(big);
	if (f->engine == BLKIO_THREADS)
		assert_true(reordered);
	else
		print_message("io_uring completed %s submission order\n", reordered ? "out of" : "in");
}

/* DISCARD leaves a hole (SEEK_HOLE finds it) reading as zeroes, the size kept. */
static void test_discard(void **state)
{
	enum { SZ = 1 * MIB };
	struct fixture *f = *state;
	uint8_t *data = malloc(SZ), *back = malloc(SZ);
	struct iovec w = { data, SZ }, r = { back, SZ };
	struct blkio_completion c[2];

	assert_non_null(data);
	assert_non_null(back);
	fill(data, SZ, 3);
	f->b = create(f, 4);
	submit(f->b, BLKIO_WRITE, 0, 0, 0, &w, 1, 1);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, 1);
	assert_int_equal(c[0].result, SZ);
	assert_int_equal(lseek(f->fd, 0, SEEK_HOLE), SZ);
	submit(f->b, BLKIO_DISCARD, 0, 256 * KIB, 256 * KIB, NULL, 0, 2);
	submit(f->b, BLKIO_READ, BLKIO_BARRIER, 0, 0, &r, 1, 3);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, 2);
	assert_int_equal(c[0].tag, 2);
	assert_int_equal(c[0].result, 0);
	assert_int_equal(c[1].tag, 3);
	assert_int_equal(c[1].result, SZ);
	assert_int_equal(lseek(f->fd, 0, SEEK_HOLE), 256 * KIB);
	assert_int_equal(lseek(f->fd, 256 * KIB, SEEK_DATA), 512 * KIB);
	assert_int_equal(lseek(f->fd, 0, SEEK_END), SZ);
	assert_memory_equal(back, data, 256 * KIB);
	for (unsigned i = 256 * KIB; i < 512 * KIB; i++)
		assert_int_equal(back[i], 0);
	assert_memory_equal(back + 512 * KIB, data + 512 * KIB, SZ - 512 * KIB);
	free(data);
	free(back);
}

/* WRITE_ZEROES on a file: the range reads as zeroes, the rest and the size are kept. */
static void test_write_zeroes(void **state)
{
	enum { SZ = 256 * KIB };
	struct fixture *f = *state;
	static uint8_t data[SZ], back[SZ];
	struct iovec w = { data, SZ }, r = { back, SZ };
	struct blkio_completion c[3];

	fill(data, SZ, 9);
	f->b = create(f, 4);
	submit(f->b, BLKIO_WRITE, 0, 0, 0, &w, 1, 1);
	submit(f->b, BLKIO_WRITE_ZEROES, BLKIO_BARRIER, 64 * KIB, 4 * KIB, NULL, 0, 2);
	submit(f->b, BLKIO_READ, BLKIO_BARRIER, 0, 0, &r, 1, 3);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(c[i].tag, i + 1);
		assert_int_equal(c[i].result, i == 1 ? 0 : SZ);
	}
	memset(data + 64 * KIB, 0, 4 * KIB);
	assert_memory_equal(back, data, SZ);
	assert_int_equal(lseek(f->fd, 0, SEEK_END), SZ);
}

/* A memfd has no ZERO_RANGE: the error comes back in that request's completion only. */
static void test_error_per_request(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[512] = { 1 };
	struct iovec w = { buf, sizeof(buf) };
	struct blkio_completion c[3];

	f->b = create(f, 4);
	submit(f->b, BLKIO_WRITE, 0, 0, 0, &w, 1, 1);
	submit(f->b, BLKIO_WRITE_ZEROES, BLKIO_BARRIER, 0, 512, NULL, 0, 2);
	submit(f->b, BLKIO_WRITE, BLKIO_BARRIER, 512, 0, &w, 1, 3);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(c[i].tag, i + 1);
		assert_int_equal(c[i].result, i == 1 ? -EOPNOTSUPP : (int64_t)sizeof(buf));
	}
}

/*
 * A barrier FLUSH after large writes completes after all of them, and the
 * small reads after it complete after it, though they would be quicker.
 */
static void test_barrier(void **state)
{
	enum { WRITES = 4, READS = 4, SZ = 4 * MIB };
	struct fixture *f = *state;
	uint8_t *data = malloc(SZ);
	static uint8_t small[READS][512];
	struct iovec w = { data, SZ }, r[READS];
	struct blkio_completion c[WRITES + 1 + READS];

	assert_non_null(data);
	memset(data, 0xa5, SZ);
	f->b = create(f, WRITES + 1 + READS);
	for (unsigned i = 0; i < WRITES; i++)
		submit(f->b, BLKIO_WRITE, 0, (uint64_t)i * SZ, 0, &w, 1, i);
	submit(f->b, BLKIO_FLUSH, BLKIO_BARRIER, 0, 0, NULL, 0, WRITES);
	for (unsigned i = 0; i < READS; i++) {
		r[i] = (struct iovec){ small[i], sizeof(small[i]) };
		submit(f->b, BLKIO_READ, 0, (uint64_t)i * SZ, 0, &r[i], 1, WRITES + 1 + i);
	}
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, WRITES + 1 + READS);
	for (unsigned i = 0; i < WRITES + 1 + READS; i++) {
		if (i < WRITES)
			assert_in_range(c[i].tag, 0, WRITES - 1);
		else if (i == WRITES)
			assert_int_equal(c[i].tag, WRITES);
		else
			assert_in_range(c[i].tag, WRITES + 1, WRITES + READS);
		assert_int_equal(c[i].result, i < WRITES ? SZ : i == WRITES ? 0 : 512);
	}
	for (unsigned i = 0; i < READS; i++)
		assert_memory_equal(small[i], data, sizeof(small[i]));
	free(data);
}

/* At depth in flight a submission is refused with -EAGAIN, and accepted again once one is reaped. */
static void test_full_queue(void **state)
{
	enum { DEPTH = 8 };
	struct fixture *f = *state;
	const struct blkio_req flush = { .op = BLKIO_FLUSH, .tag = 99 };
	struct blkio_completion c[DEPTH];
	int got = 0;

	f->b = create(f, DEPTH);
	for (unsigned i = 0; i < DEPTH; i++)
		submit(f->b, BLKIO_FLUSH, 0, 0, 0, NULL, 0, i);
	assert_int_equal(blkio_submit(f->b, &flush), -EAGAIN);
	assert_int_equal(blkio_commit(f->b), 0);
	assert_int_equal(blkio_submit(f->b, &flush), -EAGAIN);
	while (got == 0) {
		assert_int_equal(blkio_wait(f->b, WAIT_MS), 0);
		got = blkio_reap(f->b, c, 1);
	}
	assert_int_equal(got, 1);
	assert_int_equal(blkio_in_flight(f->b), DEPTH - 1);
	assert_int_equal(blkio_submit(f->b, &flush), 0);
	assert_int_equal(blkio_submit(f->b, &flush), -EAGAIN);
	assert_int_equal(blkio_commit(f->b), 0);
	reap(f->b, c, DEPTH);
}

/* Malformed requests are refused before they take a slot. */
static void test_invalid(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16];
	const struct iovec iov = { buf, sizeof(buf) };
	const struct blkio_req bad[] = {
		{ .op = (enum blkio_op)99 },
		{ .op = BLKIO_FLUSH, .flags = 2 },
		{ .op = BLKIO_READ, .iov = &iov, .iovcnt = 0 },
		{ .op = BLKIO_READ, .iov = NULL, .iovcnt = 1 },
		{ .op = BLKIO_WRITE, .iov = &iov, .iovcnt = IOV_MAX + 1 },
		{ .op = BLKIO_WRITE, .iov = &iov, .iovcnt = 1, .offset = (uint64_t)INT64_MAX + 1 },
		{ .op = BLKIO_DISCARD, .offset = 0, .len = 0 },
		{ .op = BLKIO_DISCARD, .offset = 4096, .len = INT64_MAX },
		{ .op = BLKIO_WRITE_ZEROES, .offset = UINT64_MAX, .len = 1 },
	};
	struct blkio *b;

	f->b = create(f, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(blkio_submit(f->b, &bad[i]), -EINVAL);
	assert_int_equal(blkio_in_flight(f->b), 0);
	assert_int_equal(blkio_create(&b, f->fd, 0, f->engine), -EINVAL);
	assert_int_equal(blkio_create(&b, f->fd, BLKIO_MAX_DEPTH + 1, f->engine), -EINVAL);
	assert_int_equal(blkio_create(&b, -1, 4, f->engine), -EINVAL);
	assert_int_equal(blkio_create(&b, f->fd, 4, (enum blkio_engine)7), -EINVAL);
}

/* The eventfd is readable once a completion is there, and no longer once it is reaped. */
static void test_event_fd(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	struct blkio_completion c;

	f->b = create(f, 2);
	pfd = (struct pollfd){ .fd = blkio_event_fd(f->b), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	submit(f->b, BLKIO_FLUSH, 0, 0, 0, NULL, 0, 7);
	assert_int_equal(blkio_commit(f->b), 0);
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_int_equal(blkio_reap(f->b, &c, 1), 1);
	assert_int_equal(c.tag, 7);
	assert_int_equal(c.result, 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(blkio_reap(f->b, &c, 1), 0);
	assert_int_equal(blkio_wait(f->b, -1), 0); /* nothing in flight: no wait */
}

/* Reaped one of two completions, the eventfd stays readable for the other. */
static void test_partial_reap(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd;
	struct blkio_completion c[2];
	uint64_t posted = 0, count;

	f->b = create(f, 2);
	pfd = (struct pollfd){ .fd = blkio_event_fd(f->b), .events = POLLIN };
	submit(f->b, BLKIO_FLUSH, 0, 0, 0, NULL, 0, 1);
	submit(f->b, BLKIO_FLUSH, 0, 0, 0, NULL, 0, 2);
	assert_int_equal(blkio_commit(f->b), 0);
	/* Both engines add 1 to the eventfd per completion: both are there once it has counted 2, and it is clear. */
	while (posted < 2) {
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		assert_int_equal(read(pfd.fd, &count, sizeof(count)), sizeof(count));
		posted += count;
	}
	assert_int_equal(posted, 2);
	assert_int_equal(blkio_reap(f->b, c, 1), 1);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(blkio_reap(f->b, c + 1, 1), 1);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(c[0].tag + c[1].tag, 3);
}

/* Destroyed with requests in flight (some not committed), it waits: every write is in the file afterwards. */
static void test_destroy_in_flight(void **state)
{
	enum { N = 16, SZ = 1 * MIB };
	struct fixture *f = *state;
	uint8_t *data = malloc(N * SZ), *back = malloc(SZ);
	struct iovec iov[N];

	assert_non_null(data);
	assert_non_null(back);
	fill(data, N * SZ, 5);
	f->b = create(f, N);
	for (unsigned i = 0; i < N; i++) {
		iov[i] = (struct iovec){ data + (size_t)i * SZ, SZ };
		submit(f->b, BLKIO_WRITE, 0, (uint64_t)i * SZ, 0, &iov[i], 1, i);
		if (i == N / 2)
			assert_int_equal(blkio_commit(f->b), 0);
	}
	blkio_destroy(f->b);
	f->b = NULL;
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(pread(f->fd, back, SZ, (off_t)i * SZ), SZ);
		assert_memory_equal(back, data + (size_t)i * SZ, SZ);
	}
	free(data);
	free(back);
}

/* BLKIO_AUTO takes io_uring where it works, the threads only where it is missing or refused. */
static void test_auto(void **state)
{
	struct fixture *f = *state;
	struct blkio *u = NULL;
	int err;

	assert_int_equal(blkio_create(&f->b, f->fd, 4, BLKIO_AUTO), 0);
	err = blkio_create(&u, f->fd, 4, BLKIO_IO_URING);
	if (err == 0) {
		assert_string_equal(blkio_engine_name(f->b), "io_uring");
		blkio_destroy(u);
	} else {
		assert_true(uring_refused(err));
		assert_string_equal(blkio_engine_name(f->b), "threads");
	}
}

/* In a child: io_uring_setup fails with err (as under a seccomp profile); what AUTO and IO_URING make of it. */
static int refused_child(int fd, int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	const struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	const struct blkio_req flush = { .op = BLKIO_FLUSH, .tag = 5 };
	struct blkio_completion c;
	struct blkio *b;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 10;
	if (blkio_create(&b, fd, 2, BLKIO_IO_URING) != -err)
		return 11;
	if (blkio_create(&b, fd, 2, BLKIO_AUTO))
		return 12;
	if (strcmp(blkio_engine_name(b), "threads") || blkio_submit(b, &flush) || blkio_commit(b) ||
	    blkio_wait(b, WAIT_MS) || blkio_reap(b, &c, 1) != 1 || c.tag != 5 || c.result != 0)
		return 13;
	blkio_destroy(b);
	return 0;
}

/* Refused (EPERM) or missing (ENOSYS), io_uring gives way to the threads under AUTO, and only then. */
static void test_refused(void **state)
{
	struct fixture *f = *state;
	const int errs[] = { EPERM, ENOSYS, EINVAL };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(refused_child(f->fd, errs[i]));
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		/* Any other error is not a refusal: AUTO fails with it rather than hide it. */
		assert_int_equal(WEXITSTATUS(status), errs[i] == EINVAL ? 12 : 0);
	}
}

static struct fixture threads_file = { .engine = BLKIO_THREADS };
static struct fixture threads_memfd = { .engine = BLKIO_THREADS, .memfd = true };
static struct fixture uring_file = { .engine = BLKIO_IO_URING };
static struct fixture uring_memfd = { .engine = BLKIO_IO_URING, .memfd = true };

/* Named after the test and its fixture, so that a failure says which engine and file. */
#define ON(test, fixture) { #test " on " #fixture, test, setup, teardown, &fixture }
#define ON_ALL(test) ON(test, threads_file), ON(test, threads_memfd), ON(test, uring_file), ON(test, uring_memfd)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ON_ALL(test_data),
		ON_ALL(test_out_of_order),
		ON_ALL(test_discard),
		ON(test_write_zeroes, threads_file),
		ON(test_write_zeroes, uring_file),
		ON(test_error_per_request, threads_memfd),
		ON(test_error_per_request, uring_memfd),
		ON_ALL(test_barrier),
		ON_ALL(test_full_queue),
		ON(test_invalid, threads_file),
		ON(test_invalid, uring_file),
		ON_ALL(test_event_fd),
		ON_ALL(test_partial_reap),
		ON_ALL(test_destroy_in_flight),
		ON(test_auto, threads_file),
		ON(test_refused, threads_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
