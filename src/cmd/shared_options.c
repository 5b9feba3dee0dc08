// SPDX-License-Identifier: Apache-2.0
/* The options more than one command takes, declared once (include/commands.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "boot/cmdline.h"
#include "commands.h"
#include "exec/guest.h"
#include "jail.h"
#include "kv.h"
#include "parse.h"
#include "vm_config.h"

#define AT(field) offsetof(struct vm_config, field)

/* Into one of the vm_config's buffers: a value that does not fit is refused, never cut (as the API does). */
static int copy_value(const char *option, char *dst, size_t size, const char *value, struct errmsg *e)
{
	size_t len = strlen(value);

	if (len >= size)
		return errmsg_set(e, EINVAL, "--%s must be at most %zu bytes long", option, size - 1);
	memcpy(dst, value, len + 1);
	return 0;
}

/* An empty path would read as "not given" (vm_config.h). */
static int copy_path(const char *option, char *dst, const char *value, struct errmsg *e)
{
	if (!value[0])
		return errmsg_set(e, EINVAL, "--%s: the path is empty", option);
	return copy_value(option, dst, VM_PATH_MAX, value, e);
}

static int parse_kernel(void *dst, const char *value, struct errmsg *e)
{
	return copy_path("kernel", dst, value, e);
}

static int parse_initrd(void *dst, const char *value, struct errmsg *e)
{
	return copy_path("initrd", dst, value, e);
}

static int parse_cmdline(void *dst, const char *value, struct errmsg *e)
{
	return copy_value("cmdline", dst, VM_CMDLINE_MAX, value, e);
}

const struct option_spec kernel_options[] = {
	{ "kernel", 0, "PATH", "a bzImage, or an ELF vmlinux with a PVH entry point", parse_kernel, AT(kernel_path) },
	{ .name = NULL },
};

const struct option_spec initrd_options[] = {
	{ "initrd", 0, "PATH", "an initramfs to load with it", parse_initrd, AT(initrd_path) },
	{ .name = NULL },
};

const struct option_spec boot_options[] = {
	{ "cmdline", 0, "STR", "kernel parameters, added to \"" CMDLINE_DEFAULTS "\"\n"
	  "(a parameter given here replaces the default of the same name)", parse_cmdline, AT(cmdline) },
	{ "no-acpi", 0, NULL, "describe the machine with an MP table instead of ACPI", option_clear, AT(acpi) },
	{ .name = NULL },
};

static int parse_mem(void *args, const char *value, struct errmsg *e)
{
	struct machine_args *a = args;

	return vm_config_parse_mem(value, a->host_ram, &a->cfg->mem_size, e);
}

static int parse_cpus(void *args, const char *value, struct errmsg *e)
{
	struct machine_args *a = args;
	uint64_t cpus;

	if (parse_uint(value, 1, VM_MAX_CPUS, &cpus))
		return errmsg_set(e, EINVAL, "--cpus '%s': must be a number from 1 to %d", value, VM_MAX_CPUS);
	a->cfg->nr_cpus = cpus;
	return 0;
}

static int parse_hugepages(void *args, const char *value, struct errmsg *e)
{
	struct machine_args *a = args;

	return option_set(&a->cfg->hugepages, value, e);
}

static int parse_transport(void *args, const char *value, struct errmsg *e)
{
	struct machine_args *a = args;

	return vm_config_parse_transport(value, &a->cfg->transport, e);
}

const struct option_spec machine_options[] = {
	{ "mem", 0, "SIZE", "guest RAM, e.g. 512M or 2G (default 512M, at least 64M)", parse_mem, 0 },
	{ "cpus", 0, "N", "vCPUs (default 1, at most " OPTION_TEXT(VM_MAX_CPUS) ")", parse_cpus, 0 },
	{ "hugepages", 0, NULL, "back guest RAM with huge pages", parse_hugepages, 0 },
	{ "transport", 0, "pci|mmio", "virtio devices as PCI functions (default) or virtio-mmio windows",
	  parse_transport, 0 },
	{ .name = NULL },
};

/* --rootfs DIR[,readonly=on|off]: the directory is the value up to the first comma, then keys (include/kv.h). */
static const char *const rootfs_keys[] = { "readonly" };

static int parse_rootfs(void *root, const char *value, struct errmsg *e)
{
	struct guest_root *r = root;
	static char dir[VM_PATH_MAX];
	size_t len = strcspn(value, ",");
	const char *pos = value[len] ? value + len + 1 : NULL;
	unsigned seen = 0;
	int err = 0;

	if (!len || len >= sizeof(dir))
		return errmsg_set(e, EINVAL, "--rootfs '%s': the directory must be 1 to %zu bytes long", value,
				  sizeof(dir) - 1);
	memcpy(dir, value, len);
	dir[len] = 0;
	r->dir = dir;
	r->readonly = false;
	while (pos && !err) {
		struct kv_item it;

		err = kv_next(&pos, &it, e);
		err = err ?: kv_key(&it, rootfs_keys, 1, &seen, e) < 0 ? -EINVAL : 0;
		err = err ?: kv_choice(&it, "off", "on", &r->readonly, e);
	}
	return err ? kv_option_error(e, "--rootfs", value) : 0;
}

const struct option_spec rootfs_options[] = {
	{ "rootfs", 0, "DIR[,readonly=on|off]", "a host directory as the guest's root file system, shared with\n"
	  "virtio-fs and started by kvmini's own init (exec: always read-only)", parse_rootfs, 0 },
	{ "modules", 0, "DIR", "the guest kernel's modules (a modules_install tree, or DIR/lib/modules/RELEASE);\n"
	  "default /lib/modules/RELEASE of the kernel, when it exists", option_string,
	  offsetof(struct guest_root, modules) },
	{ .name = NULL },
};

static int parse_nested(void *nested, const char *value, struct errmsg *e)
{
	return vm_config_parse_nested(value, nested, e);
}

static int parse_uid(void *uid, const char *value, struct errmsg *e)
{
	return jail_parse_id("--uid", value, uid, e);
}

static int parse_gid(void *gid, const char *value, struct errmsg *e)
{
	return jail_parse_id("--gid", value, gid, e);
}

const struct option_spec host_options[] = {
	{ "api-sock", 0, "PATH", "serve the control API (Firecracker's, docs/api.md) on this Unix socket\n"
	  "(mode 0600, a stale one replaced), for kvmini pause|resume|stop|status|stats|regs\n"
	  "--sock PATH or curl --unix-socket PATH", option_string, AT(api_sock) },
	{ "nested", 0, "on|off", "let the guest see VMX/SVM and run VMs of its own (default off)", parse_nested,
	  AT(nested) },
	{ "uid", 0, "N", "started as root: run as this user, with no supplementary groups, once\n"
	  "every file is open (needs --gid)", parse_uid, AT(uid) },
	{ "gid", 0, "N", "and as this group (needs --uid)", parse_gid, AT(gid) },
	{ "chroot", 0, "DIR", "and change the root to DIR first (needs --uid and --gid)", option_string,
	  AT(chroot_dir) },
	{ .name = NULL },
};

const struct option_spec seccomp_options[] = {
	{ "no-seccomp", 0, NULL, "no per-thread system call filters (docs/security.md); for debugging", option_set,
	  AT(no_seccomp) },
	{ .name = NULL },
};

const struct option_spec verbose_options[] = {
	{ "verbose", 'v', NULL, "say more about what kvmini does", option_set, 0 },
	{ .name = NULL },
};
