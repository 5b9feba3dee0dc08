// SPDX-License-Identifier: Apache-2.0
/* kvmini run: boot a kernel with its serial console on stdin/stdout until the guest ends. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "boot/cmdline.h"
#include "boot/loader.h"
#include "commands.h"
#include "console.h"
#include "event_loop.h"
#include "exit_codes.h"
#include "log.h"
#include "parse.h"
#include "vcpu.h"
#include "vm.h"

#define DEFAULT_MEM (512ULL << 20)
#define TICK_MS 20

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS, OPT_NO_ACPI, OPT_HUGEPAGES };

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "no-acpi", no_argument, NULL, OPT_NO_ACPI },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cmd_run_usage(void)
{
	printf("usage: kvmini run --kernel PATH [options]\n"
	       "\n"
	       "  --kernel PATH    bzImage, or an ELF vmlinux with a PVH entry point\n"
	       "  --initrd PATH    initramfs to load with it\n"
	       "  --cmdline STR    kernel parameters, added to \"%s\"\n"
	       "                   (a parameter given here replaces the default of the same name)\n"
	       "  --mem SIZE       guest RAM, e.g. 512M or 2G (default 512M, at least 64M)\n"
	       "  --cpus N         vCPUs (default 1)\n"
	       "  --no-acpi        describe the machine with an MP table instead of ACPI\n"
	       "  --hugepages      back guest RAM with huge pages\n"
	       "  -v, --verbose    say more about what kvmini does\n"
	       "\n"
	       "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A.\n"
	       "Exit status: 0 guest powered off or rebooted, 1 error, 2 usage error, 4 guest panic.\n",
	       CMDLINE_DEFAULTS);
}

static int usage_error(struct errmsg *e, const char *fmt, const char *arg)
{
	return errmsg_set(e, EINVAL, fmt, arg);
}

static int parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e)
{
	int err = parse_size(arg, mem);

	if (err == -EINVAL)
		return usage_error(e, "--mem '%s': not a size (a number with K, M or G, e.g. 512M)", arg);
	if (err || *mem > host_ram)
		return errmsg_set(e, EINVAL, "--mem %s: more than this host's %llu MiB of RAM", arg,
				  (unsigned long long)(host_ram >> 20));
	if (*mem < GUEST_MEM_MIN)
		return usage_error(e, "--mem %s: below the minimum of 64M", arg);
	if (*mem & 0xfff)
		return usage_error(e, "--mem %s: not a whole number of 4 KiB pages", arg);
	return 0;
}

int run_parse_args(int argc, char **argv, uint64_t host_ram, struct vm_config *cfg, bool *verbose, struct errmsg *e)
{
	uint64_t cpus;
	int opt, err;

	*cfg = (struct vm_config){ .mem_size = DEFAULT_MEM, .nr_cpus = 1, .acpi = true };
	*verbose = false;
	optind = 0; /* restart getopt: it keeps state between calls */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", run_options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			cfg->kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_MEM:
			if ((err = parse_mem(optarg, host_ram, &cfg->mem_size, e)))
				return err;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 1, VM_MAX_CPUS, &cpus))
				return errmsg_set(e, EINVAL, "--cpus '%s': must be a number from 1 to %d", optarg,
						  VM_MAX_CPUS);
			cfg->nr_cpus = cpus;
			break;
		case OPT_NO_ACPI:
			cfg->acpi = false;
			break;
		case OPT_HUGEPAGES:
			cfg->hugepages = true;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'h':
			return -ECANCELED;
		case ':':
			return usage_error(e, "run: %s needs a value", argv[optind - 1]);
		default:
			/* For a short option inside a group (-xv), argv[optind - 1] is not the culprit: optopt is. */
			if (optopt > 0 && optopt < 128 && isprint(optopt))
				return errmsg_set(e, EINVAL, "run: unknown option '-%c' (see 'kvmini help run')", optopt);
			return usage_error(e, "run: unknown option '%s' (see 'kvmini help run')", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(e, "run: unexpected argument '%s' (see 'kvmini help run')", argv[optind]);
	if (!cfg->kernel_path)
		return errmsg_set(e, EINVAL, "run: --kernel is required (see 'kvmini help run')");
	return 0;
}

struct run_loop {
	struct vm *vm;
	struct console *console;
	struct event_loop loop;
	int signal_fd;
	bool input_paused;
};

static void on_signal(void *ctx, uint32_t events)
{
	struct run_loop *r = ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(r->signal_fd, &si, sizeof(si)) == sizeof(si))
		vm_request_stop(r->vm, VM_STOP_SIGNAL, EXIT_SIGNAL_BASE + (int)si.ssi_signo, "stopped by %s",
				sigabbrev_np(si.ssi_signo) ? sigabbrev_np(si.ssi_signo) : "a signal");
}

