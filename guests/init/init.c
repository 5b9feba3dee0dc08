// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini's built-in smoke init: PID 1 of the initramfs `kvmini smoke` boots
 * a kernel with. It is freestanding (raw system calls, no libc) so it is a
 * few kilobytes, embeds into kvmini, and needs nothing else in the archive.
 *
 * It writes to the boot-timer port (so kvmini learns when init started),
 * mounts /dev, /proc and /sys, and prints one line each:
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
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/reboot.h>
#include <linux/utsname.h>

#include "devices/boot_timer.h"

#define STDOUT_FD 1

_Noreturn void init_main(void);

static bool failed;

/* x86-64 system call: number in rax, arguments in rdi, rsi, rdx, r10, r8; the kernel clobbers rcx and r11. */
static long syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static long sys_write(int fd, const void *buf, size_t len)
{
	return syscall5(__NR_write, fd, (long)buf, (long)len, 0, 0);
}

static long sys_read(int fd, void *buf, size_t len)
{
	return syscall5(__NR_read, fd, (long)buf, (long)len, 0, 0);
}

static long sys_open(const char *path, int flags)
{
	return syscall5(__NR_open, (long)path, flags, 0, 0, 0);
}

static long sys_close(int fd)
{
	return syscall5(__NR_close, fd, 0, 0, 0, 0);
}

static long sys_mount(const char *source, const char *target, const char *type)
{
	return syscall5(__NR_mount, (long)source, (long)target, (long)type, 0, 0);
}

/* Output: each line goes out in one write, so kernel messages cannot split it. */
struct line {
	char text[160];
	size_t len;
};

static void line_add(struct line *l, const char *s)
{
	/* Keep one byte for the newline; a longer line is cut short. */
	while (*s && l->len < sizeof(l->text) - 1)
		l->text[l->len++] = *s++;
}

static void line_add_num(struct line *l, uint64_t n)
{
	char digits[21];
	size_t i = sizeof(digits) - 1;

	digits[i] = '\0';
	do
		digits[--i] = (char)('0' + n % 10);
	while (n /= 10);
	line_add(l, digits + i);
}

static void line_print(struct line *l)
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
	long err = sys_mount(type, target, type);

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

static _Noreturn void power_off(void)
{
	long err;

	syscall5(__NR_sync, 0, 0, 0, 0, 0);
	err = syscall5(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0, 0);
	report_error("reboot", "POWER_OFF", err);
	for (;;)
		syscall5(__NR_pause, 0, 0, 0, 0, 0);
}

_Noreturn void init_main(void)
{
	signal_boot_timer();
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
	power_off();
}
