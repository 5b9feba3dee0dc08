// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "schema_check.h"

/* Our schema nests a few levels (FullVmConfiguration.drives[].rate_limiter.bandwidth); a $ref loop would not end. */
#define SCHEMA_DEPTH_MAX 16
/* Firecracker's objects have a dozen members at most; more is a body no client sends. */
#define MEMBERS_MAX 64

struct slice {
	const char *p;
	size_t n;
};

/* A schema node's keywords, each the text of its value (p NULL when absent). */
struct node {
	struct slice type, ref, enumeration, minimum, maximum, required, properties, additional, items;
};

static bool slice_eq(struct slice s, const char *p, size_t n)
{
	return s.p && s.n == n && !memcmp(s.p, p, n);
}

/* A JSON string value's text without its quotes (escapes not undone: our schema has none). */
static struct slice unquote(struct slice s)
{
	if (s.n >= 2 && s.p[0] == '"')
		return (struct slice){ s.p + 1, s.n - 2 };
	return (struct slice){ NULL, 0 };
}

static bool string_is(struct slice s, const char *lit)
{
	struct slice u = unquote(s);

	return slice_eq(u, lit, strlen(lit));
}

static int read_keyword(void *ctx, const struct json_item *it, struct errmsg *e)
{
	static const struct {
		const char *name;
		size_t off;
	} words[] = {
		{ "type", offsetof(struct node, type) },
		{ "$ref", offsetof(struct node, ref) },
		{ "enum", offsetof(struct node, enumeration) },
		{ "minimum", offsetof(struct node, minimum) },
		{ "maximum", offsetof(struct node, maximum) },
		{ "required", offsetof(struct node, required) },
		{ "properties", offsetof(struct node, properties) },
		{ "additionalProperties", offsetof(struct node, additional) },
		{ "items", offsetof(struct node, items) },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (it->key_len == strlen(words[i].name) && !memcmp(it->key, words[i].name, it->key_len)) {
			*(struct slice *)((char *)ctx + words[i].off) = (struct slice){ it->value, it->value_len };
			return 0;
		}
	}
	/* description, format, default, example: documentation only. */
	(void)e;
	return 0;
}

struct find {
	const char *key;
	size_t key_len;
	struct slice value;
};

static int find_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct find *f = ctx;

	(void)e;
	if (!f->value.p && it->key_len == f->key_len && !memcmp(it->key, f->key, f->key_len))
		f->value = (struct slice){ it->value, it->value_len };
	return 0;
}

/* The value of member key in object obj, or p NULL. */
static struct slice member(struct slice obj, const char *key, size_t key_len)
{
	struct find f = { .key = key, .key_len = key_len };
	struct errmsg ignored;

	if (!obj.p || json_for_each(obj.p, obj.n, true, find_cb, &f, &ignored))
		return (struct slice){ NULL, 0 };
	return f.value;
}

static struct slice definition(const struct schema *s, const char *name, size_t len)
{
	struct slice defs = member((struct slice){ s->text, s->len }, "definitions", strlen("definitions"));

	return member(defs, name, len);
}

/* What a value's first byte says it is. */
static const char *kind_of(struct slice v)
{
	switch (v.n ? v.p[0] : 0) {
	case '{':
		return "an object";
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return memchr(v.p, '.', v.n) || memchr(v.p, 'e', v.n) || memchr(v.p, 'E', v.n) ? "a number"
											   : "an integer";
	}
}

