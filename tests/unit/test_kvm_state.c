// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "snapshot/kvm_state.h"

/* Pure byte shuffling: a run past this is a hang. */
#define TEST_TIMEOUT 20
#define XSAVE_SIZE 6792 /* past struct kvm_xsave, and not a size KVM uses, so a fixed size would show */

/* Bytes that differ field to field, so a record read into the wrong place shows. */
static void fill(void *p, size_t size, uint8_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < size; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static struct vcpu_state *sample_vcpu(void)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	fill(&s->regs, sizeof(s->regs), 1);
	fill(&s->sregs, sizeof(s->sregs), 2);
	fill(&s->fpu, sizeof(s->fpu), 3);
	s->xsave_size = XSAVE_SIZE;
	fill(s->xsave, XSAVE_SIZE, 4);
	fill(&s->xcrs, sizeof(s->xcrs), 5);
	s->xcrs.nr_xcrs = 1;
	fill(&s->lapic, sizeof(s->lapic), 6);
	s->nr_msrs = 3;
	s->msrs[0] = (struct kvm_msr_entry){ .index = 0x10, .data = 0x1122334455667788ull };
	s->msrs[1] = (struct kvm_msr_entry){ .index = 0x4b564d01, .data = 0x1000 | 1 };
	s->msrs[2] = (struct kvm_msr_entry){ .index = 0xc0000080, .data = 0xd01 };
	fill(&s->events, sizeof(s->events), 7);
	fill(&s->debugregs, sizeof(s->debugregs), 8);
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	return s;
}

static void sample_vm(struct vm_kvm_state *s)
{
	memset(s, 0, sizeof(*s));
	fill(&s->pic_master, sizeof(s->pic_master), 11);
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	fill(&s->pic_slave, sizeof(s->pic_slave), 12);
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	fill(&s->ioapic, sizeof(s->ioapic), 13);
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	fill(&s->pit, sizeof(s->pit), 14);
	fill(&s->clock, sizeof(s->clock), 15);
}

/* Reads a vCPU record: 0, or the error with its message in e. */
static int read_vcpu(const void *data, size_t len, uint32_t xsave_size, struct vcpu_state *out, struct errmsg *e)
{
	struct state_reader r;

	state_reader_init(&r, data, len, "vcpu 0");
	vcpu_state_read(&r, xsave_size, out);
	return state_reader_done(&r, e);
}

static int read_vm(const void *data, size_t len, struct vm_kvm_state *out, struct errmsg *e)
{
	struct state_reader r;

	state_reader_init(&r, data, len, "vm");
	vm_kvm_state_read(&r, out);
	return state_reader_done(&r, e);
}

