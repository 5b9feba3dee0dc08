// SPDX-License-Identifier: Apache-2.0
/*
 * A whole VM into a snapshot and back (include/snapshot/snapshot.h): gathers
 * the sections the other snapshot modules write (KVM state, devices,
 * configuration, memory) into the file format, and puts them back in the
 * order KVM and the devices need.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "snapshot/kvm_state.h"
#include "snapshot/memory.h"
#include "snapshot/snapshot.h"
#include "vm.h"

/* The devices section's framing is state.h's, which checks its own format; this numbers the section. */
#define DEVICES_SECTION_VERSION 1

/* What every vCPU's record depends on, asked of KVM once per snapshot or restore. */
struct kvm_layout {
	uint32_t xsave_size;
	struct vcpu_msr_list msrs;
};

static int kvm_layout_get(struct vm *vm, struct kvm_layout *l, struct errmsg *e)
{
	int err = vcpu_xsave_size(vm->fd, &l->xsave_size, e);

	return err ?: vcpu_saved_msrs(vm->kvm.fd, vm->vcpus[0].fd, &l->msrs, e);
}

/* The CPUID vCPU 0 was given: what the guest saw, and what a restoring host must offer. */
static int add_cpuid(struct vm *vm, struct snapshot_writer *w, struct errmsg *e)
{
	unsigned nent = vm->kvm.supported_cpuid->nent;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));

	if (!cpuid)
		return errmsg_set(e, ENOMEM, "out of memory");
	cpuid->nent = nent;
	if (ioctl(vm->vcpus[0].fd, KVM_GET_CPUID2, cpuid)) {
		int err = errno;

		free(cpuid);
		return errmsg_set(e, err, "KVM_GET_CPUID2: %s", strerror(err));
	}
	snapshot_add_cpuid(w, cpuid->entries, cpuid->nent);
	free(cpuid);
	return 0;
}

/* Appends the record one piece wrote to w as section (kind, index). */
static int add_record(struct snapshot_writer *w, enum snapshot_kind kind, uint32_t index, uint16_t version,
		      struct state_writer *rec)
{
	int err = rec->err;

	if (!err)
		snapshot_add(w, kind, index, version, rec->buf, rec->len);
	state_writer_free(rec);
	state_writer_init(rec);
	return err;
}

static int add_kvm_state(struct vm *vm, struct snapshot_writer *w, struct errmsg *e)
{
	struct kvm_layout layout;
	struct vcpu_state *vcpu = malloc(sizeof(*vcpu));
	struct vm_kvm_state vm_state;
	struct state_writer rec;
	int err;

	if (!vcpu)
		return errmsg_set(e, ENOMEM, "out of memory");
	state_writer_init(&rec);
	err = kvm_layout_get(vm, &layout, e) ?: add_cpuid(vm, w, e);
	if (!err) {
		snapshot_add_msr_list(w, layout.msrs.index, layout.msrs.nr);
		snapshot_add_xsave_size(w, layout.xsave_size);
	}
	for (unsigned i = 0; !err && i < vm->nr_vcpus; i++) {
		if ((err = vcpu_state_get(vm->vcpus[i].fd, &layout.msrs, layout.xsave_size, vcpu, e))) {
			errmsg_prefix(e, -err, "vCPU %u: ", i);
			break;
		}
		vcpu_state_write(vcpu, &rec);
		if ((err = add_record(w, SNAPSHOT_VCPU, i, KVM_STATE_VERSION, &rec)))
			errmsg_set(e, -err, "out of memory");
	}
	if (!err && !(err = vm_kvm_state_get(vm->fd, &vm_state, e))) {
		vm_kvm_state_write(&vm_state, &rec);
		if ((err = add_record(w, SNAPSHOT_VM, 0, KVM_STATE_VERSION, &rec)))
			errmsg_set(e, -err, "out of memory");
	}
	state_writer_free(&rec);
	free(vcpu);
	return err;
}

