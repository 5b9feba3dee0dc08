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
 * it, and the running limiter: pure functions of the time passed in
 * (CLOCK_MONOTONIC nanoseconds), so the tests drive them with a fake clock.
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

/*
 * An update of a running limiter (PATCH /network-interfaces/{id}, the
 * rate_limiter of PATCH /drives/{id}), as in Firecracker: a bucket given
 * replaces the old one, starting full (size 0 or refill_time 0 turns it
 * off); a bucket not given keeps its configuration and its tokens.
 */
struct rate_limiter_update {
	struct rate_limiter_config config;
	bool bandwidth, ops; /* which buckets the update gives */
};

/* Whether b (or either of c's buckets) limits anything. */
bool token_bucket_config_active(const struct token_bucket_config *b);
bool rate_limiter_config_active(const struct rate_limiter_config *c);

/*
 * The RateLimiter object of the field `field` ({"bandwidth": {"size": ..,
 * "one_time_burst": .., "refill_time": ..}, "ops": {...}}, every part
 * optional, null as absent) into *c; {} is no limit, and json NULL (the
 * field was not given) leaves c as it is. -EINVAL with the client's message
 * ("'rate_limiter': 'bandwidth': missing field 'refill_time'"); c is written
 * only on success.
 */
int rate_limiter_config_parse(const char *field, const char *json, size_t len, struct rate_limiter_config *c,
			      struct errmsg *e);
/* The same object as an update: which buckets it gives, besides their values. */
int rate_limiter_update_parse(const char *json, size_t len, struct rate_limiter_update *u, struct errmsg *e);
/* u applied to a configuration (what GET /vm/config shows after a PATCH). */
void rate_limiter_config_update(struct rate_limiter_config *c, const struct rate_limiter_update *u);
/* c as the member `key` of the object j is in, in the same shape; nothing when it limits nothing. */
void rate_limiter_config_format(struct json_out *j, const char *key, const struct rate_limiter_config *c);

/*
 * A running bucket. Tokens come back continuously, size of them per
 * refill_time; one_time_burst tokens are spent first and never come back.
 * A request is served when its cost fits in what the bucket holds. One
 * larger than the whole bucket waits until the bucket is full, is served,
 * and leaves the bucket in debt for the rest, which refills repay before
 * the bucket holds anything again: the average rate holds, nothing waits
 * forever. (Firecracker serves such a request at once and blocks for its
 * excess instead.)
 */
struct token_bucket {
	uint64_t size;      /* 0: does not limit */
	uint64_t refill_ns; /* from empty to size; at most about 584 years */
	uint64_t budget;    /* tokens held, 0..size; 0 while in debt */
	uint64_t debt;      /* tokens spent beyond the budget, repaid first */
	uint64_t burst;     /* what is left of one_time_burst */
	uint64_t last_ns;   /* time of the last refill, less the part of a token it did not yet make */
};

struct rate_limiter {
	struct token_bucket bandwidth, ops;
};

/* A limiter as configured, its buckets full, at time now. */
void rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *c, uint64_t now_ns);
/* Whether any bucket limits: a device asks this before reading the clock, so an unlimited one never does. */
bool rate_limiter_active(const struct rate_limiter *rl);
/*
 * Whether a request of `ops` operations and `bytes` bytes may be served at
 * now: 0 if so, else how many nanoseconds until it may (at least 1). Takes
 * nothing; rate_limiter_charge does. A request whose size is only known once
 * served (a received frame) asks with bytes 0, which passes while the
 * bandwidth bucket is not in debt, and is charged afterwards.
 */
uint64_t rate_limiter_wait(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now_ns);
/* Takes the request's tokens at now, going into debt for what is not there. */
void rate_limiter_charge(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now_ns);
/* u applied to the running limiter at now. */
void rate_limiter_update(struct rate_limiter *rl, const struct rate_limiter_update *u, uint64_t now_ns);

#endif
