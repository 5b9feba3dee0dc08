/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Option values made of "key=value,key=value" (--drive, --net): the pieces a
 * device's parser reads them with. Pure; every error is -EINVAL with a reason
 * that names the key, for the caller to put the option in front of
 * (kv_option_error).
 */
#ifndef KVMINI_KV_H
#define KVMINI_KV_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

/* One item of the list; neither part is NUL-terminated. */
struct kv_item {
	const char *key, *value;
	size_t key_len, value_len;
};

/* Splits the item at *pos and moves *pos past it and its comma (to NULL after the last item); it needs an '='. */
int kv_next(const char **pos, struct kv_item *it, struct errmsg *e);
/* The index of the item's key in keys[] (at most 32); unknown, or already in *seen, is an error. */
int kv_key(const struct kv_item *it, const char *const keys[], unsigned nr_keys, unsigned *seen, struct errmsg *e);
/* A value that is one of two words: `no` gives false, `yes` true. */
int kv_choice(const struct kv_item *it, const char *no, const char *yes, bool *out, struct errmsg *e);
/* Copies the value into a char[size] as a string; empty or too long is an error. */
int kv_string(const struct kv_item *it, char *dst, size_t size, struct errmsg *e);
/* Puts "OPTION 'VALUE': " in front of the reason already in e, a long value cut short; returns -EINVAL. */
int kv_option_error(struct errmsg *e, const char *option, const char *arg);

#endif
