// SPDX-License-Identifier: Apache-2.0
/*
 * The crash-report classifier over the report samples in tests/unit/reports/
 * (one per kind, written after the kernel's formats), each fed plain, with
 * printk timestamps, with caller prefixes, and with both; interleaved
 * reports, truncated ones, the caps, garbage; the title and signature rules.
 * Runs from the tree's top directory, as `make unit` does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smoke/report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SAMPLE_LINES 64

struct sample {
	char lines[SAMPLE_LINES][256];
	size_t n;
};

static void load(const char *name, struct sample *s)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/reports/%s.txt", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the tree's top directory)", path);
	s->n = 0;
	while (s->n < SAMPLE_LINES && fgets(s->lines[s->n], sizeof(s->lines[0]), f)) {
		s->lines[s->n][strcspn(s->lines[s->n], "\n")] = '\0';
		s->n++;
	}
	assert_true(feof(f));
	fclose(f);
}

static struct report_parser *make(void)
{
	struct report_parser *p = NULL;

	assert_int_equal(report_parser_create(&p), 0);
	return p;
}

static int feed(struct report_parser *p, const char *line)
{
	return report_line(p, line, strlen(line));
}

enum prefix {
	PLAIN,
	TIMESTAMP,         /* `[   12.345678] ` */
	TIMESTAMP_CALLER,  /* `[   12.345678][    T1] ` */
	CALLER,            /* `[C1] ` */
	TIMESTAMP_SPACE_CALLER, /* `[   12.345678] [T1] ` */
};

static void prefixed(char *out, size_t size, enum prefix how, unsigned i, const char *caller, const char *line)
{
	switch (how) {
	case PLAIN:
		snprintf(out, size, "%s", line);
		break;
	case TIMESTAMP:
		snprintf(out, size, "[%5u.%06u] %s", 12 + i / 7, (i * 1237) % 1000000, line);
		break;
	case TIMESTAMP_CALLER:
		snprintf(out, size, "[%5u.%06u][%7s] %s", 12 + i / 7, (i * 1237) % 1000000, caller, line);
		break;
	case CALLER:
		snprintf(out, size, "[%s] %s", caller, line);
		break;
	case TIMESTAMP_SPACE_CALLER:
		snprintf(out, size, "[%5u.%06u] [%s] %s", 12 + i / 7, (i * 1237) % 1000000, caller, line);
		break;
	}
}

static void feed_sample(struct report_parser *p, const struct sample *s, enum prefix how, const char *caller)
{
	char line[400];

	for (size_t i = 0; i < s->n; i++) {
		prefixed(line, sizeof(line), how, (unsigned)i, caller, s->lines[i]);
		assert_in_range(feed(p, line), 0, 1);
	}
}

struct expect {
	const char *file;
	enum report_kind kind;
	const char *title;
	const char *function;
	const char *signature;
	const char *first_line; /* the report's text starts with this line */
	const char *last_line;  /* and ends with this one */
};

