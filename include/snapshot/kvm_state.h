/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What KVM holds for a VM that a snapshot must carry: per vCPU its
 * registers, FPU/XSAVE, XCRs, local APIC, saved MSRs, pending events, debug
 * registers and MP state; per VM the in-kernel PICs, IOAPIC, PIT and clock.
 *
 * The records go onto state.h's writer and come back through its reader.
 * KVM's own x86 structures have a fixed layout with explicit padding and
 * exist only on little-endian x86-64, so each is stored as its bytes after
 * its size: a restore refuses a size it does not know rather than guess a
 * layout. What varies (the XSAVE size, the MSR list) is stored as counted
 * little-endian fields, and every value KVM would misread is checked.
 */
#ifndef KVMINI_SNAPSHOT_KVM_STATE_H
#define KVMINI_SNAPSHOT_KVM_STATE_H

#include <stdint.h>
#include <linux/kvm.h>

#include "state.h"

/* Bumped when a record's layout changes; a restore reads only its own. */
#define KVM_STATE_VERSION 1
/* KVM 6.x lists well under this many MSRs to save; a count past it is a corrupt blob. */
#define VCPU_MSRS_MAX 256
/* KVM_CAP_XSAVE2's size with AMX is ~11 KiB; larger is a corrupt blob or a host we do not know. */
#define VCPU_XSAVE_MAX 16384

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	uint32_t xsave_size; /* bytes of xsave in use: KVM_CAP_XSAVE2's answer */
	/* A struct kvm_xsave followed by its extra[] (KVM_GET_XSAVE2). */
	uint8_t xsave[VCPU_XSAVE_MAX] __attribute__((aligned(8)));
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[VCPU_MSRS_MAX];
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
};

struct vm_kvm_state {
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

void vcpu_state_write(const struct vcpu_state *s, struct state_writer *w);
/*
 * Fills s from r; xsave_size is this host's KVM_CAP_XSAVE2 size, which the
 * saved one must equal. Returns 0, or -EINVAL with s zeroed and the reader
 * failed, its message naming the field. The caller still calls
 * state_reader_done, which also refuses bytes left over.
 */
int vcpu_state_read(struct state_reader *r, uint32_t xsave_size, struct vcpu_state *s);

void vm_kvm_state_write(const struct vm_kvm_state *s, struct state_writer *w);
/* As vcpu_state_read; each irqchip record must be the chip its place names. */
int vm_kvm_state_read(struct state_reader *r, struct vm_kvm_state *s);

/*
 * The KVM side: thin ioctl sequences, not unit-tested (no /dev/kvm in the
 * unit tests), each failing with the ioctl named in e.
 */

/* The XSAVE record size for this VM: KVM_CAP_XSAVE2's answer, else KVM_GET_XSAVE's 4096 bytes. */
int vcpu_xsave_size(int vm_fd, uint32_t *size, struct errmsg *e);

struct vcpu_msr_list {
	uint32_t nr;
	uint32_t index[VCPU_MSRS_MAX];
};

/*
 * The MSRs a snapshot saves: KVM_GET_MSR_INDEX_LIST (on kvm_fd) less those
 * KVM_GET_MSRS refuses on vcpu_fd (the list names MSRs the CPU may lack).
 */
int vcpu_saved_msrs(int kvm_fd, int vcpu_fd, struct vcpu_msr_list *list, struct errmsg *e);

/* A stopped vCPU's state: the MSRs of list, XSAVE of xsave_size bytes (vcpu_xsave_size's answer). */
int vcpu_state_get(int vcpu_fd, const struct vcpu_msr_list *list, uint32_t xsave_size, struct vcpu_state *s,
		   struct errmsg *e);
/* Into a vCPU just created (its CPUID already set), before it first runs. */
int vcpu_state_set(int vcpu_fd, const struct vcpu_state *s, struct errmsg *e);

int vm_kvm_state_get(int vm_fd, struct vm_kvm_state *s, struct errmsg *e);
/* Into a VM whose irqchip and PIT exist; the guest clock continues from the saved value. */
int vm_kvm_state_set(int vm_fd, const struct vm_kvm_state *s, struct errmsg *e);

#endif
