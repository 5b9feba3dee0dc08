// SPDX-License-Identifier: Apache-2.0
/*
 * api-check: validates a JSON text against tests/api/firecracker-api.schema.json.
 *
 *   api-check SCHEMA DEFINITION [FILE]                  FILE (or stdin) is a DEFINITION
 *   api-check SCHEMA request METHOD PATH [FILE]         FILE is the request body METHOD PATH takes
 *   api-check SCHEMA response METHOD PATH STATUS [FILE] FILE is the body Firecracker answers with STATUS
 *
 * An operation without a body ("204", a GET's request) wants FILE empty.
 * Exit 0 valid, 1 invalid (one line on stderr says where), 2 usage or I/O.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_check.h"

/* The API's bodies are at most 64 KiB (docs/api.md); the schema is smaller. */
#define TEXT_MAX (1u << 20)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	char *buf;

	if (!f) {
		fprintf(stderr, "api-check: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(TEXT_MAX + 1);
	if (!buf) {
		fprintf(stderr, "api-check: out of memory\n");
		return NULL;
	}
	*len = fread(buf, 1, TEXT_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (*len > TEXT_MAX) {
		fprintf(stderr, "api-check: %s: larger than %u bytes\n", path ? path : "stdin", TEXT_MAX);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: api-check SCHEMA DEFINITION [FILE]\n"
			"       api-check SCHEMA request METHOD PATH [FILE]\n"
			"       api-check SCHEMA response METHOD PATH STATUS [FILE]\n");
	return 2;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

int main(int argc, char **argv)
{
	struct schema s;
	struct errmsg e;
	char def[128];
	const char *file, *what;
	char *body;
	size_t body_len;
	int err;

	if (argc < 3)
		return usage();
	s.text = slurp(argv[1], &s.len);
	if (!s.text)
		return 2;
	if (!strcmp(argv[2], "request") || !strcmp(argv[2], "response")) {
		bool response = argv[2][2] == 's';
		int nr = response ? 6 : 5;

		if (argc < nr || argc > nr + 1)
			return usage();
		err = schema_lookup(&s, argv[3], argv[4], response ? argv[5] : NULL, def, sizeof(def), &e);
		if (err) {
			fprintf(stderr, "api-check: %s\n", e.text);
			return 1;
		}
		file = argc > nr ? argv[nr] : NULL;
		what = response ? "response" : "request";
	} else {
		if (argc > 4)
			return usage();
		snprintf(def, sizeof(def), "%s", argv[2]);
		file = argc > 3 ? argv[3] : NULL;
		what = "body";
	}
	body = slurp(file, &body_len);
	if (!body)
		return 2;
	if (!def[0]) {
		if (blank(body))
			return 0;
		fprintf(stderr, "api-check: %s %s %s: a body where the API has none: %.80s\n", what, argv[3], argv[4],
			body);
		return 1;
	}
	err = schema_validate(&s, def, body, body_len, &e);
	if (err) {
		fprintf(stderr, "api-check: %s: %s\n", what, e.text);
		return err == -ENOENT ? 2 : 1;
	}
	return 0;
}
