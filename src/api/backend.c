// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "api/backend.h"
#include "api/snapshot_files.h"
#include "clock.h"
#include "commands.h"
#include "exit_codes.h"
#include "log.h"
#include "metrics.h"
#include "vcpu.h"

#define MSG_NOT_STARTED "The microVM has not been started yet."

static enum api_state state_of(struct api_ctl *ctl)
{
	if (!ctl->vm)
		return API_STATE_NOT_STARTED;
	switch (vm_get_state(ctl->vm)) {
	case VM_CREATED:
		return API_STATE_NOT_STARTED;
	case VM_PAUSED:
		return API_STATE_PAUSED;
	case VM_RUNNING:
	case VM_STOPPING:
	case VM_STOPPED:
		break;
	}
	/* Firecracker has no stopping state; the process ends moments later. */
	return API_STATE_RUNNING;
}

static void describe(void *ctx, enum api_state *state, char *id, size_t id_size, const char **version)
{
	struct api_ctl *ctl = ctx;

	pthread_mutex_lock(&ctl->lock);
	*state = state_of(ctl);
	snprintf(id, id_size, "%s", ctl->id);
	pthread_mutex_unlock(&ctl->lock);
	*version = kvmini_version();
}

static void wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		log_error("api: cannot wake the main thread: %s", strerror(errno));
}

/* Waits (the lock released meanwhile) until done() or the deadline; false when the deadline came first. */
static bool wait_until(struct api_ctl *ctl, uint64_t deadline_ms, bool (*done)(const struct api_ctl *ctl, uint64_t arg),
		       uint64_t arg)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ms / 1000), .tv_nsec = (long)(deadline_ms % 1000) * 1000000 };

	while (!done(ctl, arg))
		if (pthread_cond_timedwait(&ctl->cond, &ctl->lock, &ts) == ETIMEDOUT)
			return done(ctl, arg);
	return true;
}

static bool request_finished(const struct api_ctl *ctl, uint64_t seq)
{
	return ctl->request_done >= seq;
}

/* Called with the lock held: whether a request can be handed to the main thread now. */
static int request_possible(const struct api_ctl *ctl, struct errmsg *e)
{
	if (!ctl->vm)
		return errmsg_set(e, EINVAL, MSG_NOT_STARTED);
	if (ctl->request != API_REQUEST_NONE)
		return errmsg_set(e, EBUSY, "an earlier pause, resume or snapshot is still under way; try again");
	return 0;
}

