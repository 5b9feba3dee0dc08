/*
 * kvm-probe: tells the bench whether a KVM device can run its tests.
 * Usage: kvm-probe [DEVICE]   (default /dev/kvm)
 *
 * Exit 0 when DEVICE opens read-write, KVM_GET_API_VERSION is 12, and a
 * 64-bit guest runs a 10-million-iteration loop within 2 seconds. The last
 * check is there because some hosts offer a /dev/kvm that emulates guest
 * code instruction by instruction (seen: kvm_pvm running a non-PVM guest,
 * about a million instructions a second); a stock kernel never finishes
 * booting there, so the bench must go nested instead. Real KVM runs the
 * loop in milliseconds, and so does the nested L1's KVM under QEMU TCG.
 * Otherwise one line on stderr says why, and the exit status is 3 when the
 * device works but too slowly, 1 when it does not work.
 * Built statically so the same binary also runs inside the nested L1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define LOOPS 10000000u
#define DEADLINE_S 2
#define MEM_SIZE 0x10000
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define CODE 0x8000

static const char *dev;

static int fail(const char *what)
{
	fprintf(stderr, "kvm-probe: %s: %s: %s\n", dev, what, strerror(errno));
	return 1;
}

static void on_alarm(int sig)
{
	(void)sig; /* only here to interrupt KVM_RUN */
}

/* Flat 64-bit code segment or data segment, ring 0. */
static struct kvm_segment segment(int code)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = code ? 8 : 16,
		.type = code ? 11 : 3, .present = 1, .s = 1, .g = 1,
		.l = code, .db = !code,
	};
	return s;
}

static int speed_test(int kvm)
{
	/* mov ecx, LOOPS; 1: dec ecx; jnz 1b; hlt */
	const uint8_t code[] = {
		0xb9, LOOPS & 0xff, (LOOPS >> 8) & 0xff, (LOOPS >> 16) & 0xff, LOOPS >> 24,
		0xff, 0xc9, 0x75, 0xfc, 0xf4,
	};
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	/* Identity-map the first 2 MiB with one large page. */
	*(uint64_t *)(mem + PML4) = PDPT | 3;
	*(uint64_t *)(mem + PDPT) = PD | 3;
	*(uint64_t *)(mem + PD) = 0x83;
	memcpy(mem + CODE, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs = segment(1);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = segment(0);
	sregs.cr3 = PML4;
	sregs.cr4 = 1u << 5;                   /* PAE */
	sregs.cr0 = 0x80000011;                /* PG, ET, PE */
	sregs.efer = (1u << 8) | (1u << 10);   /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = CODE, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");

	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	alarm(DEADLINE_S);
	int ret = ioctl(vcpu, KVM_RUN, 0);
	alarm(0);
	if (ret < 0 && errno == EINTR) {
		fprintf(stderr, "kvm-probe: %s runs guest code far too slowly (a %u-iteration "
			"loop took over %d s; software-emulated KVM?)\n", dev, LOOPS, DEADLINE_S);
		return 3;
	}
	if (ret < 0)
		return fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-probe: %s: test guest stopped with exit reason %u, not HLT\n",
			dev, run->exit_reason);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	dev = argc > 1 ? argv[1] : "/dev/kvm";
	int kvm = open(dev, O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		fprintf(stderr, "kvm-probe: cannot open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	int version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "kvm-probe: %s reports KVM API version %d, need %d\n",
			dev, version, KVM_API_VERSION);
		return 1;
	}
	return speed_test(kvm);
}
