/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry. */
#ifndef KVMINI_BOOT_BZIMAGE_H
#define KVMINI_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

#define BZIMAGE_MIN_PROTOCOL 0x0206

struct bzimage_info {
	uint16_t protocol;
	size_t setup_size;   /* real-mode part, including the boot sector */
	size_t kernel_size;  /* protected-mode part, loaded at 1 MiB */
	size_t header_end;   /* offset just past the setup header in the file */
	uint32_t init_size;  /* memory the kernel needs from where it runs while it decompresses */
	/* End of what decompression uses when loaded at 1 MiB: a relocatable kernel moves up to its preferred address. */
	uint64_t decompress_end;
	uint32_t initrd_addr_max;
	uint32_t cmdline_max; /* without the terminating NUL */
};

/* True when the image has the boot protocol's "HdrS" signature (and so is worth parsing as one). */
int bzimage_probe(const uint8_t *img, size_t len);
/* Validates the setup header of an image to be loaded at load_addr; a rejected image gets a reason in *e. Pure. */
int bzimage_parse(const uint8_t *img, size_t len, uint64_t load_addr, struct bzimage_info *info, struct errmsg *e);

/*
 * The kernel's release ("6.1.0-57-amd64"): the first word of the setup
 * header's kernel_version string, into buf. Pure. 0; -ENOENT when the image
 * has no such string, or it does not fit in buf or the image.
 */
int bzimage_kernel_version(const uint8_t *img, size_t len, char *buf, size_t size);

#endif
