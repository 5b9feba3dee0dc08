/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a VM is made of, however it was asked for: run's and smoke's options,
 * the API and a config file (include/api/config.h) all fill this one struct.
 */
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
 * device_config); the largest are virtio-blk's and virtio-fs's, their paths. A unit test
 * checks that every registered device's part fits.
 */
#define VM_DEVICE_CONFIG_BYTES (160 * 1024)

/* The longest kernel or initrd path, and boot arguments, with their NULs: the API's limits. */
#define VM_PATH_MAX 4096
#define VM_CMDLINE_MAX 2048

struct vm_config {
	char kernel_path[VM_PATH_MAX]; /* "": not given yet */
	char initrd_path[VM_PATH_MAX]; /* "": none, or initrd_data */
	bool paths_from_api;     /* kernel_path and initrd_path were named by an API client: as path_from_api */
	const uint8_t *initrd_data; /* an initramfs already in memory (smoke's built-in one) */
	size_t initrd_size;
	char cmdline[VM_CMDLINE_MAX]; /* the boot arguments, appended to the defaults; "": none */
	uint64_t mem_size;
	unsigned nr_cpus;
	bool acpi;
	bool hugepages;          /* 2 MiB pages (MAP_HUGETLB): --hugepages, huge_pages "2M" */
	bool smt;                /* two threads per core in the topology the guest sees (the API's smt) */
	bool track_dirty_pages;  /* KVM_MEM_LOG_DIRTY_PAGES on guest memory, for diff snapshots (issue 15) */
	enum virtio_transport_kind transport;
	/*
	 * virtio-mmio windows announced on the kernel command line as well as in
	 * the DSDT (kvmini daemon): Firecracker's clients boot with pci=off and
	 * Kata's with acpi=off, and kernels built for Firecracker find devices
	 * there; kernels without VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) find
	 * them in the DSDT. A kernel with both ACPI and that option probes each
	 * window twice; the second probe fails (-EBUSY) with one line.
	 */
	bool mmio_cmdline;
	/*
	 * Platform tables chosen by the guest's boot arguments (kvmini daemon,
	 * for Firecracker's clients): acpi=off (Kata's) an MP table beside ACPI,
	 * where the guest finds its vCPUs and the IOAPIC; noapic (firectl's) the
	 * MP table alone, since Linux sets up no PIC under hardware-reduced ACPI.
	 */
	bool mptable_too;
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
 * The defaults (1 vCPU, 512 MiB, ACPI, no --uid or --gid) into cfg, which
 * must be zeroed already (static storage): only these fields are written, so
 * the pages of the device area stay untouched until a device's options fill them.
 */
void vm_config_init(struct vm_config *cfg);

/*
 * A --mem value: a size of at least GUEST_MEM_MIN, at most host_ram, in whole
 * pages. -EINVAL with the message a user sees (it quotes the value).
 */
int vm_config_parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e);

/*
 * The machine's options (the devices parse their own: include/device.h),
 * pure. -EINVAL with a one-line message that quotes the value.
 */
/* --transport pci|mmio */
int vm_config_parse_transport(const char *arg, enum virtio_transport_kind *transport, struct errmsg *e);
/* --nested on|off */
int vm_config_parse_nested(const char *arg, bool *nested, struct errmsg *e);

#endif
