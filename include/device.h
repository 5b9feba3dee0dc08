/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Devices register themselves with DEVICE_REGISTER(ops); the core initialises
 * them in ascending `level` order once the VM exists and tears them down in
 * reverse, so no device is wired by hand in main.
 */
#ifndef KVMINI_DEVICE_H
#define KVMINI_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

struct vm;
struct aml;
struct virtio_dev;
struct option_spec;  /* include/options.h */
struct device_api;   /* include/api/section.h */
struct state_writer; /* include/state.h */
struct state_reader;

/* A device's counters for GET /vm/stats. */
struct device_stats {
	char name[24];          /* "virtio-blk0" */
	uint64_t notifications; /* queue notifications the device took */
	uint64_t bytes_from_guest, bytes_to_guest; /* through its queues, each way */
};

enum device_level {
	DEVICE_LEVEL_PLATFORM = 10, /* power, reset, legacy ports */
	DEVICE_LEVEL_BUS = 15,      /* PCI host bridge, virtio-mmio windows: before the devices on them */
	DEVICE_LEVEL_CONSOLE = 20,
	DEVICE_LEVEL_VIRTIO = 30,   /* virtio devices, attached to the bus the VM's transport names */
};

struct device_ops {
	const char *name;
	int level;
	/* Claims ports/MMIO, returns its state in *data. */
	int (*init)(struct vm *vm, void **data, struct errmsg *e);
	void (*exit)(struct vm *vm, void *data);
	/* Optional: declares the device in the ACPI DSDT (inside \_SB). */
	int (*describe_acpi)(void *data, struct aml *aml);
	/* Virtio kinds only: the index-th virtio device of this entry, NULL past the last. */
	struct virtio_dev *(*virtio_device)(void *data, unsigned index);

	/*
	 * Issue 12's record (being filled in; see docs/architecture.md):
	 * its configuration, config_size bytes inside struct vm_config, all zero
	 * until its options or API section fill them; its command-line options
	 * (NULL-name terminated); its API and config-file section.
	 */
	size_t config_size;
	const struct option_spec *options;
	const struct device_api *api;
	/* Optional: its counters, at most max rows; returns how many. */
	unsigned (*stats)(void *data, struct device_stats *rows, unsigned max);
	/* Optional: the vCPUs are parked and the I/O thread stopped: fence any other work; and undo that. */
	void (*pause)(void *data);
	void (*resume)(void *data);
	/* Optional: its guest-visible state, saved while paused; restored into a device init just made. */
	int (*save)(void *data, struct state_writer *w);
	int (*restore)(void *data, struct state_reader *r, struct errmsg *e);
	/* The format of what save writes, framed with it: a restore reads only its own version. */
	uint32_t state_version;
	/* Optional: presses and releases Ctrl-Alt-Del (the keyboard). */
	int (*ctrl_alt_del)(void *data);
};

struct device_instance {
	const struct device_ops *ops;
	void *data;
};

#define DEVICES_MAX 32

#define DEVICE_REGISTER(ops_)                                                                              \
	static const struct device_ops *const device_entry_##ops_                                          \
		__attribute__((used, section("kvmini_devices"), aligned(sizeof(void *)))) = &(ops_)

#include <stddef.h>

/*
 * Orders entries by level, keeping their registration (link) order within a
 * level, so that what the guest sees (PCI slots, the DSDT) never depends on
 * the sort. devices_init uses it; exposed for its test.
 */
void devices_sort(const struct device_ops **order, size_t n);
int devices_init(struct vm *vm, struct errmsg *e);
void devices_exit(struct vm *vm);
int devices_describe_acpi(struct aml *aml, void *vm);

#endif
