// SPDX-License-Identifier: Apache-2.0
/* The options more than one command takes, declared once (include/commands.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "boot/cmdline.h"
#include "commands.h"
#include "jail.h"
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

const struct option_spec boot_options[] = {
	{ "kernel", 0, "PATH", "a bzImage, or an ELF vmlinux with a PVH entry point", parse_kernel, AT(kernel_path) },
	{ "initrd", 0, "PATH", "an initramfs to load with it", parse_initrd, AT(initrd_path) },
	{ "cmdline", 0, "STR", "kernel parameters, added to \"" CMDLINE_DEFAULTS "\"\n"
	  "(a parameter given here replaces the default of the same name)", parse_cmdline, AT(cmdline) },
	{ "no-acpi", 0, NULL, "describe the machine with an MP table instead of ACPI", option_clear, AT(acpi) },
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
