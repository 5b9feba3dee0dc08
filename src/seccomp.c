// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "exit_codes.h"
#include "seccomp.h"

/* x32 system calls carry this bit in their number; kvmini never makes one. */
#define X32_SYSCALL_BIT 0x40000000u
#define X 1u
#define _ 0u
#define KINDS(main, vcpu, io, api) \
	((main) << SECCOMP_MAIN | (vcpu) << SECCOMP_VCPU | (io) << SECCOMP_IO | (api) << SECCOMP_API)
#define CALL(name, main, vcpu, io, api) { __NR_##name, #name, KINDS(main, vcpu, io, api) }
#define IOCTL(req, main, vcpu, io, api) { req, #req, KINDS(main, vcpu, io, api) }

struct call_row {
	unsigned long nr; /* a system call number, or an ioctl request */
	const char *name;
	unsigned kinds;   /* bit SECCOMP_x: that kind of thread may (none: listed for its name only) */
};

/*
 * The lists, side by side. Device work (virtio queues, interrupts, the
 * console) is done by the vCPU and I/O threads, and also by the main thread
 * when it replays the writes KVM batched (vm_pause, vm_join, its tick). The
 * API thread does none: it hands pause and resume to the main thread, and
 * only reads counters and registers, raises the keyboard's line for
 * Ctrl-Alt-Del and requests a stop (which kicks the vCPUs). A snapshot's
 * files it opens (and creates) itself, and hands them to the main thread.
 */
