// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

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

void vm_kvm_state_write(const struct vm_kvm_state *s, struct state_writer *w)
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

int vm_kvm_state_read(struct state_reader *r, struct vm_kvm_state *s)
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

/* An ioctl that either works or fails the whole sequence, named in the message. */
static int kvm_call(int fd, unsigned long request, void *arg, const char *name, struct errmsg *e)
{
	if (ioctl(fd, request, arg) < 0)
		return errmsg_set(e, errno, "%s: %s", name, strerror(errno));
	return 0;
}
#define KVM_CALL(fd, request, arg, e) kvm_call(fd, request, arg, #request, e)

int vcpu_xsave_size(int vm_fd, uint32_t *size, struct errmsg *e)
{
	int ret = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);

	if (ret < 0)
		return errmsg_set(e, errno, "KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2): %s", strerror(errno));
	*size = ret > (int)sizeof(struct kvm_xsave) ? (uint32_t)ret : sizeof(struct kvm_xsave);
	if (*size > VCPU_XSAVE_MAX)
		return errmsg_set(e, E2BIG, "KVM's XSAVE state is %u bytes, kvmini saves at most %u", *size,
				  VCPU_XSAVE_MAX);
	return 0;
}

/* struct kvm_msrs with room for every MSR a record holds. */
struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[VCPU_MSRS_MAX];
};

int vcpu_saved_msrs(int kvm_fd, int vcpu_fd, struct vcpu_msr_list *list, struct errmsg *e)
{
	struct {
		struct kvm_msr_list hdr;
		uint32_t indices[VCPU_MSRS_MAX];
	} all = { .hdr.nmsrs = VCPU_MSRS_MAX };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} one = { .hdr.nmsrs = 1 };

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &all) < 0) {
		if (errno == E2BIG)
			return errmsg_set(e, E2BIG, "KVM saves %u MSRs, kvmini at most %u", all.hdr.nmsrs,
					  VCPU_MSRS_MAX);
		return errmsg_set(e, errno, "KVM_GET_MSR_INDEX_LIST: %s", strerror(errno));
	}
	list->nr = 0;
	for (uint32_t i = 0; i < all.hdr.nmsrs; i++) {
		int got;

		one.entry.index = all.indices[i];
		got = ioctl(vcpu_fd, KVM_GET_MSRS, &one);
		if (got < 0)
			return errmsg_set(e, errno, "KVM_GET_MSRS(0x%x): %s", all.indices[i], strerror(errno));
		if (got == 1)
			list->index[list->nr++] = all.indices[i];
	}
	return 0;
}

/*
 * The order follows KVM's side effects: KVM_GET_MP_STATE first, as it
 * accepts pending INIT/SIPI events and so changes the registers and LAPIC;
 * vCPU events last, after everything that could raise one.
 */
int vcpu_state_get(int vcpu_fd, const struct vcpu_msr_list *list, uint32_t xsave_size, struct vcpu_state *s,
		   struct errmsg *e)
{
	struct msr_buf msrs = { .hdr.nmsrs = list->nr };
	int got, err;

	if (list->nr > VCPU_MSRS_MAX || xsave_size < sizeof(struct kvm_xsave) || xsave_size > VCPU_XSAVE_MAX)
		return errmsg_set(e, EINVAL, "vCPU state: %u MSRs, XSAVE of %u bytes", list->nr, xsave_size);
	memset(s, 0, sizeof(*s));
	err = KVM_CALL(vcpu_fd, KVM_GET_MP_STATE, &s->mp_state, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_REGS, &s->regs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_SREGS, &s->sregs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_FPU, &s->fpu, e);
	/* KVM_GET_XSAVE2 writes the size KVM_CAP_XSAVE2 gave; KVM_GET_XSAVE only the first 4096 bytes. */
	err = err ?: (xsave_size > sizeof(struct kvm_xsave) ? KVM_CALL(vcpu_fd, KVM_GET_XSAVE2, s->xsave, e)
							   : KVM_CALL(vcpu_fd, KVM_GET_XSAVE, s->xsave, e));
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_XCRS, &s->xcrs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_LAPIC, &s->lapic, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_GET_DEBUGREGS, &s->debugregs, e);
	if (err)
		return err;
	for (uint32_t i = 0; i < list->nr; i++)
		msrs.entries[i].index = list->index[i];
	got = ioctl(vcpu_fd, KVM_GET_MSRS, &msrs);
	if (got < 0)
		return errmsg_set(e, errno, "KVM_GET_MSRS: %s", strerror(errno));
	if ((uint32_t)got != list->nr)
		return errmsg_set(e, EIO, "KVM_GET_MSRS: read %d of %u MSRs, stopped at 0x%x", got, list->nr,
				  list->index[got]);
	memcpy(s->msrs, msrs.entries, list->nr * sizeof(s->msrs[0]));
	s->nr_msrs = list->nr;
	s->xsave_size = xsave_size;
	return KVM_CALL(vcpu_fd, KVM_GET_VCPU_EVENTS, &s->events, e);
}

