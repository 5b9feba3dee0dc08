// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/verdict.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* regexec wants a NUL-terminated string; a line is copied into a buffer this big. */
#define MATCH_MAX 4096
/* Regexes are quoted in error messages up to this length, so regerror's text still fits. */
#define REGEX_QUOTE_MAX 160

struct pattern {
	regex_t re;
	char *text;        /* as given, control characters as '?': it is quoted in one-line messages */
	const char *label; /* fatal built-ins: what the reason calls a match; NULL for --fail */
	bool panic;
	bool seen; /* expects: matched a line already */
};

/* Table order matters: a line matching several is labelled by the first, the most specific. */
static const struct {
	const char *re;
	const char *label;
	bool panic;
} builtin_fatal[] = {
	{ "Kernel panic - not syncing", "kernel panic", true },
	{ "general protection fault[:,]", "general protection fault", false },
	{ "BUG: soft lockup", "soft lockup", false },
	{ "Watchdog detected hard LOCKUP", "hard lockup", false },
	{ "INFO: task .+ blocked for more than [0-9]+ seconds", "hung task", false },
	{ "(^|[^[:alnum:]_])BUG:|kernel BUG at ", "kernel BUG", false },
	{ "Oops(:| - )|: [0-9a-f]{4} \\[#[0-9]+\\]", "kernel oops", false },
};

/* What Linux prints when it falls back to mounting a root device, which it does when it cannot use the initramfs. */
static const char *const root_mount_failed[] = {
	"No filesystem could mount root",
	"VFS: Unable to mount root fs",
	"VFS: Cannot open root device",
};
#define UNPACK_FAILED "Initramfs unpacking failed"

struct verdict {
	struct pattern *expect;
	size_t n_expect, n_expect_seen;
	struct pattern *fatal; /* the built-ins, then --fail */
	size_t n_fatal;
	bool initrd;
	unsigned timeout_s;
	bool no_output;
	bool ended;
	enum verdict_end end;
	char vmm_error[VERDICT_LINE_MAX + 1];
	const struct pattern *first_fatal;
	char first_fatal_line[VERDICT_LINE_MAX + 1];
	bool panic_seen;
	char panic_line[VERDICT_LINE_MAX + 1];
	bool root_mount_failed;
	char unpack_line[VERDICT_LINE_MAX + 1];
	char buf[MATCH_MAX];
};

/* Reasons are one line: anything below space (and DEL) becomes '?'. */
static void make_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Copies at most VERDICT_LINE_MAX bytes, backing off so that a UTF-8 sequence is not cut in two. */
static void keep_line(char dst[VERDICT_LINE_MAX + 1], const char *src)
{
	size_t n = strlen(src);

	if (n > VERDICT_LINE_MAX) {
		n = VERDICT_LINE_MAX;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	make_printable(dst);
}

static void free_patterns(struct pattern *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		regfree(&p[i].re);
		free(p[i].text);
	}
	free(p);
}

static int compile(struct pattern *p, const char *re, const char *option, struct errmsg *err)
{
	char why[128];
	size_t len = strlen(re);
	int rc;

	if (!len)
		return errmsg_set(err, EINVAL, "invalid %s regex '': it would match every line", option);
	rc = regcomp(&p->re, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		if (rc == REG_ESPACE)
			return errmsg_set(err, ENOMEM, "%s regex '%.*s': out of memory", option, REGEX_QUOTE_MAX, re);
		regerror(rc, &p->re, why, sizeof(why));
		return errmsg_set(err, EINVAL, "invalid %s regex '%.*s%s': %s", option, REGEX_QUOTE_MAX, re,
				  len > REGEX_QUOTE_MAX ? "..." : "", why);
	}
	p->text = strdup(re);
	if (!p->text) {
		regfree(&p->re);
		return errmsg_set(err, ENOMEM, "out of memory");
	}
	make_printable(p->text);
	return 0;
}

static int compile_all(struct pattern *p, size_t *done, const char *const *res, size_t n, const char *option,
		       struct errmsg *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = compile(&p[*done], res[i], option, err);

		if (rc)
			return rc;
		(*done)++;
	}
	return 0;
}

