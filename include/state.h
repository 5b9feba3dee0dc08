/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device state for save and restore: a writer that appends little-endian
 * fields to a growable buffer, and a reader that takes them back out with
 * every read bounds-checked. A saved blob is untrusted input (it may come
 * from another host or a corrupted file), so the reader never reads past
 * its end, and its first error sticks: later reads return zero, and one
 * message names the device and the field that was short or wrong.
 *
 * A whole VM's blob frames each device: a header (magic, format, device
 * count), then per device its record's name, its state version and the
 * length of its state, so a restore tells a missing, extra, reordered or
 * truncated device from a corrupt one.
 */
#ifndef KVMINI_STATE_H
#define KVMINI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

struct device_instance;

struct state_writer {
	uint8_t *buf;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed; later appends do nothing */
};

void state_writer_init(struct state_writer *w);
void state_writer_free(struct state_writer *w);
void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bool(struct state_writer *w, bool v);
void state_put_bytes(struct state_writer *w, const void *data, size_t len);

struct state_reader {
	const uint8_t *data;
	size_t len, pos;
	const char *device; /* names the messages */
	int err;            /* the first error (-EINVAL), sticky */
	struct errmsg msg;  /* what it was: "serial state: rx_count: ..." */
};

void state_reader_init(struct state_reader *r, const void *data, size_t len, const char *device);
/* Each returns the field, or 0 once the reader has failed (past the end, or an earlier error). */
uint8_t state_get_u8(struct state_reader *r, const char *field);
uint16_t state_get_u16(struct state_reader *r, const char *field);
uint32_t state_get_u32(struct state_reader *r, const char *field);
uint64_t state_get_u64(struct state_reader *r, const char *field);
/* A byte that must be 0 or 1. */
bool state_get_bool(struct state_reader *r, const char *field);
/* Fills out (zeros it on failure). */
void state_get_bytes(struct state_reader *r, const char *field, void *out, size_t len);
/*
 * A queue saved as a one-byte count (field count_field) and that many bytes
 * (field): fills out[0, count) and returns the count; a count past max (the
 * error says "N bytes, WHERE holds MAX") or a short blob fails the reader
 * and gives 0.
 */
unsigned state_get_counted(struct state_reader *r, const char *count_field, const char *field, void *out,
			   unsigned max, const char *where);
/* A value read well but not valid for the device: fails the reader with the reason. Returns -EINVAL. */
int state_invalid(struct state_reader *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether every field so far was read and valid. */
static inline bool state_ok(const struct state_reader *r)
{
	return !r->err;
}
/*
 * The end of a device's state: 0 when every field was read, valid, and
 * nothing is left over; otherwise -EINVAL with the message in e. Restore
 * hooks call it before they change the device, so a bad blob leaves the
 * device as init made it.
 */
int state_reader_done(struct state_reader *r, struct errmsg *e);

/*
 * Every device's state, in the set's order. Devices without a save hook get
 * an empty record, so a restore still checks they are there.
 */
int devices_save(const struct device_instance *devices, unsigned nr, struct state_writer *w);
/*
 * From r (a whole blob: devices_save's) into devices just made by init, the
 * same ones in the same order as those saved: -EINVAL with a message in e
 * for a blob that is not kvmini state, a device missing, extra or out of
 * order, a version this build does not read, or a device's state that is
 * short, long or invalid. The framing is checked before any device changes;
 * a device's own state is checked before that device changes, but devices
 * before it are restored by then: a VM whose restore failed must not run.
 */
int devices_restore(const struct device_instance *devices, unsigned nr, struct state_reader *r, struct errmsg *e);

#endif
