// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reports open at once, one per printk caller (a CPU or a task); a new one past this ends the stalest. */
#define OPEN_MAX 8
#define KEY_MAX 16
#define LOCK_NAME_MAX 64

static const char *const kind_names[REPORT_KIND_COUNT] = {
	[REPORT_PANIC] = "panic",
	[REPORT_OOPS] = "oops",
	[REPORT_GPF] = "gpf",
	[REPORT_BUG] = "bug",
	[REPORT_KASAN] = "kasan",
	[REPORT_KMSAN] = "kmsan",
	[REPORT_KCSAN] = "kcsan",
	[REPORT_KFENCE] = "kfence",
	[REPORT_UBSAN] = "ubsan",
	[REPORT_WARNING] = "warning",
	[REPORT_LOCKDEP] = "lockdep",
	[REPORT_RCU_STALL] = "rcu-stall",
	[REPORT_SOFT_LOCKUP] = "soft-lockup",
	[REPORT_HARD_LOCKUP] = "hard-lockup",
	[REPORT_HUNG_TASK] = "hung-task",
	[REPORT_LIST_CORRUPTION] = "list-corruption",
	[REPORT_REFCOUNT] = "refcount",
	[REPORT_OOM] = "oom",
	[REPORT_KMEMLEAK] = "kmemleak",
};

/*
 * The reporting machinery: frames (and header or RIP functions) skipped
 * before the function a title names and before a signature's first frame.
 * A trailing '*' matches any name starting with what precedes it.
 */
static const char *const machinery[] = {
	"dump_stack*", "show_stack*", "show_trace_log_lvl", "__warn*", "warn_slowpath*", "report_bug", "handle_bug",
	"exc_invalid_op", "asm_exc_invalid_op", "do_error_trap", "do_trap", "die", "die_addr", "oops_end", "panic",
	"nmi_panic", "check_panic_on_warn", "kasan_report*", "kasan_check_*", "__kasan_check_*", "__asan_*",
	"check_region_inline", "print_report", "print_address_description*", "kmsan_report", "kmsan_internal_*",
	"__msan_*", "kcsan_report*", "kcsan_setup_watchpoint", "__tsan_*", "kfence_report_error",
	"kfence_handle_page_fault", "kfence_guarded_free", "__kfence_free", "ubsan_prologue", "ubsan_epilogue",
	"__ubsan_handle_*", "__might_sleep", "__might_resched", "___might_sleep", "__might_fault", "__cant_sleep",
	"__schedule_bug", "__schedule", "schedule", "schedule_timeout", "schedule_preempt_disabled", "io_schedule*",
	"wait_for_completion*", "__wait_for_common", "do_wait_for_common", "mutex_lock*", "__mutex_lock*", "down",
	"down_*", "__down*", "rwsem_down_*", "__list_add_valid*", "__list_del_entry_valid*", "refcount_warn_saturate",
	"__refcount_*", "lock_acquire", "lock_release", "__lock_acquire", "lockdep_*", "check_noncircular",
	"check_prev_add", "check_prevs_add", "validate_chain", "print_circular_bug*", "print_usage_bug", "mark_lock*",
	"print_deadlock_bug", "check_deadlock", "out_of_memory",
	"oom_kill_process", "dump_header", "__alloc_pages*", "alloc_pages*", "__folio_alloc*", "kmemleak_*",
	"slab_post_alloc_hook", "kmem_cache_alloc*", "__kmem_cache_alloc*", "__kmalloc*", "kmalloc*", "kzalloc*",
	"rcu_sched_clock_irq", "rcu_dump_cpu_stacks", "print_cpu_stall*", "update_process_times", "tick_sched_*",
	"__hrtimer_run_queues", "hrtimer_interrupt", "__sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt",
	"asm_sysvec_apic_timer_interrupt", "watchdog_timer_fn",
};

/* Lockdep's headers, after "WARNING: " (the text up to a '!' becomes the title). */
static const char *const lockdep_headers[] = {
	"possible circular locking dependency detected",
	"possible recursive locking detected",
	"inconsistent lock state",
	"possible irq lock inversion dependency detected",
	"suspicious RCU usage",
	"bad unlock balance detected",
	"held lock freed",
	"lock held when returning to user space",
	"lock held at task exit time",
	"nested lock was not taken",
	"bad contention detected",
};

