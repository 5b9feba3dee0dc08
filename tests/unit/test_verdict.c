// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/verdict.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct setup {
	const char *const *expect;
	size_t n_expect;
	const char *const *fail;
	size_t n_fail;
	const char *const *allow;
	size_t n_allow;
	bool initrd;
};

static struct verdict *make(const struct setup *s)
{
	struct verdict_config cfg = {
		.expect = s ? s->expect : NULL,
		.n_expect = s ? s->n_expect : 0,
		.fail = s ? s->fail : NULL,
		.n_fail = s ? s->n_fail : 0,
		.allow = s ? s->allow : NULL,
		.n_allow = s ? s->n_allow : 0,
		.initrd = s ? s->initrd : false,
		.timeout_s = 30,
	};
	struct errmsg err = { "" };
	struct verdict *v = NULL;
	int rc = verdict_create(&cfg, &v, &err);

	if (rc)
		fail_msg("verdict_create: %d %s", rc, err.text);
	return v;
}

static enum verdict_action feed(struct verdict *v, const char *line)
{
	return verdict_line(v, line, strlen(line));
}

static void feed_all(struct verdict *v, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed(v, lines[i]);
}

static void check(struct verdict *v, enum verdict_status want, const char *want_reason)
{
	char reason[VERDICT_REASON_MAX];
	enum verdict_status got = verdict_result(v, reason, sizeof(reason));

	if (got != want)
		fail_msg("status %s (%s), want %s", verdict_status_name(got), reason, verdict_status_name(want));
	if (strcmp(reason, want_reason))
		fail_msg("reason \"%s\", want \"%s\"", reason, want_reason);
}

static void check_prefix(struct verdict *v, enum verdict_status want, const char *prefix)
{
	char reason[VERDICT_REASON_MAX];
	enum verdict_status got = verdict_result(v, reason, sizeof(reason));

	if (got != want)
		fail_msg("status %s (%s), want %s", verdict_status_name(got), reason, verdict_status_name(want));
	if (strncmp(reason, prefix, strlen(prefix)))
		fail_msg("reason \"%s\" does not start with \"%s\"", reason, prefix);
}

static void test_default_expect_pass(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	assert_int_equal(feed(v, "[    0.000000] Linux version 6.1.0"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "KVMINI-SMOKE-OK"), VERDICT_CONTINUE);
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
}

static void test_default_expect_is_anchored(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "echo KVMINI-SMOKE-OK");
	feed(v, "KVMINI-SMOKE-OK!");
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_FAIL, "guest powered off before '^KVMINI-SMOKE-OK$' was seen");
	verdict_destroy(v);
}

/* A serial console ends lines with CR LF; a caller splitting on LF leaves the CR. NULs are line noise. */
static void test_line_endings_and_nul_ignored(void **state)
{
	static const char line[] = "\0KVMINI-SMOKE-OK\r\n";
	struct verdict *v = make(NULL);

	(void)state;
	verdict_line(v, line, sizeof(line) - 1);
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
}

/* Only len bytes count: the line need not be NUL-terminated, and what follows must not match. */
static void test_line_length_respected(void **state)
{
	static const char *const expect[] = { "OK$" };
	const struct setup s = { .expect = expect, .n_expect = 1 };
	char *buf = malloc(4);
	struct verdict *v = make(&s);

	(void)state;
	memcpy(buf, "OKOK", 4); /* no NUL: ASan catches a read past len */
	verdict_line(v, buf, 2);
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
	free(buf);
}

static void test_empty_and_huge_lines(void **state)
{
	size_t n = 100000;
	char *big = malloc(n);
	struct verdict *v = make(NULL);

	(void)state;
	assert_int_equal(verdict_line(v, "", 0), VERDICT_CONTINUE);
	assert_int_equal(verdict_line(v, "\r", 1), VERDICT_CONTINUE);
	memset(big, 'x', n);
	memcpy(big, "Oops: 0000 [#1] SMP ", 20);
	assert_int_equal(verdict_line(v, big, n), VERDICT_STOP_SOON);
	/* The report keeps REPORT_LINE_MAX bytes of the line; the reason stays one bounded line. */
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_FAIL, "Oops");
	verdict_destroy(v);
	free(big);
}

