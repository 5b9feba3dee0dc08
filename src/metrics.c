// SPDX-License-Identifier: Apache-2.0
/* Firecracker's metrics file: see include/metrics.h; docs/metrics.md lists the fields. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/json.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "vcpu.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Firecracker's line for a handful of devices; a longer one would not reach a FIFO's reader whole anyway. */
#define LINE_MAX_BYTES 4096

/* An endpoint's counters: requests under Firecracker's name, by method and path. */
struct endpoint {
	enum http_method method;
	const char *path;    /* exact, or with a trailing '/' a prefix (/drives/ID) */
	const char *name;    /* "drive": drive_count and, but for GET, drive_fails */
};

/* Firecracker's three groups of API counters, each field in its order. */
static const struct endpoint endpoints[] = {
	{ HTTP_GET, "/", "instance_info" },
	{ HTTP_GET, "/machine-config", "machine_cfg" },
	{ HTTP_GET, "/mmds", "mmds" },
	{ HTTP_GET, "/version", "vmm_version" },
	{ HTTP_PUT, "/actions", "actions" },
	{ HTTP_PUT, "/boot-source", "boot_source" },
	{ HTTP_PUT, "/drives/", "drive" },
	{ HTTP_PUT, "/logger", "logger" },
	{ HTTP_PUT, "/machine-config", "machine_cfg" },
	{ HTTP_PUT, "/cpu-config", "cpu_cfg" },
	{ HTTP_PUT, "/metrics", "metrics" },
	{ HTTP_PUT, "/network-interfaces/", "network" },
	{ HTTP_PUT, "/mmds", "mmds" },
	{ HTTP_PUT, "/vsock", "vsock" },
	{ HTTP_PATCH, "/drives/", "drive" },
	{ HTTP_PATCH, "/network-interfaces/", "network" },
	{ HTTP_PATCH, "/machine-config", "machine_cfg" },
	{ HTTP_PATCH, "/mmds", "mmds" },
};

/* The devices' rows kvmini adds up under Firecracker's device groups. */
enum device_kind { DEV_BLOCK, DEV_NET, DEV_RNG, DEV_KINDS };

static struct {
	pthread_mutex_t lock; /* the file and the previous flush's totals; the counters below are atomic */
	int fd;
	bool emit_id;
	uint64_t last_flush_ms;
	/* What the VM's cumulative counters were at the previous flush, to report the difference. */
	uint64_t prev_vcpu[5];
	uint64_t prev_dev[DEV_KINDS][4];
} m = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static uint64_t counts[ARRAY_SIZE(endpoints)], fails[ARRAY_SIZE(endpoints)];
static uint64_t latency_us[2]; /* pause_vm, resume_vm: the last one, as Firecracker's stored metrics */
static uint64_t missed_metrics, metrics_fails;

int metrics_open(const struct metrics_config *c, struct errmsg *e)
{
	int fd, err = 0;

	pthread_mutex_lock(&m.lock);
	if (m.fd >= 0) {
		err = errmsg_set(e, EALREADY,
				 "the metrics have a file already (Firecracker's metrics are set up once)");
	} else if ((fd = open(c->path, O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0600)) < 0) {
		err = errmsg_set(e, errno, "cannot open the metrics file %s: %s", c->path, strerror(errno));
	} else {
		m.fd = fd;
		m.emit_id = c->emit_id;
		m.last_flush_ms = monotonic_ms();
	}
	pthread_mutex_unlock(&m.lock);
	return err;
}

bool metrics_enabled(void)
{
	bool on;

	pthread_mutex_lock(&m.lock);
	on = m.fd >= 0;
	pthread_mutex_unlock(&m.lock);
	return on;
}

static bool endpoint_matches(const struct endpoint *ep, enum http_method method, const char *path)
{
	size_t len = strlen(ep->path);

	if (ep->method != method)
		return false;
	if (ep->path[len - 1] == '/' && len > 1)
		return !strncmp(path, ep->path, len) && path[len];
	return !strcmp(path, ep->path);
}

void metrics_count_request(enum http_method method, const char *path, int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(endpoints); i++) {
		if (!endpoint_matches(&endpoints[i], method, path))
			continue;
		__atomic_add_fetch(&counts[i], 1, __ATOMIC_RELAXED);
		if (status >= 400)
			__atomic_add_fetch(&fails[i], 1, __ATOMIC_RELAXED);
		return;
	}
}

