// SPDX-License-Identifier: Apache-2.0
/* The configuration model and its sections: see include/api/config.h and include/api/section.h. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/config.h"
#include "api/json.h"
#include "device.h"
#include "guest_mem.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- boot-source ---- */

/* The item has the vm_config's own buffers: a string that fits one fits the other. */
struct boot_source {
	char kernel_path[VM_PATH_MAX];
	char initrd_path[VM_PATH_MAX];
	char boot_args[VM_CMDLINE_MAX];
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

static int put_boot_source(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct boot_source *b = (const struct boot_source *)c->item;
	struct vm_config *cfg = config;

	(void)e;
	/* The same sizes, NUL-terminated by the reader. */
	memcpy(cfg->kernel_path, b->kernel_path, sizeof(cfg->kernel_path));
	memcpy(cfg->initrd_path, b->initrd_path, sizeof(cfg->initrd_path));
	memcpy(cfg->cmdline, b->boot_args, sizeof(cfg->cmdline));
	return 0;
}

static void format_boot_source(const void *config, struct json_out *j)
{
	const struct vm_config *cfg = config;

	json_put_string(j, "kernel_image_path", cfg->kernel_path);
	if (cfg->initrd_path[0])
		json_put_string(j, "initrd_path", cfg->initrd_path);
	json_put_string(j, "boot_args", cfg->cmdline);
}

static const struct device_api boot_source = {
	.name = "boot-source",
	.parse = parse_boot_source,
	.put = put_boot_source,
	.format = format_boot_source,
};

/* ---- machine-config ---- */

/* Firecracker's names for how guest memory is backed; "Transparent" (THP) kvmini does not offer. */
static int huge_pages_read(const char *value, bool *hugepages, struct errmsg *e)
{
	if (!strcmp(value, "None") || !strcmp(value, "2M")) {
		*hugepages = !strcmp(value, "2M");
		return 0;
	}
	return errmsg_set(e, EINVAL, "'huge_pages' must be \"None\" or \"2M\", not \"%s\"", value);
}

int api_machine_read(const char *json, size_t len, const struct api_machine *current, struct api_machine *m,
		     struct errmsg *e)
{
	struct api_machine r = current ? *current : (struct api_machine){ 0 };
	uint64_t vcpus = r.vcpu_count, mib = r.mem_size_mib;
	char huge_pages[16] = "", cpu_template[16] = "";
	bool given[6] = { false };
	const struct json_field f[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .required = !current, .present = &given[0], .uint = &vcpus,
		  .min = 1, .max = API_VCPUS_MAX },
		{ .name = "mem_size_mib", .type = JSON_UINT, .required = !current, .present = &given[1], .uint = &mib,
		  .min = GUEST_MEM_MIN >> 20, .max = API_MEM_MIB_MAX },
		{ .name = "smt", .type = JSON_BOOL, .present = &given[2], .boolean = &r.smt },
		{ .name = "track_dirty_pages", .type = JSON_BOOL, .present = &given[3], .boolean = &r.track_dirty_pages },
		{ .name = "huge_pages", .type = JSON_STRING, .present = &given[4], .str = huge_pages,
		  .str_cap = sizeof(huge_pages) },
		{ .name = "cpu_template", .type = JSON_STRING, .present = &given[5], .str = cpu_template,
		  .str_cap = sizeof(cpu_template) },
	};
	bool any = false;
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	for (size_t i = 0; i < ARRAY_SIZE(given); i++)
		any |= given[i];
	/* As Firecracker: a PATCH that changes nothing is a client's mistake. */
	if (!any)
		return errmsg_set(e, EINVAL, "no field given: name at least one of the machine configuration's");
	if (given[4] && (err = huge_pages_read(huge_pages, &r.hugepages, e)))
		return err;
	if (given[5] && strcmp(cpu_template, "None"))
		return errmsg_set(e, EINVAL, "'cpu_template': kvmini has no CPU templates; use \"None\"");
	/* Firecracker's rule: with two threads per core, every core is whole (or there is only one vCPU). */
	if (r.smt && vcpus > 1 && vcpus % 2)
		return errmsg_set(e, EINVAL, "'vcpu_count' must be 1 or even with 'smt' (two threads per core), not %llu",
				  (unsigned long long)vcpus);
	if (r.hugepages && mib % 2)
		return errmsg_set(e, EINVAL, "'mem_size_mib' must be a multiple of 2 with 2M huge pages, not %llu",
				  (unsigned long long)mib);
	r.vcpu_count = (unsigned)vcpus;
	r.mem_size_mib = mib;
	*m = r;
	return 0;
}

static int parse_machine(const char *json, size_t len, struct api_config_change *c, struct errmsg *e)
{
	return api_machine_read(json, len, NULL, (struct api_machine *)c->item, e);
}

