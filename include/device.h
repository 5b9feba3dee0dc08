/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device is one record (struct device_ops) that owns everything about it:
 * its options, its configuration, its API section, its ACPI text, its stats,
 * pause/resume and save/restore. It sees the VM only through struct
 * device_host, so no device includes vm.h and the core names no device.
 *
 * Devices register themselves with DEVICE_REGISTER(ops); devices_init makes
 * them in ascending `level` order against one host and devices_exit tears
 * them down in reverse, so no device is wired by hand.
 */
#ifndef KVMINI_DEVICE_H
#define KVMINI_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "vm_config.h" /* enum virtio_transport_kind */

struct aml;
struct console;
struct guest_mem;
struct io_bus;
struct io_thread;
struct device_ops;
struct option_spec;  /* include/options.h */
struct device_api;   /* include/api/section.h */
struct state_writer; /* include/state.h */
struct api_config_change; /* include/api/section.h */
struct json_out;     /* include/api/json.h */
struct state_reader;

enum device_level {
	DEVICE_LEVEL_PLATFORM = 10, /* power, reset, keyboard controller */
	DEVICE_LEVEL_BUS = 15,      /* PCI host bridge, virtio-mmio windows: before the devices on them */
	DEVICE_LEVEL_CONSOLE = 20,
	DEVICE_LEVEL_VIRTIO = 30,   /* virtio devices, attached to the bus the VM's transport names */
	DEVICE_LEVEL_LATE = 40,     /* legacy: claims the probed ports nobody else claimed */
};

/* What a device tells the VM about the guest. */
enum device_event {
	DEVICE_EVENT_POWEROFF,     /* ACPI S5 */
	DEVICE_EVENT_REBOOT,       /* the reset line (i8042) */
	DEVICE_EVENT_PANIC,        /* pvpanic */
	DEVICE_EVENT_INIT_STARTED, /* the boot-timer port's first write */
};

/* The VM's side of the host interface: src/vm.c implements it, tests/common/fake_vm.c fakes it. */
struct device_host_ops {
	/* Level of an IOAPIC/PIC line (serial IRQ 4, i8042 IRQ 1, INTx, virtio-mmio lines). */
	int (*irq_line)(void *vm, unsigned irq, bool level);
	/* A free device line (IRQ_LINE_FIRST..IRQ_LINE_LAST) or -ENOSPC. */
	int (*irq_alloc_line)(void *vm);
	/* MSI routes (virtio-pci MSI-X): a new one's GSI, or a change to one; and irqfds onto a GSI. */
	int (*irq_alloc_msi)(void *vm, uint64_t address, uint32_t data);
	int (*irq_set_msi)(void *vm, unsigned gsi, uint64_t address, uint32_t data);
	int (*irqfd)(void *vm, int fd, unsigned gsi, bool assign);
	/* A guest write of `len` bytes at addr (matching datamatch if `match`) signals fd instead of exiting. */
	int (*ioeventfd)(void *vm, uint64_t addr, unsigned len, bool pio, bool match, uint64_t datamatch, int fd,
			 bool assign);
	/* Lets the host batch writes to a port (-ENOTSUP when it cannot). */
	int (*coalesce_pio)(void *vm, uint16_t port, unsigned len);
	/* A kernel parameter for the guest (virtio_mmio.device=...); -E2BIG when there is no room. */
	int (*append_cmdline)(void *vm, const char *param);
	/* The guest powered off, reset, panicked, or its init started; `how` says what told us. */
	void (*event)(void *vm, enum device_event event, const char *how);
	/* A pause was asked for: devices working outside the I/O thread leave guest memory alone. */
	bool (*pause_requested)(void *vm);
	/* The data of another device by its record (a transport finding its bus), NULL if it has none. */
	void *(*find)(void *vm, const struct device_ops *ops);
	/* Guest RAM [gpa, gpa+len) the guest gave up (the balloon), back to the host: guest_mem_discard. */
	int (*discard_ram)(void *vm, uint64_t gpa, uint64_t len);
};

/* Everything a device may use of the VM. */
struct device_host {
	const struct device_host_ops *ops;
	void *vm; /* opaque: the first argument of every op */
	struct io_bus *pio, *mmio;
	struct guest_mem *mem;
	struct io_thread *io;
	struct console *console;
	/* Facts about the machine that decide how devices present themselves. */
	bool acpi;                            /* false: --no-acpi (MP table, devices on the command line) */
	enum virtio_transport_kind transport; /* the bus virtio devices go on */
	bool mmio_cmdline;                    /* virtio-mmio on the command line too (vm_config.h) */
	unsigned nr_cpus;
};

