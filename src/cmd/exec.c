// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini exec: boot a kernel on a read-only virtio-fs share of the host's
 * root (or --rootfs DIR), run one command there as the caller, in the
 * caller's directory and environment, relay its stdin, stdout and stderr
 * over hvc0 (include/exec/proto.h), and exit with its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "clock.h"
#include "commands.h"
#include "device.h"
#include "exec/guest.h"
#include "exec/relay.h"
#include "exit_codes.h"
#include "jail.h"
#include "log.h"
#include "parse.h"
#include "runner.h"
#include "seccomp.h"
#include "thread.h"
#include "virtio/console.h"
#include "virtio/fs.h"

/* --rwdir shares: all virtio-fs allows but the root's. */
#define EXEC_RWDIRS_MAX 7
_Static_assert(EXEC_RWDIRS_MAX == FS_MAX_SHARES - 1, "EXEC_RWDIRS_MAX is what virtio-fs allows besides the root");
#define EXEC_TIMEOUT_MAX (7 * 24 * 3600)
/* Kernel lines kept to show with a boot failure when the log goes nowhere else. */
#define KEPT_LINES 12
#define KEPT_LINE_MAX 160

struct exec_args {
	struct machine_args machine;
	struct guest_root root;
	uint64_t timeout_s; /* 0: none */
	const char *rwdirs[EXEC_RWDIRS_MAX];
	unsigned nr_rwdirs;
	const char *log_path;
	bool verbose;
};

static int parse_timeout(void *dst, const char *value, struct errmsg *e)
{
	if (parse_uint(value, 1, EXEC_TIMEOUT_MAX, dst))
		return errmsg_set(e, EINVAL, "--timeout '%s': must be a number of seconds from 1 to %d", value,
				  EXEC_TIMEOUT_MAX);
	return 0;
}

static int parse_rwdir(void *args, const char *value, struct errmsg *e)
{
	struct exec_args *a = args;

	if (a->nr_rwdirs == EXEC_RWDIRS_MAX)
		return errmsg_set(e, EINVAL, "--rwdir: at most %d", EXEC_RWDIRS_MAX);
	if (!value[0])
		return errmsg_set(e, EINVAL, "--rwdir: the path is empty");
	a->rwdirs[a->nr_rwdirs++] = value;
	return 0;
}

static const struct option_spec exec_options[] = {
	{ "rwdir", 0, "DIR", "make host directory DIR writable in the guest, at the same path;\n"
	  "repeatable, up to " OPTION_TEXT(EXEC_RWDIRS_MAX), parse_rwdir, 0 },
	{ "timeout", 0, "SECONDS", "stop the guest after this long (exit status 124)", parse_timeout,
	  offsetof(struct exec_args, timeout_s) },
	{ "log", 0, "FILE", "write the guest kernel's log to FILE (default: nowhere, or stderr with -v)",
	  option_string, offsetof(struct exec_args, log_path) },
	{ .name = NULL },
};

/* virtio-fs's own options (--share), filling its part of cfg. */
static struct option_group share_group(struct vm_config *cfg)
{
	const struct device_ops *fs = device_find("virtio-fs");

	return (struct option_group){ fs ? fs->options : NULL, fs && cfg ? device_config(cfg, fs) : NULL, NULL };
}

static size_t exec_groups(void *args, struct option_group *g)
{
	struct exec_args *a = args;
	struct vm_config *cfg = a ? a->machine.cfg : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ kernel_options, cfg, NULL };
	g[n++] = (struct option_group){ boot_options, cfg, NULL };
	g[n++] = (struct option_group){ machine_options, a ? &a->machine : NULL, NULL };
	g[n++] = (struct option_group){ rootfs_options, a ? &a->root : NULL, NULL };
	g[n++] = (struct option_group){ exec_options, a, NULL };
	g[n] = share_group(cfg);
	n += g[n].specs != NULL;
	g[n++] = (struct option_group){ verbose_options, a ? &a->verbose : NULL, NULL };
	return n;
}

