// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"

/* Keys longer than this are no field's name; they are read only to name them in the error. */
#define KEY_MAX 64
/* Fields a reader may be given: duplicates are tracked in one 64-bit mask. */
#define FIELDS_MAX 64

/*
 * The length of the well-formed UTF-8 sequence at s[0, n) (no overlong
 * forms, surrogates or code points past U+10FFFF), or 0 when it is not one.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

struct reader {
	const char *text;
	size_t len, pos;
	struct errmsg *e;
};

static void skip_ws(struct reader *r)
{
	while (r->pos < r->len && strchr(" \t\r\n", r->text[r->pos]) && r->text[r->pos])
		r->pos++;
}

static int syntax_error(struct reader *r, const char *what)
{
	return errmsg_set(r->e, EINVAL, "invalid JSON at byte %zu: %s", r->pos, what);
}

static int hex4(struct reader *r, uint32_t *out)
{
	uint32_t v = 0;

	if (r->len - r->pos < 4)
		return syntax_error(r, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = r->text[r->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return syntax_error(r, "bad \\u escape");
	}
	*out = v;
	return 0;
}

/* One escape after the backslash, into out (up to 4 bytes of UTF-8); its length, or a negative errno. */
static int read_escape(struct reader *r, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, low;
	const char *p;
	int err;

	if (r->pos == r->len)
		return syntax_error(r, "unterminated string");
	p = strchr(from, r->text[r->pos]);
	if (p && *p) {
		r->pos++;
		out[0] = to[p - from];
		return 1;
	}
	if (r->text[r->pos] != 'u')
		return syntax_error(r, "bad escape in string");
	r->pos++;
	err = hex4(r, &cp);
	if (err)
		return err;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return syntax_error(r, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->len - r->pos < 2 || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u')
			return syntax_error(r, "high surrogate without a low one in \\u escape");
		r->pos += 2;
		err = hex4(r, &low);
		if (err)
			return err;
		if (low < 0xdc00 || low > 0xdfff)
			return syntax_error(r, "high surrogate without a low one in \\u escape");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	if (cp == 0)
		return syntax_error(r, "\\u0000 is not allowed in a string");
	return (int)utf8_encode(cp, out);
}

/*
 * A string whose opening quote is at r->pos, unescaped into out[0, cap)
 * (out NULL: only measured). *len gets its full length; what does not
 * fit is cut at a character boundary.
 */
static int read_string(struct reader *r, char *out, size_t cap, size_t *len)
{
	size_t n = 0, written = 0;

	r->pos++;
	for (;;) {
		unsigned char c;
		char bytes[4];
		size_t k;

		if (r->pos == r->len)
			return syntax_error(r, "unterminated string");
		c = (unsigned char)r->text[r->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return syntax_error(r, "control character in string");
		if (c == '\\') {
			int got;

			r->pos++;
			got = read_escape(r, bytes);
			if (got < 0)
				return got;
			k = (size_t)got;
		} else {
			k = utf8_len((const unsigned char *)r->text + r->pos, r->len - r->pos);
			if (!k)
				return syntax_error(r, "invalid UTF-8 in string");
			memcpy(bytes, r->text + r->pos, k);
			r->pos += k;
		}
		if (out && n + k < cap) {
			memcpy(out + n, bytes, k);
			written = n + k;
		}
		n += k;
	}
	r->pos++;
	if (out && cap)
		out[written] = '\0';
	*len = n;
	return 0;
}

/* An unsigned decimal integer: digits only, no leading zero, no sign, fraction or exponent; -ERANGE past 2^64-1. */
static int read_uint(struct reader *r, uint64_t *out)
{
	const char *s = r->text;
	uint64_t v = 0;
	size_t start = r->pos;

	while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9') {
		unsigned d = (unsigned)(s[r->pos] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
		r->pos++;
	}
	if (r->pos == start || (s[start] == '0' && r->pos - start > 1))
		return -EINVAL;
	if (r->pos < r->len && strchr(".eE", s[r->pos]) && s[r->pos])
		return -EINVAL;
	*out = v;
	return 0;
}

static bool read_literal(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n))
		return false;
	r->pos += n;
	return true;
}