/* What ends an open report, besides a `---[ end ` line, a `=====` ruler, the next report and the caps. */
enum end_rule {
	END_TRACE,  /* only those */
	END_TASK,   /* also the end of its first stack, `</TASK>` */
	END_KILLED, /* an OOM report: also the `Killed process` line */
	END_BLANK,  /* a kmemleak object: also an empty line once its backtrace started */
	END_NOW,    /* one line */
};

struct header {
	enum report_kind kind;
	char head[REPORT_TITLE_MAX];
	char func[REPORT_FUNC_MAX];
	enum end_rule end;
	bool fixed_title; /* the title is the head alone */
	bool die;         /* a die line (Oops, GPF, kernel BUG at, WARNING: CPU): it may continue an open report */
	bool wants_die;   /* a die line in its stream continues this report (a BUG, list or refcount check's trap) */
	bool gated;       /* frames count only after `stack backtrace:` (lockdep prints its chain first) */
};

struct entry {
	struct report r;
	struct header h;
	char *buf;
	size_t lines;
	bool open;
	char key[KEY_MAX];
	unsigned long last_use;
	char rip_func[REPORT_FUNC_MAX];
	char access[8];
	char held[LOCK_NAME_MAX], wanted[LOCK_NAME_MAX];
	char *lock_next; /* held or wanted: the next line names that lock */
	char frames[REPORT_SIG_FRAMES][REPORT_FUNC_MAX];
	int n_frames;
	enum { STACK_NONE, STACK_IN, STACK_DONE } stack;
	bool gate_open;
	bool died;
};

struct report_parser {
	struct entry e[REPORT_MAX];
	size_t n;
	size_t dropped;
	unsigned long clock;
	bool finished;
	char line[REPORT_LINE_MAX + 1];
};

const char *report_kind_name(enum report_kind k)
{
	return (unsigned)k < REPORT_KIND_COUNT ? kind_names[k] : NULL;
}

int report_parser_create(struct report_parser **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void report_parser_destroy(struct report_parser *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].buf);
	free(p);
}

/* Copies s[0..n) into dst[size] as a string, cut to fit. */
static void put(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* snprintf whose cutting is intended: titles and heads are cut to their fields. */
__attribute__((format(printf, 3, 4))) static void cut_printf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static bool is_sym_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '$';
}

/*
 * The function name of the symbol ending at s[end) ("foo.isra.0" -> "foo"):
 * compiler suffixes after a '.' would split one function into several.
 */
static void sym_before(char dst[REPORT_FUNC_MAX], const char *s, size_t end)
{
	size_t start = end, n;

	while (start > 0 && is_sym_char(s[start - 1]) && end - start < 2 * REPORT_FUNC_MAX)
		start--;
	for (n = 0; start + n < end && s[start + n] != '.'; n++)
		;
	put(dst, REPORT_FUNC_MAX, s + start, n);
}

/* The function of the first `SYM+0x` in s, or "" when there is none. */
static void sym_in(char dst[REPORT_FUNC_MAX], const char *s)
{
	const char *plus = strstr(s, "+0x");

	dst[0] = '\0';
	if (plus)
		sym_before(dst, s, (size_t)(plus - s));
}

/* A word of its own: not preceded by a letter, digit or '_' (`DEBUG:` holds no `BUG:`). */
static const char *find_word(const char *s, const char *word)
{
	for (const char *at = strstr(s, word); at; at = strstr(at + 1, word))
		if (at == s || !is_sym_char(at[-1]) || at[-1] == '.')
			return at;
	return NULL;
}

static bool is_machinery(const char *fn)
{
	for (size_t i = 0; i < ARRAY_SIZE(machinery); i++) {
		size_t n = strlen(machinery[i]);

		if (machinery[i][n - 1] == '*' ? !strncmp(fn, machinery[i], n - 1) : !strcmp(fn, machinery[i]))
			return true;
	}
	return false;
}

/*
 * A frame line: optional `[<hex>] ` (kmemleak, older kernels), then
 * `SYM+0xOFF/0xSIZE` and an optional ` [module]`. Returns 1 with the
 * function in fn, 2 for a `?` frame (an unreliable guess, dropped), 0 when
 * the line is no frame.
 */
