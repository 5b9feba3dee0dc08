// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smoke/junit.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/*
 * Length of the valid UTF-8 sequence starting at s (at most n bytes) that is
 * an XML 1.0 character, or 0. Only multi-byte sequences come here.
 */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0; /* a stray continuation byte, or 0xf8..0xff */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

static const char *escape_ascii(unsigned char c, bool attr)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\r':
		return "&#13;"; /* a parser would turn a literal CR (LF) into LF */
	case '\t':
		return attr ? "&#9;" : NULL;
	case '\n':
		return attr ? "&#10;" : NULL;
	}
	return c < 0x20 ? REPLACEMENT : NULL;
}

static void put_escaped(FILE *f, const char *text, size_t n, bool attr)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < n) {
		if (s[i] < 0x80) {
			const char *e = escape_ascii(s[i], attr);

			if (e)
				fputs(e, f);
			else
				putc(s[i], f);
			i++;
			continue;
		}
		size_t len = utf8_char_len(s + i, n - i);

		if (len) {
			fwrite(s + i, 1, len, f);
			i += len;
		} else {
			fputs(REPLACEMENT, f);
			i++;
		}
	}
}

static void put_str(FILE *f, const char *s, bool attr)
{
	put_escaped(f, s, strlen(s), attr);
}

/* Milliseconds by integer arithmetic: the locale's decimal separator cannot get in, and no libm is needed. */
static void put_time(FILE *f, double t)
{
	uint64_t ms;

	if (!(t > 0))
		t = 0; /* negative, zero or NaN */
	if (t > 1e12)
		t = 1e12;
	ms = (uint64_t)(t * 1000.0 + 0.5);
	fprintf(f, "%llu.%03u", (unsigned long long)(ms / 1000), (unsigned)(ms % 1000));
}

static int check_args(const char *suite_name, const struct junit_case *cases, size_t n)
{
	if (!suite_name || (n && !cases))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!cases[i].name || !cases[i].classname)
			return -EINVAL;
		if (cases[i].result != JUNIT_PASS && cases[i].result != JUNIT_FAILURE && cases[i].result != JUNIT_ERROR)
			return -EINVAL;
		if (cases[i].n_ktap && !cases[i].ktap)
			return -EINVAL;
		for (size_t k = 0; k < cases[i].n_ktap; k++)
			if (!ktap_result_name(cases[i].ktap[k].result))
				return -EINVAL;
	}
	return 0;
}

static void put_system_out(FILE *f, const char *text, size_t n)
{
	if (text && n) {
		fputs("    <system-out>", f);
		put_escaped(f, text, n, false);
		fputs("</system-out>\n", f);
	}
}

/* A test the guest ran, reported by its KTAP/TAP output, under its run. */
static void put_ktap_case(FILE *f, const struct junit_case *run, const struct ktap_case *k)
{
	fputs("  <testcase name=\"", f);
	put_str(f, k->name, true);
	fputs("\" classname=\"", f);
	put_str(f, run->classname, true);
	fputs(".", f);
	put_str(f, run->name, true);
	if (k->suite[0]) {
		fputs(".", f);
		put_str(f, k->suite, true);
	}
	fputs("\" time=\"0.000\">\n", f); /* KTAP gives no per-test times */
	if (k->result == KTAP_FAIL) {
		fputs("    <failure message=\"", f);
		put_str(f, k->reason, true);
		fputs("\" type=\"ktap\"></failure>\n", f);
	} else if (k->result == KTAP_SKIP || k->result == KTAP_TODO) {
		fputs("    <skipped message=\"", f);
		if (k->result == KTAP_TODO)
			fputs(k->reason[0] ? "TODO: " : "TODO", f);
		put_str(f, k->reason, true);
		fputs("\"/>\n", f);
	}
	put_system_out(f, k->output, k->output_len);
	fputs("  </testcase>\n", f);
}

static void put_case(FILE *f, const struct junit_case *c)
{
	fputs("  <testcase name=\"", f);
	put_str(f, c->name, true);
	fputs("\" classname=\"", f);
	put_str(f, c->classname, true);
	fputs("\" time=\"", f);
	put_time(f, c->time_s);
	fputs("\">\n", f);
	if (c->result != JUNIT_PASS) {
		const char *element = c->result == JUNIT_ERROR ? "error" : "failure";
		const char *message = c->message ? c->message : "";

		fprintf(f, "    <%s message=\"", element);
		put_str(f, message, true);
		fputs("\" type=\"", f);
		put_str(f, c->type ? c->type : element, true);
		fputs("\">", f);
		put_str(f, message, false);
		fprintf(f, "</%s>\n", element);
	}
	put_system_out(f, c->console, c->console_len);
	fputs("  </testcase>\n", f);
	for (size_t k = 0; k < c->n_ktap; k++)
		put_ktap_case(f, c, &c->ktap[k]);
}

int junit_write(FILE *f, const char *suite_name, const struct junit_case *cases, size_t n)
{
	size_t tests = n, failures = 0, errors = 0, skipped = 0;
	double total = 0;
	int rc = check_args(suite_name, cases, n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		failures += cases[i].result == JUNIT_FAILURE;
		errors += cases[i].result == JUNIT_ERROR;
		tests += cases[i].n_ktap;
		for (size_t k = 0; k < cases[i].n_ktap; k++) {
			failures += cases[i].ktap[k].result == KTAP_FAIL;
			skipped += cases[i].ktap[k].result == KTAP_SKIP || cases[i].ktap[k].result == KTAP_TODO;
		}
		if (cases[i].time_s > 0)
			total += cases[i].time_s;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"", f);
	put_str(f, suite_name, true);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"", tests, failures,
		errors, skipped);
	put_time(f, total);
	fputs("\">\n", f);
	for (size_t i = 0; i < n; i++)
		put_case(f, &cases[i]);
	fputs("</testsuite>\n", f);
	if (fflush(f) == EOF)
		return errno ? -errno : -EIO;
	return ferror(f) ? -EIO : 0;
}
