/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A backend for the API fuzzers (fuzz_api, fuzz_server): a VM that is only
 * state in memory, configured, started, paused and stopped as the real
 * backend would be, so every endpoint answers without KVM.
 */
#ifndef KVMINI_FUZZ_FAKE_BACKEND_H
#define KVMINI_FUZZ_FAKE_BACKEND_H

#include "api/router.h"

struct fake_vm {
	enum api_state state;
	struct api_config cfg;
};

extern const struct api_backend fake_backend;

/* Not started, default configuration: reset for every input, so runs are reproducible. */
void fake_vm_reset(struct fake_vm *f);

#endif
