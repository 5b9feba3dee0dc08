// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "smoke/cell.h"
#include "virtio/console.h"

#define BZIMAGE_IN_TREE "arch/x86/boot/bzImage"

int cell_vmlinux_beside(const char *bzimage, char *out, size_t size)
{
	size_t len = strlen(bzimage), tail = strlen(BZIMAGE_IN_TREE);
	int n;

	/* The tail must be whole path components: "xarch/x86/boot/bzImage" is not in a tree. */
	if (len < tail || strcmp(bzimage + len - tail, BZIMAGE_IN_TREE) ||
	    (len > tail && bzimage[len - tail - 1] != '/'))
		return -ENOENT;
	n = snprintf(out, size, "%.*svmlinux", (int)(len - tail), bzimage);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Whether the user's boot arguments set console= themselves (a word of its own, not e.g. earlyconsole=). */
static bool names_console(const char *cmdline)
{
	for (const char *p = cmdline; (p = strstr(p, "console=")); p++)
		if (p == cmdline || p[-1] == ' ' || p[-1] == '\t')
			return true;
	return false;
}

int cell_config(const struct vm_config *base, const struct matrix_cell *c, const char *kernel, const char *vmlinux,
		struct vm_config *cfg, struct errmsg *e)
{
	memcpy(cfg, base, sizeof(*cfg));
	cfg->nr_cpus = c->cpus;
	cfg->mem_size = c->mem;
	cfg->transport = c->axis[MATRIX_TRANSPORT] ? VIRTIO_TRANSPORT_MMIO : VIRTIO_TRANSPORT_PCI;
	cfg->acpi = c->axis[MATRIX_ACPI] == 0;
	if (c->axis[MATRIX_BOOT] && (!vmlinux || !vmlinux[0]))
		return errmsg_set(e, EINVAL, "--boot pvh needs the ELF vmlinux of %s: give --vmlinux FILE", kernel);
	if (c->axis[MATRIX_BOOT])
		kernel = vmlinux;
	if (strlen(kernel) >= sizeof(cfg->kernel_path))
		return errmsg_set(e, EINVAL, "'%.40s...': the kernel path is too long", kernel);
	strcpy(cfg->kernel_path, kernel);
	if (c->axis[MATRIX_CONSOLE]) {
		size_t len = strlen(cfg->cmdline);
		static const char hvc[] = "console=hvc0";

		vcon_config_of(cfg)->enabled = true;
		if (!names_console(cfg->cmdline)) {
			/* A console= of the user's own replaces the default console=ttyS0 (cmdline_build). */
			if (len + 1 + sizeof(hvc) > sizeof(cfg->cmdline))
				return errmsg_set(e, E2BIG, "--cmdline: no room left for %s", hvc);
			snprintf(cfg->cmdline + len, sizeof(cfg->cmdline) - len, "%s%s", len ? " " : "", hvc);
		}
	}
	return 0;
}
