// SPDX-License-Identifier: Apache-2.0
#include "boot/acpi.h"
#include "device.h"
#include "devices/power.h"
#include "io_bus.h"

#define SLP_TYP(v) (((v) >> 2) & 7)

static void power_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	const struct device_host *host = opaque;

	if (!is_write) {
		/* No wake events to report, and the control register reads back as zero. */
		for (unsigned i = 0; i < size; i++)
			data[i] = 0;
		return;
	}
	if (offset == 0 && (data[0] & ACPI_SLEEP_CTL_SLP_EN) && SLP_TYP(data[0]) == ACPI_SLEEP_TYP_S5)
		host_event(host, DEVICE_EVENT_POWEROFF, "ACPI S5");
}

static int power_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	/* The handler only reports through the host, which outlives the device. */
	int err = io_bus_register(host->pio, POWER_SLEEP_CTL_PORT, 2, "acpi-sleep", power_io, (void *)host);

	(void)config;
	*data = NULL;
	return err ? errmsg_set(e, -err, "ACPI sleep registers: port %#x is taken", POWER_SLEEP_CTL_PORT) : 0;
}

static const struct device_ops power_device = {
	.name = "acpi-sleep",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = power_init,
};
DEVICE_REGISTER(power_device);