/* Short forms for devices: host_irq_line(h, 4, true) rather than h->ops->irq_line(h->vm, 4, true). */
static inline int host_irq_line(const struct device_host *h, unsigned irq, bool level)
{
	return h->ops->irq_line(h->vm, irq, level);
}
static inline int host_irq_alloc_line(const struct device_host *h)
{
	return h->ops->irq_alloc_line(h->vm);
}
static inline int host_irq_alloc_msi(const struct device_host *h, uint64_t address, uint32_t data)
{
	return h->ops->irq_alloc_msi(h->vm, address, data);
}
static inline int host_irq_set_msi(const struct device_host *h, unsigned gsi, uint64_t address, uint32_t data)
{
	return h->ops->irq_set_msi(h->vm, gsi, address, data);
}
static inline int host_irqfd(const struct device_host *h, int fd, unsigned gsi, bool assign)
{
	return h->ops->irqfd(h->vm, fd, gsi, assign);
}
static inline int host_ioeventfd(const struct device_host *h, uint64_t addr, unsigned len, bool pio, bool match,
				 uint64_t datamatch, int fd, bool assign)
{
	return h->ops->ioeventfd(h->vm, addr, len, pio, match, datamatch, fd, assign);
}
static inline int host_coalesce_pio(const struct device_host *h, uint16_t port, unsigned len)
{
	return h->ops->coalesce_pio(h->vm, port, len);
}
static inline int host_append_cmdline(const struct device_host *h, const char *param)
{
	return h->ops->append_cmdline(h->vm, param);
}
static inline void host_event(const struct device_host *h, enum device_event event, const char *how)
{
	h->ops->event(h->vm, event, how);
}
static inline bool host_pause_requested(const struct device_host *h)
{
	return h->ops->pause_requested(h->vm);
}
static inline void *host_find(const struct device_host *h, const struct device_ops *ops)
{
	return h->ops->find(h->vm, ops);
}

static inline int host_discard_ram(const struct device_host *h, uint64_t gpa, uint64_t len)
{
	return h->ops->discard_ram(h->vm, gpa, len);
}

/* The most drop reasons one device's stats row carries. */
#define DEVICE_DROP_REASONS_MAX 12

/* A device's counters for GET /vm/stats. */
struct device_stats {
	char name[24];          /* "virtio-blk0" */
	uint64_t notifications; /* queue notifications the device took */
	uint64_t bytes_from_guest, bytes_to_guest; /* through its queues, each way */
	uint64_t throttled;     /* times a queue waited for its rate limiter */
	/* A drive's: its I/O engine ("io_uring" or "threads"; NULL for other devices), requests now and done. */
	const char *engine;
	uint64_t in_flight, completed;
	unsigned nr_drops;      /* reasons the device counts dropped frames or requests by (virtio-net) */
	struct device_drop {
		const char *reason; /* static: "csum_outside_frame" */
		uint64_t count;
	} drops[DEVICE_DROP_REASONS_MAX];
};

struct device_ops {
	const char *name;
	int level;

	/*
	 * Its configuration: config_size bytes inside struct vm_config, all
	 * zero until its options or API section fill them; 0 when it has none.
	 */
	size_t config_size;
	/* Its command-line options (NULL-name terminated), parsed into its configuration. */
	const struct option_spec *options;
	/* Its section of the API and the config file, if any. */
	const struct device_api *api;

