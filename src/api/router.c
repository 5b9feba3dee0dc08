// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/router.h"
#include "guest_mem.h"
#include "parse.h"

#define DEFAULT_MEM_MIB 512
/* Enough for any guest this host can hold; the real bound (host RAM) is checked when the VM is made. */
#define MEM_MIB_MAX (1ULL << 30)

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
		return errmsg_set(e, EINVAL, "this request needs a JSON body");
	return json_read_object(req->body, req->body_len, fields, nr, e);
}

/* ---- the configuration ---- */

void api_config_init(struct api_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm.mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
	cfg->vm.nr_cpus = 1;
	cfg->vm.acpi = true;
	cfg->root_drive = -1;
}

static int apply_drive(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct drive_config *d = &c->drive.drive;
	unsigned i;

	for (i = 0; i < cfg->vm.nr_drives && strcmp(cfg->vm.drives[i].id, d->id); i++)
		;
	if (i == VM_MAX_DRIVES)
		return errmsg_set(e, EINVAL, "at most %d drives", VM_MAX_DRIVES);
	if (c->drive.root && cfg->root_drive >= 0 && cfg->root_drive != (int)i)
		return errmsg_set(e, EINVAL, "drive '%s' is already the root device; there can be only one",
				  cfg->vm.drives[cfg->root_drive].id);
	cfg->vm.drives[i] = *d;
	if (i == cfg->vm.nr_drives)
		cfg->vm.nr_drives++;
	if (c->drive.root)
		cfg->root_drive = (int)i;
	else if (cfg->root_drive == (int)i)
		cfg->root_drive = -1;
	return 0;
}

static int apply_net(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct net_config *n = &c->net.net;
	unsigned i;

	for (i = 0; i < cfg->vm.nr_nets && strcmp(cfg->net_ids[i], c->net.id); i++)
		;
	if (i == VM_MAX_NETS)
		return errmsg_set(e, EINVAL, "at most %d network interfaces", VM_MAX_NETS);
	for (unsigned k = 0; k < cfg->vm.nr_nets; k++) {
		if (k == i)
			continue;
		if (!strcmp(cfg->vm.nets[k].tap, n->tap))
			return errmsg_set(e, EINVAL, "host_dev_name '%s' is already used by interface '%s'", n->tap,
					  cfg->net_ids[k]);
		if (n->mac_set && cfg->vm.nets[k].mac_set && !memcmp(cfg->vm.nets[k].mac, n->mac, sizeof(n->mac)))
			return errmsg_set(e, EINVAL, "guest_mac is already used by interface '%s'", cfg->net_ids[k]);
	}
	cfg->vm.nets[i] = *n;
	snprintf(cfg->net_ids[i], sizeof(cfg->net_ids[i]), "%s", c->net.id);
	if (i == cfg->vm.nr_nets)
		cfg->vm.nr_nets++;
	return 0;
}

int api_config_apply(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	switch (c->kind) {
	case API_CONFIG_BOOT_SOURCE:
		snprintf(cfg->kernel_path, sizeof(cfg->kernel_path), "%s", c->boot.kernel_path);
		snprintf(cfg->initrd_path, sizeof(cfg->initrd_path), "%s", c->boot.initrd_path);
		snprintf(cfg->boot_args, sizeof(cfg->boot_args), "%s", c->boot.boot_args);
		return 0;
	case API_CONFIG_MACHINE:
		cfg->vm.nr_cpus = c->machine.vcpu_count;
		cfg->vm.mem_size = c->machine.mem_size_mib << 20;
		return 0;
	case API_CONFIG_DRIVE:
		return apply_drive(cfg, c, e);
	case API_CONFIG_NET:
		return apply_net(cfg, c, e);
	}
	return errmsg_set(e, EINVAL, "unknown configuration change");
}

void api_config_from_vm(struct api_config *cfg, const struct vm_config *vm)
{
	api_config_init(cfg);
	cfg->vm = *vm;
	cfg->vm.kernel_path = cfg->vm.initrd_path = cfg->vm.cmdline = NULL;
	cfg->vm.initrd_data = NULL;
	snprintf(cfg->kernel_path, sizeof(cfg->kernel_path), "%s", vm->kernel_path ? vm->kernel_path : "");
	snprintf(cfg->initrd_path, sizeof(cfg->initrd_path), "%s", vm->initrd_path ? vm->initrd_path : "");
	snprintf(cfg->boot_args, sizeof(cfg->boot_args), "%s", vm->cmdline ? vm->cmdline : "");
	for (unsigned i = 0; i < vm->nr_nets && i < VM_MAX_NETS; i++)
		snprintf(cfg->net_ids[i], sizeof(cfg->net_ids[i]), "net%u", i);
}

