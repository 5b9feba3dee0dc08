/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One smoke run: boot the kernel once, judge the console while it runs, stop
 * it at its deadline or shortly after a fatal line, and say how it went.
 * `kvmini smoke` runs each of these in a child process of its own.
 */
#ifndef KVMINI_SMOKE_RUN_ONE_H
#define KVMINI_SMOKE_RUN_ONE_H

#include "smoke/verdict.h"
#include "vm_config.h"

struct smoke_result {
	enum verdict_status status;
	char reason[VERDICT_REASON_MAX];
	double first_output_s; /* < 0: unknown */
	double init_s;         /* < 0: unknown (the init did not write the boot-timer port) */
	double elapsed_s;
};

/* How long a guest may go on printing after its first fatal line, for the trace. */
#define SMOKE_FATAL_GRACE_MS 2000

/* Boots cfg with the guest console written to console_fd; vcfg has been checked (verdict_create succeeded). */
void smoke_run_one(const struct vm_config *cfg, const struct verdict_config *vcfg, int console_fd,
		   struct smoke_result *out);

#endif
