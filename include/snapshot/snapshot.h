/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot and restore of a whole VM (docs/snapshot.md). Two files: the
 * state file (include/snapshot/format.h: the host it needs, each vCPU's and
 * the VM's KVM state, the devices' state, the configuration) and the memory
 * file, guest RAM as it is, sparse where the guest never wrote.
 *
 * Saving runs on the thread that owns the VM, while it is paused. Restoring
 * is in two steps: snapshot_read, before any VM exists, checks the state
 * file and fills the configuration from it (the daemon's InstanceStart path
 * then makes the VM from that configuration, with guest RAM mapped from the
 * memory file); vm_restore puts the saved state into that VM before any
 * vCPU runs. Either step fails with a one-line reason and changes nothing
 * that outlives it.
 */
#ifndef KVMINI_SNAPSHOT_SNAPSHOT_H
#define KVMINI_SNAPSHOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "snapshot/format.h"
#include "state.h"
#include "vm_config.h"

struct vm;

enum snapshot_type {
	SNAPSHOT_FULL, /* every page of guest RAM the guest wrote (holes where it is zero) */
	SNAPSHOT_DIFF, /* only the pages written since the last snapshot, into an existing memory file */
};

/* The largest state file kvmini reads: 254 vCPUs of ~20 KiB plus devices and configuration, with room. */
#define SNAPSHOT_STATE_MAX (64u << 20)

/*
 * Saves a paused VM (-EBUSY otherwise): the state file into state_fd
 * (written from offset 0 and truncated to its length) and guest RAM into
 * mem_fd. SNAPSHOT_FULL writes the whole file (truncated to the guest's RAM
 * size, all-zero pages left as holes); SNAPSHOT_DIFF needs the VM made with
 * track_dirty_pages (-EINVAL otherwise) and writes only the pages written
 * since the last snapshot (or since the start), at their offsets, over
 * mem_fd's existing contents: given the Full snapshot's memory file (or a
 * copy of it) the file becomes the later state. Either clears the record of
 * written pages. Returns 0 or a negative errno with a one-line message.
 */
int vm_snapshot(struct vm *vm, enum snapshot_type type, int state_fd, int mem_fd, struct errmsg *e);

/* A state file read and checked, ready for vm_restore. */
struct snapshot_image {
	uint8_t *blob; /* the state file's bytes; the sections point into it */
	size_t len;
	struct snapshot snap;
	int mem_fd;    /* the caller's: guest RAM is mapped from it (MAP_PRIVATE) */
};

/*
 * Reads the state file from state_fd (at most SNAPSHOT_STATE_MAX bytes),
 * checks its framing and CRC, fills cfg from its configuration section
 * (cfg as the daemon starts: vm_config_init and daemon_args_init), and
 * checks that mem_fd is a regular file as large as the guest's RAM. Does
 * not need KVM: the host check is vm_restore's. On success img owns the
 * blob (snapshot_image_free) and keeps mem_fd (not closed by it). On
 * failure -EINVAL (or another errno) with a one-line reason, img empty and
 * cfg as it was (a daemon whose load failed can still be configured).
 */
int snapshot_read(struct snapshot_image *img, int state_fd, int mem_fd, struct vm_config *cfg, struct errmsg *e);
void snapshot_image_free(struct snapshot_image *img);

/*
 * Into a VM just made by vm_create from snapshot_read's configuration, with
 * guest RAM mapped from img->mem_fd (vm_create_restored), before it starts:
 * checks the host (CPUID features, MSRs, XSAVE size), then sets every
 * vCPU's state, the irqchip, PIT and clock, and the devices' state. On
 * failure the VM must not run (the caller destroys it).
 */
int vm_restore(struct vm *vm, const struct snapshot_image *img, struct errmsg *e);

/*
 * The configuration section: what a restore needs to make the same VM and
 * reopen its backing files (drives, taps, the vsock socket): the machine
 * (vCPUs, memory, transport, ACPI, tables) and every device's section, as
 * GET /vm/config shows them. snapshot_config_read applies it to cfg as a
 * config file would: -EINVAL naming what does not fit (a backing file gone,
 * a device this build does not have, the vsock socket path taken), cfg
 * then as it was. A failed write sets w->err.
 */
#define SNAPSHOT_CONFIG_VERSION 1
void snapshot_config_write(const struct vm_config *cfg, struct state_writer *w);
int snapshot_config_read(const void *data, size_t len, uint16_t version, struct vm_config *cfg, struct errmsg *e);

#endif
