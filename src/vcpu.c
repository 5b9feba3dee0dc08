// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "clock.h"
#include "console.h"
#include "cpuid.h"
#include "exit_codes.h"
#include "jail.h"
#include "log.h"
#include "smoke/exit_history.h"
#include "thread.h"
#include "vcpu.h"
#include "vm.h"

/* MSR numbers from the Intel SDM (the UAPI headers do not carry them). */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MISC_ENABLE_FAST_STRING (1ULL << 0)
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Local APIC register offsets and delivery modes for the LINT pins. */
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static int vcpu_set_cpuid(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *supported = vcpu->vm->kvm.supported_cpuid;
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int err;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, size);
	cpuid_set_topology(cpuid->entries, cpuid->nent, vcpu->id, vcpu->vm->nr_vcpus,
			   cpuid_threads_per_core(vcpu->vm->cfg->smt, vcpu->vm->nr_vcpus));
	if (!vcpu->vm->cfg->nested)
		cpuid_hide_nested(cpuid->entries, cpuid->nent);
	err = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) ? -errno : 0;
	free(cpuid);
	return err;
}

/* The MSRs a 64-bit kernel expects a boot loader to have left in a sane state. */
static int vcpu_set_msrs(struct vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 }, { MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 }, { MSR_LSTAR, 0 }, { MSR_CSTAR, 0 }, { MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING },
		/* MTRRs on, write-back by default: otherwise the guest maps all RAM uncached. */
		{ MSR_MTRR_DEF_TYPE, (1 << 11) | 6 },
	};
	const unsigned n = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[sizeof(boot_msrs) / sizeof(boot_msrs[0])];
	} msrs;
	int set;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	set = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (set < 0)
		return -errno;
	return set == (int)n ? 0 : -EINVAL;
}

/* LINT0 receives the 8259's interrupts (ExtINT), LINT1 the NMI: the wiring of a PC. */
static int vcpu_set_lint(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t lvt;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic))
		return -errno;
	memcpy(&lvt, lapic.regs + APIC_LVT0, 4);
	lvt = (lvt & ~0x700U) | APIC_MODE_EXTINT << 8;
	memcpy(lapic.regs + APIC_LVT0, &lvt, 4);
	memcpy(&lvt, lapic.regs + APIC_LVT1, 4);
	lvt = (lvt & ~0x700U) | APIC_MODE_NMI << 8;
	memcpy(lapic.regs + APIC_LVT1, &lvt, 4);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id, struct errmsg *e)
{
	int err;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return errmsg_set(e, errno, "vCPU %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
	vcpu->run = mmap(NULL, vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		err = errno;
		vcpu->run = NULL;
		close(vcpu->fd);
		vcpu->fd = -1;
		return errmsg_set(e, err, "vCPU %u: mapping kvm_run: %s", id, strerror(err));
	}
	if ((err = vcpu_set_cpuid(vcpu)))
		return errmsg_set(e, -err, "vCPU %u: KVM_SET_CPUID2: %s", id, strerror(-err));
	if ((err = vcpu_set_msrs(vcpu)))
		return errmsg_set(e, -err, "vCPU %u: KVM_SET_MSRS: %s", id, strerror(-err));
	if ((err = vcpu_set_lint(vcpu)))
		return errmsg_set(e, -err, "vCPU %u: local APIC set-up: %s", id, strerror(-err));
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static uint64_t vcpu_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	return ioctl(vcpu->fd, KVM_GET_REGS, &regs) ? 0 : regs.rip;
}

/* After a shutdown, KVM on AMD reinitialises the vCPU: it then sits at the reset vector. */
static bool vcpu_was_reset(struct vcpu *vcpu)
{
	struct kvm_sregs sregs;

	return !ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) && sregs.cs.base == 0xffff0000 && vcpu_rip(vcpu) == 0xfff0;
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	/* data_offset and count come from KVM, but check they stay inside the mapping anyway. */
	if (run->io.size > 8 || run->io.data_offset > (uint64_t)vcpu->vm->kvm.vcpu_mmap_size ||
	    (uint64_t)run->io.size * run->io.count > vcpu->vm->kvm.vcpu_mmap_size - run->io.data_offset) {
		vm_request_stop(vcpu->vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "vCPU %u: malformed I/O exit", vcpu->id);
		return;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		io_bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size, is_write);
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned len = run->mmio.len <= sizeof(run->mmio.data) ? run->mmio.len : sizeof(run->mmio.data);

	io_bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, EXIT_GUEST_OK, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VM_STOP_REBOOT, EXIT_GUEST_OK, "guest rebooted");
		break;
	default:
		vm_note_panic(vcpu->vm, "KVM system event", true);
		break;
	}
}

static const char *const exit_names[VCPU_EXIT_REASONS] = {
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
	[KVM_EXIT_FAIL_ENTRY] = "fail-entry",
};

const char *vcpu_exit_name(unsigned reason)
{
	return reason < VCPU_EXIT_REASONS ? exit_names[reason] : NULL;
}