static void on_stop(void *ctx, uint32_t events)
{
	struct run_loop *r = ctx;

	(void)events;
	r->loop.done = true;
}

static void on_input(void *ctx, uint32_t events)
{
	struct run_loop *r = ctx;
	int fd = console_input_fd(r->console);

	(void)events;
	if (!console_read_input(r->console)) {
		event_loop_remove(&r->loop, fd);
		return;
	}
	if (console_quit_requested(r->console)) {
		vm_request_stop(r->vm, VM_STOP_QUIT, EXIT_GUEST_OK, "quit (Ctrl-A x)");
		return;
	}
	/* Input the guest has not taken yet: stop reading until it has (see on_tick). */
	if (console_retry_input(r->console) && !event_loop_set_events(&r->loop, fd, 0))
		r->input_paused = true;
}

static void on_tick(void *ctx)
{
	struct run_loop *r = ctx;

	vm_tick(r->vm);
	console_flush(r->console);
	if (r->input_paused && !console_retry_input(r->console) &&
	    !event_loop_set_events(&r->loop, console_input_fd(r->console), EPOLLIN))
		r->input_paused = false;
}

static int run_setup_loop(struct run_loop *r, const sigset_t *stop_signals, struct errmsg *e)
{
	int err;

	r->signal_fd = signalfd(-1, stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->signal_fd < 0)
		return errmsg_set(e, errno, "signalfd: %s", strerror(errno));
	if ((err = event_loop_init(&r->loop)))
		return errmsg_set(e, -err, "epoll: %s", strerror(-err));
	err = event_loop_add(&r->loop, r->signal_fd, EPOLLIN, on_signal, r);
	err = err ?: event_loop_add(&r->loop, r->vm->stop_fd, EPOLLIN, on_stop, r);
	if (err)
		return errmsg_set(e, -err, "event loop: %s", strerror(-err));
	/* stdin may be /dev/null or a file, which epoll refuses: then there is simply no input. */
	if (event_loop_add(&r->loop, console_input_fd(r->console), EPOLLIN, on_input, r))
		log_debug("console input is not pollable; the guest gets no input");
	return 0;
}

static int run_vm(const struct vm_config *cfg, struct console *console, const sigset_t *stop_signals)
{
	struct kvm kvm;
	struct vm vm;
	struct run_loop r = { .vm = &vm, .console = console, .signal_fd = -1 };
	struct errmsg e;
	int err, code;

	if ((err = kvm_open(&kvm, &e))) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (cfg->nr_cpus > kvm.max_vcpus) {
		log_error("--cpus %u: this host's KVM allows at most %u", cfg->nr_cpus, kvm.max_vcpus);
		kvm_close(&kvm);
		return EXIT_USAGE;
	}
	r.loop.epfd = -1;
	err = vm_create(&vm, &kvm, cfg, console, &e);
	err = err ?: boot_load(&vm, &e);
	err = err ?: run_setup_loop(&r, stop_signals, &e);
	if (!err && (err = console_enter_raw(console)))
		errmsg_set(&e, -err, "cannot put the terminal in raw mode: %s", strerror(-err));
	err = err ?: vm_start(&vm, &e);
	if (err) {
		log_error("%s", e.text);
		code = EXIT_RUNTIME_ERROR;
		if (vm.state == VM_CREATED)
			goto out;
	}
	event_loop_run(&r.loop, TICK_MS, on_tick, &r);
	code = vm_join(&vm);
	console_leave_raw(console);
	if (!err)
		log_info("%s", vm.stop_message);
out:
	event_loop_close(&r.loop);
	if (r.signal_fd >= 0)
		close(r.signal_fd);
	vm_destroy(&vm);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct console *console;
	struct errmsg e;
	sigset_t blocked;
	bool verbose;
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	int err, code;

	err = run_parse_args(argc, argv, host_ram, &cfg, &verbose, &e);
	if (err == -ECANCELED) {
		cmd_run_usage();
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	log_set_verbose(verbose);

	/*
	 * Stop signals are taken synchronously by the main loop (so the terminal is
	 * always restored); the kick signal only ever reaches vCPU threads.
	 */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGQUIT);
	signal(SIGPIPE, SIG_IGN);
	if ((err = vcpu_install_kick_handler()) || (err = console_open(&console, STDIN_FILENO, STDOUT_FILENO))) {
		log_error("cannot set up the console: %s", strerror(-err));
		return EXIT_RUNTIME_ERROR;
	}
	sigset_t all = blocked;
	sigaddset(&all, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	code = run_vm(&cfg, console, &blocked);
	console_close(console);
	return code;
}
