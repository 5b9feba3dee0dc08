// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest_mem.h"
#include "parse.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "vm_config.h"

int vm_config_parse_mem(const char *arg, uint64_t host_ram, uint64_t *mem, struct errmsg *e)
{
	int err = parse_size(arg, mem);

	if (err == -EINVAL)
		return errmsg_set(e, EINVAL, "--mem '%s': not a size (a number with K, M or G, e.g. 512M)", arg);
	if (err || *mem > host_ram)
		return errmsg_set(e, EINVAL, "--mem %s: more than this host's %llu MiB of RAM", arg,
				  (unsigned long long)(host_ram >> 20));
	if (*mem < GUEST_MEM_MIN)
		return errmsg_set(e, EINVAL, "--mem %s: below the minimum of 64M", arg);
	if (*mem & 0xfff)
		return errmsg_set(e, EINVAL, "--mem %s: not a whole number of 4 KiB pages", arg);
	return 0;
}

/* Longer option values are cut when quoted, so the reason after them still fits the message. */
#define QUOTE_MAX 60

/* Puts "--drive 'VALUE': " in front of the reason already in e. */
static int option_error(struct errmsg *e, const char *option, const char *arg)
{
	if (strlen(arg) > QUOTE_MAX)
		return errmsg_prefix(e, EINVAL, "%s '%.*s...': ", option, QUOTE_MAX - 3, arg);
	return errmsg_prefix(e, EINVAL, "%s '%s': ", option, arg);
}

/* One item of a "key=value,key=value" list; neither part is NUL-terminated. */
struct kv_item {
	const char *key, *value;
	size_t key_len, value_len;
};

/*
 * Splits the item at *pos and moves *pos past it and its comma (to NULL after
 * the last item). -EINVAL when the item has no '='.
 */
static int kv_next(const char **pos, struct kv_item *it, struct errmsg *e)
{
	const char *start = *pos, *end = strchrnul(start, ','), *eq = memchr(start, '=', (size_t)(end - start));

	*pos = *end ? end + 1 : NULL;
	if (!eq)
		return errmsg_set(e, EINVAL, "expected key=value, got '%.*s'", (int)(end - start), start);
	*it = (struct kv_item){ .key = start, .key_len = (size_t)(eq - start), .value = eq + 1,
				.value_len = (size_t)(end - eq - 1) };
	return 0;
}

/* The index of the item's key in keys[]; -EINVAL when it is unknown, or was already in *seen. */
static int kv_key(const struct kv_item *it, const char *const keys[], unsigned nr_keys, unsigned *seen,
		  struct errmsg *e)
{
	for (unsigned i = 0; i < nr_keys; i++) {
		if (strlen(keys[i]) != it->key_len || memcmp(keys[i], it->key, it->key_len))
			continue;
		if (*seen & (1u << i))
			return errmsg_set(e, EINVAL, "'%s' given twice", keys[i]);
		*seen |= 1u << i;
		return (int)i;
	}
	return errmsg_set(e, EINVAL, "unknown key '%.*s'", (int)it->key_len, it->key);
}

static bool kv_value_is(const struct kv_item *it, const char *s)
{
	return strlen(s) == it->value_len && !memcmp(s, it->value, it->value_len);
}

/* A value that is one of two words: `no` gives false, `yes` true. */
static int kv_choice(const struct kv_item *it, const char *no, const char *yes, bool *out, struct errmsg *e)
{
	if (kv_value_is(it, no) || kv_value_is(it, yes)) {
		*out = kv_value_is(it, yes);
		return 0;
	}
	return errmsg_set(e, EINVAL, "%.*s '%.*s': must be %s or %s", (int)it->key_len, it->key, (int)it->value_len,
			  it->value, no, yes);
}

/* Copies the value into a char[size] as a string; -EINVAL when it is empty or does not fit. */
static int kv_string(const struct kv_item *it, char *dst, size_t size, struct errmsg *e)
{
	if (!it->value_len)
		return errmsg_set(e, EINVAL, "empty %.*s", (int)it->key_len, it->key);
	if (it->value_len >= size)
		return errmsg_set(e, EINVAL, "%.*s longer than %zu characters", (int)it->key_len, it->key, size - 1);
	memcpy(dst, it->value, it->value_len);
	dst[it->value_len] = '\0';
	return 0;
}

enum { DRIVE_PATH, DRIVE_READONLY, DRIVE_CACHE, DRIVE_ID, DRIVE_KEYS };
static const char *const drive_keys[DRIVE_KEYS] = { "path", "readonly", "cache", "id" };

static int parse_drive(const char *arg, struct drive_config *d, struct errmsg *e)
{
	unsigned seen = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, drive_keys, DRIVE_KEYS, &seen, e)) < 0)
			return err ? err : key;
		switch (key) {
		case DRIVE_PATH:
			err = kv_string(&it, d->path, sizeof(d->path), e);
			break;
		case DRIVE_READONLY:
			err = kv_choice(&it, "off", "on", &d->readonly, e);
			break;
		case DRIVE_CACHE:
			err = kv_choice(&it, "writeback", "none", &d->direct, e);
			break;
		case DRIVE_ID:
			err = kv_string(&it, d->id, sizeof(d->id), e);
			/* The guest shows it as the disk's serial (/sys/block/vda/serial, /dev/disk/by-id). */
			for (const char *c = d->id; !err && *c; c++)
				if (!isgraph((unsigned char)*c))
					err = errmsg_set(e, EINVAL, "id '%s': printable characters only, no spaces",
							 d->id);
			break;
		}
	}
	if (!err && !(seen & (1u << DRIVE_PATH)))
		err = errmsg_set(e, EINVAL, "missing path= (e.g. --drive path=disk.img)");
	return err;
}

