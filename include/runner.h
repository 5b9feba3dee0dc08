/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs one VM from configuration to its end on the calling thread: open KVM,
 * create the VM, load the kernel, serve the console and signals until the
 * guest stops. `kvmini run` is this plus option parsing; `kvmini smoke`
 * adds a console watcher and a deadline through the hooks.
 */
#ifndef KVMINI_RUNNER_H
#define KVMINI_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "snapshot/snapshot.h"
#include "vm.h"
#include "vm_config.h"

struct runner_hooks {
	console_line_fn on_line; /* sees every guest console line; may call vm_request_stop */
	void (*on_tick)(void *ctx, struct vm *vm); /* on the main thread, about every 20 ms */
	/* The VM once it runs, and NULL before it is destroyed (the API socket's backend holds it in between). */
	void (*on_vm)(void *ctx, struct vm *vm);
	/* Optional: on the main thread whenever control_fd (an eventfd, read here) is readable. */
	void (*on_control)(void *ctx, struct vm *vm);
	int control_fd;
	void *ctx;
	/*
	 * Optional: restore this snapshot (snapshot_read's, cfg made from it)
	 * instead of loading a kernel; the VM then starts paused unless resume.
	 */
	const struct snapshot_image *restore;
	bool resume;
};

struct runner_result {
	int exit_code;
	bool booted;                 /* the guest started running (else message is kvmini's error) */
	enum vm_stop_kind stop_kind;
	char message[256];           /* why it ended, one line */
	double first_output_s;       /* from the runner's start to the guest's first console byte; < 0: none */
	double init_s;               /* to the guest init's boot-timer write; < 0: none */
};

/* The VM is built with `hooks->ctx`-owned watchers attached; the console reads in_fd and writes out_fd. */
void runner_run(const struct vm_config *cfg, int in_fd, int out_fd, const struct runner_hooks *hooks,
		struct runner_result *res);

#endif
