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

int api_machine_read(const char *json, size_t len, const struct api_machine *current, struct api_machine *m,
		     struct errmsg *e)
{
	uint64_t vcpus = current ? current->vcpu_count : 0, mib = current ? current->mem_size_mib : 0;
	bool smt = false;
	const struct json_field f[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .required = !current, .uint = &vcpus, .min = 1,
		  .max = VM_MAX_CPUS },
		{ .name = "mem_size_mib", .type = JSON_UINT, .required = !current, .uint = &mib,
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
	return 0;
}

static void format_machine(const void *config, struct json_out *j)
{
	const struct vm_config *cfg = config;

	json_put_uint(j, "vcpu_count", cfg->nr_cpus);
	json_put_uint(j, "mem_size_mib", cfg->mem_size >> 20);
	json_put_bool(j, "smt", false);
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
		if (all[i]->absent && all[i]->absent(api_section_config(cfg, all[i]))) {
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

static int apply_section(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct file_section s = { .cfg = ctx, .section = api_section_find(it->key, it->key_len) };
	int err;

	if (!s.section)
		return errmsg_set(e, EINVAL, "section '%.*s' is not supported by kvmini (see docs/api.md)",
				  (int)(it->key_len > 64 ? 64 : it->key_len), it->key);
	/* Firecracker reads a null section as an absent one. */
	if (it->value_len == 4 && !memcmp(it->value, "null", 4))
		return 0;
	err = s.section->id_field ? json_for_each(it->value, it->value_len, false, apply_item, &s, e)
				  : apply_item(&s, it, e);
	return err ? errmsg_prefix(e, -err, "'%s': ", s.section->name) : 0;
}

int api_config_parse_file(struct vm_config *cfg, const char *text, size_t len, struct errmsg *e)
{
	return json_for_each(text, len, true, apply_section, cfg, e);
}