static bool type_matches(struct slice type, const char *kind)
{
	static const char *const pairs[][2] = {
		{ "object", "an object" }, { "array", "an array" },     { "string", "a string" },
		{ "boolean", "a boolean" }, { "integer", "an integer" }, { "number", "an integer" },
		{ "number", "a number" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (string_is(type, pairs[i][0]) && !strcmp(kind, pairs[i][1]))
			return true;
	return false;
}

/* A JSON integer's value, saturated at the ends of long long. */
static long long integer(struct slice v)
{
	char buf[32];

	if (v.n >= sizeof(buf))
		return v.p[0] == '-' ? LLONG_MIN : LLONG_MAX;
	memcpy(buf, v.p, v.n);
	buf[v.n] = '\0';
	return strtoll(buf, NULL, 10);
}

struct checker {
	const struct schema *s;
	unsigned depth;
};

static int check(struct checker *ck, struct slice schema_node, struct slice inst, const char *where, struct errmsg *e);

struct list_ctx {
	struct slice inst; /* enum: the value looked for */
	bool found;
};

static int enum_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct list_ctx *l = ctx;

	(void)e;
	if (slice_eq(l->inst, it->value, it->value_len))
		l->found = true;
	return 0;
}

struct object_ctx {
	struct checker *ck;
	const char *where;
	struct node *node;
	struct slice seen[MEMBERS_MAX];
	unsigned nr_seen;
};

static bool is_required(struct slice required, const char *key, size_t key_len)
{
	struct list_ctx l;
	char quoted[80];

	if (!required.p || key_len + 2 >= sizeof(quoted))
		return false;
	quoted[0] = '"';
	memcpy(quoted + 1, key, key_len);
	quoted[key_len + 1] = '"';
	l = (struct list_ctx){ .inst = { quoted, key_len + 2 } };
	json_for_each(required.p, required.n, false, enum_cb, &l, &(struct errmsg){ 0 });
	return l.found;
}

static int member_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct object_ctx *o = ctx;
	struct slice value = { it->value, it->value_len };
	struct slice prop = member(o->node->properties, it->key, it->key_len);
	char where[256];

	for (unsigned i = 0; i < o->nr_seen; i++)
		if (slice_eq(o->seen[i], it->key, it->key_len))
			return errmsg_set(e, EINVAL, "%s: duplicate field '%.*s'", o->where, (int)it->key_len, it->key);
	if (o->nr_seen == MEMBERS_MAX)
		return errmsg_set(e, EINVAL, "%s: more than %d fields", o->where, MEMBERS_MAX);
	o->seen[o->nr_seen++] = (struct slice){ it->key, it->key_len };

	snprintf(where, sizeof(where), "%s.%.*s", o->where, (int)it->key_len, it->key);
	if (!prop.p) {
		if (o->node->additional.p && o->node->additional.p[0] == 'f')
			return errmsg_set(e, EINVAL, "%s: unknown field '%.*s'", o->where, (int)it->key_len, it->key);
		if (!o->node->additional.p || o->node->additional.p[0] != '{')
			return 0;
		prop = o->node->additional;
	}
	/* Firecracker's Option fields take null as absent; a required field does not. */
	if (value.p[0] == 'n') {
		if (is_required(o->node->required, it->key, it->key_len))
			return errmsg_set(e, EINVAL, "%s: required field '%.*s' is null", o->where, (int)it->key_len,
					  it->key);
		return 0;
	}
	return check(o->ck, prop, value, where, e);
}

struct required_ctx {
	struct slice inst;
	const char *where;
};

static int required_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct required_ctx *r = ctx;
	struct slice name = unquote((struct slice){ it->value, it->value_len });
	struct slice v = member(r->inst, name.p, name.n);

	if (!v.p)
		return errmsg_set(e, EINVAL, "%s: missing required field '%.*s'", r->where, (int)name.n, name.p);
	return 0;
}

struct items_ctx {
	struct checker *ck;
	const char *where;
	struct slice items;
	unsigned index;
};

static int item_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct items_ctx *a = ctx;
	char where[256];

	snprintf(where, sizeof(where), "%s[%u]", a->where, a->index++);
	return check(a->ck, a->items, (struct slice){ it->value, it->value_len }, where, e);
}

static int check_object(struct checker *ck, struct node *n, struct slice inst, const char *where, struct errmsg *e)
{
	struct object_ctx o = { .ck = ck, .where = where, .node = n };
	struct required_ctx r = { .inst = inst, .where = where };
	int err;

	err = json_for_each(inst.p, inst.n, true, member_cb, &o, e);
	if (err || !n->required.p)
		return err;
	return json_for_each(n->required.p, n->required.n, false, required_cb, &r, e);
}

static int check(struct checker *ck, struct slice schema_node, struct slice inst, const char *where, struct errmsg *e)
{
	struct node n = { 0 };
	const char *kind = kind_of(inst);
	int err;

	if (ck->depth >= SCHEMA_DEPTH_MAX)
		return errmsg_set(e, ELOOP, "%s: the schema nests deeper than %d", where, SCHEMA_DEPTH_MAX);
	err = json_for_each(schema_node.p, schema_node.n, true, read_keyword, &n, e);
	if (err)
		return errmsg_prefix(e, EINVAL, "the schema at %s: ", where);

	if (n.ref.p) {
		struct slice name = unquote(n.ref);
		static const char prefix[] = "#/definitions/";
		struct slice def;

		if (name.n > strlen(prefix) && !memcmp(name.p, prefix, strlen(prefix))) {
			name.p += strlen(prefix);
			name.n -= strlen(prefix);
		}
		def = definition(ck->s, name.p, name.n);
		if (!def.p)
			return errmsg_set(e, ENOENT, "%s: the schema has no definition '%.*s'", where, (int)name.n,
					  name.p);
		ck->depth++;
		err = check(ck, def, inst, where, e);
		ck->depth--;
		return err;
	}
	if (n.type.p && !type_matches(n.type, kind))
		return errmsg_set(e, EINVAL, "%s: %s, not %.*s", where, kind, (int)n.type.n, n.type.p);
	if (n.enumeration.p) {
		struct list_ctx l = { .inst = inst };

		json_for_each(n.enumeration.p, n.enumeration.n, false, enum_cb, &l, e);
		if (!l.found)
			return errmsg_set(e, EINVAL, "%s: %.*s is not one of %.*s", where, (int)inst.n, inst.p,
					  (int)n.enumeration.n, n.enumeration.p);
	}
	if (!strcmp(kind, "an integer")) {
		if (n.minimum.p && integer(inst) < integer(n.minimum))
			return errmsg_set(e, EINVAL, "%s: %.*s is below the minimum %.*s", where, (int)inst.n, inst.p,
					  (int)n.minimum.n, n.minimum.p);
		if (n.maximum.p && integer(inst) > integer(n.maximum))
			return errmsg_set(e, EINVAL, "%s: %.*s is above the maximum %.*s", where, (int)inst.n, inst.p,
					  (int)n.maximum.n, n.maximum.p);
	}
	ck->depth++;
	if (inst.p[0] == '{')
		err = check_object(ck, &n, inst, where, e);
	else if (inst.p[0] == '[' && n.items.p)
		err = json_for_each(inst.p, inst.n, false, item_cb,
				    &(struct items_ctx){ .ck = ck, .where = where, .items = n.items }, e);
	ck->depth--;
	return err;
}