void vcpu_log_exits(const struct vcpu *vcpu)
{
	char line[512];
	size_t len = 0;

	for (unsigned r = 0; r < VCPU_EXIT_REASONS && len < sizeof(line); r++) {
		const char *name = exit_names[r];
		char unnamed[16];

		if (!vcpu->exits[r])
			continue;
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "reason %u", r);
			name = unnamed;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %" PRIu64, len ? ", " : "", name,
					vcpu->exits[r]);
	}
	log_debug("vCPU %u exits: %s", vcpu->id, len ? line : "none");
}

/* Handles one exit; false when the vCPU must stop running. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	struct exit_history *history = __atomic_load_n(&vcpu->history, __ATOMIC_ACQUIRE);

	/* Only this thread writes the counter; the atomic store keeps a concurrent stats reader from seeing it torn. */
	if (run->exit_reason < VCPU_EXIT_REASONS)
		__atomic_store_n(&vcpu->exits[run->exit_reason], vcpu->exits[run->exit_reason] + 1, __ATOMIC_RELAXED);
	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN)
		__atomic_store_n(&vcpu->io_in, vcpu->io_in + 1, __ATOMIC_RELAXED);
	else if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
		__atomic_store_n(&vcpu->mmio_reads, vcpu->mmio_reads + 1, __ATOMIC_RELAXED);
	/* The clock read is the vDSO's, no system call; nothing at all when no one watches. */
	if (history)
		exit_history_record(history, run->exit_reason,
				    run->exit_reason == KVM_EXIT_IO ? run->io.port :
				    run->exit_reason == KVM_EXIT_MMIO ? run->mmio.phys_addr : 0, monotonic_ns());
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* A guest that panicked and then reset the hard way still panicked. */
		if (vm_panic_seen(vm))
			vm_note_panic(vm, "reset after panic", true);
		else
			vm_request_stop(vm, VM_STOP_TRIPLE_FAULT, EXIT_RUNTIME_ERROR,
					"vCPU %u: triple fault (KVM_EXIT_SHUTDOWN), rip=%#llx%s", vcpu->id,
					(unsigned long long)vcpu_rip(vcpu), vcpu_was_reset(vcpu) ?
					" (AMD's KVM resets the vCPU on shutdown, so the faulting RIP is lost)" : "");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_stop(vm, VM_STOP_GUEST_FAULT, EXIT_RUNTIME_ERROR,
				"vCPU %u: KVM internal error (suberror %u%s), rip=%#llx", vcpu->id, run->internal.suberror,
				run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? ": instruction emulation failed" : "",
				(unsigned long long)vcpu_rip(vcpu));
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(vm, VM_STOP_GUEST_FAULT, EXIT_RUNTIME_ERROR,
				"vCPU %u: VM entry failed (hardware reason %#llx), rip=%#llx", vcpu->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
				(unsigned long long)vcpu_rip(vcpu));
		return false;
	default:
		vm_request_stop(vm, VM_STOP_GUEST_FAULT, EXIT_RUNTIME_ERROR, "vCPU %u: unexpected exit reason %u, rip=%#llx",
				vcpu->id, run->exit_reason, (unsigned long long)vcpu_rip(vcpu));
		return false;
	}
}

static bool vcpu_should_stop(struct vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

/* Out of KVM_RUN, with this exit handled: wait here while the VM is paused, unless it stops meanwhile. */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->lock);
	vm->vcpus_parked++;
	pthread_cond_broadcast(&vm->cond);
	while (vm->pause_requested && (vm->state == VM_RUNNING || vm->state == VM_PAUSED))
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->vcpus_parked--;
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	const char *what;
	sigset_t kick;
	int err;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if ((err = jail_enter(SECCOMP_VCPU, &what))) {
		vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "vCPU %u: cannot confine its thread: %s: %s",
				vcpu->id, what, strerror(-err));
		return NULL;
	}

	for (;;) {
		/*
		 * Sequentially consistent with vm_pause's store and kick: either this load sees the
		 * request, or the kick's immediate_exit lands after our reset below and KVM_RUN returns at once.
		 */
		if (__atomic_load_n(&vm->pause_requested, __ATOMIC_SEQ_CST))
			vcpu_park(vcpu);
		if (vcpu_should_stop(vcpu))
			break;
		if (vcpu->id == 0 && !vm->first_run_ns) {
			vm->first_run_cpu_ns = process_cpu_ns();
			vm->first_run_ns = monotonic_ns();
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			vm_request_stop(vm, VM_STOP_VMM_ERROR, EXIT_RUNTIME_ERROR, "vCPU %u: KVM_RUN: %s, rip=%#llx",
					vcpu->id, strerror(errno), (unsigned long long)vcpu_rip(vcpu));
			break;
		}
		/* Batched writes happened before this exit; replay them first to keep the guest's order. */
		vm_drain_coalesced(vm);
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	vm_drain_coalesced(vm);
	console_flush(vm->console);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int err = thread_start(&vcpu->thread, vcpu_thread, vcpu);

	vcpu->started = !err;
	return err;
}

void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (vcpu->started)
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) ? -errno : 0;
}