static const struct call_row syscalls[] = {
	/*                        main vCPU I/O  API */
	/* memory: malloc, thread stacks */
	CALL(brk,                 X,   X,   X,   X),
	CALL(mmap,                X,   X,   X,   X),
	CALL(mremap,              X,   X,   X,   X),
	CALL(mprotect,            X,   X,   X,   X),
	CALL(munmap,              X,   X,   X,   X),
	CALL(madvise,             X,   X,   X,   X),
	/* locks, signals (the vCPU kick), time, thread and process exit */
	CALL(futex,               X,   X,   X,   X),
	CALL(sched_yield,         X,   X,   X,   X),
	CALL(rt_sigprocmask,      X,   X,   X,   X),
	CALL(rt_sigreturn,        X,   X,   X,   X),
	CALL(getpid,              X,   X,   X,   X),
	CALL(gettid,              X,   X,   X,   X),
	CALL(tgkill,              X,   X,   X,   X),
	CALL(clock_gettime,       X,   X,   X,   X),
	CALL(clock_nanosleep,     X,   X,   X,   X),
	CALL(nanosleep,           X,   X,   X,   X),
	CALL(exit,                X,   X,   X,   X),
	CALL(exit_group,          X,   X,   X,   X),
	/* starting the I/O thread again on resume (main thread): the new thread filters itself */
	CALL(clone,               X,   _,   _,   _),
	CALL(clone3,              X,   _,   _,   _),
	CALL(set_robust_list,     X,   _,   _,   _),
	CALL(rseq,                X,   _,   _,   _),
	CALL(prctl,               X,   _,   _,   _),
	CALL(seccomp,             X,   _,   _,   _),
	CALL(getresuid,           X,   _,   _,   _), /* and see that it has --uid/--gid already (jail.c) */
	CALL(getresgid,           X,   _,   _,   _),
	/* device work: eventfds, disk images, the tap, the console, virtio-rng */
	CALL(read,                X,   X,   X,   X),
	CALL(write,               X,   X,   X,   X),
	CALL(readv,               X,   X,   X,   _),
	CALL(writev,              X,   X,   X,   _),
	CALL(pread64,             X,   X,   X,   X), /* and the API's: PATCH /drives while paused (on its thread) */
	CALL(pwrite64,            X,   X,   X,   _),
	CALL(preadv,              X,   X,   X,   _),
	CALL(pwritev,             X,   X,   X,   _),
	CALL(fdatasync,           X,   X,   X,   _),
	/* virtio-blk's io_uring: the I/O thread starts requests (the ring was set up before the filters) */
	CALL(io_uring_enter,      _,   _,   X,   _),
	CALL(getrandom,           X,   X,   X,   _),
	CALL(eventfd2,            X,   X,   X,   _),
	CALL(timerfd_create,      _,   _,   X,   _), /* a rate limiter's timer, made when its queue first waits */
	CALL(timerfd_settime,     _,   _,   X,   _),
	CALL(epoll_ctl,           X,   X,   X,   X),
	/* the balloon's statistics interval, changed by PATCH on the I/O thread (on the API's while paused) */
	CALL(timerfd_settime,     _,   _,   X,   X),
	CALL(close,               X,   X,   X,   X),
	CALL(poll,                X,   X,   X,   _), /* the console waits for a full stdout to drain */
	CALL(ppoll,               X,   X,   X,   _),
	CALL(ioctl,               X,   X,   X,   X), /* narrowed by ioctls[] */
	/* event loops */
	CALL(epoll_wait,          X,   _,   X,   X),
	CALL(epoll_pwait,         X,   _,   X,   X),
	/* the API socket's clients; GET /vm/stats reads /proc/self/statm */
	CALL(accept4,             X,   _,   X,   X), /* and virtio-vsock's, below */
	CALL(recvfrom,            _,   _,   _,   X),
	CALL(sendto,              X,   _,   X,   X),
	CALL(shutdown,            X,   _,   X,   X),
	/* virtio-vsock's Unix sockets (socket: AF_UNIX only, see build_filter); the main thread starts the I/O one */
	CALL(socket,              X,   _,   X,   _),
	CALL(connect,             X,   _,   X,   _),
	CALL(timerfd_settime,     X,   _,   X,   _),
	/* and virtio-fs: a share reopens its handles through /proc/self/fd; the API: a snapshot's files, O_CREAT too */
	CALL(openat,              _,   _,   X,   X),
	/* at exit: removing the API socket file (after checking it is ours), stdio */
	CALL(newfstatat,          X,   _,   X,   X),
	CALL(unlink,              X,   _,   _,   _),
	/* virtio-fs: what src/fs/share.c does in the shared directories, by file descriptor */
	CALL(openat2,             _,   _,   X,   _),
	CALL(getdents64,          _,   _,   X,   _),
	CALL(lseek,               _,   _,   X,   _),
	CALL(readlinkat,          _,   _,   X,   _),
	CALL(fstatfs,             _,   _,   X,   _),
	CALL(fsync,               _,   _,   X,   _),
	CALL(ftruncate,           X,   _,   X,   _), /* main: a snapshot's state and memory files, cut to size */
	CALL(fallocate,           _,   _,   X,   X), /* and virtio-blk's: PATCH /drives probes hole punching */
	CALL(fchmod,              _,   _,   X,   _),
	CALL(fchmodat,            _,   _,   X,   _),
	CALL(fchownat,            _,   _,   X,   _),
	CALL(utimensat,           _,   _,   X,   _),
	CALL(mkdirat,             _,   _,   X,   _),
	CALL(unlinkat,            _,   _,   X,   _),
	CALL(renameat2,           _,   _,   X,   _),
	CALL(renameat,            _,   _,   X,   _), /* glibc's renameat2 without flags */
	CALL(linkat,              _,   _,   X,   _),
	CALL(symlinkat,           _,   _,   X,   _),
	/* PATCH /drives/{id}: the new file opened as at the start (open_file, its lock), on the I/O thread or the API's */
	CALL(fcntl,               X,   _,   X,   X),
	CALL(flock,               X,   _,   X,   X),
};