/* Writes all of buf at offset 0 of fd and cuts the file there. */
static int write_state_file(int fd, const uint8_t *buf, size_t len, struct errmsg *e)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errmsg_set(e, n < 0 ? errno : EIO, "snapshot file: %s", strerror(n < 0 ? errno : EIO));
		done += (size_t)n;
	}
	if (ftruncate(fd, (off_t)len))
		return errmsg_set(e, errno, "snapshot file: %s", strerror(errno));
	return 0;
}

/*
 * The pages written since the last snapshot: KVM's dirty log of each memory
 * slot (what the vCPUs wrote) and the VMM's own record (what devices wrote),
 * both cleared as they are read. Slots are the RAM regions in host order and
 * each below-hole size is a multiple of 64 pages, so their bitmaps line up.
 */
static int take_dirty_pages(struct vm *vm, uint64_t *bitmap, struct errmsg *e)
{
	uint64_t first_page = 0;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		struct kvm_dirty_log log = { .slot = i, .dirty_bitmap = bitmap + first_page / 64 };

		if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log))
			return errmsg_set(e, errno, "KVM_GET_DIRTY_LOG: %s", strerror(errno));
		first_page += vm->mem.regions[i].size / GUEST_PAGE_SIZE;
	}
	guest_mem_take_written(&vm->mem, bitmap);
	return 0;
}

static int write_memory(struct vm *vm, enum snapshot_type type, int mem_fd, struct errmsg *e)
{
	uint64_t *dirty = NULL;
	int err = 0;

	if (type == SNAPSHOT_DIFF && !vm->cfg->track_dirty_pages)
		return errmsg_set(e, EINVAL, "a Diff snapshot needs track_dirty_pages set when the VM was configured");
	if (vm->cfg->track_dirty_pages) {
		dirty = calloc(snapshot_bitmap_words(&vm->mem), sizeof(*dirty));
		if (!dirty)
			return errmsg_set(e, ENOMEM, "out of memory for the dirty page bitmap");
		/* For a Full snapshot this only starts the next Diff's record afresh. */
		err = take_dirty_pages(vm, dirty, e);
	}
	if (!err)
		err = type == SNAPSHOT_FULL ? snapshot_mem_write_full(&vm->mem, mem_fd, e)
					    : snapshot_mem_write_pages(&vm->mem, dirty, mem_fd, e);
	free(dirty);
	return err;
}

int vm_snapshot(struct vm *vm, enum snapshot_type type, int state_fd, int mem_fd, struct errmsg *e)
{
	struct snapshot_writer w;
	struct state_writer rec, file;
	uint64_t t0 = monotonic_ns();
	int err;

	/* control_lock keeps the VM paused (no resume can start) while it is read. */
	pthread_mutex_lock(&vm->control_lock);
	if (vm_get_state(vm) != VM_PAUSED) {
		pthread_mutex_unlock(&vm->control_lock);
		return errmsg_set(e, EBUSY, "the VM must be paused to be snapshotted");
	}
	snapshot_writer_init(&w);
	state_writer_init(&rec);
	state_writer_init(&file);
	err = add_kvm_state(vm, &w, e);
	if (!err && (err = devices_save(vm->devices.devices, vm->devices.nr, &rec)))
		errmsg_set(e, -err, "cannot save the devices' state: %s", strerror(-err));
	if (!err && (err = add_record(&w, SNAPSHOT_DEVICES, 0, DEVICES_SECTION_VERSION, &rec)))
		errmsg_set(e, -err, "out of memory");
	if (!err) {
		snapshot_config_write(vm->cfg, &rec);
		if ((err = add_record(&w, SNAPSHOT_CONFIG, 0, SNAPSHOT_CONFIG_VERSION, &rec)))
			errmsg_set(e, -err, "out of memory");
	}
	err = err ?: snapshot_finish(&w, &file, e);
	err = err ?: write_memory(vm, type, mem_fd, e);
	/* The state file last: a snapshot whose memory could not be written leaves no state file that looks whole. */
	err = err ?: write_state_file(state_fd, file.buf, file.len, e);
	pthread_mutex_unlock(&vm->control_lock);
	if (!err)
		log_info("snapshot (%s) written in %.1f ms: state %zu bytes", type == SNAPSHOT_FULL ? "Full" : "Diff",
			 (double)(monotonic_ns() - t0) / 1e6, file.len);
	state_writer_free(&file);
	state_writer_free(&rec);
	snapshot_writer_free(&w);
	return err;
}

