/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's side of the configuration model: a config file and the API
 * fill the vm_config (kvmini daemon) section by section
 * (include/api/section.h), and GET /vm/config shows it (kvmini run
 * --api-sock too). The vm_config is the whole model; nothing is copied.
 */
#ifndef KVMINI_API_CONFIG_H
#define KVMINI_API_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/section.h"
#include "errmsg.h"
#include "log.h"
#include "metrics.h"
#include "vm_config.h"

/* Enough for any guest this host can hold; the real bound (host RAM) is checked when the VM is made. */
#define API_MEM_MIB_MAX (1ULL << 30)

/* Firecracker's vCPU limit for the API and the config file (kvmini run --cpus keeps VM_MAX_CPUS). */
#define API_VCPUS_MAX 32

/* machine-config's item: PATCH /machine-config makes one from what is configured and what it changes. */
struct api_machine {
	unsigned vcpu_count;
	uint64_t mem_size_mib;
	bool smt;               /* two threads per core in the CPUID topology */
	bool track_dirty_pages; /* KVM dirty logging on guest memory */
	bool hugepages;         /* huge_pages "2M" */
};

extern const struct device_api api_machine_config;

/*
 * A machine-config object into *m: PUT's, both counts required, with current
 * NULL; PATCH's otherwise, where a field not given keeps current's. Either
 * way at least one field, cpu_template only "None", an odd vcpu_count above
 * 1 not with smt.
 */
int api_machine_read(const char *json, size_t len, const struct api_machine *current, struct api_machine *m,
		     struct errmsg *e);

/*
 * PUT /logger's and PUT /metrics' bodies (Firecracker's Logger and Metrics
 * objects), which a config file's "logger" and "metrics" take too. Not
 * sections: they set up the process's log and metrics files at once
 * (include/log.h, include/metrics.h) and are not part of GET /vm/config,
 * as in Firecracker. The strings live in the struct.
 */
struct api_logger {
	struct log_file_config c;
	char path[VM_PATH_MAX], level[16], module[256];
};
int api_logger_read(const char *json, size_t len, struct api_logger *l, struct errmsg *e);
struct api_metrics {
	struct metrics_config c;
	char path[VM_PATH_MAX];
};
/* Firecracker's operator-defined "properties" are refused: kvmini's lines do not carry them yet. */
int api_metrics_read(const char *json, size_t len, struct api_metrics *m, struct errmsg *e);

/* One item of section from its JSON text, checked on its own (what its parse needs is zeroed first). */
int api_config_parse(const struct device_api *section, const char *json, size_t len, struct api_config_change *c,
		     struct errmsg *e);
/* What a section's put, patch_config and format work on: the device's part of cfg, or for the core's the whole. */
void *api_section_config(const struct vm_config *cfg, const struct device_api *section);
/* Applies one item with its section's put; -EINVAL when it does not fit with the rest. */
int api_config_apply(struct vm_config *cfg, const struct api_config_change *change, struct errmsg *e);
/* Whether InstanceStart can boot cfg: -EINVAL, saying what to PUT, without a kernel. */
int api_config_startable(const struct vm_config *cfg, struct errmsg *e);
/*
 * A Firecracker config file (--config-file): one object whose members are
 * sections ("boot-source", "drives", ...), applied to cfg, and "logger" and
 * "metrics", set up at once. -EINVAL naming the section and the problem.
 */
int api_config_parse_file(struct vm_config *cfg, const char *text, size_t len, struct errmsg *e);
/* The configuration as one object of its sections: GET /vm/config. Returns the length, or -ENOSPC. */
int api_config_format(const struct vm_config *cfg, char *out, size_t cap);

#endif
