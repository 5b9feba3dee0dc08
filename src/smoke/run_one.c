// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "clock.h"
#include "exit_codes.h"
#include "options.h"
#include "runner.h"
#include "smoke/core.h"
#include "smoke/forensics.h"
#include "smoke/run_one.h"

struct smoke_watch {
	struct verdict *verdict;
	const struct smoke_forensics_opts *fo;
	struct smoke_result *out;
	uint64_t deadline_ms;     /* --timeout */
	uint64_t fatal_stop_ms;   /* 0, or when to stop after a fatal line */
	bool timed_out;
	bool hung;                /* every vCPU was found halted after hang_after_s of quiet */
	/* Hang probing, on the main thread; last_line_ms is written by whichever thread printed. */
	uint64_t last_line_ms;
	uint64_t quiet_since_ms;
	uint64_t exits_seen;
	/* "Kernel Offset: 0x... from 0x..." (or "disabled") on the console: the KASLR slide. */
	uint64_t slide;
	bool slide_known;
	/* From on_vm(vm) to on_vm(NULL): the VM, each vCPU's exit history and room for its state. */
	struct vm *vm;
	struct exit_history *histories;
	struct exit_history **history_of;
	struct forensics_vcpu *vcpus;
	struct kvm_regs *core_regs; /* the same registers, as core_write takes them */
	struct kvm_sregs *core_sregs;
};

/* "Kernel Offset: 0x1c000000 from 0xffffffff81000000 (relocation range: ...)", printed on a panic. */
static void note_kernel_offset(struct smoke_watch *w, const char *line, size_t len)
{
	static const char tag[] = "Kernel Offset: ";
	const char *p = memmem(line, len, tag, sizeof(tag) - 1);
	char num[24];
	uint64_t slide = 0;
	size_t n;

	if (!p)
		return;
	p += sizeof(tag) - 1;
	n = (size_t)(line + len - p) < sizeof(num) - 1 ? (size_t)(line + len - p) : sizeof(num) - 1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (strncmp(num, "disabled", 8) && sscanf(num, "0x%" SCNx64, &slide) != 1)
		return;
	__atomic_store_n(&w->slide, slide, __ATOMIC_RELAXED);
	__atomic_store_n(&w->slide_known, true, __ATOMIC_RELEASE);
}

/* Runs under the console lock, on whichever thread printed the line. */
static void smoke_on_line(void *ctx, const char *line, size_t len)
{
	struct smoke_watch *w = ctx;

	__atomic_store_n(&w->last_line_ms, monotonic_ms(), __ATOMIC_RELAXED);
	note_kernel_offset(w, line, len);
	if (verdict_line(w->verdict, line, len) == VERDICT_STOP_SOON)
		__atomic_store_n(&w->fatal_stop_ms, monotonic_ms() + SMOKE_FATAL_GRACE_MS, __ATOMIC_RELAXED);
}

/* With every vCPU thread out of KVM_RUN (paused, or joined): KVM would otherwise wait for the vCPU's mutex. */
static void read_vcpus(struct smoke_watch *w)
{
	for (unsigned i = 0; i < w->vm->nr_vcpus; i++) {
		struct forensics_vcpu *v = &w->vcpus[i];
		int fd = w->vm->vcpus[i].fd;

		v->err = ioctl(fd, KVM_GET_REGS, &v->regs) || ioctl(fd, KVM_GET_SREGS, &v->sregs) ||
			 ioctl(fd, KVM_GET_MP_STATE, &v->mp) ? -errno : 0;
	}
}

static uint64_t exits_so_far(const struct vm *vm)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			sum += __atomic_load_n(&vm->vcpus[i].exits[r], __ATOMIC_RELAXED);
	return sum;
}

/*
 * Quiet: fewer VM exits a second than this. A hung guest's serial driver
 * may still poll its port on a timer (Linux's 8250 does, some 20 reads a
 * second, when it thinks the THR interrupt unreliable): that is no progress.
 */
#define HANG_QUIET_EXITS_PER_S 50

/*
 * A guest with no console line and almost no VM exit for --hang-after seconds is
 * paused once and its vCPUs asked for their MP state: all halted is a hang
 * (the stop keeps it paused for the forensics); otherwise it runs on and is
 * looked at again after the next quiet stretch.
 */
static void probe_hang(struct smoke_watch *w, struct vm *vm, uint64_t now)
{
	uint64_t exits = exits_so_far(vm), line_ms = __atomic_load_n(&w->last_line_ms, __ATOMIC_RELAXED);

	if (!w->vcpus || !w->fo || !w->fo->hang_after_s)
		return;
	if (line_ms > w->quiet_since_ms || !w->quiet_since_ms ||
	    exits - w->exits_seen > HANG_QUIET_EXITS_PER_S * (1 + (now - w->quiet_since_ms) / 1000)) {
		w->exits_seen = exits;
		w->quiet_since_ms = now;
		return;
	}
	if (now - w->quiet_since_ms < w->fo->hang_after_s * 1000ULL)
		return;
	w->quiet_since_ms = now;
	if (vm_pause(vm))
		return;
	read_vcpus(w);
	if (forensics_all_halted(w->vcpus, vm->nr_vcpus)) {
		w->hung = true;
		vm_request_stop(vm, VM_STOP_HOST, EXIT_RUNTIME_ERROR, "every vCPU halted");
		return;
	}
	vm_resume(vm);
	/* The pause's own kicks are no exits, but the resumed guest may take some at once: start afresh. */
	w->exits_seen = exits_so_far(vm);
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
	} else if (!fatal) {
		probe_hang(w, vm, now);
	}
}

