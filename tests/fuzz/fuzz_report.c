// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the crash-report classifier (src/smoke/report.c): the
 * input is a guest's console output, fed line by line (split at '\n') as
 * `kvmini smoke` feeds it. Every report must then hold together: its text
 * as long as it says and within the caps, a title, a signature, a kind with
 * a name, and the same as itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/report.h"

static void fail(const char *what, size_t i)
{
	fprintf(stderr, "fuzz_report: report %zu: %s\n", i, what);
	abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	struct report_parser *p;
	size_t started = 0;

	if (report_parser_create(&p))
		return 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		int rc = report_line(p, s, len);

		if (rc < 0 || rc > 1)
			fail("report_line returned neither 0 nor 1", 0);
		started += (size_t)rc;
		s += len + 1;
	}
	report_finish(p);
	if (report_count(p) > REPORT_MAX || report_count(p) + report_dropped(p) != started)
		fail("reports counted wrong", 0);
	for (size_t i = 0; i < report_count(p); i++) {
		const struct report *r = report_get(p, i);

		if (!r || !report_kind_name(r->kind))
			fail("no report or no kind", i);
		if (!r->text || strlen(r->text) != r->len || r->len > REPORT_BYTES_MAX || !r->len)
			fail("text and length disagree or exceed the cap", i);
		if (!r->title[0] || strlen(r->title) >= REPORT_TITLE_MAX || !r->signature[0] ||
		    strlen(r->signature) >= REPORT_SIG_MAX || strlen(r->function) >= REPORT_FUNC_MAX)
			fail("title, signature or function empty or too long", i);
		if (!report_same(r, r))
			fail("not the same as itself", i);
	}
	if (report_get(p, report_count(p)))
		fail("a report past the count", report_count(p));
	report_parser_destroy(p);
	return 0;
}
