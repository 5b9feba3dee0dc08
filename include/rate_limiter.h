/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firecracker's rate limiters: a device's I/O limited by two token buckets,
 * one of bytes (bandwidth) and one of operations (ops). A bucket holds at
 * most `size` tokens and refills completely in `refill_time` ms;
 * `one_time_burst` tokens more are there once, at the start. A bucket with
 * size 0 or refill_time 0 does not limit. Used by virtio-blk, virtio-net
 * (rx and tx) and virtio-rng (/entropy).
 *
 * This header has the configuration as the API and the config file give
 * it; the running limiter follows it.
 */
#ifndef KVMINI_RATE_LIMITER_H
#define KVMINI_RATE_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

struct json_out;

struct token_bucket_config {
	uint64_t size;           /* tokens; 0: no limit */
	uint64_t one_time_burst; /* tokens on top of size, once */
	uint64_t refill_time_ms; /* from empty to size; 0: no limit */
};

struct rate_limiter_config {
	struct token_bucket_config bandwidth; /* bytes */
	struct token_bucket_config ops;       /* requests (blk), frames (net), requests (rng) */
};

/* Whether b (or either of c's buckets) limits anything. */
bool token_bucket_config_active(const struct token_bucket_config *b);
bool rate_limiter_config_active(const struct rate_limiter_config *c);

/*
 * A RateLimiter object ({"bandwidth": {"size": .., "one_time_burst": ..,
 * "refill_time": ..}, "ops": {...}}, every part optional, null as absent)
 * into *c; {} is no limit. -EINVAL with the client's message
 * ("'bandwidth': missing field 'refill_time'"); c is written only on success.
 */
int rate_limiter_config_parse(const char *json, size_t len, struct rate_limiter_config *c, struct errmsg *e);
/* c as the member `key` of the object j is in, in the same shape; nothing when it limits nothing. */
void rate_limiter_config_format(struct json_out *j, const char *key, const struct rate_limiter_config *c);

#endif
