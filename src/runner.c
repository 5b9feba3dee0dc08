// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "boot/loader.h"
#include "clock.h"
#include "event_loop.h"
#include "exit_codes.h"
#include "jail.h"
#include "log.h"
#include "runner.h"
#include "vcpu.h"

#define TICK_MS 20

struct runner {
	struct vm *vm;
	struct console *console;
	const struct runner_hooks *hooks;
	struct event_loop loop;
	int signal_fd;
	bool input_paused;
};

static void on_signal(void *ctx, uint32_t events)
{
	struct runner *r = ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(r->signal_fd, &si, sizeof(si)) == sizeof(si))
		vm_request_stop(r->vm, VM_STOP_SIGNAL, EXIT_SIGNAL_BASE + (int)si.ssi_signo, "stopped by %s",
				sigabbrev_np(si.ssi_signo) ? sigabbrev_np(si.ssi_signo) : "a signal");
}

static void on_stop(void *ctx, uint32_t events)
{
	struct runner *r = ctx;

	(void)events;
	r->loop.done = true;
}

/* Work handed over by another thread (the API's pause and resume), done here, where the VM is owned. */
static void on_control(void *ctx, uint32_t events)
{
	struct runner *r = ctx;
	uint64_t count;

	(void)events;
	if (read(r->hooks->control_fd, &count, sizeof(count)) == sizeof(count))
		r->hooks->on_control(r->hooks->ctx, r->vm);
}

static void on_input(void *ctx, uint32_t events)
{
	struct runner *r = ctx;
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
	struct runner *r = ctx;

	vm_tick(r->vm);
	console_flush(r->console);
	if (r->input_paused && !console_retry_input(r->console) &&
	    !event_loop_set_events(&r->loop, console_input_fd(r->console), EPOLLIN))
		r->input_paused = false;
	if (r->hooks && r->hooks->on_tick)
		r->hooks->on_tick(r->hooks->ctx, r->vm);
}

static int setup_loop(struct runner *r, const sigset_t *stop_signals, struct errmsg *e)
{
	int err;

	r->signal_fd = signalfd(-1, stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->signal_fd < 0)
		return errmsg_set(e, errno, "signalfd: %s", strerror(errno));
	if ((err = event_loop_init(&r->loop)))
		return errmsg_set(e, -err, "epoll: %s", strerror(-err));
	err = event_loop_add(&r->loop, r->signal_fd, EPOLLIN, on_signal, r);
	err = err ?: event_loop_add(&r->loop, r->vm->stop_fd, EPOLLIN, on_stop, r);
	if (!err && r->hooks && r->hooks->on_control)
		err = event_loop_add(&r->loop, r->hooks->control_fd, EPOLLIN, on_control, r);
	if (err)
		return errmsg_set(e, -err, "event loop: %s", strerror(-err));
	/* stdin may be /dev/null or a file, which epoll refuses: then there is simply no input. */
	if (event_loop_add(&r->loop, console_input_fd(r->console), EPOLLIN, on_input, r))
		log_debug("console input is not pollable; the guest gets no input");
	return 0;
}

/*
 * Stop signals are taken synchronously by the loop (so the terminal is always
 * restored); the kick signal only ever reaches vCPU threads.
 */
static int block_signals(sigset_t *stop_signals)
{
	sigset_t all;
	int err;

	sigemptyset(stop_signals);
	sigaddset(stop_signals, SIGINT);
	sigaddset(stop_signals, SIGTERM);
	sigaddset(stop_signals, SIGHUP);
	sigaddset(stop_signals, SIGQUIT);
	signal(SIGPIPE, SIG_IGN);
	if ((err = vcpu_install_kick_handler()))
		return err;
	all = *stop_signals;
	sigaddset(&all, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &all, NULL);
}

static double seconds_between(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns ? (double)(to_ns - from_ns) / 1e9 : -1.0;
}

static void fail_before_boot(struct runner_result *res, int code, const char *msg)
{
	res->exit_code = code;
	snprintf(res->message, sizeof(res->message), "%s", msg);
}

