/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firecracker's metrics file (PUT /metrics, --metrics-path): one JSON object
 * per line per flush, under Firecracker's metric names where kvmini has the
 * counter (docs/metrics.md lists every field). As in Firecracker, counters
 * are what happened since the previous flush, and the file is opened once.
 * A flush never blocks: a line the file (a full FIFO) cannot take whole is
 * dropped and counted in the next one's logger.missed_metrics_count.
 */
#ifndef KVMINI_METRICS_H
#define KVMINI_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/http.h"
#include "errmsg.h"
#include "vm.h"

/* A periodic flush every this long, as Firecracker's. */
#define METRICS_PERIOD_MS 60000

struct metrics_config {
	const char *path;
	bool emit_id;      /* a top-level "id": the instance's (log_instance_id, Firecracker's --id) */
};

/*
 * Opens the file (created mode 0600 if missing, O_APPEND | O_NONBLOCK,
 * read-write so that a FIFO with no reader opens; a symbolic link is
 * followed, as Firecracker does). -EALREADY when the metrics have a file
 * already, -errno with the path in e.
 */
int metrics_open(const struct metrics_config *c, struct errmsg *e);
bool metrics_enabled(void);

/* One API request and its answer's status, counted under its endpoint's name (e.g. put_api_requests.drive_count). */
void metrics_count_request(enum http_method method, const char *path, int status);
/* How long the last pause or resume took (latencies_us.pause_vm, resume_vm). */
void metrics_store_latency(bool pause, uint64_t us);

/*
 * Writes one line: the counters since the last flush, and from st (the
 * running VM's, or NULL before it runs) its vCPU exits and devices'
 * traffic since the last flush. 0 when it was written or there is no file;
 * -EAGAIN (counted) when the file did not take it.
 */
int metrics_flush(const struct vm_stats *st);

/*
 * For the caller's tick: whether METRICS_PERIOD_MS have gone by since the
 * last flush (any flush) at now_ms, a monotonic time.
 */
bool metrics_due(uint64_t now_ms);

/* The line metrics_flush would write, into out (cap bytes), consuming the deltas; its length, or -ENOSPC. */
int metrics_format(const struct vm_stats *st, char *out, size_t cap);

/* Closes the file and zeroes every counter (for tests). */
void metrics_reset(void);

#endif
