// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "clock.h"
#include "console.h"
#include "exit_codes.h"
#include "irq.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

/*
 * The lifecycle's only legal moves (include/vm.h draws them): every change of
 * vm->state goes through vm_enter_state, with vm->lock held.
 */
static const unsigned vm_transitions[] = {
	[VM_CREATED] = 1u << VM_RUNNING | 1u << VM_PAUSED | 1u << VM_STOPPING,
	[VM_RUNNING] = 1u << VM_PAUSED | 1u << VM_STOPPING,
	[VM_PAUSED] = 1u << VM_RUNNING | 1u << VM_STOPPING,
	[VM_STOPPING] = 1u << VM_STOPPED,
	[VM_STOPPED] = 0,
};

/* Addresses in the 3-4 GiB hole that Intel's KVM needs for real-mode emulation. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
/* How long a panicking guest may keep printing (its trace) before kvmini ends it. */
#define PANIC_GRACE_MS 1000

/* Moves to `to` if the lifecycle allows it (false otherwise) and wakes every waiter. With vm->lock held. */
static bool vm_enter_state(struct vm *vm, enum vm_state to)
{
	if (!(vm_transitions[vm->state] & (1u << to)))
		return false;
	/* Atomic: vCPU threads read the state without the lock (vcpu_should_stop). */
	__atomic_store_n(&vm->state, to, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->cond);
	return true;
}

static int vm_set_memory(struct vm *vm, struct errmsg *e)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region region = {
			.slot = i, .guest_phys_addr = r->gpa, .memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
			/* KVM then keeps a bitmap of the pages the guest wrote (KVM_GET_DIRTY_LOG). */
			.flags = vm->cfg->track_dirty_pages ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		};

		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
			return errmsg_set(e, errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	}
	return 0;
}

static int vm_create_platform(struct vm *vm, struct errmsg *e)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR))
		return errmsg_set(e, errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity))
		return errmsg_set(e, errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		return errmsg_set(e, errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit))
		return errmsg_set(e, errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

/* The coalesced-write ring is one page shared by the VM, reachable through any vCPU's mapping. */
static void vm_map_coalesced_ring(struct vm *vm)
{
	long page = sysconf(_SC_PAGESIZE);
	int offset = kvm_check_extension(&vm->kvm, KVM_CAP_COALESCED_MMIO);

	if (offset <= 0 || !vm->kvm.coalesced_pio)
		return;
	vm->coalesced_ring = (void *)((uint8_t *)vm->vcpus[0].run + (size_t)offset * page);
	vm->coalesced_max = (page - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio);
}

static int vm_create_vcpus(struct vm *vm, struct errmsg *e)
{
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return errmsg_set(e, ENOMEM, "out of memory for %u vCPUs", vm->nr_vcpus);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int err = vcpu_create(vm, &vm->vcpus[i], i, e);

		if (err)
			return err;
	}
	vm_map_coalesced_ring(vm);
	return 0;
}

/* Without the pvpanic driver, the console is how a guest tells us it panicked. */
static void vm_watch_console(void *ctx, const char *line, size_t len)
{
	(void)len;
	if (strstr(line, "---[ end Kernel panic"))
		vm_note_panic(ctx, "console", true);
	else if (strstr(line, "Kernel panic - not syncing"))
		vm_note_panic(ctx, "console", false);
}

/* Guest RAM from the memory file of a snapshot (mem_fd >= 0), else fresh. */
static int vm_map_memory(struct vm *vm, int mem_fd, struct errmsg *e)
{
	const struct vm_config *cfg = vm->cfg;
	int err;

	if (mem_fd >= 0)
		err = guest_mem_map_file(&vm->mem, mem_fd, cfg->mem_size);
	else
		err = guest_mem_alloc(&vm->mem, cfg->mem_size, cfg->hugepages);
	if (err == -ENOMEM && cfg->hugepages && mem_fd < 0)
		return errmsg_set(e, ENOMEM, "huge pages: the host has too few free 2 MiB pages for %llu MiB "
				  "(see /proc/sys/vm/nr_hugepages)", (unsigned long long)(cfg->mem_size >> 20));
	if (err)
		return errmsg_set(e, -err, "cannot map %llu MiB of guest memory%s: %s",
				  (unsigned long long)(cfg->mem_size >> 20), mem_fd >= 0 ? " from the memory file" : "",
				  strerror(-err));
	/* Diff snapshots need the pages devices write too, which KVM's dirty log does not see. */
	if (cfg->track_dirty_pages && (err = guest_mem_track_writes(&vm->mem)))
		return errmsg_set(e, -err, "out of memory for the written-page bitmap");
	return 0;
}

