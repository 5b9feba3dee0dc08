// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "smoke/forensics.h"

static const char MAP[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81001200 T native_safe_halt\n"
	"ffffffff81001300 T default_idle\n"
	"ffffffff81003000 T _etext\n";

/* A 64-bit kernel halted in native_safe_halt+0x4 with interrupts on. */
static struct forensics_vcpu halted_vcpu(uint64_t rip)
{
	struct forensics_vcpu v = { 0 };

	v.regs.rip = rip;
	v.regs.rsp = 0xffffc90000013e98;
	v.regs.rflags = 0x246;
	v.sregs.cr0 = 0x80050033;
	v.sregs.cr3 = 0x260a000;
	v.sregs.efer = 0xd01;
	v.sregs.cs.l = 1;
	v.mp.mp_state = KVM_MP_STATE_HALTED;
	return v;
}

static void test_mode(void **state)
{
	struct kvm_sregs s = { 0 };

	(void)state;
	assert_string_equal(forensics_mode(&s), "real");
	s.cr0 = 1;
	assert_string_equal(forensics_mode(&s), "protected");
	s.efer = 1 << 10;
	assert_string_equal(forensics_mode(&s), "compat");
	s.cs.l = 1;
	assert_string_equal(forensics_mode(&s), "long");
}

static void test_all_halted(void **state)
{
	struct forensics_vcpu v[3] = { halted_vcpu(0), halted_vcpu(0), halted_vcpu(0) };

	(void)state;
	assert_true(forensics_all_halted(v, 3));
	/* An AP the kernel never started is idle too, but not all of them alone. */
	v[2].mp.mp_state = KVM_MP_STATE_UNINITIALIZED;
	assert_true(forensics_all_halted(v, 3));
	v[0].mp.mp_state = v[1].mp.mp_state = KVM_MP_STATE_UNINITIALIZED;
	assert_false(forensics_all_halted(v, 3));
	v[0] = halted_vcpu(0);
	v[1].mp.mp_state = KVM_MP_STATE_RUNNABLE;
	assert_false(forensics_all_halted(v, 3));
	v[1] = halted_vcpu(0);
	v[1].err = -EIO;
	assert_false(forensics_all_halted(v, 3));
	assert_false(forensics_all_halted(v, 0));
}

static void test_format_named(void **state)
{
	struct symtab t = { 0 };
	struct forensics_vcpu v[2] = { halted_vcpu(0xffffffff81001204), halted_vcpu(0xffffffff9000000) };
	struct exit_summary sum = { .total = 12, .pattern = "no one pattern (12 exits)" };
	char buf[1024];

	(void)state;
	assert_int_equal(symtab_from_map(&t, MAP, sizeof(MAP) - 1), 0);
	sum.by_reason[KVM_EXIT_IO] = 10;
	sum.by_reason[KVM_EXIT_MMIO] = 2;
	v[1].mp.mp_state = KVM_MP_STATE_RUNNABLE;
	v[1].regs.rflags = 0x2;
	forensics_format(buf, sizeof(buf), "at the timeout", v, 2, &sum, 5, &t, 0);
	assert_string_equal(buf, "at the timeout: no one pattern (12 exits)\n"
				 "vcpu0 rip=ffffffff81001204 native_safe_halt+0x4 rsp=ffffc90000013e98 cr3=260a000 "
				 "long IF=1 halted\n"
				 "vcpu1 rip=0ffffffff9000000 rsp=ffffc90000013e98 cr3=260a000 long IF=0 runnable\n"
				 "exits in the last 5 s: io 10, mmio 2\n");
	/* A slide (KASLR) is taken off before the lookup. */
	v[1] = halted_vcpu(0xffffffff81001310 + 0x1c000000);
	forensics_format(buf, sizeof(buf), "hang", v + 1, 1, &sum, 5, &t, 0x1c000000);
	assert_non_null(strstr(buf, " default_idle+0x10 "));
	assert_non_null(strstr(buf, "hang: all halted\n"));
	symtab_free(&t);
}

static void test_format_bounded(void **state)
{
	static struct forensics_vcpu v[254];
	struct exit_summary sum = { .pattern = "no exits: running in the guest" };
	char buf[4096];

	(void)state;
	for (size_t i = 0; i < 254; i++)
		v[i] = halted_vcpu(0xffffffff81001204);
	v[7].err = -EBUSY;
	forensics_format(buf, sizeof(buf), "at the timeout", v, 254, &sum, 5, NULL, 0);
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "vcpu7: cannot read its state: "));
	/* vCPU 7 unreadable: not "all halted", whatever the others say. */
	assert_non_null(strstr(buf, "at the timeout: no exits: running in the guest\n"));
	assert_non_null(strstr(buf, " not shown)\n"));
	assert_non_null(strstr(buf, "no exits in the last 5 s\n"));
	assert_null(strstr(buf, "native_safe_halt"));
	/* Too small for even the first line: an empty string, never half a line. */
	forensics_format(buf, 10, "at the timeout", v, 1, &sum, 5, NULL, 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_all_halted),
		cmocka_unit_test(test_format_named),
		cmocka_unit_test(test_format_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
