// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the control socket: bytes from a client go through
 * the HTTP parser, the router (over a fake backend, so no VM is needed) and
 * the JSON reader, as the server would take them, and every answer is
 * formatted and parsed back. Besides the sanitizers, it checks what the
 * server relies on: a request never claims bytes it was not given, a prefix
 * never disagrees with the whole, and JSON written by json_out reads back
 * unchanged. `make fuzz` runs it; see the Makefile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/json.h"
#include "api/router.h"
#include "fake_backend.h"

#define check(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_api: check failed: %s (line %d)\n", #cond, __LINE__); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* The statuses http_parse_request may return, negated. */
static bool parser_status(int status)
{
	return status == 400 || status == 411 || status == 413 || status == 414 || status == 417 || status == 431 ||
	       status == 501 || status == 505;
}

/* Cutting the input short may leave it incomplete, but never changes a decision already made. */
static void check_prefix_agrees(const char *buf, size_t len)
{
	struct http_request req;
	struct errmsg e;
	int whole, prefix;

	if (!len)
		return;
	whole = http_parse_request(buf, len, &req, &e);
	prefix = http_parse_request(buf, len - 1, &req, &e);
	if (prefix)
		check(whole == prefix);
	if (whole > 0 && (size_t)whole < len)
		check(prefix == whole);
}

/* A flat object of each field type; what it reads, json_out writes back and it reads the same again. */
static void check_json_round_trip(const char *text, size_t len)
{
	char s1[64], s2[64], out[512];
	uint64_t u1 = 0, u2 = 0;
	bool b1 = false, b2 = false;
	struct json_field f[] = {
		{ .name = "s", .type = JSON_STRING, .str = s1, .str_cap = sizeof(s1) },
		{ .name = "u", .type = JSON_UINT, .uint = &u1, .min = 1, .max = UINT64_MAX - 1 },
		{ .name = "b", .type = JSON_BOOL, .boolean = &b1 },
	};
	struct json_out j;
	struct errmsg e = { "" };

	s1[0] = '\0';
	if (json_read_object(text, len, f, 3, &e)) {
		check(e.text[0]);
		return;
	}
	check(strlen(s1) < sizeof(s1));
	check(u1 == 0 || (u1 >= 1 && u1 <= UINT64_MAX - 1));
	json_out_init(&j, out, sizeof(out));
	json_object_begin(&j, NULL);
	json_put_string(&j, "s", s1);
	json_put_uint(&j, "u", u1 ? u1 : 1);
	json_put_bool(&j, "b", b1);
	json_object_end(&j);
	check(json_out_finish(&j) > 0);
	f[0].str = s2;
	f[1].uint = &u2;
	f[2].boolean = &b2;
	check(json_read_object(out, strlen(out), f, 3, &e) == 0);
	check(!strcmp(s1, s2) && u2 == (u1 ? u1 : 1) && b1 == b2);
}

/* What the server would send for this answer, and what a client reads from it. */
static void check_response(int status, const char *body, bool close)
{
	char resp[API_BODY_MAX + 256];
	const char *got_body;
	size_t got_len;
	int len, got_status;

	len = http_format_response(resp, sizeof(resp), status, body[0] ? body : NULL, close);
	check(len > 0);
	check(http_parse_response(resp, (size_t)len, &got_status, &got_body, &got_len) == len);
	check(got_status == status);
	if (status == 204 || !body[0])
		check(got_len == 0);
	else
		check(got_len == strlen(body) && !memcmp(got_body, body, got_len));
}

static void serve_one(struct fake_vm *fake, const struct http_request *req)
{
	static char out[API_BODY_MAX];
	int status = 0, len;

	check(req->path[0] == '/' && strlen(req->path) < HTTP_PATH_MAX);
	len = api_route(&fake_backend, fake, req, out, sizeof(out), &status);
	check(len >= 0 && (size_t)len < sizeof(out) && strlen(out) == (size_t)len);
	check(status >= 200 && status <= 599);
	check(status != 204 || len == 0);
	check_response(status, out, req->close);
	if (req->body) {
		static struct vm_config cfg;
		struct errmsg e = { "" };

		check_json_round_trip(req->body, req->body_len);
		/*
		 * The same bytes as a --config-file: the router's other reader of untrusted JSON. Not with a
		 * "logger" or "metrics" member, which would create the file it names (their reader is fuzzed
		 * through PUT /logger and PUT /metrics, whose fake backend opens nothing).
		 */
		memset(&cfg, 0, sizeof(cfg));
		vm_config_init(&cfg);
		if (!memmem(req->body, req->body_len, "\"logger\"", 8) && !memmem(req->body, req->body_len, "\"metrics\"", 9) &&
		    api_config_parse_file(&cfg, req->body, req->body_len, &e))
			check(e.text[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_vm fake;
	const char *buf = (const char *)data;
	size_t pos = 0;

	fake_vm_reset(&fake);
	check_prefix_agrees(buf, size);

	/* Pipelined requests, as one read from the socket would hold them. */
	while (pos < size) {
		struct http_request req;
		struct errmsg e = { "" };
		int n = http_parse_request(buf + pos, size - pos, &req, &e);

		if (n < 0) {
			char body[512];

			check(parser_status(-n) && e.text[0]);
			check(api_fault_body(body, sizeof(body), e.text) > 0);
			check_response(-n, body, true);
			break;
		}
		if (n == 0)
			break;
		check((size_t)n <= size - pos);
		check(!req.body || (req.body > buf + pos && req.body + req.body_len == buf + pos + n));
		serve_one(&fake, &req);
		pos += (size_t)n;
	}
	check_json_round_trip(buf, size);
	return 0;
}
