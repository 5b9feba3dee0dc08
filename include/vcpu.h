/* SPDX-License-Identifier: Apache-2.0 */
/* One host thread per vCPU, running KVM_RUN and dispatching its exits. */
#ifndef KVMINI_VCPU_H
#define KVMINI_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "errmsg.h"

struct vm;
struct exit_history;

#define VCPU_EXIT_REASONS 64
/* Interrupts KVM_RUN; blocked everywhere but in vCPU threads. */
#define VCPU_KICK_SIGNAL SIGUSR1

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t exits[VCPU_EXIT_REASONS]; /* by KVM_EXIT_* reason; written by the vCPU thread only, atomically */
	uint64_t io_in, mmio_reads;        /* of the io and mmio exits, those that read (the metrics split them) */
	/* NULL unless `kvmini smoke` watches: then each exit is recorded there (set atomically, any time). */
	struct exit_history *history;
};

/* Creates the vCPU and gives it its CPUID, MSRs and local APIC wiring. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id, struct errmsg *e);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Makes the thread leave KVM_RUN soon (it then sees the VM is stopping, or parks for a pause). */
void vcpu_kick(struct vcpu *vcpu);
/* "io", "mmio", ... for a KVM_EXIT_* reason; NULL for one kvmini has no name for. */
const char *vcpu_exit_name(unsigned reason);
/* With --verbose: how many exits of each kind the vCPU took ("vCPU 0 exits: io 812, mmio 305"). */
void vcpu_log_exits(const struct vcpu *vcpu);
/* The installed handler for the kick signal; call once per process. */
int vcpu_install_kick_handler(void);

#endif
