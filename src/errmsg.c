// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"

int errmsg_set(struct errmsg *e, int err_no, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -err_no;
}

int errmsg_prefix(struct errmsg *e, int err_no, const char *fmt, ...)
{
	char prefix[sizeof(e->text)];
	size_t plen, rest;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	rest = strnlen(e->text, sizeof(e->text) - 1);
	if (rest > sizeof(e->text) - 1 - plen)
		rest = sizeof(e->text) - 1 - plen; /* the end of the message gives way to the context */
	memmove(e->text + plen, e->text, rest);
	memcpy(e->text, prefix, plen);
	e->text[plen + rest] = '\0';
	return -err_no;
}
