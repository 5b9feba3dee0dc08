/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API's endpoints, pure: a parsed HTTP request and a backend
 * (what the endpoints act on: the real VM in src/api/backend.c, a fake one
 * in the unit tests) give a status and a JSON body. The paths, fields,
 * status codes and the {"fault_message": "..."} error shape follow
 * Firecracker's API (docs/api.md), so its clients and curl work unchanged.
 */
#ifndef KVMINI_API_ROUTER_H
#define KVMINI_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "api/http.h"
#include "api/json.h"
#include "errmsg.h"
#include "vm_config.h"

/* Firecracker's answer to a pre-boot request after the start; kvmini's backends use it too. */
#define API_MSG_STARTED "The requested operation is not supported after starting the microVM."

#define API_PATH_MAX 4096
#define API_BOOT_ARGS_MAX 2048
#define API_ID_MAX 64

/* A response body's size: a fault message, or the largest answer (GET /vm/config, GET /vm/stats). */
#define API_BODY_MAX 32768

/* InstanceInfo.state */
enum api_state { API_STATE_NOT_STARTED, API_STATE_RUNNING, API_STATE_PAUSED };

enum api_action {
	API_ACTION_INSTANCE_START,
	API_ACTION_SEND_CTRL_ALT_DEL,
	API_ACTION_STOP, /* kvmini's own: stop the guest at once */
};

/*
 * What PUT /boot-source, /machine-config, /drives/{id} and
 * /network-interfaces/{id} (or a --config-file) configure. The strings live
 * here; vm.kernel_path, vm.initrd_path and vm.cmdline stay NULL until
 * api_config_to_vm.
 */
struct api_config {
	struct vm_config vm;
	char kernel_path[API_PATH_MAX];
	char initrd_path[API_PATH_MAX];
	char boot_args[API_BOOT_ARGS_MAX];
	int root_drive; /* the drive with is_root_device, -1: none */
	char net_ids[VM_MAX_NETS][API_ID_MAX];
};

/* One configuration request, already checked on its own (not yet against the rest of the configuration). */
enum api_config_kind { API_CONFIG_BOOT_SOURCE, API_CONFIG_MACHINE, API_CONFIG_DRIVE, API_CONFIG_NET };

struct api_config_change {
	enum api_config_kind kind;
	union {
		struct {
			char kernel_path[API_PATH_MAX];
			char initrd_path[API_PATH_MAX];
			char boot_args[API_BOOT_ARGS_MAX];
		} boot;
		struct {
			unsigned vcpu_count;
			uint64_t mem_size_mib;
		} machine;
		struct {
			struct drive_config drive; /* id is the drive_id */
			bool root;
		} drive;
		struct {
			char id[API_ID_MAX];
			struct net_config net;
		} net;
	};
};

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
	void (*get_config)(void *ctx, struct api_config *cfg);
	/* Writes the members of the GET /vm/stats object (uptime, vCPU exits, RSS, devices) into j. */
	int (*get_stats)(void *ctx, struct json_out *j, struct errmsg *e);
	int (*get_regs)(void *ctx, unsigned vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs, struct errmsg *e);
};

/*
 * One request: the response body (NUL-terminated, empty for 204) goes to
 * out[0, cap) and the status to *status. Returns the body's length. cap of
 * API_BODY_MAX is always enough; a smaller one may turn an answer into a
 * 500 fault.
 */
int api_route(const struct api_backend *b, void *ctx, const struct http_request *req, char *out, size_t cap,
	      int *status);

/* A {"fault_message": msg} body; returns its length. */
int api_fault_body(char *out, size_t cap, const char *msg);

/* The defaults: no kernel, 1 vCPU, 512 MiB, nothing else. */
void api_config_init(struct api_config *cfg);
/* Applies one change; -EINVAL when it does not fit with the rest (a second root drive, a ninth drive, ...). */
int api_config_apply(struct api_config *cfg, const struct api_config_change *change, struct errmsg *e);
/* A `kvmini run` configuration, as GET /vm/config shows it. */
void api_config_from_vm(struct api_config *cfg, const struct vm_config *vm);
/*
 * The vm_config to boot; its strings point into cfg, and the root drive's
 * "root=/dev/vdX rw|ro" is added to the boot arguments in cmdline_buf.
 * -EINVAL without a kernel.
 */
int api_config_to_vm(const struct api_config *cfg, struct vm_config *vm, char *cmdline_buf, size_t cmdline_size,
		     struct errmsg *e);
/*
 * A Firecracker config file (--config-file): one object with "boot-source",
 * "machine-config", "drives" and "network-interfaces", applied to cfg.
 * -EINVAL naming the section and the problem.
 */
int api_config_parse_file(struct api_config *cfg, const char *text, size_t len, struct errmsg *e);
/* The configuration in that shape: GET /vm/config. Returns the length, or -ENOSPC. */
int api_config_format(const struct api_config *cfg, char *out, size_t cap);

#endif