static int parse_frame(const char *s, char fn[REPORT_FUNC_MAX])
{
	const char *plus;
	int rc = 1;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '[' && s[1] == '<') {
		s = strchr(s, '>');
		if (!s || s[1] != ']')
			return 0;
		s += 2;
		while (*s == ' ')
			s++;
	}
	if (s[0] == '?' && s[1] == ' ') {
		rc = 2;
		s += 2;
	}
	plus = strstr(s, "+0x");
	if (!plus || plus == s || !strstr(plus, "/0x"))
		return 0;
	for (const char *c = s; c < plus; c++)
		if (!is_sym_char(*c))
			return 0;
	sym_before(fn, s, (size_t)(plus - s));
	return fn[0] ? rc : 0;
}

/* `: 0000 [#1]` (the x86 die header's error code and die counter); returns where the ':' is, or NULL. */
static const char *die_counter(const char *s)
{
	for (const char *at = strstr(s, " [#"); at; at = strstr(at + 1, " [#")) {
		if (at - s >= 6 && at[-5] == ' ' && at[-6] == ':') {
			bool hex = true;

			for (int i = 1; i <= 4; i++)
				hex = hex && strchr("0123456789abcdef", at[-i]) && at[-i];
			if (hex && at[3] >= '0' && at[3] <= '9')
				return at - 6;
		}
	}
	return NULL;
}

/* The text from s up to the first of `stops` (or its end), trimmed, into dst. */
static void text_until(char *dst, size_t size, const char *s, const char *const *stops, size_t n_stops)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n_stops; i++) {
		const char *at = strstr(s, stops[i]);

		if (at && (size_t)(at - s) < n)
			n = (size_t)(at - s);
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.' || s[n - 1] == ':'))
		n--;
	put(dst, size, s, n);
}

/* `BUG: KASAN: TYPE in FUNC+0x...` and its kin: "KASAN: TYPE" and FUNC. */
static void sanitizer_header(struct header *h, const char *name, size_t name_len, const char *rest)
{
	static const char *const in[] = { " in " };
	const char *at = strstr(rest, " in ");
	char type[96];

	text_until(type, sizeof(type), rest, in, ARRAY_SIZE(in));
	cut_printf(h->head, sizeof(h->head), "%.*s: %s", (int)name_len, name, type);
	if (at) {
		size_t n = 0;

		at += 4;
		while (is_sym_char(at[n]) && at[n] != '.')
			n++;
		put(h->func, sizeof(h->func), at, n);
	}
}

