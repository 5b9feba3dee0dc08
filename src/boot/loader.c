// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <asm/bootparam.h>
#include <asm/e820.h>

#include "boot/acpi.h"
#include "boot/bzimage.h"
#include "boot/cmdline.h"
#include "boot/e820.h"
#include "boot/layout.h"
#include "boot/loader.h"
#include "boot/mptable.h"
#include "boot/pvh.h"
#include "boot/x86_cpu.h"
#include "devices/pci.h"
#include "devices/power.h"
#include "irq.h"
#include "open_file.h"
#include "vcpu.h"
#include "vm.h"

/* Linux's COMMAND_LINE_SIZE on x86, for kernels whose header does not say (PVH). */
#define PVH_CMDLINE_MAX 2047

#define IOAPIC_ADDR 0xfec00000U

struct image {
	const char *path;
	uint8_t *data;
	size_t len;
};

static int image_map(struct image *img, const char *what, const char *path, bool no_follow, struct errmsg *e)
{
	struct stat st;
	int fd = open_file(what, path, O_RDONLY, OPEN_REGULAR, no_follow, e);

	img->path = path;
	img->data = NULL;
	img->len = 0;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		close(fd);
		return errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	}
	if (st.st_size == 0) {
		close(fd);
		return errmsg_set(e, EINVAL, "%s '%s': empty file", what, path);
	}
	img->len = st.st_size;
	img->data = mmap(NULL, img->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img->data == MAP_FAILED) {
		img->data = NULL;
		return errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	}
	return 0;
}

static void image_unmap(struct image *img)
{
	if (img->data)
		munmap(img->data, img->len);
	img->data = NULL;
}

