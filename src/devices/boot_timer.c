// SPDX-License-Identifier: Apache-2.0
/*
 * The boot-timer port: a guest's init writes any byte here as soon as it
 * runs, so kvmini can measure process start to init itself, without parsing
 * console text (the idea of Firecracker's boot timer device).
 */
#include "clock.h"
#include "device.h"
#include "devices/boot_timer.h"
#include "vm.h"

static void boot_timer_io(void *opaque, uint64_t offset, uint8_t *data, unsigned size, bool is_write)
{
	struct vm *vm = opaque;
	uint64_t none = 0;

	(void)offset;
	if (!is_write) {
		for (unsigned i = 0; i < size; i++)
			data[i] = 0;
		return;
	}
	/* Only the first write counts: that is when init started. */
	__atomic_compare_exchange_n(&vm->boot_timer_ns, &none, monotonic_ns(), false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
}

static int boot_timer_init(struct vm *vm, void **data, struct errmsg *e)
{
	int err = io_bus_register(&vm->pio, BOOT_TIMER_PORT, 1, "boot-timer", boot_timer_io, vm);

	*data = NULL;
	return err ? errmsg_set(e, -err, "boot timer: port %#x is taken", BOOT_TIMER_PORT) : 0;
}

static const struct device_ops boot_timer_device = {
	.name = "boot-timer",
	.level = DEVICE_LEVEL_PLATFORM,
	.init = boot_timer_init,
};
DEVICE_REGISTER(boot_timer_device);
