// SPDX-License-Identifier: Apache-2.0
#include <assert.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/report.h"
#include "smoke/verdict.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* regexec wants a NUL-terminated string; a line is copied into a buffer this big. */
#define MATCH_MAX 4096
/* Regexes are quoted in error messages up to this length, so regerror's text still fits. */
#define REGEX_QUOTE_MAX 160

struct pattern {
	regex_t re;
	char *text; /* as given, control characters as '?': it is quoted in one-line messages */
	bool seen;  /* expects: matched a line already */
};

/* A --allow item naming a function: that kind's reports in that function only. */
struct allowed_function {
	enum report_kind kind;
	char function[REPORT_FUNC_MAX];
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
	struct pattern *fatal; /* --fail */
	size_t n_fatal;
	struct report_parser *reports;
	uint32_t allowed_kinds; /* 1u << kind */
	struct allowed_function allowed[VERDICT_ALLOW_MAX];
	size_t n_allowed;
	uint32_t judged; /* reports (by index) already judged when they ended */
	bool stop_asked; /* STOP_SOON has been returned */
	const struct report *decided;
	bool initrd;
	unsigned timeout_s;
	bool no_output;
	bool ended;
	enum verdict_end end;
	char vmm_error[VERDICT_LINE_MAX + 1];
	const struct pattern *first_fatal;
	char first_fatal_line[VERDICT_LINE_MAX + 1];
	bool root_mount_failed;
	char unpack_line[VERDICT_LINE_MAX + 1];
	char buf[MATCH_MAX];
};
static_assert(REPORT_MAX <= 32, "a report's index is a bit of `judged`");

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

