// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "exit_codes.h"
#include "runner.h"
#include "smoke/run_one.h"

struct smoke_watch {
	struct verdict *verdict;
	uint64_t deadline_ms;     /* --timeout */
	uint64_t fatal_stop_ms;   /* 0, or when to stop after a fatal line */
	bool timed_out;
};

/* Runs under the console lock, on whichever thread printed the line. */
static void smoke_on_line(void *ctx, const char *line, size_t len)
{
	struct smoke_watch *w = ctx;

	if (verdict_line(w->verdict, line, len) == VERDICT_STOP_SOON)
		__atomic_store_n(&w->fatal_stop_ms, monotonic_ms() + SMOKE_FATAL_GRACE_MS, __ATOMIC_RELAXED);
}

static void smoke_on_tick(void *ctx, struct vm *vm)
{
	struct smoke_watch *w = ctx;
	uint64_t now = monotonic_ms(), fatal = __atomic_load_n(&w->fatal_stop_ms, __ATOMIC_RELAXED);

	if (fatal && now >= fatal) {
		vm_request_stop(vm, VM_STOP_HOST, EXIT_RUNTIME_ERROR, "stopped after a fatal console line");
	} else if (now >= w->deadline_ms) {
		w->timed_out = true;
		vm_request_stop(vm, VM_STOP_HOST, EXIT_RUNTIME_ERROR, "stopped at the timeout");
	}
}

static enum verdict_end ending(const struct runner_result *res, const struct smoke_watch *w)
{
	switch (res->stop_kind) {
	case VM_STOP_POWEROFF:
		return VERDICT_END_POWEROFF;
	case VM_STOP_REBOOT:
		return VERDICT_END_REBOOT;
	case VM_STOP_PANIC:
		return VERDICT_END_PANIC;
	case VM_STOP_TRIPLE_FAULT:
		return VERDICT_END_TRIPLE_FAULT;
	case VM_STOP_HOST:
		/* After a fatal line the verdict already has its evidence; the ending does not decide it. */
		return w->timed_out ? VERDICT_END_TIMEOUT : VERDICT_END_VMM_ERROR;
	default:
		return VERDICT_END_VMM_ERROR;
	}
}

void smoke_run_one(const struct vm_config *cfg, const struct verdict_config *vcfg, int console_fd,
		   struct smoke_result *out)
{
	struct smoke_watch w = { 0 };
	struct runner_hooks hooks = { .on_line = smoke_on_line, .on_tick = smoke_on_tick, .ctx = &w };
	struct runner_result res;
	const struct report *r;
	struct errmsg e;
	enum verdict_end how;
	uint64_t t0 = monotonic_ms();
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	*out = (struct smoke_result){ .status = VERDICT_ERROR, .first_output_s = -1, .init_s = -1 };
	if (verdict_create(vcfg, &w.verdict, &e)) {
		snprintf(out->reason, sizeof(out->reason), "%s", e.text);
		close(devnull);
		return;
	}
	w.deadline_ms = t0 + vcfg->timeout_s * 1000ULL;
	runner_run(cfg, devnull, console_fd, &hooks, &res);
	close(devnull);

	how = ending(&res, &w);
	/* kvmini's own message explains a run that failed on the host side. */
	if (!res.booted || (how == VERDICT_END_VMM_ERROR && res.stop_kind != VM_STOP_HOST))
		verdict_vmm_error(w.verdict, res.message);
	else
		verdict_guest_ended(w.verdict, how);
	if (res.booted && res.first_output_s < 0)
		verdict_set_no_output(w.verdict);
	out->status = verdict_result(w.verdict, out->reason, sizeof(out->reason));
	if ((r = verdict_report(w.verdict))) {
		snprintf(out->report_kind, sizeof(out->report_kind), "%s", report_kind_name(r->kind));
		snprintf(out->report_title, sizeof(out->report_title), "%s", r->title);
		snprintf(out->report_signature, sizeof(out->report_signature), "%s", r->signature);
		out->report_hash = r->hash;
	}
	out->first_output_s = res.first_output_s;
	out->init_s = res.init_s;
	out->elapsed_s = (double)(monotonic_ms() - t0) / 1000.0;
	verdict_destroy(w.verdict);
}
