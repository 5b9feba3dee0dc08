/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's real backend: the endpoints on the live VM (vm_pause, ...) and,
 * in daemon mode, the configuration the VM is built from once InstanceStart
 * arrives. The VM is reachable only between runner hooks: api_ctl_attach
 * sets it once it runs and clears it before it is destroyed, under the lock
 * every endpoint takes.
 */
#ifndef KVMINI_API_BACKEND_H
#define KVMINI_API_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/router.h"
#include "vm.h"

enum api_start { API_START_IDLE, API_START_REQUESTED, API_START_DONE, API_START_FAILED };

struct api_ctl {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;  /* broadcast when `start` changes */
	struct vm *vm;        /* while it runs */
	bool daemon;          /* configured through the API and started by InstanceStart */
	bool stop_requested;  /* Stop before InstanceStart: the daemon ends */
	enum api_start start;
	char start_error[256];
	int start_fd;         /* eventfd: the daemon's main thread wakes for InstanceStart or Stop */
	uint64_t host_ram;
	char id[API_ID_MAX];
	struct api_config cfg;
};

extern const struct api_backend api_vm_backend;

/*
 * daemon: configuration through the API; else run_cfg is the configuration
 * (`kvmini run --api-sock`), shown by GET /vm/config and fixed.
 */
int api_ctl_init(struct api_ctl *ctl, bool daemon, const struct vm_config *run_cfg, struct errmsg *e);
void api_ctl_destroy(struct api_ctl *ctl);
/* The runner's on_vm hook: the running VM, or NULL before it is destroyed. */
void api_ctl_attach(void *ctl, struct vm *vm);
/* For the daemon's main thread: the InstanceStart it was woken for failed (msg) or ended. */
void api_ctl_start_failed(struct api_ctl *ctl, const char *msg);

#endif
