// SPDX-License-Identifier: Apache-2.0
/* The pvpanic I/O port: a guest with the driver writes here when it panics, before its console says so. */
#include "boot/aml.h"
#include "device.h"
#include "io_bus.h"

#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED (1 << 0)
#define PVPANIC_CRASH_LOADED (1 << 1)

static void pvpanic_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	const struct device_host *host = opaque;

	(void)offset;
	if (!is_write) {
		/* The events we understand; the driver only reports those. */
		data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		for (unsigned i = 1; i < size; i++)
			data[i] = 0;
		return;
	}
	if (data[0] & PVPANIC_PANICKED)
		host_event(host, DEVICE_EVENT_PANIC, "pvpanic");
}

static int pvpanic_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	/* The handler only reports through the host, which outlives the device. */
	int err = io_bus_register(host->pio, PVPANIC_PORT, 1, "pvpanic", pvpanic_io, (void *)host);

	(void)config;
	*data = NULL;
	return err ? errmsg_set(e, -err, "pvpanic: port %#x is taken", PVPANIC_PORT) : 0;
}

/* Linux's pvpanic driver binds the device by _HID QEMU0001: one I/O port. */
static int pvpanic_describe(void *data, struct aml *aml)
{
	(void)data;
	aml_device(aml, "PEVT");
	aml_name_string(aml, "_HID", "QEMU0001");
	aml_resource_template(aml, "_CRS");
	aml_res_io(aml, PVPANIC_PORT, 1);
	aml_end(aml);
	return aml_end(aml);
}

static const struct device_ops pvpanic_device = {
	.name = "pvpanic",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = pvpanic_init,
	.describe_acpi = pvpanic_describe,
};
DEVICE_REGISTER(pvpanic_device);