static const struct expect samples[] = {
	{ "kasan", REPORT_KASAN, "KASAN: slab-use-after-free Read in foo_bar", "foo_bar",
	  "foo_bar foo_init do_one_initcall do_init_module load_module", "BUG: KASAN: slab-use-after-free in",
	  "==================================================================" },
	{ "kmsan", REPORT_KMSAN, "KMSAN: uninit-value in parse_header", "parse_header",
	  "parse_header read_packet worker_fn kthread", "BUG: KMSAN: uninit-value", "=====" },
	{ "kcsan", REPORT_KCSAN, "KCSAN: data-race in counter_inc / counter_read", "counter_inc",
	  "counter_inc worker_a kthread", "BUG: KCSAN: data-race", "=====" },
	{ "kfence", REPORT_KFENCE, "KFENCE: use-after-free read in test_uaf_read", "test_uaf_read",
	  "test_uaf_read kunit_try_run_case kthread", "BUG: KFENCE:", "=====" },
	{ "ubsan", REPORT_UBSAN, "UBSAN: shift-out-of-bounds in foo_shift", "foo_shift", "foo_shift foo_probe",
	  "UBSAN: shift-out-of-bounds in drivers/misc/foo.c:42:17", "</TASK>" },
	{ "warning", REPORT_WARNING, "WARNING in do_thing", "do_thing",
	  "do_thing caller_one caller_two kernel_init ret_from_fork", "WARNING: CPU: 0 PID: 1", "---[ end trace" },
	{ "lockdep", REPORT_LOCKDEP,
	  "possible circular locking dependency detected: &dev->lock_a / &dev->lock_b", "take_b",
	  "take_b worker_fn", "WARNING: possible circular locking", "</TASK>" },
	{ "rcu-stall", REPORT_RCU_STALL, "INFO: rcu_sched self-detected stall on CPU", "spin_forever",
	  "spin_forever kernel_init", "rcu: INFO: rcu_sched self-detected stall on CPU", "</TASK>" },
	{ "soft-lockup", REPORT_SOFT_LOCKUP, "BUG: soft lockup in spin_fn", "spin_fn",
	  "spin_fn lkdtm_do_action direct_entry", "watchdog: BUG: soft lockup", "</TASK>" },
	{ "hard-lockup", REPORT_HARD_LOCKUP, "hard LOCKUP in irqs_off_spin", "irqs_off_spin",
	  "irqs_off_spin lkdtm_HARDLOCKUP direct_entry", "NMI watchdog: Watchdog detected hard LOCKUP", "</TASK>" },
	{ "hung-task", REPORT_HUNG_TASK, "INFO: task hung in wait_fn", "wait_fn", "wait_fn vfs_write",
	  "INFO: task sh:60 blocked for more than 20 seconds.", "</TASK>" },
	{ "list-corruption", REPORT_LIST_CORRUPTION, "list_add corruption in add_item", "add_item",
	  "add_item setup_items", "list_add corruption.", "---[ end trace" },
	{ "refcount", REPORT_REFCOUNT, "refcount_t: addition on 0 in get_thing", "get_thing", "get_thing use_thing",
	  "refcount_t: addition on 0; use-after-free.", "---[ end trace" },
	{ "oom", REPORT_OOM, "out of memory in handle_mm_fault", "handle_mm_fault",
	  "handle_mm_fault do_user_addr_fault", "hog invoked oom-killer:", "Out of memory: Killed process 70" },
	{ "kmemleak", REPORT_KMEMLEAK, "memory leak in leaky_init", "leaky_init", "leaky_init do_one_initcall",
	  "unreferenced object 0xffff888003a6b400 (size 64):", "" },
	{ "panic", REPORT_PANIC, "kernel panic: Attempted to kill init! exitcode=0x00000009", "do_exit",
	  "do_exit do_group_exit", "Kernel panic - not syncing: Attempted", "---[ end Kernel panic" },
	{ "gpf", REPORT_GPF, "general protection fault in walk_list", "walk_list", "walk_list walk_all kernel_init",
	  "general protection fault, probably", "---[ end trace" },
	{ "oops", REPORT_BUG, "BUG: kernel NULL pointer dereference in read_field", "read_field",
	  "read_field show_fields kernel_init", "BUG: kernel NULL pointer dereference", "---[ end trace" },
	{ "invalid-opcode", REPORT_OOPS, "invalid opcode in ud2_here", "ud2_here", "ud2_here caller_of_ud2",
	  "invalid opcode: 0000 [#1]", "---[ end trace" },
	{ "sleeping", REPORT_BUG, "BUG: sleeping function called from invalid context in bar", "bar",
	  "bar kernel_init", "BUG: sleeping function called from invalid context at", "</TASK>" },
	/* Real reports: LKDTM built into a tinyconfig 6.1 (guests/kernel/minimal.config with the ORC unwinder), from
	 * the console of the nested bench, lines around them included; no timestamps, no modules, unlike real/. */
	{ "lkdtm-warning", REPORT_WARNING, "WARNING in lkdtm_WARNING", "lkdtm_WARNING",
	  "lkdtm_WARNING direct_entry full_proxy_write vfs_write ksys_write",
	  "WARNING: CPU: 0 PID: 42 at drivers/misc/lkdtm/bugs.c:85 lkdtm_WARNING+0x8/0xb", "---[ end trace" },
	{ "lkdtm-bug", REPORT_BUG, "kernel BUG in lkdtm_BUG", "lkdtm_BUG",
	  "lkdtm_BUG direct_entry full_proxy_write vfs_write ksys_write", "kernel BUG at drivers/misc/lkdtm/bugs.c:78!",
	  "---[ end trace" },
	{ "lkdtm-exception", REPORT_BUG, "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION", "lkdtm_EXCEPTION",
	  "lkdtm_EXCEPTION direct_entry full_proxy_write vfs_write ksys_write",
	  "BUG: kernel NULL pointer dereference, address: 0000000000000000", "---[ end trace" },
	{ "lkdtm-softlockup", REPORT_SOFT_LOCKUP, "BUG: soft lockup in lkdtm_SOFTLOCKUP", "lkdtm_SOFTLOCKUP",
	  "lkdtm_SOFTLOCKUP direct_entry full_proxy_write vfs_write ksys_write",
	  "watchdog: BUG: soft lockup - CPU#0 stuck for 4s! [sh:42]", "</TASK>" },
	/* lkdtm_HUNG_TASK tail-calls schedule(): the first frame past the scheduler is its caller. */
	{ "lkdtm-hung-task", REPORT_HUNG_TASK, "INFO: task hung in direct_entry", "direct_entry",
	  "direct_entry full_proxy_write vfs_write ksys_write do_syscall_64",
	  "INFO: task sh:42 blocked for more than 1 seconds.", "</TASK>" },
};