static void test_multiple_expects_any_order(void **state)
{
	static const char *const expect[] = { "^first$", "second", "^third [0-9]+$" };
	static const char *const lines[] = { "third 42", "noise", "the second one", "first" };
	const struct setup s = { .expect = expect, .n_expect = 3 };
	struct verdict *v = make(&s);

	(void)state;
	feed_all(v, lines, ARRAY_SIZE(lines));
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 3 expected lines");
	verdict_destroy(v);
}

/* Seeing one expect twice does not make up for another; the reason names the first one missing. */
static void test_expect_counts_once(void **state)
{
	static const char *const expect[] = { "^A$", "^B$", "^C$" };
	static const char *const lines[] = { "A", "A", "C" };
	const struct setup s = { .expect = expect, .n_expect = 3 };
	struct verdict *v = make(&s);

	(void)state;
	feed_all(v, lines, ARRAY_SIZE(lines));
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_FAIL, "guest powered off before '^B$' was seen");
	verdict_destroy(v);
}

static void test_one_line_satisfies_several_expects(void **state)
{
	static const char *const expect[] = { "boot", "ok$" };
	const struct setup s = { .expect = expect, .n_expect = 2 };
	struct verdict *v = make(&s);

	(void)state;
	feed(v, "boot ok");
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 2 expected lines");
	verdict_destroy(v);
}

static void test_reboot_clean_only_with_all_expects(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_REBOOT);
	check(v, VERDICT_PASS, "guest rebooted after all 1 expected line");
	verdict_destroy(v);

	v = make(NULL);
	feed(v, "reboot: Restarting system");
	verdict_guest_ended(v, VERDICT_END_REBOOT);
	check(v, VERDICT_FAIL, "guest rebooted before '^KVMINI-SMOKE-OK$' was seen");
	verdict_destroy(v);
}

static void expect_bad_regex(const char *const *expect, size_t ne, const char *const *fail, size_t nf,
			     const char *want_text)
{
	struct verdict_config cfg = { .expect = expect, .n_expect = ne, .fail = fail, .n_fail = nf };
	struct errmsg err = { "" };
	struct verdict *v = NULL;
	int rc = verdict_create(&cfg, &v, &err);

	assert_int_equal(rc, -EINVAL);
	assert_null(v);
	if (strcmp(err.text, want_text))
		fail_msg("message \"%s\", want \"%s\"", err.text, want_text);
}

static void test_bad_regex_is_an_error(void **state)
{
	static const char *const good[] = { "^ok$" };
	static const char *const bad_paren[] = { "^ok$", "boot (ok" };
	static const char *const bad_bracket[] = { "[z-a]" };
	static const char *const empty[] = { "" };
	char want[256], why[128];
	regex_t re;
	int rc;

	(void)state;
	rc = regcomp(&re, "boot (ok", REG_EXTENDED | REG_NOSUB);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	snprintf(want, sizeof(want), "invalid --expect regex 'boot (ok': %s", why);
	expect_bad_regex(bad_paren, 2, NULL, 0, want);

	rc = regcomp(&re, "[z-a]", REG_EXTENDED | REG_NOSUB);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	snprintf(want, sizeof(want), "invalid --fail regex '[z-a]': %s", why);
	expect_bad_regex(good, 1, bad_bracket, 1, want);

	expect_bad_regex(empty, 1, NULL, 0, "invalid --expect regex '': it would match every line");
	expect_bad_regex(good, 1, empty, 1, "invalid --fail regex '': it would match every line");
}

/* A long bad regex is cut in the message so that regerror's text survives. */
static void test_bad_long_regex_keeps_regerror_text(void **state)
{
	char re[400];
	const char *const expect[] = { re };
	struct verdict_config cfg = { .expect = expect, .n_expect = 1 };
	struct errmsg err = { "" };
	struct verdict *v = NULL;

	(void)state;
	memset(re, 'a', sizeof(re) - 2);
	re[sizeof(re) - 2] = '(';
	re[sizeof(re) - 1] = '\0';
	assert_int_equal(verdict_create(&cfg, &v, &err), -EINVAL);
	assert_non_null(strstr(err.text, "invalid --expect regex 'aaaa"));
	assert_non_null(strstr(err.text, "...': "));
	assert_true(strlen(strstr(err.text, "...': ")) > strlen("...': "));
}

