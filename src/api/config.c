// SPDX-License-Identifier: Apache-2.0
/* The configuration model and its sections: see include/api/config.h and include/api/section.h. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "api/json.h"
#include "guest_mem.h"

#define DEFAULT_MEM_MIB 512

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- boot-source ---- */

struct boot_source {
	char kernel_path[API_PATH_MAX];
	char initrd_path[API_PATH_MAX];
	char boot_args[API_BOOT_ARGS_MAX];
};

static int parse_boot_source(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct boot_source *b = (struct boot_source *)c->item;
	const struct json_field f[] = {
		{ .name = "kernel_image_path", .type = JSON_STRING, .required = true, .str = b->kernel_path,
		  .str_cap = sizeof(b->kernel_path) },
		{ .name = "initrd_path", .type = JSON_STRING, .str = b->initrd_path, .str_cap = sizeof(b->initrd_path) },
		{ .name = "boot_args", .type = JSON_STRING, .str = b->boot_args, .str_cap = sizeof(b->boot_args) },
	};

	return json_read_object(json, len, f, ARRAY_SIZE(f), e);
}

static int put_boot_source(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct boot_source *b = (const struct boot_source *)c->item;

	(void)e;
	snprintf(cfg->kernel_path, sizeof(cfg->kernel_path), "%s", b->kernel_path);
	snprintf(cfg->initrd_path, sizeof(cfg->initrd_path), "%s", b->initrd_path);
	snprintf(cfg->boot_args, sizeof(cfg->boot_args), "%s", b->boot_args);
	return 0;
}

static void format_boot_source(const struct api_config *cfg, struct json_out *j)
{
	json_put_string(j, "kernel_image_path", cfg->kernel_path);
	if (cfg->initrd_path[0])
		json_put_string(j, "initrd_path", cfg->initrd_path);
	json_put_string(j, "boot_args", cfg->boot_args);
}

static const struct device_api boot_source = {
	.name = "boot-source",
	.parse = parse_boot_source,
	.put = put_boot_source,
	.format = format_boot_source,
};

/* ---- machine-config ---- */

static int parse_machine(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct api_machine *m = (struct api_machine *)c->item;
	uint64_t vcpus, mib;
	bool smt = false;
	const struct json_field f[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .required = true, .uint = &vcpus, .min = 1,
		  .max = VM_MAX_CPUS },
		{ .name = "mem_size_mib", .type = JSON_UINT, .required = true, .uint = &mib,
		  .min = GUEST_MEM_MIN >> 20, .max = API_MEM_MIB_MAX },
		{ .name = "smt", .type = JSON_BOOL, .boolean = &smt },
	};
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (smt)
		return errmsg_set(e, EINVAL, "'smt': kvmini does not emulate SMT; leave it false");
	m->vcpu_count = (unsigned)vcpus;
	m->mem_size_mib = mib;
	return 0;
}

static int put_machine(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct api_machine *m = (const struct api_machine *)c->item;

	(void)e;
	cfg->vm.nr_cpus = m->vcpu_count;
	cfg->vm.mem_size = m->mem_size_mib << 20;
	return 0;
}

static void format_machine(const struct api_config *cfg, struct json_out *j)
{
	json_put_uint(j, "vcpu_count", cfg->vm.nr_cpus);
	json_put_uint(j, "mem_size_mib", cfg->vm.mem_size >> 20);
	json_put_bool(j, "smt", false);
}

const struct device_api api_machine_config = {
	.name = "machine-config",
	.parse = parse_machine,
	.put = put_machine,
	.format = format_machine,
};

/* ---- drives ---- */

struct drive_item {
	struct drive_config drive; /* id is the drive_id */
	bool root;
};

/* Firecracker's enums that kvmini accepts for compatibility but that change nothing here. */
static int check_choice(const char *field, const char *value, const char *a, const char *b, struct errmsg *e)
{
	if (!value[0] || !strcmp(value, a) || !strcmp(value, b))
		return 0;
	return errmsg_set(e, EINVAL, "'%s' must be \"%s\" or \"%s\"", field, a, b);
}

