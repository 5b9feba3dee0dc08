// SPDX-License-Identifier: Apache-2.0
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "smoke/ktap.h"

void ktap_init(struct ktap_parser *p, ktap_case_fn fn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->ctx = ctx;
}

const char *ktap_result_name(enum ktap_result r)
{
	static const char *const names[] = { "pass", "fail", "skip", "todo" };

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : NULL;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

/* s[0, n) into dst (size bytes), cut to fit, trailing spaces dropped. */
static void copy_text(char *dst, size_t size, const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Keeps the newest output: the oldest whole lines go when a line does not fit. */
static void add_output(struct ktap_case *c, const char *s, size_t n)
{
	if (n > KTAP_OUTPUT_MAX - 2)
		n = KTAP_OUTPUT_MAX - 2; /* room for '\n' and the NUL */
	if (c->output_len + n + 2 > KTAP_OUTPUT_MAX) {
		size_t drop = c->output_len + n + 2 - KTAP_OUTPUT_MAX;
		const char *nl = memchr(c->output + drop, '\n', c->output_len - drop);

		drop = nl ? (size_t)(nl - c->output) + 1 : c->output_len;
		memmove(c->output, c->output + drop, c->output_len - drop);
		c->output_len -= drop;
	}
	memcpy(c->output + c->output_len, s, n);
	c->output_len += n;
	c->output[c->output_len++] = '\n';
	c->output[c->output_len] = '\0';
}

/*
 * The level a structural line at this indentation belongs to: a deeper
 * indentation opens a level, a shallower one closes levels. -1 beyond
 * KTAP_MAX_DEPTH (the line is then output).
 */
static int level_at(struct ktap_parser *p, size_t indent)
{
	struct ktap_level *top;

	if (!p->depth) {
		p->levels[0].indent = indent;
		p->levels[0].name[0] = '\0';
		p->depth = 1;
		return 0;
	}
	while (p->depth > 1 && indent < p->levels[p->depth - 1].indent)
		p->depth--;
	top = &p->levels[p->depth - 1];
	if (indent <= top->indent)
		return (int)p->depth - 1; /* less than the top level's: still the top level */
	if (p->depth == KTAP_MAX_DEPTH)
		return -1;
	top = &p->levels[p->depth++];
	top->indent = indent;
	top->name[0] = '\0';
	return (int)p->depth - 1;
}

/* The names of levels 0 to level, joined by '.', then extra (kselftest's collection) if any. */
static void suite_path(struct ktap_parser *p, int level, const char *extra, size_t extra_len)
{
	char *out = p->c.suite;
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i <= level + 1; i++) {
		const char *name = i <= level ? p->levels[i].name : extra;
		size_t n = i <= level ? strlen(name) : extra_len;

		if (!name || !n)
			continue;
		if (len && len + 1 < KTAP_SUITE_MAX)
			out[len++] = '.';
		if (n > KTAP_SUITE_MAX - 1 - len)
			n = KTAP_SUITE_MAX - 1 - len;
		memcpy(out + len, name, n);
		len += n;
		out[len] = '\0';
	}
}

static void emit(struct ktap_parser *p)
{
	if (p->cases < KTAP_MAX_CASES) {
		p->cases++;
		if (p->fn)
			p->fn(p->ctx, &p->c);
	} else {
		p->dropped++;
	}
	p->c.output_len = 0;
	p->c.output[0] = '\0';
}

/* "ok 1 - name # SKIP reason", "not ok 2 name", "ok 3 selftests: net: test.sh". */
static void read_result(struct ktap_parser *p, int level, const char *s, size_t n, bool ok)
{
	struct ktap_case *c = &p->c;
	const char *desc, *hash = NULL, *extra = NULL;
	size_t i = 0, desc_len, extra_len = 0;

	c->number = 0;
	while (i < n && s[i] == ' ')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (c->number < 100000000u) /* a bigger number is nonsense: keep it bounded */
			c->number = c->number * 10 + (unsigned)(s[i] - '0');
	while (i < n && s[i] == ' ')
		i++;
	if (i < n && s[i] == '-' && (i + 1 == n || s[i + 1] == ' '))
		for (i++; i < n && s[i] == ' '; i++)
			;
	desc = s + i;
	desc_len = n - i;
	/* A directive is a '#' after a space, or one that starts the description. */
	for (size_t k = 0; k < desc_len && !hash; k++)
		if (desc[k] == '#' && (k == 0 || desc[k - 1] == ' '))
			hash = desc + k;
	c->result = ok ? KTAP_PASS : KTAP_FAIL;
	c->reason[0] = '\0';
	if (hash) {
		const char *d = hash + 1, *end = desc + desc_len;

		desc_len = (size_t)(hash - desc);
		while (d < end && *d == ' ')
			d++;
		if (end - d >= 4 && (!strncasecmp(d, "skip", 4) || !strncasecmp(d, "todo", 4))) {
			c->result = (*d == 's' || *d == 'S') ? KTAP_SKIP : KTAP_TODO;
			for (d += 4; d < end && *d != ' '; d++) /* "SKIPPED" */
				;
			while (d < end && *d == ' ')
				d++;
			copy_text(c->reason, sizeof(c->reason), d, (size_t)(end - d));
		}
	}
	/* kselftest's runner: "selftests: COLLECTION: TEST" is test TEST of suite COLLECTION. */
	if (starts(desc, desc_len, "selftests: ")) {
		const char *colon = memchr(desc + 11, ':', desc_len - 11);

		if (colon && (size_t)(colon - desc) + 1 < desc_len && colon[1] == ' ') {
			extra = desc + 11;
			extra_len = (size_t)(colon - extra);
			desc_len -= (size_t)(colon + 2 - desc);
			desc = colon + 2;
		}
	}
	suite_path(p, level, extra, extra_len);
	copy_text(c->name, sizeof(c->name), desc, desc_len);
	emit(p);
}

void ktap_feed_line(struct ktap_parser *p, const char *line, size_t len)
{
	const char *nul = memchr(line, '\0', len), *s;
	size_t indent = 0, n;
	int level;

	if (p->bailed)
		return;
	if (nul)
		len = (size_t)(nul - line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	while (indent < len && line[indent] == ' ')
		indent++;
	s = line + indent;
	n = len - indent;

	if (starts(s, n, "ok") && (n == 2 || s[2] == ' ')) {
		if ((level = level_at(p, indent)) >= 0)
			return read_result(p, level, s + 2, n - 2, true);
	} else if (starts(s, n, "not ok") && (n == 6 || s[6] == ' ')) {
		if ((level = level_at(p, indent)) >= 0)
			return read_result(p, level, s + 6, n - 6, false);
	} else if (starts(s, n, "KTAP version ") || starts(s, n, "TAP version ")) {
		if (level_at(p, indent) >= 0)
			return;
	} else if (starts(s, n, "1..") && n > 3 && s[3] >= '0' && s[3] <= '9') {
		if (level_at(p, indent) >= 0)
			return; /* plans are not checked: a missing result shows as a missing testcase */
	} else if (starts(s, n, "# Subtest: ")) {
		if ((level = level_at(p, indent)) >= 0) {
			copy_text(p->levels[level].name, KTAP_NAME_MAX, s + 11, n - 11);
			return;
		}
	} else if (starts(s, n, "Bail out!")) {
		level = level_at(p, indent);
		suite_path(p, level < 0 ? (int)p->depth - 1 : level, NULL, 0);
		strcpy(p->c.name, "Bail out!");
		p->c.number = 0;
		p->c.result = KTAP_FAIL;
		copy_text(p->c.reason, sizeof(p->c.reason), s + 9 + (n > 9 && s[9] == ' '), n - 9 - (n > 9 && s[9] == ' '));
		p->bailed = true;
		return emit(p);
	}
	add_output(&p->c, line, len);
}
