/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's backend for its unit tests (test_router) and fuzzers (fuzz_api,
 * fuzz_server): a VM that is only state in memory, configured, started,
 * paused and stopped under the rules the real backend (src/api/backend.c)
 * keeps, so every endpoint answers without KVM. It records what it was
 * asked, and a test can make every operation fail with an error of its
 * choosing. The context of each operation is the struct fake_vm.
 */
#ifndef KVMINI_TESTS_FAKE_BACKEND_H
#define KVMINI_TESTS_FAKE_BACKEND_H

#include "api/router.h"

struct fake_vm {
	enum api_state state;
	struct vm_config cfg;
	/* Set by a test: non-zero, every operation fails with it (and err_msg, or "fake error"). */
	int err;
	const char *err_msg;
	/* What it was asked last. */
	int paused;  /* -1: set_paused not called */
	int action;  /* an enum api_action; -1: action not called */
	unsigned configures, patches;
	unsigned loggers, metrics; /* set_logger and set_metrics calls */
	bool configured;           /* a configure call succeeded: no snapshot load any more */
	unsigned snapshots, loads; /* create_snapshot and load_snapshot calls that succeeded */
	struct api_snapshot_load last_load;
	enum snapshot_type last_snapshot;
	/*
	 * Set by a test: they set up the real log and metrics files, and open a
	 * snapshot's files as the real backend does (a fuzzer must not create files at will).
	 */
	bool real_outputs;
	struct api_config_change last;
	unsigned regs_vcpu;
};

extern const struct api_backend fake_backend;

/* Not started, the default configuration, nothing asked: for every test and every fuzz input. */
void fake_vm_reset(struct fake_vm *f);

#endif
