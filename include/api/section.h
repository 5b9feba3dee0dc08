/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A section of the VM's configuration as the API and the config file take
 * it, under Firecracker's names: PUT /boot-source or PUT /drives/{id} sets
 * one item, a config file's "boot-source": {...} or "drives": [...] sets the
 * same items through the same functions, and GET /vm/config shows them in
 * that shape. The router and the config file reader only iterate the
 * sections (api_sections); neither names one.
 */
#ifndef KVMINI_API_SECTION_H
#define KVMINI_API_SECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

#define API_ID_MAX 64
/* The largest item a section reads (boot-source's three strings, as long as the vm_config's). */
#define API_ITEM_MAX 12288

struct json_out;
struct device_api;

/* One item, read and checked on its own but not yet against the rest of the configuration. */
struct api_config_change {
	const struct device_api *section;
	char id[API_ID_MAX]; /* a list section's item: its id ("drive_id"); else "" */
	char sub[16];        /* a PATCH of the section's sub-resource (/balloon/statistics): its name; else "" */
	_Alignas(16) unsigned char item[API_ITEM_MAX]; /* what the section's parse wrote, in its own type */
};

/*
 * A section: the core's two (boot-source, machine-config: src/api/config.c)
 * and a device's, named by its record (include/device.h), whose items live
 * in the device's part of the vm_config. `config` below is that part, or
 * for the core's sections the whole struct vm_config.
 */
struct device_api {
	const char *name;     /* "drives": the config file's key; the path /drives/{id}, or /NAME for one object */
	const char *id_field; /* "drive_id": the section is a list of items named by it; NULL: one object */
	/* One item from its JSON text into c->item (and c->id); -EINVAL with the client's message. */
	int (*parse)(const char *json, size_t len, struct api_config_change *c, struct errmsg *e);
	/* Puts the item into config, checked against the rest (a second root drive): -EINVAL, config unchanged. */
	int (*put)(void *config, const struct api_config_change *c, struct errmsg *e);
	/* Its part of GET /vm/config: the members of its object, or the elements of its array. */
	void (*format)(const void *config, struct json_out *j);

	/*
	 * Optional: PATCH /NAME, /NAME/{id} or /NAME/SUB (c->id and c->sub set
	 * from the path first) on the running VM: the fields given into c->item,
	 * for the running device's api_patch (include/device.h). As in
	 * Firecracker, only after InstanceStart (before it: 400), and a body
	 * that changes nothing is an error.
	 */
	int (*parse_patch)(const char *json, size_t len, struct api_config_change *c, struct errmsg *e);
	/* Optional: the same PATCH applied to config once the device took it, so GET /vm/config shows it. */
	int (*patch_config)(void *config, const struct api_config_change *c, struct errmsg *e);
	/*
	 * GET /NAME (and /NAME/SUB) is answered: by the running device's api_get,
	 * or before the start from format (a sub-resource then: 400).
	 */
	bool gettable;
	/* Optional: a sub-resource /NAME/SUB taking GET and PATCH (the balloon's "statistics"). */
	const char *sub;
	/*
	 * Optional, for a section of one object that may not be configured at
	 * all (vsock): whether it is not; GET /vm/config then shows null, as
	 * Firecracker does and as a config file takes it.
	 */
	bool (*absent)(const void *config);
};

/* The sections in GET /vm/config's order. Returns how many; out has room for API_SECTIONS_MAX. */
#define API_SECTIONS_MAX 16
size_t api_sections(const struct device_api **out);

/* The section named name[0, len), or NULL. */
const struct device_api *api_section_find(const char *name, size_t len);

#endif