/* Lines as Linux prints them, each with what the reason calls it. */
static const struct {
	const char *line;
	const char *title; /* the classifier's, for a report that is this one line */
} fatal_lines[] = {
	{ "[    2.311025] BUG: kernel NULL pointer dereference, address: 0000000000000000",
	  "BUG: kernel NULL pointer dereference" },
	{ "BUG: unable to handle kernel paging request at ffffffffc0002000", "BUG: unable to handle kernel paging request" },
	{ "[    1.000000] kernel BUG at mm/slub.c:4001!", "kernel BUG" },
	{ "BUG: KASAN: slab-out-of-bounds in foo+0x12/0x40", "KASAN: slab-out-of-bounds in foo" },
	{ "[    2.312001] Oops: 0002 [#1] PREEMPT SMP NOPTI", "Oops" },
	{ "Oops: Oops: 0000 [#1] SMP PTI", "Oops" },
	{ "[    1.000000] invalid opcode: 0000 [#1] SMP", "invalid opcode" },
	{ "divide error: 0000 [#2] SMP PTI", "divide error" },
	{ "general protection fault: 0000 [#1] SMP", "general protection fault" },
	{ "Oops: general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP", "general protection fault" },
	{ "segment-related general protection fault: 0000 [#1]", "general protection fault" },
	{ "[   48.123456] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [swapper/1:0]", "BUG: soft lockup" },
	{ "BUG: soft lockup - CPU#0 stuck for 67s! [kworker/0:1:12]", "BUG: soft lockup" },
	{ "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1", "hard LOCKUP" },
	{ "[  245.760000] INFO: task kworker/u4:2:57 blocked for more than 120 seconds.", "INFO: task hung" },
	{ "INFO: task sh:1 blocked for more than 30 seconds.", "INFO: task hung" },
	{ "[    3.100000] WARNING: CPU: 0 PID: 1 at drivers/misc/lkdtm/bugs.c:90 lkdtm_WARNING+0x1e/0x30", "WARNING in lkdtm_WARNING" },
};

static void test_fatal_lines_stop_soon_and_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fatal_lines); i++) {
		char want[VERDICT_REASON_MAX];
		struct verdict *v = make(NULL);

		feed(v, "KVMINI-SMOKE-OK");
		if (feed(v, fatal_lines[i].line) != VERDICT_STOP_SOON)
			fail_msg("not fatal: \"%s\"", fatal_lines[i].line);
		/* The caller stops the guest after the grace period: however the guest ends, the report decides. */
		verdict_guest_ended(v, VERDICT_END_POWEROFF);
		snprintf(want, sizeof(want), "%s", fatal_lines[i].title);
		check(v, VERDICT_FAIL, want);
		assert_null(verdict_fatal_line(v)); /* that is --fail's */
		assert_non_null(verdict_report(v));
		assert_string_equal(verdict_report(v)->title, fatal_lines[i].title);
		verdict_destroy(v);
	}
}

/* Look-alikes that are not kernel failures. */
static void test_harmless_lines_continue(void **state)
{
	static const char *const lines[] = {
		"DEBUG: starting",
		"[    0.000000] Kernel command line: console=ttyS0 reboot=k panic=-1",
		"traps: a.out[97] general protection fault ip:401136 sp:7ffd8f4c9a40 error:0 in a.out[401000+1000]",
		"Oops, a typo",
		"[    0.123000] softlockup: disabled",
		"INFO: task list follows",
		"hung_task_timeout_secs=120",
		"KVMINI-SMOKE-OK",
	};
	struct verdict *v = make(NULL);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		if (feed(v, lines[i]) != VERDICT_CONTINUE)
			fail_msg("fatal: \"%s\"", lines[i]);
	assert_null(verdict_fatal_line(v));
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
}

