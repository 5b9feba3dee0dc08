// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini smoke: does this kernel boot? Each cell of the matrix (--cpus,
 * --mem and the boot-path axes), each of its --repeat runs, and the same
 * again on a --baseline kernel, runs in a child process of its own (so runs
 * can go in parallel and a crashing run cannot take the others down); the
 * parent collects their consoles and verdicts, reads the guest's own KTAP
 * results from each console, prints one line per run and a summary, and
 * writes --log, --junit and --json.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "boot/initramfs.h"
#include "clock.h"
#include "commands.h"
#include "log.h"
#include "open_file.h"
#include "parse.h"
#include "seccomp.h"
#include "smoke/bisect.h"
#include "smoke/cell.h"
#include "smoke/junit.h"
#include "smoke/ktap.h"
#include "smoke/matrix.h"
#include "smoke/preflight.h"
#include "smoke/report.h"
#include "smoke/results_json.h"
#include "smoke/run_one.h"

#define SMOKE_MAX_PATTERNS 16
#define SMOKE_DEFAULT_TIMEOUT 60
#define SMOKE_TAIL_LINES 50
/* Runs named on a line of the report summary; the rest are counted. */
#define SMOKE_GROUP_NAMES 8
/* A child that outlives its own deadline by this much is killed. */
#define SMOKE_KILL_MARGIN_MS 30000
/*
 * Runs in all (cells x --repeat x kernels): each holds a console file and
 * its result until the end, and a typo in a list should not queue hours.
 */
#define SMOKE_MAX_RUNS MATRIX_MAX_CELLS
/* The guest tests (KTAP/TAP testcases) kept per run for --junit and --json; more are counted only. */
#define SMOKE_KTAP_MAX 1000
/* The largest --json document: far above 256 runs with SMOKE_KTAP_MAX tests each. */
#define SMOKE_JSON_MAX (256u << 20)

enum { SMOKE_TESTED, SMOKE_BASELINE, SMOKE_KERNELS };

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
	/* Forensics: the symbol table is loaded once, here, and inherited by every run's child. */
	const char *system_map_path, *core_path;
	struct symtab symbols;
	struct smoke_forensics_opts forensics;
	const char *axis_text[MATRIX_AXES]; /* --transport, --acpi, --boot, --console as given */
	unsigned repeat;
	const char *baseline_path;
	const char *vmlinux_path; /* --vmlinux: the PVH image of --boot pvh, and a symbol table */
	const char *json_path;
	/* The kernels each cell boots, by SMOKE_TESTED/SMOKE_BASELINE: the bzImage, and its ELF vmlinux ("": none). */
	const char *kernel[SMOKE_KERNELS];
	char vmlinux[SMOKE_KERNELS][VM_PATH_MAX];
	unsigned n_kernels;
};

struct smoke_job {
	char name[512];
	int cell_name_len; /* of name without the " #K" of --repeat: the cell's name in the summary */
	size_t cell;   /* matrix_cell() index */
	unsigned kernel; /* SMOKE_TESTED or SMOKE_BASELINE */
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
	char core_path[4096 + 16]; /* --core: this run's file; "": none */
	uint64_t kill_at_ms;
	bool done;
	/* The guest's own tests, read from its console: the first SMOKE_KTAP_MAX kept, all counted. */
	struct ktap_case *ktap;
	size_t n_ktap;
	unsigned long ktap_total, ktap_failed;
	char ktap_first_failed[KTAP_SUITE_MAX + KTAP_NAME_MAX];
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

static int parse_hang_after(void *hang_after_s, const char *value, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(value, 0, 86400, &n))
		return errmsg_set(e, EINVAL, "--hang-after '%s': must be a number of seconds from 0 to 86400", value);
	*(unsigned *)hang_after_s = n;
	return 0;
}