static void test_vcpu_round_trip(void **state)
{
	struct vcpu_state *s = sample_vcpu(), *back = malloc(sizeof(*back));
	struct state_writer w;
	struct errmsg e = { "" };
	(void)state;

	assert_non_null(back);
	state_writer_init(&w);
	vcpu_state_write(s, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(read_vcpu(w.buf, w.len, XSAVE_SIZE, back, &e), 0);
	/* Both were zeroed before they were filled, so padding compares too. */
	assert_memory_equal(back, s, sizeof(*s));
	/* Only the XSAVE bytes in use and the MSRs listed are stored. */
	assert_true(w.len < sizeof(*s) / 2);
	state_writer_free(&w);
	free(back);
	free(s);
}

static void test_vm_round_trip(void **state)
{
	struct vm_kvm_state s, back;
	struct state_writer w;
	struct errmsg e = { "" };
	(void)state;

	sample_vm(&s);
	state_writer_init(&w);
	vm_kvm_state_write(&s, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(read_vm(w.buf, w.len, &back, &e), 0);
	assert_memory_equal(&back, &s, sizeof(s));
	state_writer_free(&w);
}

/* Every prefix of a record is refused, and so is a byte past its end. */
static void test_truncated_and_long_refused(void **state)
{
	struct vcpu_state *s = sample_vcpu(), *back = malloc(sizeof(*back));
	struct vm_kvm_state vm, vm_back;
	struct state_writer w, wv;
	struct errmsg e = { "" };
	uint8_t *longer;
	(void)state;

	assert_non_null(back);
	state_writer_init(&w);
	vcpu_state_write(s, &w);
	for (size_t len = 0; len < w.len; len++)
		assert_int_equal(read_vcpu(w.buf, len, XSAVE_SIZE, back, &e), -EINVAL);
	assert_non_null(strstr(e.text, "vcpu 0 state: mp state: truncated"));

	sample_vm(&vm);
	state_writer_init(&wv);
	vm_kvm_state_write(&vm, &wv);
	for (size_t len = 0; len < wv.len; len++)
		assert_int_equal(read_vm(wv.buf, len, &vm_back, &e), -EINVAL);

	longer = calloc(1, w.len + 1);
	assert_non_null(longer);
	memcpy(longer, w.buf, w.len);
	assert_int_equal(read_vcpu(longer, w.len + 1, XSAVE_SIZE, back, &e), -EINVAL);
	assert_non_null(strstr(e.text, "1 bytes left over"));
	free(longer);
	state_writer_free(&wv);
	state_writer_free(&w);
	free(back);
	free(s);
}

/* Offsets into a vCPU record, from its layout: version, then size-prefixed structs. */
#define OFF_REGS_SIZE 4
#define OFF_XSAVE_SIZE \
	(4 + 4 + sizeof(struct kvm_regs) + 4 + sizeof(struct kvm_sregs) + 4 + sizeof(struct kvm_fpu))
#define OFF_MSR_COUNT (OFF_XSAVE_SIZE + 4 + XSAVE_SIZE + 4 + sizeof(struct kvm_xcrs) + 4 + sizeof(struct kvm_lapic_state))

static void put_u32_at(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes s, patches the u32 at off (unless off is SIZE_MAX), reads back with host_xsave: the message. */
static void expect_vcpu_refused(const struct vcpu_state *s, size_t off, uint32_t v, uint32_t host_xsave,
				const char *want)
{
	struct vcpu_state *back = malloc(sizeof(*back));
	struct state_writer w;
	struct errmsg e = { "" };

	assert_non_null(back);
	state_writer_init(&w);
	vcpu_state_write(s, &w);
	assert_int_equal(w.err, 0);
	if (off != SIZE_MAX)
		put_u32_at(w.buf + off, v);
	assert_int_equal(read_vcpu(w.buf, w.len, host_xsave, back, &e), -EINVAL);
	if (!strstr(e.text, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.text, want);
	/* A refused record leaves nothing half-read behind for a caller that ignores the error. */
	assert_int_equal(back->nr_msrs, 0);
	assert_int_equal(back->xsave_size, 0);
	state_writer_free(&w);
	free(back);
}

static void test_vcpu_corruptions_refused(void **state)
{
	struct vcpu_state *s = sample_vcpu();
	(void)state;

	expect_vcpu_refused(s, 0, 2, XSAVE_SIZE, "vcpu 0 state: version: 2, this build reads 1");
	expect_vcpu_refused(s, OFF_REGS_SIZE, sizeof(struct kvm_regs) - 8, XSAVE_SIZE,
			    "regs: saved as 136 bytes, this build's is 144");
	/* The record's XSAVE size against this host's, then against kvmini's limits. */
	expect_vcpu_refused(s, SIZE_MAX, 0, 4096, "xsave size: 6792 bytes, this host's KVM saves 4096");
	expect_vcpu_refused(s, OFF_XSAVE_SIZE, 100, 100, "xsave size: 100 bytes, kvmini reads 4096 to 16384");
	expect_vcpu_refused(s, OFF_XSAVE_SIZE, VCPU_XSAVE_MAX + 1, VCPU_XSAVE_MAX + 1,
			    "xsave size: 16385 bytes, kvmini reads");
	expect_vcpu_refused(s, OFF_MSR_COUNT, VCPU_MSRS_MAX + 1, XSAVE_SIZE,
			    "msr count: 257 MSRs, kvmini restores at most 256");
	expect_vcpu_refused(s, OFF_MSR_COUNT, UINT32_MAX, XSAVE_SIZE, "msr count: 4294967295 MSRs");

	s->msrs[2].index = s->msrs[0].index;
	expect_vcpu_refused(s, SIZE_MAX, 0, XSAVE_SIZE, "msr index: MSR 0x10 saved twice");
	s->msrs[2].index = 0xc0000080;

	s->xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
	expect_vcpu_refused(s, SIZE_MAX, 0, XSAVE_SIZE, "xcrs: 17 XCRs, KVM has at most 16");
	s->xcrs.nr_xcrs = 1;

	s->mp_state.mp_state = KVM_MP_STATE_SUSPENDED + 1;
	expect_vcpu_refused(s, SIZE_MAX, 0, XSAVE_SIZE, "mp state: 11 is not a KVM MP state");
	free(s);
}

static void expect_vm_refused(const struct vm_kvm_state *s, size_t off, uint32_t v, const char *want)
{
	struct vm_kvm_state back;
	struct state_writer w;
	struct errmsg e = { "" };

	state_writer_init(&w);
	vm_kvm_state_write(s, &w);
	if (off != SIZE_MAX)
		put_u32_at(w.buf + off, v);
	assert_int_equal(read_vm(w.buf, w.len, &back, &e), -EINVAL);
	if (!strstr(e.text, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.text, want);
	assert_true(back.clock.clock == 0 && back.ioapic.chip_id == 0);
	state_writer_free(&w);
}

static void test_vm_corruptions_refused(void **state)
{
	struct vm_kvm_state s;
	char want[64];
	(void)state;

	sample_vm(&s);
	expect_vm_refused(&s, 0, 0, "vm state: version: 0, this build reads 1");
	snprintf(want, sizeof(want), "pic master: saved as 0 bytes, this build's is %zu", sizeof(s.pic_master));
	expect_vm_refused(&s, 4, 0, want);

	/* The PICs saved in each other's places. */
	s.pic_slave.chip_id = KVM_IRQCHIP_PIC_MASTER;
	expect_vm_refused(&s, SIZE_MAX, 0, "pic slave: chip id 0, expected 1");
	s.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s.ioapic.chip_id = 7;
	expect_vm_refused(&s, SIZE_MAX, 0, "ioapic: chip id 7, expected 2");
}

/*
 * No /dev/kvm here: a closed descriptor shows the KVM side checks a record
 * before its first ioctl and names the ioctl that failed.
 */
static void test_kvm_side_checks_and_names_the_ioctl(void **state)
{
	struct vcpu_state *s = sample_vcpu();
	struct vcpu_msr_list *list = calloc(1, sizeof(*list));
	struct vm_kvm_state vm;
	struct errmsg e = { "" };
	(void)state;

	assert_non_null(list);
	assert_int_equal(vcpu_state_set(-1, s, &e), -EBADF);
	assert_string_equal(e.text, "KVM_SET_REGS: Bad file descriptor");
	s->nr_msrs = VCPU_MSRS_MAX + 1;
	assert_int_equal(vcpu_state_set(-1, s, &e), -EINVAL);
	assert_string_equal(e.text, "vCPU state: 257 MSRs, XSAVE of 6792 bytes");

	assert_int_equal(vcpu_state_get(-1, list, 4096, s, &e), -EBADF);
	assert_string_equal(e.text, "KVM_GET_MP_STATE: Bad file descriptor");
	assert_int_equal(vcpu_state_get(-1, list, 100, s, &e), -EINVAL);
	assert_int_equal(vm_kvm_state_get(-1, &vm, &e), -EBADF);
	assert_string_equal(e.text, "KVM_GET_IRQCHIP: Bad file descriptor");
	sample_vm(&vm);
	assert_int_equal(vm_kvm_state_set(-1, &vm, &e), -EBADF);
	assert_string_equal(e.text, "KVM_SET_IRQCHIP: Bad file descriptor");
	free(list);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_round_trip),
		cmocka_unit_test(test_vm_round_trip),
		cmocka_unit_test(test_truncated_and_long_refused),
		cmocka_unit_test(test_vcpu_corruptions_refused),
		cmocka_unit_test(test_vm_corruptions_refused),
		cmocka_unit_test(test_kvm_side_checks_and_names_the_ioctl),
	};

	alarm(TEST_TIMEOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
