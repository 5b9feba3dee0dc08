// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "device.h"

/* The linker gathers every DEVICE_REGISTER entry between these two symbols; nothing else reads them. */
extern const struct device_ops *const __start_kvmini_devices[];
extern const struct device_ops *const __stop_kvmini_devices[];

void devices_sort(const struct device_ops **order, size_t n)
{
	/* Insertion: a handful of entries, and stable, which qsort need not be. */
	for (size_t i = 1; i < n; i++) {
		const struct device_ops *d = order[i];
		size_t j = i;

		for (; j && order[j - 1]->level > d->level; j--)
			order[j] = order[j - 1];
		order[j] = d;
	}
}

/* Where ops's part of a vm_config starts: after every earlier record's, in link order, 16-byte aligned. */
static unsigned char *device_config_at(const struct vm_config *cfg, const struct device_ops *ops)
{
	size_t offset = 0;

	if (!ops->config_size)
		return NULL;
	for (const struct device_ops *const *d = __start_kvmini_devices; d < __stop_kvmini_devices; d++) {
		if (*d == ops)
			return offset + ops->config_size <= sizeof(cfg->device_configs)
				       ? (unsigned char *)cfg->device_configs + offset
				       : NULL;
		offset += ((*d)->config_size + 15) & ~(size_t)15;
	}
	return NULL;
}

void *device_config(struct vm_config *cfg, const struct device_ops *ops)
{
	return device_config_at(cfg, ops);
}

const void *device_config_const(const struct vm_config *cfg, const struct device_ops *ops)
{
	return device_config_at(cfg, ops);
}

int devices_boot_args(const struct vm_config *cfg, char *out, size_t size)
{
	char param[DEVICE_BOOT_ARGS_MAX];
	int used = snprintf(out, size, "%s", cfg->cmdline);

	for (const struct device_ops *const *d = __start_kvmini_devices; d < __stop_kvmini_devices; d++) {
		size_t len = (size_t)used;

		if (used < 0 || len >= size)
			break;
		if ((*d)->boot_args && (*d)->boot_args(device_config_const(cfg, *d), param, sizeof(param)) > 0)
			used = (int)len + snprintf(out + len, size - len, "%s%s", len ? " " : "", param);
	}
	return used < 0 || (size_t)used >= size ? -E2BIG : 0;
}

size_t devices_registered(const struct device_ops **out)
{
	size_t n = (size_t)(__stop_kvmini_devices - __start_kvmini_devices);

	for (size_t i = 0; i < n && i < DEVICES_MAX; i++)
		out[i] = __start_kvmini_devices[i];
	if (n <= DEVICES_MAX)
		devices_sort(out, n);
	return n;
}

const struct device_ops *device_find(const char *name)
{
	for (const struct device_ops *const *d = __start_kvmini_devices; d < __stop_kvmini_devices; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}

int devices_add(struct device_set *set, const struct device_ops *ops, const struct device_host *host,
		const void *config, struct errmsg *e)
{
	struct device_instance *d = &set->devices[set->nr];
	int err;

	if (set->nr == DEVICES_MAX)
		return errmsg_set(e, ENOSPC, "%s: more than %d devices", ops->name, DEVICES_MAX);
	d->ops = ops;
	d->data = NULL;
	if ((err = ops->init(host, config, &d->data, e)))
		return err;
	set->nr++;
	return 0;
}

int devices_init(struct device_set *set, const struct device_host *host, const struct vm_config *cfg,
		 struct errmsg *e)
{
	const struct device_ops *order[DEVICES_MAX];
	size_t n = devices_registered(order);

	set->nr = 0;
	if (n > DEVICES_MAX)
		return errmsg_set(e, ENOSPC, "%zu devices registered, at most %d supported", n, DEVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		int err = devices_add(set, order[i], host, device_config_const(cfg, order[i]), e);

		if (err) {
			devices_exit(set);
			return err;
		}
	}
	return 0;
}

void devices_exit(struct device_set *set)
{
	while (set->nr) {
		struct device_instance *d = &set->devices[--set->nr];

		if (d->ops->exit)
			d->ops->exit(d->data);
	}
}

void *devices_find(const struct device_set *set, const struct device_ops *ops)
{
	for (unsigned i = 0; i < set->nr; i++)
		if (set->devices[i].ops == ops)
			return set->devices[i].data;
	return NULL;
}

int devices_describe_acpi(struct aml *aml, void *opaque)
{
	struct device_set *set = opaque;

	for (unsigned i = 0; i < set->nr; i++) {
		const struct device_instance *d = &set->devices[i];
		int err = d->ops->describe_acpi ? d->ops->describe_acpi(d->data, aml) : 0;

		if (err)
			return err;
	}
	return 0;
}

void devices_pause(struct device_set *set)
{
	for (unsigned i = 0; i < set->nr; i++)
		if (set->devices[i].ops->pause)
			set->devices[i].ops->pause(set->devices[i].data);
}

void devices_resume(struct device_set *set)
{
	for (unsigned i = set->nr; i--;)
		if (set->devices[i].ops->resume)
			set->devices[i].ops->resume(set->devices[i].data);
}

unsigned devices_stats(struct device_set *set, struct device_stats *rows, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < set->nr && n < max; i++)
		if (set->devices[i].ops->stats)
			n += set->devices[i].ops->stats(set->devices[i].data, rows + n, max - n);
	return n;
}

int devices_ctrl_alt_del(struct device_set *set)
{
	for (unsigned i = 0; i < set->nr; i++)
		if (set->devices[i].ops->ctrl_alt_del)
			return set->devices[i].ops->ctrl_alt_del(set->devices[i].data);
	return -ENODEV;
}

struct device_instance *devices_find_api(struct device_set *set, const struct device_api *api)
{
	for (unsigned i = 0; i < set->nr; i++)
		if (set->devices[i].ops->api == api)
			return &set->devices[i];
	return NULL;
}