void metrics_store_latency(bool pause, uint64_t us)
{
	__atomic_store_n(&latency_us[pause ? 0 : 1], us, __ATOMIC_RELAXED);
}

static uint64_t take(uint64_t *counter)
{
	return __atomic_exchange_n(counter, 0, __ATOMIC_RELAXED);
}

/* The difference since the previous flush of a cumulative counter, remembered in *prev. */
static uint64_t since(uint64_t now, uint64_t *prev)
{
	uint64_t d = now >= *prev ? now - *prev : now;

	*prev = now;
	return d;
}

static void put_requests(struct json_out *j, const char *group, enum http_method method)
{
	char key[48];

	json_object_begin(j, group);
	for (size_t i = 0; i < ARRAY_SIZE(endpoints); i++) {
		if (endpoints[i].method != method)
			continue;
		snprintf(key, sizeof(key), "%s_count", endpoints[i].name);
		json_put_uint(j, key, take(&counts[i]));
		if (method == HTTP_GET)
			continue;
		snprintf(key, sizeof(key), "%s_fails", endpoints[i].name);
		json_put_uint(j, key, take(&fails[i]));
	}
	json_object_end(j);
}

/* vCPU exits: io in/out, MMIO reads/writes, and the exits that end a vCPU in error. Under m.lock. */
static void put_vcpu(struct json_out *j, const struct vm_stats *st)
{
	static const unsigned failure_reasons[] = { KVM_EXIT_UNKNOWN, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR };
	static const char *const names[] = { "exit_io_in", "exit_io_out", "exit_mmio_read", "exit_mmio_write",
					     "failures" };
	uint64_t io = 0, mmio = 0, failures = 0, d[ARRAY_SIZE(names)] = { 0 };

	for (unsigned v = 0; st && v < st->nr_vcpus; v++) {
		io += st->vcpu_exits[v][KVM_EXIT_IO];
		mmio += st->vcpu_exits[v][KVM_EXIT_MMIO];
		for (size_t r = 0; r < ARRAY_SIZE(failure_reasons); r++)
			failures += st->vcpu_exits[v][failure_reasons[r]];
	}
	if (st) {
		const uint64_t totals[ARRAY_SIZE(names)] = { st->io_in, io - st->io_in, st->mmio_reads,
							     mmio - st->mmio_reads, failures };

		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			d[i] = since(totals[i], &m.prev_vcpu[i]);
	}
	json_object_begin(j, "vcpu");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_put_uint(j, names[i], d[i]);
	json_object_end(j);
}

/*
 * The devices' traffic, added up by kind: Firecracker's aggregate "block",
 * "net" and "entropy" objects (not its per-device ones). Under m.lock.
 */
/* Frames a device dropped on their way from the guest: every reason but the receive side's ("rx_..."). */
static uint64_t dropped_from_guest(const struct device_stats *row)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < row->nr_drops && i < DEVICE_DROP_REASONS_MAX; i++)
		if (strncmp(row->drops[i].reason, "rx_", 3))
			n += row->drops[i].count;
	return n;
}

static void put_devices(struct json_out *j, const struct vm_stats *st)
{
	static const char *const prefixes[DEV_KINDS] = { "virtio-blk", "virtio-net", "virtio-rng" };
	uint64_t total[DEV_KINDS][4] = { { 0 } }, d[DEV_KINDS][4];

	for (unsigned i = 0; st && i < st->nr_virtio && i < VM_STATS_VIRTIO_MAX; i++) {
		const struct device_stats *row = &st->virtio[i];

		for (unsigned k = 0; k < DEV_KINDS; k++) {
			if (strncmp(row->name, prefixes[k], strlen(prefixes[k])))
				continue;
			total[k][0] += row->notifications;
			total[k][1] += row->bytes_from_guest;
			total[k][2] += row->bytes_to_guest;
			total[k][3] += dropped_from_guest(row);
		}
	}
	for (unsigned k = 0; k < DEV_KINDS; k++)
		for (unsigned f = 0; f < 4; f++)
			d[k][f] = st ? since(total[k][f], &m.prev_dev[k][f]) : 0;
	json_object_begin(j, "block");
	json_put_uint(j, "queue_event_count", d[DEV_BLOCK][0]);
	json_put_uint(j, "write_bytes", d[DEV_BLOCK][1]);
	json_put_uint(j, "read_bytes", d[DEV_BLOCK][2]);
	json_object_end(j);
	json_object_begin(j, "net");
	json_put_uint(j, "tx_bytes_count", d[DEV_NET][1]);
	json_put_uint(j, "rx_bytes_count", d[DEV_NET][2]);
	json_put_uint(j, "tx_malformed_frames", d[DEV_NET][3]);
	json_object_end(j);
	json_object_begin(j, "entropy");
	json_put_uint(j, "entropy_event_count", d[DEV_RNG][0]);
	json_put_uint(j, "entropy_bytes", d[DEV_RNG][2]);
	json_object_end(j);
}

