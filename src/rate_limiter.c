// SPDX-License-Identifier: Apache-2.0
/* Rate limiters: see include/rate_limiter.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/json.h"
#include "rate_limiter.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

bool token_bucket_config_active(const struct token_bucket_config *b)
{
	return b->size && b->refill_time_ms;
}

bool rate_limiter_config_active(const struct rate_limiter_config *c)
{
	return token_bucket_config_active(&c->bandwidth) || token_bucket_config_active(&c->ops);
}

/* A TokenBucket object: size and refill_time required, as in Firecracker. */
static int parse_bucket(const char *json, size_t len, struct token_bucket_config *b, struct errmsg *e)
{
	const struct json_field f[] = {
		{ .name = "size", .type = JSON_UINT, .required = true, .uint = &b->size, .max = UINT64_MAX },
		{ .name = "one_time_burst", .type = JSON_UINT, .uint = &b->one_time_burst, .max = UINT64_MAX },
		{ .name = "refill_time", .type = JSON_UINT, .required = true, .uint = &b->refill_time_ms,
		  .max = UINT64_MAX },
	};

	return json_read_object(json, len, f, ARRAY_SIZE(f), e);
}

int rate_limiter_update_parse(const char *json, size_t len, struct rate_limiter_update *u, struct errmsg *e)
{
	struct rate_limiter_update out = { .bandwidth = false };
	const char *obj[2] = { NULL, NULL };
	size_t obj_len[2] = { 0, 0 };
	const struct json_field f[] = {
		{ .name = "bandwidth", .type = JSON_OBJECT, .object = &obj[0], .object_len = &obj_len[0],
		  .present = &out.bandwidth },
		{ .name = "ops", .type = JSON_OBJECT, .object = &obj[1], .object_len = &obj_len[1],
		  .present = &out.ops },
	};
	struct token_bucket_config *buckets[2] = { &out.config.bandwidth, &out.config.ops };
	const bool *present[2] = { &out.bandwidth, &out.ops };
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	for (unsigned i = 0; i < 2; i++)
		if (*present[i] && (err = parse_bucket(obj[i], obj_len[i], buckets[i], e)))
			return errmsg_prefix(e, -err, "'%s': ", f[i].name);
	*u = out;
	return 0;
}

int rate_limiter_config_parse(const char *field, const char *json, size_t len, struct rate_limiter_config *c,
			      struct errmsg *e)
{
	struct rate_limiter_update u;
	int err;

	if (!json)
		return 0;
	if ((err = rate_limiter_update_parse(json, len, &u, e)))
		return errmsg_prefix(e, -err, "'%s': ", field);
	*c = u.config;
	return 0;
}

void rate_limiter_config_update(struct rate_limiter_config *c, const struct rate_limiter_update *u)
{
	if (u->bandwidth)
		c->bandwidth = u->config.bandwidth;
	if (u->ops)
		c->ops = u->config.ops;
}

static void format_bucket(struct json_out *j, const char *key, const struct token_bucket_config *b)
{
	if (!token_bucket_config_active(b))
		return;
	json_object_begin(j, key);
	json_put_uint(j, "size", b->size);
	json_put_uint(j, "one_time_burst", b->one_time_burst);
	json_put_uint(j, "refill_time", b->refill_time_ms);
	json_object_end(j);
}

void rate_limiter_config_format(struct json_out *j, const char *key, const struct rate_limiter_config *c)
{
	if (!rate_limiter_config_active(c))
		return;
	json_object_begin(j, key);
	format_bucket(j, "bandwidth", &c->bandwidth);
	format_bucket(j, "ops", &c->ops);
	json_object_end(j);
}

/* ---- the running limiter ---- */

/* The longest refill time kept: what nanoseconds in 64 bits hold (about 584 years). */
#define REFILL_MS_MAX (UINT64_MAX / 1000000)

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void bucket_init(struct token_bucket *b, const struct token_bucket_config *c, uint64_t now_ns)
{
	bool on = token_bucket_config_active(c);

	*b = (struct token_bucket){
		.size = on ? c->size : 0,
		.refill_ns = on ? min_u64(c->refill_time_ms, REFILL_MS_MAX) * 1000000 : 0,
		.budget = on ? c->size : 0,
		.burst = on ? c->one_time_burst : 0,
		.last_ns = now_ns,
	};
}

