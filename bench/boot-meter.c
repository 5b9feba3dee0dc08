// SPDX-License-Identifier: Apache-2.0
/*
 * boot-meter: runs one VMM process and measures its guest's boot from the
 * outside, the same way for every VMM (see docs/benchmarks.md).
 *
 *   boot-meter --marker TEXT --mem-mib N --console FILE [--timeout S] -- VMM ARGS...
 *
 * It starts the clock just before fork, reads the VMM's stdout (the guest
 * console) and notes when the first byte and the line containing TEXT
 * arrive. At the marker, while the VM still exists, it reads KVM's own
 * exit counters for the VM from debugfs and the process's memory from
 * /proc: that is the only sampling, so nothing perturbs the boot itself.
 * Then it waits for the VMM to exit and prints one line of name=value
 * pairs on stdout; times in ms, memory in KiB, -1 where not measured;
 * task_cpu_ms lists the CPU time (user + system) of each of the VMM's
 * threads at the marker, in thread-ID order, joined by '+' (kvmini: main,
 * I/O thread, then the vCPUs).
 * Exit status: 0 if the marker was seen and the VMM exited 0, else 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define KVM_DEBUGFS "/sys/kernel/debug/kvm"

/* The counters read from the VM's debugfs folder, in output order. */
static const char *const exit_counters[] = { "exits", "io_exits", "mmio_exits", "halt_exits" };
#define NR_COUNTERS (sizeof(exit_counters) / sizeof(exit_counters[0]))

#define MAX_TASKS 64

struct sample {
	long long counters[NR_COUNTERS];
	long task_ms[MAX_TASKS]; /* CPU time per thread, by thread ID */
	int ntasks;
	long rss_kb;       /* all resident memory of the VMM */
	long guest_rss_kb; /* resident in the guest-RAM mappings */
	long hwm_kb;       /* peak RSS so far (VmHWM) */
};

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* KVM names a VM's folder "<pid>-<vm fd>"; a VMM here runs one VM. */
static void read_kvm_counters(pid_t pid, long long *out)
{
	char prefix[32], path[512];
	struct dirent *d;
	DIR *dir;

	for (size_t i = 0; i < NR_COUNTERS; i++)
		out[i] = -1;
	dir = opendir(KVM_DEBUGFS);
	if (!dir)
		return;
	snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)) != 0)
			continue;
		for (size_t i = 0; i < NR_COUNTERS; i++) {
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s/%s", KVM_DEBUGFS, d->d_name, exit_counters[i]);
			f = fopen(path, "r");
			if (!f)
				continue;
			if (fscanf(f, "%lld", &out[i]) != 1)
				out[i] = -1;
			fclose(f);
		}
		break;
	}
	closedir(dir);
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* utime + stime of every thread of PID, from /proc/PID/task/TID/stat. */
static void read_task_cpu(pid_t pid, struct sample *s)
{
	int tids[MAX_TASKS], n = 0;
	long tick = sysconf(_SC_CLK_TCK);
	char path[96], line[1024];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)) && n < MAX_TASKS)
		if (d->d_name[0] != '.')
			tids[n++] = atoi(d->d_name);
	closedir(dir);
	qsort(tids, (size_t)n, sizeof(tids[0]), cmp_int);
	for (int i = 0; i < n; i++) {
		unsigned long utime, stime;
		const char *p;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* After "(comm) ", which may hold spaces: state and 10 more fields, then utime stime. */
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
			s->task_ms[s->ntasks++] = (long)((utime + stime) * 1000 / (unsigned long)tick);
		fclose(f);
	}
}

/*
 * Guest RAM is the mapping (or mappings, around a hole) at least half the
 * guest's size; everything else resident is the VMM's own memory.
 */