/* The last line of text, without its '\n'. */
static const char *last_line(const struct report *r, char *buf, size_t size)
{
	size_t end = r->len - 1, start = end;

	while (start > 0 && r->text[start - 1] != '\n')
		start--;
	snprintf(buf, size, "%.*s", (int)(end - start), r->text + start);
	return buf;
}

/* A line without the prefixes prefixed() put there. */
static const char *body_of(const char *line, enum prefix how)
{
	if (how == TIMESTAMP || how == TIMESTAMP_CALLER || how == TIMESTAMP_SPACE_CALLER)
		line = strchr(line, ']') + 1;
	if (how == TIMESTAMP_CALLER || how == CALLER || how == TIMESTAMP_SPACE_CALLER)
		line = strchr(line, ']') + 1;
	return line + strspn(line, " ");
}

static void check_report(const struct report *r, const struct expect *x, enum prefix how)
{
	char last[300];
	const char *first;

	assert_non_null(r);
	first = r->text;
	if (r->kind != x->kind || strcmp(r->title, x->title) || strcmp(r->function, x->function) ||
	    strcmp(r->signature, x->signature))
		fail_msg("%s (prefix %d): got %s \"%s\" fn \"%s\" sig \"%s\"", x->file, how, report_kind_name(r->kind),
			 r->title, r->function, r->signature);
	first = body_of(first, how);
	if (strncmp(first, x->first_line, strlen(x->first_line)))
		fail_msg("%s (prefix %d): text starts with \"%.60s\"", x->file, how, r->text);
	last_line(r, last, sizeof(last));
	if (x->last_line[0] ? !strstr(last, x->last_line) : *body_of(last, how) != '\0')
		fail_msg("%s (prefix %d): text ends with \"%s\"", x->file, how, last);
	assert_int_equal(strlen(r->text), r->len);
	assert_false(r->truncated);
}

/* Every kind's sample, plain and under each kind of printk prefix: the same report, the same hash. */
static void test_every_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
		uint32_t hash = 0;
		struct sample s;

		load(samples[i].file, &s);
		for (enum prefix how = PLAIN; how <= TIMESTAMP_SPACE_CALLER; how++) {
			struct report_parser *p = make();

			feed(p, "Linux version 6.1.0 (builder@host) #1 SMP");
			feed_sample(p, &s, how, "T1");
			feed(p, "KVMINI-SMOKE-OK");
			report_finish(p);
			if (report_count(p) != 1)
				fail_msg("%s (prefix %d): %zu reports", samples[i].file, how, report_count(p));
			check_report(report_get(p, 0), &samples[i], how);
			if (how != PLAIN)
				assert_int_equal(report_get(p, 0)->hash, hash);
			hash = report_get(p, 0)->hash;
			report_parser_destroy(p);
		}
	}
}

/* Every kind is covered by a sample, and every kind has its own name. */
static void test_kind_names(void **state)
{
	bool covered[REPORT_KIND_COUNT] = { false };
	struct errmsg err = { "" };
	uint32_t mask;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		covered[samples[i].kind] = true;
	for (int k = 0; k < REPORT_KIND_COUNT; k++) {
		assert_true(covered[k]);
		assert_non_null(report_kind_name(k));
		assert_int_equal(report_kind_parse(report_kind_name(k), &mask, &err), 0);
		assert_int_equal(mask, 1u << k);
	}
	assert_null(report_kind_name(REPORT_KIND_COUNT));
	assert_int_equal(report_kind_parse("kasan,warning,rcu-stall", &mask, &err), 0);
	assert_int_equal(mask, (1u << REPORT_KASAN) | (1u << REPORT_WARNING) | (1u << REPORT_RCU_STALL));
	assert_int_equal(report_kind_parse("kasan,warnings", &mask, &err), -EINVAL);
	assert_non_null(strstr(err.text, "unknown report kind 'warnings'"));
	assert_int_equal(report_kind_parse("", &mask, &err), -EINVAL);
	assert_int_equal(report_kind_parse("kasan,", &mask, &err), -EINVAL);
	assert_int_equal(report_kind_parse("KASAN", &mask, &err), -EINVAL);
}