static int parse_repeat(void *repeat, const char *value, struct errmsg *e)
{
	return matrix_parse_repeat(value, repeat, e);
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
	{ "transport", 0, "LIST", "virtio transports, pci,mmio (default pci); every listed value\n"
	  "of --transport, --acpi, --boot and --console is crossed with --cpus and --mem",
	  option_string, AT(axis_text[MATRIX_TRANSPORT]) },
	{ "acpi", 0, "LIST", "on,off: ACPI tables, or an MP table as --no-acpi (default on)", option_string,
	  AT(axis_text[MATRIX_ACPI]) },
	{ "boot", 0, "LIST", "bzimage,pvh: the --kernel, or its ELF vmlinux through the PVH entry\n"
	  "(default bzimage)", option_string, AT(axis_text[MATRIX_BOOT]) },
	{ "console", 0, "LIST", "serial,virtio: the kernel's console on ttyS0, or on hvc0 of a\n"
	  "virtio-console (default serial)", option_string, AT(axis_text[MATRIX_CONSOLE]) },
	{ "vmlinux", 0, "FILE", "the kernel's ELF vmlinux: what --boot pvh boots (default: vmlinux in the\n"
	  "build tree of a --kernel DIR/arch/x86/boot/bzImage, if there is one); given,\n"
	  "its symbols also name RIPs in the forensics (adds nokaslr)", option_string, AT(vmlinux_path) },
	{ "repeat", 0, "N", "runs per cell, 1 to " OPTION_TEXT(MATRIX_MAX_REPEAT) " (default 1): the summary gives\n"
	  "each cell's flake rate and boot-time median and min-max", parse_repeat, AT(repeat) },
	{ "baseline", 0, "KERNEL", "run the same matrix on this kernel too, then print per cell the\n"
	  "boot-time and VM-exit differences (the verdict stays --kernel's)", option_string,
	  AT(baseline_path) },
	{ "jobs", 0, "N", "runs at once (default: the host's CPU count)", parse_jobs, AT(jobs) },
	{ "junit", 0, "FILE", "write a JUnit XML report", option_string, AT(junit_path) },
	{ "json", 0, "FILE", "write every cell's results as JSON (docs/smoke.md)", option_string, AT(json_path) },
	{ "log", 0, "FILE", "keep the whole console", option_string, AT(log_path) },
	{ "config", 0, "FILE", "the kernel's .config, checked before booting (default: the build\n"
	  "tree's .config, or /boot/config-RELEASE beside the kernel)", option_string, AT(config_path) },
	{ "no-preflight", 0, NULL, "boot without checking the kernel's config", option_set, AT(no_preflight) },
	{ "bisect", 0, NULL, "exit as `git bisect run` wants: 0 pass, 1 kernel failure,\n"
	  "125 when the run could not test the kernel", option_set, AT(bisect) },
	{ .name = NULL },
};

static const struct option_spec forensics_options[] = {
	{ "system-map", 0, "FILE", "the kernel's System.map: name each vCPU's RIP in the forensics of a\n"
	  "timeout, hang or fault (adds nokaslr to the command line)", option_string, AT(system_map_path) },
	{ "hang-after", 0, "SECONDS", "a guest silent this long, with almost no VM exit and every vCPU halted, is a\n"
	  "hang: stop it there with forensics (default " OPTION_TEXT(SMOKE_HANG_DEFAULT_S) "; 0: wait for --timeout)",
	  parse_hang_after, AT(forensics.hang_after_s) },
	{ "core", 0, "FILE", "when forensics run, write an ELF core of guest memory and vCPU registers\n"
	  "(with several runs, one per run: FILE.1, FILE.2, ... in the order listed)", option_string,
	  AT(core_path) },
	{ .name = NULL },
};

/* Apart from the others: it boots nothing, so none of them has a use with it. */
static const struct option_spec save_initrd_options[] = {
	{ "save-initrd", 0, "FILE", "write the built-in init's initramfs to FILE and boot nothing\n"
	  "(to boot the very same init under another VMM)", option_string, AT(save_initrd_path) },
	{ .name = NULL },
};

/* The groups a boot uses come first, so that --save-initrd can name the first of them given. */
enum { SMOKE_BOOT_GROUPS = 6 };

static size_t smoke_groups(void *opts, struct option_group *g)
{
	struct smoke_opts *o = opts;
	struct vm_config *base = o ? &o->base : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ kernel_options, base, NULL };
	g[n++] = (struct option_group){ initrd_options, base, NULL };
	g[n++] = (struct option_group){ boot_options, base, NULL };
	g[n++] = (struct option_group){ smoke_options, o, NULL };
	g[n++] = (struct option_group){ forensics_options, o, NULL };
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

/* The vmlinux a pvh cell of `kernel` boots: --vmlinux for the tested kernel, else the build tree's, if any. */
static void find_vmlinux(const char *given, const char *kernel, char *out)
{
	if (given)
		snprintf(out, VM_PATH_MAX, "%s", given);
	else if (cell_vmlinux_beside(kernel, out, VM_PATH_MAX) || access(out, R_OK))
		out[0] = '\0';
}