static void read_memory(pid_t pid, long mem_kb, struct sample *s)
{
	char path[64], line[512];
	long size_kb = 0, kb;
	FILE *f;

	s->rss_kb = s->guest_rss_kb = s->hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	s->rss_kb = s->guest_rss_kb = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %ld kB", &kb) == 1) {
			size_kb = kb;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			s->rss_kb += kb;
			if (size_kb >= mem_kb / 2)
				s->guest_rss_kb += kb;
		}
	}
	fclose(f);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			s->hwm_kb = kb;
	fclose(f);
}

/* Scans console bytes for a line containing the marker, across reads. */
struct line_scanner {
	char line[1024];
	size_t len;
};

static bool scan_for_marker(struct line_scanner *ls, const char *buf, size_t n, const char *marker)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || ls->len == sizeof(ls->line) - 1) {
			ls->line[ls->len] = '\0';
			found |= strstr(ls->line, marker) != NULL;
			ls->len = 0;
			if (buf[i] == '\n')
				continue;
		}
		ls->line[ls->len++] = buf[i];
	}
	ls->line[ls->len] = '\0';
	return found || strstr(ls->line, marker) != NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: boot-meter --marker TEXT --mem-mib N --console FILE [--timeout S] -- VMM ARGS...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "marker", required_argument, NULL, 'm' },
		{ "mem-mib", required_argument, NULL, 'M' },
		{ "console", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *marker = NULL, *console_path = NULL;
	long mem_mib = 0, timeout_s = 120;
	double first_ms = -1, marker_ms = -1, exit_ms = -1;
	struct sample at_marker = { .rss_kb = -1, .guest_rss_kb = -1, .hwm_kb = -1 };
	struct line_scanner ls = { .len = 0 };
	struct timespec t0;
	struct rusage ru = { .ru_maxrss = -1 };
	int pipefd[2], console_fd, status = 0, opt;
	bool timed_out = false;
	pid_t pid;

	for (size_t i = 0; i < NR_COUNTERS; i++)
		at_marker.counters[i] = -1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': marker = optarg; break;
		case 'M': mem_mib = strtol(optarg, NULL, 10); break;
		case 'c': console_path = optarg; break;
		case 't': timeout_s = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!marker || !*marker || mem_mib <= 0 || !console_path || timeout_s <= 0 || optind >= argc)
		usage();
	console_fd = open(console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (console_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "boot-meter: %s: %s\n", console_path, strerror(errno));
		return 1;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "boot-meter: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execvp(argv[optind], &argv[optind]);
		fprintf(stderr, "boot-meter: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);

	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (ms_since(&t0) > (double)timeout_s * 1e3) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n <= 0)
			break; /* the VMM closed its stdout: it is exiting */
		if (first_ms < 0)
			first_ms = ms_since(&t0);
		if (write(console_fd, buf, (size_t)n) != n)
			fprintf(stderr, "boot-meter: cannot write %s\n", console_path);
		if (marker_ms < 0 && scan_for_marker(&ls, buf, (size_t)n, marker)) {
			marker_ms = ms_since(&t0);
			read_kvm_counters(pid, at_marker.counters);
			read_memory(pid, mem_mib * 1024, &at_marker);
			read_task_cpu(pid, &at_marker);
		}
	}
	if (wait4(pid, &status, 0, &ru) == pid)
		exit_ms = ms_since(&t0);

	printf("marker_ms=%.1f first_output_ms=%.1f exit_ms=%.1f", marker_ms, first_ms, exit_ms);
	printf(" rss_kb=%ld guest_rss_kb=%ld hwm_kb=%ld maxrss_kb=%ld", at_marker.rss_kb, at_marker.guest_rss_kb,
	       at_marker.hwm_kb, ru.ru_maxrss);
	for (size_t i = 0; i < NR_COUNTERS; i++)
		printf(" %s=%lld", exit_counters[i], at_marker.counters[i]);
	printf(" task_cpu_ms=");
	for (int i = 0; i < at_marker.ntasks; i++)
		printf("%s%ld", i ? "+" : "", at_marker.task_ms[i]);
	if (!at_marker.ntasks)
		printf("-1");
	printf(" status=%d%s\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       timed_out ? " timed_out=1" : "");
	return marker_ms >= 0 && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