	/* Claims ports/MMIO/lines through host (kept: it outlives the device); its state in *data (may stay NULL). */
	int (*init)(const struct device_host *host, const void *config, void **data, struct errmsg *e);
	void (*exit)(void *data);
	/* Optional: declares the device in the ACPI DSDT (inside \_SB). */
	int (*describe_acpi)(void *data, struct aml *aml);
	/* Optional: its counters, at most max rows; returns how many. */
	unsigned (*stats)(void *data, struct device_stats *rows, unsigned max);
	/* Optional: the vCPUs are parked and the I/O thread stopped: finish or fence any other work; and undo that. */
	void (*pause)(void *data);
	void (*resume)(void *data);
	/* Optional: its guest-visible state, saved while paused; restored into a device init just made. */
	int (*save)(void *data, struct state_writer *w);
	int (*restore)(void *data, struct state_reader *r, struct errmsg *e);
	/* The format of what save writes, framed with it: a restore reads only its own version. */
	uint32_t state_version;
	/* Optional: presses and releases Ctrl-Alt-Del (the keyboard). */
	int (*ctrl_alt_del)(void *data);
	/*
	 * Optional: a kernel parameter its configuration asks for after the
	 * user's (the API's root drive: "root=/dev/vda rw") into out; its
	 * length, 0 for none.
	 */
	int (*boot_args)(const void *config, char *out, size_t size);
	/*
	 * Optional, for a device whose API section takes PATCH or GET after the
	 * start (include/api/section.h): both run on the I/O thread between two
	 * requests (io_thread_call), so they may touch the device's state.
	 * api_patch applies a parsed PATCH (c->id names the item, c->sub the
	 * sub-resource): -EINVAL with the client's message, an id it does not
	 * have included (Firecracker answers 400 for that too). api_get writes the members of GET /NAME[/SUB]'s
	 * object (sub "" or the section's sub).
	 */
	int (*api_patch)(void *data, const struct api_config_change *c, struct errmsg *e);
	int (*api_get)(void *data, const char *sub, struct json_out *j, struct errmsg *e);
};

struct device_instance {
	const struct device_ops *ops;
	void *data;
};

#define DEVICES_MAX 32

#define DEVICE_REGISTER(ops_)                                                                              \
	static const struct device_ops *const device_entry_##ops_                                          \
		__attribute__((used, section("kvmini_devices"), aligned(sizeof(void *)))) = &(ops_)

/*
 * The device's part of cfg: ops->config_size bytes, zero until its options
 * or API section set them; NULL for a device without configuration.
 */
void *device_config(struct vm_config *cfg, const struct device_ops *ops);
const void *device_config_const(const struct vm_config *cfg, const struct device_ops *ops);

/* Defines fn_(cfg) and fn_##_const(cfg): a device's configuration, typed, for its own code and tests. */
#define DEVICE_CONFIG_OF(type_, fn_, ops_)                                                                     \
	type_ *fn_(struct vm_config *cfg)                                                                      \
	{                                                                                                      \
		return device_config(cfg, &(ops_));                                                            \
	}                                                                                                      \
	const type_ *fn_##_const(const struct vm_config *cfg)                                                  \
	{                                                                                                      \
		return device_config_const(cfg, &(ops_));                                                      \
	}

/*
 * Orders records by level, keeping their registration (link) order within a
 * level, so that what the guest sees (PCI slots, the DSDT) never depends on
 * the sort. Exposed for its test.
 */
void devices_sort(const struct device_ops **order, size_t n);
/* Every registered record into out[DEVICES_MAX], in init order; returns how many (sorted only if they fit). */
/*
 * The guest's boot arguments: cfg->cmdline, then the parameters the
 * devices' configurations ask for (boot_args), in device order. -E2BIG when
 * they do not fit in size.
 */
int devices_boot_args(const struct vm_config *cfg, char *out, size_t size);
/* Room for what the devices add to the boot arguments (one root=). */
#define DEVICE_BOOT_ARGS_MAX 64
size_t devices_registered(const struct device_ops **out);
/* The registered record called name, NULL without one. */
const struct device_ops *device_find(const char *name);

/* A VM's devices: instances made against one host. */
struct device_set {
	unsigned nr;
	struct device_instance devices[DEVICES_MAX];
};

/* Makes every registered device; on failure undoes what it made. cfg is handed to each init. */
int devices_init(struct device_set *set, const struct device_host *host, const struct vm_config *cfg,
		 struct errmsg *e);
/* Makes one device into set (tests build a machine of chosen devices with it). */
int devices_add(struct device_set *set, const struct device_ops *ops, const struct device_host *host,
		const void *config, struct errmsg *e);
void devices_exit(struct device_set *set);
/* The data of the first instance of ops, NULL without one (device_host_ops.find). */
void *devices_find(const struct device_set *set, const struct device_ops *ops);
/* For the DSDT builder: set is a struct device_set. */
int devices_describe_acpi(struct aml *aml, void *set);
void devices_pause(struct device_set *set);
void devices_resume(struct device_set *set);
/* Every device's stats rows, in device order, at most max. */
unsigned devices_stats(struct device_set *set, struct device_stats *rows, unsigned max);
/* The instance whose record has the API section `api`, NULL without one (the API's PATCH and GET). */
struct device_instance *devices_find_api(struct device_set *set, const struct device_api *api);
/* The first device with a ctrl_alt_del hook presses it; -ENODEV without one. */
int devices_ctrl_alt_del(struct device_set *set);

#endif