/*
 * The tokens made since last_ns: debt first, then the budget up to size.
 * last_ns moves on by the time the whole tokens took, so the part of a
 * token made meanwhile is not lost; a full bucket banks nothing.
 */
static void bucket_refill(struct token_bucket *b, uint64_t now_ns)
{
	unsigned __int128 made;
	uint64_t t;

	if (!b->size || now_ns <= b->last_ns)
		return;
	/* Both factors below 2^64: the product fits 128 bits. */
	made = (unsigned __int128)(now_ns - b->last_ns) * b->size / b->refill_ns;
	if (!made)
		return;
	t = made > UINT64_MAX ? UINT64_MAX : (uint64_t)made;
	/* At most the time elapsed, since t <= elapsed * size / refill_ns. */
	b->last_ns += (uint64_t)((unsigned __int128)t * b->refill_ns / b->size);
	if (t <= b->debt) {
		b->debt -= t;
		return;
	}
	t -= b->debt;
	b->debt = 0;
	if (t >= b->size - b->budget) {
		b->budget = b->size;
		b->last_ns = now_ns;
	} else {
		b->budget += t;
	}
}

/* Whether n tokens may be taken: they fit, or the bucket is full (a request larger than it). */
static bool bucket_fits(const struct token_bucket *b, uint64_t n)
{
	if (!b->size)
		return true;
	if (b->debt)
		return false; /* only once the burst is spent */
	if (n <= b->burst)
		return true;
	n -= b->burst;
	return n <= b->budget || b->budget == b->size;
}

/* Nanoseconds until n tokens fit (bucket_refill done at now_ns); 0 if they do. */
static uint64_t bucket_wait(const struct token_bucket *b, uint64_t n, uint64_t now_ns)
{
	unsigned __int128 need, whole, ns;
	uint64_t elapsed;

	if (bucket_fits(b, n))
		return 0;
	n -= min_u64(n, b->burst);
	/* What the bucket must hold: the request, or all of it for a larger one, with the debt repaid first. */
	need = (unsigned __int128)min_u64(n, b->size) + b->debt - b->budget;
	whole = need / b->size;
	if (whole > UINT64_MAX || whole * b->refill_ns > UINT64_MAX)
		return UINT64_MAX;
	ns = whole * b->refill_ns + ((need % b->size) * b->refill_ns + b->size - 1) / b->size;
	elapsed = now_ns > b->last_ns ? now_ns - b->last_ns : 0;
	if (ns <= elapsed)
		return 1; /* the last part of a token: rounding */
	ns -= elapsed;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static void bucket_charge(struct token_bucket *b, uint64_t n)
{
	uint64_t from_burst = min_u64(n, b->burst);

	if (!b->size)
		return;
	b->burst -= from_burst;
	n -= from_burst;
	if (n <= b->budget) {
		b->budget -= n;
		return;
	}
	n -= b->budget;
	b->budget = 0;
	b->debt = b->debt > UINT64_MAX - n ? UINT64_MAX : b->debt + n;
}

void rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *c, uint64_t now_ns)
{
	bucket_init(&rl->bandwidth, &c->bandwidth, now_ns);
	bucket_init(&rl->ops, &c->ops, now_ns);
}

bool rate_limiter_active(const struct rate_limiter *rl)
{
	return rl->bandwidth.size || rl->ops.size;
}

uint64_t rate_limiter_wait(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now_ns)
{
	uint64_t bw_wait, ops_wait;

	bucket_refill(&rl->bandwidth, now_ns);
	bucket_refill(&rl->ops, now_ns);
	bw_wait = bucket_wait(&rl->bandwidth, bytes, now_ns);
	ops_wait = bucket_wait(&rl->ops, ops, now_ns);
	return bw_wait > ops_wait ? bw_wait : ops_wait;
}

void rate_limiter_charge(struct rate_limiter *rl, uint64_t ops, uint64_t bytes, uint64_t now_ns)
{
	bucket_refill(&rl->bandwidth, now_ns);
	bucket_refill(&rl->ops, now_ns);
	bucket_charge(&rl->bandwidth, bytes);
	bucket_charge(&rl->ops, ops);
}

void rate_limiter_update(struct rate_limiter *rl, const struct rate_limiter_update *u, uint64_t now_ns)
{
	if (u->bandwidth)
		bucket_init(&rl->bandwidth, &u->config.bandwidth, now_ns);
	if (u->ops)
		bucket_init(&rl->ops, &u->config.ops, now_ns);
}