/* Two CPUs report at once, line by line: the caller prefixes keep them apart. */
static void test_interleaved(void **state)
{
	struct sample a, b;
	struct report_parser *p = make();
	char line[400];
	const struct expect *xa = &samples[0], *xb = &samples[5]; /* kasan, warning */

	(void)state;
	load(xa->file, &a);
	load(xb->file, &b);
	for (size_t i = 0; i < a.n || i < b.n; i++) {
		if (i < a.n) {
			prefixed(line, sizeof(line), TIMESTAMP_CALLER, (unsigned)i, "T123", a.lines[i]);
			feed(p, line);
		}
		if (i < b.n) {
			prefixed(line, sizeof(line), TIMESTAMP_CALLER, (unsigned)i, "C1", b.lines[i]);
			feed(p, line);
		}
	}
	report_finish(p);
	assert_int_equal(report_count(p), 2);
	check_report(report_get(p, 0), xa, TIMESTAMP_CALLER);
	check_report(report_get(p, 1), xb, TIMESTAMP_CALLER);
	report_parser_destroy(p);

	/* caller prefixes without timestamps */
	p = make();
	for (size_t i = 0; i < a.n || i < b.n; i++) {
		if (i < b.n) {
			prefixed(line, sizeof(line), CALLER, 0, "C1", b.lines[i]);
			feed(p, line);
		}
		if (i < a.n) {
			prefixed(line, sizeof(line), CALLER, 0, "T9", a.lines[i]);
			feed(p, line);
		}
	}
	report_finish(p);
	assert_int_equal(report_count(p), 2);
	assert_string_equal(report_get(p, 0)->title, xb->title);
	assert_string_equal(report_get(p, 1)->title, xa->title);
	report_parser_destroy(p);
}

/* A report cut off (the guest died or the run stopped) still counts, with what was seen. */
static void test_truncated(void **state)
{
	struct report_parser *p = make();
	struct sample s;

	(void)state;
	load("warning", &s);
	for (size_t i = 0; i < 10; i++) /* up to caller_one */
		feed(p, s.lines[i]);
	report_finish(p);
	assert_int_equal(report_count(p), 1);
	assert_string_equal(report_get(p, 0)->title, "WARNING in do_thing");
	assert_string_equal(report_get(p, 0)->signature, "do_thing caller_one");
	assert_int_equal(feed(p, "BUG: soft lockup - CPU#0 stuck for 22s!"), 0); /* after finish: ignored */
	assert_int_equal(report_count(p), 1);
	report_parser_destroy(p);

	/* a hung task cut before its stack ends, then a soft lockup: the next report ends it */
	p = make();
	load("hung-task", &s);
	for (size_t i = 0; i < 11; i++) /* up to wait_fn */
		feed(p, s.lines[i]);
	assert_int_equal(feed(p, "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:60]"), 1);
	assert_int_equal(feed(p, "RIP: 0010:spin_fn+0x5/0x10"), 0);
	report_finish(p);
	assert_int_equal(report_count(p), 2);
	assert_string_equal(report_get(p, 0)->title, "INFO: task hung in wait_fn");
	assert_string_equal(report_get(p, 1)->title, "BUG: soft lockup in spin_fn");
	report_parser_destroy(p);
}

/* A report's end: lines after it are the boot going on, not the report. */
static void test_report_ends(void **state)
{
	struct report_parser *p = make();
	struct sample s;

	(void)state;
	load("sleeping", &s);
	for (size_t i = 0; i < s.n; i++)
		feed(p, s.lines[i]);
	feed(p, " not_a_frame_but_looks+0x1/0x2");
	feed(p, "random: crng init done");
	report_finish(p);
	assert_int_equal(report_count(p), 1);
	assert_null(strstr(report_get(p, 0)->text, "crng"));
	assert_string_equal(report_get(p, 0)->signature, "bar kernel_init");
	report_parser_destroy(p);

	/* an Oops, its end, then the panic it causes: two reports */
	p = make();
	load("gpf", &s);
	for (size_t i = 0; i < s.n; i++)
		feed(p, s.lines[i]);
	assert_int_equal(feed(p, "Kernel panic - not syncing: Fatal exception"), 1);
	report_finish(p);
	assert_int_equal(report_count(p), 2);
	assert_int_equal(report_get(p, 0)->kind, REPORT_GPF);
	assert_string_equal(report_get(p, 1)->title, "kernel panic: Fatal exception");
	assert_string_equal(report_get(p, 1)->signature, "kernel panic: Fatal exception");
	report_parser_destroy(p);
}