const struct option_usage exec_usage = {
	.synopsis = "--kernel PATH [options] -- CMD [ARGS...]",
	.text = "Boots the kernel with this host's root directory shared read-only through virtio-fs (or\n"
		"--rootfs DIR), fresh tmpfs on /tmp, /run and /var/tmp, and runs CMD there as the calling\n"
		"user and group, in the current directory, with the caller's environment less what only\n"
		"the host can use (docs/sharing.md). stdin is passed through (on a pseudo-terminal when it\n"
		"is one); CMD's stdout and stderr are kvmini's, and the kernel's log stays out of them.\n"
		"The kernel's own modules (virtio_pci, virtio_console, fuse, virtiofs) are loaded from\n"
		"--modules or /lib/modules/RELEASE unless the kernel has them built in.",
	.groups = exec_groups,
	.notes = "Exit status: CMD's own, or 128+N when signal N killed it; 122 the command never started\n"
		 "(boot failure), 123 guest kernel panic, 124 --timeout expired, 125 kvmini's own error\n"
		 "(usage, kernel, KVM, modules); 126 CMD not executable, 127 CMD not found.",
};

/* What the run's hooks and the exit report share. */
struct exec_run {
	struct vm *vm;
	uint64_t deadline_ms; /* 0: no --timeout */
	uint64_t timeout_s;
	bool timed_out;
	char lines[KEPT_LINES][KEPT_LINE_MAX];
	unsigned next_line;
};

static void keep_line(void *ctx, const char *line, size_t len)
{
	struct exec_run *x = ctx;

	snprintf(x->lines[x->next_line++ % KEPT_LINES], KEPT_LINE_MAX, "%.*s", (int)len, line);
}

static void on_vm(void *ctx, struct vm *vm)
{
	((struct exec_run *)ctx)->vm = vm;
}

static void on_tick(void *ctx, struct vm *vm)
{
	struct exec_run *x = ctx;

	if (x->deadline_ms && !x->timed_out && monotonic_ms() >= x->deadline_ms) {
		x->timed_out = true;
		vm_request_stop(vm, VM_STOP_HOST, EXIT_EXEC_TIMEOUT, "--timeout %llu s expired",
				(unsigned long long)x->timeout_s);
	}
}

static int add_share(struct vm_config *cfg, const char *dir, const char *tag, bool readonly, struct errmsg *e)
{
	int err;

	if ((err = fs_config_add_share(fs_config_of(cfg), dir, tag, readonly, e)))
		return errmsg_prefix(e, -err, "'%s': ", dir);
	return 0;
}

/* Everything the guest is told: shares, mounts, who, where, what. */
struct exec_setup {
	char root[PATH_MAX];
	char cwd[PATH_MAX];
	char rwdir[EXEC_RWDIRS_MAX][PATH_MAX];
	char rwtag[EXEC_RWDIRS_MAX][FS_TAG_MAX + 1];
	char share_path[FS_MAX_SHARES][FS_TAG_MAX + 16];
	struct exec_mount mounts[FS_MAX_SHARES];
	gid_t groups[NGROUPS_MAX];
};

/* Where the root lacks one (a minimal tree), the init goes without it. */
static const char *const exec_tmpfs[] = { "/tmp", "/run", "/var/tmp" };

static int plan_exec(struct vm_config *cfg, const struct exec_args *a, char **cmd, struct exec_setup *s,
		     struct exec_plan *plan, struct errmsg *e)
{
	struct fs_config *fs = fs_config_of(cfg);
	unsigned nr_user = fs->nr_shares;
	size_t root_len;
	int groups, err;