static int vm_create_with(struct vm *vm, struct kvm *kvm, const struct vm_config *cfg, struct console *console,
			  int mem_fd, struct errmsg *e)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->console = console;
	vm->fd = -1;
	vm->stop_fd = -1;
	vm->io.loop.epfd = -1;
	vm->io.wake_fd = -1;
	vm->kvm = *kvm;
	kvm->fd = -1;
	kvm->supported_cpuid = NULL;
	vm->nr_vcpus = cfg->nr_cpus;
	pthread_mutex_init(&vm->lock, NULL);
	/* Deadlines (vm_pause) are monotonic: a clock change must not stretch or cut them. */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&vm->control_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	io_bus_init(&vm->pio, "port");
	io_bus_init(&vm->mmio, "MMIO");

	if ((err = console_add_line_watcher(console, vm_watch_console, vm)))
		return errmsg_set(e, -err, "cannot watch the console");
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return errmsg_set(e, errno, "eventfd: %s", strerror(errno));
	vm->fd = ioctl(vm->kvm.fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return errmsg_set(e, errno, "KVM_CREATE_VM: %s", strerror(errno));
	if ((err = vm_create_platform(vm, e)))
		return err;

	if ((err = vm_map_memory(vm, mem_fd, e)))
		return err;
	if ((err = vm_set_memory(vm, e)))
		return err;
	if ((err = vm_create_vcpus(vm, e)))
		return err;
	if ((err = irq_init(&vm->irq, vm->fd, e)))
		return err;
	if ((err = io_thread_init(&vm->io)))
		return errmsg_set(e, -err, "cannot set up the I/O thread: %s", strerror(-err));
	vm_host_init(vm);
	return devices_init(&vm->devices, &vm->host, cfg, e);
}

int vm_create(struct vm *vm, struct kvm *kvm, const struct vm_config *cfg, struct console *console,
	      struct errmsg *e)
{
	return vm_create_with(vm, kvm, cfg, console, -1, e);
}

int vm_create_restored(struct vm *vm, struct kvm *kvm, const struct vm_config *cfg, struct console *console,
		       int mem_fd, struct errmsg *e)
{
	return vm_create_with(vm, kvm, cfg, console, mem_fd, e);
}

void vm_destroy(struct vm *vm)
{
	io_thread_stop(&vm->io);
	devices_exit(&vm->devices);
	io_thread_close(&vm->io);
	irq_exit(vm->irq);
	vm->irq = NULL;
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	guest_mem_free(&vm->mem);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	kvm_close(&vm->kvm);
	vm->fd = vm->stop_fd = -1;
}

/* Starts the threads: the I/O thread and every vCPU's, or (paused) only the vCPUs', which park at once. */
static int vm_start_in(struct vm *vm, enum vm_state state, struct errmsg *e)
{
	int err = 0;

	/* A pause that came in now would otherwise see RUNNING before the threads it must stop exist. */
	pthread_mutex_lock(&vm->control_lock);
	pthread_mutex_lock(&vm->lock);
	/* Set before the vCPU threads exist: each parks before its first KVM_RUN. */
	if (state == VM_PAUSED)
		__atomic_store_n(&vm->pause_requested, true, __ATOMIC_SEQ_CST);
	if (!vm_enter_state(vm, state)) {
		pthread_mutex_unlock(&vm->lock);
		pthread_mutex_unlock(&vm->control_lock);
		return errmsg_set(e, EINVAL, "the VM was stopped before it started");
	}
	vm->start_ms = monotonic_ms();
	pthread_mutex_unlock(&vm->lock);
	if (state == VM_RUNNING && (err = io_thread_start(&vm->io))) {
		vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "cannot start the I/O thread");
		errmsg_set(e, -err, "cannot start the I/O thread: %s", strerror(-err));
		goto out;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if ((err = vcpu_start(&vm->vcpus[i]))) {
			vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "cannot start vCPU thread %u", i);
			errmsg_set(e, -err, "vCPU %u: cannot start its thread: %s", i, strerror(-err));
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&vm->control_lock);
	return err;
}

