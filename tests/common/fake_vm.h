/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM without KVM, for the device fuzz targets and the threaded unit tests:
 * guest RAM is a plain buffer, the VM fd is -1 (IRQ lines, MSI routes,
 * irqfds and ioeventfds fail quietly, so every queue kick reaches kvmini as
 * a vCPU exit would), the console reads a pipe and writes to /dev/null.
 * The I/O thread's sources are served either on the caller's thread by
 * fake_vm_run_io (fuzzing) or by the real I/O thread (io_thread_start).
 * Devices come from the registered table by name, as devices_init makes them.
 */
#ifndef KVMINI_TESTS_COMMON_FAKE_VM_H
#define KVMINI_TESTS_COMMON_FAKE_VM_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

struct fake_vm {
	struct vm vm;
	struct vm_config cfg; /* filled by the caller before fake_vm_add_device */
	int console_in;       /* write end of the console's input pipe */
	int console_out;      /* /dev/null, where guest output goes */
};

/* ram is the guest's memory (the caller keeps it); the VM has nr_vcpus vCPUs with fd -1. */
int fake_vm_init(struct fake_vm *f, void *ram, uint64_t ram_size, unsigned nr_vcpus);
/* Makes the registered device `name` ("pci", "virtio-blk", "serial", ...) as devices_init would. */
int fake_vm_add_device(struct fake_vm *f, const char *name);
/* Serves what the I/O thread would (kicks, tap frames) until nothing is ready, at most `rounds` times. */
void fake_vm_run_io(struct fake_vm *f, unsigned rounds);
/* Console input, as the main loop hands it to the guest's console device. */
void fake_vm_console_input(struct fake_vm *f, const uint8_t *data, size_t len);
void fake_vm_exit(struct fake_vm *f);

#endif
