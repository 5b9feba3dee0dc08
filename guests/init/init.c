// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini's built-in init: PID 1 of the initramfs `kvmini smoke` boots a
 * kernel with, and of `kvmini exec` and `run --rootfs`. It is freestanding
 * (raw system calls, no libc) so it is small, embeds into kvmini, and needs
 * nothing else in the archive.
 *
 * It writes to the boot-timer port (so kvmini learns when init started).
 * If the archive has EXEC_CONF_PATH, that file says what to do (setup.c,
 * exec.c; docs/sharing.md). Without it, the smoke init mounts /dev, /proc
 * and /sys, and prints one line each:
 *
 *   kvmini-init: kernel <release>
 *   kvmini-init: cpus <online CPUs>
 *   kvmini-init: memtotal_kb <MemTotal from /proc/meminfo>
 *   KVMINI-SMOKE-OK
 *
 * A failure prints "kvmini-init: error: ..." and suppresses the marker, so
 * the marker means everything above it worked. It powers off either way:
 * PID 1 must never exit, or the kernel panics.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/reboot.h>
#include <linux/utsname.h>

#include "devices/boot_timer.h"
#include "exec/proto.h"
#include "init.h"
#include "path_search.h"
#include "sys.h"

#define STDOUT_FD 1

_Noreturn void init_main(void);

static bool failed;

void line_print(struct line *l)
{
	const char *p = l->text;
	long n;

	l->text[l->len++] = '\n';
	for (size_t left = l->len; left; p += n, left -= (size_t)n) {
		n = sys_write(STDOUT_FD, p, left);
		if (n <= 0)
			return; /* no console: nothing left to tell anyone */
	}
}

/* Starts "kvmini-init: <what> " in l. */
static void line_begin(struct line *l, const char *what)
{
	l->len = 0;
	line_add(l, "kvmini-init: ");
	line_add(l, what);
	line_add(l, " ");
}

static void report(const char *what, const char *text)
{
	struct line l;

	line_begin(&l, what);
	line_add(&l, text);
	line_print(&l);
}

static void report_num(const char *what, uint64_t n)
{
	struct line l;

	line_begin(&l, what);
	line_add_num(&l, n);
	line_print(&l);
}

/* Prints "kvmini-init: error: <action> <object>: errno <n>"; err is a negative errno, as system calls return it. */
static void report_error(const char *action, const char *object, long err)
{
	struct line l;

	failed = true;
	line_begin(&l, "error:");
	line_add(&l, action);
	line_add(&l, " ");
	line_add(&l, object);
	line_add(&l, ": errno ");
	line_add_num(&l, (uint64_t)-err);
	line_print(&l);
}

/*
 * The write happens in a child process, which exits right after: under QEMU
 * -M pc nested in an emulated SVM the write faulted despite ioperm (seen
 * with make bench), and PID 1 must survive that on any VMM. Without I/O
 * permission (a kernel without ioperm, say) kvmini just reports no init time.
 */
static void signal_boot_timer(void)
{
	long pid = syscall5(__NR_fork, 0, 0, 0, 0, 0);

	if (pid == 0) {
		if (syscall5(__NR_ioperm, BOOT_TIMER_PORT, 1, 1, 0, 0) == 0)
			__asm__ volatile("outb %b0, %w1" : : "a"(0), "Nd"(BOOT_TIMER_PORT));
		syscall5(__NR_exit, 0, 0, 0, 0, 0);
	}
	if (pid > 0)
		syscall5(__NR_wait4, pid, 0, 0, 0, 0);
}

static void mount_fs(const char *type, const char *target)
{
	long err = sys_mount(type, target, type, 0, NULL);

	/* EBUSY: already mounted, e.g. a kernel that mounts devtmpfs itself. */
	if (err && err != -EBUSY)
		report_error("mount", target, err);
}