	*plan = (struct exec_plan){ .mode = EXEC_MODE_EXEC, .root_tag = GUEST_ROOT_TAG, .root_readonly = true,
				    .tmpfs = exec_tmpfs, .nr_tmpfs = 3, .mounts = s->mounts, .argv = cmd, .envp = environ,
				    .tty = isatty(STDIN_FILENO) };
	/* --share's own first, in order, under /run/shares (a tag may not hold ':', where mount= ends it). */
	for (unsigned i = 0; i < nr_user; i++) {
		snprintf(s->share_path[i], sizeof(s->share_path[i]), "/run/shares/%s", fs->shares[i].tag);
		if (strchr(fs->shares[i].tag, ':') || strchr(fs->shares[i].tag, '/'))
			return errmsg_set(e, EINVAL, "--share tag '%s': kvmini exec mounts it at /run/shares/TAG, so it "
					  "cannot hold ':' or '/'", fs->shares[i].tag);
		s->mounts[plan->nr_mounts++] = (struct exec_mount){ fs->shares[i].tag, s->share_path[i],
								    !fs->shares[i].readonly };
	}
	if (!realpath(a->root.dir ? a->root.dir : "/", s->root))
		return errmsg_set(e, errno, "--rootfs %s: %s", a->root.dir, strerror(errno));
	if ((err = add_share(cfg, s->root, GUEST_ROOT_TAG, true, e)))
		return err;
	for (unsigned i = 0; i < a->nr_rwdirs; i++) {
		if (!realpath(a->rwdirs[i], s->rwdir[i]))
			return errmsg_set(e, errno, "--rwdir %s: %s", a->rwdirs[i], strerror(errno));
		snprintf(s->rwtag[i], sizeof(s->rwtag[i]), "kvmini-rw%u", i);
		if ((err = add_share(cfg, s->rwdir[i], s->rwtag[i], false, e)))
			return errmsg_prefix(e, -err, "--rwdir ");
		s->mounts[plan->nr_mounts++] = (struct exec_mount){ s->rwtag[i], s->rwdir[i], true };
	}
	/* The guest sees the shared root as /: the current directory must be inside it. */
	if (!getcwd(s->cwd, sizeof(s->cwd)))
		return errmsg_set(e, errno, "cannot tell the current directory: %s", strerror(errno));
	root_len = strcmp(s->root, "/") ? strlen(s->root) : 0;
	if (root_len && (strncmp(s->cwd, s->root, root_len) || (s->cwd[root_len] && s->cwd[root_len] != '/')))
		return errmsg_set(e, EINVAL, "the current directory %s is not inside --rootfs %s; cd into it first",
				  s->cwd, s->root);
	plan->cwd = s->cwd[root_len] ? s->cwd + root_len : "/";
	plan->uid = getuid();
	plan->gid = getgid();
	if ((groups = getgroups(NGROUPS_MAX, s->groups)) < 0)
		return errmsg_set(e, errno, "getgroups: %s", strerror(errno));
	plan->groups = s->groups;
	plan->nr_groups = (size_t)groups;
	return 0;
}

/* "quiet" first: the kernel's messages go to the log, and a quiet boot is a faster one on a slow UART. */
static int quiet_cmdline(struct vm_config *cfg, struct errmsg *e)
{
	char user[VM_CMDLINE_MAX];

	snprintf(user, sizeof(user), "%s", cfg->cmdline);
	if ((size_t)snprintf(cfg->cmdline, sizeof(cfg->cmdline), "quiet%s%s", user[0] ? " " : "", user) >=
	    sizeof(cfg->cmdline))
		return errmsg_set(e, EINVAL, "--cmdline must be at most %zu bytes long", sizeof(cfg->cmdline) - 7);
	return 0;
}

/* Where the kernel's log goes: --log FILE, stderr with -v, else nowhere (the last lines are kept). */
static int open_log(const struct exec_args *a, struct errmsg *e)
{
	int fd;

	if (a->log_path)
		fd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	else if (a->verbose)
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg_set(e, errno, "--log %s: %s", a->log_path ? a->log_path : "(stderr)", strerror(errno));
	return fd;
}

