// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>

#include "log.h"

static bool verbose;
static bool raw_terminal;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_verbose(bool on)
{
	verbose = on;
}

void log_set_raw_terminal(bool raw)
{
	raw_terminal = raw;
}

/* One fprintf per line under a lock, so lines from vCPU threads never interleave. */
static void log_line(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "kvmini: %s%s", line, raw_terminal ? "\r\n" : "\n");
	pthread_mutex_unlock(&log_lock);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_limited(struct log_limit *limit, const char *fmt, ...)
{
	va_list ap;
	unsigned seen = __atomic_fetch_add(&limit->seen, 1, __ATOMIC_RELAXED);

	if (seen > limit->burst)
		return;
	if (seen == limit->burst) {
		log_info("further %s are not logged", limit->what);
		return;
	}
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
