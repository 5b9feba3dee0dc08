/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verdict of one `kvmini smoke` run: fed the guest console line by line
 * while the guest runs, then told how the guest ended. Pure: no I/O, no KVM.
 * Not locked: call it from one thread, or under the caller's console lock.
 *
 * Deciding (verdict_result), first rule that applies wins:
 *  1. PANIC    a kernel panic report (`Kernel panic - not syncing`), or the
 *              VMM reported a panic (pvpanic or its own banner detection).
 *              The reason is the panic's title, and the first report that
 *              --allow does not tolerate when an earlier one caused it.
 *  2. FAIL     a crash report (src/smoke/report.c: Oops, BUG, WARNING, KASAN,
 *              lockdep, RCU stall, lockups, hung task, ...; every kind in
 *              docs/smoke.md) that --allow does not tolerate: the reason is
 *              the first one's title "KIND in FUNCTION"; or a --fail regex.
 *              Guest evidence comes before how the run ended: a timeout or
 *              VMM error that follows an Oops is reported as the Oops.
 *  3. by the ending:
 *     ERROR    the VMM could not run the guest (bad kernel, KVM error)
 *     FAIL     triple fault (reset loop)
 *     TIMEOUT  the caller's --timeout expired
 *     PASS     poweroff or reboot after every --expect regex matched a line;
 *              a reboot counts as clean because with kvmini's default
 *              `panic=-1` a panicking kernel also reboots, and that case has
 *              already become PANIC through its banner or pvpanic
 *     FAIL     poweroff or reboot before every --expect regex matched
 *     ERROR    no ending reported at all (a caller bug)
 *
 * A report is judged when it ends (its function is known then): one that
 * is not allowed asks the caller to stop the guest soon (STOP_SOON), which
 * leaves it a grace period to print the rest. Only a line's first 4095
 * bytes are matched; NUL bytes (serial noise) are dropped and a trailing
 * CR/LF is ignored.
 */
#ifndef KVMINI_SMOKE_VERDICT_H
#define KVMINI_SMOKE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"
#include "smoke/report.h"

/* What the guest prints when it passes, unless --expect says otherwise. */
#define VERDICT_DEFAULT_EXPECT "^KVMINI-SMOKE-OK$"
/* Console lines kept for reasons are cut to this many bytes (at a UTF-8 boundary). */
#define VERDICT_LINE_MAX 200
/* --allow KIND:FUNCTION items kept (KIND alone has no limit). */
#define VERDICT_ALLOW_MAX 16
/* Enough for any reason verdict_result writes. */
#define VERDICT_REASON_MAX 512

/* `kvmini smoke` exit codes. ERROR (the VMM could not run the guest) is VERDICT_EXIT_FAIL. */
#define VERDICT_EXIT_PASS 0
#define VERDICT_EXIT_FAIL 1
#define VERDICT_EXIT_USAGE 2
#define VERDICT_EXIT_TIMEOUT 3
#define VERDICT_EXIT_PANIC 4
#define VERDICT_EXIT_CONFIG 5

/*
 * From best to worst: verdict_worst() keeps the later one, so a matrix's
 * worst status has the highest exit code of its runs, and any non-pass beats
 * PASS. FAIL ranks above ERROR (same exit code) because it says something
 * about the kernel, where ERROR only says the run did not happen.
 */
enum verdict_status {
	VERDICT_PASS,
	VERDICT_ERROR,
	VERDICT_FAIL,
	VERDICT_TIMEOUT,
	VERDICT_PANIC,
	/* The kernel's config lacks what the run needs (smoke's preflight; never from verdict_result): nothing booted. */
	VERDICT_CONFIG,
};

enum verdict_action {
	VERDICT_CONTINUE,
	/* The first fatal line: stop the guest after a short grace period, which lets it print its trace. */
	VERDICT_STOP_SOON,
};

/* How the guest ended, as the VMM saw it. */
enum verdict_end {
	VERDICT_END_POWEROFF,
	VERDICT_END_REBOOT,
	VERDICT_END_PANIC, /* pvpanic, or the VMM's own panic-banner detection */
	VERDICT_END_TRIPLE_FAULT,
	VERDICT_END_VMM_ERROR,
	VERDICT_END_TIMEOUT,
};

struct verdict_config {
	const char *const *expect; /* --expect POSIX EREs; none: VERDICT_DEFAULT_EXPECT */
	size_t n_expect;
	const char *const *fail; /* --fail POSIX EREs: a matching line fails the run like a crash report */
	size_t n_fail;
	/* --allow lists: "KIND" or "KIND:FUNCTION" items, comma-separated (report_kind_name's names; not panic) */
	const char *const *allow;
	size_t n_allow;
	bool initrd;        /* an initramfs was supplied: a root-mount panic then means the kernel could not use it */
	unsigned timeout_s; /* for the TIMEOUT reason */
};

struct verdict;

/*
 * Compiles the regexes (REG_EXTENDED | REG_NOSUB; the strings are copied).
 * -EINVAL with err naming the regex and regerror's text when one does not
 * compile or is empty (a usage error: exit VERDICT_EXIT_USAGE); -ENOMEM.
 */
int verdict_create(const struct verdict_config *cfg, struct verdict **out, struct errmsg *err);
void verdict_destroy(struct verdict *v);

/*
 * One console line, without its line ending (a trailing CR or LF is ignored
 * anyway, as a serial console ends lines with CR LF). Each --expect regex
 * counts once, in any order; one line may satisfy several. STOP_SOON is
 * returned once, for the first fatal line; later lines, fatal or not, return
 * CONTINUE but are still recorded (a panic after an Oops still makes PANIC).
 * Lines may keep coming after verdict_guest_ended (the console's last flush).
 */
enum verdict_action verdict_line(struct verdict *v, const char *line, size_t len);

/* How the guest ended. The first call decides, as the VMM's first stop request does; later ones are ignored. */
void verdict_guest_ended(struct verdict *v, enum verdict_end how);
/* verdict_guest_ended(VERDICT_END_VMM_ERROR) with the VMM's one-line message for the reason (NULL: none). */
void verdict_vmm_error(struct verdict *v, const char *msg);
/* The caller saw no console byte at all: a TIMEOUT then says to check the serial console instead. */
void verdict_set_no_output(struct verdict *v);

/* The first line a --fail regex matched, as kept (cut to VERDICT_LINE_MAX, control characters as '?'), or NULL. */
const char *verdict_fatal_line(const struct verdict *v);

/* Whether --allow tolerates this report (its kind, or its kind in its function). */
bool verdict_allows(const struct verdict *v, const struct report *r);

/*
 * The status, and a one-line reason into reason[size] (truncated; reason may
 * be NULL when size is 0). It ends the console: lines fed after it are not
 * classified as reports.
 */
enum verdict_status verdict_result(struct verdict *v, char *reason, size_t size);
/* After verdict_result: the report that decided a FAIL or PANIC (the first not allowed), or NULL. */
const struct report *verdict_report(const struct verdict *v);

int verdict_exit_code(enum verdict_status s);
enum verdict_status verdict_worst(enum verdict_status a, enum verdict_status b);
/* "PASS", "FAIL", "TIMEOUT", "PANIC", "ERROR", "CONFIG". */
const char *verdict_status_name(enum verdict_status s);

#endif