/* The relay reads what the guest sends: it filters itself as an I/O thread before it reads any. */
static void *relay_main(void *arg)
{
	struct exec_relay *r = arg;
	const char *what;
	int err;

	if ((err = jail_enter(SECCOMP_IO, &what))) {
		log_error("exec relay: cannot confine it: %s: %s", what, strerror(-err));
		/* The guest then finds the channel closed, drops its output and runs to its end instead of waiting. */
		shutdown(r->sock, SHUT_RDWR);
		r->broken = true;
		snprintf(r->problem, sizeof(r->problem), "the relay could not start");
		return NULL;
	}
	exec_relay_run(r);
	return NULL;
}

/* The exit status, and its one line on stderr when it is kvmini's. */
static int exit_status(const struct exec_run *x, const struct exec_relay *r, const struct runner_result *res,
		       const struct exec_args *a)
{
	bool show_lines = false;
	int code;

	if (r->cut_short)
		log_error("stdout or stderr stopped taking output after the guest ended; the rest was dropped");
	if (!res->booted) {
		log_error("%s", res->message);
		return EXIT_EXEC_ERROR;
	}
	if (r->exited)
		return r->exit.how == EXEC_KILLED ? EXIT_SIGNAL_BASE + (int)(r->exit.value & 0x7f) : (int)(r->exit.value & 0xff);
	if (x->timed_out) {
		log_error("%s", res->message);
		return EXIT_EXEC_TIMEOUT;
	}
	if (res->stop_kind == VM_STOP_SIGNAL) {
		log_error("%s", res->message);
		return res->exit_code;
	}
	if (res->stop_kind == VM_STOP_PANIC) {
		log_error("the guest kernel panicked: %s", res->message);
		code = EXIT_EXEC_PANIC;
		show_lines = true;
	} else if (r->failed) {
		log_error("the guest could not start the command: %s", r->failure);
		code = EXIT_EXEC_BOOT_FAILED;
	} else if (r->broken) {
		log_error("the guest broke the exec channel's protocol (%s)", r->problem);
		code = EXIT_EXEC_BOOT_FAILED;
	} else {
		log_error("the guest ended before the command did (%s)%s", res->message,
			  r->started ? "" : ": a boot failure");
		code = EXIT_EXEC_BOOT_FAILED;
		show_lines = true;
	}
	if (show_lines && a->log_path)
		log_error("the kernel's log is in %s", a->log_path);
	else if (show_lines && !a->verbose)
		for (unsigned i = x->next_line > KEPT_LINES ? x->next_line - KEPT_LINES : 0; i < x->next_line; i++)
			fprintf(stderr, "  %s\n", x->lines[i % KEPT_LINES]);
	return code;
}

/* The caller's terminal, raw while the guest's pseudo-terminal stands in for it. */
static bool terminal_raw(struct termios *saved)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, saved))
		return false;
	raw = *saved;
	cfmakeraw(&raw);
	/* TCSADRAIN, not TCSAFLUSH: what was typed while kvmini started is the command's, not to be thrown away. */
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw))
		return false;
	log_set_raw_terminal(true);
	return true;
}

static void terminal_restore(const struct termios *saved)
{
	tcsetattr(STDIN_FILENO, TCSADRAIN, saved);
	log_set_raw_terminal(false);
}

