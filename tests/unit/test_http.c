// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int parse(const char *s, struct http_request *req)
{
	struct errmsg e = { "" };
	int n = http_parse_request(s, strlen(s), req, &e);

	if (n < 0 && !e.text[0])
		fail_msg("error %d without a message for \"%s\"", n, s);
	return n;
}

static void expect_error(const char *s, int status, const char *msg_part)
{
	struct http_request req;
	struct errmsg e = { "" };
	int n = http_parse_request(s, strlen(s), &req, &e);

	if (n != -status)
		fail_msg("\"%s\": got %d (%s), want %d", s, n, e.text, -status);
	if (msg_part && !strstr(e.text, msg_part))
		fail_msg("\"%s\": message \"%s\" does not say \"%s\"", s, e.text, msg_part);
}

/* Every proper prefix of s is incomplete; the whole is one request of strlen(s) bytes. */
static void expect_incremental(const char *s)
{
	struct http_request req;
	struct errmsg e;
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		int n = http_parse_request(s, i, &req, &e);

		if (n != 0)
			fail_msg("prefix of %zu bytes: got %d, want 0", i, n);
	}
	assert_int_equal(http_parse_request(s, len, &req, &e), (int)len);
}

static void test_get(void **state)
{
	static const char s[] = "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
	struct http_request req;
	(void)state;

	assert_int_equal(parse(s, &req), (int)strlen(s));
	assert_int_equal(req.head_len, strlen(s));
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.path, "/");
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
	assert_false(req.close);
	assert_false(req.expect_continue);
}

static void test_methods(void **state)
{
	static const struct {
		const char *text;
		enum http_method method;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_GET },
		{ "PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_PUT },
		{ "PATCH / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_PATCH },
		{ "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_POST },
		{ "DELETE / HTTP/1.1\r\n\r\n", HTTP_DELETE },
		{ "HEAD / HTTP/1.1\r\n\r\n", HTTP_HEAD },
		{ "OPTIONS / HTTP/1.1\r\n\r\n", HTTP_OTHER },
		{ "get / HTTP/1.1\r\n\r\n", HTTP_OTHER }, /* methods are case-sensitive */
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_request req;

		assert_int_equal(parse(cases[i].text, &req), (int)strlen(cases[i].text));
		assert_int_equal(req.method, cases[i].method);
	}
}

static void test_body(void **state)
{
	static const char s[] = "PUT /machine-config HTTP/1.1\r\ncontent-LENGTH:  \t25 \r\n"
				"Content-Type: application/json\r\n\r\n{\"vcpu_count\": 2, \"x\": 1}..";
	struct http_request req;
	(void)state;

	assert_int_equal(parse(s, &req), (int)strlen(s) - 2);
	assert_int_equal(req.method, HTTP_PUT);
	assert_string_equal(req.path, "/machine-config");
	assert_non_null(req.body);
	assert_int_equal(req.body_len, 25);
	assert_memory_equal(req.body, "{\"vcpu_count\": 2, \"x\": 1}", 25);
}

static void test_zero_length_body(void **state)
{
	static const char s[] = "PUT /actions HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	struct http_request req;
	(void)state;

	assert_int_equal(parse(s, &req), (int)strlen(s));
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
}

static void test_query_stripped(void **state)
{
	struct http_request req;
	(void)state;

	assert_true(parse("GET /vm/config?pretty=1&x=/y HTTP/1.1\r\n\r\n", &req) > 0);
	assert_string_equal(req.path, "/vm/config");
	assert_true(parse("GET /?a HTTP/1.1\r\n\r\n", &req) > 0);
	assert_string_equal(req.path, "/");
}

static void test_incremental(void **state)
{
	(void)state;
	expect_incremental("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
	expect_incremental("PATCH /vm HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"state\": \"Paused\"}\n");
	expect_incremental("PUT /actions HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}");
}

static void test_pipelined(void **state)
{
	static const char s[] = "PUT /actions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
				"GET /vm/config HTTP/1.1\r\n\r\n";
	struct http_request req;
	int first;
	(void)state;

	first = parse(s, &req);
	assert_int_equal(first, 46);
	assert_int_equal(req.method, HTTP_PUT);
	assert_memory_equal(req.body, "{}", 2);
	assert_int_equal(parse(s + first, &req), (int)strlen(s) - first);
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.path, "/vm/config");
}

static void test_connection(void **state)
{
	struct http_request req;
	(void)state;

	assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req) > 0);
	assert_true(req.close);
	assert_true(parse("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE \r\n\r\n", &req) > 0);
	assert_true(req.close);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", &req) > 0);
	assert_false(req.close);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &req) > 0);
	assert_false(req.close);
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
	assert_true(req.close);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
	assert_false(req.close);
}