/* Recognises a report's first line (the body after any prefixes): true with *h filled. */
static bool classify(const char *s, struct header *h)
{
	static const char *const bug_stops[] = { ":", ",", "!", " at ", " for ", " in ", " on ", " - " };
	static const char *const colon[] = { ":" };
	static const char *const refcount_stops[] = { ";", "." };
	const char *at, *die;

	memset(h, 0, sizeof(*h));
	h->end = END_TASK;
	if ((at = strstr(s, "Kernel panic - not syncing"))) {
		static const char *const none[] = { " ]---" };

		at += strlen("Kernel panic - not syncing");
		at += strspn(at, ": ");
		h->kind = REPORT_PANIC;
		h->end = END_TRACE;
		h->fixed_title = true;
		strcpy(h->head, "kernel panic: ");
		text_until(h->head + strlen(h->head), 100, at, none, ARRAY_SIZE(none));
		return true;
	}
	if ((at = find_word(s, "BUG: "))) {
		static const struct {
			const char *tag;
			enum report_kind kind;
		} sanitizers[] = {
			{ "KASAN: ", REPORT_KASAN },
			{ "KMSAN: ", REPORT_KMSAN },
			{ "KCSAN: ", REPORT_KCSAN },
			{ "KFENCE: ", REPORT_KFENCE },
		};

		at += strlen("BUG: ");
		for (size_t i = 0; i < ARRAY_SIZE(sanitizers); i++) {
			size_t n = strlen(sanitizers[i].tag);

			if (strncmp(at, sanitizers[i].tag, n))
				continue;
			h->kind = sanitizers[i].kind;
			h->end = END_TRACE;
			sanitizer_header(h, sanitizers[i].tag, n - 2, at + n);
			if (h->kind == REPORT_KCSAN) {
				/* `data-race in f1 / f2`: both functions are the bug, so the title keeps both */
				cut_printf(h->head, sizeof(h->head), "KCSAN: %s", at + n);
				h->fixed_title = true;
			}
			return true;
		}
		if (!strncmp(at, "soft lockup", 11)) {
			h->kind = REPORT_SOFT_LOCKUP;
			strcpy(h->head, "BUG: soft lockup");
			return true;
		}
		h->kind = REPORT_BUG;
		strcpy(h->head, "BUG: ");
		text_until(h->head + 5, sizeof(h->head) - 5, at, bug_stops, ARRAY_SIZE(bug_stops));
		h->wants_die = strstr(at, "unable to handle") || strstr(at, "NULL pointer dereference");
		return true;
	}
	if ((at = strstr(s, "UBSAN: "))) {
		static const char *const in[] = { " in " };

		h->kind = REPORT_UBSAN;
		strcpy(h->head, "UBSAN: ");
		text_until(h->head + 7, sizeof(h->head) - 7, at + 7, in, ARRAY_SIZE(in));
		return true;
	}
	if (strstr(s, "Watchdog detected hard LOCKUP")) {
		h->kind = REPORT_HARD_LOCKUP;
		strcpy(h->head, "hard LOCKUP");
		return true;
	}
	if ((at = strstr(s, "INFO: task ")) && strstr(at, " blocked for more than ")) {
		h->kind = REPORT_HUNG_TASK;
		strcpy(h->head, "INFO: task hung");
		return true;
	}
	if ((at = strstr(s, "INFO: rcu")) && strstr(at, " stall")) {
		h->kind = REPORT_RCU_STALL;
		h->fixed_title = true;
		strcpy(h->head, "INFO: ");
		text_until(h->head + 6, sizeof(h->head) - 6, at + 6, colon, ARRAY_SIZE(colon));
		return true;
	}
	if ((at = find_word(s, "WARNING: "))) {
		at += strlen("WARNING: ");
		for (size_t i = 0; i < ARRAY_SIZE(lockdep_headers); i++) {
			if (strncmp(at, lockdep_headers[i], strlen(lockdep_headers[i])))
				continue;
			h->kind = REPORT_LOCKDEP;
			h->gated = true;
			strcpy(h->head, lockdep_headers[i]);
			return true;
		}
		if (strstr(at, "-safe -> ") && strstr(at, "lock order detected")) {
			static const char *const bang[] = { "!" };

			h->kind = REPORT_LOCKDEP;
			h->gated = true;
			text_until(h->head, sizeof(h->head), at, bang, ARRAY_SIZE(bang));
			return true;
		}
		/* __warn's `CPU: N PID: N at FILE:LINE FUNC+0x..`, or another layout that names a location */
		if (strncmp(at, "CPU: ", 5) && !(strstr(at, " at ") && strstr(at, "+0x")))
			return false;
		h->kind = REPORT_WARNING;
		h->end = END_TRACE;
		h->die = true;
		strcpy(h->head, "WARNING");
		sym_in(h->func, strstr(at, " at ") ? strstr(at, " at ") : at);
		return true;
	}
	if ((at = strstr(s, "kernel BUG at "))) {
		h->kind = REPORT_BUG;
		h->die = h->wants_die = true;
		strcpy(h->head, "kernel BUG");
		return true;
	}
	if ((at = strstr(s, "general protection fault")) && (at[24] == ':' || at[24] == ',')) {
		h->kind = REPORT_GPF;
		h->end = END_TRACE;
		h->die = true;
		strcpy(h->head, "general protection fault");
		return true;
	}
	if ((die = die_counter(s)) || (at = find_word(s, "Oops: ")) || (at = find_word(s, "Oops - "))) {
		h->kind = REPORT_OOPS;
		h->end = END_TRACE;
		h->die = true;
		strcpy(h->head, "Oops");
		if (die) {
			/* `invalid opcode: 0000 [#1]`, `Oops: invalid opcode: 0000 [#1]`: the trap's name */
			const char *start = s + strspn(s, " ");

			if (!strncmp(start, "Oops: ", 6) && start + 6 < die)
				start += 6;
			if (die > start && strncmp(start, "Oops", 4))
				put(h->head, sizeof(h->head), start, (size_t)(die - start));
		}
		return true;
	}
	/* `list_add corruption`: one word, then " corruption" */
	if ((at = find_word(s, "list_")) && (die = strstr(at, " corruption")) && !memchr(at, ' ', (size_t)(die - at))) {
		h->kind = REPORT_LIST_CORRUPTION;
		h->end = END_TRACE;
		h->wants_die = true;
		put(h->head, sizeof(h->head), at, (size_t)(die - at) + strlen(" corruption"));
		return true;
	}
	if ((at = strstr(s, "refcount_t: "))) {
		h->kind = REPORT_REFCOUNT;
		h->end = END_TRACE;
		h->wants_die = true;
		text_until(h->head, sizeof(h->head), at, refcount_stops, ARRAY_SIZE(refcount_stops));
		return true;
	}
	if (strstr(s, " invoked oom-killer: ")) {
		h->kind = REPORT_OOM;
		h->end = END_KILLED;
		strcpy(h->head, "out of memory");
		return true;
	}
	if (strstr(s, "out of memory: Killed process ")) {
		h->kind = REPORT_OOM;
		h->end = END_NOW;
		strcpy(h->head, "out of memory");
		return true;
	}
	if (strstr(s, "unreferenced object 0x")) {
		h->kind = REPORT_KMEMLEAK;
		h->end = END_BLANK;
		strcpy(h->head, "memory leak");
		return true;
	}
	if ((at = strstr(s, "kmemleak: ")) && strstr(at, " new suspected memory leaks")) {
		h->kind = REPORT_KMEMLEAK;
		h->end = END_NOW;
		h->fixed_title = true;
		strcpy(h->head, "kmemleak: new suspected memory leaks");
		return true;
	}
	return false;
}

