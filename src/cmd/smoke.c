// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini smoke: does this kernel boot? Each combination of --cpus and --mem
 * runs in a child process of its own (so runs can go in parallel and a
 * crashing run cannot take the others down); the parent collects their
 * consoles and verdicts, prints one line per run, and writes --log and --junit.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "boot/initramfs.h"
#include "clock.h"
#include "commands.h"
#include "log.h"
#include "parse.h"
#include "seccomp.h"
#include "smoke/bisect.h"
#include "smoke/junit.h"
#include "smoke/matrix.h"
#include "smoke/preflight.h"
#include "smoke/report.h"
#include "smoke/run_one.h"

#define SMOKE_MAX_PATTERNS 16
#define SMOKE_DEFAULT_TIMEOUT 60
#define SMOKE_TAIL_LINES 50
/* Runs named on a line of the report summary; the rest are counted. */
#define SMOKE_GROUP_NAMES 8
/* A child that outlives its own deadline by this much is killed. */
#define SMOKE_KILL_MARGIN_MS 30000

struct smoke_opts {
	struct vm_config base;
	struct matrix matrix;
	const char *cpus, *mem; /* the lists as given */
	char mem_list[256];
	const char *expect[SMOKE_MAX_PATTERNS];
	size_t n_expect;
	const char *fail[SMOKE_MAX_PATTERNS];
	size_t n_fail;
	const char *allow[SMOKE_MAX_PATTERNS];
	size_t n_allow;
	const char *config_path; /* --config; NULL: found beside the kernel */
	bool no_preflight;
	bool bisect;
	unsigned timeout_s;
	const char *junit_path;
	const char *log_path;
	const char *save_initrd_path;
	bool verbose;
	unsigned jobs;
};

struct smoke_job {
	char name[160];
	unsigned cpus;
	uint64_t mem;
	pid_t pid;
	int console_fd; /* -1 once at EOF */
	int result_fd;  /* -1 once at EOF */
	size_t result_got;
	struct smoke_result result;
	FILE *console; /* everything the guest printed */
	struct report_parser *reports; /* the console's crash reports, classified again once the run is over */
	/* The cell's boot path, as preflight needs it. */
	bool console_virtio;
	bool pvh;
	uint64_t kill_at_ms;
	bool done;
};

static int add_pattern(const char **list, size_t *n, const char *opt, const char *regex, struct errmsg *e)
{
	if (*n == SMOKE_MAX_PATTERNS)
		return errmsg_set(e, EINVAL, "%s: at most %d of them", opt, SMOKE_MAX_PATTERNS);
	list[(*n)++] = regex;
	return 0;
}

static int parse_expect(void *opts, const char *value, struct errmsg *e)
{
	struct smoke_opts *o = opts;

	return add_pattern(o->expect, &o->n_expect, "--expect", value, e);
}

static int parse_fail(void *opts, const char *value, struct errmsg *e)
{
	struct smoke_opts *o = opts;

	return add_pattern(o->fail, &o->n_fail, "--fail", value, e);
}

static int parse_allow(void *opts, const char *value, struct errmsg *e)
{
	struct smoke_opts *o = opts;

	return add_pattern(o->allow, &o->n_allow, "--allow", value, e);
}

static int parse_timeout(void *timeout_s, const char *value, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(value, 1, 86400, &n))
		return errmsg_set(e, EINVAL, "--timeout '%s': must be a number of seconds from 1 to 86400", value);
	*(unsigned *)timeout_s = n;
	return 0;
}

static int parse_jobs(void *jobs, const char *value, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(value, 1, 256, &n))
		return errmsg_set(e, EINVAL, "--jobs '%s': must be a number from 1 to 256", value);
	*(unsigned *)jobs = n;
	return 0;
}

#define AT(field) offsetof(struct smoke_opts, field)

