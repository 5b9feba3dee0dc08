// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "io_bus.h"

void io_bus_init(struct io_bus *bus, const char *kind)
{
	memset(bus, 0, sizeof(*bus));
	bus->kind = kind;
	bus->unhandled_log = (struct log_limit)LOG_LIMIT("unhandled I/O accesses", 8);
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const char *name, io_handler_fn handler,
		    void *opaque)
{
	if (!len || base + len < base)
		return -EINVAL;
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->nr_ranges == IO_BUS_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->nr_ranges++] = (struct io_range){
		.base = base, .len = len, .name = name, .handler = handler, .opaque = opaque,
	};
	return 0;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data, unsigned size, bool is_write)
{
	for (unsigned i = 0; i < bus->nr_ranges; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (addr < r->base || addr - r->base >= r->len)
			continue;
		if (r->handler) {
			r->handler(r->opaque, addr - r->base, data, size, is_write);
			return true;
		}
		if (!is_write)
			memset(data, 0xff, size);
		return true;
	}
	__atomic_fetch_add(&bus->unhandled_count, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, size);
	log_limited(&bus->unhandled_log, "unhandled %s %s at %#llx (%u bytes), answered as open bus", bus->kind,
		    is_write ? "write" : "read", (unsigned long long)addr, size);
	return false;
}
