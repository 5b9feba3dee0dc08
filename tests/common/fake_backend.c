// SPDX-License-Identifier: Apache-2.0
/* The API's fake VM: see fake_backend.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/snapshot_files.h"
#include "fake_backend.h"

void fake_vm_reset(struct fake_vm *f)
{
	memset(f, 0, sizeof(*f));
	f->state = API_STATE_NOT_STARTED;
	f->paused = f->action = -1;
	vm_config_init(&f->cfg);
}

/* The error a test asked for, if any. */
static int injected(const struct fake_vm *f, struct errmsg *e)
{
	if (f->err)
		errmsg_set(e, -f->err, "%s", f->err_msg ? f->err_msg : "fake error");
	return f->err;
}

static void fake_describe(void *ctx, enum api_state *state, char *id, size_t id_size, const char **version)
{
	struct fake_vm *f = ctx;

	*state = f->state;
	snprintf(id, id_size, "test-vm");
	*version = "1.2.3";
}

static int fake_set_paused(void *ctx, bool paused, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->paused = paused;
	if (f->err)
		return injected(f, e);
	if (f->state == API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, "the VM has not started");
	f->state = paused ? API_STATE_PAUSED : API_STATE_RUNNING;
	return 0;
}

static int fake_action(void *ctx, enum api_action action, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->action = (int)action;
	if (f->err)
		return injected(f, e);
	switch (action) {
	case API_ACTION_INSTANCE_START:
		if (f->state != API_STATE_NOT_STARTED)
			return errmsg_set(e, EALREADY, "already started");
		if (!f->cfg.kernel_path[0])
			return errmsg_set(e, EINVAL, "no kernel");
		f->state = API_STATE_RUNNING;
		return 0;
	case API_ACTION_SEND_CTRL_ALT_DEL:
		if (f->state == API_STATE_NOT_STARTED)
			return errmsg_set(e, EPERM, "the VM has not started");
		return 0;
	case API_ACTION_STOP:
		return 0; /* the real one ends the daemon or the guest: nothing the API answers afterwards */
	case API_ACTION_FLUSH_METRICS:
		if (f->state == API_STATE_NOT_STARTED)
			return errmsg_set(e, EINVAL, API_MSG_NOT_STARTED);
		metrics_flush(NULL);
		return 0;
	}
	return -EINVAL;
}

static int fake_configure(void *ctx, const struct api_config_change *change, struct errmsg *e)
{
	struct fake_vm *f = ctx;
	int err;

	f->configures++;
	f->last = *change;
	if (f->err)
		return injected(f, e);
	if (f->state != API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	err = api_config_apply(&f->cfg, change, e);
	f->configured |= !err;
	return err;
}

static int fake_read_config(void *ctx, int (*read)(const struct vm_config *cfg, void *arg), void *arg)
{
	return read(&((struct fake_vm *)ctx)->cfg, arg);
}

static int fake_get_stats(void *ctx, struct json_out *j, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	json_put_uint(j, "uptime_ms", 42);
	return injected(f, e);
}

static int fake_get_regs(void *ctx, unsigned vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->regs_vcpu = vcpu;
	if (f->err)
		return injected(f, e);
	if (f->state == API_STATE_NOT_STARTED || vcpu >= f->cfg.nr_cpus)
		return errmsg_set(e, ENOENT, "no vCPU %u", vcpu);
	memset(regs, 0, sizeof(*regs));
	memset(sregs, 0, sizeof(*sregs));
	regs->rip = 0xffffffff81000000ULL;
	sregs->cs.selector = 0x10;
	sregs->cs.l = 1;
	return 0;
}

static int fake_patch_device(void *ctx, const struct api_config_change *change, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->patches++;
	f->last = *change;
	if (f->err)
		return injected(f, e);
	if (f->state == API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_NOT_STARTED);
	return change->section->patch_config ? change->section->patch_config(api_section_config(&f->cfg, change->section),
									   change, e)
					     : 0;
}

/* Before the start what is configured; after it, what the section formats (the device is not there). */
static int fake_get_device(void *ctx, const struct device_api *section, const char *sub, struct json_out *j,
			   struct errmsg *e)
{
	struct fake_vm *f = ctx;

	if (f->err)
		return injected(f, e);
	if (sub[0] && f->state == API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_NOT_STARTED);
	if (sub[0])
		json_put_string(j, "fake", sub);
	else
		section->format(api_section_config(&f->cfg, section), j);
	return 0;
}

/* The logger and metrics, under the real backend's rule: before the start only. */
static int fake_set_logger(void *ctx, const struct log_file_config *c, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->loggers++;
	if (f->err)
		return injected(f, e);
	if (f->state != API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	return f->real_outputs && log_file_configure(c, e) ? -EINVAL : 0;
}

static int fake_set_metrics(void *ctx, const struct metrics_config *c, struct errmsg *e)
{
	struct fake_vm *f = ctx;

	f->metrics++;
	if (f->err)
		return injected(f, e);
	if (f->state != API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	return f->real_outputs && metrics_open(c, e) ? -EINVAL : 0;
}

/* Both descriptors closed: the fake only shows that they could be had. */
static void close_both(int state_fd, int mem_fd)
{
	close(state_fd);
	close(mem_fd);
}

/* The real backend's rules: a paused VM, the files opened before the VM's thread would write them. */
static int fake_create_snapshot(void *ctx, const struct api_snapshot_create *p, struct errmsg *e)
{
	struct fake_vm *f = ctx;
	int state_fd, mem_fd;

	if (f->err)
		return injected(f, e);
	if (f->state == API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_NOT_STARTED);
	if (f->state != API_STATE_PAUSED)
		return errmsg_set(e, EINVAL, API_MSG_SNAPSHOT_RUNNING);
	if (f->real_outputs) {
		if (api_snapshot_open_create(p, &state_fd, &mem_fd, e))
			return -EINVAL;
		close_both(state_fd, mem_fd);
	}
	f->snapshots++;
	f->last_snapshot = p->type;
	return 0;
}

/* Into a daemon nothing configured; the VM is then Paused, or Running with resume_vm. */
static int fake_load_snapshot(void *ctx, const struct api_snapshot_load *p, struct errmsg *e)
{
	struct fake_vm *f = ctx;
	int state_fd, mem_fd;

	if (f->err)
		return injected(f, e);
	if (f->state != API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	if (f->configured)
		return errmsg_set(e, EINVAL, API_MSG_LOAD_CONFIGURED);
	if (f->real_outputs) {
		if (api_snapshot_open_load(p, &state_fd, &mem_fd, e))
			return -EINVAL;
		close_both(state_fd, mem_fd);
	}
	f->loads++;
	f->last_load = *p;
	f->state = p->resume ? API_STATE_RUNNING : API_STATE_PAUSED;
	return 0;
}

const struct api_backend fake_backend = {
	.describe = fake_describe,
	.set_paused = fake_set_paused,
	.action = fake_action,
	.configure = fake_configure,
	.read_config = fake_read_config,
	.get_stats = fake_get_stats,
	.get_regs = fake_get_regs,
	.patch_device = fake_patch_device,
	.get_device = fake_get_device,
	.set_logger = fake_set_logger,
	.set_metrics = fake_set_metrics,
	.create_snapshot = fake_create_snapshot,
	.load_snapshot = fake_load_snapshot,
};
