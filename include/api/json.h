/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON the control socket needs, and no more: reading one flat object
 * into typed fields (strings, unsigned integers, booleans), strictly (an
 * unknown field, a wrong type, a number out of range or a duplicate is an
 * error that names the field), walking the members of an object or the
 * elements of an array for what is nested (a config file's sections), and
 * writing objects and arrays into a buffer.
 */
#ifndef KVMINI_API_JSON_H
#define KVMINI_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

/* JSON_OBJECT, JSON_ARRAY: a nested value, kept as its text for the field's own reader (a rate limiter). */
enum json_type { JSON_STRING, JSON_UINT, JSON_BOOL, JSON_OBJECT, JSON_ARRAY };

struct json_field {
	const char *name; /* at most 64 bytes */
	enum json_type type;
	bool required;
	bool *present;   /* optional: set when the object had the field */
	char *str;       /* JSON_STRING: unescaped, NUL-terminated; longer than str_cap - 1 is an error */
	size_t str_cap;
	uint64_t *uint;  /* JSON_UINT: a non-negative integer in [min, max] */
	uint64_t min, max;
	bool *boolean;   /* JSON_BOOL */
	const char **object; /* JSON_OBJECT, JSON_ARRAY: where its text starts in the input, and its length */
	size_t *object_len;
};

/*
 * Reads text[0, len), which must be one JSON object (whitespace around it
 * allowed), into fields. -EINVAL with a message a client can act on:
 * "unknown field 'vcpus'", "'vcpu_count' must be an integer from 1 to 254",
 * "missing field 'kernel_image_path'", "not a JSON object". Nesting deeper
 * than the flat object is refused, except as a JSON_OBJECT field's value.
 * As in Firecracker, `null` for an optional field means it is absent (its
 * `present` is false, its variable untouched); for a required one it is
 * missing. Fields are written only on success.
 */
int json_read_object(const char *text, size_t len, const struct json_field *fields, unsigned nr_fields,
		     struct errmsg *e);

/* The deepest nesting of objects and arrays json_for_each takes in a value. */
#define JSON_DEPTH_MAX 32

/* One member of an object, or one element of an array (key NULL). */
struct json_item {
	const char *key;   /* the name as written between its quotes (escapes not undone); not NUL-terminated */
	size_t key_len;
	const char *value; /* the value's text, whatever its type: read it with json_read_object, json_for_each */
	size_t value_len;
};

typedef int (*json_item_fn)(void *ctx, const struct json_item *item, struct errmsg *e);

/*
 * Calls fn for each member of the object (object true) or each element of
 * the array in text[0, len), in order, stopping at the first error fn
 * returns. The whole text is checked first (strict JSON, nesting at most
 * JSON_DEPTH_MAX deep, without recursion), so fn runs only on well-formed
 * input. -EINVAL: "not a JSON object", "invalid JSON at byte 12: ...".
 */
int json_for_each(const char *text, size_t len, bool object, json_item_fn fn, void *ctx, struct errmsg *e);

/* A writer into a fixed buffer; the first overflow sticks (err = -ENOSPC) and later calls do nothing. */
struct json_out {
	char *buf;
	size_t cap, len;
	int err;
	unsigned depth;
	bool first[8]; /* per open object/array: no member written yet */
};

void json_out_init(struct json_out *j, char *buf, size_t cap);
void json_object_begin(struct json_out *j, const char *key); /* key NULL at top level or inside an array */
void json_object_end(struct json_out *j);
void json_array_begin(struct json_out *j, const char *key);
void json_array_end(struct json_out *j);
void json_put_string(struct json_out *j, const char *key, const char *value); /* escaped as JSON requires */
void json_put_uint(struct json_out *j, const char *key, uint64_t value);
void json_put_int(struct json_out *j, const char *key, int64_t value);
void json_put_bool(struct json_out *j, const char *key, bool value);
void json_put_null(struct json_out *j, const char *key);
/* The length written (NUL-terminated), or j->err. */
int json_out_finish(const struct json_out *j);

#endif