/* Runs the VM with the relay beside it; its threads and signals are set up here, and undone on every path. */
static int exec_run(struct vm_config *cfg, const struct exec_args *a, bool tty)
{
	static struct exec_relay relay;
	static struct exec_run x;
	struct runner_hooks hooks = { .on_line = keep_line, .on_tick = on_tick, .on_vm = on_vm, .ctx = &x };
	struct runner_result res;
	struct termios saved;
	struct errmsg err_msg, *e = &err_msg;
	bool raw = false;
	pthread_t thread;
	sigset_t sigs;
	int sv[2] = { -1, -1 }, log_fd, null_fd, err = 0;

	x = (struct exec_run){ .timeout_s = a->timeout_s };
	relay = (struct exec_relay){ .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO,
				     .winch_fd = -1, .done_fd = -1, .tty = tty };
	if ((log_fd = open_log(a, e)) < 0) {
		log_error("%s", e->text);
		return EXIT_EXEC_ERROR;
	}
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/*
	 * The runner's stop signals and SIGWINCH are blocked before any thread
	 * starts, so every thread inherits that: the runner's signalfd takes the
	 * former, the relay's the latter.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGWINCH);
	signal(SIGPIPE, SIG_IGN);
	if (null_fd < 0 || pthread_sigmask(SIG_BLOCK, &sigs, NULL) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || fcntl(sv[0], F_SETFL, O_NONBLOCK) ||
	    (relay.done_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		err = errmsg_set(e, errno, "cannot set up the exec channel: %s", strerror(errno));
	if (!err && tty) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGWINCH);
		relay.winch_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	}
	relay.sock = sv[0];
	vcon_config_of(cfg)->channel = true;
	vcon_config_of(cfg)->channel_fd = sv[1];
	if (!err && tty && !(raw = terminal_raw(&saved)))
		err = errmsg_set(e, errno, "cannot put the terminal in raw mode: %s", strerror(errno));
	if (!err && (err = thread_start(&thread, relay_main, &relay)))
		errmsg_set(e, -err, "cannot start the exec relay: %s", strerror(-err));
	if (!err) {
		if (a->timeout_s)
			x.deadline_ms = monotonic_ms() + a->timeout_s * 1000;
		runner_run(cfg, null_fd, log_fd, &hooks, &res);
		/* The device's copy is gone with the VM; with ours closed, the relay reads the channel to its end. */
		close(sv[1]);
		sv[1] = -1;
		if (write(relay.done_fd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0)
			log_debug("exec: cannot tell the relay the VM ended: %s", strerror(errno));
		pthread_join(thread, NULL);
	}
	if (raw)
		terminal_restore(&saved);
	int fds[] = { sv[0], sv[1], relay.done_fd, relay.winch_fd, log_fd, null_fd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (err) {
		log_error("%s", e->text);
		return EXIT_EXEC_ERROR;
	}
	return exit_status(&x, &relay, &res, a);
}

int cmd_exec(int argc, char **argv)
{
	static struct vm_config cfg;
	static struct exec_args args;
	static struct exec_setup setup;
	struct option_group groups[OPTION_GROUPS_MAX];
	struct exec_plan plan;
	uint8_t *initramfs = NULL;
	struct errmsg e;
	int dashes, err, code;

	/* Everything after "--" is the command, options or not. */
	for (dashes = 1; dashes < argc && strcmp(argv[dashes], "--"); dashes++)
		;
	vm_config_init(&cfg);
	args = (struct exec_args){ .machine = { .cfg = &cfg,
						.host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) } };
	err = options_parse("exec", dashes, argv, groups, exec_groups(&args, groups), &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "exec", &exec_usage);
		return 0;
	}
	if (!err && !cfg.kernel_path[0])
		err = options_required("exec", "kernel", &e);
	if (!err && dashes + 1 >= argc)
		err = errmsg_set(&e, EINVAL, "exec: no command (kvmini exec --kernel PATH [options] -- CMD [ARGS...])");
	if (err) {
		log_error("%s", e.text);
		return EXIT_EXEC_ERROR;
	}
	log_set_verbose(args.verbose);
	err = plan_exec(&cfg, &args, argv + dashes + 1, &setup, &plan, &e);
	err = err ?: quiet_cmdline(&cfg, &e);
	err = err ?: guest_build(&cfg, &plan, args.root.modules, &initramfs, &e);
	if (!err && (err = seccomp_enable(true)))
		errmsg_set(&e, -err, "cannot set up seccomp: %s", strerror(-err));
	if (err) {
		log_error("%s", e.text);
		free(initramfs);
		return EXIT_EXEC_ERROR;
	}
	code = exec_run(&cfg, &args, plan.tty);
	free(initramfs);
	return code;
}
