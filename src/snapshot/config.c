// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot's configuration section (include/snapshot/snapshot.h): the
 * machine's fields that GET /vm/config does not show, then the text of GET
 * /vm/config itself, which a restore applies as a config file is applied
 * (api_config_parse_file), so one parser and its checks serve both: a drive
 * whose file is gone is refused as a PUT /drives of it would be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/config.h"
#include "api/json.h"
#include "guest_mem.h"
#include "snapshot/snapshot.h"
#include "virtio/vsock.h"

/* Where the text of the configuration starts; it grows up to the most a state file holds. */
#define CONFIG_TEXT_FIRST (16u << 10)

/* The text of GET /vm/config in a buffer of its own (NULL with *len the error). */
static char *config_text(const struct vm_config *cfg, int *len)
{
	for (size_t cap = CONFIG_TEXT_FIRST; cap <= SNAPSHOT_STATE_MAX; cap *= 2) {
		char *text = malloc(cap);

		if (!text) {
			*len = -ENOMEM;
			return NULL;
		}
		*len = api_config_format(cfg, text, cap);
		if (*len >= 0)
			return text;
		free(text);
		if (*len != -ENOSPC)
			return NULL;
	}
	return NULL;
}

void snapshot_config_write(const struct vm_config *cfg, struct state_writer *w)
{
	int len;
	char *text = config_text(cfg, &len);

	if (!text) {
		if (!w->err)
			w->err = len;
		return;
	}
	state_put_u8(w, (uint8_t)cfg->transport);
	state_put_bool(w, cfg->acpi);
	state_put_bool(w, cfg->mmio_cmdline);
	state_put_bool(w, cfg->mptable_too);
	state_put_bool(w, cfg->nested);
	/* machine-config shows whole MiB; `kvmini run --mem` takes any number of pages. */
	state_put_u64(w, cfg->mem_size);
	state_put_u32(w, (uint32_t)len);
	state_put_bytes(w, text, (size_t)len);
	free(text);
}

/*
 * The saved VM's listener is still at its uds path if that process was
 * killed (only an orderly exit removes it): the restored device must bind
 * there again, and kvmini replaces nothing it did not make.
 */
static int check_vsock_uds(const struct vm_config *cfg, struct errmsg *e)
{
	const struct vsock_config *v = vsock_config_of_const(cfg);
	struct stat st;

	if (!v->cid || lstat(v->uds, &st))
		return 0;
	return errmsg_set(e, EINVAL, "vsock uds '%s' exists: the restored VM listens there again; remove it first "
			  "(the saved VM's, if that VM is gone)", v->uds);
}

/*
 * A config file may also set up the process's log and metrics files, at
 * once; a snapshot is untrusted input and only describes a VM: those are
 * refused before anything is applied.
 */
static int refuse_output(void *ctx, const struct json_item *it, struct errmsg *e)
{
	(void)ctx;
	if ((it->key_len == 6 && !memcmp(it->key, "logger", 6)) || (it->key_len == 7 && !memcmp(it->key, "metrics", 7)))
		return errmsg_set(e, EINVAL, "'%.*s' is not part of a VM's configuration", (int)it->key_len, it->key);
	return 0;
}

/* The fields before the text, checked; the text itself in *text and *text_len. */
static int read_machine(struct state_reader *r, struct vm_config *cfg, const char **text, uint32_t *text_len,
			struct errmsg *e)
{
	uint8_t transport = state_get_u8(r, "transport");
	bool acpi = state_get_bool(r, "acpi");
	bool mmio_cmdline = state_get_bool(r, "mmio_cmdline");
	bool mptable_too = state_get_bool(r, "mptable_too");
	bool nested = state_get_bool(r, "nested");
	uint64_t mem_size = state_get_u64(r, "mem_size");

	*text_len = state_get_u32(r, "text length");
	if (state_ok(r) && transport != VIRTIO_TRANSPORT_PCI && transport != VIRTIO_TRANSPORT_MMIO)
		state_invalid(r, "transport", "%u is neither pci (%d) nor mmio (%d)", transport, VIRTIO_TRANSPORT_PCI,
			      VIRTIO_TRANSPORT_MMIO);
	if (state_ok(r) && (mem_size < GUEST_MEM_MIN || mem_size % GUEST_PAGE_SIZE))
		state_invalid(r, "mem_size", "%llu bytes: not whole pages of at least %llu MiB",
			      (unsigned long long)mem_size, GUEST_MEM_MIN >> 20);
	if (state_ok(r) && *text_len > r->len - r->pos)
		state_invalid(r, "text", "truncated: %u bytes, %zu left", *text_len, r->len - r->pos);
	*text = state_ok(r) ? (const char *)r->data + r->pos : NULL;
	if (state_ok(r))
		r->pos += *text_len;
	if (state_reader_done(r, e))
		return -EINVAL;
	cfg->transport = transport;
	cfg->acpi = acpi;
	cfg->mmio_cmdline = mmio_cmdline;
	cfg->mptable_too = mptable_too;
	cfg->nested = nested;
	cfg->mem_size = mem_size;
	return 0;
}

int snapshot_config_read(const void *data, size_t len, uint16_t version, struct vm_config *cfg, struct errmsg *e)
{
	struct vm_config *next;
	struct state_reader r;
	const char *text;
	uint32_t text_len;
	uint64_t mem_size;
	int err;

	if (version != SNAPSHOT_CONFIG_VERSION)
		return errmsg_set(e, EINVAL, "configuration: version %u, this build reads version %d", version,
				  SNAPSHOT_CONFIG_VERSION);
	/* Applied to a copy: a section refused half way leaves cfg as it was. */
	next = malloc(sizeof(*next));
	if (!next)
		return errmsg_set(e, ENOMEM, "configuration: out of memory");
	memcpy(next, cfg, sizeof(*next));
	state_reader_init(&r, data, len, "configuration");
	if ((err = read_machine(&r, next, &text, &text_len, e)))
		goto out;
	mem_size = next->mem_size;
	/* Every path in it was named by a client once (or on kvmini's command line): as a client's now. */
	next->paths_from_api = true;
	/* A file gone (-ENOENT) or the like is the snapshot's not fitting this host: -EINVAL as any other. */
	if ((err = json_for_each(text, text_len, true, refuse_output, NULL, e)) ||
	    (err = api_config_parse_file(next, text, text_len, e))) {
		err = errmsg_prefix(e, err == -ENOMEM ? ENOMEM : EINVAL, "configuration: ");
		goto out;
	}
	if (next->mem_size >> 20 != mem_size >> 20) {
		err = errmsg_set(e, EINVAL, "configuration: machine-config has %llu MiB, the VM had %llu bytes",
				 (unsigned long long)(next->mem_size >> 20), (unsigned long long)mem_size);
		goto out;
	}
	next->mem_size = mem_size;
	if ((err = check_vsock_uds(next, e)))
		goto out;
	memcpy(cfg, next, sizeof(*cfg));
out:
	free(next);
	return err;
}