static const struct option_spec smoke_options[] = {
	{ "cpus", 0, "LIST", "vCPU counts, e.g. 1,2,4 (default 1)", option_string, AT(cpus) },
	{ "mem", 0, "LIST", "memory sizes, e.g. 256M,1G (default 512M); every combination runs", option_string,
	  AT(mem) },
	{ "expect", 0, "REGEX", "a console line that must appear (repeatable; default ^KVMINI-SMOKE-OK$)",
	  parse_expect, 0 },
	{ "fail", 0, "REGEX", "a console line that fails the run (repeatable; any crash report\n"
	  "the kernel prints always does, unless --allow tolerates it)", parse_fail, 0 },
	{ "allow", 0, "KIND[:FUNCTION],...", "crash reports that do not fail the run: kinds (warning, kasan,\n"
	  "lockdep, ...; docs/smoke.md lists them) or a kind in one function\n"
	  "(warning:fpu__init_system_xstate); repeatable", parse_allow, 0 },
	{ "timeout", 0, "SECONDS", "per run (default " OPTION_TEXT(SMOKE_DEFAULT_TIMEOUT) ")", parse_timeout,
	  AT(timeout_s) },
	{ "jobs", 0, "N", "runs at once (default: the host's CPU count)", parse_jobs, AT(jobs) },
	{ "junit", 0, "FILE", "write a JUnit XML report", option_string, AT(junit_path) },
	{ "log", 0, "FILE", "keep the whole console", option_string, AT(log_path) },
	{ "config", 0, "FILE", "the kernel's .config, checked before booting (default: the build\n"
	  "tree's .config, or /boot/config-RELEASE beside the kernel)", option_string, AT(config_path) },
	{ "no-preflight", 0, NULL, "boot without checking the kernel's config", option_set, AT(no_preflight) },
	{ "bisect", 0, NULL, "exit as `git bisect run` wants: 0 pass, 1 kernel failure,\n"
	  "125 when the run could not test the kernel", option_set, AT(bisect) },
	{ .name = NULL },
};

/* Apart from the others: it boots nothing, so none of them has a use with it. */
static const struct option_spec save_initrd_options[] = {
	{ "save-initrd", 0, "FILE", "write the built-in init's initramfs to FILE and boot nothing\n"
	  "(to boot the very same init under another VMM)", option_string, AT(save_initrd_path) },
	{ .name = NULL },
};

/* The groups a boot uses come first, so that --save-initrd can name the first of them given. */
enum { SMOKE_BOOT_GROUPS = 5 };

static size_t smoke_groups(void *opts, struct option_group *g)
{
	struct smoke_opts *o = opts;
	struct vm_config *base = o ? &o->base : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ kernel_options, base, NULL };
	g[n++] = (struct option_group){ initrd_options, base, NULL };
	g[n++] = (struct option_group){ boot_options, base, NULL };
	g[n++] = (struct option_group){ smoke_options, o, NULL };
	g[n++] = (struct option_group){ seccomp_options, base, NULL };
	g[n++] = (struct option_group){ save_initrd_options, o, NULL };
	g[n++] = (struct option_group){ verbose_options, o ? &o->verbose : NULL, NULL };
	return n;
}

const struct option_usage smoke_usage = {
	.synopsis = "--kernel PATH [options]",
	.text = "Boots the kernel and says whether it passed. Without --initrd, kvmini's built-in init\n"
		"prints the kernel release, CPUs and memory, then KVMINI-SMOKE-OK, and powers off.\n"
		"With -v, the console streams to stdout as well.",
	.groups = smoke_groups,
	.notes = "Exit status: 0 pass, 1 fail, 2 usage error, 3 timeout, 4 panic, 5 the kernel's config\n"
		 "lacks what the run needs (the worst run decides); with --bisect: 0, 1 or 125.",
};

