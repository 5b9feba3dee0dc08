// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the state reader and the device framing
 * (src/state.c): the input is a whole VM's saved state, restored into three
 * stand-in devices that read every kind of field, one of them a list whose
 * length comes from the blob. A restore that succeeds must save back to the
 * very bytes it read: nothing read is lost or invented.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "state.h"

#define LIST_MAX 8

struct fields {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	bool e;
	uint8_t bytes[5];
};

struct list {
	uint8_t n;
	uint16_t items[LIST_MAX];
};

static int fields_save(void *data, struct state_writer *w)
{
	const struct fields *f = data;

	state_put_u8(w, f->a);
	state_put_u16(w, f->b);
	state_put_u32(w, f->c);
	state_put_u64(w, f->d);
	state_put_bool(w, f->e);
	state_put_bytes(w, f->bytes, sizeof(f->bytes));
	return 0;
}

static int fields_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct fields f;

	f.a = state_get_u8(r, "a");
	f.b = state_get_u16(r, "b");
	f.c = state_get_u32(r, "c");
	f.d = state_get_u64(r, "d");
	f.e = state_get_bool(r, "e");
	state_get_bytes(r, "bytes", f.bytes, sizeof(f.bytes));
	if (f.b & 1)
		state_invalid(r, "b", "%u is odd", f.b);
	if (state_reader_done(r, e))
		return -EINVAL;
	*(struct fields *)data = f;
	return 0;
}

static int list_save(void *data, struct state_writer *w)
{
	const struct list *l = data;

	state_put_u8(w, l->n);
	for (unsigned i = 0; i < l->n; i++)
		state_put_u16(w, l->items[i]);
	return 0;
}

static int list_restore(void *data, struct state_reader *r, struct errmsg *e)
{
	struct list l = { .n = state_get_u8(r, "n") };

	if (l.n > LIST_MAX)
		state_invalid(r, "n", "%u items, at most %d", l.n, LIST_MAX);
	for (unsigned i = 0; i < l.n && state_ok(r); i++)
		l.items[i] = state_get_u16(r, "item");
	if (state_reader_done(r, e))
		return -EINVAL;
	*(struct list *)data = l;
	return 0;
}

static const struct device_ops fields_ops = {
	.name = "fields", .save = fields_save, .restore = fields_restore, .state_version = 1,
};
static const struct device_ops none_ops = { .name = "none" };
static const struct device_ops list_ops = {
	.name = "list", .save = list_save, .restore = list_restore, .state_version = 2,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fields f = { 0 };
	struct list l = { 0 };
	const struct device_instance set[] = { { &fields_ops, &f }, { &none_ops, NULL }, { &list_ops, &l } };
	struct state_reader r;
	struct state_writer w;
	struct errmsg e;

	state_reader_init(&r, data, size, "snapshot");
	if (devices_restore(set, 3, &r, &e))
		return 0;
	state_writer_init(&w);
	if (devices_save(set, 3, &w) || w.len != size || memcmp(w.buf, data, size))
		abort();
	state_writer_free(&w);
	return 0;
}
