/* SPDX-License-Identifier: Apache-2.0 */
/* What a VM is made of, however it was asked for (command line now, the API later). */
#ifndef KVMINI_VM_CONFIG_H
#define KVMINI_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* The largest vCPU count kvmini describes: xAPIC IDs 0..253, the IOAPIC takes the next one. */
#define VM_MAX_CPUS 254

enum virtio_transport_kind {
	VIRTIO_TRANSPORT_PCI,  /* default: stock kernels find virtio-pci devices on their own */
	VIRTIO_TRANSPORT_MMIO, /* --transport mmio: declared in the DSDT, or on the command line with --no-acpi */
};

/*
 * Room for every device's own configuration (include/device.h:
 * device_config); the largest is virtio-blk's, its drive paths. A unit test
 * checks that every registered device's part fits.
 */
#define VM_DEVICE_CONFIG_BYTES (48 * 1024)

struct vm_config {
	const char *kernel_path;
	const char *initrd_path; /* NULL: none, or initrd_data */
	bool paths_from_api;     /* kernel_path and initrd_path were named by an API client: as path_from_api */
	const uint8_t *initrd_data; /* an initramfs already in memory (smoke's built-in one) */
	size_t initrd_size;
	const char *cmdline;     /* appended to the defaults; NULL: none */
	uint64_t mem_size;
	unsigned nr_cpus;
	bool acpi;
	bool hugepages;
	enum virtio_transport_kind transport;
	const char *api_sock; /* --api-sock: the control socket (include/api/server.h); not part of the guest */
	bool no_seccomp;      /* --no-seccomp: no system call filters (include/seccomp.h); not part of the guest */
	bool nested;          /* --nested on: the guest sees VMX/SVM and may run its own VMs */
	/* --uid, --gid, --chroot (include/jail.h): JAIL_KEEP_ID, JAIL_KEEP_ID and NULL unless given */
	uint32_t uid, gid;
	const char *chroot_dir;
	/* Each device's own configuration, zero until its options or API section fill it (device_config). */
	_Alignas(16) unsigned char device_configs[VM_DEVICE_CONFIG_BYTES];
};

#include "errmsg.h"

/*
 * A --mem value: a size of at least GUEST_MEM_MIN, at most host_ram, in whole
 * pages. -EINVAL with the message a user sees (it quotes the value).
 */
int vm_config_parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e);

/*
 * The virtio options, pure (nothing is opened here: the devices do that).
 * -EINVAL with a one-line message that quotes the option's value and names
 * the bad part; cfg is unchanged on error.
 */
/* One --drive value, appended to virtio-blk's configuration; the id defaults to "drive<index>". */
int vm_config_add_drive(struct vm_config *cfg, const char *arg, struct errmsg *e);
struct net_config;
/* One --net value on its own. */
int vm_config_parse_net(const char *arg, struct net_config *n, struct errmsg *e);
/* One --net value, appended to virtio-net's configuration; a tap may be named only once. */
int vm_config_add_net(struct vm_config *cfg, const char *arg, struct errmsg *e);
/* --transport pci|mmio */
int vm_config_parse_transport(const char *arg, enum virtio_transport_kind *transport, struct errmsg *e);
/* --console serial|virtio */
int vm_config_parse_console(const char *arg, bool *virtio_console, struct errmsg *e);
/* --nested on|off */
int vm_config_parse_nested(const char *arg, bool *nested, struct errmsg *e);

#endif