static int smoke_parse_args(int argc, char **argv, struct smoke_opts *o, struct errmsg *e)
{
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct option_group groups[OPTION_GROUPS_MAX];
	int err;

	memset(o, 0, sizeof(*o));
	vm_config_init(&o->base);
	o->cpus = "1";
	o->mem = "512M";
	o->timeout_s = SMOKE_DEFAULT_TIMEOUT;
	o->jobs = ncpu > 0 ? (unsigned)ncpu : 1;
	if ((err = options_parse("smoke", argc, argv, groups, smoke_groups(o, groups), e)))
		return err;
	if (o->save_initrd_path) {
		for (size_t g = 0; g < SMOKE_BOOT_GROUPS; g++)
			if (groups[g].given)
				return errmsg_set(e, EINVAL, "smoke: --save-initrd boots nothing, so --%s has no use with it",
						  groups[g].given);
		return 0;
	}
	if (!o->base.kernel_path[0])
		return options_required("smoke", "kernel", e);
	if ((err = matrix_parse_cpus(&o->matrix, o->cpus, VM_MAX_CPUS, e)))
		return err;
	if (strlen(o->mem) >= sizeof(o->mem_list))
		return errmsg_set(e, EINVAL, "--mem: list too long");
	strcpy(o->mem_list, o->mem);
	return matrix_parse_mem(&o->matrix, o->mem_list, host_ram, e);
}

static struct verdict_config verdict_config_of(const struct smoke_opts *o)
{
	return (struct verdict_config){
		.expect = o->expect, .n_expect = o->n_expect, .fail = o->fail, .n_fail = o->n_fail,
		.allow = o->allow, .n_allow = o->n_allow,
		.initrd = true, /* the built-in init is an initramfs too */
		.timeout_s = o->timeout_s,
	};
}

static void job_name(const struct smoke_opts *o, struct smoke_job *j, const char *mem_text)
{
	char kernel[sizeof(o->base.kernel_path)]; /* basename may write to it */

	snprintf(kernel, sizeof(kernel), "%s", o->base.kernel_path);
	snprintf(j->name, sizeof(j->name), "%s %u vCPU%s%s%s", basename(kernel), j->cpus, j->cpus == 1 ? "" : "s",
		 o->matrix.n_mem > 1 ? " " : "", o->matrix.n_mem > 1 ? mem_text : "");
}

/* The machine one cell boots. */
static void job_config(const struct smoke_opts *o, const struct smoke_job *j, struct vm_config *cfg)
{
	*cfg = o->base;
	cfg->nr_cpus = j->cpus;
	cfg->mem_size = j->mem;
}