static void test_stop_soon_only_once_first_line_kept(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	assert_int_equal(feed(v, "BUG: kernel NULL pointer dereference, address: 0000000000000008"), VERDICT_STOP_SOON);
	assert_int_equal(feed(v, "Oops: 0000 [#1] SMP PTI"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "RIP: 0010:foo+0x5/0x10"), VERDICT_CONTINUE);
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_FAIL, "BUG: kernel NULL pointer dereference in foo");
	verdict_destroy(v);
}

static void test_user_fail_regex(void **state)
{
	static const char *const fail[] = { "^selftest: FAIL", "segfault at" };
	const struct setup s = { .fail = fail, .n_fail = 2 };
	struct verdict *v = make(&s);

	(void)state;
	assert_int_equal(feed(v, "selftest: PASS cpu"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "sh[1]: segfault at 0 ip 0 sp 0 error 4"), VERDICT_STOP_SOON);
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_FAIL, "matched --fail 'segfault at': sh[1]: segfault at 0 ip 0 sp 0 error 4");
	verdict_destroy(v);
}

static void test_panic_line(void **state)
{
	static const char line[] =
		"[    1.734084] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100";
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	assert_int_equal(feed(v, line), VERDICT_STOP_SOON);
	verdict_guest_ended(v, VERDICT_END_REBOOT); /* panic=-1 */
	check(v, VERDICT_PANIC, "kernel panic: Attempted to kill init! exitcode=0x00000100");
	verdict_destroy(v);
}

/* An Oops that ends in a panic is a PANIC, and its reason names the Oops as the cause. */
static void test_panic_beats_fail(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	assert_int_equal(feed(v, "Oops: 0002 [#1] SMP"), VERDICT_STOP_SOON);
	assert_int_equal(feed(v, "RIP: 0010:do_write+0x5/0x10"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "Kernel panic - not syncing: Fatal exception"), VERDICT_CONTINUE);
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_PANIC, "kernel panic: Fatal exception (first: Oops in do_write)");
	assert_string_equal(verdict_report(v)->title, "Oops in do_write");
	verdict_destroy(v);
}

static void test_panic_event(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_PANIC);
	check(v, VERDICT_PANIC, "kernel panic (reported by the VMM; no panic line on the console)");
	verdict_destroy(v);

	/* pvpanic after an Oops: the event beats the report, which the reason names. */
	v = make(NULL);
	feed(v, "BUG: unable to handle page fault for address: ffff888000000000");
	verdict_guest_ended(v, VERDICT_END_PANIC);
	check(v, VERDICT_PANIC, "kernel panic (reported by the VMM; no panic line on the console; first: "
				"BUG: unable to handle page fault)");
	verdict_destroy(v);
}

static void test_first_ending_decides(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	verdict_vmm_error(v, "too late");
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
}

/* The console's last flush may come after the ending: those lines still count. */
static void test_lines_after_ending_count(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	feed(v, "KVMINI-SMOKE-OK");
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	verdict_destroy(v);
}

static void test_triple_fault(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_TRIPLE_FAULT);
	check(v, VERDICT_FAIL, "triple fault (reset loop)");
	verdict_destroy(v);
}

static void test_timeout(void **state)
{
	static const char *const expect[] = { "^A$", "^B$" };
	const struct setup s = { .expect = expect, .n_expect = 2 };
	struct verdict *v = make(&s);

	(void)state;
	feed(v, "A");
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_TIMEOUT, "no verdict after 30 s (still waiting for '^B$')");
	verdict_destroy(v);

	v = make(&s);
	feed(v, "B");
	feed(v, "A");
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_TIMEOUT, "no verdict after 30 s (every expected line seen, but no poweroff)");
	verdict_destroy(v);
}

static void test_timeout_without_output(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	verdict_set_no_output(v);
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_TIMEOUT, "no console output: does the kernel have a serial console "
				  "(CONFIG_SERIAL_8250_CONSOLE) and console=ttyS0?");
	verdict_destroy(v);
}