int verdict_create(const struct verdict_config *cfg, struct verdict **out, struct errmsg *err)
{
	static const char *const default_expect[] = { VERDICT_DEFAULT_EXPECT };
	const char *const *expect = cfg->n_expect ? cfg->expect : default_expect;
	size_t n_expect = cfg->n_expect ? cfg->n_expect : 1;
	struct verdict *v;
	int rc;

	if ((cfg->n_expect && !cfg->expect) || (cfg->n_fail && !cfg->fail))
		return errmsg_set(err, EINVAL, "no regex list");
	v = calloc(1, sizeof(*v));
	if (!v)
		return errmsg_set(err, ENOMEM, "out of memory");
	v->initrd = cfg->initrd;
	v->timeout_s = cfg->timeout_s;
	v->expect = calloc(n_expect, sizeof(*v->expect));
	v->fatal = calloc(ARRAY_SIZE(builtin_fatal) + cfg->n_fail, sizeof(*v->fatal));
	if (!v->expect || !v->fatal) {
		rc = errmsg_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	rc = compile_all(v->expect, &v->n_expect, expect, n_expect, "--expect", err);
	for (size_t i = 0; !rc && i < ARRAY_SIZE(builtin_fatal); i++) {
		rc = compile(&v->fatal[v->n_fatal], builtin_fatal[i].re, "built-in pattern", err);
		if (!rc) {
			v->fatal[v->n_fatal].label = builtin_fatal[i].label;
			v->fatal[v->n_fatal].panic = builtin_fatal[i].panic;
			v->n_fatal++;
		}
	}
	if (!rc)
		rc = compile_all(v->fatal, &v->n_fatal, cfg->fail, cfg->n_fail, "--fail", err);
	if (rc)
		goto fail;
	*out = v;
	return 0;
fail:
	verdict_destroy(v);
	return rc;
}

void verdict_destroy(struct verdict *v)
{
	if (!v)
		return;
	free_patterns(v->expect, v->n_expect);
	free_patterns(v->fatal, v->n_fatal);
	free(v);
}

static bool matches(const struct pattern *p, const char *s)
{
	return regexec(&p->re, s, 0, NULL, 0) == 0;
}

static void note_setup_problems(struct verdict *v, const char *s)
{
	if (!v->initrd)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(root_mount_failed); i++)
		if (strstr(s, root_mount_failed[i]))
			v->root_mount_failed = true;
	if (!v->unpack_line[0] && strstr(s, UNPACK_FAILED))
		keep_line(v->unpack_line, s);
}

enum verdict_action verdict_line(struct verdict *v, const char *line, size_t len)
{
	enum verdict_action action = VERDICT_CONTINUE;
	size_t n = 0;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	for (size_t i = 0; i < len && n < sizeof(v->buf) - 1; i++)
		if (line[i])
			v->buf[n++] = line[i];
	v->buf[n] = '\0';
	if (!n)
		return VERDICT_CONTINUE;

	for (size_t i = 0; i < v->n_expect; i++) {
		if (!v->expect[i].seen && matches(&v->expect[i], v->buf)) {
			v->expect[i].seen = true;
			v->n_expect_seen++;
		}
	}
	/* After a panic line nothing can change the verdict; before it, a panic after an Oops still matters. */
	for (size_t i = 0; !v->panic_seen && i < v->n_fatal; i++) {
		const struct pattern *p = &v->fatal[i];

		if (!matches(p, v->buf))
			continue;
		if (!v->first_fatal) {
			v->first_fatal = p;
			keep_line(v->first_fatal_line, v->buf);
			action = VERDICT_STOP_SOON;
		}
		if (p->panic) {
			v->panic_seen = true;
			keep_line(v->panic_line, v->buf);
		}
		break;
	}
	note_setup_problems(v, v->buf);
	return action;
}

void verdict_guest_ended(struct verdict *v, enum verdict_end how)
{
	if (v->ended)
		return;
	v->ended = true;
	v->end = how;
}

void verdict_vmm_error(struct verdict *v, const char *msg)
{
	if (v->ended)
		return;
	if (msg)
		keep_line(v->vmm_error, msg);
	verdict_guest_ended(v, VERDICT_END_VMM_ERROR);
}

void verdict_set_no_output(struct verdict *v)
{
	v->no_output = true;
}

const char *verdict_fatal_line(const struct verdict *v)
{
	return v->first_fatal ? v->first_fatal_line : NULL;
}

static const char *first_missing_expect(const struct verdict *v)
{
	for (size_t i = 0; i < v->n_expect; i++)
		if (!v->expect[i].seen)
			return v->expect[i].text;
	return NULL;
}

static enum verdict_status say(enum verdict_status s, char *reason, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum verdict_status say(enum verdict_status s, char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!size)
		return s;
	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
	return s;
}

static enum verdict_status panic_result(const struct verdict *v, char *reason, size_t size)
{
	/* The panic is the consequence; an earlier Oops or BUG is usually the cause, so it is named too. */
	const char *line = v->panic_seen ? v->panic_line : v->first_fatal ? v->first_fatal_line : NULL;
	bool earlier = v->first_fatal && !v->first_fatal->panic && v->panic_seen;

