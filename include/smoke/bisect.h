/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kvmini smoke --bisect`: how a run ended, as `git bisect run` must read it.
 * git takes 0 as good, 1-124 and 126-127 as bad, 125 as "cannot test this
 * commit", and anything above 127 as a reason to stop the whole bisection;
 * 126 and 127 are what a shell returns for a command it cannot run, so they
 * are never used here, nor anything above 127. Pure.
 *
 *   PASS                          0    good
 *   FAIL, PANIC, TIMEOUT          1    the kernel misbehaved: bad
 *   KERNEL_REJECTED               1    the file is there but is no bootable
 *                                      kernel (not a bzImage, corrupt): bad
 *   CONFIG                        125  the commit's .config lacks an option the
 *                                      run needs: a property of that config, not
 *                                      of the code, so 1 could mark a good commit
 *                                      bad; skip it
 *   NO_KVM, KERNEL_MISSING,       125  the test could not happen (no usable KVM,
 *   DISK_FULL, USAGE, ERROR            the build left no kernel, no space, a bad
 *                                      command line, an unclassified VMM error)
 */
#ifndef KVMINI_SMOKE_BISECT_H
#define KVMINI_SMOKE_BISECT_H

#include "smoke/verdict.h"

#define BISECT_GOOD 0
#define BISECT_BAD 1
#define BISECT_SKIP 125

enum bisect_outcome {
	BISECT_PASS,
	BISECT_FAIL,
	BISECT_PANIC,
	BISECT_TIMEOUT,
	BISECT_KERNEL_REJECTED,
	BISECT_CONFIG,
	BISECT_NO_KVM,
	BISECT_KERNEL_MISSING,
	BISECT_DISK_FULL,
	BISECT_USAGE,
	BISECT_ERROR, /* a VMM error the caller could not put in a class above */
};

/* The outcome of a verdict; ERROR becomes BISECT_ERROR, which the caller narrows when it knows the cause. */
enum bisect_outcome bisect_outcome_of(enum verdict_status s);
/* 0, 1 or 125; never 126-127 or above 127. */
int bisect_exit_code(enum bisect_outcome o);

#endif