/*
 * Skips a printk timestamp `[   12.345678]` and a caller prefix `[T123]` /
 * `[    C1]` (CONFIG_PRINTK_CALLER), either or both, at the start of s.
 * The caller prefix, when there is one, goes into key: lines of one caller
 * belong together even when two CPUs report at once.
 */
static const char *strip_prefixes(const char *s, char key[KEY_MAX])
{
	key[0] = '\0';
	for (int i = 0; i < 2; i++) {
		const char *b = i ? s + strspn(s, " ") : s; /* `[ts] [T1]` as well as `[ts][T1]` */
		const char *c = b + 1 + strspn(b + 1, " ");
		const char *end = b[0] == '[' ? strchr(c, ']') : NULL;

		if (!end || end - c >= KEY_MAX)
			break;
		if ((*c == 'T' || *c == 'C') && end > c + 1 && strspn(c + 1, "0123456789") == (size_t)(end - c - 1))
			put(key, KEY_MAX, c, (size_t)(end - c));
		else if (end == c || strspn(c, "0123456789.") != (size_t)(end - c))
			break;
		s = end + 1;
	}
	return s;
}

static struct entry *open_entry(struct report_parser *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].open && !strcmp(p->e[i].key, key))
			return &p->e[i];
	return NULL;
}

static void finalise(struct entry *e)
{
	struct report *r = &e->r;
	const char *fn = "";
	uint32_t hash = 2166136261u;
	size_t at = 0;
	int lead;

	e->open = false;
	if (e->h.func[0] && !is_machinery(e->h.func))
		fn = e->h.func;
	else if (e->rip_func[0] && !is_machinery(e->rip_func))
		fn = e->rip_func;
	else if (e->n_frames)
		fn = e->frames[0];
	put(r->function, sizeof(r->function), fn, strlen(fn));

	if (e->h.fixed_title)
		cut_printf(r->title, sizeof(r->title), "%s", e->h.head);
	else if (e->held[0] && e->wanted[0])
		cut_printf(r->title, sizeof(r->title), "%s: %s / %s", e->h.head, e->held, e->wanted);
	else
		cut_printf(r->title, sizeof(r->title), "%s%s%s%s%s", e->h.head, e->access[0] ? " " : "", e->access,
			 fn[0] ? " in " : "", fn);

	/*
	 * The function the report is about leads the signature when the stack does not start with it (a trace
	 * under a RIP starts at the caller): else two bugs reached the same way, as LKDTM's BUG and
	 * EXCEPTION are, would be one.
	 */
	lead = e->n_frames && fn[0] && strcmp(fn, e->frames[0]);
	if (lead)
		at += (size_t)snprintf(r->signature, sizeof(r->signature), "%s", fn);
	for (int i = 0; i < e->n_frames && lead + i < REPORT_SIG_FRAMES; i++)
		at += (size_t)snprintf(r->signature + at, sizeof(r->signature) - at, "%s%s", at ? " " : "",
				       e->frames[i]);
	if (!e->n_frames)
		cut_printf(r->signature, sizeof(r->signature), "%s", r->title);
	for (const char *c = kind_names[r->kind]; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 16777619u;
	hash *= 16777619u; /* a NUL between the two, as FNV-1a hashes it */
	for (const char *c = r->signature; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 16777619u;
	r->hash = hash;
	r->text = e->buf;
}

/* Appends the line to the report's text; false once a cap is reached (the report then ends). */
static bool keep(struct entry *e, const char *line, size_t len)
{
	if (e->lines >= REPORT_LINES_MAX || e->r.len + len + 1 > REPORT_BYTES_MAX) {
		e->r.truncated = true;
		return false;
	}
	memcpy(e->buf + e->r.len, line, len);
	e->r.len += len;
	e->buf[e->r.len++] = '\n';
	e->buf[e->r.len] = '\0';
	e->lines++;
	return true;
}

static int start(struct report_parser *p, const struct header *h, const char *key, const char *line, size_t len)
{
	struct entry *e, *stalest = NULL;
	size_t n_open = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!p->e[i].open)
			continue;
		n_open++;
		if (!stalest || p->e[i].last_use < stalest->last_use)
			stalest = &p->e[i];
	}
	if (p->n == REPORT_MAX) {
		p->dropped++;
		return 1;
	}
	if (n_open >= OPEN_MAX)
		finalise(stalest);
	e = &p->e[p->n];
	e->buf = malloc(REPORT_BYTES_MAX + 1);
	if (!e->buf)
		return -ENOMEM;
	p->n++;
	e->open = true;
	e->h = *h;
	e->r.kind = h->kind;
	e->last_use = p->clock;
	put(e->key, sizeof(e->key), key, strlen(key));
	keep(e, line, len);
	if (h->end == END_NOW)
		finalise(e);
	return 1;
}