static void test_vmm_error(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	verdict_vmm_error(v, "kernel 'x': not a bzImage (no HdrS signature)");
	check(v, VERDICT_ERROR, "kvmini could not run the guest: kernel 'x': not a bzImage (no HdrS signature)");
	verdict_destroy(v);

	v = make(NULL);
	verdict_guest_ended(v, VERDICT_END_VMM_ERROR);
	check(v, VERDICT_ERROR, "kvmini could not run the guest");
	verdict_destroy(v);

	/* A guest failure seen before the VMM gave up is the better reason. */
	v = make(NULL);
	feed(v, "Watchdog detected hard LOCKUP on cpu 0");
	verdict_vmm_error(v, "KVM internal error");
	check(v, VERDICT_FAIL, "hard LOCKUP");
	verdict_destroy(v);
}

static void test_no_ending_is_an_error(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed(v, "KVMINI-SMOKE-OK");
	check(v, VERDICT_ERROR, "the VMM reported no ending");
	verdict_destroy(v);
}

static const char *const root_panic[] = {
	"[    0.912345] VFS: Cannot open root device \"\" or unknown-block(0,0): error -6",
	"[    0.912400] Please append a correct \"root=\" boot option; here are the available partitions:",
	"[    0.912500] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
};

static void test_kernel_without_initrd_support(void **state)
{
	const struct setup s = { .initrd = true };
	struct verdict *v = make(&s);

	(void)state;
	feed_all(v, root_panic, ARRAY_SIZE(root_panic));
	verdict_guest_ended(v, VERDICT_END_PANIC);
	check(v, VERDICT_PANIC, "kernel cannot use the initramfs (CONFIG_BLK_DEV_INITRD?): kernel panic: VFS: Unable to "
				"mount root fs on unknown-block(0,0)");
	verdict_destroy(v);

	/* Newer kernels: "No filesystem could mount root" before the panic. */
	v = make(&s);
	feed(v, "No filesystem could mount root, tried:");
	verdict_guest_ended(v, VERDICT_END_PANIC);
	check(v, VERDICT_PANIC, "kernel cannot use the initramfs (CONFIG_BLK_DEV_INITRD?)");
	verdict_destroy(v);
}

/* Without an initramfs, a root-mount panic is just a panic. */
static void test_root_panic_without_initrd(void **state)
{
	struct verdict *v = make(NULL);

	(void)state;
	feed_all(v, root_panic, ARRAY_SIZE(root_panic));
	verdict_guest_ended(v, VERDICT_END_REBOOT);
	check_prefix(v, VERDICT_PANIC, "kernel panic: VFS: Unable");
	verdict_destroy(v);
}

static void test_initramfs_unpack_failure(void **state)
{
	const struct setup s = { .initrd = true };
	struct verdict *v = make(&s);

	(void)state;
	feed(v, "[    0.500000] Initramfs unpacking failed: invalid magic at start of compressed archive");
	feed_all(v, root_panic, ARRAY_SIZE(root_panic));
	check(v, VERDICT_PANIC, "kernel cannot use the initramfs ([    0.500000] Initramfs unpacking failed: invalid "
				"magic at start of compressed archive)");
	verdict_destroy(v);
}

/* Kept lines are cut at 200 bytes without splitting a UTF-8 character, and become one printable line. */
static void test_kept_line_cut_and_cleaned(void **state)
{
	static const char *const fail[] = { "BUG:" };
	const struct setup s = { .fail = fail, .n_fail = 1 };
	char line[300];
	struct verdict *v = make(&s);
	const char *kept;

	(void)state;
	memset(line, 'a', sizeof(line));
	memcpy(line, "\x1b[0m BUG:\tx", 11);
	memcpy(line + VERDICT_LINE_MAX - 1, "\xc3\xa9", 2); /* é straddles the cut */
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(feed(v, line), VERDICT_STOP_SOON);
	kept = verdict_fatal_line(v);
	assert_int_equal(strlen(kept), VERDICT_LINE_MAX - 1);
	assert_memory_equal(kept, "?[0m BUG:?x", 11);
	verdict_destroy(v);
}

