// SPDX-License-Identifier: Apache-2.0
/*
 * The VM's side of the host interface devices get (include/device.h): each
 * op reaches the VM through the opaque pointer, and is all a device may ask
 * of it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "clock.h"
#include "exit_codes.h"
#include "irq.h"
#include "vm.h"

static int host_vm_irq_line(void *opaque, unsigned irq, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level line = { .irq = irq, .level = level };

	return ioctl(vm->fd, KVM_IRQ_LINE, &line) ? -errno : 0;
}

static int host_vm_irq_alloc_line(void *opaque)
{
	return irq_alloc_line(((struct vm *)opaque)->irq);
}

static int host_vm_irq_alloc_msi(void *opaque, uint64_t address, uint32_t data)
{
	return irq_alloc_msi(((struct vm *)opaque)->irq, address, data);
}

static int host_vm_irq_set_msi(void *opaque, unsigned gsi, uint64_t address, uint32_t data)
{
	return irq_set_msi(((struct vm *)opaque)->irq, gsi, address, data);
}

static int host_vm_irqfd(void *opaque, int fd, unsigned gsi, bool assign)
{
	return irq_irqfd(((struct vm *)opaque)->irq, fd, gsi, assign);
}

static int host_vm_ioeventfd(void *opaque, uint64_t addr, unsigned len, bool pio, bool match, uint64_t datamatch,
			     int fd, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->fd, KVM_IOEVENTFD, &io) ? -errno : 0;
}

static int host_vm_coalesce_pio(void *opaque, uint16_t port, unsigned len)
{
	struct vm *vm = opaque;
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = len, .pio = 1 };

	if (!vm->coalesced_ring)
		return -ENOTSUP;
	return ioctl(vm->fd, KVM_REGISTER_COALESCED_MMIO, &zone) ? -errno : 0;
}

static int host_vm_append_cmdline(void *opaque, const char *param)
{
	struct vm *vm = opaque;
	size_t used = strlen(vm->cmdline_extra), room = sizeof(vm->cmdline_extra) - used;

	if (strlen(param) + (used ? 1 : 0) >= room)
		return -E2BIG;
	snprintf(vm->cmdline_extra + used, room, "%s%s", used ? " " : "", param);
	return 0;
}

static void host_vm_event(void *opaque, enum device_event event, const char *how)
{
	struct vm *vm = opaque;
	uint64_t none = 0;

	switch (event) {
	case DEVICE_EVENT_POWEROFF:
		vm_request_stop(vm, VM_STOP_POWEROFF, EXIT_GUEST_OK, "guest powered off");
		break;
	case DEVICE_EVENT_REBOOT:
		vm_request_stop(vm, VM_STOP_REBOOT, EXIT_GUEST_OK, "guest rebooted");
		break;
	case DEVICE_EVENT_PANIC:
		vm_note_panic(vm, how, false);
		break;
	case DEVICE_EVENT_INIT_STARTED:
		/* Only the first report counts: that is when init started. */
		__atomic_compare_exchange_n(&vm->boot_timer_ns, &none, monotonic_ns(), false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
		break;
	}
}

static bool host_vm_pause_requested(void *opaque)
{
	return vm_pause_requested(opaque);
}

static void *host_vm_find(void *opaque, const struct device_ops *ops)
{
	return devices_find(&((struct vm *)opaque)->devices, ops);
}

static int host_vm_discard_ram(void *opaque, uint64_t gpa, uint64_t len)
{
	return guest_mem_discard(&((struct vm *)opaque)->mem, gpa, len);
}

static const struct device_host_ops vm_host_ops = {
	.irq_line = host_vm_irq_line,
	.irq_alloc_line = host_vm_irq_alloc_line,
	.irq_alloc_msi = host_vm_irq_alloc_msi,
	.irq_set_msi = host_vm_irq_set_msi,
	.irqfd = host_vm_irqfd,
	.ioeventfd = host_vm_ioeventfd,
	.coalesce_pio = host_vm_coalesce_pio,
	.append_cmdline = host_vm_append_cmdline,
	.event = host_vm_event,
	.pause_requested = host_vm_pause_requested,
	.find = host_vm_find,
	.discard_ram = host_vm_discard_ram,
};

void vm_host_init(struct vm *vm)
{
	vm->host = (struct device_host){
		.ops = &vm_host_ops,
		.vm = vm,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.mem = &vm->mem,
		.io = &vm->io,
		.console = vm->console,
		.acpi = vm->cfg->acpi,
		.transport = vm->cfg->transport,
		.mmio_cmdline = vm->cfg->mmio_cmdline,
		.nr_cpus = vm->nr_vcpus,
	};
}