static int set_paused(void *ctx, bool paused, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	const char *verb = paused ? "pause" : "resume";
	uint64_t seq, start_ns = monotonic_ns();
	int err;

	pthread_mutex_lock(&ctl->lock);
	if ((err = request_possible(ctl, e)))
		goto out;
	ctl->request = paused ? API_REQUEST_PAUSE : API_REQUEST_RESUME;
	seq = ++ctl->request_seq;
	wake(ctl->request_fd);
	if (wait_until(ctl, monotonic_ms() + API_VM_TIMEOUT_MS, request_finished, seq)) {
		if ((err = ctl->request_result))
			errmsg_set(e, -err, "cannot %s the microVM: %s", verb,
				   err == -EINVAL	 ? "it is stopping"
				   : err == -ETIMEDOUT ? "a vCPU did not stop in time (is it waiting on host output?)"
							 : strerror(-err));
		else
			metrics_store_latency(paused, (monotonic_ns() - start_ns) / 1000);
		goto out;
	}
	/* Not taken yet: withdrawn, so it cannot happen after the client was told it did not. */
	if (!ctl->request_taken)
		ctl->request = API_REQUEST_NONE;
	err = errmsg_set(e, ETIMEDOUT, "cannot %s the microVM: its thread did not get there within %d ms%s", verb,
			 API_VM_TIMEOUT_MS, ctl->request_taken ? " (it is still trying; GET / tells the outcome)" : "");
out:
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

void api_snapshot_fds_close(struct api_snapshot_fds *fds)
{
	if (fds->state_fd >= 0)
		close(fds->state_fd);
	if (fds->mem_fd >= 0)
		close(fds->mem_fd);
	*fds = (struct api_snapshot_fds){ -1, -1 };
}

/*
 * PUT /snapshot/create: on a paused VM, written by its thread (vm_snapshot)
 * into the files opened here. It takes as long as writing guest RAM does:
 * the request is left pending (the API serves its other clients), and
 * pending_result gives the answer once done, or after API_SNAPSHOT_TIMEOUT_MS.
 */
static int create_snapshot(void *ctx, const struct api_snapshot_create *p, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct api_snapshot_fds fds;
	enum api_state state;
	int err;

	pthread_mutex_lock(&ctl->lock);
	state = state_of(ctl);
	pthread_mutex_unlock(&ctl->lock);
	/* Checked before the files are opened: a refused request truncates nothing. */
	if (state == API_STATE_NOT_STARTED)
		return errmsg_set(e, EPERM, API_MSG_NOT_STARTED);
	if (state == API_STATE_RUNNING)
		return errmsg_set(e, EINVAL, API_MSG_SNAPSHOT_RUNNING);
	/* Without the lock: a slow file system must not hold up GET /. */
	if ((err = api_snapshot_open_create(p, &fds.state_fd, &fds.mem_fd, e)))
		return err;
	pthread_mutex_lock(&ctl->lock);
	if ((err = request_possible(ctl, e))) {
		pthread_mutex_unlock(&ctl->lock);
		api_snapshot_fds_close(&fds);
		return err;
	}
	ctl->snapshot_type = p->type;
	ctl->snapshot = fds;
	ctl->request = API_REQUEST_SNAPSHOT;
	ctl->request_error[0] = '\0';
	ctl->snapshot_seq = ++ctl->request_seq;
	ctl->snapshot_deadline_ms = monotonic_ms() + API_SNAPSHOT_TIMEOUT_MS;
	wake(ctl->request_fd);
	pthread_mutex_unlock(&ctl->lock);
	return -EINPROGRESS;
}

/* The pending snapshot's outcome; its descriptors closed here unless the VM's thread took them. */
static int snapshot_result(void *ctx, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct api_snapshot_fds fds;
	int err;

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->snapshot_seq) {
		err = errmsg_set(e, EINVAL, "no snapshot is being created");
	} else if (request_finished(ctl, ctl->snapshot_seq)) {
		err = ctl->request_result;
		if (err)
			/* As Firecracker: whatever stopped the snapshot is a 400. */
			err = errmsg_set(e, EINVAL, "%s", ctl->request_error[0] ? ctl->request_error
									 : "the microVM is stopping");
	} else if (monotonic_ms() < ctl->snapshot_deadline_ms) {
		err = -EINPROGRESS;
	} else {
		/* Not taken yet: withdrawn, so it cannot happen after the client was told it did not. */
		if (!ctl->request_taken)
			ctl->request = API_REQUEST_NONE;
		err = errmsg_set(e, ETIMEDOUT, "the snapshot was not written within %d s%s", API_SNAPSHOT_TIMEOUT_MS / 1000,
				 ctl->request_taken ? " (it still is; a pause, resume or snapshot is refused until then)"
						    : "");
	}
	if (err == -EINPROGRESS) {
		pthread_mutex_unlock(&ctl->lock);
		return err;
	}
	ctl->snapshot_seq = 0;
	/* Still here: never taken (withdrawn, or the VM went), so they are this thread's to close. */
	fds = ctl->snapshot;
	ctl->snapshot = (struct api_snapshot_fds){ -1, -1 };
	pthread_mutex_unlock(&ctl->lock);
	api_snapshot_fds_close(&fds);
	return err;
}

static int snapshot_done_fd(void *ctx)
{
	return ((struct api_ctl *)ctx)->snapshot_done_fd;
}

