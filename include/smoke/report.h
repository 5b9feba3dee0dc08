/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The crash-report classifier: fed the guest console line by line (the lines
 * verdict_line gets), it finds the kernel's reports (panic, Oops, KASAN,
 * WARNING, lockdep, stalls, lockups, ...) and gives each a kind, a title
 * "KIND in FUNCTION", the function, a normalised stack signature with a
 * short hash, and the report's text. Pure: no I/O. The recognising lines,
 * title and signature rules are in docs/smoke.md, "Crash reports".
 *
 * A guest's console is untrusted: a line is read up to REPORT_LINE_MAX
 * bytes, the work per line is bounded, and memory is capped (reports per
 * run, lines and bytes per report, reports open at once).
 */
#ifndef KVMINI_SMOKE_REPORT_H
#define KVMINI_SMOKE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

/* Reports kept per run; later ones are only counted (report_dropped). */
#define REPORT_MAX 32
/* A report's text is cut after this many lines or bytes (report.truncated). */
#define REPORT_LINES_MAX 200
#define REPORT_BYTES_MAX 16384
/* Bytes of a line looked at (and kept); the rest of a longer line is dropped. */
#define REPORT_LINE_MAX 512
/* Frames in a signature. */
#define REPORT_SIG_FRAMES 5
#define REPORT_FUNC_MAX 80
#define REPORT_TITLE_MAX 192
#define REPORT_SIG_MAX (REPORT_SIG_FRAMES * REPORT_FUNC_MAX)

/* The stable names (report_kind_name) are what `--allow`, JUnit and JSON use. */
enum report_kind {
	REPORT_PANIC,           /* "panic" */
	REPORT_OOPS,            /* "oops" */
	REPORT_GPF,             /* "gpf" */
	REPORT_BUG,             /* "bug" */
	REPORT_KASAN,           /* "kasan" */
	REPORT_KMSAN,           /* "kmsan" */
	REPORT_KCSAN,           /* "kcsan" */
	REPORT_KFENCE,          /* "kfence" */
	REPORT_UBSAN,           /* "ubsan" */
	REPORT_WARNING,         /* "warning" */
	REPORT_LOCKDEP,         /* "lockdep" */
	REPORT_RCU_STALL,       /* "rcu-stall" */
	REPORT_SOFT_LOCKUP,     /* "soft-lockup" */
	REPORT_HARD_LOCKUP,     /* "hard-lockup" */
	REPORT_HUNG_TASK,       /* "hung-task" */
	REPORT_LIST_CORRUPTION, /* "list-corruption" */
	REPORT_REFCOUNT,        /* "refcount" */
	REPORT_OOM,             /* "oom" */
	REPORT_KMEMLEAK,        /* "kmemleak" */
	REPORT_KIND_COUNT,
};

struct report {
	enum report_kind kind;
	char title[REPORT_TITLE_MAX];
	char function[REPORT_FUNC_MAX]; /* "" when neither header nor stack names one */
	/* Up to REPORT_SIG_FRAMES function names, space-separated; the title when the report has no stack. */
	char signature[REPORT_SIG_MAX];
	uint32_t hash;    /* FNV-1a of kind name and signature; shown as %08x */
	const char *text; /* the report's lines as received, each ending in '\n' */
	size_t len;
	bool truncated; /* lines or bytes were cut */
};

struct report_parser;

/* -ENOMEM. */
int report_parser_create(struct report_parser **out);
void report_parser_destroy(struct report_parser *p);

/*
 * One console line (a trailing CR/LF is ignored; NUL bytes are dropped).
 * Returns 1 when the line starts a new report (kept, or past REPORT_MAX
 * only counted), 0 when not, -ENOMEM (the
 * line is then lost; the parser stays usable). Lines after report_finish
 * are ignored.
 */
int report_line(struct report_parser *p, const char *line, size_t len);
/* The end of the console: reports still open end here. */
void report_finish(struct report_parser *p);

/*
 * The reports kept so far, in the order they started. A report can be read
 * once it has ended (its title and signature are known then): while the
 * console runs, report_get gives NULL for one still open; after
 * report_finish, every one has ended.
 */
size_t report_count(const struct report_parser *p);
const struct report *report_get(const struct report_parser *p, size_t i);
/* Report i's kind, known from its first line, while it is still open too; i < report_count. */
enum report_kind report_kind_at(const struct report_parser *p, size_t i);
/* Reports recognised beyond REPORT_MAX. */
size_t report_dropped(const struct report_parser *p);

/* "kasan", ...; NULL for a value out of range. */
const char *report_kind_name(enum report_kind k);
/* "kasan,warning" -> bit (1u << kind) set in *mask for each; -EINVAL with err naming an unknown or empty one. */
int report_kind_parse(const char *list, uint32_t *mask, struct errmsg *err);
/* The same bug: the same kind and signature (a matrix groups such reports). */
bool report_same(const struct report *a, const struct report *b);

/* One report of one run of many (a matrix, repeats), for grouping the same bugs across runs. */
struct report_ref {
	const struct report *report;
	size_t run;   /* the run's index */
	size_t index; /* the report's index within its run */
};
/*
 * Sorts refs so that the same reports (report_same) are adjacent, each group
 * in run order: by kind, signature, run and index. O(n log n), where
 * comparing every report with every other would be quadratic in runs.
 */
void report_refs_sort(struct report_ref *refs, size_t n);

#endif
