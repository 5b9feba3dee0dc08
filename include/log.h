/* SPDX-License-Identifier: Apache-2.0 */
/* One-line messages on stderr, always prefixed "kvmini: ". */
#ifndef KVMINI_LOG_H
#define KVMINI_LOG_H

#include <stdbool.h>

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only with --verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_verbose(bool verbose);
/* While the terminal is raw, a bare LF does not return the cursor: end lines with CR LF. */
void log_set_raw_terminal(bool raw);

/*
 * A budget for messages a guest can trigger at will (unhandled ports, bad
 * requests): the first `burst` pass, then one "further ... not logged" line.
 */
struct log_limit {
	const char *what;
	unsigned burst;
	unsigned seen;
};
#define LOG_LIMIT(what_, burst_) { .what = (what_), .burst = (burst_), .seen = 0 }

void log_limited(struct log_limit *limit, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