static int put_machine(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct api_machine *m = (const struct api_machine *)c->item;
	struct vm_config *cfg = config;

	(void)e;
	cfg->nr_cpus = m->vcpu_count;
	cfg->mem_size = m->mem_size_mib << 20;
	cfg->smt = m->smt;
	cfg->track_dirty_pages = m->track_dirty_pages;
	cfg->hugepages = m->hugepages;
	return 0;
}

static void format_machine(const void *config, struct json_out *j)
{
	const struct vm_config *cfg = config;

	json_put_uint(j, "vcpu_count", cfg->nr_cpus);
	json_put_uint(j, "mem_size_mib", cfg->mem_size >> 20);
	json_put_bool(j, "smt", cfg->smt);
	json_put_bool(j, "track_dirty_pages", cfg->track_dirty_pages);
	json_put_string(j, "huge_pages", cfg->hugepages ? "2M" : "None");
}

const struct device_api api_machine_config = {
	.name = "machine-config",
	.parse = parse_machine,
	.put = put_machine,
	.format = format_machine,
};

static_assert(sizeof(struct boot_source) <= API_ITEM_MAX, "boot-source's item fits a change");

/* ---- the sections, and the model they fill ---- */

/* The core's sections; the devices' follow, in the order of their records (drives, network-interfaces). */
static const struct device_api *const core_sections[] = { &boot_source, &api_machine_config };

size_t api_sections(const struct device_api **out)
{
	const struct device_ops *devices[DEVICES_MAX];
	size_t n = 0, nr_devices = devices_registered(devices);

	for (size_t i = 0; i < ARRAY_SIZE(core_sections); i++)
		out[n++] = core_sections[i];
	for (size_t i = 0; i < nr_devices && i < DEVICES_MAX && n < API_SECTIONS_MAX; i++)
		if (devices[i]->api)
			out[n++] = devices[i]->api;
	return n;
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

/* What a section's put and format work on: the device's part of the vm_config, or for the core's the whole. */
void *api_section_config(const struct vm_config *cfg, const struct device_api *section)
{
	const struct device_ops *devices[DEVICES_MAX];
	size_t nr_devices = devices_registered(devices);

	for (size_t i = 0; i < nr_devices && i < DEVICES_MAX; i++)
		if (devices[i]->api == section)
			return device_config((struct vm_config *)cfg, devices[i]);
	return (struct vm_config *)cfg;
}

int api_config_parse(const struct device_api *section, const char *json, size_t len, struct api_config_change *c,
		     struct errmsg *e)
{
	memset(c, 0, sizeof(*c));
	c->section = section;
	return section->parse(json, len, c, e);
}

int api_config_apply(struct vm_config *cfg, const struct api_config_change *c, struct errmsg *e)
{
	return c->section->put(api_section_config(cfg, c->section), c, e);
}

int api_config_startable(const struct vm_config *cfg, struct errmsg *e)
{
	if (!cfg->kernel_path[0])
		return errmsg_set(e, EINVAL, "no kernel: PUT /boot-source with a kernel_image_path first");
	return 0;
}

int api_config_format(const struct vm_config *cfg, char *out, size_t cap)
{
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all);
	struct json_out j;

	json_out_init(&j, out, cap);
	json_object_begin(&j, NULL);
	for (size_t i = 0; i < n; i++) {
		/* A section of one object that is not configured (no balloon): null, as Firecracker shows it. */
		if (all[i]->configured && !all[i]->configured(api_section_config(cfg, all[i]))) {
			json_put_null(&j, all[i]->name);
			continue;
		}
		if (all[i]->id_field)
			json_array_begin(&j, all[i]->name);
		else
			json_object_begin(&j, all[i]->name);
		all[i]->format(api_section_config(cfg, all[i]), &j);
		if (all[i]->id_field)
			json_array_end(&j);
		else
			json_object_end(&j);
	}
	json_object_end(&j);
	return json_out_finish(&j);
}

/* ---- logger and metrics ---- */

