/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API's endpoints, pure: a parsed HTTP request and a backend
 * (what the endpoints act on: the real VM in src/api/backend.c, a fake one
 * in the unit tests) give a status and a JSON body. The paths, fields,
 * status codes and the {"fault_message": "..."} error shape follow
 * Firecracker's API (docs/api.md), so its clients and curl work unchanged.
 * The endpoints are a table of routes (path, handler per method); each
 * section of the configuration (include/api/section.h) adds its PUT.
 */
#ifndef KVMINI_API_ROUTER_H
#define KVMINI_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "api/config.h"
#include "api/http.h"
#include "api/json.h"
#include "errmsg.h"
#include "log.h"
#include "metrics.h"
#include "snapshot/snapshot.h"

/* Firecracker's answer to a pre-boot request after the start; kvmini's backends use it too. */
#define API_MSG_STARTED "The requested operation is not supported after starting the microVM."
/* And to a post-boot request (PATCH /drives/{id}) before the start. */
#define API_MSG_NOT_STARTED "The requested operation is not supported before starting the microVM."

/* A response body's size: a fault message, or the largest answer (GET /vm/config, GET /vm/stats). */
#define API_BODY_MAX 32768

/* InstanceInfo.state */
enum api_state { API_STATE_NOT_STARTED, API_STATE_RUNNING, API_STATE_PAUSED };

enum api_action {
	API_ACTION_INSTANCE_START,
	API_ACTION_SEND_CTRL_ALT_DEL,
	API_ACTION_STOP, /* kvmini's own: stop the guest at once */
	API_ACTION_FLUSH_METRICS, /* a line into the metrics file now (include/metrics.h) */
};

/* PUT /snapshot/create: the paths as the client gave them (the backend opens them). */
struct api_snapshot_create {
	enum snapshot_type type;
	char state_path[VM_PATH_MAX], mem_path[VM_PATH_MAX];
};

/* PUT /snapshot/load: mem_path from mem_backend (File) or the older mem_file_path. */
struct api_snapshot_load {
	char state_path[VM_PATH_MAX], mem_path[VM_PATH_MAX];
	bool track_dirty_pages; /* or its older name enable_diff_snapshots */
	bool resume;            /* resume_vm: Running once loaded, else Paused */
};

/* PUT /snapshot/create on a VM that runs. */
#define API_MSG_SNAPSHOT_RUNNING \
	"Cannot create a snapshot: the microVM is running; pause it first (PATCH /vm {\"state\": \"Paused\"})."
/* Firecracker's answer to a load once anything but the logger and metrics was configured. */
#define API_MSG_LOAD_CONFIGURED "Loading a microVM snapshot is not allowed after configuring boot-specific resources."

/*
 * What the endpoints act on. Every operation returns 0 or a negative errno
 * with a message for the client in e: -EINVAL, -EPERM, -EALREADY: 400;
 * -ENOENT: 404; -EBUSY: 409; anything else: 500.
 */
struct api_backend {
	void (*describe)(void *ctx, enum api_state *state, char *id, size_t id_size, const char **version);
	int (*set_paused)(void *ctx, bool paused, struct errmsg *e);
	int (*action)(void *ctx, enum api_action action, struct errmsg *e);
	int (*configure)(void *ctx, const struct api_config_change *change, struct errmsg *e);
	/* Calls read with the configuration, unchanging until it returns, and returns what read does: no copy. */
	int (*read_config)(void *ctx, int (*read)(const struct vm_config *cfg, void *arg), void *arg);
	/* Writes the members of the GET /vm/stats object (uptime, vCPU exits, RSS, devices) into j. */
	int (*get_stats)(void *ctx, struct json_out *j, struct errmsg *e);
	int (*get_regs)(void *ctx, unsigned vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs, struct errmsg *e);
	/* A PATCH of a device's section, to the running device (its api_patch): -EPERM before InstanceStart. */
	int (*patch_device)(void *ctx, const struct api_config_change *change, struct errmsg *e);
	/* GET of a device's section (sub "" or its sub-resource): the members of its object into j. */
	int (*get_device)(void *ctx, const struct device_api *section, const char *sub, struct json_out *j,
			  struct errmsg *e);
	/* PUT /logger and PUT /metrics (include/log.h, include/metrics.h): before InstanceStart only, as Firecracker. */
	int (*set_logger)(void *ctx, const struct log_file_config *c, struct errmsg *e);
	int (*set_metrics)(void *ctx, const struct metrics_config *c, struct errmsg *e);
	/*
	 * PUT /snapshot/create: the paused VM into the two files (vm_snapshot).
	 * -EINPROGRESS: handed to the VM's thread, which takes as long as
	 * writing guest RAM does; pending_result then tells the outcome.
	 */
	int (*create_snapshot)(void *ctx, const struct api_snapshot_create *p, struct errmsg *e);
	/* The pending request's outcome: -EINPROGRESS while under way (its deadline is the backend's), else 0 or its error. */
	int (*pending_result)(void *ctx, struct errmsg *e);
	/* Optional: an eventfd that becomes readable when a pending request may have ended; -1: none (the server polls). */
	int (*pending_fd)(void *ctx);
	/* PUT /snapshot/load: a VM from the two files, into a daemon nothing configured yet. */
	int (*load_snapshot)(void *ctx, const struct api_snapshot_load *p, struct errmsg *e);
};

/*
 * One request: the response body (NUL-terminated, empty for 204) goes to
 * out[0, cap) and the status to *status. Returns the body's length. cap of
 * API_BODY_MAX is always enough; a smaller one may turn an answer into a
 * 500 fault.
 */
int api_route(const struct api_backend *b, void *ctx, const struct http_request *req, char *out, size_t cap,
	      int *status);

/*
 * api_route's status for a request whose answer comes later (PUT
 * /snapshot/create, the one that can take minutes): the server serves the
 * other clients meanwhile and asks api_route_pending for the answer.
 */
#define API_STATUS_PENDING 0
/* The answer to the request api_route left pending, as api_route gives it; API_STATUS_PENDING while it still is. */
int api_route_pending(const struct api_backend *b, void *ctx, char *out, size_t cap, int *status);

/* A {"fault_message": msg} body; returns its length. */
int api_fault_body(char *out, size_t cap, const char *msg);

#endif