/* The boot-path axes, --repeat and --baseline, after --cpus and --mem; every cell is checked before anything boots. */
static int smoke_parse_matrix(struct smoke_opts *o, struct errmsg *e)
{
	static struct vm_config scratch; /* too large for the stack */
	size_t cells;
	int err;

	for (int a = 0; a < MATRIX_AXES; a++)
		if (o->axis_text[a] && (err = matrix_parse_axis(&o->matrix, a, o->axis_text[a], e)))
			return err;
	if (!o->base.acpi && o->axis_text[MATRIX_ACPI])
		return errmsg_set(e, EINVAL, "smoke: --no-acpi and --acpi: give one of them");
	/* --no-acpi is the one-valued --acpi off, so that names and --json say so. */
	if (!o->base.acpi && (err = matrix_parse_axis(&o->matrix, MATRIX_ACPI, "off", e)))
		return err;
	if ((err = matrix_check(&o->matrix, e)))
		return err;
	/* Found before anything boots: a comparison with a kernel that is not there would be half a run. */
	if (o->baseline_path && access(o->baseline_path, R_OK))
		return errmsg_set(e, errno, "--baseline '%s': %s", o->baseline_path, strerror(errno));
	o->kernel[SMOKE_TESTED] = o->base.kernel_path;
	o->kernel[SMOKE_BASELINE] = o->baseline_path;
	o->n_kernels = o->baseline_path ? 2 : 1;
	cells = matrix_runs(&o->matrix);
	if (cells * o->repeat * o->n_kernels > SMOKE_MAX_RUNS)
		return errmsg_set(e, E2BIG, "smoke: %zu cells x %u repeats x %u kernels is %zu runs, more than %d",
				  cells, o->repeat, o->n_kernels, cells * o->repeat * o->n_kernels, SMOKE_MAX_RUNS);
	for (unsigned k = 0; k < o->n_kernels; k++) {
		find_vmlinux(k == SMOKE_TESTED ? o->vmlinux_path : NULL, o->kernel[k], o->vmlinux[k]);
		for (size_t i = 0; i < cells; i++) {
			struct matrix_cell c;

			matrix_cell(&o->matrix, i, &c);
			if ((err = cell_config(&o->base, &c, o->kernel[k], o->vmlinux[k], &scratch, e)))
				return err;
		}
	}
	return 0;
}

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
	o->forensics.hang_after_s = SMOKE_HANG_DEFAULT_S;
	o->jobs = ncpu > 0 ? (unsigned)ncpu : 1;
	o->repeat = 1;
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
	if ((err = matrix_parse_mem(&o->matrix, o->mem_list, host_ram, e)))
		return err;
	return smoke_parse_matrix(o, e);
}

/*
 * --system-map or --vmlinux (both: the map names, the vmlinux only boots),
 * read before anything boots: a file that is not a symbol table is a usage
 * error. The guest then gets nokaslr, so that its RIPs are the map's.
 */
static int load_symbols(struct smoke_opts *o, struct errmsg *e)
{
	const char *opt = o->system_map_path ? "--system-map" : "--vmlinux";
	const char *path = o->system_map_path ? o->system_map_path : o->vmlinux_path;
	size_t used = strlen(o->base.cmdline);
	struct stat st;
	bool code = false;
	void *file;
	int fd, err;

	if (!path)
		return 0;
	if ((fd = open_file(opt, path, O_RDONLY, OPEN_REGULAR, false, e)) < 0)
		return fd;
	if (fstat(fd, &st) || !st.st_size) {
		err = st.st_size ? errno : EINVAL;
		close(fd);
		return errmsg_set(e, err, "%s '%s': %s", opt, path, err == EINVAL ? "empty" : strerror(err));
	}
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = file == MAP_FAILED ? errno : 0;
	close(fd);
	if (err)
		return errmsg_set(e, err, "%s '%s': %s", opt, path, strerror(err));
	err = o->system_map_path ? symtab_from_map(&o->symbols, file, (size_t)st.st_size) :
				   symtab_from_elf(&o->symbols, file, (size_t)st.st_size);
	munmap(file, (size_t)st.st_size);
	if (err == -EINVAL && o->system_map_path)
		return errmsg_set(e, EINVAL, "--system-map '%s': line %zu is not 'ADDRESS TYPE NAME'", path,
				  o->symbols.bad_line);
	if (err == -EINVAL)
		return errmsg_set(e, EINVAL, "--vmlinux '%s': not a 64-bit little-endian ELF with a symbol table", path);
	if (err)
		return errmsg_set(e, -err, "%s '%s': %s", opt, path, strerror(-err));
	for (size_t i = 0; i < o->symbols.count && !code; i++)
		code = o->symbols.syms[i].text;
	/* Debian's /boot/System.map is such a file: one line saying the real one is in the -dbg package. */
	if (!code)
		return errmsg_set(e, EINVAL, "%s '%s': no code symbols in it (a placeholder?)", opt, path);
	if (used + sizeof(" nokaslr") > sizeof(o->base.cmdline))
		return errmsg_set(e, EINVAL, "%s: no room left on the command line for nokaslr", opt);
	snprintf(o->base.cmdline + used, sizeof(o->base.cmdline) - used, "%snokaslr", used ? " " : "");
	o->forensics.symbols = &o->symbols;
	o->forensics.nokaslr = true;
	return 0;
}

