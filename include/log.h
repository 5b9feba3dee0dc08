/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-line messages on stderr, always prefixed "kvmini: ", and optionally
 * also to a log file or FIFO in Firecracker's line format (its --log-path and
 * PUT /logger): "TIME [ID:THREAD(:LEVEL)(:FILE:LINE)] message", filtered by
 * level and source. Every call names its level, file and line (the macros
 * below), so the file shows where a line came from.
 */
#ifndef KVMINI_LOG_H
#define KVMINI_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"

/* Firecracker's levels, most severe first; a file takes the lines at or above its level. */
enum log_level { LOG_OFF, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_at(enum log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...) log_at(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
/* On stderr only with --verbose; in the log file when its level is Debug or Trace. */
#define log_debug(...) log_at(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
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

#define log_limited(limit, ...) log_limited_at(limit, __FILE__, __LINE__, __VA_ARGS__)
void log_limited_at(struct log_limit *limit, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The log file, as PUT /logger and Firecracker's --log-path, --level,
 * --show-level, --show-log-origin and --module set it. As in Firecracker,
 * a field left out keeps its current value, except the level, which goes
 * back to Info.
 */
struct log_file_config {
	const char *path;      /* NULL: keep the file (none at first: no file lines) */
	enum log_level level;
	int show_level;        /* -1: keep; 0 or 1 (default 0) */
	int show_origin;       /* -1: keep; 0 or 1 (default 0): the source file and line */
	const char *module;    /* NULL: keep; else only lines from source files whose path starts with it */
};
#define LOG_FILE_CONFIG_KEEP { .path = NULL, .level = LOG_INFO, .show_level = -1, .show_origin = -1, .module = NULL }

/*
 * Applies c; the file (or FIFO) is created if missing (mode 0600) and opened
 * once, O_APPEND | O_NONBLOCK, read-write so that a FIFO with no reader yet
 * opens; a symbolic link is followed, as Firecracker does (the client names
 * the path). A line the file cannot take whole at once (a full FIFO) is
 * dropped and counted, never waited for. -errno with the path in e, the
 * configuration unchanged.
 */
int log_file_configure(const struct log_file_config *c, struct errmsg *e);
/* "Info", "warning", ... (any case) as Firecracker reads them; -EINVAL. */
int log_parse_level(const char *name, enum log_level *level);
/* The instance id in every file line and metrics' "id" (Firecracker's --id); default "anonymous-instance". */
void log_set_instance_id(const char *id);
const char *log_instance_id(void);
/* The calling thread's name in file lines ("api", "vcpu", ...); "main" for the first thread, "-" otherwise. */
void log_set_thread_name(const char *name);
/* Lines the file could not take whole since the last call (Firecracker's logger.missed_log_count). */
uint64_t log_take_missed(void);
/* Closes the file and forgets its configuration (for tests). */
void log_file_reset(void);

#endif