int vm_start(struct vm *vm, struct errmsg *e)
{
	return vm_start_in(vm, VM_RUNNING, e);
}

int vm_start_paused(struct vm *vm, struct errmsg *e)
{
	return vm_start_in(vm, VM_PAUSED, e);
}

/* With --verbose: what kvmini's own start-up costs, and when the guest's init began (for make bench). */
static void vm_log_startup(const struct vm *vm)
{
	uint64_t t0 = process_start_ns();

	if (vm->first_run_ns)
		log_debug("startup: first KVM_RUN %.2f ms after process start, after %.2f ms of CPU time",
			  (double)(vm->first_run_ns - t0) / 1e6, (double)vm->first_run_cpu_ns / 1e6);
	if (vm->boot_timer_ns)
		log_debug("boot timer: init started %.2f ms after process start", (double)(vm->boot_timer_ns - t0) / 1e6);
}

int vm_join(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vcpu_kick(&vm->vcpus[i]);
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
	/* Device work stops with the guest: nothing completes into a guest that no longer runs. */
	pthread_mutex_lock(&vm->control_lock);
	io_thread_stop(&vm->io);
	pthread_mutex_unlock(&vm->control_lock);
	vm_drain_coalesced(vm);
	console_drain(vm->console);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_regs regs;

		if (!ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &regs))
			log_debug("vCPU %u stopped at rip=%#llx", i, (unsigned long long)regs.rip);
		vcpu_log_exits(&vm->vcpus[i]);
	}
	vm_log_startup(vm);
	pthread_mutex_lock(&vm->lock);
	/* A VM that never started (an error before vm_start) was stopped without a request. */
	vm_enter_state(vm, VM_STOPPING);
	vm_enter_state(vm, VM_STOPPED);
	pthread_mutex_unlock(&vm->lock);
	return vm->exit_code;
}

static void vm_stop_locked(struct vm *vm, enum vm_stop_kind kind, int exit_code, const char *fmt, va_list ap)
{
	uint64_t one = 1;

	if (vm->stop_kind != VM_STOP_NONE)
		return;
	/* A guest that panicked and then rebooted (panic=-1) or halted: the panic is the news. */
	if (vm->panic_seen && (kind == VM_STOP_REBOOT || kind == VM_STOP_POWEROFF)) {
		kind = VM_STOP_PANIC;
		exit_code = EXIT_GUEST_PANIC;
		snprintf(vm->stop_message, sizeof(vm->stop_message), "guest kernel panicked");
	} else {
		vsnprintf(vm->stop_message, sizeof(vm->stop_message), fmt, ap);
	}
	vm->stop_kind = kind;
	vm->exit_code = exit_code;
	/* Parked vCPUs wake and leave; a vm_pause waiting for them gives up. */
	vm_enter_state(vm, VM_STOPPING);
	if (write(vm->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_error("cannot wake the main loop: %s", strerror(errno));
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_request_stop(struct vm *vm, enum vm_stop_kind kind, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&vm->lock);
	vm_stop_locked(vm, kind, exit_code, fmt, ap);
	pthread_mutex_unlock(&vm->lock);
	va_end(ap);
}

void vm_note_panic(struct vm *vm, const char *how, bool final)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->panic_seen) {
		__atomic_store_n(&vm->panic_seen, true, __ATOMIC_RELEASE);
		vm->panic_deadline_ms = monotonic_ms() + PANIC_GRACE_MS;
		log_debug("guest panic noticed (%s)", how);
	}
	pthread_mutex_unlock(&vm->lock);
	if (final)
		vm_request_stop(vm, VM_STOP_PANIC, EXIT_GUEST_PANIC, "guest kernel panicked (%s)", how);
}

