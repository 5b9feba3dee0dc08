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

static int put_boot_source(void *config, const struct api_config_change *c, struct errmsg *e)
{
	const struct boot_source *b = (const struct boot_source *)c->item;
	struct api_config *cfg = config;

	(void)e;
	/* The same sizes, NUL-terminated by the reader. */
	memcpy(cfg->kernel_path, b->kernel_path, sizeof(cfg->kernel_path));
	memcpy(cfg->initrd_path, b->initrd_path, sizeof(cfg->initrd_path));
	memcpy(cfg->boot_args, b->boot_args, sizeof(cfg->boot_args));
	return 0;
}

static void format_boot_source(const void *config, struct json_out *j)
{
	const struct api_config *cfg = config;

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
	struct api_config *cfg = config;

	(void)e;
	cfg->vm.nr_cpus = m->vcpu_count;
	cfg->vm.mem_size = m->mem_size_mib << 20;
	return 0;
}

static void format_machine(const void *config, struct json_out *j)
{
	const struct api_config *cfg = config;

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
static void *section_config(const struct api_config *cfg, const struct device_api *section)
{
	const struct device_ops *devices[DEVICES_MAX];
	size_t nr_devices = devices_registered(devices);

	for (size_t i = 0; i < nr_devices && i < DEVICES_MAX; i++)
		if (devices[i]->api == section)
			return device_config((struct vm_config *)&cfg->vm, devices[i]);
	return (struct api_config *)cfg;
}

void api_config_init(struct api_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm.mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
	cfg->vm.nr_cpus = 1;
	cfg->vm.acpi = true;
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
	return c->section->put(section_config(cfg, c->section), c, e);
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
}

int api_config_to_vm(const struct api_config *cfg, struct vm_config *vm, char *cmdline_buf, size_t cmdline_size,
		     struct errmsg *e)
{
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all), len;
	char param[API_PARAM_MAX];
	int added;

	if (!cfg->kernel_path[0])
		return errmsg_set(e, EINVAL, "no kernel: PUT /boot-source with a kernel_image_path first");
	*vm = cfg->vm;
	vm->kernel_path = cfg->kernel_path;
	vm->initrd_path = cfg->initrd_path[0] ? cfg->initrd_path : NULL;
	vm->paths_from_api = true;
	added = snprintf(cmdline_buf, cmdline_size, "%s", cfg->boot_args);
	/* Then what the sections' items ask the kernel for (the root drive's root=/dev/vdX rw|ro). */
	for (size_t i = 0; i < n && added >= 0 && (size_t)added < cmdline_size; i++) {
		len = (size_t)added;
		if (all[i]->boot_args && all[i]->boot_args(section_config(cfg, all[i]), param, sizeof(param)) > 0)
			added = (int)len + snprintf(cmdline_buf + len, cmdline_size - len, "%s%s", len ? " " : "", param);
	}
	if (added < 0 || (size_t)added >= cmdline_size)
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
		all[i]->format(section_config(cfg, all[i]), &j);
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
