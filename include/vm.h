/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM and its lifecycle. The one state machine (docs/architecture.md):
 *
 *   CREATED --vm_start--> RUNNING --vm_request_stop--> STOPPING --vm_join--> STOPPED
 *      |                   |    ^                        ^ ^
 *      |          vm_pause v    | vm_resume              | | vm_request_stop
 *      +--vm_start_paused--> PAUSED ---------------------+ |
 *      +------------ vm_request_stop / vm_join ------------+
 *
 * Every change of state goes through one function in vm.c (vm_enter_state),
 * which refuses any other move. Any thread may request a stop (a vCPU on
 * poweroff or a fault, a device, the main loop on a signal, the API); the
 * first request decides the exit reason and code, later ones are ignored.
 * vm_join, on the main thread, parks every vCPU and moves to STOPPED.
 */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "errmsg.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "io_thread.h"
#include "kvm.h"
#include "vcpu.h"
#include "vm_config.h"

struct console;
struct irq_routing;
struct vcpu;

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPING, VM_STOPPED };

enum vm_stop_kind {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,
	VM_STOP_REBOOT,
	VM_STOP_PANIC,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_GUEST_FAULT, /* KVM internal error, failed entry, unexpected exit */
	VM_STOP_SIGNAL,
	VM_STOP_QUIT,        /* Ctrl-A x */
	VM_STOP_HOST,        /* the host side ended it: smoke's deadline or a fatal console line */
	VM_STOP_VMM_ERROR,
};

struct vm {
	/* The caller's, not a copy (33 KiB, mostly drive paths): it outlives the VM. */
	const struct vm_config *cfg;
	struct kvm kvm;
	int fd;
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct console *console;

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	struct kvm_coalesced_mmio_ring *coalesced_ring;
	unsigned coalesced_max;
	pthread_mutex_t coalesced_lock;

	struct irq_routing *irq; /* src/irq.c */
	struct io_thread io;     /* device work: src/io_thread.c */
	/*
	 * Kernel parameters devices ask for (host_append_cmdline), put after the
	 * defaults: up to 32 virtio_mmio.device=512@0xd0003e00:23, 37 bytes each.
	 */
	char cmdline_extra[1536];

	/* What devices see of the VM (host.vm is this VM); they are made against it. */
	struct device_host host;
	struct device_set devices;

	/* Written by vCPU 0's thread just before its first KVM_RUN, read after vm_join (0: never ran). */
	uint64_t first_run_ns;     /* monotonic_ns() */
	uint64_t first_run_cpu_ns; /* process_cpu_ns() */

	/*
	 * Guards everything below. Three fields are also read without it, with
	 * atomic loads, by threads that must not wait for it: `state` (vCPU
	 * threads, each loop), `pause_requested` (vCPU threads, devices) and
	 * `panic_seen` (vCPU threads); they are written with atomic stores under it.
	 */
	pthread_mutex_t lock;
	enum vm_state state;
	enum vm_stop_kind stop_kind;
	int exit_code;
	char stop_message[256];
	bool panic_seen; /* read without the lock: vm_panic_seen */
	uint64_t panic_deadline_ms; /* stop this long after a panic was noticed, if the guest does not end itself */
	int stop_fd;                /* eventfd, readable once a stop was requested */
	uint64_t boot_timer_ns;     /* when the guest's init started (DEVICE_EVENT_INIT_STARTED; 0: not yet) */
	uint64_t start_ms;          /* monotonic_ms() at vm_start */
	/* Pausing: vCPU threads see pause_requested (also read without the lock), park and count themselves. */
	bool pause_requested;
	unsigned vcpus_parked;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; broadcast when vcpus_parked, pause_requested or state change */
	/* Serialises start, pause, resume and vm_join's stop of the I/O thread; taken before `lock`. */
	pthread_mutex_t control_lock;
};

/* Fills vm->host, what its devices get (src/vm_host.c), from the VM as vm_create has made it so far. */
void vm_host_init(struct vm *vm);
/* Creates the VM, its memory, vCPUs and devices; takes over the open kvm handle.
 * cfg is kept, not copied: it must outlive the VM (vm_destroy). */
int vm_create(struct vm *vm, struct kvm *kvm, const struct vm_config *cfg, struct console *console,
	      struct errmsg *e);