	if (v->initrd && v->root_mount_failed) {
		if (v->unpack_line[0])
			return say(VERDICT_PANIC, reason, size, "kernel cannot use the initramfs (%s)", v->unpack_line);
		return say(VERDICT_PANIC, reason, size, "kernel cannot use the initramfs (CONFIG_BLK_DEV_INITRD?)%s%s",
			   line ? ": " : "", line ? line : "");
	}
	if (!line)
		return say(VERDICT_PANIC, reason, size, "kernel panic (reported by the VMM; no panic line on the console)");
	if (earlier)
		return say(VERDICT_PANIC, reason, size, "kernel panic: %s (first: %s)", line, v->first_fatal_line);
	return say(VERDICT_PANIC, reason, size, "kernel panic: %s", line);
}

static enum verdict_status clean_end_result(const struct verdict *v, const char *how, char *reason, size_t size)
{
	const char *missing = first_missing_expect(v);

	if (missing)
		return say(VERDICT_FAIL, reason, size, "guest %s before '%s' was seen", how, missing);
	return say(VERDICT_PASS, reason, size, "guest %s after all %zu expected line%s", how, v->n_expect,
		   v->n_expect == 1 ? "" : "s");
}

static enum verdict_status timeout_result(const struct verdict *v, char *reason, size_t size)
{
	const char *missing = first_missing_expect(v);

	if (v->no_output)
		return say(VERDICT_TIMEOUT, reason, size,
			   "no console output: does the kernel have a serial console (CONFIG_SERIAL_8250_CONSOLE) and console=ttyS0?");
	if (missing)
		return say(VERDICT_TIMEOUT, reason, size, "no verdict after %u s (still waiting for '%s')", v->timeout_s,
			   missing);
	return say(VERDICT_TIMEOUT, reason, size, "no verdict after %u s (every expected line seen, but no poweroff)",
		   v->timeout_s);
}

enum verdict_status verdict_result(const struct verdict *v, char *reason, size_t size)
{
	bool panic = v->panic_seen || (v->ended && v->end == VERDICT_END_PANIC);

	if (panic)
		return panic_result(v, reason, size);
	if (v->first_fatal) {
		if (v->first_fatal->label)
			return say(VERDICT_FAIL, reason, size, "%s: %s", v->first_fatal->label, v->first_fatal_line);
		return say(VERDICT_FAIL, reason, size, "matched --fail '%s': %s", v->first_fatal->text,
			   v->first_fatal_line);
	}
	if (!v->ended)
		return say(VERDICT_ERROR, reason, size, "the VMM reported no ending");
	switch (v->end) {
	case VERDICT_END_POWEROFF:
		return clean_end_result(v, "powered off", reason, size);
	case VERDICT_END_REBOOT:
		return clean_end_result(v, "rebooted", reason, size);
	case VERDICT_END_TRIPLE_FAULT:
		return say(VERDICT_FAIL, reason, size, "triple fault (reset loop)");
	case VERDICT_END_TIMEOUT:
		return timeout_result(v, reason, size);
	case VERDICT_END_VMM_ERROR:
		return say(VERDICT_ERROR, reason, size, "kvmini could not run the guest%s%s", v->vmm_error[0] ? ": " : "",
			   v->vmm_error);
	case VERDICT_END_PANIC:
		break;
	}
	return panic_result(v, reason, size); /* VERDICT_END_PANIC, which the first test already caught */
}

int verdict_exit_code(enum verdict_status s)
{
	switch (s) {
	case VERDICT_PASS:
		return VERDICT_EXIT_PASS;
	case VERDICT_TIMEOUT:
		return VERDICT_EXIT_TIMEOUT;
	case VERDICT_PANIC:
		return VERDICT_EXIT_PANIC;
	case VERDICT_FAIL:
	case VERDICT_ERROR:
		break;
	}
	return VERDICT_EXIT_FAIL;
}

enum verdict_status verdict_worst(enum verdict_status a, enum verdict_status b)
{
	return a > b ? a : b;
}

const char *verdict_status_name(enum verdict_status s)
{
	switch (s) {
	case VERDICT_PASS:
		return "PASS";
	case VERDICT_ERROR:
		return "ERROR";
	case VERDICT_FAIL:
		return "FAIL";
	case VERDICT_TIMEOUT:
		return "TIMEOUT";
	case VERDICT_PANIC:
		return "PANIC";
	}
	return "?";
}
