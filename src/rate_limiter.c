// SPDX-License-Identifier: Apache-2.0
/* Rate limiters: see include/rate_limiter.h. */
#include <errno.h>
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

int rate_limiter_config_parse(const char *json, size_t len, struct rate_limiter_config *c, struct errmsg *e)
{
	struct rate_limiter_config out = { 0 };
	const char *obj[2] = { NULL, NULL };
	size_t obj_len[2] = { 0, 0 };
	bool present[2] = { false, false };
	const struct json_field f[] = {
		{ .name = "bandwidth", .type = JSON_OBJECT, .object = &obj[0], .object_len = &obj_len[0],
		  .present = &present[0] },
		{ .name = "ops", .type = JSON_OBJECT, .object = &obj[1], .object_len = &obj_len[1],
		  .present = &present[1] },
	};
	struct token_bucket_config *buckets[2] = { &out.bandwidth, &out.ops };
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	for (unsigned i = 0; i < 2; i++)
		if (present[i] && (err = parse_bucket(obj[i], obj_len[i], buckets[i], e)))
			return errmsg_prefix(e, -err, "'%s': ", f[i].name);
	*c = out;
	return 0;
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
