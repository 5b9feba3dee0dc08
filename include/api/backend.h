/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's real backend: the endpoints on the live VM (vm_pause, ...) and,
 * in daemon mode, the configuration the VM is built from once InstanceStart
 * arrives. The VM is reachable only between runner hooks: api_ctl_attach
 * sets it once it runs and clears it before it is destroyed, under the lock
 * every endpoint takes.
 *
 * The API thread never waits on the guest without a deadline, and never
 * holds the lock while it waits (so GET / always answers): InstanceStart,
 * a snapshot's load, pause, resume and a snapshot's creation are handed to
 * the main thread, which owns the VM (the daemon's start wait, the runner's
 * loop through api_ctl_hooks), and the API thread waits for the outcome at
 * most API_VM_TIMEOUT_MS; then it answers with an error saying the VM did
 * not get there in time. A snapshot's creation takes as long as writing
 * guest RAM: its request is left pending (the API serves its other clients
 * meanwhile) and answered when the main thread is done, or after
 * API_SNAPSHOT_TIMEOUT_MS. The files of a snapshot are opened on the API
 * thread, from the client's paths, and handed over as descriptors. Stop needs no
 * hand-over: vm_request_stop only sets a flag and wakes the threads.
 */
#ifndef KVMINI_API_BACKEND_H
#define KVMINI_API_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/router.h"
#include "runner.h"
#include "vm.h"

/* The longest an API request waits for the VM's thread to start, pause or resume it. */
#define API_VM_TIMEOUT_MS 5000
/* PUT /snapshot/create's own deadline: the VM's thread writes all of guest RAM, gigabytes at disk speed. */
#define API_SNAPSHOT_TIMEOUT_MS 120000

enum api_start { API_START_IDLE, API_START_REQUESTED, API_START_DONE, API_START_FAILED };
/* A pause, resume or snapshot on its way to the main thread. */
enum api_vm_request { API_REQUEST_NONE, API_REQUEST_PAUSE, API_REQUEST_RESUME, API_REQUEST_SNAPSHOT };

/* Descriptors the API thread opened for the main thread; -1 once the main thread took them (it closes them). */
struct api_snapshot_fds {
	int state_fd, mem_fd;
};

/* PUT /snapshot/load or `kvmini restore`: what the start restores; fds -1: an InstanceStart, which boots. */
struct api_load {
	struct api_snapshot_fds fds;
	bool track_dirty_pages, resume;
};

struct api_ctl {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;  /* CLOCK_MONOTONIC; broadcast when `start` or `request_done` changes */
	struct vm *vm;        /* while it runs */
	bool daemon;          /* configured through the API and started by InstanceStart */
	bool stop_requested;  /* Stop before InstanceStart: the daemon ends */
	enum api_start start;
	bool start_abandoned; /* the InstanceStart request timed out: nobody waits for this start */
	char start_error[256];
	int start_fd;         /* eventfd: the daemon's main thread wakes for InstanceStart or Stop */
	enum api_vm_request request; /* waiting for, or being carried out by, the main thread */
	bool request_taken;   /* the main thread is carrying it out: it cannot be withdrawn any more */
	uint64_t request_seq, request_done; /* the last request made, the last one finished */
	int request_result;   /* of request_done: 0 or a negative errno */
	char request_error[sizeof(((struct errmsg *)0)->text)]; /* of request_done: vm_snapshot's message */
	/* API_REQUEST_SNAPSHOT's: the type, and the files until the main thread takes them. */
	enum snapshot_type snapshot_type;
	struct api_snapshot_fds snapshot;
	uint64_t snapshot_seq;         /* the pending PUT /snapshot/create's request; 0: none */
	uint64_t snapshot_deadline_ms; /* when its client is told it timed out */
	int snapshot_done_fd;          /* eventfd: the API server looks at the pending request's outcome */
	struct api_load load;
	bool configured;      /* a PUT or PATCH configured the VM: no snapshot load any more, as in Firecracker */
	int request_fd;       /* eventfd: the runner's loop wakes for a request */
	unsigned device_calls; /* PATCH/GET of a device under way on the VM's I/O thread: attach(NULL) waits for 0 */
	uint64_t host_ram;
	char id[API_ID_MAX];
	struct vm_config *cfg; /* the command's own: the API fills it in daemon mode, else only shows it */
};

extern const struct api_backend api_vm_backend;

/*
 * cfg is the configuration, used in place: daemon, the API configures it
 * (until InstanceStart, its paths as an API client's); else it is `kvmini
 * run --api-sock`'s, shown by GET /vm/config and fixed.
 */
int api_ctl_init(struct api_ctl *ctl, bool daemon, struct vm_config *cfg, struct errmsg *e);
void api_ctl_destroy(struct api_ctl *ctl);
/* The runner's hooks for a VM the API controls: attaches it (api_ctl_attach) and carries out its requests. */
struct runner_hooks api_ctl_hooks(struct api_ctl *ctl);
/* The runner's on_vm hook: the running VM, or NULL before it is destroyed. */
void api_ctl_attach(void *ctl, struct vm *vm);
/* For the daemon's main thread: the InstanceStart (or load) it was woken for failed (msg) or ended. */
void api_ctl_start_failed(struct api_ctl *ctl, const char *msg);
/* Closes both (those not -1) and sets them to -1. */
void api_snapshot_fds_close(struct api_snapshot_fds *fds);

#endif
