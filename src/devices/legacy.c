// SPDX-License-Identifier: Apache-2.0
/*
 * Ports a PC kernel probes at boot for hardware kvmini deliberately does not
 * have. They read as open bus like any unclaimed port, but are known and
 * expected, so they are not logged as unhandled. It goes last and claims
 * only what no device did (the PCI host bridge takes 0xcf8 when it exists).
 */
#include <errno.h>
#include <string.h>

#include "device.h"
#include "io_bus.h"

static const struct {
	uint16_t base, len;
	const char *name;
} absent_ports[] = {
	{ 0x2e, 2, "Super I/O configuration" },
	{ 0x4e, 2, "Super I/O configuration" },
	{ 0x70, 2, "CMOS RTC" },
	{ 0x80, 16, "POST and DMA page registers" },
	{ 0x92, 1, "system control port A" },
	{ 0xed, 1, "I/O delay port" },
	{ 0x170, 8, "secondary IDE" },
	{ 0x1f0, 8, "primary IDE" },
	{ 0x278, 3, "parallel port 2" },
	{ 0x2e8, 8, "COM4" },
	{ 0x2f8, 8, "COM2" },
	{ 0x378, 3, "parallel port 1" },
	{ 0x3b0, 48, "VGA" },
	{ 0x3e8, 8, "COM3" },
	{ 0x3f0, 8, "floppy controller" },
	{ 0xcf8, 8, "PCI configuration" },
};

static int legacy_init(const struct device_host *host, const void *config, void **data, struct errmsg *e)
{
	(void)config;
	*data = NULL;
	for (size_t i = 0; i < sizeof(absent_ports) / sizeof(absent_ports[0]); i++) {
		int err = io_bus_register(host->pio, absent_ports[i].base, absent_ports[i].len, absent_ports[i].name,
					  NULL, NULL);

		if (err && err != -EEXIST)
			return errmsg_set(e, -err, "%s: cannot claim port %#x: %s", absent_ports[i].name,
					  absent_ports[i].base, strerror(-err));
	}
	return 0;
}

static const struct device_ops legacy_device = {
	.name = "legacy-absent",
	.level = DEVICE_LEVEL_LATE,
	.init = legacy_init,
};
DEVICE_REGISTER(legacy_device);
