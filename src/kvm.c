// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvm.h"

/* KVM_GET_SUPPORTED_CPUID wants a buffer big enough up front; grow until it fits. */
static struct kvm_cpuid2 *get_supported_cpuid(int fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

int kvm_open(struct kvm *kvm, struct errmsg *e)
{
	const char *path = getenv(KVM_DEVICE_ENV) ?: KVM_DEVICE_DEFAULT;
	int version, n;

	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ENXIO || err == ENODEV)
			return errmsg_set(e, err, "%s: no KVM on this host (load kvm-intel or kvm-amd, or enable nested "
					  "virtualisation; docs/testing.md shows how to test without it)", path);
		if (err == EACCES || err == EPERM)
			return errmsg_set(e, err, "%s: permission denied (add yourself to its group, e.g. "
					  "'sudo usermod -aG kvm $USER' and log in again, or 'sudo setfacl -m u:$USER:rw %s')",
					  path, path);
		return errmsg_set(e, err, "%s: %s", path, strerror(err));
	}
	version = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		close(kvm->fd);
		return errmsg_set(e, ENOTSUP, "%s: KVM API version %d, kvmini needs %d", path, version, KVM_API_VERSION);
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	n = kvm_check_extension(kvm, KVM_CAP_MAX_VCPUS);
	kvm->max_vcpus = n > 0 ? (unsigned)n : 4; /* the KVM API's documented fallback */
	kvm->coalesced_pio = kvm_check_extension(kvm, KVM_CAP_COALESCED_PIO) > 0;
	kvm->supported_cpuid = get_supported_cpuid(kvm->fd);
	if (kvm->vcpu_mmap_size <= 0 || !kvm->supported_cpuid) {
		int err = errno ?: EIO;

		kvm_close(kvm);
		return errmsg_set(e, err, "%s: cannot query KVM: %s", path, strerror(err));
	}
	return 0;
}

void kvm_close(struct kvm *kvm)
{
	free(kvm->supported_cpuid);
	if (kvm->fd >= 0)
		close(kvm->fd);
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;
}

int kvm_check_extension(const struct kvm *kvm, long cap)
{
	return ioctl(kvm->fd, KVM_CHECK_EXTENSION, cap);
}
