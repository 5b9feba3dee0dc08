/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One smoke run: boot the kernel once, judge the console while it runs, stop
 * it at its deadline or shortly after a fatal line, and say how it went.
 * `kvmini smoke` runs each of these in a child process of its own.
 */
#ifndef KVMINI_SMOKE_RUN_ONE_H
#define KVMINI_SMOKE_RUN_ONE_H

#include <stdbool.h>
#include <stdint.h>

#include "smoke/matrix.h"
#include "smoke/report.h"
#include "smoke/symbols.h"
#include "smoke/verdict.h"
#include "vm_config.h"

/* Room for the forensics text: a few lines per vCPU and the exit history. */
#define SMOKE_FORENSICS_MAX 8192

/*
 * What a run's child hands the parent through a pipe: fixed size, no
 * pointers. The parent also has the whole console, and classifies its
 * reports again for the JUnit bodies and the grouping (the same lines give
 * the same reports).
 */
struct smoke_result {
	enum verdict_status status;
	char reason[VERDICT_REASON_MAX];
	/* The crash report that decided a FAIL or PANIC: "" kind when none did. */
	char report_kind[24];
	char report_title[REPORT_TITLE_MAX];
	char report_signature[REPORT_SIG_MAX];
	uint32_t report_hash;
	/* After a TIMEOUT, triple fault, VMM error or all vCPUs halted: each vCPU's state and the exit history; "" else. */
	char forensics[SMOKE_FORENSICS_MAX];
	/* VM exits of the run by KVM_EXIT_* number (for --json and --baseline). */
	uint64_t exits[MATRIX_EXIT_REASONS];
	double first_output_s; /* < 0: unknown */
	double init_s;         /* < 0: unknown (the init did not write the boot-timer port) */
	double elapsed_s;
};

/*
 * Forensics (docs/smoke.md): a run whose console and exits have been quiet
 * for --hang-after seconds is probed (paused, KVM_GET_MP_STATE, resumed);
 * with every vCPU halted it is a hang and ends there as a TIMEOUT, before
 * its deadline. Long by default: a guest may idle in silence on purpose.
 */
#define SMOKE_HANG_DEFAULT_S 30
/* The exit histogram of the forensics covers this many seconds before the stop. */
#define SMOKE_EXIT_WINDOW_S 5

/* What the forensics use from the command line. */
struct smoke_forensics_opts {
	const struct symtab *symbols; /* --system-map/--vmlinux; NULL: RIPs stay numbers */
	bool nokaslr;                 /* the guest's command line has nokaslr: the slide is 0 */
	int core_fd;                  /* --core, open for writing; -1: none */
	unsigned hang_after_s;        /* --hang-after; 0: no hang probe, only the deadline */
};

/* How long a guest may go on printing after its first fatal line, for the trace. */
#define SMOKE_FATAL_GRACE_MS 2000

/* Boots cfg with the guest console written to console_fd; vcfg has been checked (verdict_create succeeded). */
void smoke_run_one(const struct vm_config *cfg, const struct verdict_config *vcfg,
		   const struct smoke_forensics_opts *fo, int console_fd, struct smoke_result *out);

#endif