/* Under m.lock. */
static int format_locked(const struct vm_stats *st, char *out, size_t cap)
{
	struct timespec now;
	struct json_out j;

	clock_gettime(CLOCK_REALTIME, &now);
	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	json_put_uint(&j, "utc_timestamp_ms", (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
	if (m.emit_id)
		json_put_string(&j, "id", log_instance_id());
	put_devices(&j, st);
	put_requests(&j, "get_api_requests", HTTP_GET);
	json_object_begin(&j, "latencies_us");
	json_put_uint(&j, "pause_vm", __atomic_load_n(&latency_us[0], __ATOMIC_RELAXED));
	json_put_uint(&j, "resume_vm", __atomic_load_n(&latency_us[1], __ATOMIC_RELAXED));
	json_object_end(&j);
	json_object_begin(&j, "logger");
	json_put_uint(&j, "missed_metrics_count", take(&missed_metrics));
	json_put_uint(&j, "metrics_fails", take(&metrics_fails));
	json_put_uint(&j, "missed_log_count", log_take_missed());
	json_object_end(&j);
	put_requests(&j, "patch_api_requests", HTTP_PATCH);
	put_requests(&j, "put_api_requests", HTTP_PUT);
	put_vcpu(&j, st);
	json_object_end(&j);
	return json_out_finish(&j);
}

int metrics_format(const struct vm_stats *st, char *out, size_t cap)
{
	int len;

	pthread_mutex_lock(&m.lock);
	len = format_locked(st, out, cap);
	pthread_mutex_unlock(&m.lock);
	return len;
}

int metrics_flush(const struct vm_stats *st)
{
	char line[LINE_MAX_BYTES];
	int len, err = 0;

	pthread_mutex_lock(&m.lock);
	if (m.fd < 0)
		goto out;
	m.last_flush_ms = monotonic_ms();
	len = format_locked(st, line, sizeof(line) - 1);
	if (len < 0) {
		__atomic_add_fetch(&metrics_fails, 1, __ATOMIC_RELAXED);
		err = len;
		goto out;
	}
	line[len++] = '\n';
	/* One write, never waited for: a full FIFO loses this line, and the next one says so. */
	if (write(m.fd, line, (size_t)len) != len) {
		__atomic_add_fetch(&missed_metrics, 1, __ATOMIC_RELAXED);
		err = -EAGAIN;
	}
out:
	pthread_mutex_unlock(&m.lock);
	return err;
}

bool metrics_due(uint64_t now_ms)
{
	bool due;

	pthread_mutex_lock(&m.lock);
	due = m.fd >= 0 && now_ms >= m.last_flush_ms + METRICS_PERIOD_MS;
	pthread_mutex_unlock(&m.lock);
	return due;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&m.lock);
	if (m.fd >= 0)
		close(m.fd);
	m.fd = -1;
	m.emit_id = false;
	memset(m.prev_vcpu, 0, sizeof(m.prev_vcpu));
	memset(m.prev_dev, 0, sizeof(m.prev_dev));
	pthread_mutex_unlock(&m.lock);
	for (size_t i = 0; i < ARRAY_SIZE(endpoints); i++) {
		take(&counts[i]);
		take(&fails[i]);
	}
	take(&latency_us[0]);
	take(&latency_us[1]);
	take(&missed_metrics);
	take(&metrics_fails);
	log_take_missed();
}