/* The child: one run, its result written whole to result_fd. */
static void __attribute__((noreturn)) job_child(const struct smoke_opts *o, const struct smoke_job *j,
						 int console_fd, int result_fd)
{
	static struct vm_config cfg; /* static: the device area is large */
	struct verdict_config vcfg = verdict_config_of(o);
	static struct smoke_result res;

	/* A parent that dies must not leave VMs running. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	job_config(o, j, &cfg);
	smoke_run_one(&cfg, &vcfg, console_fd, &res);
	if (write(result_fd, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

static int job_start(const struct smoke_opts *o, struct smoke_job *j)
{
	int console[2], result[2];

	if (pipe2(console, O_CLOEXEC))
		return -errno;
	if (pipe2(result, O_CLOEXEC)) {
		close(console[0]);
		close(console[1]);
		return -errno;
	}
	j->console = tmpfile();
	if (j->console)
		j->pid = fork();
	if (!j->console || j->pid < 0) {
		int err = j->console ? errno : ENOMEM;

		close(console[0]);
		close(console[1]);
		close(result[0]);
		close(result[1]);
		return -err;
	}
	if (j->pid == 0) {
		close(console[0]);
		close(result[0]);
		job_child(o, j, console[1], result[1]);
	}
	close(console[1]);
	close(result[1]);
	j->console_fd = console[0];
	j->result_fd = result[0];
	j->kill_at_ms = monotonic_ms() + o->timeout_s * 1000ULL + SMOKE_KILL_MARGIN_MS;
	return 0;
}

/* Reads what is ready from one of the job's pipes; closes it at EOF. */
static void job_read(const struct smoke_opts *o, struct smoke_job *j, int *fd)
{
	char buf[8192];
	ssize_t n;

	if (fd == &j->result_fd) {
		n = read(*fd, (char *)&j->result + j->result_got, sizeof(j->result) - j->result_got);
		if (n > 0)
			j->result_got += n;
	} else {
		n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			fwrite(buf, 1, n, j->console);
			if (o->verbose)
				fwrite(buf, 1, n, stdout);
		}
	}
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

/* The whole console, into a malloc'd NUL-terminated string (NULL if empty). */
static char *console_all(FILE *f, size_t *len)
{
	long size;
	char *all;

	*len = 0;
	if (!f)
		return NULL; /* a run that never started */
	fflush(f);
	size = ftell(f);
	if (size <= 0 || !(all = malloc(size + 1)))
		return NULL;
	rewind(f);
	size = (long)fread(all, 1, size, f);
	fseek(f, 0, SEEK_END);
	all[size] = '\0';
	*len = (size_t)size;
	return all;
}

/* The last `lines` lines of the console, into a malloc'd string (NULL if empty). */
static char *console_tail(FILE *f, unsigned lines, size_t *len)
{
	char *all = console_all(f, len), *start;
	long size = (long)*len;

	if (!all)
		return NULL;
	start = all + size;
	/* Walk back over `lines` line ends, not counting a final one. */
	for (unsigned seen = 0; start > all; start--)
		if (start[-1] == '\n' && start != all + size && ++seen == lines)
			break;
	*len = all + size - start;
	memmove(all, start, *len + 1);
	return all;
}

/*
 * The console's crash reports, for the failure bodies and the grouping: the
 * same lines the child's verdict classified, so the same reports. A run
 * whose parser cannot be made just has none listed.
 */
static void job_classify(struct smoke_job *j)
{
	size_t len;
	char *all = console_all(j->console, &len), *line, *end;

	if (!all || report_parser_create(&j->reports)) {
		free(all);
		return;
	}
	for (line = all; line < all + len; line = end + 1) {
		end = memchr(line, '\n', all + len - line);
		if (!end)
			end = all + len;
		report_line(j->reports, line, (size_t)(end - line));
	}
	report_finish(j->reports);
	free(all);
}

/* The report that decided the run, as the parent classified it; NULL when none did. */
static const struct report *job_deciding_report(const struct smoke_job *j)
{
	for (size_t i = 0; j->reports && j->result.report_kind[0] && i < report_count(j->reports); i++) {
		const struct report *r = report_get(j->reports, i);

		if (r->hash == j->result.report_hash && !strcmp(r->title, j->result.report_title))
			return r;
	}
	return NULL;
}

static void job_report(struct smoke_job *j)
{
	const struct smoke_result *r = &j->result;
	const struct report *decided = job_deciding_report(j);
	char *tail;
	size_t len;

	if (r->status == VERDICT_PASS && r->init_s >= 0)
		printf("PASS %s: init after %.2f s (first console output after %.2f s)\n", j->name, r->init_s,
		       r->first_output_s);
	else if (r->status == VERDICT_PASS)
		printf("PASS %s: in %.2f s (the init did not report its start)\n", j->name, r->elapsed_s);
	else
		printf("%s %s: %s\n", verdict_status_name(r->status), j->name, r->reason);
	if (decided)
		printf("--- %s report [%08x]%s ---\n%.*s--- end of report ---\n", report_kind_name(decided->kind),
		       decided->hash, decided->truncated ? " (cut)" : "", (int)decided->len, decided->text);
	else if (r->status != VERDICT_PASS && (tail = console_tail(j->console, SMOKE_TAIL_LINES, &len))) {
		printf("--- last %d console lines of %s ---\n%s%s--- end of console ---\n", SMOKE_TAIL_LINES, j->name,
		       tail, len && tail[len - 1] != '\n' ? "\n" : "");
		free(tail);
	}
	fflush(stdout);
}

static void job_finish(struct smoke_job *j)
{
	int status;

	waitpid(j->pid, &status, 0);
	if (j->result_got != sizeof(j->result)) {
		j->result = (struct smoke_result){ .status = VERDICT_ERROR, .first_output_s = -1, .init_s = -1 };
		if (WIFSIGNALED(status))
			snprintf(j->result.reason, sizeof(j->result.reason), "the run was killed by signal %d%s",
				 WTERMSIG(status), WTERMSIG(status) == SIGKILL ? " (it did not stop at its timeout)" : "");
		else
			snprintf(j->result.reason, sizeof(j->result.reason), "the run ended without a result");
	}
	j->done = true;
	job_classify(j);
	job_report(j);
}

/* Runs every job, at most o->jobs at once. */
static int run_jobs(const struct smoke_opts *o, struct smoke_job *jobs, size_t n)
{
	size_t next = 0, finished = 0;

	while (finished < n) {
		struct pollfd pfd[2 * 256];
		int *fds[2 * 256];
		struct smoke_job *owner[2 * 256];
		unsigned active = 0, np = 0;
		uint64_t now = monotonic_ms();

		for (size_t i = 0; i < next; i++) {
			struct smoke_job *j = &jobs[i];

			if (j->done)
				continue;
			if (j->console_fd < 0 && j->result_fd < 0) {
				job_finish(j);
				finished++;
				continue;
			}
			active++;
			if (now >= j->kill_at_ms)
				kill(j->pid, SIGKILL);
			for (int *fd = &j->console_fd; fd; fd = fd == &j->console_fd ? &j->result_fd : NULL)
				if (*fd >= 0) {
					pfd[np] = (struct pollfd){ .fd = *fd, .events = POLLIN };
					fds[np] = fd;
					owner[np++] = j;
				}
		}
		if (next < n && active < o->jobs) {
			int err = job_start(o, &jobs[next]);

			if (err) {
				log_error("smoke: cannot start run '%s': %s", jobs[next].name, strerror(-err));
				return -err;
			}
			next++;
			continue;
		}
		if (!np)
			continue;
		if (poll(pfd, np, 200) < 0 && errno != EINTR)
			return -errno;
		for (unsigned k = 0; k < np; k++)
			if (pfd[k].revents)
				job_read(o, owner[k], fds[k]);
	}
	return 0;
}

static int write_log(const struct smoke_opts *o, struct smoke_job *jobs, size_t n)
{
	FILE *f = fopen(o->log_path, "w");
	int err = 0;

	if (!f) {
		log_error("--log '%s': %s", o->log_path, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < n; i++) {
		char buf[65536];
		size_t got;

		if (n > 1)
			fprintf(f, "=== %s ===\n", jobs[i].name);
		if (!jobs[i].console)
			continue;
		fflush(jobs[i].console);
		rewind(jobs[i].console);
		while ((got = fread(buf, 1, sizeof(buf), jobs[i].console)))
			fwrite(buf, 1, got, f);
	}
	if (fclose(f)) {
		err = -errno;
		log_error("--log '%s': %s", o->log_path, strerror(errno));
	}
	return err;
}

/* The reports --allow does not tolerate, whole, one after another, into a malloc'd string ("" for none). */
static char *failing_reports_text(const struct smoke_job *j, const struct verdict *allow)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; j->reports && i < report_count(j->reports); i++) {
		const struct report *r = report_get(j->reports, i);

		if (!verdict_allows(allow, r))
			fprintf(f, "kvmini: %s report \"%s\" [%08x]%s\n%.*s", report_kind_name(r->kind), r->title, r->hash,
				r->truncated ? " (cut)" : "", (int)r->len, r->text);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int write_junit(const struct smoke_opts *o, struct smoke_job *jobs, size_t n, const struct verdict *allow)
{
	struct junit_case *cases = calloc(n, sizeof(*cases));
	char **texts = calloc(n, sizeof(*texts));
	FILE *f = NULL;
	int err = -ENOMEM;

	if (!cases || !texts)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct smoke_result *r = &jobs[i].result;
		size_t tail_len;
		char *tail = console_tail(jobs[i].console, SMOKE_TAIL_LINES, &tail_len);
		char *reports = failing_reports_text(&jobs[i], allow);
		int len;

		/* The boot timings lead the console text, where a CI page shows them with it; reports whole, then the tail. */
		len = asprintf(&texts[i], "kvmini: first console output after %.2f s, init after %.2f s\n%s%s%s",
			       r->first_output_s, r->init_s, reports ? reports : "",
			       reports && reports[0] ? "kvmini: the console's last lines\n" : "", tail ? tail : "");
		free(tail);
		free(reports);
		if (len < 0) {
			texts[i] = NULL;
			goto out;
		}
		cases[i] = (struct junit_case){
			.name = jobs[i].name,
			.classname = "kvmini.smoke",
			.time_s = r->elapsed_s,
			.result = r->status == VERDICT_PASS ? JUNIT_PASS :
				  r->status == VERDICT_ERROR ? JUNIT_ERROR : JUNIT_FAILURE,
			/* The report's kind when one decided (what CI groups failures by), else the verdict. */
			.type = r->report_kind[0] ? r->report_kind : verdict_status_name(r->status),
			.message = r->status == VERDICT_PASS ? NULL : r->reason,
			.console = texts[i],
			.console_len = (size_t)len,
		};
	}
	f = fopen(o->junit_path, "w");
	err = f ? junit_write(f, "kvmini smoke", cases, n) : -errno;
	if (f && fclose(f) && !err)
		err = -errno;
out:
	for (size_t i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(cases);
	if (err)
		log_error("--junit '%s': %s", o->junit_path, strerror(-err));
	return err;
}

/* Identical reports across a matrix's runs: one line each, with the runs that had it. */
static void print_report_groups(const struct smoke_job *jobs, size_t n, const struct verdict *allow)
{
	bool header = false;

	for (size_t i = 0; i < n && n > 1; i++) {
		for (size_t k = 0; jobs[i].reports && k < report_count(jobs[i].reports); k++) {
			const struct report *r = report_get(jobs[i].reports, k);
			size_t runs = 0, listed = 0;
			bool earlier = false;

			if (verdict_allows(allow, r))
				continue;
			/* Listed already, from an earlier run or earlier in this one? */
			for (size_t m = 0; m <= i && !earlier; m++)
				for (size_t q = 0; jobs[m].reports && q < (m == i ? k : report_count(jobs[m].reports)); q++)
					earlier |= report_same(r, report_get(jobs[m].reports, q));
			if (earlier)
				continue;
			if (!header)
				printf("Reports:\n");
			header = true;
			for (size_t m = i; m < n; m++)
				for (size_t q = 0; jobs[m].reports && q < report_count(jobs[m].reports); q++)
					if (report_same(r, report_get(jobs[m].reports, q))) {
						runs++;
						break;
					}
			printf("  %s [%08x]: %zu of %zu runs (", r->title, r->hash, runs, n);
			for (size_t m = i; m < n && listed < SMOKE_GROUP_NAMES; m++)
				for (size_t q = 0; jobs[m].reports && q < report_count(jobs[m].reports); q++)
					if (report_same(r, report_get(jobs[m].reports, q))) {
						printf("%s%s", listed++ ? "; " : "", jobs[m].name);
						break;
					}
			printf("%s)\n", runs > listed ? "; ..." : "");
		}
	}
}

/* An --initrd's format from its first bytes, for the decompressor it needs. */
static int initrd_format(const char *path, enum preflight_initrd *format, struct errmsg *e)
{
	uint8_t head[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return errmsg_set(e, errno, "--initrd '%s': %s", path, strerror(errno));
	got = read(fd, head, sizeof(head));
	close(fd);
	if (got < 0)
		return errmsg_set(e, errno, "--initrd '%s': %s", path, strerror(errno));
	if (preflight_initrd_format(head, (size_t)got, format, e))
		return errmsg_set(e, EINVAL, "--initrd '%s': %s", path, e->text);
	return 0;
}

/*
 * The kernel-config preflight: the CONFIG verdict, on every run, when the
 * kernel's .config lacks what one of the runs needs. Returns 1 when it gave
 * that verdict, 0 to boot, or -EINVAL for a config that cannot be read
 * (reported: a usage error).
 */
static int preflight(const struct smoke_opts *o, struct smoke_job *jobs, size_t n)
{
	static struct vm_config cfg;
	struct preflight_missing missing[64];
	struct kconfig *kc;
	char path[4096];
	size_t n_missing = 0;
	struct errmsg e;
	enum preflight_initrd initrd = PREFLIGHT_INITRD_CPIO;
	int err;

	if (o->no_preflight)
		return 0;
	err = preflight_find_config(o->base.kernel_path, o->config_path, path, sizeof(path), &e);
	if (err == -ENOENT && !o->config_path) {
		/* Nothing to check against: a kernel without its config boots as before. */
		log_info("smoke: %s; booting without the config preflight", e.text);
		return 0;
	}
	if (!err)
		err = preflight_read_config(path, &kc, &e);
	if (!err && o->base.initrd_path[0])
		err = initrd_format(o->base.initrd_path, &initrd, &e);
	if (err) {
		log_error("smoke: %s", e.text);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct preflight_missing m[64];
		struct preflight_needs needs;
		size_t got;

		job_config(o, &jobs[i], &cfg);
		needs = (struct preflight_needs){
			.console_virtio = jobs[i].console_virtio,
			.transport_mmio = cfg.transport == VIRTIO_TRANSPORT_MMIO,
			.acpi = cfg.acpi,
			.cpus = cfg.nr_cpus,
			.pvh = jobs[i].pvh,
			.initrd = initrd,
			.builtin_init = !o->base.initrd_path[0],
		};
		got = preflight_check(kc, &needs, m, 64);
		/* The run's own reason names what it lacks; the summary each missing option once. */
		jobs[i].result = (struct smoke_result){ .status = got ? VERDICT_CONFIG : VERDICT_PASS,
							.first_output_s = -1, .init_s = -1 };
		for (size_t k = 0, at = 0; k < got && k < 64 && at < sizeof(jobs[i].result.reason); k++)
			at += (size_t)snprintf(jobs[i].result.reason + at, sizeof(jobs[i].result.reason) - at, "%sCONFIG_%s",
					       k ? ", " : "kernel config lacks ", m[k].rule->option);
		for (size_t k = 0; k < got && k < 64; k++) {
			bool seen = false;

			for (size_t q = 0; q < n_missing; q++)
				seen |= missing[q].rule == m[k].rule;
			if (!seen && n_missing < 64)
				missing[n_missing++] = m[k];
		}
	}
	kconfig_free(kc);
	if (!n_missing)
		return 0;
	printf("CONFIG %s: the kernel's config (%s) lacks what this run needs:\n", o->base.kernel_path, path);
	for (size_t q = 0; q < n_missing; q++) {
		char line[512];

		preflight_format(&missing[q], line, sizeof(line));
		printf("  %s\n", line);
	}
	/* Nothing boots, not even the runs that lack nothing: their result says why. */
	for (size_t i = 0; i < n; i++)
		if (jobs[i].result.status == VERDICT_PASS) {
			jobs[i].result.status = VERDICT_CONFIG;
			snprintf(jobs[i].result.reason, sizeof(jobs[i].result.reason),
				 "not booted: the kernel config lacks what other runs need");
		}
	fflush(stdout);
	return 1;
}

/* --save-initrd: the built-in initramfs, byte for byte what smoke boots, as a file. */
static int save_initrd(const char *path, struct errmsg *e)
{
	uint8_t *initramfs;
	size_t len, done = 0;
	int fd, err;

	if ((err = builtin_initramfs(NULL, 0, &initramfs, &len)))
		return errmsg_set(e, -err, "cannot build the built-in initramfs: %s", strerror(-err));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		free(initramfs);
		return errmsg_set(e, err, "--save-initrd '%s': %s", path, strerror(err));
	}
	while (done < len && !err) {
		ssize_t n = write(fd, initramfs + done, len - done);

		if (n > 0)
			done += (size_t)n;
		else if (n == 0 || errno != EINTR)
			err = n == 0 ? EIO : errno;
	}
	if (close(fd) && !err)
		err = errno;
	free(initramfs);
	if (err)
		return errmsg_set(e, err, "--save-initrd '%s': %s", path, strerror(err));
	return 0;
}

/* The exit status of a whole smoke: the worst run's, or git bisect run's code for it. */
static int smoke_exit(const struct smoke_opts *o, enum verdict_status worst, enum bisect_outcome trouble)
{
	if (!o->bisect)
		return trouble == BISECT_PASS ? verdict_exit_code(worst) :
		       trouble == BISECT_USAGE ? VERDICT_EXIT_USAGE : VERDICT_EXIT_FAIL;
	return bisect_exit_code(trouble == BISECT_PASS ? bisect_outcome_of(worst) : trouble);
}

/* The runs, once the options are known good. */
static int smoke_main(struct smoke_opts *o, const struct verdict *check)
{
	enum verdict_status worst = VERDICT_PASS;
	enum bisect_outcome trouble = BISECT_PASS;
	struct smoke_job *jobs;
	uint8_t *initramfs = NULL;
	size_t n;
	int err;

	log_set_verbose(o->verbose);
	/* What makes the run impossible on this host, not a property of the kernel: for --bisect, a skip. */
	if (access(o->base.kernel_path, R_OK)) {
		log_error("smoke: kernel '%s': %s", o->base.kernel_path, strerror(errno));
		return smoke_exit(o, worst, BISECT_KERNEL_MISSING);
	}
	/* Each run's child inherits this, and filters itself through runner_run. */
	if ((err = seccomp_enable(!o->base.no_seccomp))) {
		log_error("cannot set up seccomp: %s (--no-seccomp runs without it)", strerror(-err));
		return smoke_exit(o, worst, BISECT_ERROR);
	}
	if (!o->base.initrd_path[0]) {
		if ((err = builtin_initramfs(NULL, 0, &initramfs, &o->base.initrd_size))) {
			log_error("cannot build the built-in initramfs: %s", strerror(-err));
			return smoke_exit(o, worst, BISECT_ERROR);
		}
		o->base.initrd_data = initramfs;
	}

	n = matrix_runs(&o->matrix);
	jobs = calloc(n, sizeof(*jobs));
	if (!jobs) {
		free(initramfs);
		log_error("smoke: out of memory");
		return smoke_exit(o, worst, BISECT_ERROR);
	}
	for (size_t i = 0; i < n; i++) {
		const char *mem_text;

		matrix_run(&o->matrix, i, &jobs[i].cpus, &jobs[i].mem, &mem_text);
		job_name(o, &jobs[i], mem_text);
		jobs[i].console_fd = jobs[i].result_fd = -1;
	}
	/* The config is checked first: a CONFIG verdict needs no KVM. */
	err = preflight(o, jobs, n);
	if (err < 0)
		trouble = BISECT_USAGE;
	if (!err && access("/dev/kvm", R_OK | W_OK)) {
		log_error("smoke: /dev/kvm: %s (kvmini needs KVM)", strerror(errno));
		err = -ENODEV;
		trouble = BISECT_NO_KVM;
	}
	/* Children inherit stdout's buffer: empty it before any fork. */
	fflush(stdout);
	if (!err && (err = run_jobs(o, jobs, n)))
		trouble = BISECT_ERROR;
	for (size_t i = 0; i < n && err >= 0; i++)
		worst = verdict_worst(worst, jobs[i].result.status);
	if (err >= 0) {
		print_report_groups(jobs, n, check);
		if (o->log_path && write_log(o, jobs, n))
			trouble = BISECT_DISK_FULL;
		if (o->junit_path && write_junit(o, jobs, n, check))
			trouble = BISECT_DISK_FULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].console)
			fclose(jobs[i].console);
		report_parser_destroy(jobs[i].reports);
	}
	free(jobs);
	free(initramfs);
	return smoke_exit(o, worst, trouble);
}

int cmd_smoke(int argc, char **argv)
{
	static struct smoke_opts o; /* static: the configuration's device area is large */
	struct verdict *check;
	struct verdict_config vcfg;
	struct errmsg e;
	int err;

	err = smoke_parse_args(argc, argv, &o, &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "smoke", &smoke_usage);
		return 0;
	}
	vcfg = verdict_config_of(&o);
	/* A regex that does not compile or an unknown report kind is a usage error, found before anything boots. */
	if (!err)
		err = verdict_create(&vcfg, &check, &e);
	if (err) {
		log_error("%s", e.text);
		return o.bisect ? bisect_exit_code(BISECT_USAGE) : VERDICT_EXIT_USAGE;
	}
	if (o.save_initrd_path) {
		verdict_destroy(check);
		if (save_initrd(o.save_initrd_path, &e)) {
			log_error("%s", e.text);
			return VERDICT_EXIT_FAIL;
		}
		return VERDICT_EXIT_PASS;
	}
	err = smoke_main(&o, check);
	verdict_destroy(check);
	return err;
}
