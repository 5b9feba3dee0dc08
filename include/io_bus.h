/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatch of port I/O and MMIO exits to the device that claimed the address.
 * Ranges are registered while the VM is being built and never change while
 * vCPUs run, so lookups take no lock.
 */
#ifndef KVMINI_IO_BUS_H
#define KVMINI_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

/* offset is relative to the range's base; data is size bytes, little-endian. */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write);

struct io_range {
	uint64_t base;
	uint64_t len;
	const char *name;
	io_handler_fn handler; /* NULL: a known-absent device, answered as open bus without a log line */
	void *opaque;
};

#define IO_BUS_MAX_RANGES 64

struct io_bus {
	const char *kind; /* "port" or "MMIO", for messages */
	unsigned nr_ranges;
	struct io_range ranges[IO_BUS_MAX_RANGES];
	struct log_limit unhandled_log;
	uint64_t unhandled_count;
};

void io_bus_init(struct io_bus *bus, const char *kind);
/* -EEXIST when the range overlaps one already registered, -ENOSPC when the table is full. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_handler_fn handler,
		    void *opaque);
/* Unclaimed addresses read as all ones (open bus) and ignore writes. Returns whether a device claimed it. */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data, unsigned size, bool is_write);

#endif
