// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#include "log.h"

static bool verbose;
static bool raw_terminal;
/* Guards stderr's lines and the file's configuration; writes to the file never block (O_NONBLOCK). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The log file: fd -1 for none. */
static struct {
	int fd;
	enum log_level level;
	bool show_level, show_origin;
	char module[256];
} file = { .fd = -1, .level = LOG_INFO };
static char instance_id[64] = "anonymous-instance";
static __thread const char *thread_name;
static uint64_t missed;

static const char *const level_names[] = {
	[LOG_OFF] = "OFF",     [LOG_ERROR] = "ERROR", [LOG_WARN] = "WARN",
	[LOG_INFO] = "INFO",   [LOG_DEBUG] = "DEBUG", [LOG_TRACE] = "TRACE",
};

void log_set_verbose(bool on)
{
	verbose = on;
}

void log_set_raw_terminal(bool raw)
{
	raw_terminal = raw;
}

void log_set_instance_id(const char *id)
{
	snprintf(instance_id, sizeof(instance_id), "%s", id);
}

const char *log_instance_id(void)
{
	return instance_id;
}

void log_set_thread_name(const char *name)
{
	thread_name = name;
}

uint64_t log_take_missed(void)
{
	return __atomic_exchange_n(&missed, 0, __ATOMIC_RELAXED);
}

int log_parse_level(const char *name, enum log_level *level)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "off", LOG_OFF },	{ "error", LOG_ERROR }, { "warn", LOG_WARN },	  { "warning", LOG_WARN },
		{ "info", LOG_INFO },	{ "debug", LOG_DEBUG }, { "trace", LOG_TRACE },
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(name, names[i].name)) {
			*level = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

int log_file_configure(const struct log_file_config *c, struct errmsg *e)
{
	int fd = -1, old = -1;

	if (c->module && strlen(c->module) >= sizeof(file.module))
		return errmsg_set(e, EINVAL, "the module filter must be at most %zu bytes long",
				  sizeof(file.module) - 1);
	if (c->path) {
		fd = open(c->path, O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0)
			return errmsg_set(e, errno, "cannot open the log file %s: %s", c->path, strerror(errno));
	}
	pthread_mutex_lock(&log_lock);
	if (fd >= 0) {
		old = file.fd;
		file.fd = fd;
	}
	file.level = c->level;
	if (c->show_level >= 0)
		file.show_level = c->show_level;
	if (c->show_origin >= 0)
		file.show_origin = c->show_origin;
	if (c->module)
		snprintf(file.module, sizeof(file.module), "%s", c->module);
	pthread_mutex_unlock(&log_lock);
	if (old >= 0)
		close(old);
	return 0;
}

void log_file_reset(void)
{
	pthread_mutex_lock(&log_lock);
	if (file.fd >= 0)
		close(file.fd);
	file.fd = -1;
	file.level = LOG_INFO;
	file.show_level = file.show_origin = false;
	file.module[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	__atomic_store_n(&missed, 0, __ATOMIC_RELAXED);
}

static const char *current_thread_name(void)
{
	if (thread_name)
		return thread_name;
	return gettid() == getpid() ? "main" : "-";
}

/* Whether the file takes a line of this level from this source; under log_lock. */
static bool file_wants(enum log_level level, const char *src)
{
	return file.fd >= 0 && level <= file.level && !strncmp(src, file.module, strlen(file.module));
}

/* Firecracker's line: local time to the nanosecond, [id:thread(:LEVEL)(:file:line)], the message. Under log_lock. */
static void file_line(enum log_level level, const char *src, int line, const char *msg)
{
	char out[1024];
	struct timespec ts;
	struct tm tm;
	int len;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	len = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%09ld [%s:%s", tm.tm_year + 1900, tm.tm_mon + 1,
		       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, instance_id, current_thread_name());
	if (file.show_level)
		len += snprintf(out + len, sizeof(out) - (size_t)len, ":%s", level_names[level]);
	if (file.show_origin)
		len += snprintf(out + len, sizeof(out) - (size_t)len, ":%s:%d", src, line);
	len += snprintf(out + len, sizeof(out) - (size_t)len, "] %s\n", msg);
	if (len >= (int)sizeof(out)) {
		/* Cut, but still one line. */
		len = sizeof(out) - 1;
		out[len - 1] = '\n';
	}
	/* One write: a FIFO's reader sees whole lines (they are shorter than PIPE_BUF); a full one loses this line. */
	if (write(file.fd, out, (size_t)len) != len)
		__atomic_add_fetch(&missed, 1, __ATOMIC_RELAXED);
}

static void log_line(enum log_level level, const char *src, int line, const char *fmt, va_list ap)
{
	bool to_stderr = level != LOG_DEBUG || verbose;
	char msg[512];

	pthread_mutex_lock(&log_lock);
	if (to_stderr || file_wants(level, src)) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (to_stderr)
			fprintf(stderr, "kvmini: %s%s", msg, raw_terminal ? "\r\n" : "\n");
		if (file_wants(level, src))
			file_line(level, src, line, msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void log_at(enum log_level level, const char *src, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(level, src, line, fmt, ap);
	va_end(ap);
}

void log_limited_at(struct log_limit *limit, const char *src, int line, const char *fmt, ...)
{
	va_list ap;
	unsigned seen = __atomic_fetch_add(&limit->seen, 1, __ATOMIC_RELAXED);

	if (seen > limit->burst)
		return;
	if (seen == limit->burst) {
		log_at(LOG_INFO, src, line, "further %s are not logged", limit->what);
		return;
	}
	va_start(ap, fmt);
	log_line(LOG_INFO, src, line, fmt, ap);
	va_end(ap);
}