/* --core FILE: FILE itself for a single run, else FILE.1, FILE.2, ... in the matrix's order. */
static void job_core_path(const struct smoke_opts *o, struct smoke_job *j, size_t i, size_t n)
{
	if (!o->core_path)
		j->core_path[0] = '\0';
	else if (n == 1)
		snprintf(j->core_path, sizeof(j->core_path), "%s", o->core_path);
	else
		snprintf(j->core_path, sizeof(j->core_path), "%s.%zu", o->core_path, i + 1);
}

/* A run without forensics wrote no core: its empty file goes, so that a core on disk always means one. */
static void job_drop_empty_core(const struct smoke_job *j)
{
	struct stat st;

	if (j->core_path[0] && !stat(j->core_path, &st) && S_ISREG(st.st_mode) && !st.st_size)
		unlink(j->core_path);
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

/* "vmlinuz cpus=2,transport=mmio", then " #3" for the third of --repeat runs; "baseline " first for --baseline's. */
static void job_name(const struct smoke_opts *o, struct smoke_job *j, unsigned rep)
{
	char kernel[VM_PATH_MAX]; /* basename may write to it */
	char cell[384]; /* the name is cut, never the cell: kernel file names are cut at 100 bytes */

	snprintf(kernel, sizeof(kernel), "%s", o->kernel[j->kernel]);
	/* Cannot fail: a cell name is at most one --mem value (under 256 bytes) and a few short words. */
	matrix_cell_name(&o->matrix, j->cell, cell, sizeof(cell));
	j->cell_name_len = snprintf(j->name, sizeof(j->name), "%s%.100s %s",
				    j->kernel == SMOKE_BASELINE ? "baseline " : "", basename(kernel), cell);
	if (o->repeat > 1)
		snprintf(j->name + j->cell_name_len, sizeof(j->name) - j->cell_name_len, " #%u", rep + 1);
}

/* The machine one run boots: its cell on its kernel. */
static int job_config(const struct smoke_opts *o, const struct smoke_job *j, struct vm_config *cfg,
		      struct errmsg *e)
{
	struct matrix_cell c;

	matrix_cell(&o->matrix, j->cell, &c);
	return cell_config(&o->base, &c, o->kernel[j->kernel], o->vmlinux[j->kernel], cfg, e);
}

/* The child: one run, its result written whole to result_fd. */
static void __attribute__((noreturn)) job_child(const struct smoke_opts *o, const struct smoke_job *j,
						 int console_fd, int result_fd)
{
	static struct vm_config cfg; /* static: the device area is large */
	struct verdict_config vcfg = verdict_config_of(o);
	struct smoke_forensics_opts fo = o->forensics;
	static struct smoke_result res;
	struct errmsg e;

	/* A parent that dies must not leave VMs running. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* smoke_parse_matrix built every cell already: a failure here is a bug, reported as the run's ERROR. */
	if (job_config(o, j, &cfg, &e)) {
		res = (struct smoke_result){ .status = VERDICT_ERROR, .first_output_s = -1, .init_s = -1 };
		snprintf(res.reason, sizeof(res.reason), "%s", e.text);
	} else if (j->core_path[0] &&
		   /* Opened here, before the run confines itself; it stays empty unless forensics run. */
		   (fo.core_fd = create_file("--core", j->core_path, O_WRONLY | O_CREAT | O_TRUNC, &e)) < 0) {
		res = (struct smoke_result){ .status = VERDICT_ERROR, .first_output_s = -1, .init_s = -1 };
		snprintf(res.reason, sizeof(res.reason), "%s", e.text);
	} else {
		if (!j->core_path[0])
			fo.core_fd = -1;
		smoke_run_one(&cfg, &vcfg, &fo, console_fd, &res);
	}
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

/*
 * What the tail of a console may cost: 50 lines of up to 1 KiB. A guest that
 * printed gigabytes before its deadline costs the parent no more than that.
 */
#define SMOKE_TAIL_BYTES (SMOKE_TAIL_LINES * 1024L)

/* The last `lines` lines of the console, at most SMOKE_TAIL_BYTES, into a malloc'd string (NULL if empty). */
static char *console_tail(FILE *f, unsigned lines, size_t *len)
{
	long size, from;
	char *tail, *start;

	*len = 0;
	if (!f)
		return NULL; /* a run that never started */
	fflush(f);
	size = ftell(f);
	from = size > SMOKE_TAIL_BYTES ? size - SMOKE_TAIL_BYTES : 0;
	if (size <= 0 || !(tail = malloc(size - from + 1)))
		return NULL;
	fseek(f, from, SEEK_SET);
	size = from + (long)fread(tail, 1, size - from, f);
	fseek(f, 0, SEEK_END);
	tail[size - from] = '\0';
	start = tail + (size - from);
	/* Walk back over `lines` line ends, not counting a final one. */
	for (unsigned seen = 0; start > tail; start--)
		if (start[-1] == '\n' && start != tail + (size - from) && ++seen == lines)
			break;
	*len = tail + (size - from) - start;
	memmove(tail, start, *len + 1);
	return tail;
}

/*
 * Reads the console once, a line at a time, for both of its readers: the
 * crash reports (for the failure bodies and the grouping: the same lines the
 * child's verdict classified, so the same reports) and the KTAP/TAP lines.
 * A line longer than the buffer is read in pieces, each fed as a line: both
 * parsers cap a line far below it. A run whose report parser cannot be made
 * just has none listed.
 */
static void job_read_console(struct smoke_job *j, struct ktap_parser *ktap)
{
	static char line[4096];
	size_t len;

	if (!j->console)
		return;
	if (report_parser_create(&j->reports))
		j->reports = NULL;
	fflush(j->console);
	rewind(j->console);
	while (fgets(line, sizeof(line), j->console)) {
		len = strlen(line);
		ktap_feed_line(ktap, line, len);
		if (j->reports)
			report_line(j->reports, line, len && line[len - 1] == '\n' ? len - 1 : len);
	}
	fseek(j->console, 0, SEEK_END);
	if (j->reports)
		report_finish(j->reports);
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

/* The forensics text, one "kvmini: smoke:   " line each, after the verdict line. */
static void print_forensics(const struct smoke_job *j)
{
	const char *text = j->result.forensics;
	size_t max = strnlen(text, sizeof(j->result.forensics));

	for (size_t at = 0, end; at < max; at = end + 1) {
		const char *nl = memchr(text + at, '\n', max - at);

		end = nl ? (size_t)(nl - text) : max;
		printf("kvmini: smoke:   %.*s\n", (int)(end - at), text + at);
	}
	if (j->core_path[0] && max)
		printf("kvmini: smoke:   core file: %s\n", j->core_path);
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
	if (r->status != VERDICT_PASS)
		print_forensics(j);
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

static void on_ktap_case(void *ctx, const struct ktap_case *c)
{
	struct smoke_job *j = ctx;

	j->ktap_total++;
	if (c->result == KTAP_FAIL && !j->ktap_failed++)
		snprintf(j->ktap_first_failed, sizeof(j->ktap_first_failed), "%s%s%s", c->suite, c->suite[0] ? "." : "",
			 c->name);
	if (j->n_ktap == SMOKE_KTAP_MAX)
		return;
	/* Grown by doubling; out of memory, the rest are counted only. */
	if (!(j->n_ktap & (j->n_ktap - 1))) {
		struct ktap_case *more = realloc(j->ktap, (j->n_ktap ? 2 * j->n_ktap : 1) * sizeof(*more));

		if (!more)
			return;
		j->ktap = more;
	}
	j->ktap[j->n_ktap++] = *c;
}

/*
 * What the console says beyond the child's verdict: its reports, and the
 * guest's own tests from its KTAP/TAP lines. A failed test fails a run that
 * passed otherwise: kselftest and KUnit users run a
 * guest for its tests, and a boot that ran them is not a pass if they fail.
 */
static void job_read_results(struct smoke_job *j)
{
	static struct ktap_parser p; /* too large for the stack */
	struct smoke_result *r = &j->result;

	ktap_init(&p, on_ktap_case, j);
	job_read_console(j, &p);
	if (j->ktap_failed && r->status == VERDICT_PASS) {
		r->status = VERDICT_FAIL;
		snprintf(r->reason, sizeof(r->reason), "%lu of the guest's %lu KTAP tests failed, the first: %s",
			 j->ktap_failed, j->ktap_total, j->ktap_first_failed);
	}
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
	job_drop_empty_core(j);
	job_read_results(j);
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
		len = asprintf(&texts[i], "%.*skvmini: first console output after %.2f s, init after %.2f s\n%s%s%s",
			       (int)strnlen(r->forensics, sizeof(r->forensics)), r->forensics, r->first_output_s,
			       r->init_s, reports ? reports : "",
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
			.ktap = jobs[i].ktap,
			.n_ktap = jobs[i].n_ktap,
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

/* What the statistics and --json call a run's boot time: until the init started; < 0 unknown. */
static double boot_time_s(const struct smoke_result *r)
{
	return r->init_s;
}

/* Run `rep` of cell `cell` on kernel `k`: jobs go kernel by kernel, cell by cell, repeat by repeat. */
static struct smoke_job *job_of(const struct smoke_opts *o, struct smoke_job *jobs, unsigned k, size_t cell,
				unsigned rep)
{
	return &jobs[(k * matrix_runs(&o->matrix) + cell) * o->repeat + rep];
}

/* The statistics of one cell's repeats on kernel k, into s. */
static void cell_stats(const struct smoke_opts *o, struct smoke_job *jobs, unsigned k, size_t cell,
		       struct matrix_stats *s)
{
	struct matrix_run_result runs[MATRIX_MAX_REPEAT];

	for (unsigned rep = 0; rep < o->repeat; rep++) {
		const struct smoke_result *r = &job_of(o, jobs, k, cell, rep)->result;

		runs[rep] = (struct matrix_run_result){ .pass = r->status == VERDICT_PASS, .boot_s = boot_time_s(r) };
	}
	matrix_stats(runs, o->repeat, s);
}

/* --repeat: per cell, the flake rate and the boot time's median and spread. */
static void print_repeat_summary(const struct smoke_opts *o, struct smoke_job *jobs)
{
	for (unsigned k = 0; k < o->n_kernels; k++)
		for (size_t i = 0; i < matrix_runs(&o->matrix); i++) {
			struct smoke_job *first = job_of(o, jobs, k, i, 0);
			struct matrix_stats s;

			cell_stats(o, jobs, k, i, &s);
			printf("REPEAT %.*s: %zu of %zu runs did not pass (flake rate %.0f%%), ", first->cell_name_len,
			       first->name, s.not_pass, s.runs, s.flake_rate * 100);
			if (s.timed)
				printf("boot median %.2f s, min-max %.2f-%.2f s (%zu timed)\n", s.boot_median_s, s.boot_min_s,
				       s.boot_max_s, s.timed);
			else
				printf("no boot time known\n");
		}
}

static bool exits_changed(const struct matrix_baseline_row *row)
{
	for (unsigned r = 0; r < MATRIX_EXIT_REASONS; r++)
		if (row->exits_delta[r])
			return true;
	return false;
}

/* --baseline: per cell, the tested kernel's boot-time median and exit counts against the baseline's. */
static int print_baseline(const struct smoke_opts *o, struct smoke_job *jobs)
{
	size_t cells = matrix_runs(&o->matrix), n_rows;
	struct matrix_cell_result *res = calloc(SMOKE_KERNELS * cells, sizeof(*res));
	struct matrix_baseline_row *rows = calloc(cells, sizeof(*rows));
	char (*names)[sizeof(jobs->name)] = calloc(cells, sizeof(*names));

	if (!res || !rows || !names) {
		free(res);
		free(rows);
		free(names);
		log_error("smoke: --baseline: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cells; i++) {
		matrix_cell_name(&o->matrix, i, names[i], sizeof(names[i]));
		for (unsigned k = 0; k < SMOKE_KERNELS; k++) {
			struct matrix_cell_result *c = &res[k * cells + i];
			struct matrix_stats s;

			cell_stats(o, jobs, k, i, &s);
			c->name = names[i];
			c->boot_s = s.boot_median_s;
			for (unsigned rep = 0; rep < o->repeat; rep++)
				for (unsigned r = 0; r < MATRIX_EXIT_REASONS; r++)
					c->exits[r] += job_of(o, jobs, k, i, rep)->result.exits[r];
		}
	}
	n_rows = matrix_baseline(&res[SMOKE_BASELINE * cells], cells, &res[SMOKE_TESTED * cells], cells, rows, cells);
	for (size_t i = 0; i < n_rows; i++) {
		const struct matrix_baseline_row *row = &rows[i];

		printf("BASELINE %s: ", row->name);
		if (row->boot_known)
			printf("boot %.2f s -> %.2f s (%+.2f s)", row->boot_before_s, row->boot_after_s, row->boot_delta_s);
		else
			printf("boot time unknown");
		printf(", VM exits %+lld", (long long)row->exits_total_delta);
		for (unsigned r = 0, any = 0; r < MATRIX_EXIT_REASONS; r++) {
			const char *name = results_exit_reason_name(r);
			char key[16];

			if (!row->exits_delta[r])
				continue;
			snprintf(key, sizeof(key), "exit_%u", r);
			printf("%s%s %+lld", any++ ? ", " : " (", name ? name : key, (long long)row->exits_delta[r]);
		}
		printf("%s\n", exits_changed(row) ? ")" : "");
	}
	free(res);
	free(rows);
	free(names);
	return 0;
}

/* The run that decides a cell's verdict, title and signature: its worst, the first of equals. */
static const struct smoke_result *cell_worst(const struct smoke_opts *o, struct smoke_job *jobs, size_t cell)
{
	const struct smoke_result *worst = &job_of(o, jobs, SMOKE_TESTED, cell, 0)->result;

	for (unsigned rep = 1; rep < o->repeat; rep++) {
		const struct smoke_result *r = &job_of(o, jobs, SMOKE_TESTED, cell, rep)->result;

		if (r->status != worst->status && verdict_worst(worst->status, r->status) == r->status)
			worst = r;
	}
	return worst;
}

static int json_to_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* --json: the tested kernel's cells (the baseline's are only compared, in the summary). */
static int write_json(const struct smoke_opts *o, struct smoke_job *jobs)
{
	size_t cells = matrix_runs(&o->matrix), cap = 64 * 1024;
	struct results_cell *rc = calloc(cells, sizeof(*rc));
	struct results_run *runs = calloc(cells * o->repeat, sizeof(*runs));
	char (*names)[sizeof(jobs->name)] = calloc(cells, sizeof(*names));
	char *buf = NULL;
	int len = -ENOMEM;

	for (size_t i = 0; rc && runs && names && i < cells; i++) {
		const struct smoke_result *worst = cell_worst(o, jobs, i);

		matrix_cell_name(&o->matrix, i, names[i], sizeof(names[i]));
		rc[i] = (struct results_cell){
			.name = names[i], .status = worst->status,
			.title = worst->report_title[0] ? worst->report_title : NULL,
			.signature = worst->report_signature[0] ? worst->report_signature : NULL,
			.runs = &runs[i * o->repeat], .n_runs = o->repeat,
		};
		matrix_cell(&o->matrix, i, &rc[i].cell);
		for (unsigned rep = 0; rep < o->repeat; rep++) {
			struct smoke_job *j = job_of(o, jobs, SMOKE_TESTED, i, rep);
			struct results_run *run = &runs[i * o->repeat + rep];

			*run = (struct results_run){ .status = j->result.status, .boot_s = boot_time_s(&j->result),
						     .tests = j->ktap, .n_tests = j->n_ktap };
			memcpy(run->exits, j->result.exits, sizeof(run->exits));
		}
	}
	/* The document's size is not known before it is written: grow the buffer until it fits. */
	while (rc && runs && names && cap <= SMOKE_JSON_MAX) {
		char *more = realloc(buf, cap);

		if (!more) {
			len = -ENOMEM;
			break;
		}
		buf = more;
		if ((len = results_json_write(buf, cap, rc, cells)) != -ENOSPC)
			break;
		cap *= 2;
	}
	if (len >= 0)
		len = json_to_file(o->json_path, buf, (size_t)len);
	free(buf);
	free(names);
	free(runs);
	free(rc);
	if (len < 0)
		log_error("--json '%s': %s", o->json_path, strerror(-len));
	return len < 0 ? len : 0;
}

/* Identical reports across a matrix's runs: one line each, with the runs that had it. */
static void print_report_groups(const struct smoke_job *jobs, size_t n, const struct verdict *allow)
{
	struct report_ref *refs;
	size_t n_refs = 0, total = 0;

	for (size_t i = 0; i < n; i++)
		total += jobs[i].reports ? report_count(jobs[i].reports) : 0;
	if (n < 2 || !total || !(refs = calloc(total, sizeof(*refs))))
		return; /* out of memory, the verdict lines have said it all */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; jobs[i].reports && k < report_count(jobs[i].reports); k++) {
			const struct report *r = report_get(jobs[i].reports, k);

			if (!verdict_allows(allow, r))
				refs[n_refs++] = (struct report_ref){ .report = r, .run = i, .index = k };
		}
	report_refs_sort(refs, n_refs);
	for (size_t g = 0, end; g < n_refs; g = end) {
		const struct report *r = refs[g].report;
		size_t runs = 0, listed = 0;

		if (!g)
			printf("Reports:\n");
		printf("  %s [%08x]: ", r->title, r->hash);
		/* A group's runs in order; a run with the report twice counts once. */
		for (end = g; end < n_refs && report_same(r, refs[end].report); end++)
			if (end == g || refs[end].run != refs[end - 1].run)
				runs++;
		printf("%zu of %zu runs (", runs, n);
		for (size_t m = g; m < end && listed < SMOKE_GROUP_NAMES; m++)
			if (m == g || refs[m].run != refs[m - 1].run)
				printf("%s%s", listed++ ? "; " : "", jobs[refs[m].run].name);
		printf("%s)\n", runs > listed ? "; ..." : "");
	}
	free(refs);
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
		log_debug("smoke: %s; booting without the config preflight", e.text);
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

		job_config(o, &jobs[i], &cfg, &e); /* cannot fail: smoke_parse_matrix built every cell */
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
	struct errmsg e;
	size_t n, n_tested;
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
	if ((err = load_symbols(o, &e))) {
		log_error("%s", e.text);
		symtab_free(&o->symbols);
		return smoke_exit(o, worst, BISECT_USAGE);
	}
	if (!o->base.initrd_path[0]) {
		if ((err = builtin_initramfs(NULL, 0, &initramfs, &o->base.initrd_size))) {
			log_error("cannot build the built-in initramfs: %s", strerror(-err));
			return smoke_exit(o, worst, BISECT_ERROR);
		}
		o->base.initrd_data = initramfs;
	}

	n_tested = matrix_runs(&o->matrix) * o->repeat;
	n = n_tested * o->n_kernels;
	jobs = calloc(n, sizeof(*jobs));
	if (!jobs) {
		free(initramfs);
		log_error("smoke: out of memory");
		return smoke_exit(o, worst, BISECT_ERROR);
	}
	for (unsigned k = 0; k < o->n_kernels; k++)
		for (size_t i = 0; i < matrix_runs(&o->matrix); i++)
			for (unsigned rep = 0; rep < o->repeat; rep++) {
				struct smoke_job *j = job_of(o, jobs, k, i, rep);
				struct matrix_cell c;

				matrix_cell(&o->matrix, i, &c);
				j->kernel = k;
				j->cell = i;
				j->console_virtio = c.axis[MATRIX_CONSOLE];
				j->pvh = c.axis[MATRIX_BOOT];
				job_name(o, j, rep);
				job_core_path(o, j, (size_t)(j - jobs), n);
				j->console_fd = j->result_fd = -1;
			}
	/* The config is checked first: a CONFIG verdict needs no KVM. Only the tested kernel's: a baseline is only compared. */
	err = preflight(o, jobs, n_tested);
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
	/* The verdict is the tested kernel's alone: a baseline is only compared against. */
	for (size_t i = 0; i < n_tested && err >= 0; i++)
		worst = verdict_worst(worst, jobs[i].result.status);
	if (err >= 0) {
		print_report_groups(jobs, n_tested, check);
		/* Statistics and comparisons of runs that booted (err 1: the preflight stopped them all). */
		if (!err && o->repeat > 1)
			print_repeat_summary(o, jobs);
		if (!err && o->baseline_path && print_baseline(o, jobs))
			trouble = BISECT_ERROR;
		if (o->log_path && write_log(o, jobs, err ? n_tested : n))
			trouble = BISECT_DISK_FULL;
		if (o->junit_path && write_junit(o, jobs, n_tested, check))
			trouble = BISECT_DISK_FULL;
		if (o->json_path && write_json(o, jobs))
			trouble = BISECT_DISK_FULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].console)
			fclose(jobs[i].console);
		report_parser_destroy(jobs[i].reports);
		free(jobs[i].ktap);
	}
	free(jobs);
	free(initramfs);
	symtab_free(&o->symbols);
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
