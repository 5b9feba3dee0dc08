// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/router.h"
#include "parse.h"

#define MSG_NO_BODY "this request needs a JSON body"

struct reply {
	char *out;
	size_t cap;
	int status;
};

static int fault(struct reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fault(struct reply *r, int status, const char *fmt, ...)
{
	char msg[sizeof(((struct errmsg *)0)->text) + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	return api_fault_body(r->out, r->cap, msg);
}

int api_fault_body(char *out, size_t cap, const char *msg)
{
	struct json_out j;
	int len;

	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	json_put_string(&j, "fault_message", msg);
	json_object_end(&j);
	len = json_out_finish(&j);
	if (len >= 0)
		return len;
	/* Only a tiny cap gets here: the message is cut rather than lost. */
	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	json_put_string(&j, "fault_message", "error");
	json_object_end(&j);
	len = json_out_finish(&j);
	if (len < 0 && cap)
		out[0] = '\0';
	return len < 0 ? 0 : len;
}

static int status_of(int err)
{
	switch (err) {
	case -EINVAL:
	case -EPERM:
	case -EALREADY:
		return 400;
	case -ENOENT:
		return 404;
	case -EBUSY:
		return 409;
	default:
		return 500;
	}
}

static int backend_fault(struct reply *r, int err, const struct errmsg *e)
{
	return fault(r, status_of(err), "%s", e->text[0] ? e->text : strerror(-err));
}

static int no_content(struct reply *r)
{
	r->status = 204;
	if (r->cap)
		r->out[0] = '\0';
	return 0;
}

/* No answer yet: api_route_pending gives it. */
static int pending(struct reply *r)
{
	r->status = API_STATUS_PENDING;
	if (r->cap)
		r->out[0] = '\0';
	return 0;
}

/* Ends a JSON answer: 200 with it, or a 500 when it did not fit. */
static int finish_json(struct reply *r, struct json_out *j)
{
	int len = json_out_finish(j);

	if (len < 0)
		return fault(r, 500, "the answer does not fit in %zu bytes", r->cap);
	r->status = 200;
	return len;
}

static int read_body(const struct http_request *req, const struct json_field *fields, unsigned nr, struct errmsg *e)
{
	if (!req->body || !req->body_len)
		return errmsg_set(e, EINVAL, MSG_NO_BODY);
	return json_read_object(req->body, req->body_len, fields, nr, e);
}

/* ---- the endpoints ---- */

/* One request on its way to its handler. */
struct call {
	const struct api_backend *b;
	void *ctx;
	const struct http_request *req;
	const char *id;                   /* what the route's "*" stood for */
	const struct device_api *section; /* the configuration section the path names */
	const char *sub;                  /* its sub-resource the path names, or "" */
};

typedef int (*handler_fn)(const struct call *c, struct reply *r);

/* A vCPU's index as a path segment: "3" in /vcpu/3/regs. */
static int vcpu_index(const char *id, unsigned *vcpu)
{
	uint64_t v;

	if (strlen(id) >= 8 || parse_uint(id, 0, VM_MAX_CPUS - 1, &v))
		return -EINVAL;
	*vcpu = (unsigned)v;
	return 0;
}

static bool vcpu_id_ok(const char *id)
{
	unsigned vcpu;

	return !vcpu_index(id, &vcpu);
}

static const char *state_name(enum api_state s)
{
	switch (s) {
	case API_STATE_NOT_STARTED:
		return "Not started";
	case API_STATE_PAUSED:
		return "Paused";
	case API_STATE_RUNNING:
		break;
	}
	return "Running";
}

/* GET / (InstanceInfo) and GET /version: what the backend says of itself. */
static int get_info(const struct call *c, struct reply *r)
{
	enum api_state state;
	char id[API_ID_MAX];
	const char *version;
	struct json_out j;

	c->b->describe(c->ctx, &state, id, sizeof(id), &version);
	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	if (!strcmp(c->req->path, "/version")) {
		json_put_string(&j, "firecracker_version", version);
	} else {
		json_put_string(&j, "id", id);
		json_put_string(&j, "state", state_name(state));
		json_put_string(&j, "vmm_version", version);
		json_put_string(&j, "app_name", "kvmini");
	}
	json_object_end(&j);
	return finish_json(r, &j);
}

static int patch_vm(const struct call *c, struct reply *r)
{
	char state[16];
	const struct json_field f[] = {
		{ .name = "state", .type = JSON_STRING, .required = true, .str = state, .str_cap = sizeof(state) },
	};
	struct errmsg e = { "" };
	bool paused;
	int err;

	if ((err = read_body(c->req, f, 1, &e)))
		return fault(r, 400, "%s", e.text);
	if (!strcmp(state, "Paused"))
		paused = true;
	else if (!strcmp(state, "Resumed"))
		paused = false;
	else
		return fault(r, 400, "'state' must be \"Paused\" or \"Resumed\", not \"%s\"", state);
	if ((err = c->b->set_paused(c->ctx, paused, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

static int put_action(const struct call *c, struct reply *r)
{
	static const struct {
		const char *name;
		enum api_action action;
	} actions[] = {
		{ "InstanceStart", API_ACTION_INSTANCE_START },
		{ "SendCtrlAltDel", API_ACTION_SEND_CTRL_ALT_DEL },
		{ "Stop", API_ACTION_STOP },
		{ "FlushMetrics", API_ACTION_FLUSH_METRICS },
	};
	char type[32];
	const struct json_field f[] = {
		{ .name = "action_type", .type = JSON_STRING, .required = true, .str = type, .str_cap = sizeof(type) },
	};
	struct errmsg e = { "" };
	int err;

	if ((err = read_body(c->req, f, 1, &e)))
		return fault(r, 400, "%s", e.text);
	for (unsigned i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(type, actions[i].name))
			continue;
		if ((err = c->b->action(c->ctx, actions[i].action, &e)))
			return backend_fault(r, err, &e);
		return no_content(r);
	}
	return fault(r, 400,
		     "'action_type' must be \"InstanceStart\", \"SendCtrlAltDel\", \"FlushMetrics\" or \"Stop\", "
		     "not \"%s\"", type);
}

/* PUT /logger: a field left out keeps what is set (but the level: Info), as in Firecracker. */
static int put_logger(const struct call *c, struct reply *r)
{
	struct api_logger l;
	struct errmsg e = { "" };
	int err;

	if (!c->req->body || !c->req->body_len)
		return fault(r, 400, MSG_NO_BODY);
	if ((err = api_logger_read(c->req->body, c->req->body_len, &l, &e)))
		return fault(r, 400, "%s", e.text);
	if ((err = c->b->set_logger(c->ctx, &l.c, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* PUT /metrics: once, as in Firecracker. */
static int put_metrics(const struct call *c, struct reply *r)
{
	struct api_metrics m;
	struct errmsg e = { "" };
	int err;

	if (!c->req->body || !c->req->body_len)
		return fault(r, 400, MSG_NO_BODY);
	if ((err = api_metrics_read(c->req->body, c->req->body_len, &m, &e)))
		return fault(r, 400, "%s", e.text);
	if ((err = c->b->set_metrics(c->ctx, &m.c, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* PUT on a section: /boot-source, /machine-config, /drives/{id}, ... */
static int put_section(const struct call *c, struct reply *r)
{
	struct api_config_change change;
	struct errmsg e = { "" };
	int err;

	if (!c->req->body || !c->req->body_len)
		return fault(r, 400, MSG_NO_BODY);
	if ((err = api_config_parse(c->section, c->req->body, c->req->body_len, &change, &e)))
		return fault(r, 400, "%s", e.text);
	if (c->id && strcmp(c->id, change.id))
		return fault(r, 400, "the id in the path ('%s') and in the body ('%s') differ", c->id, change.id);
	if ((err = c->b->configure(c->ctx, &change, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* machine-config's object, into the json_out that arg is. */
static int format_machine(const struct vm_config *cfg, void *arg)
{
	struct json_out *j = arg;

	json_object_begin(j, NULL);
	api_machine_config.format(cfg, j);
	json_object_end(j);
	return 0;
}

/* GET /machine-config: the section as GET /vm/config shows it. */
static int get_machine(const struct call *c, struct reply *r)
{
	struct json_out j;

	json_out_init(&j, r->out, r->cap);
	c->b->read_config(c->ctx, format_machine, &j);
	return finish_json(r, &j);
}

static int read_machine(const struct vm_config *cfg, void *arg)
{
	struct api_machine *m = arg;

	*m = (struct api_machine){ .vcpu_count = cfg->nr_cpus, .mem_size_mib = cfg->mem_size >> 20, .smt = cfg->smt,
				   .track_dirty_pages = cfg->track_dirty_pages, .hugepages = cfg->hugepages };
	return 0;
}

/* PATCH /machine-config: the fields given replace those configured. */
static int patch_machine(const struct call *c, struct reply *r)
{
	struct api_config_change change = { .section = &api_machine_config };
	struct api_machine current;
	struct errmsg e = { "" };
	int err;

	if (!c->req->body || !c->req->body_len)
		return fault(r, 400, MSG_NO_BODY);
	c->b->read_config(c->ctx, read_machine, &current);
	if ((err = api_machine_read(c->req->body, c->req->body_len, &current, (struct api_machine *)change.item, &e)))
		return fault(r, 400, "%s", e.text);
	if ((err = c->b->configure(c->ctx, &change, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

static int format_config(const struct vm_config *cfg, void *arg)
{
	struct reply *r = arg;

	return api_config_format(cfg, r->out, r->cap);
}

static int get_vm_config(const struct call *c, struct reply *r)
{
	int len = c->b->read_config(c->ctx, format_config, r);

	if (len < 0)
		return fault(r, 500, "the configuration does not fit in %zu bytes", r->cap);
	r->status = 200;
	return len;
}

static int get_stats(const struct call *c, struct reply *r)
{
	struct errmsg e = { "" };
	struct json_out j;
	int err;

	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	if ((err = c->b->get_stats(c->ctx, &j, &e)))
		return backend_fault(r, err, &e);
	json_object_end(&j);
	return finish_json(r, &j);
}

static void put_hex(struct json_out *j, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%" PRIx64, v);
	json_put_string(j, key, s);
}

static void put_segment(struct json_out *j, const char *key, const struct kvm_segment *s)
{
	json_object_begin(j, key);
	put_hex(j, "selector", s->selector);
	put_hex(j, "base", s->base);
	put_hex(j, "limit", s->limit);
	json_put_uint(j, "type", s->type);
	json_put_uint(j, "dpl", s->dpl);
	json_put_bool(j, "long_mode", s->l);
	json_object_end(j);
}

static int get_regs(const struct call *c, struct reply *r)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct errmsg e = { "" };
	struct json_out j;
	unsigned vcpu = 0;
	int err;

	vcpu_index(c->id, &vcpu); /* the route took only a valid one */
	if ((err = c->b->get_regs(c->ctx, vcpu, &regs, &sregs, &e)))
		return backend_fault(r, err, &e);
	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	json_put_uint(&j, "vcpu", vcpu);
	/* Hex strings: JSON numbers lose precision above 2^53 in many clients. */
	put_hex(&j, "rip", regs.rip);
	put_hex(&j, "rsp", regs.rsp);
	put_hex(&j, "rflags", regs.rflags);
	put_hex(&j, "rax", regs.rax);
	put_hex(&j, "rbx", regs.rbx);
	put_hex(&j, "rcx", regs.rcx);
	put_hex(&j, "rdx", regs.rdx);
	put_hex(&j, "rsi", regs.rsi);
	put_hex(&j, "rdi", regs.rdi);
	put_hex(&j, "rbp", regs.rbp);
	put_hex(&j, "r8", regs.r8);
	put_hex(&j, "r9", regs.r9);
	put_hex(&j, "r10", regs.r10);
	put_hex(&j, "r11", regs.r11);
	put_hex(&j, "r12", regs.r12);
	put_hex(&j, "r13", regs.r13);
	put_hex(&j, "r14", regs.r14);
	put_hex(&j, "r15", regs.r15);
	put_hex(&j, "cr0", sregs.cr0);
	put_hex(&j, "cr2", sregs.cr2);
	put_hex(&j, "cr3", sregs.cr3);
	put_hex(&j, "cr4", sregs.cr4);
	put_hex(&j, "cr8", sregs.cr8);
	put_hex(&j, "efer", sregs.efer);
	put_hex(&j, "apic_base", sregs.apic_base);
	put_segment(&j, "cs", &sregs.cs);
	put_segment(&j, "ss", &sregs.ss);
	put_segment(&j, "ds", &sregs.ds);
	put_segment(&j, "es", &sregs.es);
	put_segment(&j, "fs", &sregs.fs);
	put_segment(&j, "gs", &sregs.gs);
	json_object_end(&j);
	return finish_json(r, &j);
}

/* PUT /snapshot/create: Firecracker's SnapshotCreateParams. */
static int put_snapshot_create(const struct call *c, struct reply *r)
{
	struct api_snapshot_create p;
	char type[8] = "Full";
	const struct json_field f[] = {
		{ .name = "snapshot_type", .type = JSON_STRING, .str = type, .str_cap = sizeof(type) },
		{ .name = "snapshot_path", .type = JSON_STRING, .required = true, .str = p.state_path,
		  .str_cap = sizeof(p.state_path) },
		{ .name = "mem_file_path", .type = JSON_STRING, .required = true, .str = p.mem_path,
		  .str_cap = sizeof(p.mem_path) },
	};
	struct errmsg e = { "" };
	int err;

	if ((err = read_body(c->req, f, sizeof(f) / sizeof(f[0]), &e)))
		return fault(r, 400, "%s", e.text);
	if (strcmp(type, "Full") && strcmp(type, "Diff"))
		return fault(r, 400, "'snapshot_type' must be \"Full\" or \"Diff\", not \"%s\"", type);
	p.type = strcmp(type, "Full") ? SNAPSHOT_DIFF : SNAPSHOT_FULL;
	if (!p.state_path[0] || !p.mem_path[0])
		return fault(r, 400, "'%s' is empty", p.state_path[0] ? "mem_file_path" : "snapshot_path");
	err = c->b->create_snapshot(c->ctx, &p, &e);
	if (err == -EINPROGRESS)
		return pending(r);
	if (err)
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* mem_backend: {"backend_type": "File", "backend_path": ...}; Uffd (a page-fault handler process) is not kvmini's. */
static int read_mem_backend(const char *text, size_t len, char *path, size_t path_cap, struct errmsg *e)
{
	char type[8];
	const struct json_field f[] = {
		{ .name = "backend_type", .type = JSON_STRING, .required = true, .str = type, .str_cap = sizeof(type) },
		{ .name = "backend_path", .type = JSON_STRING, .required = true, .str = path, .str_cap = path_cap },
	};
	int err;

	if ((err = json_read_object(text, len, f, 2, e)))
		return errmsg_prefix(e, -err, "'mem_backend': ");
	if (!strcmp(type, "Uffd"))
		return errmsg_set(e, EINVAL, "'mem_backend': backend_type \"Uffd\" is not supported by kvmini: "
					     "guest memory is mapped from the file (\"File\")");
	if (strcmp(type, "File"))
		return errmsg_set(e, EINVAL, "'mem_backend': backend_type must be \"File\" or \"Uffd\", not \"%s\"", type);
	return 0;
}

static int count_item(void *ctx, const struct json_item *item, struct errmsg *e)
{
	(void)item;
	(void)e;
	++*(unsigned *)ctx;
	return 0;
}

/* PUT /snapshot/load: Firecracker's SnapshotLoadParams, exactly one of mem_backend and mem_file_path. */
static int put_snapshot_load(const struct call *c, struct reply *r)
{
	struct api_snapshot_load p;
	char mem_file_path[VM_PATH_MAX];
	const char *backend = NULL, *overrides = NULL, *vsock = NULL;
	size_t backend_len = 0, overrides_len = 0, vsock_len = 0;
	bool has_backend = false, has_file = false, has_overrides = false, has_vsock = false;
	bool diff_old = false, track = false, resume = false, realtime = false;
	char huge_pages[16] = "Snapshot";
	unsigned nr_overrides = 0;
	const struct json_field f[] = {
		{ .name = "snapshot_path", .type = JSON_STRING, .required = true, .str = p.state_path,
		  .str_cap = sizeof(p.state_path) },
		{ .name = "mem_backend", .type = JSON_OBJECT, .present = &has_backend, .object = &backend,
		  .object_len = &backend_len },
		{ .name = "mem_file_path", .type = JSON_STRING, .present = &has_file, .str = mem_file_path,
		  .str_cap = sizeof(mem_file_path) },
		{ .name = "track_dirty_pages", .type = JSON_BOOL, .boolean = &track },
		{ .name = "enable_diff_snapshots", .type = JSON_BOOL, .boolean = &diff_old },
		{ .name = "resume_vm", .type = JSON_BOOL, .boolean = &resume },
		{ .name = "network_overrides", .type = JSON_ARRAY, .present = &has_overrides, .object = &overrides,
		  .object_len = &overrides_len },
		{ .name = "vsock_override", .type = JSON_OBJECT, .present = &has_vsock, .object = &vsock,
		  .object_len = &vsock_len },
		{ .name = "clock_realtime", .type = JSON_BOOL, .boolean = &realtime },
		{ .name = "huge_pages", .type = JSON_STRING, .str = huge_pages, .str_cap = sizeof(huge_pages) },
	};
	struct errmsg e = { "" };
	int err;

	if ((err = read_body(c->req, f, sizeof(f) / sizeof(f[0]), &e)))
		return fault(r, 400, "%s", e.text);
	if (has_backend && has_file)
		return fault(r, 400, "give either 'mem_backend' or the older 'mem_file_path', not both");
	if (!has_backend && !has_file)
		return fault(r, 400, "missing field: 'mem_backend' (or the older 'mem_file_path')");
	if (has_backend && read_mem_backend(backend, backend_len, p.mem_path, sizeof(p.mem_path), &e))
		return fault(r, 400, "%s", e.text);
	if (has_file)
		memcpy(p.mem_path, mem_file_path, sizeof(p.mem_path));
	/* What kvmini cannot do yet is refused rather than ignored: the VM would not be the one asked for. */
	if (has_overrides && json_for_each(overrides, overrides_len, false, count_item, &nr_overrides, &e))
		return fault(r, 400, "'network_overrides': %s", e.text);
	if (nr_overrides || has_vsock)
		return fault(r, 400, "'%s' is not supported by kvmini: the snapshot's own %s are used",
			     nr_overrides ? "network_overrides" : "vsock_override",
			     nr_overrides ? "tap devices" : "vsock socket path");
	if (realtime)
		return fault(r, 400, "'clock_realtime' is not supported by kvmini: the guest clock goes on from the "
				     "snapshot's time");
	if (strcmp(huge_pages, "Snapshot"))
		return fault(r, 400, "'huge_pages' \"%s\" is not supported by kvmini: the snapshot's own setting is used "
				     "(\"Snapshot\")", huge_pages);
	if (!p.state_path[0] || !p.mem_path[0])
		return fault(r, 400, "'%s' is empty", p.state_path[0] ? "backend_path" : "snapshot_path");
	p.track_dirty_pages = track || diff_old;
	p.resume = resume;
	if ((err = c->b->load_snapshot(c->ctx, &p, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* Firecracker endpoints kvmini does not have: a clear 404 instead of a plain "no such path". */
static bool firecracker_only(const char *path)
{
	static const char *const prefixes[] = { "/balloon/hinting/", "/cpu-config", "/hotplug/", "/mmds", "/pmem/",
						"/serial" };

	for (unsigned i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static const char *method_name(enum http_method m)
{
	static const char *const names[] = { "GET", "PUT", "PATCH", "POST", "DELETE", "HEAD" };

	return m < HTTP_OTHER ? names[m] : "this method";
}

static int not_allowed(struct reply *r, const struct http_request *req, const char *allowed)
{
	return fault(r, 405, "%s is not allowed on %s (only %s)", method_name(req->method), req->path, allowed);
}

/* One path: the handler for each method it takes (NULL: not allowed). */
struct route {
	const char *path; /* "*" stands for one non-empty segment: the call's id */
	bool (*id_ok)(const char *id); /* optional: else the path is not this route's */
	handler_fn get, put, patch;
};

/* Endpoints of their own; the configuration's sections add PUT /NAME or PUT /NAME/{id} (api_sections). */
static const struct route routes[] = {
	{ "/", .get = get_info },
	{ "/version", .get = get_info },
	{ "/vm", .patch = patch_vm },
	{ "/actions", .put = put_action },
	{ "/logger", .put = put_logger },
	{ "/metrics", .put = put_metrics },
	{ "/machine-config", .get = get_machine, .put = put_section, .patch = patch_machine },
	{ "/vm/config", .get = get_vm_config },
	{ "/vm/stats", .get = get_stats },
	{ "/vcpu/*/regs", .id_ok = vcpu_id_ok, .get = get_regs },
	{ "/snapshot/create", .put = put_snapshot_create },
	{ "/snapshot/load", .put = put_snapshot_load },
};

/* Whether path fits pattern; *id gets what "*" stood for (copied into id_buf). */
static bool path_matches(const char *pattern, const char *path, char *id_buf, size_t id_size, const char **id)
{
	const char *star = strchr(pattern, '*'), *seg_end;
	size_t seg_len;

	if (!star)
		return !strcmp(pattern, path);
	if (strncmp(path, pattern, (size_t)(star - pattern)))
		return false;
	path += star - pattern;
	seg_end = strchrnul(path, '/');
	seg_len = (size_t)(seg_end - path);
	if (!seg_len || seg_len >= id_size || strcmp(seg_end, star + 1))
		return false;
	memcpy(id_buf, path, seg_len);
	id_buf[seg_len] = '\0';
	*id = id_buf;
	return true;
}

/* PATCH on a section of a running device: /drives/{id}, /balloon, /balloon/statistics. */
static int patch_section(const struct call *c, struct reply *r)
{
	struct api_config_change change;
	struct errmsg e = { "" };
	int err;

	if (!c->req->body || !c->req->body_len)
		return fault(r, 400, MSG_NO_BODY);
	memset(&change, 0, sizeof(change));
	change.section = c->section;
	if (c->id)
		snprintf(change.id, sizeof(change.id), "%s", c->id);
	snprintf(change.sub, sizeof(change.sub), "%s", c->sub);
	if ((err = c->section->parse_patch(c->req->body, c->req->body_len, &change, &e)))
		return fault(r, 400, "%s", e.text);
	if (c->id && strcmp(c->id, change.id))
		return fault(r, 400, "the id in the path ('%s') and in the body ('%s') differ", c->id, change.id);
	if ((err = c->b->patch_device(c->ctx, &change, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

/* GET on a section: /balloon, /balloon/statistics. */
static int get_section(const struct call *c, struct reply *r)
{
	struct errmsg e = { "" };
	struct json_out j;
	int err;

	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	if ((err = c->b->get_device(c->ctx, c->section, c->sub, &j, &e)))
		return backend_fault(r, err, &e);
	json_object_end(&j);
	return finish_json(r, &j);
}

/*
 * The route for the request's path, with the call's id and section set:
 * one of the table's (one whose PUT is put_section names a section by its
 * path), or else a section's, made in *scratch: PUT /NAME[/{id}], and PATCH
 * and GET where the section takes them, or GET and PATCH on /NAME/SUB.
 */
static const struct route *find_route(struct call *c, char *id_buf, size_t id_size, struct route *scratch)
{
	const struct device_api *sections[API_SECTIONS_MAX];
	size_t n = api_sections(sections);
	char pattern[128];

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		c->id = NULL;
		if (!path_matches(routes[i].path, c->req->path, id_buf, id_size, &c->id) ||
		    (routes[i].id_ok && !routes[i].id_ok(c->id)))
			continue;
		if (routes[i].put == put_section)
			c->section = api_section_find(routes[i].path + 1, strlen(routes[i].path + 1));
		return &routes[i];
	}
	for (size_t i = 0; i < n; i++) {
		const struct device_api *s = sections[i];

		c->id = NULL;
		c->section = s;
		*scratch = (struct route){ 0 };
		if (s->sub) {
			snprintf(pattern, sizeof(pattern), "/%s/%s", s->name, s->sub);
			if (path_matches(pattern, c->req->path, id_buf, id_size, &c->id)) {
				c->sub = s->sub;
				scratch->get = s->gettable ? get_section : NULL;
				scratch->patch = s->parse_patch ? patch_section : NULL;
				return scratch;
			}
		}
		snprintf(pattern, sizeof(pattern), "/%s%s", s->name, s->id_field ? "/*" : "");
		if (!path_matches(pattern, c->req->path, id_buf, id_size, &c->id))
			continue;
		scratch->put = put_section;
		scratch->get = s->gettable ? get_section : NULL;
		scratch->patch = s->parse_patch ? patch_section : NULL;
		return scratch;
	}
	return NULL;
}

/* "GET", "GET and PUT", "GET, PUT and PATCH": the methods rt takes. */
static void allowed_methods(const struct route *rt, char *out, size_t size)
{
	const char *names[3];
	unsigned n = 0;

	if (rt->get)
		names[n++] = "GET";
	if (rt->put)
		names[n++] = "PUT";
	if (rt->patch)
		names[n++] = "PATCH";
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ",
			 names[i]);
}

static int route(struct call *c, struct reply *r)
{
	char id[HTTP_PATH_MAX], allowed[32];
	struct route scratch;
	const struct route *rt = find_route(c, id, sizeof(id), &scratch);
	handler_fn handler = NULL;

	if (!rt) {
		if (firecracker_only(c->req->path))
			return fault(r, 404, "%s: this Firecracker endpoint is not implemented by kvmini", c->req->path);
		return fault(r, 404, "no such endpoint: %s", c->req->path);
	}
	if (c->req->method == HTTP_GET)
		handler = rt->get;
	else if (c->req->method == HTTP_PUT)
		handler = rt->put;
	else if (c->req->method == HTTP_PATCH)
		handler = rt->patch;
	if (handler)
		return handler(c, r);
	allowed_methods(rt, allowed, sizeof(allowed));
	return not_allowed(r, c->req, allowed);
}

int api_route(const struct api_backend *b, void *ctx, const struct http_request *req, char *out, size_t cap,
	      int *status)
{
	struct reply r = { .out = out, .cap = cap, .status = 500 };
	struct call c = { .b = b, .ctx = ctx, .req = req, .sub = "" };
	int len = route(&c, &r);

	*status = r.status;
	if (r.status != API_STATUS_PENDING)
		metrics_count_request(req->method, req->path, r.status);
	return len;
}

int api_route_pending(const struct api_backend *b, void *ctx, char *out, size_t cap, int *status)
{
	struct reply r = { .out = out, .cap = cap, .status = 500 };
	struct errmsg e = { "" };
	int err = b->pending_result(ctx, &e), len;

	if (err == -EINPROGRESS)
		len = pending(&r);
	else if (err)
		len = backend_fault(&r, err, &e);
	else
		len = no_content(&r);
	*status = r.status;
	/* Counted once answered; PUT /snapshot/create is the one request that waits. */
	if (r.status != API_STATUS_PENDING)
		metrics_count_request(HTTP_PUT, "/snapshot/create", r.status);
	return len;
}