/* Header lines alone: the title rules, and lines that are no report. */
static void test_titles(void **state)
{
	static const struct {
		const char *line;
		int kind; /* -1: no report */
		const char *title;
	} cases[] = {
		{ "BUG: scheduling while atomic: swapper/0/1/0x00000002", REPORT_BUG, "BUG: scheduling while atomic" },
		{ "BUG: unable to handle page fault for address: ffffffffff600000", REPORT_BUG,
		  "BUG: unable to handle page fault" },
		{ "BUG: Bad page state in process sh  pfn:0aa2b", REPORT_BUG, "BUG: Bad page state" },
		{ "BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!", REPORT_BUG,
		  "BUG: workqueue lockup" },
		{ "kernel BUG at mm/slub.c:435!", REPORT_BUG, "kernel BUG" },
		{ "divide error: 0000 [#1] PREEMPT SMP NOPTI", REPORT_OOPS, "divide error" },
		{ "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", REPORT_OOPS, "invalid opcode" },
		{ "Oops: 0002 [#2] SMP", REPORT_OOPS, "Oops" },
		{ "Internal error: Oops: 96000005 [#1] SMP", REPORT_OOPS, "Oops" },
		{ "general protection fault: 0000 [#1] SMP", REPORT_GPF, "general protection fault" },
		{ "Oops: general protection fault, probably for non-canonical address 0x1: 0000 [#1]", REPORT_GPF,
		  "general protection fault" },
		{ "WARNING: kernel/sched/core.c:100 at do_thing+0x10/0x20, CPU#0: sh/1", REPORT_WARNING,
		  "WARNING in do_thing" },
		{ "WARNING: CPU: 1 PID: 7 at net/core/dev.c:9 netdev_fn.cold+0x1/0x2 [mod]", REPORT_WARNING,
		  "WARNING in netdev_fn" },
		{ "WARNING: inconsistent lock state", REPORT_LOCKDEP, "inconsistent lock state" },
		{ "WARNING: bad unlock balance detected!", REPORT_LOCKDEP, "bad unlock balance detected" },
		{ "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected", REPORT_LOCKDEP,
		  "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected" },
		{ "WARNING: suspicious RCU usage", REPORT_LOCKDEP, "suspicious RCU usage" },
		{ "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", REPORT_RCU_STALL,
		  "INFO: rcu_preempt detected stalls on CPUs/tasks" },
		{ "list_del corruption, ffff888003c1e000->next is LIST_POISON1 (dead000000000100)",
		  REPORT_LIST_CORRUPTION, "list_del corruption" },
		{ "refcount_t: underflow; use-after-free.", REPORT_REFCOUNT, "refcount_t: underflow" },
		{ "refcount_t: saturated; leaking memory.", REPORT_REFCOUNT, "refcount_t: saturated" },
		{ "Memory cgroup out of memory: Killed process 99 (hog) total-vm:1kB", REPORT_OOM, "out of memory" },
		{ "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", REPORT_KMEMLEAK,
		  "kmemleak: new suspected memory leaks" },
		{ "UBSAN: array-index-out-of-bounds in lib/test_ubsan.c:82:11", REPORT_UBSAN,
		  "UBSAN: array-index-out-of-bounds" },
		{ "BUG: KASAN: null-ptr-deref in fn+0x1/0x2", REPORT_KASAN, "KASAN: null-ptr-deref in fn" },
		{ "BUG: KFENCE: out-of-bounds write in oob_fn+0x3/0x4", REPORT_KFENCE, "KFENCE: out-of-bounds write in oob_fn" },
		{ "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", REPORT_PANIC,
		  "kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)" },
		{ "DEBUG: all fine", -1, NULL },
		{ "a.out[97] general protection fault ip:401000 sp:7ffd error:0 in a.out[401000+1000]", -1, NULL },
		{ "WARNING: unsupported CPU feature", -1, NULL },
		{ "INFO: task sh:1 finished", -1, NULL },
		{ "my_list_helper corruption test passed", -1, NULL },
		{ "list_add is fine, no corruption here", -1, NULL },
		{ "Out of memory? no", -1, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct report_parser *p = make();

		if (feed(p, cases[i].line) != (cases[i].kind >= 0))
			fail_msg("'%s': %s", cases[i].line, cases[i].kind >= 0 ? "no report" : "a report");
		report_finish(p);
		if (cases[i].kind < 0) {
			if (report_count(p))
				fail_msg("'%s' made a report: %s", cases[i].line, report_get(p, 0)->title);
		} else {
			assert_int_equal(report_count(p), 1);
			if (report_get(p, 0)->kind != (enum report_kind)cases[i].kind ||
			    strcmp(report_get(p, 0)->title, cases[i].title))
				fail_msg("'%s': got %s '%s'", cases[i].line, report_kind_name(report_get(p, 0)->kind),
					 report_get(p, 0)->title);
		}
		report_parser_destroy(p);
	}
}

/* The signature: the reported function, then function names only, `?` frames and compiler suffixes dropped,
 * machinery skipped, N names. */
static void test_signature(void **state)
{
	static const char *const lines[] = {
		"[    5.000000][    T1] WARNING: CPU: 0 PID: 1 at x.c:1 f0+0x1/0x2",
		"[    5.000000][    T1] Call Trace:",
		"[    5.000000][    T1]  <TASK>",
		"[    5.000000][    T1]  dump_stack_lvl+0x49/0x63",
		"[    5.000000][    T1]  ? f1+0x1/0x2",
		"[    5.000000][    T1]  f2.constprop.0+0x1/0x2 [mod]",
		"[    5.000000][    T1]  [<ffffffff81000000>] f3+0x1/0x2",
		"[    5.000000][    T1]  ? f4+0x1/0x2 [mod]",
		"[    5.000000][    T1]  schedule+0x1/0x2",
		"[    5.000000][    T1]  f5.isra.0.cold+0x1/0x2",
		"[    5.000000][    T1]  f6+0x1/0x2",
		"[    5.000000][    T1]  f7+0x1/0x2",
		"[    5.000000][    T1]  </TASK>",
		"[    5.000000][    T1] ---[ end trace 0000000000000000 ]---",
	};
	struct report_parser *p = make();
	const struct report *r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		feed(p, lines[i]);
	report_finish(p);
	r = report_get(p, 0);
	assert_string_equal(r->signature, "f0 f2 f3 schedule f5"); /* f0, the function reported, leads */
	assert_string_equal(r->title, "WARNING in f0");
	report_parser_destroy(p);
}

/* The same bug in two runs groups; another kind or stack does not. */
static void test_same(void **state)
{
	struct report_parser *p = make(), *q = make();
	struct sample s;

	(void)state;
	load("warning", &s);
	feed_sample(p, &s, TIMESTAMP, NULL);
	feed_sample(q, &s, TIMESTAMP_CALLER, "C3");
	load("gpf", &s);
	feed_sample(p, &s, PLAIN, NULL);
	report_finish(p);
	report_finish(q);
	assert_int_equal(report_count(p), 2);
	assert_true(report_same(report_get(p, 0), report_get(q, 0)));
	assert_int_equal(report_get(p, 0)->hash, report_get(q, 0)->hash);
	assert_false(report_same(report_get(p, 0), report_get(p, 1)));
	assert_int_not_equal(report_get(p, 0)->hash, report_get(p, 1)->hash);
	report_parser_destroy(p);
	report_parser_destroy(q);

	/* Two bugs reached the same way (one call path into LKDTM) are two bugs: the function leads the signature. */
	p = make();
	load("lkdtm-bug", &s);
	feed_sample(p, &s, PLAIN, NULL);
	load("lkdtm-exception", &s);
	feed_sample(p, &s, PLAIN, NULL);
	report_finish(p);
	assert_int_equal(report_count(p), 2);
	assert_int_equal(report_get(p, 0)->kind, report_get(p, 1)->kind);
	assert_false(report_same(report_get(p, 0), report_get(p, 1)));
	assert_int_not_equal(report_get(p, 0)->hash, report_get(p, 1)->hash);
	report_parser_destroy(p);
}

/* Grouping across runs: the same bug in runs 0 and 2 is one group, in run order, apart from another bug. */
static void test_refs_sort(void **state)
{
	struct report_parser *runs[3] = { make(), make(), make() };
	struct report_ref refs[4];
	size_t n = 0;
	struct sample s;

	(void)state;
	load("gpf", &s);
	feed_sample(runs[0], &s, PLAIN, NULL);
	load("warning", &s);
	feed_sample(runs[0], &s, PLAIN, NULL);
	load("gpf", &s);
	feed_sample(runs[1], &s, TIMESTAMP, NULL);
	load("warning", &s);
	feed_sample(runs[2], &s, TIMESTAMP_CALLER, "C1");
	for (size_t r = 3; r-- > 0;) { /* fed from the last run, so the sort must order the runs */
		report_finish(runs[r]);
		for (size_t i = 0; i < report_count(runs[r]); i++)
			refs[n++] = (struct report_ref){ .report = report_get(runs[r], i), .run = r, .index = i };
	}
	assert_int_equal(n, 4);
	report_refs_sort(refs, n);
	/* Two groups of two; within each, run order. */
	assert_true(report_same(refs[0].report, refs[1].report));
	assert_true(report_same(refs[2].report, refs[3].report));
	assert_false(report_same(refs[1].report, refs[2].report));
	assert_true(refs[0].run < refs[1].run);
	assert_true(refs[2].run < refs[3].run);
	assert_true((refs[0].run == 0 && refs[1].run == 1) || (refs[0].run == 0 && refs[1].run == 2));
	report_refs_sort(refs, 0); /* nothing to sort is no error */
	for (size_t r = 0; r < 3; r++)
		report_parser_destroy(runs[r]);
}

/* A real panic (LKDTM's): with kvmini's panic=-1 the guest resets before the end marker, and the report runs to
 * the end of the console. */
static void test_panic_to_console_end(void **state)
{
	static const struct expect x = { "lkdtm-panic", REPORT_PANIC, "kernel panic: dumptest", "lkdtm_PANIC",
					  "lkdtm_PANIC direct_entry full_proxy_write vfs_write ksys_write",
					  "Kernel panic - not syncing: dumptest", "Kernel Offset: disabled" };
	struct report_parser *p = make();
	struct sample s;

	(void)state;
	load(x.file, &s);
	feed_sample(p, &s, PLAIN, NULL);
	report_finish(p);
	assert_int_equal(report_count(p), 1);
	check_report(report_get(p, 0), &x, PLAIN);
	report_parser_destroy(p);
}

/* The caps: reports per run, lines and bytes per report, reports open at once. */
static void test_caps(void **state)
{
	struct report_parser *p = make();
	char line[REPORT_LINE_MAX * 2];

	(void)state;
	for (int i = 0; i < REPORT_MAX + 8; i++)
		assert_int_equal(feed(p, "Kernel panic - not syncing: again"), 1);
	report_finish(p);
	assert_int_equal(report_count(p), REPORT_MAX);
	assert_int_equal(report_dropped(p), 8);
	report_parser_destroy(p);

	/* a report that never ends: cut at the line cap, later lines are not its */
	p = make();
	feed(p, "INFO: task sh:60 blocked for more than 20 seconds.");
	for (int i = 0; i < 3 * REPORT_LINES_MAX; i++)
		feed(p, "  some line of the report");
	report_finish(p);
	assert_int_equal(report_count(p), 1);
	assert_true(report_get(p, 0)->truncated);
	assert_true(report_get(p, 0)->len <= REPORT_BYTES_MAX);
	report_parser_destroy(p);

	/* long lines: cut at REPORT_LINE_MAX, and the bytes cap holds */
	p = make();
	memset(line, 'x', sizeof(line));
	memcpy(line, "BUG: x", 6);
	assert_int_equal(report_line(p, line, sizeof(line)), 1);
	for (int i = 0; i < REPORT_LINES_MAX; i++)
		report_line(p, line + 6, sizeof(line) - 6);
	report_finish(p);
	assert_int_equal(report_count(p), 1);
	assert_true(report_get(p, 0)->truncated);
	assert_true(report_get(p, 0)->len <= REPORT_BYTES_MAX);
	assert_true(strlen(report_get(p, 0)->title) < REPORT_TITLE_MAX);
	report_parser_destroy(p);

	/* a header longer than a title: cut (the fuzzer found one that indexed past the head) */
	p = make();
	memset(line, 'x', 300);
	memcpy(line, "list_", 5);
	strcpy(line + 300, " corruption.");
	assert_int_equal(feed(p, line), 1);
	report_finish(p);
	assert_int_equal(report_get(p, 0)->kind, REPORT_LIST_CORRUPTION);
	assert_int_equal(strlen(report_get(p, 0)->title), REPORT_TITLE_MAX - 1);
	report_parser_destroy(p);

	/* more callers reporting at once than can be open: the stalest ends, all are kept */
	p = make();
	for (int i = 0; i < 12; i++) {
		snprintf(line, sizeof(line), "[T%d] BUG: thing %d happened", i, i);
		assert_int_equal(feed(p, line), 1);
	}
	for (int i = 0; i < 12; i++) {
		snprintf(line, sizeof(line), "[T%d]  fn%d+0x1/0x2", i, i);
		feed(p, line);
	}
	report_finish(p);
	assert_int_equal(report_count(p), 12);
	assert_string_equal(report_get(p, 0)->title, "BUG: thing 0 happened");
	assert_string_equal(report_get(p, 11)->signature, "fn11");
	report_parser_destroy(p);
}

/* Reports a real kernel printed (Debian's 6.1 with LKDTM, in the nested bench; tests/boot/smoke-lkdtm.sh), whole. */
static void test_real_reports(void **state)
{
	static const struct {
		const char *file;
		enum report_kind kind;
		const char *title;
	} real[] = {
		{ "lkdtm-bug", REPORT_BUG, "kernel BUG in lkdtm_BUG" },
		{ "lkdtm-exception", REPORT_BUG, "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION" },
		{ "lkdtm-soft-lockup", REPORT_SOFT_LOCKUP, "BUG: soft lockup in lkdtm_SOFTLOCKUP" },
		{ "lkdtm-hung-task", REPORT_HUNG_TASK, "INFO: task hung in direct_entry" },
		{ "lkdtm-panic", REPORT_PANIC, "kernel panic: dumptest" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(real); i++) {
		char path[128], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		struct report_parser *p = make();
		FILE *f;

		snprintf(path, sizeof(path), "tests/unit/reports/real/%s.txt", real[i].file);
		f = fopen(path, "r");
		if (!f)
			fail_msg("cannot open %s (run from the tree's top directory)", path);
		while ((len = getline(&line, &cap, f)) > 0)
			report_line(p, line, (size_t)len);
		free(line);
		fclose(f);
		report_finish(p);
		if (report_count(p) != 1)
			fail_msg("%s: %zu reports", path, report_count(p));
		assert_int_equal(report_get(p, 0)->kind, real[i].kind);
		assert_string_equal(report_get(p, 0)->title, real[i].title);
		report_parser_destroy(p);
	}
}

/* Serial noise and hostile lines: no report invented, nothing read out of bounds (ASan checks the latter). */
static void test_garbage(void **state)
{
	static const char *const lines[] = {
		"", "[", "[]", "[[[[[[[[", "[T", "[T1", "[   1.0][T1", "[ 1.0][T1]", "[C]", "]]]]",
		"+0x", "?  +0x/0x", "[<ffff", "[<>] +0x1/0x2", "RIP: ", "RIP: 0010:", "RIP: 0010:+0x1",
		"list_", "refcount_t: ", "BUG: ", "UBSAN: ", "INFO: rcu stall", "Read of size", "(){", "===",
		"is trying to acquire lock:", "(", "---[ end ", ": 0000 [#", ": zzzz [#1]", "x: 0000 [#",
	};
	struct report_parser *p = make();
	const char nul[] = "BUG: with\0nul\r\n";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		feed(p, lines[i]);
	for (int i = 0; i < 2000; i++) {
		char junk[64];

		for (size_t j = 0; j < sizeof(junk); j++)
			junk[j] = (char)((i * 131 + j * 7919) % 251);
		report_line(p, junk, sizeof(junk));
	}
	report_finish(p);
	assert_in_range(report_count(p), 1, REPORT_MAX);
	assert_null(report_get(p, report_count(p)));
	report_parser_destroy(p);

	/* NUL bytes dropped, the CR LF ending ignored */
	p = make();
	assert_int_equal(report_line(p, nul, sizeof(nul) - 1), 1);
	report_finish(p);
	assert_string_equal(report_get(p, 0)->text, "BUG: withnul\n");
	assert_string_equal(report_get(p, 0)->title, "BUG: withnul");
	report_parser_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind), cmocka_unit_test(test_kind_names), cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_truncated),  cmocka_unit_test(test_report_ends), cmocka_unit_test(test_titles),
		cmocka_unit_test(test_signature),  cmocka_unit_test(test_same),        cmocka_unit_test(test_refs_sort), cmocka_unit_test(test_caps),
		cmocka_unit_test(test_panic_to_console_end), cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_real_reports),
	};

	alarm(60); /* the parser must never loop on its input: a hang fails here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
