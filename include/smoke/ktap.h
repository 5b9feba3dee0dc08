/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A KTAP (version 1) and TAP (versions 13 and 14) reader for what a guest's
 * tests print: KUnit suites nested by indentation under "# Subtest: name",
 * kselftest's runner lines ("ok 1 selftests: net: test.sh"), "1..N" plans,
 * "# SKIP" and "# TODO" directives, "Bail out!". Fed one line at a time, it
 * hands each result line to a callback as a testcase, with the other lines
 * printed since the previous result. Pure, for untrusted text: no recursion,
 * nesting, names, output and case counts all bounded.
 */
#ifndef KVMINI_SMOKE_KTAP_H
#define KVMINI_SMOKE_KTAP_H

#include <stdbool.h>
#include <stddef.h>

#define KTAP_MAX_DEPTH 8       /* deeper blocks are read as output */
#define KTAP_NAME_MAX 128      /* a test or suite name; longer ones are cut */
#define KTAP_SUITE_MAX 512     /* the suite path, names joined by '.' */
#define KTAP_REASON_MAX 256
#define KTAP_OUTPUT_MAX 4096   /* the last bytes of output before a result */
#define KTAP_MAX_CASES 100000  /* results past this are counted, not reported */

enum ktap_result { KTAP_PASS, KTAP_FAIL, KTAP_SKIP, KTAP_TODO };

struct ktap_case {
	char suite[KTAP_SUITE_MAX]; /* "" at the top level; "example" in a KUnit suite; "net" for kselftest */
	char name[KTAP_NAME_MAX];
	unsigned number;            /* 0 when the line had none */
	enum ktap_result result;
	char reason[KTAP_REASON_MAX]; /* a directive's reason, or Bail out!'s */
	char output[KTAP_OUTPUT_MAX]; /* whole lines, each ending in '\n'; the oldest dropped first */
	size_t output_len;
};

typedef void (*ktap_case_fn)(void *ctx, const struct ktap_case *c);

struct ktap_level {
	size_t indent; /* the level's leading spaces */
	char name[KTAP_NAME_MAX];
};

struct ktap_parser {
	ktap_case_fn fn;
	void *ctx;
	struct ktap_level levels[KTAP_MAX_DEPTH];
	unsigned depth; /* levels in use; 0 until a version, plan or result line */
	bool bailed;    /* after "Bail out!" every line is ignored */
	unsigned long cases, dropped;
	struct ktap_case c; /* the case being built; its output gathers lines */
};

void ktap_init(struct ktap_parser *p, ktap_case_fn fn, void *ctx);
/* One line, without its newline (one is tolerated, as is a CR before it); NUL bytes end it. */
void ktap_feed_line(struct ktap_parser *p, const char *line, size_t len);

const char *ktap_result_name(enum ktap_result r);

#endif