static void test_expect_continue(void **state)
{
	static const char head[] = "PUT /drives/rootfs HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n";
	struct http_request req;
	struct errmsg e;
	(void)state;

	/* The flag is known from the head alone, so the server can answer before the body comes. */
	assert_int_equal(http_parse_request(head, strlen(head) - 1, &req, &e), 0);
	assert_int_equal(req.head_len, 0);
	assert_int_equal(http_parse_request(head, strlen(head), &req, &e), 0);
	assert_int_equal(req.head_len, strlen(head));
	assert_true(req.expect_continue);
	assert_int_equal(req.method, HTTP_PUT);
	assert_string_equal(req.path, "/drives/rootfs");
	assert_true(parse("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", &req) > 0);
	assert_true(req.expect_continue);
	expect_error("GET / HTTP/1.1\r\nExpect: something-else\r\n\r\n", 417, "100-continue");
}

static void test_content_length(void **state)
{
	static const char same[] = "PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-length: 02\r\n\r\n{}";
	struct http_request req;
	(void)state;

	expect_error("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400, "conflicting");
	assert_int_equal(parse(same, &req), (int)strlen(same));
	assert_int_equal(req.body_len, 2);
	expect_error("PUT / HTTP/1.1\r\n\r\n", 411, "Content-Length");
	expect_error("PATCH /vm HTTP/1.1\r\n\r\n{}", 411, NULL);
	expect_error("POST / HTTP/1.1\r\n\r\n", 411, NULL);
}

static void test_body_limit(void **state)
{
	char *s = malloc(256 + HTTP_BODY_MAX + 1);
	struct http_request req;
	struct errmsg e;
	int head;
	(void)state;

	head = sprintf(s, "PUT /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n", HTTP_BODY_MAX);
	memset(s + head, 'a', HTTP_BODY_MAX);
	assert_int_equal(http_parse_request(s, (size_t)head + HTTP_BODY_MAX - 1, &req, &e), 0);
	assert_int_equal(http_parse_request(s, (size_t)head + HTTP_BODY_MAX, &req, &e), head + HTTP_BODY_MAX);
	assert_int_equal(req.body_len, HTTP_BODY_MAX);

	/* One byte more is refused from the header line alone, before any of the body. */
	expect_error("PUT /x HTTP/1.1\r\nContent-Length: 65537\r\n", 413, "65536");
	expect_error("PUT /x HTTP/1.1\r\nContent-Length: 65537", 413, NULL);
	expect_error("PUT /x HTTP/1.1\r\nContent-Length: 99999999999999999999999999999\r\n\r\n", 413, NULL);
	free(s);
}

/* A request whose head (request line, headers, blank line) is exactly size bytes, padded in one header. */
static char *head_of_size(size_t size)
{
	static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ", end[] = "\r\n\r\n";
	char *s = malloc(size + 1);
	size_t pad = size - strlen(start) - strlen(end);

	strcpy(s, start);
	memset(s + strlen(start), 'p', pad);
	strcpy(s + strlen(start) + pad, end);
	return s;
}

static void test_head_limit(void **state)
{
	char *s = head_of_size(HTTP_HEAD_MAX);
	struct http_request req;
	struct errmsg e;
	(void)state;

	assert_int_equal(parse(s, &req), HTTP_HEAD_MAX);
	free(s);

	s = head_of_size(HTTP_HEAD_MAX + 1);
	expect_error(s, 431, "8192");
	/* Incomplete up to the limit, refused at it. */
	assert_int_equal(http_parse_request(s, HTTP_HEAD_MAX - 1, &req, &e), 0);
	assert_int_equal(http_parse_request(s, HTTP_HEAD_MAX, &req, &e), -431);
	free(s);
}

static void test_path_limit(void **state)
{
	char s[2 * HTTP_PATH_MAX + 64], *p;
	struct http_request req;
	(void)state;

	p = s + sprintf(s, "GET /");
	memset(p, 'a', HTTP_PATH_MAX - 2);
	strcpy(p + HTTP_PATH_MAX - 2, "?query-does-not-count HTTP/1.1\r\n\r\n");
	assert_true(parse(s, &req) > 0);
	assert_int_equal(strlen(req.path), HTTP_PATH_MAX - 1);

	p[HTTP_PATH_MAX - 2] = 'a';
	strcpy(p + HTTP_PATH_MAX - 1, " HTTP/1.1\r\n\r\n");
	expect_error(s, 414, NULL);
}

static void test_transfer_encoding(void **state)
{
	(void)state;
	expect_error("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Content-Length");
	expect_error("PUT / HTTP/1.1\r\nContent-Length: 2\r\ntransfer-encoding: identity\r\n\r\n{}", 501, NULL);
	/* Known as soon as the header's name is. */
	expect_error("PUT / HTTP/1.1\r\nTransfer-Encoding:", 501, NULL);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *text;
		int status;
	} cases[] = {
		{ "GET /\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 x\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },
		{ "GET /  HTTP/1.1\r\n\r\n", 400 },
		{ " GET / HTTP/1.1\r\n\r\n", 400 },
		{ "\r\nGET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET http://localhost/ HTTP/1.1\r\n\r\n", 400 },
		{ "GET * HTTP/1.1\r\n\r\n", 400 },
		{ "GET /a\tb HTTP/1.1\r\n\r\n", 400 },
		{ "GET /a\x7f HTTP/1.1\r\n\r\n", 400 },
		{ "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400 },
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.x\r\n\r\n", 400 },
		{ "GET / HTTP/1.\r\n\r\n", 400 },
		{ "GET / HTTP/1.10\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/0.9\r\n\r\n", 505 },
		{ "GE(T / HTTP/1.1\r\n\r\n", 400 },
		{ "AVERYVERYLONGMETHOD / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\n\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400 },
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_error(cases[i].text, cases[i].status, NULL);
	expect_error("GET / HTTP/1.1\n\n", 400, "CRLF");
	expect_error("GET / HTTP/2.0\r\n\r\n", 505, "HTTP/1");
}

/* An error is reported as soon as the bytes that cause it arrive, not only at the end of the head. */
static void test_early_errors(void **state)
{
	static const char *const cases[] = {
		"G\x01",
		"GET x",
		"GET /a\x01",
		"GET / HTTP/2",
		"GET / HTTP/1.1x",
		"GET / HTTP/1.1\r\nBad Name",
		"GET / HTTP/1.1\r\n folded",
		"GET / HTTP/1.1\r\nHost: \x7f",
		"GET / HTTP/1.1\r\nContent-Length: 1x",
	};
	struct http_request req;
	struct errmsg e;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (http_parse_request(cases[i], strlen(cases[i]), &req, &e) >= 0)
			fail_msg("\"%s\" was not refused", cases[i]);
	assert_int_equal(http_parse_request("GET / HTTP/1.1\r\nHo\0st", 21, &req, &e), -400);
	assert_int_equal(http_parse_request("GET /\0", 6, &req, &e), -400);
}

static void test_format_response(void **state)
{
	char out[256];
	int n;
	(void)state;

	n = http_format_response(out, sizeof(out), 200, "{\"a\":1}", false);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
				 "{\"a\":1}");
	assert_int_equal(n, (int)strlen(out));

	n = http_format_response(out, sizeof(out), 204, NULL, false);
	assert_string_equal(out, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(n, (int)strlen(out));

	http_format_response(out, sizeof(out), 204, "{}", true);
	assert_string_equal(out, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");

	http_format_response(out, sizeof(out), 400, "{\"fault_message\":\"x\"}", true);
	assert_string_equal(out, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
				 "Connection: close\r\n\r\n{\"fault_message\":\"x\"}");

	http_format_response(out, sizeof(out), 200, NULL, false);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

	http_format_response(out, sizeof(out), 100, NULL, false);
	assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");

	n = http_format_response(out, sizeof(out), 200, "{\"a\":1}", false);
	assert_int_equal(http_format_response(out, (size_t)n + 1, 200, "{\"a\":1}", false), n);
	assert_int_equal(http_format_response(out, (size_t)n, 200, "{\"a\":1}", false), -ENOSPC);
	assert_int_equal(http_format_response(out, 0, 204, NULL, false), -ENOSPC);
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(http_reason(200), "OK");
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(413), "Content Too Large");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(599), "Unknown");
}

static void test_parse_response(void **state)
{
	static const char other[] = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nServer: x\r\n\r\n{}";
	char out[256];
	const char *body;
	size_t body_len;
	int status, n;
	(void)state;

	n = http_format_response(out, sizeof(out), 400, "{\"fault_message\":\"x\"}", false);
	strcat(out, "HTTP/1.1 204 No Content\r\n\r\n");
	for (int i = 0; i < n; i++)
		assert_int_equal(http_parse_response(out, (size_t)i, &status, &body, &body_len), 0);
	assert_int_equal(http_parse_response(out, strlen(out), &status, &body, &body_len), n);
	assert_int_equal(status, 400);
	assert_int_equal(body_len, 21);
	assert_memory_equal(body, "{\"fault_message\":\"x\"}", 21);

	assert_int_equal(http_parse_response(out + n, strlen(out + n), &status, &body, &body_len), 27);
	assert_int_equal(status, 204);
	assert_null(body);
	assert_int_equal(body_len, 0);

	n = (int)strlen(other);
	assert_int_equal(http_parse_response(other, (size_t)n, &status, &body, &body_len), n);
	assert_int_equal(status, 200);

	assert_int_equal(http_parse_response("HTTP/1.1 200 OK\r\n\r\n", 19, &status, &body, &body_len), -EPROTO);
	assert_int_equal(http_parse_response("HTTP/2 200 OK\r\n\r\n", 17, &status, &body, &body_len), -EPROTO);
	assert_int_equal(http_parse_response("HTTP/1.1 20x OK\r\n\r\n", 19, &status, &body, &body_len), -EPROTO);
	assert_int_equal(http_parse_response("HTTP/1.1 200 OK\n\n", 17, &status, &body, &body_len), -EPROTO);
	assert_int_equal(http_parse_response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 38, &status, &body,
					     &body_len),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_zero_length_body),
		cmocka_unit_test(test_query_stripped),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_path_limit),
		cmocka_unit_test(test_transfer_encoding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_early_errors),
		cmocka_unit_test(test_format_response),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_parse_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