int api_config_to_vm(const struct api_config *cfg, struct vm_config *vm, char *cmdline_buf, size_t cmdline_size,
		     struct errmsg *e)
{
	int n;

	if (!cfg->kernel_path[0])
		return errmsg_set(e, EINVAL, "no kernel: PUT /boot-source with a kernel_image_path first");
	*vm = cfg->vm;
	vm->kernel_path = cfg->kernel_path;
	vm->initrd_path = cfg->initrd_path[0] ? cfg->initrd_path : NULL;
	vm->paths_from_api = true;
	for (unsigned i = 0; i < vm->nr_drives; i++)
		vm->drives[i].path_from_api = true;
	if (cfg->root_drive >= 0)
		n = snprintf(cmdline_buf, cmdline_size, "%s%sroot=/dev/vd%c %s", cfg->boot_args,
			     cfg->boot_args[0] ? " " : "", 'a' + cfg->root_drive,
			     cfg->vm.drives[cfg->root_drive].readonly ? "ro" : "rw");
	else
		n = snprintf(cmdline_buf, cmdline_size, "%s", cfg->boot_args);
	if (n < 0 || (size_t)n >= cmdline_size)
		return errmsg_set(e, EINVAL, "boot_args are too long");
	vm->cmdline = cmdline_buf[0] ? cmdline_buf : NULL;
	return 0;
}

