// SPDX-License-Identifier: Apache-2.0
/* The metrics line: Firecracker's names, counters as deltas since the last flush, a FIFO nobody reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/json.h"
#include "clock.h"
#include "metrics.h"
#include "../common/test_files.h"

static char dir[64], path[96];
static char line[4096];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kvmini-test-metrics-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrics", dir);
	metrics_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	metrics_reset();
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The value of "group"."key" in the line (the line must be a JSON object). */
struct lookup {
	const char *group, *key;
	uint64_t value;
	bool found;
};

static int find_key(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct lookup *l = ctx;

	(void)e;
	if (it->key_len == strlen(l->key) && !memcmp(it->key, l->key, it->key_len)) {
		l->value = strtoull(it->value, NULL, 10);
		l->found = true;
	}
	return 0;
}

static int find_group(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct lookup *l = ctx;

	if (it->key_len == strlen(l->group) && !memcmp(it->key, l->group, it->key_len))
		return json_for_each(it->value, it->value_len, true, find_key, l, e);
	return 0;
}

static uint64_t value(const char *group, const char *key)
{
	struct lookup l = { .group = group, .key = key };
	struct errmsg e;

	if (json_for_each(line, strlen(line), true, find_group, &l, &e))
		fail_msg("not a JSON object: %s (%s)", e.text, line);
	if (!l.found)
		fail_msg("no %s.%s in %s", group, key, line);
	return l.value;
}

static void format(const struct vm_stats *st)
{
	assert_true(metrics_format(st, line, sizeof(line)) > 0);
}

/* A VM of two vCPUs and three devices, its counters cumulative as the VM's are. */
static uint64_t exits[2][VCPU_EXIT_REASONS];
static struct vm_stats vm = {
	.nr_vcpus = 2, .vcpu_exits = exits, .nr_virtio = 3,
	.virtio = { { "virtio-blk0", 10, 1000, 5000 }, { "virtio-blk1", 1, 100, 500 }, { "virtio-net0", 7, 70, 700 } },
};

static void test_vcpu_and_devices(void **state)
{
	(void)state;
	exits[0][KVM_EXIT_IO] = 30;
	exits[1][KVM_EXIT_IO] = 10;
	vm.io_in = 15;
	exits[0][KVM_EXIT_MMIO] = 8;
	vm.mmio_reads = 3;
	exits[1][KVM_EXIT_INTERNAL_ERROR] = 1;
	/* Frames the guest sent that were refused count; one too big for the guest's buffers does not. */
	vm.virtio[2].nr_drops = 3;
	vm.virtio[2].drops[0] = (struct device_drop){ "bad_flags", 3 };
	vm.virtio[2].drops[1] = (struct device_drop){ "tx_too_big", 1 };
	vm.virtio[2].drops[2] = (struct device_drop){ "rx_too_big", 5 };
	format(&vm);
	assert_int_equal(value("vcpu", "exit_io_in"), 15);
	assert_int_equal(value("vcpu", "exit_io_out"), 25);
	assert_int_equal(value("vcpu", "exit_mmio_read"), 3);
	assert_int_equal(value("vcpu", "exit_mmio_write"), 5);
	assert_int_equal(value("vcpu", "failures"), 1);
	assert_int_equal(value("block", "queue_event_count"), 11);
	assert_int_equal(value("block", "write_bytes"), 1100);
	assert_int_equal(value("block", "read_bytes"), 5500);
	assert_int_equal(value("net", "tx_bytes_count"), 70);
	assert_int_equal(value("net", "rx_bytes_count"), 700);
	assert_int_equal(value("net", "tx_malformed_frames"), 4);
	assert_int_equal(value("entropy", "entropy_bytes"), 0);
	assert_true(!strncmp(line, "{\"utc_timestamp_ms\":1", 21));
	/* Well under the 4 KiB a pipe takes in one write (docs/metrics.md), with emit_id's room to spare. */
	assert_true(strlen(line) < 2048);

	/* The next line: only what happened since. */
	exits[0][KVM_EXIT_IO] += 4;
	vm.io_in += 1;
	vm.virtio[0].bytes_to_guest += 4096;
	format(&vm);
	assert_int_equal(value("vcpu", "exit_io_in"), 1);
	assert_int_equal(value("vcpu", "exit_io_out"), 3);
	assert_int_equal(value("vcpu", "exit_mmio_write"), 0);
	assert_int_equal(value("vcpu", "failures"), 0);
	assert_int_equal(value("block", "read_bytes"), 4096);
	assert_int_equal(value("block", "write_bytes"), 0);

	/* Before the VM runs: zeros, still every field. */
	format(NULL);
	assert_int_equal(value("vcpu", "exit_io_in"), 0);
	assert_int_equal(value("block", "read_bytes"), 0);
}

static void test_api_requests(void **state)
{
	(void)state;
	metrics_count_request(HTTP_PUT, "/drives/rootfs", 204);
	metrics_count_request(HTTP_PUT, "/drives/scratch", 400);
	metrics_count_request(HTTP_PUT, "/drives/", 404);
	metrics_count_request(HTTP_PATCH, "/drives/rootfs", 204);
	metrics_count_request(HTTP_GET, "/", 200);
	metrics_count_request(HTTP_GET, "/version", 200);
	metrics_count_request(HTTP_PUT, "/nothing", 404);
	metrics_store_latency(true, 1234);
	format(NULL);
	assert_int_equal(value("put_api_requests", "drive_count"), 2);
	assert_int_equal(value("put_api_requests", "drive_fails"), 1);
	assert_int_equal(value("patch_api_requests", "drive_count"), 1);
	assert_int_equal(value("patch_api_requests", "drive_fails"), 0);
	assert_int_equal(value("get_api_requests", "instance_info_count"), 1);
	assert_int_equal(value("get_api_requests", "vmm_version_count"), 1);
	assert_int_equal(value("latencies_us", "pause_vm"), 1234);
	format(NULL);
	assert_int_equal(value("put_api_requests", "drive_count"), 0);
	/* A latency is the last one measured, not a count. */
	assert_int_equal(value("latencies_us", "pause_vm"), 1234);
}

/* Opened once; each flush one line; a FIFO nobody reads takes what fits and the rest is counted, never waited for. */
static void test_file_and_fifo(void **state)
{
	struct metrics_config c = { .path = path };
	struct errmsg e;
	unsigned i;
	int err = 0;

	(void)state;
	assert_int_equal(metrics_flush(NULL), 0); /* no file: nothing to do */
	assert_false(metrics_enabled());
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(metrics_open(&c, &e), 0);
	assert_true(metrics_enabled());
	assert_int_equal(metrics_open(&c, &e), -EALREADY);
	assert_false(metrics_due(monotonic_ms()));
	assert_true(metrics_due(monotonic_ms() + METRICS_PERIOD_MS));
	for (i = 0; i < 200 && !err; i++)
		err = metrics_flush(NULL);
	assert_int_equal(err, -EAGAIN);
	assert_true(i > 10);
	format(NULL);
	assert_int_equal(value("logger", "missed_metrics_count"), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vcpu_and_devices),
		T(test_api_requests),
		T(test_file_and_fifo),
	};

	/* A flush that waited on the FIFO would hang the test: it fails instead. */
	alarm(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
