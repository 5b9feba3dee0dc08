// SPDX-License-Identifier: Apache-2.0
/* The per-thread filters and credential drop (jail.c), each tried in a forked child so the runner stays whole. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "jail.h"
#include "seccomp.h"

/* A child that neither dies nor exits in this time is killed by its alarm, which fails the test. */
#define CHILD_TIMEOUT_S 10

struct outcome {
	int status;
	char err[512]; /* what the child wrote to stderr */
};

/* Runs fn in a child under kind's filter, with stderr captured; fn's return value is the child's exit code. */
static void run_filtered(enum seccomp_kind kind, int (*fn)(void), struct outcome *out)
{
	struct rlimit no_core = { 0, 0 };
	size_t len = 0;
	ssize_t n;
	int pipe_fds[2];
	pid_t pid;

	assert_int_equal(pipe(pipe_fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipe_fds[0]);
		dup2(pipe_fds[1], STDERR_FILENO);
		setrlimit(RLIMIT_CORE, &no_core);
		alarm(CHILD_TIMEOUT_S);
		if (seccomp_enable(true) || seccomp_enter(kind))
			_exit(100);
		/* Not _exit: under ASan that runs the runtime's own exit work, which makes other calls. */
		syscall(SYS_exit_group, fn());
	}
	close(pipe_fds[1]);
	while (len < sizeof(out->err) - 1 && (n = read(pipe_fds[0], out->err + len, sizeof(out->err) - 1 - len)) > 0)
		len += (size_t)n;
	out->err[len] = '\0';
	close(pipe_fds[0]);
	assert_int_equal(waitpid(pid, &out->status, 0), pid);
}

static void assert_stopped_by(const struct outcome *out, const char *line)
{
	assert_true(WIFSIGNALED(out->status));
	assert_int_equal(WTERMSIG(out->status), SIGSYS);
	assert_string_equal(out->err, line);
}

static void assert_exited_ok(const struct outcome *out)
{
	assert_string_equal(out->err, "");
	assert_true(WIFEXITED(out->status));
	assert_int_equal(WEXITSTATUS(out->status), 0);
}

static int open_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) < 0 ? 2 : 3;
}

static void test_forbidden_call_stops_with_its_name(void **state)
{
	struct outcome out;

	(void)state;
	run_filtered(SECCOMP_VCPU, open_socket, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the vCPU thread made a forbidden system call: 41 (socket); stopping\n");
}

static int allowed_calls(void)
{
	char byte = 'x';

	return syscall(SYS_getpid) > 0 && write(STDOUT_FILENO, &byte, 0) == 0 && !close(STDIN_FILENO) ? 0 : 2;
}

static void test_allowed_calls_work(void **state)
{
	struct outcome out;

	(void)state;
	for (int kind = 0; kind < SECCOMP_KINDS; kind++) {
		run_filtered((enum seccomp_kind)kind, allowed_calls, &out);
		assert_exited_ok(&out);
	}
}

/* TCGETS on stdin: the main thread may (it restores the terminal), others may not. */
static int terminal_ioctl(void)
{
	unsigned char termios[64];

	(void)!ioctl(STDIN_FILENO, TCGETS, termios);
	return 0;
}

static void test_ioctl_narrowed_by_request(void **state)
{
	struct outcome out;

	(void)state;
	run_filtered(SECCOMP_MAIN, terminal_ioctl, &out);
	assert_exited_ok(&out);
	run_filtered(SECCOMP_IO, terminal_ioctl, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the I/O thread made a forbidden system call: 16 (ioctl); stopping\n");
}

/* KVM_RUN on a bad fd: allowed for a vCPU (EBADF), a violation for the API thread. */
static int kvm_run(void)
{
	return ioctl(-1, KVM_RUN, 0) < 0 ? 0 : 2;
}

static void test_kvm_run_only_on_vcpus(void **state)
{
	struct outcome out;

	(void)state;
	run_filtered(SECCOMP_VCPU, kvm_run, &out);
	assert_exited_ok(&out);
	run_filtered(SECCOMP_API, kvm_run, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the API thread made a forbidden system call: 16 (ioctl); stopping\n");
}

/* A Unix socket (virtio-vsock's): the I/O thread may open one. */
static int unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) < 0 ? 2 : 0;
}

/* The I/O thread may open Unix sockets for virtio-vsock, and nothing else: socket's family is checked. */
static void test_socket_unix_only(void **state)
{
	struct outcome out;

	(void)state;
	run_filtered(SECCOMP_IO, unix_socket, &out);
	assert_exited_ok(&out);
	run_filtered(SECCOMP_IO, open_socket, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the I/O thread made a forbidden system call: 41 (socket); stopping\n");
	run_filtered(SECCOMP_API, unix_socket, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the API thread made a forbidden system call: 41 (socket); stopping\n");
}

/* getpid is allowed, but not through the x32 numbering. */
static int x32_getpid(void)
{
	return syscall(SYS_getpid | 0x40000000) < 0 ? 2 : 3;
}

static void test_x32_refused(void **state)
{
	struct outcome out;

	(void)state;
	run_filtered(SECCOMP_MAIN, x32_getpid, &out);
	assert_stopped_by(&out, "kvmini: seccomp: the main thread made a forbidden system call: 1073741863; stopping\n");
}

#define NOBODY 65534

/* In the child, filters off (the checks below would break them): the main thread changes root and drops to nobody. */
static int jailed_main(void)
{
	uid_t r, e, s;
	gid_t groups[4];
	const char *what = "";
	int err;

	jail_configure(NOBODY, NOBODY, "/");
	if (seccomp_enable(false))
		return 10;
	err = jail_enter(SECCOMP_MAIN, &what);
	/* Not root: the first step that needs privilege fails, and says which. */
	if (err)
		return err == -EPERM && !strcmp(what, "--chroot") ? 20 : 11;
	if (getresuid(&r, &e, &s) || r != NOBODY || e != NOBODY || s != NOBODY)
		return 12;
	if (getgid() != NOBODY || getegid() != NOBODY || getgroups(4, groups) != 0)
		return 13;
	/* An I/O thread started again by a jailed thread finds nothing left to drop. */
	return jail_enter(SECCOMP_IO, &what) ? 14 : 0;
}

static void test_jail_drops_credentials(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_S);
		syscall(SYS_exit_group, jailed_main());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), geteuid() == 0 ? 0 : 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_call_stops_with_its_name),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_ioctl_narrowed_by_request),
		cmocka_unit_test(test_kvm_run_only_on_vcpus),
		cmocka_unit_test(test_x32_refused),
		cmocka_unit_test(test_socket_unix_only),
		cmocka_unit_test(test_jail_drops_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