static const struct call_row ioctls[] = {
	/*                             main vCPU I/O  API */
	IOCTL(KVM_RUN,                 _,   X,   _,   _),
	IOCTL(KVM_GET_REGS,            X,   X,   _,   X),
	IOCTL(KVM_GET_SREGS,           X,   X,   _,   X),
	IOCTL(KVM_KVMCLOCK_CTRL,       X,   _,   _,   _),
	IOCTL(KVM_IRQ_LINE,            X,   X,   X,   X),
	IOCTL(KVM_IRQFD,               X,   X,   X,   _),
	IOCTL(KVM_IOEVENTFD,           X,   X,   X,   _),
	IOCTL(KVM_SET_GSI_ROUTING,     X,   X,   X,   _),
	/* the console's terminal, restored at exit */
	IOCTL(TCGETS,                  X,   _,   _,   _),
	IOCTL(TCSETS,                  X,   _,   _,   _),
	IOCTL(TCSETSW,                 X,   _,   _,   _),
	IOCTL(TCSETSF,                 X,   _,   _,   _),
	/* kvmini exec's relay thread, filtered as an I/O thread: the terminal's size for the guest's */
	IOCTL(TIOCGWINSZ,              _,   _,   X,   _),
	/* virtio-net's tap offloads, set as the driver's features say: FEATURES_OK and reset (vCPU), restore (main) */
	IOCTL(TUNSETOFFLOAD,           X,   X,   _,   _),
	/* PATCH /drives/{id} onto a block device: its size */
	IOCTL(BLKGETSIZE64,            X,   _,   X,   X),
	/* PUT /snapshot/create: vm_snapshot reads KVM's state on the main thread, the VM paused */
	IOCTL(KVM_CHECK_EXTENSION,     X,   _,   _,   _),
	IOCTL(KVM_GET_MSR_INDEX_LIST,  X,   _,   _,   _),
	IOCTL(KVM_GET_CPUID2,          X,   _,   _,   _),
	IOCTL(KVM_GET_MP_STATE,        X,   _,   _,   _),
	IOCTL(KVM_GET_FPU,             X,   _,   _,   _),
	IOCTL(KVM_GET_XSAVE,           X,   _,   _,   _),
	IOCTL(KVM_GET_XSAVE2,          X,   _,   _,   _),
	IOCTL(KVM_GET_XCRS,            X,   _,   _,   _),
	IOCTL(KVM_GET_LAPIC,           X,   _,   _,   _),
	IOCTL(KVM_GET_DEBUGREGS,       X,   _,   _,   _),
	IOCTL(KVM_GET_MSRS,            X,   _,   _,   _),
	IOCTL(KVM_GET_VCPU_EVENTS,     X,   _,   _,   _),
	IOCTL(KVM_GET_IRQCHIP,         X,   _,   _,   _),
	IOCTL(KVM_GET_PIT2,            X,   _,   _,   _),
	IOCTL(KVM_GET_CLOCK,           X,   _,   _,   _),
	IOCTL(KVM_GET_DIRTY_LOG,       X,   _,   _,   _),
};

/* Forbidden everywhere, but the likeliest to show up in a violation report. */
static const struct call_row notable[] = {
	CALL(open, _, _, _, _),
	CALL(bind, _, _, _, _),    CALL(listen, _, _, _, _),  CALL(sendmsg, _, _, _, _),
	CALL(recvmsg, _, _, _, _), CALL(execve, _, _, _, _),  CALL(execveat, _, _, _, _),
	CALL(fork, _, _, _, _),    CALL(vfork, _, _, _, _),   CALL(kill, _, _, _, _),
	CALL(ptrace, _, _, _, _),  CALL(mount, _, _, _, _),   CALL(chroot, _, _, _, _),
	CALL(setuid, _, _, _, _),  CALL(setgid, _, _, _, _),  CALL(unshare, _, _, _, _),
	CALL(setresuid, _, _, _, _), CALL(setresgid, _, _, _, _), CALL(setgroups, _, _, _, _),
	CALL(pipe2, _, _, _, _),   CALL(wait4, _, _, _, _),   CALL(rt_sigaction, _, _, _, _),
	CALL(fstat, _, _, _, _),
	CALL(dup, _, _, _, _),     CALL(memfd_create, _, _, _, _), CALL(bpf, _, _, _, _),
	CALL(sigaltstack, _, _, _, _), CALL(io_uring_setup, _, _, _, _),
};

#undef X
#undef _

/*
 * The kinds a thread of each kind starts after its filter is on: their lists
 * are included in its own, so that the new thread's stacked filter leaves it
 * exactly its own list.
 */
static const unsigned starts[SECCOMP_KINDS] = {
	[SECCOMP_MAIN] = 1u << SECCOMP_IO,
};