/* The nested bench's artifact, as a real 6.1 kernel prints it; then a report of another kind and one elsewhere. */
static const char *const xsave_warning[] = {
	"[    0.890673] XSAVE consistency problem: size 832 != kernel_size 576",
	"[    0.890673] WARNING: CPU: 0 PID: 0 at arch/x86/kernel/fpu/xstate.c:606 fpu__init_system_xstate+0x85a/0xb19",
	"[    0.890673] Modules linked in:",
	"[    0.890673] CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3",
	"[    0.890673] RIP: 0010:fpu__init_system_xstate+0x85a/0xb19",
	"[    0.890673] Call Trace:",
	"[    0.890673]  <TASK>",
	"[    0.890673]  fpu__init_system+0xa2/0xd0",
	"[    0.890673]  start_kernel+0x2b1/0x6c0",
	"[    0.890673]  </TASK>",
	"[    0.890673] ---[ end trace 0000000000000000 ]---",
};

static void test_allow(void **state)
{
	static const char *const by_function[] = { "warning:fpu__init_system_xstate" };
	static const char *const by_kind[] = { "kasan,warning" };
	const struct setup fn = { .allow = by_function, .n_allow = 1 }, kind = { .allow = by_kind, .n_allow = 1 };
	struct verdict *v;

	(void)state;
	/* Allowed in its function: no stop, a pass. */
	v = make(&fn);
	for (size_t i = 0; i < ARRAY_SIZE(xsave_warning); i++)
		assert_int_equal(feed(v, xsave_warning[i]), VERDICT_CONTINUE);
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_PASS, "guest powered off after all 1 expected line");
	assert_null(verdict_report(v));
	verdict_destroy(v);

	/* The same kind elsewhere is judged at its end, and fails. */
	v = make(&fn);
	assert_int_equal(feed(v, "WARNING: CPU: 1 PID: 7 at fs/x.c:1 other_function+0x1/0x2"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "---[ end trace 0000000000000000 ]---"), VERDICT_STOP_SOON);
	feed(v, "KVMINI-SMOKE-OK");
	verdict_guest_ended(v, VERDICT_END_POWEROFF);
	check(v, VERDICT_FAIL, "WARNING in other_function");
	verdict_destroy(v);

	/* Without --allow: the same warning fails at its first line; more reports are counted. */
	v = make(NULL);
	assert_int_equal(feed(v, xsave_warning[1]), VERDICT_STOP_SOON);
	feed_all(v, xsave_warning + 2, ARRAY_SIZE(xsave_warning) - 2);
	feed(v, "BUG: scheduling while atomic: sh/1/0x00000002");
	feed(v, "INFO: task sh:1 blocked for more than 30 seconds.");
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_FAIL, "WARNING in fpu__init_system_xstate (+2 more reports)");
	assert_string_equal(verdict_report(v)->title, "WARNING in fpu__init_system_xstate");
	verdict_destroy(v);

	/* A kind allowed whole: never a stop. */
	v = make(&kind);
	assert_int_equal(feed(v, xsave_warning[1]), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "BUG: KASAN: use-after-free in f+0x1/0x2"), VERDICT_CONTINUE);
	assert_int_equal(feed(v, "Oops: 0000 [#1] SMP"), VERDICT_STOP_SOON);
	verdict_guest_ended(v, VERDICT_END_TIMEOUT);
	check(v, VERDICT_FAIL, "Oops");
	verdict_destroy(v);
}

static void test_allow_refused(void **state)
{
	static const char *const bad[][1] = { { "warnings" }, { "panic" }, { "warning:" }, { "" }, { "oops,,bug" } };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct verdict_config cfg = { .allow = bad[i], .n_allow = 1, .timeout_s = 1 };
		struct errmsg err = { "" };
		struct verdict *v = NULL;

		assert_int_equal(verdict_create(&cfg, &v, &err), -EINVAL);
		assert_null(v);
		assert_non_null(strstr(err.text, "--allow"));
	}
}