int vm_config_add_drive(struct vm_config *vm, const char *arg, struct errmsg *e)
{
	struct blk_config *cfg = blk_config_of(vm);
	struct drive_config d = { .readonly = false };
	int err;

	if (cfg->nr_drives == BLK_MAX_DRIVES)
		return errmsg_set(e, EINVAL, "--drive: at most %d drives", BLK_MAX_DRIVES);
	if ((err = parse_drive(arg, &d, e)))
		return option_error(e, "--drive", arg);
	if (!d.id[0])
		snprintf(d.id, sizeof(d.id), "drive%u", cfg->nr_drives);
	cfg->drives[cfg->nr_drives++] = d;
	return 0;
}

/* What Linux accepts as an interface name (dev_valid_name), so a bad one fails here and not at TUNSETIFF. */
static int check_ifname(const char *name, struct errmsg *e)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return errmsg_set(e, EINVAL, "tap '%s': not an interface name", name);
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return errmsg_set(e, EINVAL, "tap '%s': no '/', ':' or spaces in an interface name", name);
	return 0;
}

static int hex_digit(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static int parse_mac(const struct kv_item *it, uint8_t mac[6], struct errmsg *e)
{
	const char *v = it->value;
	uint8_t any = 0;

	for (unsigned i = 0; i < 6; i++, v += 3) {
		if (it->value_len != 17 || !isxdigit((unsigned char)v[0]) || !isxdigit((unsigned char)v[1]) ||
		    (i < 5 && v[2] != ':'))
			return errmsg_set(e, EINVAL, "mac '%.*s': not six hex pairs like 52:54:00:12:34:56",
					  (int)it->value_len, it->value);
		mac[i] = (uint8_t)(hex_digit(v[0]) << 4 | hex_digit(v[1]));
		any |= mac[i];
	}
	if (mac[0] & 1)
		return errmsg_set(e, EINVAL, "mac '%.*s': a multicast address (the first byte must be even)",
				  (int)it->value_len, it->value);
	if (!any)
		return errmsg_set(e, EINVAL, "mac '%.*s': all zeros", (int)it->value_len, it->value);
	return 0;
}

enum { NET_TAP, NET_MAC, NET_KEYS };
static const char *const net_keys[NET_KEYS] = { "tap", "mac" };

static int parse_net(const char *arg, struct net_config *n, struct errmsg *e)
{
	unsigned seen = 0;
	int key, err = 0;

	for (const char *pos = *arg ? arg : NULL; pos && !err;) {
		struct kv_item it;

		if ((err = kv_next(&pos, &it, e)) || (key = kv_key(&it, net_keys, NET_KEYS, &seen, e)) < 0)
			return err ? err : key;
		switch (key) {
		case NET_TAP:
			if (!(err = kv_string(&it, n->tap, sizeof(n->tap), e)))
				err = check_ifname(n->tap, e);
			break;
		case NET_MAC:
			err = parse_mac(&it, n->mac, e);
			n->mac_set = true;
			break;
		}
	}
	if (!err && !(seen & (1u << NET_TAP)))
		err = errmsg_set(e, EINVAL, "missing tap= (e.g. --net tap=tap0)");
	return err;
}

int vm_config_parse_net(const char *arg, struct net_config *n, struct errmsg *e)
{
	*n = (struct net_config){ .mac_set = false };
	return parse_net(arg, n, e) ? option_error(e, "--net", arg) : 0;
}

int vm_config_add_net(struct vm_config *vm, const char *arg, struct errmsg *e)
{
	struct net_configs *cfg = net_config_of(vm);
	struct net_config n;

	if (cfg->nr == NET_MAX_INTERFACES)
		return errmsg_set(e, EINVAL, "--net: at most %d interfaces", NET_MAX_INTERFACES);
	if (vm_config_parse_net(arg, &n, e))
		return -EINVAL;
	for (unsigned i = 0; i < cfg->nr; i++) {
		if (!strcmp(cfg->nets[i].tap, n.tap)) {
			errmsg_set(e, EINVAL, "tap '%s' is already used by another --net", n.tap);
			return option_error(e, "--net", arg);
		}
		if (n.mac_set && cfg->nets[i].mac_set && !memcmp(cfg->nets[i].mac, n.mac, sizeof(n.mac))) {
			errmsg_set(e, EINVAL, "mac already used by another --net");
			return option_error(e, "--net", arg);
		}
	}
	/* The API's name for it, as GET /vm/config shows a `run` configuration. */
	snprintf(n.id, sizeof(n.id), "net%u", cfg->nr);
	cfg->nets[cfg->nr++] = n;
	return 0;
}

int vm_config_parse_transport(const char *arg, enum virtio_transport_kind *transport, struct errmsg *e)
{
	if (!strcmp(arg, "pci"))
		*transport = VIRTIO_TRANSPORT_PCI;
	else if (!strcmp(arg, "mmio"))
		*transport = VIRTIO_TRANSPORT_MMIO;
	else
		return errmsg_set(e, EINVAL, "--transport '%s': must be pci or mmio", arg);
	return 0;
}

int vm_config_parse_console(const char *arg, bool *virtio_console, struct errmsg *e)
{
	if (!strcmp(arg, "serial"))
		*virtio_console = false;
	else if (!strcmp(arg, "virtio"))
		*virtio_console = true;
	else
		return errmsg_set(e, EINVAL, "--console '%s': must be serial or virtio", arg);
	return 0;
}

int vm_config_parse_nested(const char *arg, bool *nested, struct errmsg *e)
{
	if (!strcmp(arg, "off"))
		*nested = false;
	else if (!strcmp(arg, "on"))
		*nested = true;
	else
		return errmsg_set(e, EINVAL, "--nested '%s': must be on or off", arg);
	return 0;
}