void vm_note_guest_stopped(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		/* EINVAL: the guest has not set up kvm-clock on this vCPU, so there is no one to tell. */
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) && errno != EINVAL)
			log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %s", i, strerror(errno));
	}
}

/* Waits on vm->cond until deadline_ms (monotonic); false once it has passed. With vm->lock held. */
static bool vm_wait_until(struct vm *vm, uint64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ms / 1000), .tv_nsec = (long)(deadline_ms % 1000) * 1000000 };

	return pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) != ETIMEDOUT;
}

int vm_pause(struct vm *vm)
{
	uint64_t deadline_ms = monotonic_ms() + VM_PAUSE_TIMEOUT_MS;
	int err = 0;

	pthread_mutex_lock(&vm->control_lock);
	pthread_mutex_lock(&vm->lock);
	if (vm->state == VM_PAUSED)
		goto out;
	if (vm->state != VM_RUNNING) {
		err = -EINVAL;
		goto out;
	}
	__atomic_store_n(&vm->pause_requested, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	while (vm->state == VM_RUNNING && vm->vcpus_parked < vm->nr_vcpus)
		if (!vm_wait_until(vm, deadline_ms) && vm->vcpus_parked < vm->nr_vcpus) {
			/* A vCPU is stuck in an exit (host output that does not drain): give up, the guest runs on. */
			__atomic_store_n(&vm->pause_requested, false, __ATOMIC_SEQ_CST);
			pthread_cond_broadcast(&vm->cond);
			err = -ETIMEDOUT;
			goto out;
		}
	if (vm->state != VM_RUNNING) {
		err = -EINVAL; /* a stop came first; vm_join finishes the job */
		goto out;
	}
	pthread_mutex_unlock(&vm->lock);

	/* No vCPU runs: replay the writes KVM batched before the kicks, then let the device work finish. */
	vm_drain_coalesced(vm);
	io_thread_stop(&vm->io);
	devices_pause(&vm->devices);
	console_flush(vm->console);
	vm_note_guest_stopped(vm);

	pthread_mutex_lock(&vm->lock);
	if (!vm_enter_state(vm, VM_PAUSED))
		err = -EINVAL;
out:
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&vm->control_lock);
	return err;
}

int vm_resume(struct vm *vm)
{
	int err = 0;

	pthread_mutex_lock(&vm->control_lock);
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_PAUSED) {
		err = vm->state == VM_RUNNING ? 0 : -EINVAL;
		goto out;
	}
	pthread_mutex_unlock(&vm->lock);
	devices_resume(&vm->devices);
	if ((err = io_thread_start(&vm->io))) {
		/* Without device work the guest cannot go on: end it rather than run it half-alive. */
		vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "cannot restart the I/O thread: %s",
				strerror(-err));
		pthread_mutex_unlock(&vm->control_lock);
		return err;
	}
	pthread_mutex_lock(&vm->lock);
	/* The flag first: vCPUs woken by the state change must see that they may go on. */
	if (vm->state == VM_PAUSED)
		__atomic_store_n(&vm->pause_requested, false, __ATOMIC_SEQ_CST);
	if (!vm_enter_state(vm, VM_RUNNING))
		err = -EINVAL;
out:
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_unlock(&vm->control_lock);
	return err;
}

bool vm_panic_seen(struct vm *vm)
{
	return __atomic_load_n(&vm->panic_seen, __ATOMIC_ACQUIRE);
}

bool vm_pause_requested(struct vm *vm)
{
	return __atomic_load_n(&vm->pause_requested, __ATOMIC_SEQ_CST);
}

enum vm_state vm_get_state(struct vm *vm)
{
	enum vm_state state;

	pthread_mutex_lock(&vm->lock);
	state = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return state;
}