/*
 * The same, with guest RAM mapped from a snapshot's memory file
 * (guest_mem_map_file) instead of fresh memory: for vm_restore
 * (include/snapshot/snapshot.h), not for a boot.
 */
int vm_create_restored(struct vm *vm, struct kvm *kvm, const struct vm_config *cfg, struct console *console,
		       int mem_fd, struct errmsg *e);
void vm_destroy(struct vm *vm);
int vm_start(struct vm *vm, struct errmsg *e);
/*
 * CREATED -> PAUSED: starts the vCPU threads parked, before their first
 * KVM_RUN, and no device work; vm_resume then runs it. A restored VM that
 * PUT /snapshot/load did not ask to resume.
 */
int vm_start_paused(struct vm *vm, struct errmsg *e);
/* Parks all vCPUs after a stop was requested; returns the exit code. */
int vm_join(struct vm *vm);

void vm_request_stop(struct vm *vm, enum vm_stop_kind kind, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The guest said it panicked (pvpanic, or its banner on the console); `final` when nothing more will follow. */
void vm_note_panic(struct vm *vm, const char *how, bool final);
/* How long vm_pause waits for every vCPU to park before it gives up (-ETIMEDOUT). */
#define VM_PAUSE_TIMEOUT_MS 3000
/*
 * Control, on the thread that owns the VM (the runner's main loop; the API
 * hands its requests there). vm_pause returns once every vCPU thread is out
 * of KVM_RUN and parked and the I/O thread has stopped touching guest
 * memory; the guest is told through KVM_KVMCLOCK_CTRL so its watchdogs do
 * not fire on resume. A vCPU that does not park within VM_PAUSE_TIMEOUT_MS
 * (stuck in an exit) makes it give up: -ETIMEDOUT, and the guest runs on.
 * Pausing a paused VM and resuming a running one are no-ops (0); -EINVAL
 * before start or once stopping.
 */
int vm_pause(struct vm *vm);
/*
 * Tells KVM the guest was stopped (KVM_KVMCLOCK_CTRL on every vCPU), so its
 * watchdogs do not take the lost time for a lockup: on pause, and on restore.
 */
void vm_note_guest_stopped(struct vm *vm);
/* A pause was asked for and not undone: devices working outside the I/O thread leave guest memory alone. */
bool vm_pause_requested(struct vm *vm);
/* Whether the guest was seen to panic (any thread, without the lock). */
bool vm_panic_seen(struct vm *vm);
int vm_resume(struct vm *vm);
enum vm_state vm_get_state(struct vm *vm);
/* vCPU n's registers: only while paused (-EBUSY otherwise), -ENOENT for no such vCPU. */
int vm_get_vcpu_regs(struct vm *vm, unsigned n, struct kvm_regs *regs, struct kvm_sregs *sregs);
/* Presses and releases Ctrl-Alt-Del on the guest's keyboard (Linux then reboots); -ENODEV without one. */
int vm_send_ctrl_alt_del(struct vm *vm);

/* What GET /vm/stats reports; counters are read racily but never torn. */
#define VM_STATS_VIRTIO_MAX 16
struct vm_stats {
	enum vm_state state;
	uint64_t uptime_ms; /* since vm_start (0 before) */
	uint64_t rss_kib;   /* the VMM process's resident set, guest RAM it touched included */
	unsigned nr_vcpus;
	uint64_t (*vcpu_exits)[VCPU_EXIT_REASONS]; /* nr_vcpus rows by KVM_EXIT_* reason (vcpu_exit_name) */
	uint64_t io_in, mmio_reads; /* of all vCPUs' io and mmio exits, those that read */
	unsigned nr_virtio;
	struct device_stats virtio[VM_STATS_VIRTIO_MAX]; /* the devices' stats rows (their stats hooks) */
};

/* Fills *out (any thread, any state after vm_create); -ENOMEM. Free it with vm_stats_free. */
int vm_get_stats(struct vm *vm, struct vm_stats *out);
/* The same without rss_kib (0), which needs to open a file: for the main thread, which may not. */
int vm_get_counters(struct vm *vm, struct vm_stats *out);
void vm_stats_free(struct vm_stats *stats);

/* Periodic work on the main thread: flushes coalesced writes, enforces the panic grace period. */
void vm_tick(struct vm *vm);

/* Replays batched writes to their devices, in order. Safe from any thread. */
void vm_drain_coalesced(struct vm *vm);

#endif
