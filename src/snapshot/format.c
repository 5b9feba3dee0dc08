// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/format.h"

static const char magic[8] = { 'K', 'V', 'M', 'I', 'N', 'I', 'S', 'N' };

/* magic, version, flags, total length, section count, reserved */
#define HEADER_LEN 32
/* kind, version, index, offset, length */
#define ENTRY_LEN 24
#define CRC_LEN 4
/* function, index, flags, eax, ebx, ecx, edx */
#define CPUID_ENTRY_LEN 28

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_fill(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int bit = 0; bit < 8; bit++)
			c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0); /* Castagnoli's polynomial, reflected */
		crc_table[i] = c;
	}
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc_table_once, crc_table_fill);
	crc = ~crc;
	while (len--)
		crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xff];
	return ~crc;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case SNAPSHOT_CPUID: return "cpuid";
	case SNAPSHOT_MSR_LIST: return "msr-list";
	case SNAPSHOT_XSAVE_SIZE: return "xsave-size";
	case SNAPSHOT_VCPU: return "vcpu";
	case SNAPSHOT_VM: return "vm";
	case SNAPSHOT_DEVICES: return "devices";
	case SNAPSHOT_CONFIG: return "config";
	}
	return NULL;
}

void snapshot_writer_init(struct snapshot_writer *w)
{
	memset(w, 0, sizeof(*w));
	state_writer_init(&w->data);
}

void snapshot_writer_free(struct snapshot_writer *w)
{
	state_writer_free(&w->data);
	free(w->sections);
	memset(w, 0, sizeof(*w));
}

void snapshot_add(struct snapshot_writer *w, enum snapshot_kind kind, uint32_t index, uint16_t version,
		  const void *bytes, size_t len)
{
	if (w->err)
		return;
	if (w->nr == w->cap) {
		unsigned cap = w->cap ? 2 * w->cap : 16;
		struct snapshot_section *grown = realloc(w->sections, cap * sizeof(*grown));

		if (!grown) {
			w->err = -ENOMEM;
			return;
		}
		w->sections = grown;
		w->cap = cap;
	}
	/* The offset is into the data for now: finish moves it past the header and table. */
	w->sections[w->nr++] = (struct snapshot_section){
		.kind = kind, .version = version, .index = index, .offset = w->data.len, .len = len
	};
	state_put_bytes(&w->data, bytes, len);
	w->err = w->data.err;
}

void snapshot_add_cpuid(struct snapshot_writer *w, const struct kvm_cpuid_entry2 *entries, unsigned nent)
{
	struct state_writer s;

	state_writer_init(&s);
	for (unsigned i = 0; i < nent; i++) {
		state_put_u32(&s, entries[i].function);
		state_put_u32(&s, entries[i].index);
		state_put_u32(&s, entries[i].flags);
		state_put_u32(&s, entries[i].eax);
		state_put_u32(&s, entries[i].ebx);
		state_put_u32(&s, entries[i].ecx);
		state_put_u32(&s, entries[i].edx);
	}
	if (s.err && !w->err)
		w->err = s.err;
	snapshot_add(w, SNAPSHOT_CPUID, 0, 1, s.buf, s.len);
	state_writer_free(&s);
}

void snapshot_add_msr_list(struct snapshot_writer *w, const uint32_t *indices, unsigned nr)
{
	struct state_writer s;

	state_writer_init(&s);
	for (unsigned i = 0; i < nr; i++)
		state_put_u32(&s, indices[i]);
	if (s.err && !w->err)
		w->err = s.err;
	snapshot_add(w, SNAPSHOT_MSR_LIST, 0, 1, s.buf, s.len);
	state_writer_free(&s);
}

void snapshot_add_xsave_size(struct snapshot_writer *w, uint32_t size)
{
	uint8_t le[4] = { size, size >> 8, size >> 16, size >> 24 };

	snapshot_add(w, SNAPSHOT_XSAVE_SIZE, 0, 1, le, sizeof(le));
}

/* The first section in [0, nr) given twice, or -1. */
static int find_duplicate(const struct snapshot_section *sections, unsigned nr, unsigned *first)
{
	for (unsigned i = 0; i < nr; i++)
		for (unsigned j = 0; j < i; j++)
			if (sections[i].kind == sections[j].kind && sections[i].index == sections[j].index) {
				*first = j;
				return i;
			}
	return -1;
}

