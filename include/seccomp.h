/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp allow-lists (docs/security.md). Each kind of kvmini
 * thread may make only the system calls its work needs; anything else stops
 * kvmini with a line naming the call, and the thread kind that made it.
 *
 * Where each filter goes on, so that every thread ends up with exactly its
 * own list (a thread inherits its creator's filter, and stacked filters
 * intersect):
 *   - API thread: first thing in its thread, which `run --api-sock` and
 *     `daemon` start before any filter exists;
 *   - vCPU threads: first thing in their thread, started by vm_start, before
 *     the main thread's filter;
 *   - I/O thread: first thing in its thread. It is started again on every
 *     resume by the main thread (the API hands pause and resume to it),
 *     which by then has its own filter: so the main list includes the I/O
 *     list, and what a thread needs to start and filter itself, and the
 *     intersection is the I/O list again;
 *   - main thread: by the runner once the VM runs (vm_start has started the
 *     vCPUs and the I/O thread). `kvmini smoke` runs each VM in a forked
 *     child through the same runner, so its children are covered too.
 * Every filter sets no_new_privs first, which seccomp needs without
 * CAP_SYS_ADMIN.
 */
#ifndef KVMINI_SECCOMP_H
#define KVMINI_SECCOMP_H

#include <stdbool.h>

enum seccomp_kind {
	SECCOMP_MAIN,
	SECCOMP_VCPU,
	SECCOMP_IO,
	SECCOMP_API,
	SECCOMP_KINDS,
};

/*
 * Turns the filters on or off for this process (off until called, so that
 * library users such as the unit tests are not filtered); on, it also
 * installs the SIGSYS handler that reports a violation. Call it once,
 * before any thread starts. Returns 0 or a negative errno.
 */
int seccomp_enable(bool on);

/* Puts the calling thread under its kind's filter, if enabled; 0 or a negative errno. */
int seccomp_enter(enum seccomp_kind kind);

#endif
