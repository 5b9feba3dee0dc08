// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the snapshot file's reader (src/snapshot/format.c).
 * The input is a selector byte, then a file. Bit 0 of the selector set: the
 * file lacks its CRC32C and the target appends the right one, so mutations
 * reach the checks behind the CRC; clear: the file is read as it is. A file
 * the reader accepts is compared with a host, and written again from its
 * sections, which must read back to the same sections.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/format.h"

static const struct kvm_cpuid_entry2 host_cpuid[] = {
	{ .function = 1, .ecx = 0xfffefbff, .edx = 0xffffffff },
	{ .function = 7, .ebx = 0xffff },
};
static const uint32_t host_msrs[] = { 0x174, 0xc0000080 };
static const struct snapshot_host host = { host_cpuid, 2, host_msrs, 2, 4096 };

static void write_again(const struct snapshot *s)
{
	struct snapshot_writer w;
	struct state_writer file;
	struct snapshot again;
	struct errmsg e;

	snapshot_writer_init(&w);
	for (unsigned i = 0; i < s->nr; i++)
		snapshot_add(&w, s->sections[i].kind, s->sections[i].index, s->sections[i].version,
			     s->sections[i].data, s->sections[i].len);
	state_writer_init(&file);
	if (snapshot_finish(&w, &file, &e) || snapshot_parse(file.buf, file.len, &again, &e) || again.nr != s->nr)
		abort();
	for (unsigned i = 0; i < s->nr; i++) {
		const struct snapshot_section *a = &s->sections[i], *b = &again.sections[i];

		if (a->kind != b->kind || a->index != b->index || a->version != b->version || a->len != b->len ||
		    memcmp(a->data, b->data, a->len))
			abort();
	}
	snapshot_free(&again);
	state_writer_free(&file);
	snapshot_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot s;
	struct errmsg e;
	uint8_t *file;
	size_t len;

	if (!size)
		return 0;
	len = size - 1 + (data[0] & 1 ? 4 : 0);
	/* A copy of its own, so ASan sees any read past the file's end. */
	file = malloc(len ? len : 1);
	if (!file)
		abort();
	memcpy(file, data + 1, size - 1);
	if (data[0] & 1) {
		uint32_t crc = crc32c(0, file, size - 1);

		for (int i = 0; i < 4; i++)
			file[size - 1 + i] = crc >> (8 * i);
	}
	if (!snapshot_parse(file, len, &s, &e)) {
		snapshot_check_host(&s, &host, &e);
		write_again(&s);
		snapshot_free(&s);
	}
	free(file);
	return 0;
}