/* Reads a small file into buf as a string: its length, or a negative errno. */
static long read_file(const char *path, char *buf, size_t size)
{
	long fd = sys_open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	long n = 0;

	if (fd < 0)
		return fd;
	while (len < size - 1 && (n = sys_read((int)fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	sys_close((int)fd);
	buf[len] = '\0';
	return n < 0 ? n : (long)len;
}

/* Parses a decimal number; returns the first byte after it, or NULL if there is none or it overflows. */
static const char *parse_num(const char *s, uint64_t *value)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value = v;
	return s;
}

/* Counts the CPUs in a sysfs CPU list such as "0-3" or "0,2-3\n". */
static int count_cpu_list(const char *s, uint64_t *count)
{
	uint64_t total = 0, first, last;

	for (;;) {
		s = parse_num(s, &first);
		if (!s)
			return -EINVAL;
		last = first;
		if (*s == '-' && !(s = parse_num(s + 1, &last)))
			return -EINVAL;
		if (last < first)
			return -EINVAL;
		total += last - first + 1;
		if (*s != ',')
			break;
		s++;
	}
	if (*s != '\n' && *s != '\0')
		return -EINVAL;
	*count = total;
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

/* Finds the "MemTotal:   123456 kB" line of /proc/meminfo. */
static int parse_memtotal(const char *s, uint64_t *kb)
{
	while (*s) {
		if (starts_with(s, "MemTotal:")) {
			s += sizeof("MemTotal:") - 1;
			while (*s == ' ')
				s++;
			return parse_num(s, kb) ? 0 : -EINVAL;
		}
		while (*s && *s++ != '\n')
			;
	}
	return -ENOENT;
}

static void report_kernel(void)
{
	struct new_utsname uts;
	long err = syscall5(__NR_uname, (long)&uts, 0, 0, 0, 0);

	if (err)
		report_error("uname", "release", err);
	else
		report("kernel", uts.release);
}

static void report_cpus(void)
{
	static const char path[] = "/sys/devices/system/cpu/online";
	char buf[256];
	uint64_t cpus;
	long err = read_file(path, buf, sizeof(buf));

	if (err < 0)
		report_error("read", path, err);
	else if ((err = count_cpu_list(buf, &cpus)))
		report_error("parse", path, err);
	else
		report_num("cpus", cpus);
}

static void report_memtotal(void)
{
	static const char path[] = "/proc/meminfo";
	char buf[4096];
	uint64_t kb;
	long err = read_file(path, buf, sizeof(buf));

	if (err < 0)
		report_error("read", path, err);
	else if ((err = parse_memtotal(buf, &kb)))
		report_error("parse", path, err);
	else
		report_num("memtotal_kb", kb);
}

/*
 * Without ACPI (--no-acpi, smoke's --acpi off: an MP table) Linux has no way
 * to power off and halts for good instead: restart then, which kvmini's
 * reboot=k (the keyboard controller's reset line) ends as cleanly.
 */
static bool have_acpi(void)
{
	long fd = sys_open("/sys/firmware/acpi", O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return false;
	sys_close(fd);
	return true;
}

_Noreturn void power_off(void)
{
	bool acpi = have_acpi();
	long err;

	syscall5(__NR_sync, 0, 0, 0, 0, 0);
	err = syscall5(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		       acpi ? LINUX_REBOOT_CMD_POWER_OFF : LINUX_REBOOT_CMD_RESTART, 0, 0);
	report_error("reboot", acpi ? "POWER_OFF" : "RESTART", err);
	for (;;)
		syscall5(__NR_pause, 0, 0, 0, 0, 0);
}

void line_error(struct line *l, const char *what, const char *object, long err)
{
	l->len = 0;
	line_add(l, what);
	line_add(l, " ");
	line_add(l, object);
	line_add(l, ": ");
	line_add_errno(l, err);
}

_Noreturn void fail(struct line *l)
{
	struct line out;

	if (channel_fd >= 0)
		channel_send_failed(l);
	line_begin(&out, "error:");
	l->text[l->len] = '\0';
	line_add(&out, l->text);
	line_print(&out);
	power_off();
}

static void smoke(void)
{
	mount_fs("devtmpfs", "/dev");
	mount_fs("proc", "/proc");
	mount_fs("sysfs", "/sys");
	report_kernel();
	report_cpus();
	report_memtotal();
	if (!failed) {
		struct line l = { .len = 0 };

		line_add(&l, "KVMINI-SMOKE-OK");
		line_print(&l);
	}
}

/* mode=rootfs: the root's own init becomes PID 1, on the console, with a shell's usual environment. */
static _Noreturn void start_init(const struct init_conf *c)
{
	const char *argv[] = { c->init, NULL };
	const char *envp[] = { "HOME=/", "TERM=linux", "PATH=" PATH_SEARCH_DEFAULT, NULL };
	struct line err;
	long fd = sys_open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0) {
		line_error(&err, "open", "/dev/console", fd);
		fail(&err);
	}
	for (int i = 0; i < 3; i++)
		sys_dup2((int)fd, i);
	if (fd > 2)
		sys_close((int)fd);
	line_error(&err, "start", c->init, sys_execve(c->init, argv, envp));
	fail(&err);
}

/* The configuration file's text, and what it says (too big for the stack; they live as long as the init). */
static char conf_text[CONF_SIZE_MAX + 2];
static struct init_conf conf;

/* A configured boot: the modules, the exec channel, the root and its mounts, then the root's init or the command. */
static _Noreturn void configured(size_t len)
{
	struct conf_error bad;
	struct line err;
	long rc;

	if (len > CONF_SIZE_MAX) {
		err.len = 0;
		line_add(&err, EXEC_CONF_PATH " is larger than ");
		line_add_num(&err, CONF_SIZE_MAX);
		line_add(&err, " bytes");
		fail(&err);
	}
	if (conf_parse(conf_text, len, &conf, &bad)) {
		err.len = 0;
		line_add(&err, EXEC_CONF_PATH);
		if (bad.entry) {
			line_add(&err, " entry ");
			line_add_num(&err, bad.entry);
		}
		line_add(&err, ": ");
		line_add(&err, bad.what);
		fail(&err);
	}
	rc = sys_mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (rc && rc != -EBUSY) {
		line_error(&err, "mount devtmpfs on", "/dev", rc);
		fail(&err);
	}
	if (setup_modules(&conf, &err)) {
		struct line unheard;

		/* hvc0 may be up all the same (its driver loaded, or built in): then the host hears why. */
		if (conf.mode == CONF_MODE_EXEC)
			channel_open(&unheard);
		fail(&err);
	}
	if ((conf.mode == CONF_MODE_EXEC && channel_open(&err)) || setup_root(&conf, &err))
		fail(&err);
	if (conf.mode == CONF_MODE_ROOTFS)
		start_init(&conf);
	exec_command(&conf);
}

_Noreturn void init_main(void)
{
	long len;

	signal_boot_timer();
	len = read_file(EXEC_CONF_PATH, conf_text, sizeof(conf_text));
	if (len >= 0)
		configured((size_t)len);
	if (len != -ENOENT) {
		struct line err;

		line_error(&err, "read", EXEC_CONF_PATH, len);
		fail(&err);
	}
	smoke();
	power_off();
}
