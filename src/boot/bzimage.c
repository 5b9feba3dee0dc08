// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <asm/bootparam.h>

#include "boot/bzimage.h"

/* Offsets in the file of the setup-header fields we read before trusting the header. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_KERNEL_VERSION 0x20e

static uint32_t get_le(const uint8_t *p, unsigned bytes)
{
	uint32_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

int bzimage_probe(const uint8_t *img, size_t len)
{
	return len >= HDR_MAGIC + 4 && !memcmp(img + HDR_MAGIC, "HdrS", 4);
}

int bzimage_parse(const uint8_t *img, size_t len, uint64_t load_addr, struct bzimage_info *info, struct errmsg *e)
{
	struct setup_header hdr;
	unsigned setup_sects;
	uint64_t syssize;

	if (len < 1024)
		return errmsg_set(e, EINVAL, "too small to be a kernel (%zu bytes)", len);
	if (!bzimage_probe(img, len))
		return errmsg_set(e, EINVAL, "not a bzImage (no HdrS magic)");
	if (get_le(img + HDR_BOOT_FLAG, 2) != 0xaa55)
		return errmsg_set(e, EINVAL, "not a bzImage (no 0xAA55 boot flag)");

	memset(info, 0, sizeof(*info));
	info->protocol = get_le(img + HDR_VERSION, 2);
	if (info->protocol < BZIMAGE_MIN_PROTOCOL)
		return errmsg_set(e, EINVAL, "boot protocol %u.%02u is too old (kvmini needs 2.06 or later)",
				  info->protocol >> 8, info->protocol & 0xff);

	/* The header is as long as the kernel says (the jump at 0x200 skips it), but no longer than we know. */
	info->header_end = HDR_JUMP + 2 + img[HDR_JUMP + 1];
	if (info->header_end > HDR_SETUP_SECTS + sizeof(hdr))
		info->header_end = HDR_SETUP_SECTS + sizeof(hdr);
	memset(&hdr, 0, sizeof(hdr));
	memcpy(&hdr, img + HDR_SETUP_SECTS, info->header_end - HDR_SETUP_SECTS);

	if (!(hdr.loadflags & LOADED_HIGH))
		return errmsg_set(e, EINVAL, "not a bzImage (a zImage, which loads below 1 MiB)");
	if (!(hdr.xloadflags & XLF_KERNEL_64))
		return errmsg_set(e, EINVAL, "no 64-bit entry point (a 32-bit kernel?)");

	setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	info->setup_size = (size_t)(setup_sects + 1) * 512;
	syssize = (uint64_t)get_le(img + HDR_SYSSIZE, 4) * 16;
	if (info->setup_size > len || syssize > len - info->setup_size)
		return errmsg_set(e, EINVAL, "truncated: the header says %llu bytes, the file has %zu",
				  (unsigned long long)(info->setup_size + syssize), len);
	info->kernel_size = len - info->setup_size;
	info->init_size = hdr.init_size;
	if (info->init_size < info->kernel_size)
		info->init_size = info->kernel_size;
	info->decompress_end = load_addr + info->init_size;
	/* Both kinds end up at pref_address: a relocatable one moves there if loaded lower, the other must run there. */
	if (info->protocol >= 0x020a && hdr.pref_address > load_addr)
		info->decompress_end = hdr.pref_address + info->init_size;
	info->initrd_addr_max = hdr.initrd_addr_max;
	info->cmdline_max = hdr.cmdline_size;
	return 0;
}

int bzimage_kernel_version(const uint8_t *img, size_t len, char *buf, size_t size)
{
	size_t at, n = 0;

	if (!bzimage_probe(img, len) || len < HDR_KERNEL_VERSION + 2 || get_le(img + HDR_VERSION, 2) < 0x0200)
		return -ENOENT;
	/* An offset from the end of the boot sector, into the setup code. */
	at = get_le(img + HDR_KERNEL_VERSION, 2);
	if (!at)
		return -ENOENT;
	at += 0x200;
	while (at + n < len && n < size && img[at + n] > ' ' && img[at + n] < 0x7f)
		n++;
	if (!n || n == size || at + n == len)
		return -ENOENT;
	memcpy(buf, img + at, n);
	buf[n] = 0;
	return 0;
}