static void test_reason_truncated_safely(void **state)
{
	char small[16];
	struct verdict *v = make(NULL);

	(void)state;
	verdict_guest_ended(v, VERDICT_END_TRIPLE_FAULT);
	assert_int_equal(verdict_result(v, small, sizeof(small)), VERDICT_FAIL);
	assert_string_equal(small, "triple fault (r");
	assert_int_equal(verdict_result(v, NULL, 0), VERDICT_FAIL);
	verdict_destroy(v);
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(verdict_exit_code(VERDICT_PASS), 0);
	assert_int_equal(verdict_exit_code(VERDICT_FAIL), 1);
	assert_int_equal(verdict_exit_code(VERDICT_ERROR), 1);
	assert_int_equal(verdict_exit_code(VERDICT_TIMEOUT), 3);
	assert_int_equal(verdict_exit_code(VERDICT_PANIC), 4);
	assert_int_equal(VERDICT_EXIT_USAGE, 2);
	assert_string_equal(verdict_status_name(VERDICT_PASS), "PASS");
	assert_string_equal(verdict_status_name(VERDICT_FAIL), "FAIL");
	assert_string_equal(verdict_status_name(VERDICT_TIMEOUT), "TIMEOUT");
	assert_string_equal(verdict_status_name(VERDICT_PANIC), "PANIC");
	assert_string_equal(verdict_status_name(VERDICT_ERROR), "ERROR");
}

static void test_worst_of(void **state)
{
	static const enum verdict_status all[] = { VERDICT_PASS, VERDICT_FAIL, VERDICT_TIMEOUT, VERDICT_PANIC,
						   VERDICT_ERROR };
	static const enum verdict_status order[] = { VERDICT_PASS, VERDICT_ERROR, VERDICT_FAIL, VERDICT_TIMEOUT,
						     VERDICT_PANIC };
	enum verdict_status matrix = VERDICT_PASS;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		for (size_t j = 0; j < ARRAY_SIZE(order); j++)
			assert_int_equal(verdict_worst(order[i], order[j]), order[i > j ? i : j]);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(all); j++) {
			enum verdict_status w = verdict_worst(all[i], all[j]);
			int ci = verdict_exit_code(all[i]), cj = verdict_exit_code(all[j]);

			assert_int_equal(w, verdict_worst(all[j], all[i]));
			assert_int_equal(verdict_exit_code(w), ci > cj ? ci : cj);
			if (all[i] != VERDICT_PASS)
				assert_int_not_equal(w, VERDICT_PASS);
		}
	}
	/* A matrix: one panic among passes and a timeout is a panic. */
	matrix = verdict_worst(matrix, VERDICT_TIMEOUT);
	matrix = verdict_worst(matrix, VERDICT_PANIC);
	matrix = verdict_worst(matrix, VERDICT_FAIL);
	assert_int_equal(matrix, VERDICT_PANIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_expect_pass),
		cmocka_unit_test(test_default_expect_is_anchored),
		cmocka_unit_test(test_line_endings_and_nul_ignored),
		cmocka_unit_test(test_line_length_respected),
		cmocka_unit_test(test_empty_and_huge_lines),
		cmocka_unit_test(test_multiple_expects_any_order),
		cmocka_unit_test(test_expect_counts_once),
		cmocka_unit_test(test_one_line_satisfies_several_expects),
		cmocka_unit_test(test_reboot_clean_only_with_all_expects),
		cmocka_unit_test(test_bad_regex_is_an_error),
		cmocka_unit_test(test_bad_long_regex_keeps_regerror_text),
		cmocka_unit_test(test_fatal_lines_stop_soon_and_fail),
		cmocka_unit_test(test_harmless_lines_continue),
		cmocka_unit_test(test_stop_soon_only_once_first_line_kept),
		cmocka_unit_test(test_user_fail_regex),
		cmocka_unit_test(test_panic_line),
		cmocka_unit_test(test_panic_beats_fail),
		cmocka_unit_test(test_panic_event),
		cmocka_unit_test(test_first_ending_decides),
		cmocka_unit_test(test_lines_after_ending_count),
		cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_without_output),
		cmocka_unit_test(test_vmm_error),
		cmocka_unit_test(test_no_ending_is_an_error),
		cmocka_unit_test(test_kernel_without_initrd_support),
		cmocka_unit_test(test_root_panic_without_initrd),
		cmocka_unit_test(test_initramfs_unpack_failure),
		cmocka_unit_test(test_kept_line_cut_and_cleaned),
		cmocka_unit_test(test_reason_truncated_safely),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_allow_refused),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_worst_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
