// SPDX-License-Identifier: Apache-2.0
/*
 * The boot-timer port: a guest's init writes any byte here as soon as it
 * runs, so kvmini can measure process start to init itself, without parsing
 * console text (the idea of Firecracker's boot timer device).
 */
#include "device.h"
#include "devices/boot_timer.h"
#include "io_bus.h"

static void boot_timer_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	const struct device_host *host = opaque;

	(void)offset;
	if (!is_write) {
		for (unsigned i = 0; i < size; i++)
			data[i] = 0;
		return;
	}
	/* The host keeps the first report only: that is when init started. */
	host_event(host, DEVICE_EVENT_INIT_STARTED, "boot timer");
}

static int boot_timer_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	/* The handler only reports through the host, which outlives the device. */
	int err = io_bus_register(host->pio, BOOT_TIMER_PORT, 1, "boot-timer", boot_timer_io, (void *)host);

	(void)config;
	*data = NULL;
	return err ? errmsg_set(e, -err, "boot timer: port %#x is taken", BOOT_TIMER_PORT) : 0;
}

static const struct device_ops boot_timer_device = {
	.name = "boot-timer",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = boot_timer_init,
};
DEVICE_REGISTER(boot_timer_device);
