/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kvmini smoke --json FILE`: every cell of the matrix with its axes, verdict,
 * title, signature, boot times, exit counts by reason and repeats, as one
 * JSON document (schema: docs/smoke.md "JSON results"). Pure: it writes into
 * the caller's buffer. Strings go through src/api/json.c's writer, which
 * escapes control characters and turns bytes that are not UTF-8 into U+FFFD
 * (titles and signatures quote the guest's console, which is untrusted).
 */
#ifndef KVMINI_SMOKE_RESULTS_JSON_H
#define KVMINI_SMOKE_RESULTS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "smoke/ktap.h"
#include "smoke/matrix.h"
#include "smoke/verdict.h"

#define RESULTS_JSON_VERSION 1

struct results_run {
	enum verdict_status status;
	double boot_s; /* < 0: unknown */
	uint64_t exits[MATRIX_EXIT_REASONS]; /* by KVM_EXIT_* number */
	const struct ktap_case *tests; /* the guest's own tests, read from its KTAP/TAP output */
	size_t n_tests;
};

struct results_cell {
	const char *name;        /* matrix_cell_name() */
	struct matrix_cell cell; /* its axis values */
	enum verdict_status status; /* the worst of its runs */
	const char *title;       /* NULL: none (written as null) */
	const char *signature;   /* NULL: none */
	const struct results_run *runs;
	size_t n_runs;
};

/* "io", "hlt", "mmio", ... for the KVM exits kvmini handles, else NULL (written as "exit_N"). */
const char *results_exit_reason_name(unsigned reason);

/*
 * Writes the document into buf[0, cap), NUL-terminated. Its length, -ENOSPC
 * when it does not fit, -EINVAL when a cell has no name or a status is out
 * of range.
 */
int results_json_write(char *buf, size_t cap, const struct results_cell *cells, size_t n);

#endif
