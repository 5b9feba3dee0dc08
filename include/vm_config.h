/* SPDX-License-Identifier: Apache-2.0 */
/* What a VM is made of, however it was asked for (command line now, the API later). */
#ifndef KVMINI_VM_CONFIG_H
#define KVMINI_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* The largest vCPU count kvmini describes: xAPIC IDs 0..253, the IOAPIC takes the next one. */
#define VM_MAX_CPUS 254

struct vm_config {
	const char *kernel_path;
	const char *initrd_path; /* NULL: none, or initrd_data */
	const uint8_t *initrd_data; /* an initramfs already in memory (smoke's built-in one) */
	size_t initrd_size;
	const char *cmdline;     /* appended to the defaults; NULL: none */
	uint64_t mem_size;
	unsigned nr_cpus;
	bool acpi;
	bool hugepages;
};

#include "errmsg.h"

/*
 * A --mem value: a size of at least GUEST_MEM_MIN, at most host_ram, in whole
 * pages. -EINVAL with the message a user sees (it quotes the value).
 */
int vm_config_parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e);

#endif
