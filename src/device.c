// SPDX-License-Identifier: Apache-2.0
#include <errno.h>

#include "device.h"
#include "vm.h"

/* The linker gathers every DEVICE_REGISTER entry between these two symbols. */
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

size_t devices_registered(const struct device_ops **out)
{
	size_t n = (size_t)(__stop_kvmini_devices - __start_kvmini_devices);

	for (size_t i = 0; i < n && i < DEVICES_MAX; i++)
		out[i] = __start_kvmini_devices[i];
	if (n <= DEVICES_MAX)
		devices_sort(out, n);
	return n;
}

int devices_init(struct vm *vm, struct errmsg *e)
{
	const struct device_ops *order[DEVICES_MAX];
	size_t n = devices_registered(order);

	if (n > DEVICES_MAX)
		return errmsg_set(e, ENOSPC, "%zu devices registered, at most %d supported", n, DEVICES_MAX);

	for (size_t i = 0; i < n; i++) {
		struct device_instance *d = &vm->devices[vm->nr_devices];
		int err;

		d->ops = order[i];
		d->data = NULL;
		err = d->ops->init(vm, &d->data, e);
		if (err) {
			devices_exit(vm);
			return err;
		}
		vm->nr_devices++;
	}
	return 0;
}

void devices_exit(struct vm *vm)
{
	while (vm->nr_devices) {
		struct device_instance *d = &vm->devices[--vm->nr_devices];

		if (d->ops->exit)
			d->ops->exit(vm, d->data);
	}
}

int devices_describe_acpi(struct aml *aml, void *opaque)
{
	struct vm *vm = opaque;

	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct device_instance *d = &vm->devices[i];
		int err = d->ops->describe_acpi ? d->ops->describe_acpi(d->data, aml) : 0;

		if (err)
			return err;
	}
	return 0;
}
