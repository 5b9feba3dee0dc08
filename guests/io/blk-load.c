/* blk-load: block I/O load for the I/O benchmarks (docs/benchmarks.md), in a guest on its virtio disk or on a host
 * on a file.
 *
 * Queue depth is real: requests go through Linux native AIO (io_setup/io_submit/io_getevents, raw syscalls, no
 * libaio) on an O_DIRECT descriptor, where io_submit queues the request and returns, so QD requests are in the
 * device at once; each completion is resubmitted at once. Without O_DIRECT native AIO runs synchronously inside
 * io_submit, so the tool refuses a file or device that does not take O_DIRECT rather than measure depth 1.
 *
 * One machine-readable line on stdout:
 *   blk-load mode=randread bs=4096 qd=32 ops=N bytes=N secs=F iops=F mibps=F
 * Exit status: 0 done, 1 an I/O error or a stalled device, 2 bad arguments.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD 1024
#define MAX_BS (64u << 20)
/* A request outstanding this long means the device (or the VMM under it) is stuck: fail rather than hang. */
#define STALL_SECS 10

struct mode {
	const char *name;
	int write;
	int random;
	unsigned bs; /* the default request size */
};

static const struct mode modes[] = {
	{ "read", 0, 0, 1u << 20 },
	{ "write", 1, 0, 1u << 20 },
	{ "randread", 0, 1, 4096 },
	{ "randwrite", 1, 1, 4096 },
};

static void usage(void)
{
	fputs("usage: blk-load MODE PATH [--qd N] [--bs BYTES] (--secs S | --bytes N)\n"
	      "  MODE  read | write (sequential, 1 MiB requests) | randread | randwrite (4 KiB requests)\n"
	      "  PATH  an existing block device or file (O_DIRECT); its whole size is the region used; write\n"
	      "        modes overwrite it\n"
	      "  --qd N      requests in flight, 1..1024 (default 1)\n"
	      "  --bs BYTES  request size, a multiple of 4096 up to 64 MiB (default by MODE)\n"
	      "  --secs S    stop submitting after S seconds (0 < S <= 3600)\n"
	      "  --bytes N   stop after N bytes, rounded up to whole requests (suffix K, M or G: KiB, MiB, GiB)\n",
	      stderr);
	exit(2);
}

static void bad_arg(const char *what, const char *value)
{
	fprintf(stderr, "blk-load: bad %s: '%s' (blk-load --help)\n", what, value);
	exit(2);
}

