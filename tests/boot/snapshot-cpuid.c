// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot-cpuid FILE: makes FILE, a kvmini snapshot state file, one from an
 * incompatible host, for the boot test snapshot-corrupt: sets a bit of the
 * saved CPUID leaf 0x7.0 EBX that this host's KVM does not offer
 * (KVM_GET_SUPPORTED_CPUID), then writes the CRC32C again so that only the
 * host check can refuse it. Prints the bit as the restore must name it
 * ("CPUID leaf 0x7.0 EBX bit N"). Uses kvmini's own reader (src/snapshot/
 * format.c) to find the section, so it follows the format as it changes.
 * Exit 0, or 1 with one line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "snapshot/format.h"

#define CPUID_ENTRY_LEN 28 /* function, index, flags, eax, ebx, ecx, edx: 4 bytes each (docs/snapshot.md) */
#define EBX_OFFSET 16
#define MAX_CPUID 256

static int die(const char *what, const char *why)
{
	fprintf(stderr, "snapshot-cpuid: %s: %s\n", what, why);
	return 1;
}

/* This host's leaf 0x7.0 EBX as KVM offers it, or -1 with errno. */
static long host_leaf7_ebx(void)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + MAX_CPUID * sizeof(cpuid->entries[0]));
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	long ebx = -1;

	if (cpuid && kvm >= 0) {
		cpuid->nent = MAX_CPUID;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
			errno = ENOENT;
			for (unsigned i = 0; i < cpuid->nent; i++)
				if (cpuid->entries[i].function == 7 && cpuid->entries[i].index == 0)
					ebx = cpuid->entries[i].ebx;
		}
	}
	if (kvm >= 0)
		close(kvm);
	free(cpuid);
	return ebx;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

int main(int argc, char **argv)
{
	struct snapshot snap;
	struct errmsg e;
	struct stat st;
	uint8_t *blob, *entry = NULL;
	const struct snapshot_section *sec;
	long offered;
	uint32_t saved, free_bits;
	int fd, bit;

	if (argc != 2)
		return die("usage", "snapshot-cpuid FILE");
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die(argv[1], strerror(errno));
	blob = malloc(st.st_size ? st.st_size : 1);
	if (!blob || pread(fd, blob, st.st_size, 0) != st.st_size)
		return die(argv[1], "cannot read it whole");
	if (snapshot_parse(blob, st.st_size, &snap, &e) < 0)
		return die(argv[1], e.text);
	sec = snapshot_find(&snap, SNAPSHOT_CPUID, 0);
	if (!sec)
		return die(argv[1], "no cpuid section");
	for (uint64_t off = 0; off + CPUID_ENTRY_LEN <= sec->len; off += CPUID_ENTRY_LEN) {
		uint8_t *p = blob + sec->offset + off;

		if (get_le32(p) == 7 && get_le32(p + 4) == 0)
			entry = p;
	}
	if (!entry)
		return die(argv[1], "the VM saw no CPUID leaf 0x7.0");
	offered = host_leaf7_ebx();
	if (offered < 0)
		return die("KVM_GET_SUPPORTED_CPUID", strerror(errno));
	saved = get_le32(entry + EBX_OFFSET);
	free_bits = ~(uint32_t)offered & ~saved;
	if (!free_bits)
		return die("CPUID leaf 0x7.0 EBX", "this host offers every bit");
	bit = __builtin_ctz(free_bits);
	put_le32(entry + EBX_OFFSET, saved | 1u << bit);
	put_le32(blob + st.st_size - 4, crc32c(0, blob, st.st_size - 4));
	if (pwrite(fd, blob, st.st_size, 0) != st.st_size || close(fd) < 0)
		return die(argv[1], "cannot write it back");
	printf("CPUID leaf 0x7.0 EBX bit %d\n", bit);
	snapshot_free(&snap);
	free(blob);
	return 0;
}
