/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One line of the built-in init's output, built in place: no libc, no
 * formatting. Pure code: it also compiles as ordinary C for its unit test.
 */
#ifndef KVMINI_INIT_TEXT_H
#define KVMINI_INIT_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct line {
	char text[256];
	size_t len;
};

/* Appends s; a line that would overflow is cut short, keeping one byte for the newline. */
void line_add(struct line *l, const char *s);
void line_add_num(struct line *l, uint64_t n);
/* Appends "errno N (NAME)" (no name for one it does not know); err is negative, as system calls return it. */
void line_add_errno(struct line *l, long err);

#endif
