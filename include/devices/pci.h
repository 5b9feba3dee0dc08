/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI bus 0: a host bridge at 00:00.0, type-1 configuration access through
 * ports 0xCF8 (address) and 0xCFC-0xCFF (data), and up to PCI_SLOTS - 1
 * single-function devices, each with a 256-byte configuration space.
 *
 * Memory BARs are placed in a window in the 3-4 GiB hole before the guest
 * starts, as firmware would, so Linux keeps them where they are. The whole
 * window is one range on the VM's MMIO bus and accesses are dispatched
 * through the BARs' current addresses, so a BAR the guest moves inside the
 * window keeps working; one moved outside it stops decoding.
 *
 * Present only with the PCI virtio transport; the DSDT then declares
 * \_SB.PCI0 (PNP0A03) with its resources and interrupt routing (_PRT).
 *
 * Locking: the bus lock guards configuration space and the BAR table; the
 * function hooks marked "bus lock held" may take the function's own lock
 * (order: bus, then function).
 */
#ifndef KVMINI_DEVICES_PCI_H
#define KVMINI_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"
#include "io_bus.h"
#include "log.h"

struct aml;
struct device_host;

#define PCI_SLOTS 32             /* bus 0 whole: slot 0 is the host bridge; 16 drives and the rest fit */
#define PCI_CONFIG_SPACE 256
#define PCI_BAR_COUNT 6
#define PCI_CONFIG_PORT 0xCF8    /* 0xCF8 address, 0xCFC-0xCFF data */
#define PCI_CONFIG_PORT_LEN 8
/* The memory window for BARs; virtio-mmio uses 0xD0000000 and up. */
#define PCI_MMIO_WINDOW 0xC0000000ULL
#define PCI_MMIO_WINDOW_SIZE 0x10000000ULL
/* INTx: the lines the bus gets from irq_alloc_line, shared by slot and pin with the usual swizzle. */
#define PCI_INTX_LINES 4

struct pci_function;

struct pci_function_ops {
	/* An access inside a memory BAR that decodes; offset is relative to the BAR. Bus lock not held. */
	void (*bar_access)(struct pci_function *fn, unsigned bar, uint64_t offset, uint8_t *data, unsigned size,
			   bool is_write);
	/* Optional: the BAR now decodes at new_addr (0: not at all) instead of old_addr. Bus lock held. */
	void (*bar_moved)(struct pci_function *fn, unsigned bar, uint64_t old_addr, uint64_t new_addr);
	/* Optional: the guest wrote configuration bytes [offset, offset + size). Bus lock held. */
	void (*config_written)(struct pci_function *fn, unsigned offset, unsigned size);
	/* Optional: frees what the function owns; called when the bus goes away. */
	void (*release)(struct pci_function *fn);
};

struct pci_function {
	const struct pci_function_ops *ops;
	void *opaque;
	uint8_t cfg[PCI_CONFIG_SPACE];
	uint8_t wmask[PCI_CONFIG_SPACE];    /* bits the guest may change */
	uint32_t bar_size[PCI_BAR_COUNT];   /* 32-bit memory BARs, a power of two; 0: unused */
	uint64_t bar_addr[PCI_BAR_COUNT];   /* where each BAR decodes now; 0: it does not */
	unsigned cap_end;                   /* where the next capability goes */
	/* Set by pci_bus_add. */
	unsigned slot;
	unsigned gsi;                       /* INTA's line */
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t config_address;            /* the 0xCF8 register */
	uint64_t next_bar;                  /* window allocation cursor */
	unsigned nr_lines;
	unsigned lines[PCI_INTX_LINES];
	struct pci_function host_bridge;
	struct pci_function *slots[PCI_SLOTS];
	struct log_limit log;
};

/* Configuration space fields, little-endian. */
uint32_t pci_cfg_read(const struct pci_function *fn, unsigned offset, unsigned size);
void pci_cfg_set(struct pci_function *fn, unsigned offset, unsigned size, uint32_t value);
/* Sets the guest-writable bits of a field. */
void pci_cfg_set_wmask(struct pci_function *fn, unsigned offset, unsigned size, uint32_t mask);

/* A type-0 header: ids, class (0xCCSSPP), revision, INTA; command bits memory, bus master, INTx disable. */
void pci_function_init(struct pci_function *fn, uint16_t vendor, uint16_t device, uint32_t class_code,
		       uint8_t revision);
/* Declares BAR `bar` as 32-bit, non-prefetchable memory of `size` bytes (a power of two, at least 16). */
int pci_function_add_bar(struct pci_function *fn, unsigned bar, uint32_t size);
/* Appends a capability of `len` bytes to the list; returns its offset, or -ENOSPC. */
int pci_function_add_cap(struct pci_function *fn, uint8_t id, unsigned len);

/* A bus with no devices but its host bridge; lines are the INTx GSIs (1..PCI_INTX_LINES of them). */
void pci_bus_init(struct pci_bus *bus, const unsigned *lines, unsigned nr_lines);
/* The GSI that INT(A + pin)# of the device in `slot` reaches (pin 0-3): the swizzle the _PRT and MP table state. */
unsigned pci_bus_intx_gsi(const struct pci_bus *bus, unsigned slot, unsigned pin);
/* Releases every function (their release hooks) and the bus lock. */
void pci_bus_exit(struct pci_bus *bus);
/* Claims the configuration ports and the memory window. */
int pci_bus_register(struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio, struct errmsg *e);
/*
 * Puts fn in the next free slot, places its BARs in the window (not yet
 * decoding: the guest turns on memory space in the command register) and
 * gives it its INTA line. Only while the VM is being built.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_function *fn, struct errmsg *e);
/*
 * For restoring a saved configuration space: the first byte of cfg that
 * differs from fn's in a bit the guest may not write (ids, capabilities,
 * BAR flags), or -1 when there is none.
 */
int pci_function_config_mismatch(const struct pci_function *fn, const uint8_t *cfg);
/*
 * Puts cfg (checked with pci_function_config_mismatch) into fn's
 * configuration space as guest writes would: the BARs decode where it says
 * and fn's config_written hook sees all of it. Takes the bus lock.
 */
void pci_function_restore(struct pci_bus *bus, struct pci_function *fn, const uint8_t *cfg);
/* \_SB.PCI0, for the DSDT. */
int pci_bus_describe(const struct pci_bus *bus, struct aml *aml);
/* The host bridge's record, and the host's PCI bus (NULL when it has none: the virtio transport is MMIO). */
extern const struct device_ops pci_host_device;
struct pci_bus *pci_bus_of(const struct device_host *host);

#endif