static int parse_drive(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct drive_item *item = (struct drive_item *)c->item;
	struct drive_config *d = &item->drive;
	char cache_type[16] = "", io_engine[16] = "";
	const struct json_field f[] = {
		{ .name = "drive_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "path_on_host", .type = JSON_STRING, .required = true, .str = d->path,
		  .str_cap = sizeof(d->path) },
		{ .name = "is_root_device", .type = JSON_BOOL, .boolean = &item->root },
		{ .name = "is_read_only", .type = JSON_BOOL, .boolean = &d->readonly },
		{ .name = "cache_type", .type = JSON_STRING, .str = cache_type, .str_cap = sizeof(cache_type) },
		{ .name = "io_engine", .type = JSON_STRING, .str = io_engine, .str_cap = sizeof(io_engine) },
	};
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (!c->id[0] || strlen(c->id) > DRIVE_ID_MAX)
		return errmsg_set(e, EINVAL, "'drive_id' must have 1 to %d characters (it is the disk's serial)",
				  DRIVE_ID_MAX);
	if (!d->path[0])
		return errmsg_set(e, EINVAL, "'path_on_host' is empty");
	memcpy(d->id, c->id, strlen(c->id) + 1);
	if ((err = check_choice("cache_type", cache_type, "Unsafe", "Writeback", e)))
		return err;
	return check_choice("io_engine", io_engine, "Sync", "Async", e);
}

static int put_drive(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct drive_item *item = (const struct drive_item *)c->item;
	unsigned i;

	for (i = 0; i < cfg->vm.nr_drives && strcmp(cfg->vm.drives[i].id, c->id); i++)
		;
	if (i == VM_MAX_DRIVES)
		return errmsg_set(e, EINVAL, "at most %d drives", VM_MAX_DRIVES);
	if (item->root && cfg->root_drive >= 0 && cfg->root_drive != (int)i)
		return errmsg_set(e, EINVAL, "drive '%s' is already the root device; there can be only one",
				  cfg->vm.drives[cfg->root_drive].id);
	cfg->vm.drives[i] = item->drive;
	if (i == cfg->vm.nr_drives)
		cfg->vm.nr_drives++;
	if (item->root)
		cfg->root_drive = (int)i;
	else if (cfg->root_drive == (int)i)
		cfg->root_drive = -1;
	return 0;
}

static void format_drives(const struct api_config *cfg, struct json_out *j)
{
	for (unsigned i = 0; i < cfg->vm.nr_drives; i++) {
		json_object_begin(j, NULL);
		json_put_string(j, "drive_id", cfg->vm.drives[i].id);
		json_put_string(j, "path_on_host", cfg->vm.drives[i].path);
		json_put_bool(j, "is_root_device", cfg->root_drive == (int)i);
		json_put_bool(j, "is_read_only", cfg->vm.drives[i].readonly);
		json_object_end(j);
	}
}

static const struct device_api drives = {
	.name = "drives",
	.id_field = "drive_id",
	.parse = parse_drive,
	.put = put_drive,
	.format = format_drives,
};

/* ---- network-interfaces ---- */

static int parse_net(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	struct net_config *n = (struct net_config *)c->item;
	char tap[64], mac[32] = "", opt[128];
	bool mac_set = false;
	const struct json_field f[] = {
		{ .name = "iface_id", .type = JSON_STRING, .required = true, .str = c->id, .str_cap = sizeof(c->id) },
		{ .name = "host_dev_name", .type = JSON_STRING, .required = true, .str = tap, .str_cap = sizeof(tap) },
		{ .name = "guest_mac", .type = JSON_STRING, .present = &mac_set, .str = mac, .str_cap = sizeof(mac) },
	};
	struct vm_config one = { .nr_nets = 0 };
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (!c->id[0])
		return errmsg_set(e, EINVAL, "'iface_id' is empty");
	/* The --net parser checks the name and the MAC; its syntax has no room for these two characters. */
	if (!tap[0] || strpbrk(tap, ",="))
		return errmsg_set(e, EINVAL, "'host_dev_name' '%s' is not an interface name", tap);
	snprintf(opt, sizeof(opt), "tap=%s%s%s", tap, mac_set ? ",mac=" : "", mac_set ? mac : "");
	if ((err = vm_config_add_net(&one, opt, e)))
		return err;
	*n = one.nets[0];
	return 0;
}

