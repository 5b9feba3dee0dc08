/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot file (docs/snapshot.md): a header, a table of sections
 * {kind, index, version, offset, length}, the sections' bytes, and a CRC32C
 * over all of it. The writer collects sections and lays the file out in a
 * growable buffer; the reader takes a whole file (mapped or read), which is
 * untrusted, checks its framing and hands back each section's bytes, which
 * stay in the caller's blob. What a section holds is its owner's business,
 * except the compatibility sections (CPUID, MSR list, XSAVE size), which
 * this module writes and compares with the host's.
 */
#ifndef KVMINI_SNAPSHOT_FORMAT_H
#define KVMINI_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "errmsg.h"
#include "state.h"

#define SNAPSHOT_FORMAT_VERSION 1
/* Bounds a corrupt count before anything is allocated or compared. */
#define SNAPSHOT_MAX_SECTIONS 1024

enum snapshot_kind {
	/* What the saved state depends on in the host: compared before anything is restored. */
	SNAPSHOT_CPUID = 1,
	SNAPSHOT_MSR_LIST = 2,
	SNAPSHOT_XSAVE_SIZE = 3,
	/* One per vCPU, index = vCPU number. */
	SNAPSHOT_VCPU = 16,
	/* The VM's in-kernel devices and clock: both PICs, the IOAPIC, the PIT, the guest clock (kvm_state.h). */
	SNAPSHOT_VM = 17,
	/* devices_save's blob (state.h). */
	SNAPSHOT_DEVICES = 20,
	SNAPSHOT_CONFIG = 21,
};

struct snapshot_section {
	uint16_t kind, version;
	uint32_t index;
	const uint8_t *data; /* into the writer's data or the reader's blob */
	uint64_t offset;     /* from the start of the file */
	uint64_t len;
};

struct snapshot_writer {
	struct state_writer data; /* the sections' bytes, in order */
	struct snapshot_section *sections;
	unsigned nr, cap;
	int err; /* -ENOMEM once an allocation failed: later adds do nothing, finish reports it */
};

void snapshot_writer_init(struct snapshot_writer *w);
void snapshot_writer_free(struct snapshot_writer *w);
/* Copies len bytes in as section (kind, index) at this version. */
void snapshot_add(struct snapshot_writer *w, enum snapshot_kind kind, uint32_t index, uint16_t version,
		  const void *bytes, size_t len);
/* The compatibility sections, from what the VM was given. */
void snapshot_add_cpuid(struct snapshot_writer *w, const struct kvm_cpuid_entry2 *entries, unsigned nent);
void snapshot_add_msr_list(struct snapshot_writer *w, const uint32_t *indices, unsigned nr);
void snapshot_add_xsave_size(struct snapshot_writer *w, uint32_t size);
/*
 * The whole file into out (initialised by the caller): 0, or the first
 * error of the writer (-ENOMEM, or -EINVAL with a message in e for a
 * duplicate section or too many).
 */
int snapshot_finish(struct snapshot_writer *w, struct state_writer *out, struct errmsg *e);

struct snapshot {
	uint32_t flags;
	unsigned nr;
	struct snapshot_section *sections; /* in the table's order; data points into the blob */
};

/*
 * Checks blob as a snapshot file and fills s: 0, or -EINVAL with a one-line
 * reason in e (truncated, trailing bytes, bad magic, unknown version or
 * flags, CRC mismatch, a section out of range, overlapping another or given
 * twice), or -ENOMEM. The blob must outlive s.
 */
int snapshot_parse(const void *blob, size_t len, struct snapshot *s, struct errmsg *e);
void snapshot_free(struct snapshot *s);
/* The section (kind, index), or NULL. */
const struct snapshot_section *snapshot_find(const struct snapshot *s, enum snapshot_kind kind, uint32_t index);

/* What this host offers: KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_INDEX_LIST, the XSAVE area's size. */
struct snapshot_host {
	const struct kvm_cpuid_entry2 *cpuid;
	unsigned nr_cpuid;
	const uint32_t *msrs;
	unsigned nr_msrs;
	uint32_t xsave_size;
};

/*
 * Whether the VM saved in s can run here: 0, or -EINVAL with the first
 * reason in e ("CPUID leaf 0x7.0 EBX bit 5 (a feature the VM saw) is missing
 * on this host", an MSR this host does not save, a larger XSAVE area, a
 * compatibility section missing or malformed).
 */
int snapshot_check_host(const struct snapshot *s, const struct snapshot_host *host, struct errmsg *e);

/* CRC32C (Castagnoli, reflected, as iSCSI and ext4 use it): crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