static bool is_ruler(const char *s)
{
	size_t n = strspn(s, "=");

	return n >= 10 && s[n + strspn(s + n, " ")] == '\0';
}

/* Reads what a report line says: its stack, RIP, KASAN access, lockdep locks. True when the report ends here. */
static bool follow(struct entry *e, const char *s)
{
	const char *t = s + strspn(s, " \t");
	char fn[REPORT_FUNC_MAX];
	int frame;

	if (e->lock_next) {
		const char *open = strchr(t, '('), *close = open ? strstr(open, "){") : NULL;

		if (close)
			put(e->lock_next, LOCK_NAME_MAX, open + 1, (size_t)(close - open - 1));
		e->lock_next = NULL;
	}
	if (strstr(t, "is trying to acquire lock:"))
		e->lock_next = e->wanted;
	else if (strstr(t, "already holding lock:"))
		e->lock_next = e->held;
	if (!e->access[0] && (!strncmp(t, "Read of size", 12) || !strncmp(t, "Write of size", 13)))
		put(e->access, sizeof(e->access), t, t[0] == 'R' ? 4 : 5);
	if (!strncmp(t, "RIP: ", 5) && !e->rip_func[0] && strchr(t + 5, ':'))
		sym_in(e->rip_func, strchr(t + 5, ':'));

	if (!strncmp(t, "stack backtrace:", 16))
		e->gate_open = true;
	if (!strcmp(t, "</TASK>"))
		return e->h.end == END_TASK && !e->died;
	if (!strcmp(t, "Call Trace:") || !strcmp(t, "<TASK>") || !strcmp(t, "<IRQ>") || !strcmp(t, "</IRQ>") ||
	    !strncmp(t, "backtrace", 9))
		return false;
	frame = parse_frame(t, fn);
	if (frame && (!e->h.gated || e->gate_open) && e->stack != STACK_DONE) {
		e->stack = STACK_IN;
		if (frame == 1 && e->n_frames < REPORT_SIG_FRAMES && (e->n_frames || !is_machinery(fn)))
			strcpy(e->frames[e->n_frames++], fn);
	} else if (!frame && e->stack == STACK_IN) {
		e->stack = STACK_DONE;
	}
	if (e->h.end == END_KILLED && strstr(t, "Killed process "))
		return true;
	return e->h.end == END_BLANK && !*t && e->stack != STACK_NONE;
}