/* Hands the VM's owner (the runner's loop) the pending request and reports the outcome to the waiting client. */
static void run_request(void *ctx, struct vm *vm)
{
	struct api_ctl *ctl = ctx;
	struct api_snapshot_fds fds = { -1, -1 };
	enum snapshot_type type = SNAPSHOT_FULL;
	struct errmsg e = { "" };
	enum api_vm_request req;
	int err;

	pthread_mutex_lock(&ctl->lock);
	req = ctl->request;
	ctl->request_taken = req != API_REQUEST_NONE;
	if (req == API_REQUEST_SNAPSHOT) {
		/* Taken: this thread closes them. */
		fds = ctl->snapshot;
		type = ctl->snapshot_type;
		ctl->snapshot = (struct api_snapshot_fds){ -1, -1 };
	}
	pthread_mutex_unlock(&ctl->lock);
	if (req == API_REQUEST_NONE)
		return;
	if (req == API_REQUEST_SNAPSHOT) {
		err = vm_snapshot(vm, type, fds.state_fd, fds.mem_fd, &e);
		api_snapshot_fds_close(&fds);
		if (err && !e.text[0])
			errmsg_set(&e, -err, "cannot create the snapshot: %s", strerror(-err));
	} else {
		err = req == API_REQUEST_PAUSE ? vm_pause(vm) : vm_resume(vm);
	}
	pthread_mutex_lock(&ctl->lock);
	ctl->request_result = err;
	snprintf(ctl->request_error, sizeof(ctl->request_error), "%s", e.text);
	ctl->request_done = ctl->request_seq;
	ctl->request = API_REQUEST_NONE;
	ctl->request_taken = false;
	pthread_cond_broadcast(&ctl->cond);
	pthread_mutex_unlock(&ctl->lock);
	if (req == API_REQUEST_SNAPSHOT)
		wake(ctl->snapshot_done_fd);
}

/* A metrics line from the VM's counters now; vm NULL before it runs. */
static void flush_metrics(struct vm *vm)
{
	struct vm_stats st;
	bool have = vm && !vm_get_counters(vm, &st);

	metrics_flush(have ? &st : NULL);
	if (have)
		vm_stats_free(&st);
}

/* The periodic metrics line, on the VM's main thread (which owns the VM: no lock needed to read it). */
static void on_tick(void *ctx, struct vm *vm)
{
	(void)ctx;
	if (metrics_due(monotonic_ms()))
		flush_metrics(vm);
}

struct runner_hooks api_ctl_hooks(struct api_ctl *ctl)
{
	return (struct runner_hooks){
		.on_tick = on_tick, .on_vm = api_ctl_attach, .on_control = run_request, .control_fd = ctl->request_fd,
		.ctx = ctl,
	};
}

static bool start_finished(const struct api_ctl *ctl, uint64_t unused)
{
	(void)unused;
	return ctl->start != API_START_REQUESTED;
}

/*
 * Called with the lock held, the start possible; waits (without it) until
 * the main thread has the VM running (or, loaded, paused) or gave up.
 * what says which start it is in the client's message ("start", "load").
 */
static int start(struct api_ctl *ctl, const char *what, struct errmsg *e)
{
	ctl->start = API_START_REQUESTED;
	ctl->start_abandoned = false;
	wake(ctl->start_fd);
	if (!wait_until(ctl, monotonic_ms() + API_VM_TIMEOUT_MS, start_finished, 0)) {
		ctl->start_abandoned = true;
		return errmsg_set(e, ETIMEDOUT, "the microVM is still starting after %d ms; GET / tells when it runs",
				  API_VM_TIMEOUT_MS);
	}
	if (ctl->start == API_START_DONE)
		return 0;
	errmsg_set(e, EINVAL, "the microVM did not %s: %s", what, ctl->start_error);
	ctl->start = API_START_IDLE;
	return -EINVAL;
}

static int instance_start(struct api_ctl *ctl, struct errmsg *e)
{
	int err;

	if (!ctl->daemon || ctl->start != API_START_IDLE)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	if ((err = api_config_startable(ctl->cfg, e)))
		return err;
	return start(ctl, "start", e);
}