int snapshot_finish(struct snapshot_writer *w, struct state_writer *out, struct errmsg *e)
{
	uint64_t data_start = HEADER_LEN + (uint64_t)w->nr * ENTRY_LEN;
	unsigned first;
	int dup;

	if (w->err) /* only an allocation fails before here */
		return errmsg_set(e, ENOMEM, "out of memory");
	if (w->nr > SNAPSHOT_MAX_SECTIONS)
		return errmsg_set(e, EINVAL, "%u sections, a snapshot holds at most %u", w->nr,
				  SNAPSHOT_MAX_SECTIONS);
	dup = find_duplicate(w->sections, w->nr, &first);
	if (dup >= 0)
		return errmsg_set(e, EINVAL, "section %s %u added twice", kind_name(w->sections[dup].kind),
				  w->sections[dup].index);
	state_put_bytes(out, magic, sizeof(magic));
	state_put_u32(out, SNAPSHOT_FORMAT_VERSION);
	state_put_u32(out, 0);
	state_put_u64(out, data_start + w->data.len + CRC_LEN);
	state_put_u32(out, w->nr);
	state_put_u32(out, 0);
	for (unsigned i = 0; i < w->nr; i++) {
		state_put_u16(out, w->sections[i].kind);
		state_put_u16(out, w->sections[i].version);
		state_put_u32(out, w->sections[i].index);
		state_put_u64(out, data_start + w->sections[i].offset);
		state_put_u64(out, w->sections[i].len);
	}
	state_put_bytes(out, w->data.buf, w->data.len);
	/* out may hold something before the file: the CRC covers only the file. */
	if (!out->err) {
		size_t file_len = data_start + w->data.len;

		state_put_u32(out, crc32c(0, out->buf + out->len - file_len, file_len));
	}
	return out->err ? errmsg_set(e, ENOMEM, "out of memory") : 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct snapshot_section *x = *(const struct snapshot_section *const *)a;
	const struct snapshot_section *y = *(const struct snapshot_section *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* An empty section shares its offset with the next one: it goes first, so the two do not overlap. */
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Sections may come in any order in the table, but no two share a byte. */
static int check_overlap(const struct snapshot *s, struct errmsg *e)
{
	const struct snapshot_section **order = malloc((s->nr ? s->nr : 1) * sizeof(*order));
	int ret = 0;

	if (!order)
		return errmsg_set(e, ENOMEM, "out of memory");
	for (unsigned i = 0; i < s->nr; i++)
		order[i] = &s->sections[i];
	qsort(order, s->nr, sizeof(*order), by_offset);
	for (unsigned i = 1; i < s->nr && !ret; i++)
		if (order[i]->offset < order[i - 1]->offset + order[i - 1]->len)
			ret = errmsg_set(e, EINVAL, "section %s %u overlaps section %s %u",
					 kind_name(order[i]->kind), order[i]->index, kind_name(order[i - 1]->kind),
					 order[i - 1]->index);
	free(order);
	return ret;
}

int snapshot_parse(const void *blob, size_t len, struct snapshot *s, struct errmsg *e)
{
	struct state_reader r;
	uint32_t version, nr, want_crc, crc;
	uint64_t total, table_end, data_end;
	unsigned first;
	int dup, ret;

	memset(s, 0, sizeof(*s));
	if (memcmp(blob, magic, len < sizeof(magic) ? len : sizeof(magic)))
		return errmsg_set(e, EINVAL, "not a kvmini snapshot (bad magic)");
	if (len < HEADER_LEN + CRC_LEN)
		return errmsg_set(e, EINVAL, "truncated: %zu bytes, shorter than the header", len);
	/* Every read below is inside the bounds just checked, so the reader cannot fail. */
	state_reader_init(&r, blob, len, "snapshot");
	r.pos = sizeof(magic);
	version = state_get_u32(&r, "version");
	s->flags = state_get_u32(&r, "flags");
	total = state_get_u64(&r, "length");
	nr = state_get_u32(&r, "sections");
	if (version != SNAPSHOT_FORMAT_VERSION)
		return errmsg_set(e, EINVAL, "format version %u, this build reads version %u", version,
				  SNAPSHOT_FORMAT_VERSION);
	if (s->flags)
		return errmsg_set(e, EINVAL, "unknown flags 0x%x", s->flags);
	if (total > len)
		return errmsg_set(e, EINVAL, "truncated: %zu bytes of %llu", len, (unsigned long long)total);
	if (total < len)
		return errmsg_set(e, EINVAL, "%llu bytes after the end of the snapshot",
				  (unsigned long long)(len - total));
	data_end = len - CRC_LEN;
	r.pos = data_end;
	want_crc = state_get_u32(&r, "crc");
	crc = crc32c(0, blob, data_end);
	if (crc != want_crc)
		return errmsg_set(e, EINVAL, "CRC32C mismatch: the file says 0x%08x, its contents give 0x%08x",
				  want_crc, crc);
	if (nr > SNAPSHOT_MAX_SECTIONS)
		return errmsg_set(e, EINVAL, "%u sections, a snapshot holds at most %u", nr, SNAPSHOT_MAX_SECTIONS);
	table_end = HEADER_LEN + (uint64_t)nr * ENTRY_LEN;
	if (table_end > data_end)
		return errmsg_set(e, EINVAL, "the table of %u sections runs past the end", nr);
	s->sections = calloc(nr ? nr : 1, sizeof(*s->sections));
	if (!s->sections)
		return errmsg_set(e, ENOMEM, "out of memory");
	s->nr = nr;
	r.pos = HEADER_LEN;
	for (unsigned i = 0; i < nr; i++) {
		struct snapshot_section *sec = &s->sections[i];

		sec->kind = state_get_u16(&r, "kind");
		sec->version = state_get_u16(&r, "version");
		sec->index = state_get_u32(&r, "index");
		sec->offset = state_get_u64(&r, "offset");
		sec->len = state_get_u64(&r, "length");
		if (!kind_name(sec->kind)) {
			ret = errmsg_set(e, EINVAL, "section %u: unknown kind %u", i, sec->kind);
			goto fail;
		}
		if (sec->offset < table_end || sec->offset > data_end || sec->len > data_end - sec->offset) {
			ret = errmsg_set(e, EINVAL, "section %s %u: bytes [%llu, +%llu) outside the data [%llu, %llu)",
					 kind_name(sec->kind), sec->index, (unsigned long long)sec->offset,
					 (unsigned long long)sec->len, (unsigned long long)table_end,
					 (unsigned long long)data_end);
			goto fail;
		}
		sec->data = (const uint8_t *)blob + sec->offset;
	}
	dup = find_duplicate(s->sections, nr, &first);
	if (dup >= 0) {
		ret = errmsg_set(e, EINVAL, "section %s %u given twice (entries %u and %d)",
				 kind_name(s->sections[dup].kind), s->sections[dup].index, first, dup);
		goto fail;
	}
	ret = check_overlap(s, e);
	if (ret)
		goto fail;
	return 0;
fail:
	snapshot_free(s);
	return ret;
}

void snapshot_free(struct snapshot *s)
{
	free(s->sections);
	memset(s, 0, sizeof(*s));
}

const struct snapshot_section *snapshot_find(const struct snapshot *s, enum snapshot_kind kind, uint32_t index)
{
	for (unsigned i = 0; i < s->nr; i++)
		if (s->sections[i].kind == kind && s->sections[i].index == index)
			return &s->sections[i];
	return NULL;
}

enum cpuid_reg { EAX, EBX, ECX, EDX };

/*
 * The CPUID registers that are feature bits: the host must offer every bit
 * the VM saw there. Others hold sizes, topology and identity, which KVM lets
 * kvmini set as it likes. Bits in `dynamic` follow the guest's own state
 * (OSXSAVE, OSPKE) or are set by kvmini (the hypervisor bit), so
 * KVM_GET_SUPPORTED_CPUID may not show them.
 */
static const struct {
	uint32_t function, index;
	enum cpuid_reg reg;
	uint32_t dynamic;
} feature_regs[] = {
	{ 1, 0, ECX, 1u << 27 | 1u << 31 },
	{ 1, 0, EDX, 0 },
	{ 7, 0, EBX, 0 },
	{ 7, 0, ECX, 1u << 4 },
	{ 7, 0, EDX, 0 },
	{ 7, 1, EAX, 0 },
	{ 0xd, 1, EAX, 0 },
	{ 0x80000001, 0, ECX, 0 },
	{ 0x80000001, 0, EDX, 0 },
	{ 0x80000008, 0, EBX, 0 },
};

static uint32_t cpuid_reg_of(const struct kvm_cpuid_entry2 *entry, enum cpuid_reg reg)
{
	const uint32_t regs[] = { entry->eax, entry->ebx, entry->ecx, entry->edx };

	return regs[reg];
}

static const struct kvm_cpuid_entry2 *host_leaf(const struct snapshot_host *host, uint32_t function,
						uint32_t index)
{
	for (unsigned i = 0; i < host->nr_cpuid; i++)
		if (host->cpuid[i].function == function && host->cpuid[i].index == index)
			return &host->cpuid[i];
	return NULL;
}

/* The compatibility section of this kind, at version 1, its length a multiple of unit; or NULL with e set. */
static const struct snapshot_section *compat_section(const struct snapshot *s, enum snapshot_kind kind,
						     size_t unit, struct errmsg *e)
{
	const struct snapshot_section *sec = snapshot_find(s, kind, 0);

	if (!sec)
		errmsg_set(e, EINVAL, "no %s section", kind_name(kind));
	else if (sec->version != 1)
		errmsg_set(e, EINVAL, "%s section version %u, this build reads version 1", kind_name(kind),
			   sec->version);
	else if (sec->len % unit)
		errmsg_set(e, EINVAL, "%s section of %llu bytes, not a whole number of %zu-byte entries",
			   kind_name(kind), (unsigned long long)sec->len, unit);
	else
		return sec;
	return NULL;
}

static int check_cpuid(const struct snapshot *s, const struct snapshot_host *host, struct errmsg *e)
{
	static const char reg_names[][4] = { "EAX", "EBX", "ECX", "EDX" };
	const struct snapshot_section *sec = compat_section(s, SNAPSHOT_CPUID, CPUID_ENTRY_LEN, e);
	struct state_reader r;

	if (!sec)
		return -EINVAL;
	state_reader_init(&r, sec->data, sec->len, "snapshot cpuid");
	for (uint64_t n = sec->len / CPUID_ENTRY_LEN; n; n--) {
		struct kvm_cpuid_entry2 saved = { 0 };
		const struct kvm_cpuid_entry2 *offered;

		saved.function = state_get_u32(&r, "function");
		saved.index = state_get_u32(&r, "index");
		saved.flags = state_get_u32(&r, "flags");
		saved.eax = state_get_u32(&r, "eax");
		saved.ebx = state_get_u32(&r, "ebx");
		saved.ecx = state_get_u32(&r, "ecx");
		saved.edx = state_get_u32(&r, "edx");
		offered = host_leaf(host, saved.function, saved.index);
		for (size_t i = 0; i < sizeof(feature_regs) / sizeof(feature_regs[0]); i++) {
			uint32_t missing;

			if (feature_regs[i].function != saved.function || feature_regs[i].index != saved.index)
				continue;
			missing = cpuid_reg_of(&saved, feature_regs[i].reg) & ~feature_regs[i].dynamic;
			if (offered)
				missing &= ~cpuid_reg_of(offered, feature_regs[i].reg);
			if (missing)
				return errmsg_set(e, EINVAL,
						  "CPUID leaf 0x%x.%u %s bit %d (a feature the VM saw) is missing on "
						  "this host",
						  saved.function, saved.index, reg_names[feature_regs[i].reg],
						  __builtin_ctz(missing));
		}
	}
	return 0;
}

static int check_msrs(const struct snapshot *s, const struct snapshot_host *host, struct errmsg *e)
{
	const struct snapshot_section *sec = compat_section(s, SNAPSHOT_MSR_LIST, 4, e);
	struct state_reader r;

	if (!sec)
		return -EINVAL;
	state_reader_init(&r, sec->data, sec->len, "snapshot msr-list");
	for (uint64_t n = sec->len / 4; n; n--) {
		uint32_t msr = state_get_u32(&r, "msr");
		unsigned i = 0;

		while (i < host->nr_msrs && host->msrs[i] != msr)
			i++;
		if (i == host->nr_msrs)
			return errmsg_set(e, EINVAL, "MSR 0x%x, saved with the VM, is not one this host's KVM saves",
					  msr);
	}
	return 0;
}

static int check_xsave(const struct snapshot *s, const struct snapshot_host *host, struct errmsg *e)
{
	const struct snapshot_section *sec = compat_section(s, SNAPSHOT_XSAVE_SIZE, 4, e);
	struct state_reader r;
	uint32_t size;

	if (!sec)
		return -EINVAL;
	if (sec->len != 4)
		return errmsg_set(e, EINVAL, "xsave-size section of %llu bytes, not 4", (unsigned long long)sec->len);
	state_reader_init(&r, sec->data, sec->len, "snapshot xsave-size");
	size = state_get_u32(&r, "size");
	if (size > host->xsave_size)
		return errmsg_set(e, EINVAL, "the VM's XSAVE area is %u bytes, this host's holds %u", size,
				  host->xsave_size);
	return 0;
}

int snapshot_check_host(const struct snapshot *s, const struct snapshot_host *host, struct errmsg *e)
{
	int ret = check_cpuid(s, host, e);

	if (!ret)
		ret = check_msrs(s, host, e);
	if (!ret)
		ret = check_xsave(s, host, e);
	return ret;
}