static int put_net(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	const struct net_config *n = (const struct net_config *)c->item;
	unsigned i;

	for (i = 0; i < cfg->vm.nr_nets && strcmp(cfg->net_ids[i], c->id); i++)
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
	snprintf(cfg->net_ids[i], sizeof(cfg->net_ids[i]), "%s", c->id);
	if (i == cfg->vm.nr_nets)
		cfg->vm.nr_nets++;
	return 0;
}

static void format_nets(const struct api_config *cfg, struct json_out *j)
{
	const uint8_t *m;
	char mac[18];

	for (unsigned i = 0; i < cfg->vm.nr_nets; i++) {
		json_object_begin(j, NULL);
		json_put_string(j, "iface_id", cfg->net_ids[i]);
		json_put_string(j, "host_dev_name", cfg->vm.nets[i].tap);
		if (cfg->vm.nets[i].mac_set) {
			m = cfg->vm.nets[i].mac;
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
			json_put_string(j, "guest_mac", mac);
		}
		json_object_end(j);
	}
}

static const struct device_api network_interfaces = {
	.name = "network-interfaces",
	.id_field = "iface_id",
	.parse = parse_net,
	.put = put_net,
	.format = format_nets,
};

static_assert(sizeof(struct boot_source) <= API_ITEM_MAX, "boot-source's item fits a change");
static_assert(sizeof(struct drive_item) <= API_ITEM_MAX, "a drive fits a change");
static_assert(sizeof(struct net_config) <= API_ITEM_MAX, "a network interface fits a change");

/* ---- the sections, and the model they fill ---- */

size_t api_sections(const struct device_api **out)
{
	static const struct device_api *const all[] = { &boot_source, &api_machine_config, &drives,
							&network_interfaces };

	static_assert(ARRAY_SIZE(all) <= API_SECTIONS_MAX, "API_SECTIONS_MAX holds the sections");
	memcpy(out, all, sizeof(all));
	return ARRAY_SIZE(all);
}

const struct device_api *api_section_find(const char *name, size_t len)
{
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all);

	for (size_t i = 0; i < n; i++)
		if (strlen(all[i]->name) == len && !memcmp(all[i]->name, name, len))
			return all[i];
	return NULL;
}

void api_config_init(struct api_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm.mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
	cfg->vm.nr_cpus = 1;
	cfg->vm.acpi = true;
	cfg->root_drive = -1;
}

int api_config_parse(const struct device_api *section, const char *json, size_t len, struct api_config_change *c,
		     struct errmsg *e)
{
	memset(c, 0, sizeof(*c));
	c->section = section;
	return section->parse(json, len, c, e);
}

int api_config_apply(struct api_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	return c->section->put(cfg, c, e);
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

int api_config_format(const struct api_config *cfg, char *out, size_t cap)
{
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all);
	struct json_out j;

	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		if (all[i]->id_field)
			json_array_begin(&j, all[i]->name);
		else
			json_object_begin(&j, all[i]->name);
		all[i]->format(cfg, &j);
		if (all[i]->id_field)
			json_array_end(&j);
		else
			json_object_end(&j);
	}
	json_object_end(&j);
	return json_out_finish(&j);
}

/* ---- --config-file: each section read as its endpoint reads it ---- */

struct file_section {
	struct api_config *cfg;
	const struct device_api *section;
};

static int apply_item(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct file_section *s = ctx;
	struct api_config_change c;
	int err;

	if ((err = api_config_parse(s->section, it->value, it->value_len, &c, e)))
		return err;
	return api_config_apply(s->cfg, &c, e);
}

static int apply_section(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct file_section s = { .cfg = ctx, .section = api_section_find(it->key, it->key_len) };
	int err;

	if (!s.section)
		return errmsg_set(e, EINVAL, "section '%.*s' is not supported by kvmini (see docs/api.md)",
				  (int)(it->key_len > 64 ? 64 : it->key_len), it->key);
	err = s.section->id_field ? json_for_each(it->value, it->value_len, false, apply_item, &s, e)
				  : apply_item(&s, it, e);
	return err ? errmsg_prefix(e, -err, "'%s': ", s.section->name) : 0;
}

int api_config_parse_file(struct api_config *cfg, const char *text, size_t len, struct errmsg *e)
{
	return json_for_each(text, len, true, apply_section, cfg, e);
}
