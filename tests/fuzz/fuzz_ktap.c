// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the KTAP/TAP reader (src/smoke/ktap.c): the input is
 * a guest's console text, split at newlines and fed line by line. Every case
 * handed out must be within its bounds and NUL-terminated where it says so.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smoke/ktap.h"

static void check_case(void *ctx, const struct ktap_case *c)
{
	(void)ctx;
	if (strnlen(c->suite, KTAP_SUITE_MAX) == KTAP_SUITE_MAX || strnlen(c->name, KTAP_NAME_MAX) == KTAP_NAME_MAX ||
	    strnlen(c->reason, KTAP_REASON_MAX) == KTAP_REASON_MAX || c->output_len >= KTAP_OUTPUT_MAX ||
	    c->output[c->output_len] || !ktap_result_name(c->result))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ktap_parser p;
	const char *text = (const char *)data;

	ktap_init(&p, check_case, NULL);
	while (size) {
		const char *nl = memchr(text, '\n', size);
		size_t len = nl ? (size_t)(nl - text) : size;

		ktap_feed_line(&p, text, len);
		len += nl != NULL;
		text += len;
		size -= len;
	}
	if (p.depth > KTAP_MAX_DEPTH)
		abort();
	return 0;
}