/*
 * The order KVM needs: SREGS sets EFER and the APIC base, which the MSRs and
 * the LAPIC depend on; the LAPIC comes before the MSRs (the TSC deadline
 * needs its timer mode) and before the events (which may hold a pending
 * interrupt); MP state last, as KVM checks it against the events' SMM and
 * latched INIT state.
 */
int vcpu_state_set(int vcpu_fd, const struct vcpu_state *s, struct errmsg *e)
{
	struct msr_buf msrs = { .hdr.nmsrs = s->nr_msrs };
	int set, err;

	if (s->nr_msrs > VCPU_MSRS_MAX || s->xsave_size < sizeof(struct kvm_xsave) || s->xsave_size > VCPU_XSAVE_MAX)
		return errmsg_set(e, EINVAL, "vCPU state: %u MSRs, XSAVE of %u bytes", s->nr_msrs, s->xsave_size);
	err = KVM_CALL(vcpu_fd, KVM_SET_REGS, (void *)&s->regs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_SET_SREGS, (void *)&s->sregs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_SET_FPU, (void *)&s->fpu, e);
	/* After the FPU: XSAVE holds the same registers and more. */
	err = err ?: KVM_CALL(vcpu_fd, KVM_SET_XSAVE, (void *)s->xsave, e);
	/* A host without XSAVE has no XCRs: KVM_GET_XCRS gives none and KVM_SET_XCRS refuses any call. */
	if (s->xcrs.nr_xcrs)
		err = err ?: KVM_CALL(vcpu_fd, KVM_SET_XCRS, (void *)&s->xcrs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_SET_LAPIC, (void *)&s->lapic, e);
	if (err)
		return err;
	memcpy(msrs.entries, s->msrs, s->nr_msrs * sizeof(s->msrs[0]));
	set = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
	if (set < 0)
		return errmsg_set(e, errno, "KVM_SET_MSRS: %s", strerror(errno));
	if ((uint32_t)set != s->nr_msrs)
		return errmsg_set(e, EINVAL, "KVM_SET_MSRS: MSR 0x%x refused (%d of %u set)", s->msrs[set].index,
				  set, s->nr_msrs);
	err = KVM_CALL(vcpu_fd, KVM_SET_DEBUGREGS, (void *)&s->debugregs, e);
	err = err ?: KVM_CALL(vcpu_fd, KVM_SET_VCPU_EVENTS, (void *)&s->events, e);
	return err ?: KVM_CALL(vcpu_fd, KVM_SET_MP_STATE, (void *)&s->mp_state, e);
}

int vm_kvm_state_get(int vm_fd, struct vm_kvm_state *s, struct errmsg *e)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	err = KVM_CALL(vm_fd, KVM_GET_IRQCHIP, &s->pic_master, e);
	err = err ?: KVM_CALL(vm_fd, KVM_GET_IRQCHIP, &s->pic_slave, e);
	err = err ?: KVM_CALL(vm_fd, KVM_GET_IRQCHIP, &s->ioapic, e);
	err = err ?: KVM_CALL(vm_fd, KVM_GET_PIT2, &s->pit, e);
	return err ?: KVM_CALL(vm_fd, KVM_GET_CLOCK, &s->clock, e);
}

int vm_kvm_state_set(int vm_fd, const struct vm_kvm_state *s, struct errmsg *e)
{
	/*
	 * Without KVM_CLOCK_REALTIME KVM sets the clock to the saved value
	 * as is; with it, KVM would add the wall time since the snapshot
	 * and the guest would see its clock jump.
	 */
	struct kvm_clock_data clock = { .clock = s->clock.clock };
	int err;

	err = KVM_CALL(vm_fd, KVM_SET_IRQCHIP, (void *)&s->pic_master, e);
	err = err ?: KVM_CALL(vm_fd, KVM_SET_IRQCHIP, (void *)&s->pic_slave, e);
	err = err ?: KVM_CALL(vm_fd, KVM_SET_IRQCHIP, (void *)&s->ioapic, e);
	err = err ?: KVM_CALL(vm_fd, KVM_SET_PIT2, (void *)&s->pit, e);
	return err ?: KVM_CALL(vm_fd, KVM_SET_CLOCK, &clock, e);
}
