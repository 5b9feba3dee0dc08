/* SPDX-License-Identifier: Apache-2.0 */
/* What a VM is made of, however it was asked for (command line now, the API later). */
#ifndef KVMINI_VM_CONFIG_H
#define KVMINI_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* The largest vCPU count kvmini describes: xAPIC IDs 0..253, the IOAPIC takes the next one. */
#define VM_MAX_CPUS 254

/* What --drive, --net and friends can ask for. */
#define VM_MAX_DRIVES 8
#define VM_MAX_NETS 4
#define DRIVE_ID_MAX 20 /* VIRTIO_BLK_ID_BYTES */

enum virtio_transport_kind {
	VIRTIO_TRANSPORT_PCI,  /* default: stock kernels find virtio-pci devices on their own */
	VIRTIO_TRANSPORT_MMIO, /* --transport mmio: declared in the DSDT, or on the command line with --no-acpi */
};

/* --drive path=FILE[,readonly=on][,cache=none][,id=NAME] */
struct drive_config {
	char path[4096];
	char id[DRIVE_ID_MAX + 1]; /* VIRTIO_BLK_T_GET_ID; default "driveN" */
	bool readonly;
	bool direct; /* cache=none: O_DIRECT */
	bool path_from_api; /* named by an API client: it may not end in a symbolic link (include/open_file.h) */
};

/* --net tap=NAME[,mac=52:54:00:12:34:56] */
struct net_config {
	char tap[16]; /* IFNAMSIZ */
	uint8_t mac[6];
	bool mac_set; /* else one is generated */
};

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
	unsigned nr_drives;
	struct drive_config drives[VM_MAX_DRIVES];
	unsigned nr_nets;
	struct net_config nets[VM_MAX_NETS];
	bool rng;            /* --rng: virtio-rng */
	bool virtio_console; /* --console virtio: the host console on hvc0 (virtio-console) as well */
	const char *api_sock; /* --api-sock: the control socket (include/api/server.h); not part of the guest */
	bool no_seccomp;      /* --no-seccomp: no system call filters (include/seccomp.h); not part of the guest */
	bool nested;          /* --nested on: the guest sees VMX/SVM and may run its own VMs */
	/* --uid, --gid, --chroot (include/jail.h): JAIL_KEEP_ID, JAIL_KEEP_ID and NULL unless given */
	uint32_t uid, gid;
	const char *chroot_dir;
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
/* One --drive value, appended to cfg->drives; the id defaults to "drive<index>". */
int vm_config_add_drive(struct vm_config *cfg, const char *arg, struct errmsg *e);
/* One --net value, appended to cfg->nets; a tap may be named only once. */
int vm_config_add_net(struct vm_config *cfg, const char *arg, struct errmsg *e);
/* --transport pci|mmio */
int vm_config_parse_transport(const char *arg, enum virtio_transport_kind *transport, struct errmsg *e);
/* --console serial|virtio */
int vm_config_parse_console(const char *arg, bool *virtio_console, struct errmsg *e);
/* --nested on|off */
int vm_config_parse_nested(const char *arg, bool *nested, struct errmsg *e);

#endif