static const char *const kind_names[SECCOMP_KINDS] = {
	[SECCOMP_MAIN] = "main", [SECCOMP_VCPU] = "vCPU", [SECCOMP_IO] = "I/O", [SECCOMP_API] = "API",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Room for every row twice (compare, allow), and the fixed head and tail. */
#define FILTER_MAX (2 * (ARRAY_SIZE(syscalls) + ARRAY_SIZE(ioctls)) + 16)

static bool enabled;
/* The calling thread's kind, for the violation report; -1 until seccomp_enter. */
static __thread int thread_kind = -1;

/* Appends "if A == value: allow" to the program. */
static unsigned allow_if(struct sock_filter *prog, unsigned n, uint32_t value)
{
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return n;
}

/*
 * Builds kind's program: the wrong architecture kills at once (its numbers
 * mean other calls), x32 and unlisted calls trap to the SIGSYS handler, and
 * ioctl is allowed for the listed requests only. Returns its length.
 */
static unsigned build_filter(enum seccomp_kind kind, struct sock_filter *prog)
{
	unsigned mask = 1u << kind | starts[kind];
	unsigned n = 0, socket_kinds = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(syscalls); i++)
		if (syscalls[i].nr == __NR_socket)
			socket_kinds = syscalls[i].kinds;

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	for (unsigned i = 0; i < ARRAY_SIZE(syscalls); i++)
		if ((syscalls[i].kinds & mask) && syscalls[i].nr != __NR_ioctl && syscalls[i].nr != __NR_socket)
			n = allow_if(prog, n, (uint32_t)syscalls[i].nr);
	/* socket: Unix sockets only (virtio-vsock's), so no thread can open a network socket. */
	if (socket_kinds & mask) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 4);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	}
	/* ioctl's request is an unsigned int to the kernel, so only the argument's low half counts. */
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 1);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	for (unsigned i = 0; i < ARRAY_SIZE(ioctls); i++)
		if (ioctls[i].kinds & mask)
			n = allow_if(prog, n, (uint32_t)ioctls[i].nr);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	return n;
}

static const char *syscall_name(unsigned long nr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(syscalls); i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	for (unsigned i = 0; i < ARRAY_SIZE(notable); i++)
		if (notable[i].nr == nr)
			return notable[i].name;
	return NULL;
}

/* Appends s at *p, async-signal-safely; returns the new end. */
static char *append(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *append_uint(char *p, unsigned long v)
{
	char digits[24];
	unsigned n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = digits[--n];
	return p;
}

/*
 * Says which thread made which call, then dies of SIGSYS: the handler is
 * reset to the default on entry (SA_RESETHAND), so making the call again
 * (with no arguments, which no listed ioctl matches) traps once more and
 * the kernel ends the process.
 */
static void on_violation(int sig, siginfo_t *info, void *uctx)
{
	char line[160], *p = line;
	const char *name = syscall_name((unsigned)info->si_syscall);

	(void)sig;
	(void)uctx;
	p = append(p, "kvmini: seccomp: the ");
	p = append(p, thread_kind >= 0 ? kind_names[thread_kind] : "starting");
	p = append(p, " thread made a forbidden system call: ");
	p = append_uint(p, (unsigned)info->si_syscall);
	if (name) {
		p = append(p, " (");
		p = append(p, name);
		p = append(p, ")");
	}
	p = append(p, "; stopping\n");
	(void)!write(STDERR_FILENO, line, (size_t)(p - line));
	syscall(info->si_syscall, 0, 0, 0, 0, 0, 0);
	_exit(EXIT_RUNTIME_ERROR);
}

int seccomp_enable(bool on)
{
	static const uint32_t actions[] = { SECCOMP_RET_TRAP, SECCOMP_RET_KILL_PROCESS };
	struct sigaction sa;

	enabled = on;
	if (!on)
		return 0;
	/* Found now, so that no thread fails later on for want of kernel support. */
	for (unsigned i = 0; i < ARRAY_SIZE(actions); i++)
		if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &actions[i]))
			return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_violation;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

int seccomp_enter(enum seccomp_kind kind)
{
	struct sock_filter prog[FILTER_MAX];
	struct sock_fprog fprog = { .filter = prog };
	sigset_t sys;
	int err;

	if (!enabled)
		return 0;
	/* A blocked SIGSYS would kill without the report: the API thread blocks everything else. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	if ((err = pthread_sigmask(SIG_UNBLOCK, &sys, NULL)))
		return -err;
	fprog.len = (unsigned short)build_filter(kind, prog);
	thread_kind = (int)kind;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog))
		return -errno;
	return 0;
}