int vm_get_vcpu_regs(struct vm *vm, unsigned n, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	int err = 0;

	if (n >= vm->nr_vcpus)
		return -ENOENT;
	/* Holding control_lock keeps the VM paused (no resume can start) while KVM is asked. */
	pthread_mutex_lock(&vm->control_lock);
	if (vm_get_state(vm) != VM_PAUSED)
		err = -EBUSY;
	else if (ioctl(vm->vcpus[n].fd, KVM_GET_REGS, regs) || ioctl(vm->vcpus[n].fd, KVM_GET_SREGS, sregs))
		err = -errno;
	pthread_mutex_unlock(&vm->control_lock);
	return err;
}

int vm_send_ctrl_alt_del(struct vm *vm)
{
	enum vm_state state = vm_get_state(vm);

	/* While paused the keys wait in the keyboard's buffer, and their interrupt in KVM's irqchip. */
	if (state != VM_RUNNING && state != VM_PAUSED)
		return -EINVAL;
	return devices_ctrl_alt_del(&vm->devices);
}

/* The resident set from /proc/self/statm (its second field, in pages).
 * Parsed with strtoull, not scanf: scanf alone would bring about 90 KiB of
 * libc (its float parsers) into a static binary that is all resident. */
static uint64_t vm_rss_kib(void)
{
	char buf[128], *end;
	unsigned long long resident;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	strtoull(buf, &end, 10);
	if (end == buf || *end != ' ')
		return 0;
	resident = strtoull(end + 1, &end, 10);
	if (*end != ' ' && *end != '\n')
		return 0;
	return resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

int vm_get_counters(struct vm *vm, struct vm_stats *out)
{
	uint64_t start_ms;

	memset(out, 0, sizeof(*out));
	out->vcpu_exits = calloc(vm->nr_vcpus, sizeof(out->vcpu_exits[0]));
	if (!out->vcpu_exits)
		return -ENOMEM;
	pthread_mutex_lock(&vm->lock);
	out->state = vm->state;
	start_ms = vm->start_ms;
	pthread_mutex_unlock(&vm->lock);
	out->uptime_ms = start_ms ? monotonic_ms() - start_ms : 0;
	out->nr_vcpus = vm->nr_vcpus;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			out->vcpu_exits[i][r] = __atomic_load_n(&vm->vcpus[i].exits[r], __ATOMIC_RELAXED);
		out->io_in += __atomic_load_n(&vm->vcpus[i].io_in, __ATOMIC_RELAXED);
		out->mmio_reads += __atomic_load_n(&vm->vcpus[i].mmio_reads, __ATOMIC_RELAXED);
	}
	out->nr_virtio = devices_stats(&vm->devices, out->virtio, VM_STATS_VIRTIO_MAX);
	return 0;
}

int vm_get_stats(struct vm *vm, struct vm_stats *out)
{
	int err = vm_get_counters(vm, out);

	if (!err)
		out->rss_kib = vm_rss_kib();
	return err;
}

void vm_stats_free(struct vm_stats *stats)
{
	free(stats->vcpu_exits);
	stats->vcpu_exits = NULL;
}

void vm_tick(struct vm *vm)
{
	bool overdue;

	vm_drain_coalesced(vm);
	pthread_mutex_lock(&vm->lock);
	overdue = vm->panic_seen && monotonic_ms() >= vm->panic_deadline_ms;
	pthread_mutex_unlock(&vm->lock);
	if (overdue)
		vm_request_stop(vm, VM_STOP_PANIC, EXIT_GUEST_PANIC, "guest kernel panicked");
}

void vm_drain_coalesced(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;

	if (!ring)
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	for (;;) {
		uint32_t first = ring->first, last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio *w;

		if (first == last || first >= vm->coalesced_max)
			break;
		w = &ring->coalesced_mmio[first];
		io_bus_access(w->pio ? &vm->pio : &vm->mmio, w->phys_addr, w->data,
			      w->len <= sizeof(w->data) ? w->len : sizeof(w->data), true);
		__atomic_store_n(&ring->first, (first + 1) % vm->coalesced_max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
}
