// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "state.h"

/* "KVMINIST" read as a little-endian u64: a blob that is not ours fails on its first field. */
#define STATE_MAGIC 0x5453494e494d564bull
#define STATE_FORMAT 1
/* A record's name is at most this long (a device_ops name). */
#define STATE_NAME_MAX 32

void state_writer_init(struct state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void state_writer_free(struct state_writer *w)
{
	free(w->buf);
	state_writer_init(w);
}

void state_put_bytes(struct state_writer *w, const void *data, size_t len)
{
	if (w->err)
		return;
	if (len > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *buf;

		while (cap - w->len < len) {
			if (cap > SIZE_MAX / 2) {
				w->err = -ENOMEM;
				return;
			}
			cap *= 2;
		}
		buf = realloc(w->buf, cap);
		if (!buf) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = buf;
		w->cap = cap;
	}
	if (len)
		memcpy(w->buf + w->len, data, len);
	w->len += len;
}

/* Little-endian whatever the host, so a blob means the same everywhere. */
static void put_le(struct state_writer *w, uint64_t v, unsigned size)
{
	uint8_t b[8];

	for (unsigned i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	state_put_bytes(w, b, size);
}

void state_put_u8(struct state_writer *w, uint8_t v)
{
	put_le(w, v, 1);
}

void state_put_u16(struct state_writer *w, uint16_t v)
{
	put_le(w, v, 2);
}

void state_put_u32(struct state_writer *w, uint32_t v)
{
	put_le(w, v, 4);
}

void state_put_u64(struct state_writer *w, uint64_t v)
{
	put_le(w, v, 8);
}

void state_put_bool(struct state_writer *w, bool v)
{
	put_le(w, v, 1);
}

void state_reader_init(struct state_reader *r, const void *data, size_t len, const char *device)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->device = device;
}

static int reader_fail(struct state_reader *r, const char *field, const char *fmt, va_list ap)
{
	char reason[160];

	if (r->err)
		return r->err;
	vsnprintf(reason, sizeof(reason), fmt, ap);
	r->err = errmsg_set(&r->msg, EINVAL, "%s state: %s: %s", r->device, field, reason);
	return r->err;
}

int state_invalid(struct state_reader *r, const char *field, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = reader_fail(r, field, fmt, ap);
	va_end(ap);
	return err;
}

void state_get_bytes(struct state_reader *r, const char *field, void *out, size_t len)
{
	if (!r->err && len > r->len - r->pos)
		state_invalid(r, field, "truncated: %zu bytes at offset %zu, %zu left", len, r->pos, r->len - r->pos);
	if (r->err) {
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->data + r->pos, len);
	r->pos += len;
}

static uint64_t get_le(struct state_reader *r, const char *field, unsigned size)
{
	uint8_t b[8];
	uint64_t v = 0;

	state_get_bytes(r, field, b, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t state_get_u8(struct state_reader *r, const char *field)
{
	return (uint8_t)get_le(r, field, 1);
}

uint16_t state_get_u16(struct state_reader *r, const char *field)
{
	return (uint16_t)get_le(r, field, 2);
}

uint32_t state_get_u32(struct state_reader *r, const char *field)
{
	return (uint32_t)get_le(r, field, 4);
}

uint64_t state_get_u64(struct state_reader *r, const char *field)
{
	return get_le(r, field, 8);
}

bool state_get_bool(struct state_reader *r, const char *field)
{
	uint8_t v = state_get_u8(r, field);

	if (v > 1)
		state_invalid(r, field, "%u is not a boolean", v);
	return v == 1;
}

unsigned state_get_counted(struct state_reader *r, const char *count_field, const char *field, void *out,
			   unsigned max, const char *where)
{
	unsigned count = state_get_u8(r, count_field);

	if (count > max)
		state_invalid(r, count_field, "%u bytes, %s holds %u", count, where, max);
	state_get_bytes(r, field, out, state_ok(r) ? count : 0);
	return state_ok(r) ? count : 0;
}

int state_reader_done(struct state_reader *r, struct errmsg *e)
{
	if (!r->err && r->pos != r->len)
		state_invalid(r, "end", "%zu bytes left over", r->len - r->pos);
	if (r->err)
		*e = r->msg;
	return r->err;
}

int devices_save(const struct device_instance *devices, unsigned nr, struct state_writer *w)
{
	state_put_u64(w, STATE_MAGIC);
	state_put_u32(w, STATE_FORMAT);
	state_put_u32(w, nr);
	for (unsigned i = 0; i < nr; i++) {
		const struct device_ops *ops = devices[i].ops;
		size_t name_len = strlen(ops->name), length_at;
		int err;

		if (name_len > STATE_NAME_MAX)
			return -ENAMETOOLONG;
		state_put_u8(w, (uint8_t)name_len);
		state_put_bytes(w, ops->name, name_len);
		state_put_u32(w, ops->state_version);
		/* The length goes in once the device has written its state. */
		length_at = w->len;
		state_put_u32(w, 0);
		err = ops->save ? ops->save(devices[i].data, w) : 0;
		if (err)
			return err;
		if (w->err)
			return w->err;
		if (w->len - length_at - 4 > UINT32_MAX)
			return -EOVERFLOW;
		for (unsigned b = 0; b < 4; b++)
			w->buf[length_at + b] = (uint8_t)((w->len - length_at - 4) >> (8 * b));
	}
	return w->err;
}

/* The next record's header, checked against the device expected there; its state in *out. */
static int restore_header(const struct device_ops *ops, struct state_reader *r, struct state_reader *out)
{
	char name[STATE_NAME_MAX + 1];
	uint8_t name_len = state_get_u8(r, "device name length");
	uint32_t version, len;

	if (name_len > STATE_NAME_MAX)
		return state_invalid(r, "device name", "%u bytes long, at most %d", name_len, STATE_NAME_MAX);
	state_get_bytes(r, "device name", name, name_len);
	name[name_len] = '\0';
	version = state_get_u32(r, "version");
	len = state_get_u32(r, "length");
	if (!state_ok(r))
		return r->err;
	if (strlen(name) != name_len || strcmp(name, ops->name))
		return state_invalid(r, "device", "'%.*s' where this VM has '%s' (a device missing, extra or "
					 "out of order)", (int)strnlen(name, name_len), name, ops->name);
	if (version != ops->state_version)
		return state_invalid(r, ops->name, "version %u, this build reads version %u", version,
				     ops->state_version);
	if (len > r->len - r->pos)
		return state_invalid(r, ops->name, "truncated: %u bytes of state, %zu left", len, r->len - r->pos);
	state_reader_init(out, r->data + r->pos, len, ops->name);
	r->pos += len;
	return 0;
}

/* Every record's header against the device expected there; with apply, each device's state too. */
static int restore_records(const struct device_instance *devices, unsigned nr, struct state_reader *r, bool apply,
			   struct errmsg *e)
{
	uint64_t magic = state_get_u64(r, "magic");
	uint32_t format = state_get_u32(r, "format");
	uint32_t count = state_get_u32(r, "device count");

	if (state_ok(r) && magic != STATE_MAGIC)
		state_invalid(r, "magic", "not kvmini device state");
	else if (state_ok(r) && format != STATE_FORMAT)
		state_invalid(r, "format", "%u, this build reads %d", format, STATE_FORMAT);
	else if (state_ok(r) && count != nr)
		state_invalid(r, "device count", "%u devices saved, this VM has %u", count, nr);
	for (unsigned i = 0; i < nr && state_ok(r); i++) {
		const struct device_instance *d = &devices[i];
		struct state_reader dev;

		if (restore_header(d->ops, r, &dev) || !apply)
			continue;
		if (d->ops->restore) {
			int err = d->ops->restore(d->data, &dev, e);

			if (err)
				return err;
		} else if (state_reader_done(&dev, e)) {
			return -EINVAL;
		}
	}
	return state_reader_done(r, e);
}

int devices_restore(const struct device_instance *devices, unsigned nr, struct state_reader *r, struct errmsg *e)
{
	size_t start = r->pos;
	int err = restore_records(devices, nr, r, false, e);

	/* The framing is checked whole first: a device missing at the end changes no device. */
	if (err)
		return err;
	r->pos = start;
	return restore_records(devices, nr, r, true, e);
}
