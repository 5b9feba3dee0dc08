/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JUnit XML, the dialect Jenkins and GitLab read: one <testsuite> with one
 * <testcase> per run. Pure apart from writing to the caller's FILE.
 *
 * Text is escaped for XML 1.0: & < > " ' everywhere; characters XML 1.0
 * forbids (control characters other than tab, LF and CR, which kernel
 * consoles do emit as escape sequences) and invalid UTF-8 (overlong forms,
 * surrogates, U+FFFE/U+FFFF included) each become U+FFFD. Tabs and newlines
 * are kept (in attributes as &#9; and &#10;, which a parser's attribute
 * normalisation would otherwise turn into spaces); CR is written as &#13;.
 */
#ifndef KVMINI_SMOKE_JUNIT_H
#define KVMINI_SMOKE_JUNIT_H

#include <stddef.h>
#include <stdio.h>

#include "smoke/ktap.h"

/* The caller maps verdicts: PASS → PASS, ERROR → ERROR, FAIL/TIMEOUT/PANIC → FAILURE. */
enum junit_result {
	JUNIT_PASS,
	JUNIT_FAILURE, /* <failure>: the kernel did not pass */
	JUNIT_ERROR,   /* <error>: the run itself did not happen */
};

struct junit_case {
	const char *name;      /* e.g. "bzImage 2 vCPUs 1G" */
	const char *classname; /* e.g. "kvmini.smoke" */
	double time_s;         /* negative or not a number: written as 0 */
	enum junit_result result;
	const char *type;      /* failure/error type attribute, e.g. "PANIC"; NULL: "failure" or "error" */
	const char *message;   /* the reason: message attribute and element text; NULL: "" */
	const char *console;   /* console tail for <system-out>; may hold NUL bytes (replaced) */
	size_t console_len;    /* 0: no <system-out> */
	/*
	 * The guest's own tests, read from its KTAP/TAP output: each follows the
	 * run's testcase as a testcase of its own, classname "CLASSNAME.RUN NAME"
	 * then ".SUITE PATH" if any; fail is a <failure>, skip and TODO a
	 * <skipped>, and the output before it is its <system-out>.
	 */
	const struct ktap_case *ktap;
	size_t n_ktap;
};

/*
 * Writes the whole document. -EINVAL (nothing written) when suite_name, a
 * case's name or classname is NULL, a result is out of range, or n_ktap is
 * not 0 without ktap. The stream is
 * flushed, so a write error shows here: the flush's -errno (e.g. -ENOSPC), or
 * -EIO when the stream only has its error flag set.
 */
int junit_write(FILE *f, const char *suite_name, const struct junit_case *cases, size_t n);

#endif
