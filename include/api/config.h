/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration the API and a config file build (kvmini daemon), or
 * show (kvmini run --api-sock): a vm_config and the strings it points to,
 * filled section by section (include/api/section.h).
 */
#ifndef KVMINI_API_CONFIG_H
#define KVMINI_API_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "api/section.h"
#include "errmsg.h"
#include "vm_config.h"

#define API_PATH_MAX 4096
#define API_BOOT_ARGS_MAX 2048
/* Enough for any guest this host can hold; the real bound (host RAM) is checked when the VM is made. */
#define API_MEM_MIB_MAX (1ULL << 30)

/* The strings live here; vm.kernel_path, vm.initrd_path and vm.cmdline stay NULL until api_config_to_vm. */
struct api_config {
	struct vm_config vm;
	char kernel_path[API_PATH_MAX];
	char initrd_path[API_PATH_MAX];
	char boot_args[API_BOOT_ARGS_MAX];
};

/* machine-config's item: PATCH /machine-config makes one from what is configured and what it changes. */
struct api_machine {
	unsigned vcpu_count;
	uint64_t mem_size_mib;
};

extern const struct device_api api_machine_config;

/*
 * A machine-config object into *m: PUT's, both counts required, with current
 * NULL; PATCH's otherwise, where a count not given keeps current's.
 */
int api_machine_read(const char *json, size_t len, const struct api_machine *current, struct api_machine *m,
		     struct errmsg *e);

/* The defaults: no kernel, 1 vCPU, 512 MiB, nothing else. */
void api_config_init(struct api_config *cfg);
/* One item of section from its JSON text, checked on its own (what its parse needs is zeroed first). */
int api_config_parse(const struct device_api *section, const char *json, size_t len, struct api_config_change *c,
		     struct errmsg *e);
/* Applies one item with its section's put; -EINVAL when it does not fit with the rest. */
int api_config_apply(struct api_config *cfg, const struct api_config_change *change, struct errmsg *e);
/* A `kvmini run` configuration, as GET /vm/config shows it. */
void api_config_from_vm(struct api_config *cfg, const struct vm_config *vm);
/*
 * The vm_config to boot; its strings point into cfg, and what the sections
 * ask the kernel for (the root drive's "root=/dev/vdX rw|ro") is added to
 * the boot arguments in cmdline_buf.
 * -EINVAL without a kernel.
 */
int api_config_to_vm(const struct api_config *cfg, struct vm_config *vm, char *cmdline_buf, size_t cmdline_size,
		     struct errmsg *e);
/*
 * A Firecracker config file (--config-file): one object whose members are
 * sections ("boot-source", "drives", ...), applied to cfg. -EINVAL naming
 * the section and the problem.
 */
int api_config_parse_file(struct api_config *cfg, const char *text, size_t len, struct errmsg *e);
/* The configuration as one object of its sections: GET /vm/config. Returns the length, or -ENOSPC. */
int api_config_format(const struct api_config *cfg, char *out, size_t cap);

#endif
