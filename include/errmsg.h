/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Library code returns a negative errno; when the errno alone would not tell
 * the user what is wrong ("not a bzImage"), it also fills an errmsg that the
 * caller prints with its own context.
 */
#ifndef KVMINI_ERRMSG_H
#define KVMINI_ERRMSG_H

struct errmsg {
	char text[256];
};

/* Formats the message and returns -err_no (err_no > 0), so callers can `return errmsg_set(...)`. */
int errmsg_set(struct errmsg *e, int err_no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Puts context in front of the message already there ("kernel 'x': " + "truncated"); returns -err_no. */
int errmsg_prefix(struct errmsg *e, int err_no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