int report_line(struct report_parser *p, const char *line, size_t len)
{
	char key[KEY_MAX];
	struct header h;
	struct entry *e;
	const char *body;
	size_t n = 0;

	if (p->finished)
		return 0;
	for (size_t i = 0; i < len && n < REPORT_LINE_MAX; i++)
		if (line[i])
			p->line[n++] = line[i];
	while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
		n--;
	p->line[n] = '\0';
	body = strip_prefixes(p->line, key);
	e = open_entry(p, key);
	p->clock++;
	if (e)
		e->last_use = p->clock;

	if (e && e->h.end == END_KILLED && strstr(body, "Killed process ")) {
		keep(e, p->line, n);
		finalise(e);
		return 0;
	}
	/* a terminator (`---[ end Kernel panic - not syncing: ...]---` repeats a header) */
	if (strstr(body, "---[ end ") || is_ruler(body + strspn(body, " "))) {
		if (e) {
			keep(e, p->line, n);
			finalise(e);
		}
		return 0;
	}
	if (classify(body, &h)) {
		if (e && h.die && e->h.wants_die && !e->died) {
			/*
			 * The WARNING, BUG() or trap a BUG, list or refcount check goes on
			 * to: the same report. Only the trap's die line is the last of them.
			 */
			e->died = h.kind == REPORT_OOPS || h.kind == REPORT_GPF;
			e->h.end = END_TRACE;
			if (!keep(e, p->line, n))
				finalise(e);
			return 0;
		}
		if (e)
			finalise(e);
		return start(p, &h, key, p->line, n);
	}
	if (!e)
		return 0;
	if (!keep(e, p->line, n) || follow(e, body))
		finalise(e);
	return 0;
}

void report_finish(struct report_parser *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].open)
			finalise(&p->e[i]);
	p->finished = true;
}

size_t report_count(const struct report_parser *p)
{
	return p->n;
}

const struct report *report_get(const struct report_parser *p, size_t i)
{
	return i < p->n && !p->e[i].open ? &p->e[i].r : NULL;
}

enum report_kind report_kind_at(const struct report_parser *p, size_t i)
{
	return p->e[i].r.kind;
}

size_t report_dropped(const struct report_parser *p)
{
	return p->dropped;
}

int report_kind_parse(const char *list, uint32_t *mask, struct errmsg *err)
{
	const char *s = list;

	*mask = 0;
	for (;;) {
		size_t n = strcspn(s, ",");
		size_t k;

		for (k = 0; k < REPORT_KIND_COUNT; k++)
			if (strlen(kind_names[k]) == n && !strncmp(s, kind_names[k], n))
				break;
		if (k == REPORT_KIND_COUNT)
			return errmsg_set(err, EINVAL, "unknown report kind '%.*s' (known: panic, oops, gpf, bug, kasan, "
				"kmsan, kcsan, kfence, ubsan, warning, lockdep, rcu-stall, soft-lockup, hard-lockup, "
				"hung-task, list-corruption, refcount, oom, kmemleak)", (int)(n > 40 ? 40 : n), s);
		*mask |= 1u << k;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

bool report_same(const struct report *a, const struct report *b)
{
	return a->kind == b->kind && !strcmp(a->signature, b->signature);
}

static int report_ref_cmp(const void *pa, const void *pb)
{
	const struct report_ref *a = pa, *b = pb;
	int sig;

	if (a->report->kind != b->report->kind)
		return a->report->kind < b->report->kind ? -1 : 1;
	if ((sig = strcmp(a->report->signature, b->report->signature)))
		return sig;
	if (a->run != b->run)
		return a->run < b->run ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

void report_refs_sort(struct report_ref *refs, size_t n)
{
	if (n > 1)
		qsort(refs, n, sizeof(*refs), report_ref_cmp);
}