/* Called with the lock held: Firecracker's rule, a load only into a process nothing configured or started. */
static int loadable(const struct api_ctl *ctl, struct errmsg *e)
{
	if (!ctl->daemon || ctl->start != API_START_IDLE)
		return errmsg_set(e, EPERM, API_MSG_STARTED);
	if (ctl->configured)
		return errmsg_set(e, EINVAL, API_MSG_LOAD_CONFIGURED);
	return 0;
}

/* PUT /snapshot/load: the files opened here, restored by the daemon's main thread as its start (daemon.c). */
static int load_snapshot(void *ctx, const struct api_snapshot_load *p, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct api_snapshot_fds fds;
	int err;

	pthread_mutex_lock(&ctl->lock);
	err = loadable(ctl, e);
	pthread_mutex_unlock(&ctl->lock);
	if (err)
		return err;
	if ((err = api_snapshot_open_load(p, &fds.state_fd, &fds.mem_fd, e)))
		return err;
	pthread_mutex_lock(&ctl->lock);
	if ((err = loadable(ctl, e))) {
		api_snapshot_fds_close(&fds);
	} else {
		/* The main thread takes the files and closes them, whatever the outcome. */
		ctl->load = (struct api_load){ fds, p->track_dirty_pages, p->resume };
		err = start(ctl, "load the snapshot", e);
	}
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

static int action(void *ctx, enum api_action action, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	int err = 0;

	pthread_mutex_lock(&ctl->lock);
	switch (action) {
	case API_ACTION_INSTANCE_START:
		err = instance_start(ctl, e);
		break;
	case API_ACTION_SEND_CTRL_ALT_DEL:
		if (!ctl->vm)
			err = errmsg_set(e, EINVAL, MSG_NOT_STARTED);
		else if ((err = vm_send_ctrl_alt_del(ctl->vm)))
			errmsg_set(e, -err, "SendCtrlAltDel: %s", strerror(-err));
		break;
	case API_ACTION_FLUSH_METRICS:
		/* As Firecracker: after the start only; without a metrics file, nothing to do. */
		if (!ctl->vm)
			err = errmsg_set(e, EINVAL, API_MSG_NOT_STARTED);
		else
			flush_metrics(ctl->vm);
		break;
	case API_ACTION_STOP:
		if (ctl->vm) {
			vm_request_stop(ctl->vm, VM_STOP_QUIT, EXIT_GUEST_OK, "stopped through the API");
		} else if (ctl->daemon && ctl->start == API_START_IDLE) {
			ctl->stop_requested = true;
			wake(ctl->start_fd);
		} else {
			err = errmsg_set(e, EINVAL, "the microVM is starting; try again");
		}
		break;
	}
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

static int configure(void *ctx, const struct api_config_change *change, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	const struct api_machine *machine = (const struct api_machine *)change->item;
	int err;

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->daemon || ctl->start != API_START_IDLE)
		err = errmsg_set(e, EPERM, API_MSG_STARTED);
	else if (change->section == &api_machine_config && machine->mem_size_mib << 20 > ctl->host_ram)
		err = errmsg_set(e, EINVAL, "'mem_size_mib' %llu: more than this host's %llu MiB of RAM",
				 (unsigned long long)machine->mem_size_mib, (unsigned long long)(ctl->host_ram >> 20));
	else if (!(err = api_config_apply(ctl->cfg, change, e)))
		ctl->configured = true;
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

static int read_config(void *ctx, int (*read)(const struct vm_config *cfg, void *arg), void *arg)
{
	struct api_ctl *ctl = ctx;
	int ret;

	pthread_mutex_lock(&ctl->lock);
	ret = read(ctl->cfg, arg);
	pthread_mutex_unlock(&ctl->lock);
	return ret;
}

static const char *state_name(enum vm_state s)
{
	static const char *const names[] = { "Not started", "Running", "Paused", "Stopping", "Stopped" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static void put_stats(struct json_out *j, const struct vm_stats *st)
{
	json_put_string(j, "state", state_name(st->state));
	json_put_uint(j, "uptime_ms", st->uptime_ms);
	json_put_uint(j, "rss_kib", st->rss_kib);
	json_array_begin(j, "vcpus");
	for (unsigned v = 0; v < st->nr_vcpus; v++) {
		uint64_t total = 0;
		char unnamed[16];

		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++)
			total += st->vcpu_exits[v][r];
		json_object_begin(j, NULL);
		json_put_uint(j, "id", v);
		json_put_uint(j, "exits_total", total);
		json_object_begin(j, "exits");
		for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++) {
			const char *name = vcpu_exit_name(r);

			if (!st->vcpu_exits[v][r])
				continue;
			if (!name) {
				snprintf(unnamed, sizeof(unnamed), "reason-%u", r);
				name = unnamed;
			}
			json_put_uint(j, name, st->vcpu_exits[v][r]);
		}
		json_object_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "devices");
	for (unsigned i = 0; i < st->nr_virtio && i < VM_STATS_VIRTIO_MAX; i++) {
		json_object_begin(j, NULL);
		json_put_string(j, "name", st->virtio[i].name);
		json_put_uint(j, "notifications", st->virtio[i].notifications);
		json_put_uint(j, "bytes_from_guest", st->virtio[i].bytes_from_guest);
		json_put_uint(j, "bytes_to_guest", st->virtio[i].bytes_to_guest);
		json_put_uint(j, "throttled", st->virtio[i].throttled);
		if (st->virtio[i].engine) {
			json_put_string(j, "io_engine", st->virtio[i].engine);
			json_put_uint(j, "in_flight", st->virtio[i].in_flight);
			json_put_uint(j, "completed", st->virtio[i].completed);
		}
		if (st->virtio[i].nr_drops) {
			json_object_begin(j, "dropped");
			for (unsigned d = 0; d < st->virtio[i].nr_drops && d < DEVICE_DROP_REASONS_MAX; d++)
				json_put_uint(j, st->virtio[i].drops[d].reason, st->virtio[i].drops[d].count);
			json_object_end(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
}

static int get_stats(void *ctx, struct json_out *j, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct vm_stats st;
	int err;

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->vm)
		err = errmsg_set(e, EINVAL, MSG_NOT_STARTED);
	else if ((err = vm_get_stats(ctl->vm, &st)))
		errmsg_set(e, -err, "cannot read the statistics: %s", strerror(-err));
	pthread_mutex_unlock(&ctl->lock);
	if (err)
		return err;
	put_stats(j, &st);
	vm_stats_free(&st);
	return 0;
}

static int get_regs(void *ctx, unsigned vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	int err;

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->vm)
		err = errmsg_set(e, EINVAL, MSG_NOT_STARTED);
	else if ((err = vm_get_vcpu_regs(ctl->vm, vcpu, regs, sregs)) == -EBUSY)
		errmsg_set(e, EBUSY, "registers can be read only while the microVM is paused "
				     "(PATCH /vm {\"state\": \"Paused\"} first)");
	else if (err == -ENOENT)
		errmsg_set(e, ENOENT, "there is no vCPU %u", vcpu);
	else if (err)
		errmsg_set(e, -err, "cannot read vCPU %u's registers: %s", vcpu, strerror(-err));
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

/* A device's PATCH or GET, carried to its I/O thread. */
struct device_call {
	struct device_instance *dev;
	const struct api_config_change *change; /* a PATCH; NULL: a GET */
	const char *sub;
	struct json_out *j;
	struct errmsg *e;
};

static int run_device_call(void *arg)
{
	struct device_call *dc = arg;

	if (dc->change)
		return dc->dev->ops->api_patch(dc->dev->data, dc->change, dc->e);
	return dc->dev->ops->api_get(dc->dev->data, dc->sub, dc->j, dc->e);
}

/*
 * Runs dc on the running VM's device for section: without the lock while it
 * waits for the I/O thread (GET / still answers), but counted, so the VM
 * is not destroyed under it (api_ctl_attach waits for the count).
 */
static int device_call(struct api_ctl *ctl, const struct device_api *section, struct device_call *dc)
{
	struct vm *vm;
	int err;

	pthread_mutex_lock(&ctl->lock);
	vm = ctl->vm;
	dc->dev = vm ? devices_find_api(&vm->devices, section) : NULL;
	if (!vm) {
		pthread_mutex_unlock(&ctl->lock);
		return errmsg_set(dc->e, EPERM, API_MSG_NOT_STARTED);
	}
	if (!dc->dev || !(dc->change ? dc->dev->ops->api_patch != NULL : dc->dev->ops->api_get != NULL)) {
		pthread_mutex_unlock(&ctl->lock);
		return errmsg_set(dc->e, ENOENT, "/%s: this VM has no such device", section->name);
	}
	ctl->device_calls++;
	pthread_mutex_unlock(&ctl->lock);
	err = io_thread_call(&vm->io, run_device_call, dc, API_VM_TIMEOUT_MS);
	if (err == -ETIMEDOUT && !dc->e->text[0])
		errmsg_set(dc->e, ETIMEDOUT, "the device did not answer within %d ms", API_VM_TIMEOUT_MS);
	pthread_mutex_lock(&ctl->lock);
	ctl->device_calls--;
	pthread_cond_broadcast(&ctl->cond);
	pthread_mutex_unlock(&ctl->lock);
	return err;
}

static int patch_device(void *ctx, const struct api_config_change *change, struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct device_call dc = { .change = change, .e = e };
	int err = device_call(ctl, change->section, &dc);

	if (!err && change->section->patch_config) {
		pthread_mutex_lock(&ctl->lock);
		err = change->section->patch_config(api_section_config(ctl->cfg, change->section), change, e);
		pthread_mutex_unlock(&ctl->lock);
	}
	return err;
}

static int get_device(void *ctx, const struct device_api *section, const char *sub, struct json_out *j,
		      struct errmsg *e)
{
	struct api_ctl *ctl = ctx;
	struct device_call dc = { .sub = sub, .j = j, .e = e };

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->vm) {
		/* Before the start: what is configured; a sub-resource has nothing yet. */
		int err = 0;

		const void *config = api_section_config(ctl->cfg, section);

		if (sub[0])
			err = errmsg_set(e, EPERM, API_MSG_NOT_STARTED);
		else if (section->configured && !section->configured(config))
			err = errmsg_set(e, EINVAL, "/%s is not configured", section->name); /* Firecracker's 400, not {} */
		else
			section->format(config, j);
		pthread_mutex_unlock(&ctl->lock);
		return err;
	}
	pthread_mutex_unlock(&ctl->lock);
	return device_call(ctl, section, &dc);
}

/* Logger and metrics are set up before the start, as in Firecracker (and in daemon mode only: else it runs). */
static int set_output(struct api_ctl *ctl, const struct log_file_config *lc, const struct metrics_config *mc,
		      struct errmsg *e)
{
	int err;

	pthread_mutex_lock(&ctl->lock);
	if (!ctl->daemon || ctl->start != API_START_IDLE)
		err = errmsg_set(e, EPERM, API_MSG_STARTED);
	else
		err = lc ? log_file_configure(lc, e) : metrics_open(mc, e);
	pthread_mutex_unlock(&ctl->lock);
	/* Firecracker answers 400 to a path it cannot open (a 404 would say no endpoint), and to metrics set twice. */
	return err && err != -EPERM ? -EINVAL : err;
}

static int set_logger(void *ctx, const struct log_file_config *c, struct errmsg *e)
{
	return set_output(ctx, c, NULL, e);
}

static int set_metrics(void *ctx, const struct metrics_config *c, struct errmsg *e)
{
	return set_output(ctx, NULL, c, e);
}

const struct api_backend api_vm_backend = {
	.describe = describe,
	.set_paused = set_paused,
	.action = action,
	.configure = configure,
	.read_config = read_config,
	.get_stats = get_stats,
	.get_regs = get_regs,
	.patch_device = patch_device,
	.get_device = get_device,
	.set_logger = set_logger,
	.set_metrics = set_metrics,
	.create_snapshot = create_snapshot,
	.pending_result = snapshot_result,
	.pending_fd = snapshot_done_fd,
	.load_snapshot = load_snapshot,
};

int api_ctl_init(struct api_ctl *ctl, bool daemon, struct vm_config *cfg, struct errmsg *e)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->daemon = daemon;
	ctl->snapshot = ctl->load.fds = (struct api_snapshot_fds){ -1, -1 };
	ctl->start_fd = eventfd(0, EFD_CLOEXEC);
	if (ctl->start_fd < 0)
		return errmsg_set(e, errno, "eventfd: %s", strerror(errno));
	ctl->request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ctl->snapshot_done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctl->request_fd < 0 || ctl->snapshot_done_fd < 0) {
		int err = errmsg_set(e, errno, "eventfd: %s", strerror(errno));

		close(ctl->start_fd);
		if (ctl->request_fd >= 0)
			close(ctl->request_fd);
		if (ctl->snapshot_done_fd >= 0)
			close(ctl->snapshot_done_fd);
		return err;
	}
	pthread_mutex_init(&ctl->lock, NULL);
	/* The API's deadlines are monotonic: a clock change must not stretch or cut them. */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctl->cond, &attr);
	pthread_condattr_destroy(&attr);
	ctl->host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	snprintf(ctl->id, sizeof(ctl->id), "kvmini-%d", (int)getpid());
	ctl->cfg = cfg;
	cfg->paths_from_api = daemon;
	return 0;
}