/* Leading and trailing JSON whitespace off. */
static struct slice trim(const char *p, size_t n)
{
	while (n && strchr(" \t\r\n", p[0]))
		p++, n--;
	while (n && strchr(" \t\r\n", p[n - 1]))
		n--;
	return (struct slice){ p, n };
}

int schema_validate(const struct schema *s, const char *def, const char *instance, size_t len, struct errmsg *e)
{
	struct checker ck = { .s = s };
	struct slice node = definition(s, def, strlen(def));
	struct slice inst = trim(instance, len);

	if (!node.p)
		return errmsg_set(e, ENOENT, "the schema has no definition '%s'", def);
	if (!inst.n)
		return errmsg_set(e, EINVAL, "%s: an empty body", def);
	/* Scalars have no reader of their own in json.c: check them inside an array, which validates their text. */
	if (inst.p[0] != '{' && inst.p[0] != '[') {
		char wrapped[64];
		int err;

		if (inst.n > sizeof(wrapped) - 3)
			return errmsg_set(e, EINVAL, "%s: not JSON", def);
		snprintf(wrapped, sizeof(wrapped), "[%.*s]", (int)inst.n, inst.p);
		err = json_for_each(wrapped, strlen(wrapped), false, enum_cb, &(struct list_ctx){ 0 }, e);
		if (err)
			return errmsg_prefix(e, EINVAL, "%s: ", def);
	}
	return check(&ck, node, inst, def, e);
}

struct lookup_ctx {
	const char *method, *path, *status;
	char *def;
	size_t def_cap;
	bool found;
	bool status_found;
};

/* Whether path matches the template, "{...}" standing for one non-empty segment. */
static bool path_matches(struct slice tmpl, const char *path)
{
	const char *t = tmpl.p, *end = tmpl.p + tmpl.n;

	while (t < end && *path) {
		if (*t == '{') {
			const char *close = memchr(t, '}', (size_t)(end - t));
			size_t seg = strcspn(path, "/");

			if (!close || !seg)
				return false;
			t = close + 1;
			path += seg;
		} else if (*t++ != *path++) {
			return false;
		}
	}
	return t == end && !*path;
}

static void copy_def(struct lookup_ctx *l, struct slice v)
{
	struct slice name = unquote(v);

	/* null or absent: no body. */
	snprintf(l->def, l->def_cap, "%.*s", (int)name.n, name.p ? name.p : "");
}

static int operation_cb(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct lookup_ctx *l = ctx;
	struct slice op = { it->value, it->value_len };
	struct slice method = member(op, "method", strlen("method"));
	struct slice path = unquote(member(op, "path", strlen("path")));

	(void)e;
	if (l->found || !string_is(method, l->method) || !path.p || !path_matches(path, l->path))
		return 0;
	l->found = true;
	if (!l->status) {
		copy_def(l, member(op, "request", strlen("request")));
		l->status_found = true;
		return 0;
	}
	struct slice responses = member(op, "responses", strlen("responses"));
	struct slice v = member(responses, l->status, strlen(l->status));

	/* Firecracker's "default" answer (an Error) stands for every status it does not list. */
	if (!v.p)
		v = member(responses, "default", strlen("default"));
	if (v.p) {
		copy_def(l, v);
		l->status_found = true;
	}
	return 0;
}

int schema_lookup(const struct schema *s, const char *method, const char *path, const char *status, char *def,
		  size_t def_cap, struct errmsg *e)
{
	struct lookup_ctx l = { .method = method, .path = path, .status = status, .def = def, .def_cap = def_cap };
	struct slice ops = member((struct slice){ s->text, s->len }, "operations", strlen("operations"));
	int err;

	if (!ops.p)
		return errmsg_set(e, ENOENT, "the schema has no operations");
	err = json_for_each(ops.p, ops.n, false, operation_cb, &l, e);
	if (err)
		return err;
	if (!l.found)
		return errmsg_set(e, ENOENT, "the schema has no operation %s %s", method, path);
	if (!l.status_found)
		return errmsg_set(e, ENOENT, "%s %s: the schema declares no status %s", method, path, status);
	return 0;
}