static unsigned long long number(const char *what, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	const char *suffixes = "KMG";
	const char *suffix = *end ? strchr(suffixes, *end) : NULL;
	unsigned shift = suffix ? 10 * (unsigned)(suffix - suffixes + 1) : 0;
	if (suffix)
		end++;
	if (errno || end == s || *end || *s == '-' || v > (~0ull >> shift))
		bad_arg(what, s);
	return v << shift;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: offsets need only be spread over the region, the same on every run. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static int region_size(int fd, const char *path, unsigned long long *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "blk-load: %s is neither a block device nor a regular file\n", path);
		exit(2);
	}
	*size = (unsigned long long)st.st_size;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || !strcmp(argv[1], "--help"))
		usage();
	const struct mode *mode = NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			mode = &modes[i];
	if (!mode)
		bad_arg("MODE", argv[1]);
	const char *path = argv[2];
	unsigned long long qd = 1, bs = mode->bs, limit_bytes = 0;
	double secs = 0;
	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *opt = argv[i], *val = argv[++i];
		if (!strcmp(opt, "--qd")) {
			qd = number("--qd", val);
			if (qd < 1 || qd > MAX_QD)
				bad_arg("--qd (1..1024)", val);
		} else if (!strcmp(opt, "--bs")) {
			bs = number("--bs", val);
			if (bs == 0 || bs % 4096 || bs > MAX_BS)
				bad_arg("--bs (a multiple of 4096 up to 64 MiB)", val);
		} else if (!strcmp(opt, "--secs")) {
			char *end;
			secs = strtod(val, &end);
			if (end == val || *end || !(secs > 0 && secs <= 3600))
				bad_arg("--secs (0 < S <= 3600)", val);
		} else if (!strcmp(opt, "--bytes")) {
			limit_bytes = number("--bytes", val);
			if (!limit_bytes)
				bad_arg("--bytes", val);
		} else {
			bad_arg("option", opt);
		}
	}
	if ((secs > 0) == (limit_bytes > 0)) {
		fputs("blk-load: give exactly one of --secs and --bytes\n", stderr);
		exit(2);
	}

	int fd = open(path, (mode->write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "blk-load: open %s with O_DIRECT: %s%s\n", path, strerror(errno),
			errno == EINVAL ? " (this filesystem has no O_DIRECT, e.g. tmpfs)" : "");
		exit(errno == ENOENT || errno == EINVAL ? 2 : 1);
	}
	unsigned long long size;
	int err = region_size(fd, path, &size);
	if (err < 0) {
		fprintf(stderr, "blk-load: size of %s: %s\n", path, strerror(-err));
		exit(1);
	}
	unsigned long long blocks = size / bs; /* whole requests that fit */
	if (blocks == 0) {
		fprintf(stderr, "blk-load: %s has %llu bytes, less than one %llu-byte request\n", path, size, bs);
		exit(2);
	}

	/* One buffer per slot: a slot is one request in flight. Write data is non-zero so that nothing below can
	 * take it for a hole. */
	struct iocb *slots = calloc(qd, sizeof(*slots));
	char *bufs;
	if (!slots || posix_memalign((void **)&bufs, 4096, qd * bs)) {
		fputs("blk-load: out of memory for the request buffers\n", stderr);
		exit(1);
	}
	memset(bufs, 0xa5, qd * bs);

	aio_context_t ctx = 0;
	if (syscall(SYS_io_setup, (long)qd, &ctx) < 0) {
		fprintf(stderr, "blk-load: io_setup(%llu): %s (see /proc/sys/fs/aio-max-nr)\n", qd, strerror(errno));
		exit(1);
	}

	uint64_t rng = 0x9e3779b97f4a7c15ull;
	unsigned long long next_block = 0, submitted = 0, ops = 0;
	unsigned long inflight = 0;
	double start = now(), deadline = start + secs;
	struct io_event events[MAX_QD];

	/* Every free slot gets the next request until the limit is reached; then the last ones drain. */
	for (int more = 1;;) {
		for (unsigned long i = 0; more && i < qd; i++) {
			if (slots[i].aio_data)
				continue; /* in flight */
			if (limit_bytes ? submitted >= limit_bytes : now() >= deadline) {
				more = 0;
				break;
			}
			unsigned long long block = mode->random ? next_random(&rng) % blocks : next_block++ % blocks;
			struct iocb *cb = &slots[i];
			memset(cb, 0, sizeof(*cb));
			cb->aio_data = i + 1; /* 0 marks a free slot */
			cb->aio_fildes = (uint32_t)fd;
			cb->aio_lio_opcode = mode->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_buf = (uint64_t)(uintptr_t)(bufs + i * bs);
			cb->aio_nbytes = bs;
			cb->aio_offset = (int64_t)(block * bs);
			struct iocb *list[1] = { cb };
			long n;
			while ((n = syscall(SYS_io_submit, ctx, 1L, list)) < 0 && errno == EINTR)
				;
			if (n != 1) {
				fprintf(stderr, "blk-load: io_submit: %s\n", n < 0 ? strerror(errno) : "nothing queued");
				exit(1);
			}
			submitted += bs;
			inflight++;
		}
		if (!inflight)
			break;
		struct timespec timeout = { .tv_sec = STALL_SECS };
		long n = syscall(SYS_io_getevents, ctx, 1L, (long)qd, events, &timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "blk-load: io_getevents: %s\n", strerror(errno));
			exit(1);
		}
		if (n == 0) {
			fprintf(stderr, "blk-load: %lu requests on %s unanswered for %d s\n", inflight, path, STALL_SECS);
			exit(1);
		}
		for (long e = 0; e < n; e++) {
			struct iocb *cb = &slots[events[e].data - 1];
			if (events[e].res != (int64_t)bs) {
				fprintf(stderr, "blk-load: %s of %llu bytes at offset %lld of %s: %s\n",
					mode->write ? "write" : "read", bs, (long long)cb->aio_offset, path,
					events[e].res < 0 ? strerror((int)-events[e].res) : "short transfer");
				exit(1);
			}
			cb->aio_data = 0;
			inflight--;
			ops++;
		}
	}
	double elapsed = now() - start;
	syscall(SYS_io_destroy, ctx);
	close(fd);
	free(bufs);
	free(slots);

	unsigned long long bytes = ops * bs;
	printf("blk-load mode=%s bs=%llu qd=%llu ops=%llu bytes=%llu secs=%.3f iops=%.1f mibps=%.2f\n", mode->name, bs,
	       qd, ops, bytes, elapsed, (double)ops / elapsed, (double)bytes / elapsed / (1 << 20));
	return 0;
}
