/* SPDX-License-Identifier: Apache-2.0 */
/* The system-wide /dev/kvm handle and what the host's KVM can do. */
#ifndef KVMINI_KVM_H
#define KVMINI_KVM_H

#include <stdbool.h>
#include <linux/kvm.h>

#include "errmsg.h"

#define KVM_DEVICE_DEFAULT "/dev/kvm"
/* Lets the bench (and unusual hosts) point kvmini at another device node. */
#define KVM_DEVICE_ENV "KVMINI_KVM_DEVICE"

struct kvm {
	int fd;
	int vcpu_mmap_size;
	unsigned max_vcpus;
	bool coalesced_pio;
	struct kvm_cpuid2 *supported_cpuid;
};

/* Opens the device and checks the API; a failure gets a message that says how to fix it. */
int kvm_open(struct kvm *kvm, struct errmsg *e);
void kvm_close(struct kvm *kvm);
int kvm_check_extension(const struct kvm *kvm, long cap);

#endif