static void format_mac(char *out, size_t size, const uint8_t mac[6])
{
	snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int api_config_format(const struct api_config *cfg, char *out, size_t cap)
{
	struct json_out j;
	char mac[18];

	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	json_object_begin(&j, "boot-source");
	json_put_string(&j, "kernel_image_path", cfg->kernel_path);
	if (cfg->initrd_path[0])
		json_put_string(&j, "initrd_path", cfg->initrd_path);
	json_put_string(&j, "boot_args", cfg->boot_args);
	json_object_end(&j);
	json_object_begin(&j, "machine-config");
	json_put_uint(&j, "vcpu_count", cfg->vm.nr_cpus);
	json_put_uint(&j, "mem_size_mib", cfg->vm.mem_size >> 20);
	json_put_bool(&j, "smt", false);
	json_object_end(&j);
	json_array_begin(&j, "drives");
	for (unsigned i = 0; i < cfg->vm.nr_drives; i++) {
		json_object_begin(&j, NULL);
		json_put_string(&j, "drive_id", cfg->vm.drives[i].id);
		json_put_string(&j, "path_on_host", cfg->vm.drives[i].path);
		json_put_bool(&j, "is_root_device", cfg->root_drive == (int)i);
		json_put_bool(&j, "is_read_only", cfg->vm.drives[i].readonly);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "network-interfaces");
	for (unsigned i = 0; i < cfg->vm.nr_nets; i++) {
		json_object_begin(&j, NULL);
		json_put_string(&j, "iface_id", cfg->net_ids[i]);
		json_put_string(&j, "host_dev_name", cfg->vm.nets[i].tap);
		if (cfg->vm.nets[i].mac_set) {
			format_mac(mac, sizeof(mac), cfg->vm.nets[i].mac);
			json_put_string(&j, "guest_mac", mac);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	return json_out_finish(&j);
}

/* ---- request bodies into configuration changes (shared by the endpoints and --config-file) ---- */

static int parse_boot_source(const char *text, size_t len, struct api_config_change *c, struct errmsg *e)
{
	const struct json_field f[] = {
		{ .name = "kernel_image_path", .type = JSON_STRING, .required = true, .str = c->boot.kernel_path,
		  .str_cap = sizeof(c->boot.kernel_path) },
		{ .name = "initrd_path", .type = JSON_STRING, .str = c->boot.initrd_path,
		  .str_cap = sizeof(c->boot.initrd_path) },
		{ .name = "boot_args", .type = JSON_STRING, .str = c->boot.boot_args,
		  .str_cap = sizeof(c->boot.boot_args) },
	};

	memset(c, 0, sizeof(*c));
	c->kind = API_CONFIG_BOOT_SOURCE;
	return json_read_object(text, len, f, sizeof(f) / sizeof(f[0]), e);
}

static int parse_machine(const char *text, size_t len, struct api_config_change *c, struct errmsg *e)
{
	uint64_t vcpus, mib;
	bool smt = false;
	const struct json_field f[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .required = true, .uint = &vcpus, .min = 1,
		  .max = VM_MAX_CPUS },
		{ .name = "mem_size_mib", .type = JSON_UINT, .required = true, .uint = &mib,
		  .min = GUEST_MEM_MIN >> 20, .max = MEM_MIB_MAX },
		{ .name = "smt", .type = JSON_BOOL, .boolean = &smt },
	};
	int err;

	memset(c, 0, sizeof(*c));
	c->kind = API_CONFIG_MACHINE;
	if ((err = json_read_object(text, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (smt)
		return errmsg_set(e, EINVAL, "'smt': kvmini does not emulate SMT; leave it false");
	c->machine.vcpu_count = (unsigned)vcpus;
	c->machine.mem_size_mib = mib;
	return 0;
}

/* Firecracker's enums that kvmini accepts for compatibility but that change nothing here. */
static int check_choice(const char *field, const char *value, const char *a, const char *b, struct errmsg *e)
{
	if (!value[0] || !strcmp(value, a) || !strcmp(value, b))
		return 0;
	return errmsg_set(e, EINVAL, "'%s' must be \"%s\" or \"%s\"", field, a, b);
}

static int parse_drive(const char *text, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct drive_config *d = &c->drive.drive;
	char id[API_ID_MAX], cache_type[16] = "", io_engine[16] = "";
	const struct json_field f[] = {
		{ .name = "drive_id", .type = JSON_STRING, .required = true, .str = id, .str_cap = sizeof(id) },
		{ .name = "path_on_host", .type = JSON_STRING, .required = true, .str = d->path,
		  .str_cap = sizeof(d->path) },
		{ .name = "is_root_device", .type = JSON_BOOL, .boolean = &c->drive.root },
		{ .name = "is_read_only", .type = JSON_BOOL, .boolean = &d->readonly },
		{ .name = "cache_type", .type = JSON_STRING, .str = cache_type, .str_cap = sizeof(cache_type) },
		{ .name = "io_engine", .type = JSON_STRING, .str = io_engine, .str_cap = sizeof(io_engine) },
	};
	int err;

	memset(c, 0, sizeof(*c));
	c->kind = API_CONFIG_DRIVE;
	if ((err = json_read_object(text, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!id[0] || strlen(id) > DRIVE_ID_MAX)
		return errmsg_set(e, EINVAL, "'drive_id' must have 1 to %d characters (it is the disk's serial)",
				  DRIVE_ID_MAX);
	if (!d->path[0])
		return errmsg_set(e, EINVAL, "'path_on_host' is empty");
	memcpy(d->id, id, strlen(id) + 1);
	if ((err = check_choice("cache_type", cache_type, "Unsafe", "Writeback", e)))
		return err;
	return check_choice("io_engine", io_engine, "Sync", "Async", e);
}

static int parse_net(const char *text, size_t len, struct api_config_change *c, struct errmsg *e)
{
	char tap[64], mac[32] = "", opt[128];
	bool mac_set = false;
	const struct json_field f[] = {
		{ .name = "iface_id", .type = JSON_STRING, .required = true, .str = c->net.id,
		  .str_cap = sizeof(c->net.id) },
		{ .name = "host_dev_name", .type = JSON_STRING, .required = true, .str = tap, .str_cap = sizeof(tap) },
		{ .name = "guest_mac", .type = JSON_STRING, .present = &mac_set, .str = mac, .str_cap = sizeof(mac) },
	};
	struct vm_config one = { .nr_nets = 0 };
	int err;

	memset(c, 0, sizeof(*c));
	c->kind = API_CONFIG_NET;
	if ((err = json_read_object(text, len, f, sizeof(f) / sizeof(f[0]), e)))
		return err;
	if (!c->net.id[0])
		return errmsg_set(e, EINVAL, "'iface_id' is empty");
	/* The --net parser checks the name and the MAC; its syntax has no room for these two characters. */
	if (!tap[0] || strpbrk(tap, ",="))
		return errmsg_set(e, EINVAL, "'host_dev_name' '%s' is not an interface name", tap);
	snprintf(opt, sizeof(opt), "tap=%s%s%s", tap, mac_set ? ",mac=" : "", mac_set ? mac : "");
	if ((err = vm_config_add_net(&one, opt, e)))
		return err;
	c->net.net = one.nets[0];
	return 0;
}

/* ---- --config-file: its sections cut out by json_for_each, each read as its endpoint reads it ---- */

typedef int (*parse_fn)(const char *text, size_t len, struct api_config_change *c, struct errmsg *e);

struct file_section {
	struct api_config *cfg;
	parse_fn parse;
};

static int apply_one(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct file_section *s = ctx;
	struct api_config_change c;
	int err;

	if ((err = s->parse(it->value, it->value_len, &c, e)))
		return err;
	return api_config_apply(s->cfg, &c, e);
}

static int apply_section(void *ctx, const struct json_item *it, struct errmsg *e)
{
	static const struct {
		const char *name;
		parse_fn parse;
		bool array;
	} sections[] = {
		{ "boot-source", parse_boot_source, false },
		{ "machine-config", parse_machine, false },
		{ "drives", parse_drive, true },
		{ "network-interfaces", parse_net, true },
	};
	struct file_section s = { .cfg = ctx };
	int err;

	for (unsigned i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strlen(sections[i].name) != it->key_len || memcmp(sections[i].name, it->key, it->key_len))
			continue;
		s.parse = sections[i].parse;
		err = sections[i].array ? json_for_each(it->value, it->value_len, false, apply_one, &s, e)
					: apply_one(&s, it, e);
		return err ? errmsg_prefix(e, -err, "'%s': ", sections[i].name) : 0;
	}
	return errmsg_set(e, EINVAL, "section '%.*s' is not supported by kvmini (see docs/api.md)",
			  (int)(it->key_len > 64 ? 64 : it->key_len), it->key);
}

int api_config_parse_file(struct api_config *cfg, const char *text, size_t len, struct errmsg *e)
{
	return json_for_each(text, len, true, apply_section, cfg, e);
}

/* ---- the endpoints ---- */

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

static int get_info(const struct api_backend *b, void *ctx, struct reply *r)
{
	enum api_state state;
	char id[API_ID_MAX];
	const char *version;
	struct json_out j;

	b->describe(ctx, &state, id, sizeof(id), &version);
	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	json_put_string(&j, "id", id);
	json_put_string(&j, "state", state_name(state));
	json_put_string(&j, "vmm_version", version);
	json_put_string(&j, "app_name", "kvmini");
	json_object_end(&j);
	return finish_json(r, &j);
}

static int get_version(const struct api_backend *b, void *ctx, struct reply *r)
{
	enum api_state state;
	char id[API_ID_MAX];
	const char *version;
	struct json_out j;

	b->describe(ctx, &state, id, sizeof(id), &version);
	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	json_put_string(&j, "firecracker_version", version);
	json_object_end(&j);
	return finish_json(r, &j);
}

static int patch_vm(const struct api_backend *b, void *ctx, const struct http_request *req, struct reply *r)
{
	char state[16];
	const struct json_field f[] = {
		{ .name = "state", .type = JSON_STRING, .required = true, .str = state, .str_cap = sizeof(state) },
	};
	struct errmsg e = { "" };
	bool paused;
	int err;

	if ((err = read_body(req, f, 1, &e)))
		return fault(r, 400, "%s", e.text);
	if (!strcmp(state, "Paused"))
		paused = true;
	else if (!strcmp(state, "Resumed"))
		paused = false;
	else
		return fault(r, 400, "'state' must be \"Paused\" or \"Resumed\", not \"%s\"", state);
	if ((err = b->set_paused(ctx, paused, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

static int put_action(const struct api_backend *b, void *ctx, const struct http_request *req, struct reply *r)
{
	static const struct {
		const char *name;
		enum api_action action;
	} actions[] = {
		{ "InstanceStart", API_ACTION_INSTANCE_START },
		{ "SendCtrlAltDel", API_ACTION_SEND_CTRL_ALT_DEL },
		{ "Stop", API_ACTION_STOP },
	};
	char type[32];
	const struct json_field f[] = {
		{ .name = "action_type", .type = JSON_STRING, .required = true, .str = type, .str_cap = sizeof(type) },
	};
	struct errmsg e = { "" };
	int err;

	if ((err = read_body(req, f, 1, &e)))
		return fault(r, 400, "%s", e.text);
	for (unsigned i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(type, actions[i].name))
			continue;
		if ((err = b->action(ctx, actions[i].action, &e)))
			return backend_fault(r, err, &e);
		return no_content(r);
	}
	if (!strcmp(type, "FlushMetrics"))
		return fault(r, 400, "'FlushMetrics': kvmini has no metrics system (GET /vm/stats has the counters)");
	return fault(r, 400, "'action_type' must be \"InstanceStart\", \"SendCtrlAltDel\" or \"Stop\", not \"%s\"",
		     type);
}

static int configure(const struct api_backend *b, void *ctx, const struct http_request *req, struct reply *r,
		     parse_fn parse, const char *path_id)
{
	struct api_config_change c;
	struct errmsg e = { "" };
	const char *body_id = NULL;
	int err;

	if (!req->body || !req->body_len)
		return fault(r, 400, "this request needs a JSON body");
	if ((err = parse(req->body, req->body_len, &c, &e)))
		return fault(r, 400, "%s", e.text);
	if (c.kind == API_CONFIG_DRIVE)
		body_id = c.drive.drive.id;
	else if (c.kind == API_CONFIG_NET)
		body_id = c.net.id;
	if (path_id && strcmp(path_id, body_id))
		return fault(r, 400, "the id in the path ('%s') and in the body ('%s') differ", path_id, body_id);
	if ((err = b->configure(ctx, &c, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

static int get_machine(const struct api_backend *b, void *ctx, struct reply *r)
{
	struct api_config cfg;
	struct json_out j;

	b->get_config(ctx, &cfg);
	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	json_put_uint(&j, "vcpu_count", cfg.vm.nr_cpus);
	json_put_uint(&j, "mem_size_mib", cfg.vm.mem_size >> 20);
	json_put_bool(&j, "smt", false);
	json_object_end(&j);
	return finish_json(r, &j);
}

/* PATCH /machine-config: the fields given replace those configured. */
static int patch_machine(const struct api_backend *b, void *ctx, const struct http_request *req, struct reply *r)
{
	struct api_config cfg;
	uint64_t vcpus, mib;
	bool has_vcpus = false, has_mem = false, smt = false;
	const struct json_field f[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .present = &has_vcpus, .uint = &vcpus, .min = 1,
		  .max = VM_MAX_CPUS },
		{ .name = "mem_size_mib", .type = JSON_UINT, .present = &has_mem, .uint = &mib,
		  .min = GUEST_MEM_MIN >> 20, .max = MEM_MIB_MAX },
		{ .name = "smt", .type = JSON_BOOL, .boolean = &smt },
	};
	struct api_config_change c = { .kind = API_CONFIG_MACHINE };
	struct errmsg e = { "" };
	int err;

	if ((err = read_body(req, f, sizeof(f) / sizeof(f[0]), &e)))
		return fault(r, 400, "%s", e.text);
	if (smt)
		return fault(r, 400, "'smt': kvmini does not emulate SMT; leave it false");
	b->get_config(ctx, &cfg);
	c.machine.vcpu_count = has_vcpus ? (unsigned)vcpus : cfg.vm.nr_cpus;
	c.machine.mem_size_mib = has_mem ? mib : cfg.vm.mem_size >> 20;
	if ((err = b->configure(ctx, &c, &e)))
		return backend_fault(r, err, &e);
	return no_content(r);
}

static int get_vm_config(const struct api_backend *b, void *ctx, struct reply *r)
{
	struct api_config cfg;
	int len;

	b->get_config(ctx, &cfg);
	len = api_config_format(&cfg, r->out, r->cap);
	if (len < 0)
		return fault(r, 500, "the configuration does not fit in %zu bytes", r->cap);
	r->status = 200;
	return len;
}

static int get_stats(const struct api_backend *b, void *ctx, struct reply *r)
{
	struct errmsg e = { "" };
	struct json_out j;
	int err;

	json_out_init(&j, r->out, r->cap);
	json_object_begin(&j, NULL);
	if ((err = b->get_stats(ctx, &j, &e)))
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

static int get_regs(const struct api_backend *b, void *ctx, unsigned vcpu, struct reply *r)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct errmsg e = { "" };
	struct json_out j;
	int err;

	if ((err = b->get_regs(ctx, vcpu, &regs, &sregs, &e)))
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

/* "/prefix/ID" -> ID, when it is one non-empty path segment. */
static const char *path_param(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

/* "/vcpu/N/regs" -> N */
static bool vcpu_regs_path(const char *path, unsigned *vcpu)
{
	char num[8];
	const char *p = path + strlen("/vcpu/"), *slash;
	uint64_t v;

	if (strncmp(path, "/vcpu/", 6) || !(slash = strchr(p, '/')) || strcmp(slash, "/regs") ||
	    (size_t)(slash - p) >= sizeof(num) || slash == p)
		return false;
	memcpy(num, p, (size_t)(slash - p));
	num[slash - p] = '\0';
	if (parse_uint(num, 0, VM_MAX_CPUS - 1, &v))
		return false;
	*vcpu = (unsigned)v;
	return true;
}

/* Firecracker endpoints kvmini does not have: a clear 404 instead of a plain "no such path". */
static bool firecracker_only(const char *path)
{
	static const char *const prefixes[] = { "/balloon", "/cpu-config", "/entropy", "/hotplug/", "/logger",
						"/metrics", "/mmds", "/pmem/", "/serial", "/snapshot/", "/vsock" };

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

static int route(const struct api_backend *b, void *ctx, const struct http_request *req, struct reply *r)
{
	enum http_method m = req->method;
	const char *id;
	unsigned vcpu;

	if (!strcmp(req->path, "/"))
		return m == HTTP_GET ? get_info(b, ctx, r) : not_allowed(r, req, "GET");
	if (!strcmp(req->path, "/version"))
		return m == HTTP_GET ? get_version(b, ctx, r) : not_allowed(r, req, "GET");
	if (!strcmp(req->path, "/vm"))
		return m == HTTP_PATCH ? patch_vm(b, ctx, req, r) : not_allowed(r, req, "PATCH");
	if (!strcmp(req->path, "/actions"))
		return m == HTTP_PUT ? put_action(b, ctx, req, r) : not_allowed(r, req, "PUT");
	if (!strcmp(req->path, "/boot-source"))
		return m == HTTP_PUT ? configure(b, ctx, req, r, parse_boot_source, NULL)
				     : not_allowed(r, req, "PUT");
	if (!strcmp(req->path, "/machine-config")) {
		if (m == HTTP_GET)
			return get_machine(b, ctx, r);
		if (m == HTTP_PUT)
			return configure(b, ctx, req, r, parse_machine, NULL);
		if (m == HTTP_PATCH)
			return patch_machine(b, ctx, req, r);
		return not_allowed(r, req, "GET, PUT and PATCH");
	}
	if ((id = path_param(req->path, "/drives/")))
		return m == HTTP_PUT ? configure(b, ctx, req, r, parse_drive, id) : not_allowed(r, req, "PUT");
	if ((id = path_param(req->path, "/network-interfaces/")))
		return m == HTTP_PUT ? configure(b, ctx, req, r, parse_net, id) : not_allowed(r, req, "PUT");
	if (!strcmp(req->path, "/vm/config"))
		return m == HTTP_GET ? get_vm_config(b, ctx, r) : not_allowed(r, req, "GET");
	if (!strcmp(req->path, "/vm/stats"))
		return m == HTTP_GET ? get_stats(b, ctx, r) : not_allowed(r, req, "GET");
	if (vcpu_regs_path(req->path, &vcpu))
		return m == HTTP_GET ? get_regs(b, ctx, vcpu, r) : not_allowed(r, req, "GET");
	if (firecracker_only(req->path))
		return fault(r, 404, "%s: this Firecracker endpoint is not implemented by kvmini", req->path);
	return fault(r, 404, "no such endpoint: %s", req->path);
}

int api_route(const struct api_backend *b, void *ctx, const struct http_request *req, char *out, size_t cap,
	      int *status)
{
	struct reply r = { .out = out, .cap = cap, .status = 500 };
	int len = route(b, ctx, req, &r);

	*status = r.status;
	return len;
}
