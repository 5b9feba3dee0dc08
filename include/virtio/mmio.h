/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio version 2 (virtio 1.x, "Virtio Over MMIO"): each device gets a
 * 512-byte register window in the 3-4 GiB hole and one level-triggered IOAPIC
 * line. The guest finds the windows in the DSDT (_HID LNRO0005), and on the
 * kernel command line (virtio_mmio.device=) without ACPI or with
 * host->mmio_cmdline (kvmini daemon: for guests booted with acpi=off).
 *
 * The register logic below works on a struct virtio_mmio alone, so the unit
 * tests drive it without KVM.
 */
#ifndef KVMINI_VIRTIO_MMIO_H
#define KVMINI_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irq.h"
#include "log.h"

struct aml;
struct device_host;
struct virtio_dev;

/* Windows follow one another from here; virtio-pci's memory ends at 0xCFFFFFFF. */
#define VIRTIO_MMIO_BASE 0xd0000000u
#define VIRTIO_MMIO_WINDOW 0x200u
/*
 * Windows one VM may have: 16 drives and the other devices. Beyond the
 * IOAPIC's device lines they share them, as Linux's virtio_mmio allows
 * (its interrupt is requested shared, and reads InterruptStatus to see
 * whether the interrupt is its own).
 */
#define VIRTIO_MMIO_MAX_DEVICES 32

/* The device lines' levels where windows share them: a line is high while any of its windows wants it. */
struct virtio_mmio_lines {
	pthread_mutex_t lock; /* taken inside a window's dev->lock */
	unsigned raised[IRQ_LINE_LAST + 1]; /* by GSI: the windows driving it high */
};

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x494d564bu /* "KVMI" */

/* One device's window. */
struct virtio_mmio {
	const struct device_host *host;
	struct virtio_dev *dev;
	unsigned index; /* _UID and the ACPI name VRnn */
	uint32_t base;
	unsigned gsi;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	bool line; /* the level this window wants on gsi */
	struct virtio_mmio_lines *lines; /* the bus's, when gsi may be shared; NULL: the window's alone */
	struct log_limit log;
};

/* Makes m dev's transport; nothing is registered with KVM or the VM's bus. */
void virtio_mmio_setup(struct virtio_mmio *m, const struct device_host *host, struct virtio_dev *dev, unsigned index,
		       uint32_t base, unsigned gsi);
/*
 * A guest access at `offset` in the window, with dev->lock held. Registers
 * take aligned 32-bit accesses only; the configuration space at 0x100 any
 * width. Anything else reads as 0, is ignored and logged (rate-limited).
 */
void virtio_mmio_access(struct virtio_mmio *m, uint64_t offset, uint8_t *data, unsigned size, bool is_write);
/* Drives the IRQ line to the state of the ISR bits (raised while any is set). dev->lock held. */
void virtio_mmio_update_line(struct virtio_mmio *m);

/* The kernel parameter that announces a window without ACPI; returns what snprintf returns. */
int virtio_mmio_cmdline_param(char *buf, size_t size, uint32_t base, unsigned gsi);
/* Device (VRnn) { _HID "LNRO0005", _UID index, _CRS { Memory32Fixed, Interrupt (Level, ActiveHigh) } }. */
int virtio_mmio_describe_acpi(struct aml *aml, unsigned index, uint32_t base, unsigned gsi);

#endif
