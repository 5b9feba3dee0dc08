/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in init's system calls: it has no libc, so each is the raw
 * instruction. They return what the kernel does: a result, or a negative
 * errno.
 */
#ifndef KVMINI_INIT_SYS_H
#define KVMINI_INIT_SYS_H

#include <stddef.h>
#include <asm/unistd.h>

/* x86-64 system call: number in rax, arguments in rdi, rsi, rdx, r10, r8; the kernel clobbers rcx and r11. */
static inline long syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
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

static inline long sys_write(int fd, const void *buf, size_t len)
{
	return syscall5(__NR_write, fd, (long)buf, (long)len, 0, 0);
}

static inline long sys_read(int fd, void *buf, size_t len)
{
	return syscall5(__NR_read, fd, (long)buf, (long)len, 0, 0);
}

static inline long sys_open(const char *path, int flags)
{
	return syscall5(__NR_open, (long)path, flags, 0, 0, 0);
}

static inline long sys_close(int fd)
{
	return syscall5(__NR_close, fd, 0, 0, 0, 0);
}

static inline long sys_mount(const char *source, const char *target, const char *type, unsigned long flags,
			     const char *data)
{
	return syscall5(__NR_mount, (long)source, (long)target, (long)type, (long)flags, (long)data);
}

static inline long sys_mkdir(const char *path, int mode)
{
	return syscall5(__NR_mkdir, (long)path, mode, 0, 0, 0);
}

static inline long sys_ioctl(int fd, unsigned long request, const void *arg)
{
	return syscall5(__NR_ioctl, fd, (long)request, (long)arg, 0, 0);
}

static inline long sys_dup2(int from, int to)
{
	return syscall5(__NR_dup2, from, to, 0, 0, 0);
}

static inline long sys_fork(void)
{
	return syscall5(__NR_fork, 0, 0, 0, 0, 0);
}

static inline _Noreturn void sys_exit(int status)
{
	for (;;)
		syscall5(__NR_exit, status, 0, 0, 0, 0);
}

static inline long sys_wait4(int pid, int *status, int options)
{
	return syscall5(__NR_wait4, pid, (long)status, options, 0, 0);
}

static inline long sys_execve(const char *path, const char *const *argv, const char *const *envp)
{
	return syscall5(__NR_execve, (long)path, (long)argv, (long)envp, 0, 0);
}

#endif
