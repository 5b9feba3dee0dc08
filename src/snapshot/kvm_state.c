// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "snapshot/kvm_state.h"

/* A KVM structure: its size, then its bytes (see kvm_state.h for why bytes). */
static void put_struct(struct state_writer *w, const void *p, size_t size)
{
	state_put_u32(w, (uint32_t)size);
	state_put_bytes(w, p, size);
}

static void get_struct(struct state_reader *r, const char *field, void *out, size_t size)
{
	uint32_t saved = state_get_u32(r, field);

	if (state_ok(r) && saved != size)
		state_invalid(r, field, "saved as %u bytes, this build's is %zu", saved, size);
	state_get_bytes(r, field, out, state_ok(r) ? size : 0);
}

static void get_version(struct state_reader *r)
{
	uint32_t version = state_get_u32(r, "version");

	if (state_ok(r) && version != KVM_STATE_VERSION)
		state_invalid(r, "version", "%u, this build reads %u", version, KVM_STATE_VERSION);
}

void vcpu_state_write(const struct vcpu_state *s, struct state_writer *w)
{
	state_put_u32(w, KVM_STATE_VERSION);
	put_struct(w, &s->regs, sizeof(s->regs));
	put_struct(w, &s->sregs, sizeof(s->sregs));
	put_struct(w, &s->fpu, sizeof(s->fpu));
	state_put_u32(w, s->xsave_size);
	state_put_bytes(w, s->xsave, s->xsave_size);
	put_struct(w, &s->xcrs, sizeof(s->xcrs));
	put_struct(w, &s->lapic, sizeof(s->lapic));
	state_put_u32(w, s->nr_msrs);
	for (uint32_t i = 0; i < s->nr_msrs; i++) {
		state_put_u32(w, s->msrs[i].index);
		state_put_u64(w, s->msrs[i].data);
	}
	put_struct(w, &s->events, sizeof(s->events));
	put_struct(w, &s->debugregs, sizeof(s->debugregs));
	put_struct(w, &s->mp_state, sizeof(s->mp_state));
}

static void get_xsave(struct state_reader *r, uint32_t host_size, struct vcpu_state *s)
{
	uint32_t size = state_get_u32(r, "xsave size");

	if (!state_ok(r))
		return;
	/* Another size is another set of XSAVE features: KVM would refuse or misplace them. */
	if (size != host_size)
		state_invalid(r, "xsave size", "%u bytes, this host's KVM saves %u", size, host_size);
	else if (size < sizeof(struct kvm_xsave) || size > VCPU_XSAVE_MAX)
		state_invalid(r, "xsave size", "%u bytes, kvmini reads %zu to %u", size, sizeof(struct kvm_xsave),
			      VCPU_XSAVE_MAX);
	state_get_bytes(r, "xsave", s->xsave, state_ok(r) ? size : 0);
	s->xsave_size = size;
}

static void get_msrs(struct state_reader *r, struct vcpu_state *s)
{
	uint32_t nr = state_get_u32(r, "msr count");

	if (state_ok(r) && nr > VCPU_MSRS_MAX)
		state_invalid(r, "msr count", "%u MSRs, kvmini restores at most %u", nr, VCPU_MSRS_MAX);
	for (uint32_t i = 0; state_ok(r) && i < nr; i++) {
		s->msrs[i].index = state_get_u32(r, "msr index");
		s->msrs[i].data = state_get_u64(r, "msr value");
		/* KVM_SET_MSRS applies entries in order: a repeat would hide which value the guest had. */
		for (uint32_t j = 0; state_ok(r) && j < i; j++)
			if (s->msrs[j].index == s->msrs[i].index)
				state_invalid(r, "msr index", "MSR 0x%x saved twice", s->msrs[i].index);
	}
	s->nr_msrs = nr;
}

int vcpu_state_read(struct state_reader *r, uint32_t xsave_size, struct vcpu_state *s)
{
	memset(s, 0, sizeof(*s));
	get_version(r);
	get_struct(r, "regs", &s->regs, sizeof(s->regs));
	get_struct(r, "sregs", &s->sregs, sizeof(s->sregs));
	get_struct(r, "fpu", &s->fpu, sizeof(s->fpu));
	get_xsave(r, xsave_size, s);
	get_struct(r, "xcrs", &s->xcrs, sizeof(s->xcrs));
	if (state_ok(r) && s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		state_invalid(r, "xcrs", "%u XCRs, KVM has at most %u", s->xcrs.nr_xcrs, KVM_MAX_XCRS);
	get_struct(r, "lapic", &s->lapic, sizeof(s->lapic));
	get_msrs(r, s);
	get_struct(r, "vcpu events", &s->events, sizeof(s->events));
	get_struct(r, "debug registers", &s->debugregs, sizeof(s->debugregs));
	get_struct(r, "mp state", &s->mp_state, sizeof(s->mp_state));
	if (state_ok(r) && s->mp_state.mp_state > KVM_MP_STATE_SUSPENDED)
		state_invalid(r, "mp state", "%u is not a KVM MP state", s->mp_state.mp_state);
	/* Nothing half-read for a caller that applies it anyway. */
	if (!state_ok(r))
		memset(s, 0, sizeof(*s));
	return r->err;
}

void vm_state_write(const struct vm_state *s, struct state_writer *w)
{
	state_put_u32(w, KVM_STATE_VERSION);
	put_struct(w, &s->pic_master, sizeof(s->pic_master));
	put_struct(w, &s->pic_slave, sizeof(s->pic_slave));
	put_struct(w, &s->ioapic, sizeof(s->ioapic));
	put_struct(w, &s->pit, sizeof(s->pit));
	put_struct(w, &s->clock, sizeof(s->clock));
}

/* KVM_SET_IRQCHIP picks the chip by chip_id: a swapped record would load one chip's state into another. */
static void get_irqchip(struct state_reader *r, const char *field, uint32_t chip_id, struct kvm_irqchip *chip)
{
	get_struct(r, field, chip, sizeof(*chip));
	if (state_ok(r) && chip->chip_id != chip_id)
		state_invalid(r, field, "chip id %u, expected %u", chip->chip_id, chip_id);
}

int vm_state_read(struct state_reader *r, struct vm_state *s)
{
	memset(s, 0, sizeof(*s));
	get_version(r);
	get_irqchip(r, "pic master", KVM_IRQCHIP_PIC_MASTER, &s->pic_master);
	get_irqchip(r, "pic slave", KVM_IRQCHIP_PIC_SLAVE, &s->pic_slave);
	get_irqchip(r, "ioapic", KVM_IRQCHIP_IOAPIC, &s->ioapic);
	get_struct(r, "pit", &s->pit, sizeof(s->pit));
	get_struct(r, "clock", &s->clock, sizeof(s->clock));
	if (!state_ok(r))
		memset(s, 0, sizeof(*s));
	return r->err;
}
