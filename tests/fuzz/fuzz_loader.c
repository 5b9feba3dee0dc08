// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the kernel loader (src/boot/): the input is a 4-byte
 * little-endian initrd size, a flags byte (bit 0: ACPI rather than an MP
 * table, bit 1: a --cmdline), then the kernel file itself, bzImage or PVH
 * ELF. boot_load reads it from a memfd as it would from disk and lays it,
 * an initrd of that size, the command line and the platform tables out in
 * 16 MiB of guest RAM; only setting the vCPU's registers fails (no KVM).
 * The loader is core code and reads a struct vm: its memory and devices are
 * the fake host's, its one vCPU has no fd.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "boot/loader.h"
#include "fake_host.h"
#include "vm.h"

#define RAM_SIZE (16u << 20)
/* Up to twice the RAM, so that some initrds do not fit. */
#define INITRD_MAX (2 * RAM_SIZE)

static struct fake_host f;
static struct vm vm;
static struct vcpu bsp = { .fd = -1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram, *initrd;
	static int kernel_fd = -1;
	struct errmsg e;
	uint32_t initrd_size;
	uint8_t flags;

	if (size < 5)
		return 0;
	if (!ram) {
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		initrd = mmap(NULL, INITRD_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		kernel_fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
		if (ram == MAP_FAILED || initrd == MAP_FAILED || kernel_fd < 0)
			abort();
	}
	initrd_size = (uint32_t)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24) % INITRD_MAX;
	flags = data[4];
	if (ftruncate(kernel_fd, 0) || pwrite(kernel_fd, data + 5, size - 5, 0) != (ssize_t)(size - 5))
		abort();

	memset(&f.cfg, 0, sizeof(f.cfg));
	snprintf(f.cfg.kernel_path, sizeof(f.cfg.kernel_path), "/proc/self/fd/%d", kernel_fd);
	f.cfg.initrd_data = initrd;
	f.cfg.initrd_size = initrd_size;
	f.cfg.acpi = flags & 1;
	snprintf(f.cfg.cmdline, sizeof(f.cfg.cmdline), "%s", flags & 2 ? "console=ttyS0 \"quoted arg\" root=/dev/vda" : "");
	f.cfg.transport = VIRTIO_TRANSPORT_PCI;
	if (fake_host_init(&f, ram, RAM_SIZE) || fake_host_add(&f, "pci"))
		abort();
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &f.cfg;
	vm.mem = f.mem;
	vm.nr_vcpus = 1;
	vm.vcpus = &bsp;
	vm.host = f.host;
	vm.devices = f.devices;
	boot_load(&vm, &e);
	fake_host_exit(&f);
	return 0;
}