/* A number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, its value unchecked. */
static int skip_number(struct reader *r)
{
	const char *s = r->text;
	size_t start;

	if (r->pos < r->len && s[r->pos] == '-')
		r->pos++;
	start = r->pos;
	while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
		r->pos++;
	if (r->pos == start || (s[start] == '0' && r->pos - start > 1))
		return syntax_error(r, "bad number");
	if (r->pos < r->len && s[r->pos] == '.') {
		start = ++r->pos;
		while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
			r->pos++;
		if (r->pos == start)
			return syntax_error(r, "bad number");
	}
	if (r->pos < r->len && (s[r->pos] == 'e' || s[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < r->len && (s[r->pos] == '+' || s[r->pos] == '-'))
			r->pos++;
		start = r->pos;
		while (r->pos < r->len && s[r->pos] >= '0' && s[r->pos] <= '9')
			r->pos++;
		if (r->pos == start)
			return syntax_error(r, "bad number");
	}
	return 0;
}

/* A string, number, true, false or null at r->pos, checked and passed over. */
static int skip_scalar(struct reader *r)
{
	char c = r->text[r->pos];
	size_t n;

	if (c == '"')
		return read_string(r, NULL, 0, &n);
	if (c == '-' || (c >= '0' && c <= '9'))
		return skip_number(r);
	if (read_literal(r, "true") || read_literal(r, "false") || read_literal(r, "null"))
		return 0;
	return syntax_error(r, "expected a value");
}

/*
 * A member's name and its colon, from r->pos (white space first). The name
 * is unescaped into key[0, cap) (key NULL: not kept) and its raw text, as
 * written between the quotes, goes to *raw and *raw_len.
 */
static int read_key(struct reader *r, char *key, size_t cap, size_t *key_len, const char **raw, size_t *raw_len)
{
	size_t start;
	int err;

	skip_ws(r);
	if (r->pos == r->len || r->text[r->pos] != '"')
		return syntax_error(r, "expected a field name in double quotes");
	start = r->pos + 1;
	if ((err = read_string(r, key, cap, key_len)))
		return err;
	*raw = r->text + start;
	*raw_len = r->pos - 1 - start;
	skip_ws(r);
	if (r->pos == r->len || r->text[r->pos] != ':')
		return syntax_error(r, "expected ':' after the field name");
	r->pos++;
	return 0;
}

/*
 * Any JSON value at r->pos (white space first), checked throughout and
 * passed over. Without recursion: the open objects and arrays are one bit
 * each in `arrays`, so nesting is bounded by JSON_DEPTH_MAX, not the stack.
 */
static int skip_value(struct reader *r)
{
	uint32_t arrays = 0; /* bit d: the container at depth d is an array */
	unsigned depth = 0;
	const char *raw;
	size_t n;
	int err;

	for (;;) {
		char c;

		skip_ws(r);
		if (r->pos == r->len)
			return syntax_error(r, "expected a value");
		c = r->text[r->pos];
		if (c == '{' || c == '[') {
			if (depth == JSON_DEPTH_MAX)
				return syntax_error(r, "nested too deeply");
			arrays = (arrays & ~(1u << depth)) | (uint32_t)(c == '[') << depth;
			depth++;
			r->pos++;
			skip_ws(r);
			if (r->pos == r->len || r->text[r->pos] != (c == '[' ? ']' : '}')) {
				if (c == '{' && (err = read_key(r, NULL, 0, &n, &raw, &n)))
					return err;
				continue;
			}
			r->pos++;
			depth--;
		} else if ((err = skip_scalar(r))) {
			return err;
		}
		/* After a value: the closings of the containers it ends, then a comma or the end. */
		for (;;) {
			bool array;

			if (!depth)
				return 0;
			array = arrays >> (depth - 1) & 1;
			skip_ws(r);
			if (r->pos < r->len && r->text[r->pos] == ',') {
				r->pos++;
				if (!array && (err = read_key(r, NULL, 0, &n, &raw, &n)))
					return err;
				break;
			}
			if (r->pos == r->len || r->text[r->pos] != (array ? ']' : '}'))
				return syntax_error(r, array ? "expected ',' or ']'" : "expected ',' or '}'");
			r->pos++;
			depth--;
		}
	}
}

/* A key as it may be shown in a message: printable ASCII only, so the message is safe in a log or JSON. */
static void printable(char *key)
{
	for (; *key; key++)
		if ((unsigned char)*key < 0x20 || (unsigned char)*key > 0x7e)
			*key = '?';
}

static int type_error(struct reader *r, const struct json_field *f)
{
	switch (f->type) {
	case JSON_STRING:
		return errmsg_set(r->e, EINVAL, "'%s' must be a string", f->name);
	case JSON_UINT:
		return errmsg_set(r->e, EINVAL, "'%s' must be an integer from %" PRIu64 " to %" PRIu64, f->name, f->min,
				  f->max);
	case JSON_BOOL:
		return errmsg_set(r->e, EINVAL, "'%s' must be true or false", f->name);
	case JSON_OBJECT:
		return errmsg_set(r->e, EINVAL, "'%s' must be an object", f->name);
	case JSON_ARRAY:
		return errmsg_set(r->e, EINVAL, "'%s' must be an array", f->name);
	}
	return -EINVAL;
}

/* A field's value at r->pos, checked, and stored only when store is set. */
static int read_value(struct reader *r, const struct json_field *f, bool store)
{
	char c = r->text[r->pos];
	uint64_t v;
	size_t n;
	int err;

	switch (f->type) {
	case JSON_STRING:
		if (c != '"')
			return type_error(r, f);
		err = read_string(r, store ? f->str : NULL, f->str_cap, &n);
		if (err)
			return err;
		if (f->str_cap == 0 || n > f->str_cap - 1)
			return errmsg_set(r->e, EINVAL, "'%s' must be at most %zu bytes long", f->name,
					  f->str_cap ? f->str_cap - 1 : 0);
		return 0;
	case JSON_UINT:
		if (c == '-' || (c >= '0' && c <= '9')) {
			if (c == '-' || read_uint(r, &v) || v < f->min || v > f->max)
				return type_error(r, f);
			if (store && f->uint)
				*f->uint = v;
			return 0;
		}
		return type_error(r, f);
	case JSON_BOOL:
		if (c == 't' && read_literal(r, "true")) {
			if (store && f->boolean)
				*f->boolean = true;
			return 0;
		}
		if (c == 'f' && read_literal(r, "false")) {
			if (store && f->boolean)
				*f->boolean = false;
			return 0;
		}
		return type_error(r, f);
	case JSON_OBJECT:
	case JSON_ARRAY: {
		size_t start = r->pos;

		if (c != (f->type == JSON_OBJECT ? '{' : '['))
			return type_error(r, f);
		if ((err = skip_value(r)))
			return err;
		if (store && f->object) {
			*f->object = r->text + start;
			*f->object_len = r->pos - start;
		}
		return 0;
	}
	}
	return type_error(r, f);
}

/* The whole object, once to check everything and once more (store set) to write the fields. */
static int read_object(struct reader *r, const struct json_field *fields, unsigned nr_fields, bool store)
{
	uint64_t seen = 0, nulls = 0; /* nulls: given as null, so absent */

	r->pos = 0;
	skip_ws(r);
	if (r->pos == r->len || r->text[r->pos] != '{')
		return errmsg_set(r->e, EINVAL, "not a JSON object");
	r->pos++;
	skip_ws(r);
	if (r->pos < r->len && r->text[r->pos] == '}') {
		r->pos++;
	} else {
		for (;;) {
			char key[KEY_MAX + 1];
			const char *raw;
			size_t key_len, raw_len;
			unsigned i;
			int err;

			if ((err = read_key(r, key, sizeof(key), &key_len, &raw, &raw_len)))
				return err;
			for (i = 0; i < nr_fields; i++)
				if (key_len == strlen(fields[i].name) && !strcmp(key, fields[i].name))
					break;
			if (i == nr_fields) {
				printable(key);
				return errmsg_set(r->e, EINVAL, "unknown field '%s%s'", key,
						  key_len > KEY_MAX ? "..." : "");
			}
			if (seen & (1ULL << i))
				return errmsg_set(r->e, EINVAL, "duplicate field '%s'", fields[i].name);
			seen |= 1ULL << i;
			skip_ws(r);
			if (r->pos == r->len)
				return syntax_error(r, "expected a value");
			if (r->text[r->pos] == 'n' && read_literal(r, "null"))
				nulls |= 1ULL << i;
			else if ((err = read_value(r, &fields[i], store)))
				return err;
			if (store && fields[i].present && !(nulls & (1ULL << i)))
				*fields[i].present = true;
			skip_ws(r);
			if (r->pos < r->len && r->text[r->pos] == ',') {
				r->pos++;
				skip_ws(r);
				continue;
			}
			if (r->pos < r->len && r->text[r->pos] == '}') {
				r->pos++;
				break;
			}
			return syntax_error(r, "expected ',' or '}'");
		}
	}
	skip_ws(r);
	if (r->pos != r->len)
		return syntax_error(r, "text after the object");
	for (unsigned i = 0; i < nr_fields; i++)
		if (fields[i].required && (!(seen & (1ULL << i)) || (nulls & (1ULL << i))))
			return errmsg_set(r->e, EINVAL, "missing field '%s'", fields[i].name);
	if (store)
		for (unsigned i = 0; i < nr_fields; i++)
			if ((!(seen & (1ULL << i)) || (nulls & (1ULL << i))) && fields[i].present)
				*fields[i].present = false;
	return 0;
}

int json_read_object(const char *text, size_t len, const struct json_field *fields, unsigned nr_fields,
		     struct errmsg *e)
{
	struct reader r = { .text = text, .len = len, .e = e };
	int err;

	if (nr_fields > FIELDS_MAX)
		return errmsg_set(e, E2BIG, "more than %d JSON fields", FIELDS_MAX);
	err = read_object(&r, fields, nr_fields, false);
	if (err)
		return err;
	return read_object(&r, fields, nr_fields, true);
}

/* One pass over the members or elements; fn NULL: only checks the text. */
static int for_each(struct reader *r, bool object, json_item_fn fn, void *ctx)
{
	const char close = object ? '}' : ']';
	int err;

	r->pos = 0;
	skip_ws(r);
	if (r->pos == r->len || r->text[r->pos] != (object ? '{' : '['))
		return errmsg_set(r->e, EINVAL, object ? "not a JSON object" : "not a JSON array");
	r->pos++;
	skip_ws(r);
	if (r->pos < r->len && r->text[r->pos] == close) {
		r->pos++;
	} else {
		for (;;) {
			struct json_item it = { .key = NULL };
			size_t key_len;

			if (object && (err = read_key(r, NULL, 0, &key_len, &it.key, &it.key_len)))
				return err;
			skip_ws(r);
			it.value = r->text + r->pos;
			if ((err = skip_value(r)))
				return err;
			it.value_len = (size_t)(r->text + r->pos - it.value);
			if (fn && (err = fn(ctx, &it, r->e)))
				return err;
			skip_ws(r);
			if (r->pos < r->len && r->text[r->pos] == ',') {
				r->pos++;
				continue;
			}
			if (r->pos < r->len && r->text[r->pos] == close) {
				r->pos++;
				break;
			}
			return syntax_error(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	skip_ws(r);
	if (r->pos != r->len)
		return syntax_error(r, object ? "text after the object" : "text after the array");
	return 0;
}

int json_for_each(const char *text, size_t len, bool object, json_item_fn fn, void *ctx, struct errmsg *e)
{
	struct reader r = { .text = text, .len = len, .e = e };
	int err;

	err = for_each(&r, object, NULL, NULL);
	if (err)
		return err;
	return for_each(&r, object, fn, ctx);
}

/* Appends n bytes, keeping the buffer NUL-terminated; the first overflow sticks. */
static void put(struct json_out *j, const char *s, size_t n)
{
	if (j->err)
		return;
	if (n >= j->cap - j->len) {
		j->err = -ENOSPC;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void put_str(struct json_out *j, const char *s)
{
	put(j, s, strlen(s));
}

static void put_quoted(struct json_out *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	put(j, "\"", 1);
	while (n) {
		size_t k = utf8_len(p, n);
		char esc[8];

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(j, esc, 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(j, esc, 6);
		} else if (!k) {
			/* Not UTF-8 (a host path can be anything): U+FFFD keeps the output valid JSON. */
			put_str(j, "\\ufffd");
			k = 1;
		} else {
			put(j, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
	put(j, "\"", 1);
}

/* The comma before a member, and its key inside an object. */
static void begin_member(struct json_out *j, const char *key)
{
	if (j->depth) {
		if (!j->first[j->depth - 1])
			put(j, ",", 1);
		j->first[j->depth - 1] = false;
	}
	if (key) {
		put_quoted(j, key);
		put(j, ":", 1);
	}
}

static void open_nested(struct json_out *j, const char *key, char c)
{
	begin_member(j, key);
	if (j->err)
		return;
	if (j->depth == sizeof(j->first) / sizeof(j->first[0])) {
		j->err = -E2BIG;
		return;
	}
	put(j, &c, 1);
	j->first[j->depth++] = true;
}

static void close_nested(struct json_out *j, char c)
{
	if (j->err)
		return;
	if (!j->depth) {
		j->err = -EINVAL;
		return;
	}
	j->depth--;
	put(j, &c, 1);
}

void json_out_init(struct json_out *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = cap;
	if (cap)
		buf[0] = '\0';
	else
		j->err = -ENOSPC;
}

void json_object_begin(struct json_out *j, const char *key)
{
	open_nested(j, key, '{');
}

void json_object_end(struct json_out *j)
{
	close_nested(j, '}');
}

void json_array_begin(struct json_out *j, const char *key)
{
	open_nested(j, key, '[');
}

void json_array_end(struct json_out *j)
{
	close_nested(j, ']');
}

void json_put_string(struct json_out *j, const char *key, const char *value)
{
	begin_member(j, key);
	put_quoted(j, value);
}

void json_put_uint(struct json_out *j, const char *key, uint64_t value)
{
	char num[24];

	begin_member(j, key);
	snprintf(num, sizeof(num), "%" PRIu64, value);
	put_str(j, num);
}

void json_put_int(struct json_out *j, const char *key, int64_t value)
{
	char num[24];

	begin_member(j, key);
	snprintf(num, sizeof(num), "%" PRId64, value);
	put_str(j, num);
}

void json_put_bool(struct json_out *j, const char *key, bool value)
{
	begin_member(j, key);
	put_str(j, value ? "true" : "false");
}

void json_put_null(struct json_out *j, const char *key)
{
	begin_member(j, key);
	put_str(j, "null");
}

int json_out_finish(const struct json_out *j)
{
	if (j->err)
		return j->err;
	if (j->depth)
		return -EINVAL;
	return (int)j->len;
}