/* "warning" or "warning:fpu__init_system_xstate", several to a list. */
static int parse_allow(struct verdict *v, const char *list, struct errmsg *err)
{
	const char *s = list;

	for (;;) {
		size_t n = strcspn(s, ","), kind_len = strcspn(s, ",:");
		char kind[32];
		uint32_t mask;
		int rc;

		if (kind_len >= sizeof(kind))
			kind_len = sizeof(kind) - 1;
		memcpy(kind, s, kind_len);
		kind[kind_len] = '\0';
		if ((rc = report_kind_parse(kind, &mask, err)))
			return errmsg_prefix(err, -rc, "--allow: ");
		if (mask & (1u << REPORT_PANIC))
			return errmsg_set(err, EINVAL, "--allow: a panic stops the kernel, so a run with one cannot pass");
		if (kind_len == n) {
			v->allowed_kinds |= mask;
		} else {
			struct allowed_function *a = &v->allowed[v->n_allowed];
			size_t fn_len = n - kind_len - 1;

			if (v->n_allowed == VERDICT_ALLOW_MAX)
				return errmsg_set(err, EINVAL, "--allow: at most %d KIND:FUNCTION items", VERDICT_ALLOW_MAX);
			if (!fn_len || fn_len >= sizeof(a->function))
				return errmsg_set(err, EINVAL, "--allow '%.*s': the function after ':' must be 1 to %zu bytes",
						  (int)(n > 60 ? 60 : n), s, sizeof(a->function) - 1);
			a->kind = (enum report_kind)__builtin_ctz(mask);
			memcpy(a->function, s + kind_len + 1, fn_len);
			a->function[fn_len] = '\0';
			v->n_allowed++;
		}
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

/* Whether --allow names this kind, alone or in some function. */
static bool maybe_allowed(const struct verdict *v, enum report_kind kind)
{
	if (v->allowed_kinds & (1u << kind))
		return true;
	for (size_t i = 0; i < v->n_allowed; i++)
		if (v->allowed[i].kind == kind)
			return true;
	return false;
}

bool verdict_allows(const struct verdict *v, const struct report *r)
{
	if (v->allowed_kinds & (1u << r->kind))
		return true;
	for (size_t i = 0; i < v->n_allowed; i++)
		if (v->allowed[i].kind == r->kind && !strcmp(v->allowed[i].function, r->function))
			return true;
	return false;
}

int verdict_create(const struct verdict_config *cfg, struct verdict **out, struct errmsg *err)
{
	static const char *const default_expect[] = { VERDICT_DEFAULT_EXPECT };
	const char *const *expect = cfg->n_expect ? cfg->expect : default_expect;
	size_t n_expect = cfg->n_expect ? cfg->n_expect : 1;
	struct verdict *v;
	int rc;

	if ((cfg->n_expect && !cfg->expect) || (cfg->n_fail && !cfg->fail) || (cfg->n_allow && !cfg->allow))
		return errmsg_set(err, EINVAL, "no list");
	v = calloc(1, sizeof(*v));
	if (!v)
		return errmsg_set(err, ENOMEM, "out of memory");
	v->initrd = cfg->initrd;
	v->timeout_s = cfg->timeout_s;
	v->expect = calloc(n_expect, sizeof(*v->expect));
	v->fatal = calloc(cfg->n_fail + 1, sizeof(*v->fatal));
	if (!v->expect || !v->fatal || report_parser_create(&v->reports)) {
		rc = errmsg_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	rc = compile_all(v->expect, &v->n_expect, expect, n_expect, "--expect", err);
	if (!rc)
		rc = compile_all(v->fatal, &v->n_fatal, cfg->fail, cfg->n_fail, "--fail", err);
	for (size_t i = 0; !rc && i < cfg->n_allow; i++)
		rc = parse_allow(v, cfg->allow[i], err);
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
	report_parser_destroy(v->reports);
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
	for (size_t i = 0; !v->first_fatal && i < v->n_fatal; i++) {
		if (matches(&v->fatal[i], v->buf)) {
			v->first_fatal = &v->fatal[i];
			keep_line(v->first_fatal_line, v->buf);
			action = VERDICT_STOP_SOON;
		}
	}
	/*
	 * A report of a kind --allow does not name fails at its first line; one
	 * whose kind --allow names in some function is judged when it ends,
	 * since its function is known only then.
	 */
	if (report_line(v->reports, v->buf, n) == 1 && report_count(v->reports) &&
	    !maybe_allowed(v, report_kind_at(v->reports, report_count(v->reports) - 1)))
		action = VERDICT_STOP_SOON;
	for (size_t i = 0; i < report_count(v->reports); i++) {
		const struct report *r = report_get(v->reports, i);

		if (!r || (v->judged & (1u << i)))
			continue;
		v->judged |= 1u << i;
		if (!verdict_allows(v, r))
			action = VERDICT_STOP_SOON;
	}
	note_setup_problems(v, v->buf);
	if (action == VERDICT_STOP_SOON && v->stop_asked)
		return VERDICT_CONTINUE;
	v->stop_asked |= action == VERDICT_STOP_SOON;
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
	make_printable(reason); /* report titles come from the guest's console */
	return s;
}

static enum verdict_status panic_result(const struct verdict *v, const struct report *panic,
					const struct report *first, char *reason, size_t size)
{
	const char *title = panic ? panic->title : NULL;

	if (v->initrd && v->root_mount_failed) {
		if (v->unpack_line[0])
			return say(VERDICT_PANIC, reason, size, "kernel cannot use the initramfs (%s)", v->unpack_line);
		return say(VERDICT_PANIC, reason, size, "kernel cannot use the initramfs (CONFIG_BLK_DEV_INITRD?)%s%s",
			   title ? ": " : "", title ? title : "");
	}
	if (!title && first)
		return say(VERDICT_PANIC, reason, size,
			   "kernel panic (reported by the VMM; no panic line on the console; first: %s)", first->title);
	if (!title)
		return say(VERDICT_PANIC, reason, size, "kernel panic (reported by the VMM; no panic line on the console)");
	/* The panic is the consequence; an earlier report is usually the cause, so it is named too. */
	if (first && first != panic)
		return say(VERDICT_PANIC, reason, size, "%s (first: %s)", title, first->title);
	return say(VERDICT_PANIC, reason, size, "%s", title);
}

/* Reports that --allow does not tolerate, after the first: "(+2 more reports)". */
static size_t more_failing(const struct verdict *v, const struct report *first)
{
	size_t n = 0;

	for (size_t i = 0; i < report_count(v->reports); i++) {
		const struct report *r = report_get(v->reports, i);

		n += r != first && !verdict_allows(v, r);
	}
	return n + report_dropped(v->reports);
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

enum verdict_status verdict_result(struct verdict *v, char *reason, size_t size)
{
	const struct report *first = NULL, *panic = NULL;

	report_finish(v->reports);
	for (size_t i = 0; i < report_count(v->reports); i++) {
		const struct report *r = report_get(v->reports, i);

		if (!first && !verdict_allows(v, r))
			first = r;
		if (!panic && r->kind == REPORT_PANIC)
			panic = r;
	}
	v->decided = first;
	if (panic || (v->ended && v->end == VERDICT_END_PANIC))
		return panic_result(v, panic, first, reason, size);
	if (first) {
		size_t more = more_failing(v, first);

		if (more)
			return say(VERDICT_FAIL, reason, size, "%s (+%zu more report%s)", first->title, more,
				   more == 1 ? "" : "s");
		return say(VERDICT_FAIL, reason, size, "%s", first->title);
	}
	if (v->first_fatal)
		return say(VERDICT_FAIL, reason, size, "matched --fail '%s': %s", v->first_fatal->text,
			   v->first_fatal_line);
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
	return panic_result(v, panic, first, reason, size); /* VERDICT_END_PANIC, which the first test caught */
}

const struct report *verdict_report(const struct verdict *v)
{
	return v->decided;
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
	case VERDICT_CONFIG:
		return VERDICT_EXIT_CONFIG;
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
	case VERDICT_CONFIG:
		return "CONFIG";
	}
	return "?";
}