static void run_vm(struct runner *r, const struct vm_config *cfg, struct runner_result *res, uint64_t t0)
{
	struct vm *vm = r->vm;
	/* PUT /snapshot/load: a saved VM instead of a kernel to boot. */
	const struct snapshot_image *restore = r->hooks ? r->hooks->restore : NULL;
	struct kvm kvm;
	sigset_t stop_signals;
	const char *what;
	struct errmsg e;
	int err, jail_err;

	if ((err = block_signals(&stop_signals))) {
		snprintf(e.text, sizeof(e.text), "cannot set up signals: %s", strerror(-err));
		return fail_before_boot(res, EXIT_RUNTIME_ERROR, e.text);
	}
	if (kvm_open(&kvm, &e))
		return fail_before_boot(res, EXIT_RUNTIME_ERROR, e.text);
	if (cfg->nr_cpus > kvm.max_vcpus) {
		snprintf(e.text, sizeof(e.text), "--cpus %u: this host's KVM allows at most %u", cfg->nr_cpus,
			 kvm.max_vcpus);
		kvm_close(&kvm);
		return fail_before_boot(res, EXIT_USAGE, e.text);
	}
	r->loop.epfd = -1;
	if (restore)
		err = vm_create_restored(vm, &kvm, cfg, r->console, restore->mem_fd, &e);
	else
		err = vm_create(vm, &kvm, cfg, r->console, &e);
	if (!err && r->hooks && r->hooks->on_line)
		err = console_add_line_watcher(r->console, r->hooks->on_line, r->hooks->ctx);
	err = err ?: restore ? vm_restore(vm, restore, &e) : boot_load(vm, &e);
	err = err ?: setup_loop(r, &stop_signals, &e);
	if (!err && (err = console_enter_raw(r->console)))
		errmsg_set(&e, -err, "cannot put the terminal in raw mode: %s", strerror(-err));
	if (!err)
		err = restore && !r->hooks->resume ? vm_start_paused(vm, &e) : vm_start(vm, &e);
	if (err) {
		fail_before_boot(res, EXIT_RUNTIME_ERROR, e.text);
		if (vm->state == VM_CREATED)
			goto out;
	}
	if (!err && r->hooks && r->hooks->on_vm)
		r->hooks->on_vm(r->hooks->ctx, vm);
	/* Last, once every file is open and vm_start has started the threads that confine themselves. */
	if (!err && (jail_err = jail_enter(SECCOMP_MAIN, &what)))
		vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "cannot confine the main thread: %s: %s", what,
				strerror(-jail_err));
	event_loop_run(&r->loop, TICK_MS, on_tick, r);
	res->exit_code = vm_join(vm);
	console_leave_raw(r->console);
	if (!err) {
		res->booted = true;
		res->stop_kind = vm->stop_kind;
		snprintf(res->message, sizeof(res->message), "%s", vm->stop_message);
		res->first_output_s = seconds_between(t0, console_first_output_ns(r->console));
		res->init_s = seconds_between(t0, vm->boot_timer_ns);
	}
out:
	if (r->hooks && r->hooks->on_vm)
		r->hooks->on_vm(r->hooks->ctx, NULL);
	event_loop_close(&r->loop);
	if (r->signal_fd >= 0)
		close(r->signal_fd);
	vm_destroy(vm);
}

void runner_run(const struct vm_config *cfg, int in_fd, int out_fd, const struct runner_hooks *hooks,
		struct runner_result *res)
{
	struct vm vm;
	struct runner r = { .vm = &vm, .hooks = hooks, .signal_fd = -1 };
	uint64_t t0 = monotonic_ns();
	int err;

	*res = (struct runner_result){ .exit_code = EXIT_RUNTIME_ERROR, .first_output_s = -1, .init_s = -1 };
	if ((err = console_open(&r.console, in_fd, out_fd))) {
		snprintf(res->message, sizeof(res->message), "cannot set up the console: %s", strerror(-err));
		return;
	}
	run_vm(&r, cfg, res, t0);
	console_close(r.console);
}