static void detach(struct smoke_watch *w)
{
	free(w->histories);
	free(w->history_of);
	free(w->vcpus);
	free(w->core_regs);
	free(w->core_sregs);
	w->histories = NULL;
	w->history_of = NULL;
	w->vcpus = NULL;
	w->core_regs = NULL;
	w->core_sregs = NULL;
}

/* Allocates here, before the main thread is confined; without memory there are simply no forensics. */
static void attach(struct smoke_watch *w, struct vm *vm)
{
	unsigned n = vm->nr_vcpus;

	w->vm = vm;
	w->histories = calloc(n, sizeof(*w->histories));
	w->history_of = calloc(n, sizeof(*w->history_of));
	w->vcpus = calloc(n, sizeof(*w->vcpus));
	w->core_regs = calloc(n, sizeof(*w->core_regs));
	w->core_sregs = calloc(n, sizeof(*w->core_sregs));
	if (!w->histories || !w->history_of || !w->vcpus || !w->core_regs || !w->core_sregs)
		return detach(w);
	/* The vCPUs already run: their first exits (the first microseconds of the boot) go unrecorded. */
	for (unsigned i = 0; i < n; i++) {
		w->history_of[i] = &w->histories[i];
		__atomic_store_n(&vm->vcpus[i].history, &w->histories[i], __ATOMIC_RELEASE);
	}
}

static const char *forensics_reason(const struct smoke_watch *w, enum vm_stop_kind kind, char *buf, size_t size)
{
	if (w->hung) {
		snprintf(buf, size, "hang: no console output and almost no VM exit for %u s", w->fo->hang_after_s);
		return buf;
	}
	if (w->timed_out)
		return "at the timeout";
	switch (kind) {
	case VM_STOP_TRIPLE_FAULT:
		return "after a triple fault";
	case VM_STOP_GUEST_FAULT:
		return "after a KVM error";
	case VM_STOP_VMM_ERROR:
		return "after a VMM error";
	default:
		return NULL;
	}
}

/* After vm_join: every vCPU thread has left KVM_RUN for good, so its state holds still for the reading. */
static void collect(struct smoke_watch *w)
{
	struct vm *vm = w->vm;
	struct smoke_result *out = w->out;
	char hang[64];
	const char *why = forensics_reason(w, vm->stop_kind, hang, sizeof(hang));
	const struct symtab *syms = w->fo ? w->fo->symbols : NULL;
	bool slide_known = __atomic_load_n(&w->slide_known, __ATOMIC_ACQUIRE);
	uint64_t slide = slide_known ? __atomic_load_n(&w->slide, __ATOMIC_RELAXED) : 0;
	struct exit_summary sum;
	struct errmsg e;
	size_t len;

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		for (unsigned r = 0; r < MATRIX_EXIT_REASONS && r < VCPU_EXIT_REASONS; r++)
			out->exits[r] += vm->vcpus[i].exits[r];
	if (!why)
		return;
	if (!w->vcpus) {
		snprintf(out->forensics, sizeof(out->forensics), "%s: no forensics (out of memory)\n", why);
		return;
	}
	read_vcpus(w);
	exit_history_summarize(w->history_of, vm->nr_vcpus, monotonic_ns(), SMOKE_EXIT_WINDOW_S * 1000000000ULL,
			       &sum);
	/* A wrong slide names wrong functions: no names unless nokaslr or the console said the slide. */
	if (!slide_known && !(w->fo && w->fo->nokaslr))
		syms = NULL;
	forensics_format(out->forensics, sizeof(out->forensics), why, w->vcpus, vm->nr_vcpus, &sum,
			 SMOKE_EXIT_WINDOW_S, syms, slide);
	if (!w->fo || w->fo->core_fd < 0)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		w->core_regs[i] = w->vcpus[i].regs;
		w->core_sregs[i] = w->vcpus[i].sregs;
	}
	len = strlen(out->forensics);
	if (core_write(w->fo->core_fd, &vm->mem, w->core_regs, w->core_sregs, vm->nr_vcpus, &e))
		snprintf(out->forensics + len, sizeof(out->forensics) - len, "core: %s\n", e.text);
	else
		snprintf(out->forensics + len, sizeof(out->forensics) - len, "core: written (%u vCPUs)\n",
			 vm->nr_vcpus);
}

/* The runner's on_vm: the VM once it runs, and NULL after vm_join, before it is destroyed. */
static void smoke_on_vm(void *ctx, struct vm *vm)
{
	struct smoke_watch *w = ctx;

	if (vm) {
		attach(w, vm);
		return;
	}
	if (w->vm)
		collect(w);
	/* Nothing records any more (the vCPU threads are joined), but the pointers must not outlive the memory. */
	for (unsigned i = 0; w->vm && w->histories && i < w->vm->nr_vcpus; i++)
		w->vm->vcpus[i].history = NULL;
	detach(w);
	w->vm = NULL;
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
		return w->timed_out || w->hung ? VERDICT_END_TIMEOUT : VERDICT_END_VMM_ERROR;
	default:
		return VERDICT_END_VMM_ERROR;
	}
}

void smoke_run_one(const struct vm_config *cfg, const struct verdict_config *vcfg,
		   const struct smoke_forensics_opts *fo, int console_fd, struct smoke_result *out)
{
	struct smoke_watch w = { .fo = fo, .out = out };
	struct runner_hooks hooks = {
		.on_line = smoke_on_line, .on_tick = smoke_on_tick, .on_vm = smoke_on_vm, .ctx = &w,
	};
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
	/* The verdict's own TIMEOUT reason names the deadline, which a hang did not wait for. */
	if (w.hung && out->status == VERDICT_TIMEOUT)
		snprintf(out->reason, sizeof(out->reason),
			 "hang after %.1f s: every vCPU halted, no console output and almost no VM exit for %u s",
			 (double)(monotonic_ms() - t0) / 1000.0, fo->hang_after_s);
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
