// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest_mem.h"
#include "jail.h"
#include "parse.h"
#include "vm_config.h"

#define DEFAULT_MEM (512ULL << 20)

void vm_config_init(struct vm_config *cfg)
{
	cfg->mem_size = DEFAULT_MEM;
	cfg->nr_cpus = 1;
	cfg->acpi = true;
	cfg->uid = cfg->gid = JAIL_KEEP_ID;
}

int vm_config_parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e)
{
	int err = parse_size(arg, mem);

	if (err == -EINVAL)
		return errmsg_set(e, EINVAL, "--mem '%s': not a size (a number with K, M or G, e.g. 512M)", arg);
	if (err || *mem > host_ram)
		return errmsg_set(e, EINVAL, "--mem %s: more than this host's %llu MiB of RAM", arg,
				  (unsigned long long)(host_ram >> 20));
	if (*mem < GUEST_MEM_MIN)
		return errmsg_set(e, EINVAL, "--mem %s: below the minimum of 64M", arg);
	if (*mem & 0xfff)
		return errmsg_set(e, EINVAL, "--mem %s: not a whole number of 4 KiB pages", arg);
	return 0;
}

int vm_config_parse_transport(const char *arg, enum virtio_transport_kind *transport, struct errmsg *e)
{
	if (!strcmp(arg, "pci"))
		*transport = VIRTIO_TRANSPORT_PCI;
	else if (!strcmp(arg, "mmio"))
		*transport = VIRTIO_TRANSPORT_MMIO;
	else
		return errmsg_set(e, EINVAL, "--transport '%s': must be pci or mmio", arg);
	return 0;
}

int vm_config_parse_nested(const char *arg, bool *nested, struct errmsg *e)
{
	if (!strcmp(arg, "off"))
		*nested = false;
	else if (!strcmp(arg, "on"))
		*nested = true;
	else
		return errmsg_set(e, EINVAL, "--nested '%s': must be on or off", arg);
	return 0;
}