void api_ctl_destroy(struct api_ctl *ctl)
{
	api_snapshot_fds_close(&ctl->load.fds); /* a load the main thread never took (the daemon was stopped) */
	close(ctl->start_fd);
	close(ctl->request_fd);
	close(ctl->snapshot_done_fd);
	pthread_cond_destroy(&ctl->cond);
	pthread_mutex_destroy(&ctl->lock);
}

void api_ctl_attach(void *ctx, struct vm *vm)
{
	struct api_ctl *ctl = ctx;

	pthread_mutex_lock(&ctl->lock);
	/* A device call under way holds the VM: each is bounded by the I/O thread's deadline. */
	while (!vm && ctl->device_calls)
		pthread_cond_wait(&ctl->cond, &ctl->lock);
	ctl->vm = vm;
	if (vm && ctl->start == API_START_REQUESTED)
		ctl->start = API_START_DONE;
	/* The VM is going: a request its thread never took will not be carried out. */
	if (!vm && ctl->request != API_REQUEST_NONE) {
		if (ctl->request == API_REQUEST_SNAPSHOT)
			wake(ctl->snapshot_done_fd);
		ctl->request = API_REQUEST_NONE;
		ctl->request_result = -EINVAL;
		ctl->request_error[0] = '\0';
		ctl->request_done = ctl->request_seq;
	}
	pthread_cond_broadcast(&ctl->cond);
	pthread_mutex_unlock(&ctl->lock);
}

void api_ctl_start_failed(struct api_ctl *ctl, const char *msg)
{
	pthread_mutex_lock(&ctl->lock);
	if (ctl->start == API_START_REQUESTED) {
		snprintf(ctl->start_error, sizeof(ctl->start_error), "%s", msg);
		/* A client that gave up waiting is not there to read why: ready for the next InstanceStart. */
		ctl->start = ctl->start_abandoned ? API_START_IDLE : API_START_FAILED;
		pthread_cond_broadcast(&ctl->cond);
	}
	pthread_mutex_unlock(&ctl->lock);
}