static int copy_to_guest(struct vm *vm, uint64_t gpa, const void *src, uint64_t len, uint64_t zero_len)
{
	uint8_t *dst = guest_ptr(&vm->mem, gpa, len + zero_len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	memset(dst + len, 0, zero_len);
	return 0;
}

/* Copies the initrd to the top of RAM below `limit`, above `floor`. */
static int place_initrd(struct vm *vm, const struct image *img, uint64_t floor, uint64_t limit, uint64_t *addr,
			struct errmsg *e)
{
	uint8_t *dst;

	if (img->len > limit || ((limit - img->len) & ~0xfffULL) < floor)
		return errmsg_set(e, E2BIG, "initrd '%s': %zu MiB does not fit in guest memory (%llu MiB free for it "
				  "below %#llx)", img->path, img->len >> 20,
				  (unsigned long long)((limit > floor ? limit - floor : 0) >> 20),
				  (unsigned long long)limit);
	*addr = (limit - img->len) & ~0xfffULL;
	dst = guest_ptr(&vm->mem, *addr, img->len);
	if (!dst)
		return errmsg_set(e, EFAULT, "initrd '%s': placement outside guest memory", img->path);
	memcpy(dst, img->data, img->len);
	return 0;
}

/* The initrd from its file, or the one the configuration holds in memory; none is fine. */
static int load_initrd(struct vm *vm, uint64_t floor, uint64_t limit, uint64_t *addr, uint64_t *size,
		       struct errmsg *e)
{
	struct image img = { .path = "built-in", .data = (uint8_t *)vm->cfg->initrd_data, .len = vm->cfg->initrd_size };
	int err;

	*addr = *size = 0;
	if (vm->cfg->initrd_path[0]) {
		if ((err = image_map(&img, "initrd", vm->cfg->initrd_path, vm->cfg->paths_from_api, e)))
			return err;
		err = place_initrd(vm, &img, floor, limit, addr, e);
		image_unmap(&img);
	} else {
		err = img.len ? place_initrd(vm, &img, floor, limit, addr, e) : 0;
	}
	if (!err)
		*size = img.len;
	return err;
}

static int build_cmdline(struct vm *vm, size_t max_len, struct errmsg *e)
{
	char *dst = guest_ptr(&vm->mem, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX);
	char defaults[sizeof(CMDLINE_DEFAULTS) + sizeof(vm->cmdline_extra)];
	char user[VM_CMDLINE_MAX + DEVICE_BOOT_ARGS_MAX]; /* the boot arguments, then the devices' (the root drive's root=) */
	int len;

	/* What devices asked for counts as a default: --cmdline can still override it. */
	snprintf(defaults, sizeof(defaults), "%s%s%s", CMDLINE_DEFAULTS, vm->cmdline_extra[0] ? " " : "",
		 vm->cmdline_extra);
	if (devices_boot_args(vm->cfg, user, sizeof(user)))
		return errmsg_set(e, EINVAL, "boot_args are too long");
	len = cmdline_build(defaults, user, dst, LAYOUT_CMDLINE_MAX, max_len);

	if (len == -EINVAL)
		return errmsg_set(e, EINVAL, "--cmdline: unterminated quote");
	if (len < 0)
		return errmsg_set(e, E2BIG, "--cmdline: the kernel command line is too long (this kernel accepts %zu bytes)",
				  max_len);
	return 0;
}

_Static_assert(PCI_SLOTS <= MPTABLE_PCI_SLOTS, "the MP table describes every PCI slot");

/* The device lines for the MP table: the PCI bus's INTx routes; every other line is level-triggered, active high. */
static void mptable_device_lines(struct vm *vm, struct mptable_config *cfg)
{
	struct pci_bus *pci = pci_bus_of(&vm->host);
	uint32_t pci_pins = 0;

	if (pci) {
		cfg->pci_bus = true;
		for (unsigned slot = 1; slot < PCI_SLOTS; slot++)
			for (unsigned pin = 0; pin < MPTABLE_PCI_PINS; pin++) {
				cfg->pci_intx[slot][pin] = (uint8_t)pci_bus_intx_gsi(pci, slot, pin);
				pci_pins |= 1u << cfg->pci_intx[slot][pin];
			}
	}
	for (unsigned gsi = IRQ_LINE_FIRST; gsi <= IRQ_LINE_LAST; gsi++)
		if (!(pci_pins & 1u << gsi))
			cfg->level_high_pins |= 1u << gsi;
}

/* Whether the boot arguments have `word` as a whole word ("acpi=off"). */
static bool cmdline_has_word(const char *cmdline, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(cmdline, word); p; p = strstr(p + 1, word))
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static int build_platform_tables(struct vm *vm, uint64_t *rsdp, struct errmsg *e)
{
	uint8_t *acpi = guest_ptr(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	uint8_t *mp = guest_ptr(&vm->mem, LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE);
	int err;

	/*
	 * kvmini daemon reads its guest's boot arguments (mptable_too): with
	 * noapic (firectl's default) the guest needs the PIC, which Linux never
	 * sets up under hardware-reduced ACPI, so it gets the MP table alone;
	 * with acpi=off (Kata's) the MP table beside ACPI; else ACPI alone.
	 */
	bool noapic = vm->cfg->mptable_too && cmdline_has_word(vm->cfg->cmdline, "noapic");
	bool with_acpi = vm->cfg->acpi && !noapic;

	*rsdp = 0;
	if (!with_acpi || (vm->cfg->mptable_too && cmdline_has_word(vm->cfg->cmdline, "acpi=off"))) {
		struct mptable_config mp_cfg = {
			.nr_cpus = vm->nr_vcpus,
			.ioapic_addr = IOAPIC_ADDR,
			.ioapic_id = vm->nr_vcpus,
		};

		mptable_device_lines(vm, &mp_cfg);
		err = mptable_build(mp, LAYOUT_MPTABLE_SIZE, LAYOUT_MPTABLE, &mp_cfg);
		if (err < 0)
			return errmsg_set(e, -err, "cannot build the MP table: %s", strerror(-err));
		if (!with_acpi)
			return 0;
	}
	struct acpi_platform platform = {
		.nr_cpus = vm->nr_vcpus,
		.ioapic_addr = IOAPIC_ADDR,
		.ioapic_id = vm->nr_vcpus,
		.sleep_ctl_port = POWER_SLEEP_CTL_PORT,
		.sleep_sts_port = POWER_SLEEP_STS_PORT,
		.describe_devices = devices_describe_acpi,
		.ctx = &vm->devices,
	};
	err = acpi_build(&platform, acpi, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, rsdp);
	return err ? errmsg_set(e, -err, "cannot build the ACPI tables: %s", strerror(-err)) : 0;
}

static int load_bzimage(struct vm *vm, const struct image *k, struct boot_entry *entry, struct errmsg *e)
{
	struct bzimage_info info;
	struct boot_params *bp = guest_ptr(&vm->mem, LAYOUT_ZERO_PAGE, sizeof(*bp));
	uint64_t initrd_addr, initrd_size, limit, rsdp;
	int n, err;

	if ((err = bzimage_parse(k->data, k->len, LAYOUT_KERNEL, &info, e)))
		return errmsg_prefix(e, -err, "kernel '%s': ", k->path);
	if (info.decompress_end > guest_mem_low_end(&vm->mem))
		return errmsg_set(e, ENOMEM, "kernel '%s' decompresses up to %llu MiB, more than guest memory has",
				  k->path, (unsigned long long)(info.decompress_end >> 20));
	if (copy_to_guest(vm, LAYOUT_KERNEL, k->data + info.setup_size, info.kernel_size, 0))
		return errmsg_set(e, EFAULT, "kernel '%s': does not fit in guest memory", k->path);

	limit = guest_mem_low_end(&vm->mem);
	if (info.initrd_addr_max && info.initrd_addr_max + 1ULL < limit)
		limit = info.initrd_addr_max + 1ULL;
	if ((err = load_initrd(vm, info.decompress_end, limit, &initrd_addr, &initrd_size, e)))
		return err;
	if ((err = build_cmdline(vm, info.cmdline_max, e)) || (err = build_platform_tables(vm, &rsdp, e)))
		return err;

	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, k->data + 0x1f1, info.header_end - 0x1f1);
	bp->hdr.type_of_loader = 0xff; /* "undefined" boot loader */
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = LAYOUT_CMDLINE;
	bp->hdr.ramdisk_image = initrd_addr;
	bp->hdr.ramdisk_size = initrd_size;
	if (info.protocol >= 0x020e)
		bp->acpi_rsdp_addr = rsdp;
	n = e820_build(&vm->mem, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return errmsg_set(e, -n, "cannot build the e820 map");
	bp->e820_entries = n;

	*entry = (struct boot_entry){ .kind = BOOT_LINUX64, .entry = LAYOUT_KERNEL + 0x200, .arg = LAYOUT_ZERO_PAGE };
	return 0;
}

static int load_pvh(struct vm *vm, const struct image *k, struct boot_entry *entry, struct errmsg *e)
{
	struct pvh_info info;
	struct boot_e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct hvm_modlist_entry *mod;
	uint64_t kernel_end = LAYOUT_KERNEL, initrd_addr, initrd_size, rsdp;
	int n, err;

	if ((err = pvh_parse(k->data, k->len, &info, e)))
		return errmsg_prefix(e, -err, "kernel '%s': ", k->path);
	for (unsigned i = 0; i < info.nr_segments; i++) {
		const struct pvh_segment *s = &info.segments[i];

		if (s->paddr < LAYOUT_KERNEL ||
		    copy_to_guest(vm, s->paddr, k->data + s->offset, s->filesz, s->memsz - s->filesz))
			return errmsg_set(e, EFAULT, "kernel '%s': segment %u at %#llx (%llu bytes) is outside guest RAM "
					  "above 1 MiB", k->path, i, (unsigned long long)s->paddr,
					  (unsigned long long)s->memsz);
		if (s->paddr + s->memsz > kernel_end)
			kernel_end = s->paddr + s->memsz;
	}
	if ((err = load_initrd(vm, kernel_end, guest_mem_low_end(&vm->mem), &initrd_addr, &initrd_size, e)))
		return err;
	if ((err = build_cmdline(vm, PVH_CMDLINE_MAX, e)) || (err = build_platform_tables(vm, &rsdp, e)))
		return err;
	n = e820_build(&vm->mem, map, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return errmsg_set(e, -n, "cannot build the memory map");

	si = guest_ptr(&vm->mem, LAYOUT_PVH_INFO, 4096);
	memset(si, 0, 4096);
	mm = (void *)(si + 1);
	mod = (void *)(mm + n);
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = LAYOUT_CMDLINE,
		.rsdp_paddr = rsdp,
		.memmap_paddr = LAYOUT_PVH_INFO + sizeof(*si),
		.memmap_entries = n,
	};
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ .addr = map[i].addr, .size = map[i].size, .type = map[i].type };
	if (initrd_size) {
		*mod = (struct hvm_modlist_entry){ .paddr = initrd_addr, .size = initrd_size };
		si->nr_modules = 1;
		si->modlist_paddr = LAYOUT_PVH_INFO + ((uint8_t *)mod - (uint8_t *)si);
	}
	*entry = (struct boot_entry){ .kind = BOOT_PVH, .entry = info.entry, .arg = LAYOUT_PVH_INFO };
	return 0;
}

static int set_boot_cpu(struct vm *vm, const struct boot_entry *entry, struct errmsg *e)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (boot_write_cpu_tables(&vm->mem))
		return errmsg_set(e, EFAULT, "guest memory too small for the boot page tables");
	if (ioctl(bsp->fd, KVM_GET_SREGS, &sregs))
		return errmsg_set(e, errno, "KVM_GET_SREGS: %s", strerror(errno));
	boot_cpu_state(entry, &sregs, &regs);
	if (ioctl(bsp->fd, KVM_SET_SREGS, &sregs))
		return errmsg_set(e, errno, "KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(bsp->fd, KVM_SET_REGS, &regs))
		return errmsg_set(e, errno, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

int boot_load(struct vm *vm, struct errmsg *e)
{
	struct image kernel;
	struct boot_entry entry;
	int err;

	if ((err = image_map(&kernel, "kernel", vm->cfg->kernel_path, vm->cfg->paths_from_api, e)))
		return err;
	if (bzimage_probe(kernel.data, kernel.len))
		err = load_bzimage(vm, &kernel, &entry, e);
	else if (pvh_probe(kernel.data, kernel.len))
		err = load_pvh(vm, &kernel, &entry, e);
	else
		err = errmsg_set(e, EINVAL, "kernel '%s': not a bzImage (no HdrS magic) nor an ELF vmlinux", kernel.path);
	image_unmap(&kernel);
	return err ?: set_boot_cpu(vm, &entry, e);
}