/* The whole of fd, at most SNAPSHOT_STATE_MAX bytes. */
static int read_state_file(int fd, uint8_t **out, size_t *len, struct errmsg *e)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fstat(fd, &st))
		return errmsg_set(e, errno, "snapshot file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errmsg_set(e, EINVAL, "snapshot file: not a regular file");
	if ((uint64_t)st.st_size > SNAPSHOT_STATE_MAX)
		return errmsg_set(e, EFBIG, "snapshot file: %lld bytes, more than kvmini reads (%u MiB)",
				  (long long)st.st_size, SNAPSHOT_STATE_MAX >> 20);
	if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1)))
		return errmsg_set(e, ENOMEM, "out of memory");
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			/* A file that shrank under us reads as truncated, which the format check then says. */
			if (n == 0)
				break;
			return errmsg_set(e, errno, "snapshot file: %s", strerror(errno));
		}
		done += (size_t)n;
	}
	*out = buf;
	*len = done;
	return 0;
}

int snapshot_read(struct snapshot_image *img, int state_fd, int mem_fd, struct vm_config *cfg, struct errmsg *e)
{
	/* Static: a vm_config is ~170 KiB; snapshot_read runs on one thread at a time (the daemon's main thread). */
	static struct vm_config trial;
	const struct snapshot_section *config;
	struct stat st;
	int err;

	memset(img, 0, sizeof(*img));
	img->mem_fd = -1;
	if ((err = read_state_file(state_fd, &img->blob, &img->len, e)))
		return err;
	if ((err = snapshot_parse(img->blob, img->len, &img->snap, e))) {
		errmsg_prefix(e, -err, "snapshot file: ");
		goto fail;
	}
	config = snapshot_find(&img->snap, SNAPSHOT_CONFIG, 0);
	if (!config) {
		err = errmsg_set(e, EINVAL, "snapshot file: no configuration section");
		goto fail;
	}
	trial = *cfg;
	if ((err = snapshot_config_read(config->data, config->len, config->version, &trial, e))) {
		errmsg_prefix(e, -err, "snapshot configuration: ");
		goto fail;
	}
	if (fstat(mem_fd, &st)) {
		err = errmsg_set(e, errno, "memory file: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != trial.mem_size) {
		err = errmsg_set(e, EINVAL, "memory file: %s, the snapshot's guest has %llu MiB",
				 S_ISREG(st.st_mode) ? "wrong size" : "not a regular file",
				 (unsigned long long)(trial.mem_size >> 20));
		goto fail;
	}
	*cfg = trial;
	img->mem_fd = mem_fd;
	return 0;
fail:
	snapshot_image_free(img);
	return err;
}

void snapshot_image_free(struct snapshot_image *img)
{
	snapshot_free(&img->snap);
	free(img->blob);
	memset(img, 0, sizeof(*img));
	img->mem_fd = -1;
}

/* Whether this host's KVM can run what the snapshot saved (format.c compares). */
static int check_host(struct vm *vm, const struct snapshot_image *img, const struct kvm_layout *layout,
		      struct errmsg *e)
{
	const struct snapshot_host host = {
		.cpuid = vm->kvm.supported_cpuid->entries,
		.nr_cpuid = vm->kvm.supported_cpuid->nent,
		.msrs = layout->msrs.index,
		.nr_msrs = layout->msrs.nr,
		.xsave_size = layout->xsave_size,
	};
	int err = snapshot_check_host(&img->snap, &host, e);

	return err ? errmsg_prefix(e, -err, "snapshot from an incompatible host: ") : 0;
}

/* The section (kind, index) at the version this build reads, or NULL with the reason in e. */
static const struct snapshot_section *section(const struct snapshot_image *img, enum snapshot_kind kind,
					      uint32_t index, uint16_t version, const char *what, struct errmsg *e)
{
	const struct snapshot_section *s = snapshot_find(&img->snap, kind, index);

	if (!s)
		errmsg_set(e, EINVAL, "snapshot file: no %s section", what);
	else if (s->version != version)
		errmsg_set(e, EINVAL, "snapshot file: %s section of version %u (this kvmini reads %u)", what,
			   s->version, version);
	else
		return s;
	return NULL;
}

static int restore_vcpus(struct vm *vm, const struct snapshot_image *img, const struct kvm_layout *layout,
			 struct errmsg *e)
{
	struct vcpu_state *vcpu = malloc(sizeof(*vcpu));
	int err = 0;

	if (!vcpu)
		return errmsg_set(e, ENOMEM, "out of memory");
	if (snapshot_find(&img->snap, SNAPSHOT_VCPU, vm->nr_vcpus))
		err = errmsg_set(e, EINVAL, "snapshot file: more vCPU sections than the %u vCPUs configured",
				 vm->nr_vcpus);
	for (unsigned i = 0; !err && i < vm->nr_vcpus; i++) {
		char what[32];
		const struct snapshot_section *s;
		struct state_reader r;

		snprintf(what, sizeof(what), "vCPU %u", i);
		if (!(s = section(img, SNAPSHOT_VCPU, i, KVM_STATE_VERSION, what, e))) {
			err = -EINVAL;
			break;
		}
		state_reader_init(&r, s->data, s->len, what);
		vcpu_state_read(&r, layout->xsave_size, vcpu);
		err = state_reader_done(&r, e) ?: vcpu_state_set(vm->vcpus[i].fd, vcpu, e);
		if (err)
			errmsg_prefix(e, -err, "vCPU %u: ", i);
	}
	free(vcpu);
	return err;
}

static int restore_vm_state(struct vm *vm, const struct snapshot_image *img, struct errmsg *e)
{
	const struct snapshot_section *s = section(img, SNAPSHOT_VM, 0, KVM_STATE_VERSION, "VM", e);
	struct vm_kvm_state state;
	struct state_reader r;

	if (!s)
		return -EINVAL;
	state_reader_init(&r, s->data, s->len, "VM");
	vm_kvm_state_read(&r, &state);
	return state_reader_done(&r, e) ?: vm_kvm_state_set(vm->fd, &state, e);
}

static int restore_devices(struct vm *vm, const struct snapshot_image *img, struct errmsg *e)
{
	const struct snapshot_section *s = section(img, SNAPSHOT_DEVICES, 0, DEVICES_SECTION_VERSION, "devices", e);
	struct state_reader r;

	if (!s)
		return -EINVAL;
	state_reader_init(&r, s->data, s->len, "devices");
	return devices_restore(vm->devices.devices, vm->devices.nr, &r, e);
}

int vm_restore(struct vm *vm, const struct snapshot_image *img, struct errmsg *e)
{
	struct kvm_layout layout;
	uint64_t t0 = monotonic_ns();
	int err;

	err = kvm_layout_get(vm, &layout, e) ?: check_host(vm, img, &layout, e);
	/* KVM's irqchip before the devices: a device's restore raises its interrupt line again. */
	err = err ?: restore_vcpus(vm, img, &layout, e);
	err = err ?: restore_vm_state(vm, img, e);
	err = err ?: restore_devices(vm, img, e);
	if (err)
		return err;
	/* The guest was stopped for as long as the snapshot lay on disk: its watchdogs must not count that. */
	vm_note_guest_stopped(vm);
	log_debug("snapshot restored in %.2f ms", (double)(monotonic_ns() - t0) / 1e6);
	return 0;
}
