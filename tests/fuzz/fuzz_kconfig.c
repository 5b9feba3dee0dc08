// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the kernel-config preflight (src/smoke/preflight.c):
 * the input is a .config. A rejected one must say which line, or that there
 * are too many; an accepted one is checked against a run that needs every
 * rule, and every missing option must be reported in a line that names it.
 * The same bytes also go through the initrd format detection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/preflight.h"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_kconfig: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mods[] = { "virtio_blk", "virtio-pci", "fuse" };
	struct preflight_needs needs = {
		.transport_mmio = size & 1,
		.console_virtio = size & 2,
		.acpi = size & 4,
		.cpus = 2,
		.devices = ~0u,
		.pvh = true,
		.initrd = PREFLIGHT_INITRD_ZSTD,
		.builtin_init = true,
		.modules = mods,
		.n_modules = 3,
	};
	struct preflight_missing missing[64];
	struct errmsg err = { "" };
	enum preflight_initrd fmt;
	struct kconfig *c = NULL;
	size_t n, i;
	int rc;

	preflight_initrd_format(data, size, &fmt, &err);
	rc = kconfig_parse((const char *)data, size, &c, &err);
	if (rc) {
		if (c)
			fail("an error left a config", err.text);
		if (strncmp(err.text, "line ", 5) && strncmp(err.text, "more than ", 10))
			fail("an error that names no line", err.text);
		return 0;
	}
	n = preflight_check(c, &needs, missing, 64);
	for (i = 0; i < n && i < 64; i++) {
		char line[512], want[80];
		enum kconfig_state st = kconfig_get(c, missing[i].rule->option);

		if (st == KCONFIG_Y)
			fail("=y reported missing", missing[i].rule->option);
		preflight_format(&missing[i], line, sizeof(line));
		snprintf(want, sizeof(want), "CONFIG_%s", missing[i].rule->option);
		if (strncmp(line, want, strlen(want)))
			fail("a line that does not name its option", line);
	}
	kconfig_free(c);
	return 0;
}