int api_logger_read(const char *json, size_t len, struct api_logger *l, struct errmsg *e)
{
	bool has_path = false, has_level = false, has_show_level = false, has_origin = false, has_module = false;
	bool show_level = false, show_origin = false;
	const struct json_field f[] = {
		{ .name = "log_path", .type = JSON_STRING, .present = &has_path, .str = l->path,
		  .str_cap = sizeof(l->path) },
		{ .name = "level", .type = JSON_STRING, .present = &has_level, .str = l->level,
		  .str_cap = sizeof(l->level) },
		{ .name = "show_level", .type = JSON_BOOL, .present = &has_show_level, .boolean = &show_level },
		{ .name = "show_log_origin", .type = JSON_BOOL, .present = &has_origin, .boolean = &show_origin },
		{ .name = "module", .type = JSON_STRING, .present = &has_module, .str = l->module,
		  .str_cap = sizeof(l->module) },
	};
	int err;

	l->c = (struct log_file_config)LOG_FILE_CONFIG_KEEP;
	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (has_level && log_parse_level(l->level, &l->c.level))
		return errmsg_set(e, EINVAL,
				  "'level' must be one of Error, Warning, Info, Debug, Trace or Off, not \"%s\"",
				  l->level);
	l->c.path = has_path ? l->path : NULL;
	l->c.show_level = has_show_level ? show_level : -1;
	l->c.show_origin = has_origin ? show_origin : -1;
	l->c.module = has_module ? l->module : NULL;
	return 0;
}

int api_metrics_read(const char *json, size_t len, struct api_metrics *m, struct errmsg *e)
{
	const char *properties = NULL;
	size_t properties_len = 0;
	bool emit_id = false;
	const struct json_field f[] = {
		{ .name = "metrics_path", .type = JSON_STRING, .required = true, .str = m->path,
		  .str_cap = sizeof(m->path) },
		{ .name = "emit_id", .type = JSON_BOOL, .boolean = &emit_id },
		{ .name = "properties", .type = JSON_OBJECT, .object = &properties, .object_len = &properties_len },
	};
	int err;

	if ((err = json_read_object(json, len, f, ARRAY_SIZE(f), e)))
		return err;
	if (properties)
		return errmsg_set(e, EINVAL, "'properties': kvmini's metrics lines do not carry them yet");
	m->c = (struct metrics_config){ .path = m->path, .emit_id = emit_id };
	return 0;
}

/* A config file's "logger" or "metrics": read as PUT reads it, set up at once (as Firecracker does). */
static int apply_output(const struct json_item *it, bool logger, struct errmsg *e)
{
	union {
		struct api_logger l;
		struct api_metrics m;
	} u;
	int err;

	if (logger)
		err = api_logger_read(it->value, it->value_len, &u.l, e) ?: log_file_configure(&u.l.c, e);
	else
		err = api_metrics_read(it->value, it->value_len, &u.m, e) ?: metrics_open(&u.m.c, e);
	return err ? errmsg_prefix(e, EINVAL, "'%s': ", logger ? "logger" : "metrics") : 0;
}

/* ---- --config-file: each section read as its endpoint reads it ---- */

struct file_section {
	struct vm_config *cfg;
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

static bool is_null(const char *value, size_t len)
{
	return len == 4 && !memcmp(value, "null", 4);
}

static bool is_empty_list(const char *value, size_t len)
{
	if (len < 2 || value[0] != '[' || value[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!strchr(" \t\r\n", value[i]))
			return false;
	return true;
}

/* Sections of Firecracker's configuration file, which its clients may write out empty. */
static bool firecracker_section(const char *name, size_t len)
{
	static const char *const names[] = { "balloon", "cpu-config", "entropy", "logger", "memory-hotplug",
					     "metrics", "mmds-config", "pmem", "vsock" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return true;
	return false;
}

static int apply_section(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct file_section s = { .cfg = ctx, .section = api_section_find(it->key, it->key_len) };
	bool logger = it->key_len == 6 && !memcmp(it->key, "logger", 6);
	bool output = logger || (it->key_len == 7 && !memcmp(it->key, "metrics", 7));
	int err;

	if (output && !is_null(it->value, it->value_len))
		return apply_output(it, logger, e);
	/*
	 * As Firecracker, a null section is an absent one, and so is an empty
	 * list of items; either, for a section of Firecracker's kvmini does not
	 * have, asks for nothing kvmini lacks.
	 */
	if (s.section ? is_null(it->value, it->value_len) ||
				(s.section->id_field && is_empty_list(it->value, it->value_len))
		      : firecracker_section(it->key, it->key_len) &&
				(is_null(it->value, it->value_len) || is_empty_list(it->value, it->value_len)))
		return 0;
	if (!s.section)
		return errmsg_set(e, EINVAL, "section '%.*s' is not supported by kvmini (see docs/api.md)",
				  (int)(it->key_len > 64 ? 64 : it->key_len), it->key);
	err = s.section->id_field ? json_for_each(it->value, it->value_len, false, apply_item, &s, e)
				  : apply_item(&s, it, e);
	return err ? errmsg_prefix(e, -err, "'%s': ", s.section->name) : 0;
}

int api_config_parse_file(struct vm_config *cfg, const char *text, size_t len, struct errmsg *e)
{
	return json_for_each(text, len, true, apply_section, cfg, e);
}
