// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"

/* Longer than any method the API knows; a longer token is refused early rather than read up to HTTP_HEAD_MAX. */
#define METHOD_MAX 16

/* RFC 9110 token characters: header names and methods. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What a header value may hold: visible ASCII, space, tab, and obs-text (bytes >= 0x80). */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static enum http_method method_of(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum http_method method;
	} methods[] = {
		{ "GET", HTTP_GET },	   { "PUT", HTTP_PUT },	  { "PATCH", HTTP_PATCH },
		{ "POST", HTTP_POST },	   { "DELETE", HTTP_DELETE }, { "HEAD", HTTP_HEAD },
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n && !memcmp(methods[i].name, s, n))
			return methods[i].method;
	return HTTP_OTHER;
}

/*
 * The request line, or as much of it as has arrived (complete false): every
 * check runs left to right and fails at the first byte that no continuation
 * could make valid, so a prefix is refused only when the whole line would be,
 * and with the same status.
 */
static int parse_request_line(const char *s, size_t n, bool complete, struct http_request *req, bool *http10,
			      struct errmsg *e)
{
	static const char version[] = "HTTP/1.0"; /* the minor version is any digit */
	static const char malformed[] = "malformed request line: expected 'METHOD /path HTTP/1.1'";
	size_t i = 0, target, path_len = 0, version_at;
	bool query = false;

	while (i < n && is_tchar(s[i]) && i < METHOD_MAX)
		i++;
	if (i == n && !complete)
		return 0;
	if (i == 0 || i == n || s[i] != ' ')
		return errmsg_set(e, 400, malformed);
	req->method = method_of(s, i);

	target = ++i;
	if (i < n && s[i] != '/')
		return errmsg_set(e, 400, "the request target must be a path starting with '/'");
	for (; i < n && s[i] != ' '; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return errmsg_set(e, 400, "invalid character in the request target");
		query = query || s[i] == '?';
		if (query)
			continue;
		if (path_len == HTTP_PATH_MAX - 1)
			return errmsg_set(e, 414, "the request path is longer than %d bytes", HTTP_PATH_MAX - 1);
		req->path[path_len++] = s[i];
	}
	req->path[path_len] = '\0';
	if (i == n && !complete)
		return 0;
	if (i == target || i == n)
		return errmsg_set(e, 400, malformed);

	version_at = i + 1;
	for (size_t v = 0; ++i < n; v++) {
		if (v >= sizeof(version) - 1)
			return errmsg_set(e, 400, "malformed request line: text after the HTTP version");
		if (v == 5 && s[i] != '1' && s[i] >= '0' && s[i] <= '9')
			return errmsg_set(e, 505, "only HTTP/1.x is supported");
		if (v == 7 ? s[i] < '0' || s[i] > '9' : s[i] != version[v])
			return errmsg_set(e, 400, malformed);
	}
	if (complete && n - version_at != sizeof(version) - 1)
		return errmsg_set(e, 400, malformed);
	*http10 = complete && s[n - 1] == '0';
	return 0;
}

/* Content-Length: 1*DIGIT, bounded as soon as the digits arrive so a huge value is refused without waiting. */
static int parse_content_length(const char *v, size_t n, bool complete, size_t *out, struct errmsg *e)
{
	size_t i, digits, value = 0;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		value = value * 10 + (size_t)(v[i] - '0');
		if (value > HTTP_BODY_MAX)
			return errmsg_set(e, 413, "the body is larger than %d bytes", HTTP_BODY_MAX);
	}
	digits = i;
	while (i < n && is_ows(v[i]))
		i++;
	if (i < n || (complete && !digits))
		return errmsg_set(e, 400, "Content-Length must be a decimal number");
	*out = value;
	return 0;
}

/* Is token (case-insensitive) one of the comma-separated list elements in v? */
static bool list_has(const char *v, size_t n, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < n) {
		size_t start, end;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && is_ows(v[end - 1]))
			end--;
		if (end - start == tlen && !strncasecmp(v + start, token, tlen))
			return true;
	}
	return false;
}

struct head_state {
	bool http10, keep_alive, has_length;
	size_t content_length;
};

/* One header line, or the start of one (complete false), checked with the same left-to-right rule as above. */
static int parse_header_line(const char *s, size_t n, bool complete, struct http_request *req,
			     struct head_state *h, struct errmsg *e)
{
	size_t name_len = 0, vstart, vend;
	size_t length;
	int err;

	if (n && is_ows(s[0]))
		return errmsg_set(e, 400, "folded header lines are not supported");
	while (name_len < n && is_tchar(s[name_len]))
		name_len++;
	if (name_len == n)
		return complete ? errmsg_set(e, 400, "malformed header line: expected 'Name: value'") : 0;
	if (name_len == 0 || s[name_len] != ':')
		return errmsg_set(e, 400, "malformed header line: expected 'Name: value'");
	if (name_len == 17 && !strncasecmp(s, "Transfer-Encoding", name_len))
		return errmsg_set(e, 501, "Transfer-Encoding is not supported: send the body with a Content-Length");

	vstart = name_len + 1;
	while (vstart < n && is_ows(s[vstart]))
		vstart++;
	vend = n;
	if (name_len == 14 && !strncasecmp(s, "Content-Length", name_len)) {
		err = parse_content_length(s + vstart, vend - vstart, complete, &length, e);
		if (err || !complete)
			return err;
		if (h->has_length && length != h->content_length)
			return errmsg_set(e, 400, "conflicting Content-Length headers");
		h->has_length = true;
		h->content_length = length;
		return 0;
	}
	for (size_t i = vstart; i < n; i++)
		if (!is_value_char(s[i]))
			return errmsg_set(e, 400, "invalid character in header '%.*s'", (int)name_len, s);
	if (!complete)
		return 0;
	while (vend > vstart && is_ows(s[vend - 1]))
		vend--;
	if (name_len == 10 && !strncasecmp(s, "Connection", name_len)) {
		if (list_has(s + vstart, vend - vstart, "close"))
			req->close = true;
		if (list_has(s + vstart, vend - vstart, "keep-alive"))
			h->keep_alive = true;
	} else if (name_len == 6 && !strncasecmp(s, "Expect", name_len)) {
		if (vend - vstart != 12 || strncasecmp(s + vstart, "100-continue", 12))
			return errmsg_set(e, 417, "the only expectation supported is '100-continue'");
		req->expect_continue = true;
	}
	return 0;
}

/* The request line (line 0) or a header line; "complete" lines arrive without their CRLF. */
static int parse_line(unsigned line, const char *s, size_t n, bool complete, struct http_request *req,
		      struct head_state *h, struct errmsg *e)
{
	if (line == 0)
		return parse_request_line(s, n, complete, req, &h->http10, e);
	return parse_header_line(s, n, complete, req, h, e);
}

int http_parse_request(const char *buf, size_t len, struct http_request *req, struct errmsg *e)
{
	size_t limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX, pos = 0, head_len = 0;
	struct head_state h = { 0 };
	int err;

	memset(req, 0, sizeof(*req));
	for (unsigned line = 0;; line++) {
		const char *nl = memchr(buf + pos, '\n', limit - pos);
		size_t n;

		if (!nl) {
			/* What has arrived of the current line must still be able to become valid. */
			n = limit - pos;
			if (n && buf[pos + n - 1] == '\r')
				n--;
			err = parse_line(line, buf + pos, n, false, req, &h, e);
			if (err)
				return err;
			if (limit == HTTP_HEAD_MAX)
				return errmsg_set(e, 431, "the request line and headers are larger than %d bytes",
						  HTTP_HEAD_MAX);
			return 0;
		}
		n = (size_t)(nl - (buf + pos));
		if (n == 0 || buf[pos + n - 1] != '\r') {
			/* A bare LF: report what is wrong before it first, as a shorter read would have. */
			err = parse_line(line, buf + pos, n, false, req, &h, e);
			return err ? err : errmsg_set(e, 400, "lines must end with CRLF, not a bare LF");
		}
		n--;
		if (n == 0 && line > 0) {
			head_len = pos + 2;
			break;
		}
		err = parse_line(line, buf + pos, n, true, req, &h, e);
		if (err)
			return err;
		pos += n + 2;
	}

	if (!h.has_length && (req->method == HTTP_PUT || req->method == HTTP_PATCH || req->method == HTTP_POST))
		return errmsg_set(e, 411, "a request with a body needs a Content-Length header");
	if (h.http10 && !h.keep_alive)
		req->close = true;
	req->head_len = head_len;
	if (len - head_len < h.content_length)
		return 0;
	if (h.content_length) {
		req->body = buf + head_len;
		req->body_len = h.content_length;
	}
	return (int)(head_len + h.content_length);
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{ 100, "Continue" },
		{ 200, "OK" },
		{ 204, "No Content" },
		{ 400, "Bad Request" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 411, "Length Required" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

int http_format_response(char *out, size_t cap, int status, const char *body, bool close)
{
	/* 1xx and 204 responses never have a body, nor a Content-Length (RFC 9110 8.6). */
	bool bodiless = status < 200 || status == 204;
	size_t body_len = body && !bodiless ? strlen(body) : 0;
	int n;

	if (bodiless)
		n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%s\r\n", status, http_reason(status),
			     close ? "Connection: close\r\n" : "");
	else
		n = snprintf(out, cap, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s\r\n", status,
			     http_reason(status), body_len ? "Content-Type: application/json\r\n" : "", body_len,
			     close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n + body_len >= cap)
		return -ENOSPC;
	if (body_len)
		memcpy(out + n, body, body_len);
	out[n + body_len] = '\0';
	return n + (int)body_len;
}

int http_parse_response(const char *buf, size_t len, int *status, const char **body, size_t *body_len)
{
	size_t limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX, pos, length = 0;
	bool has_length = false;
	const char *nl = memchr(buf, '\n', limit);
	int code;

	if (!nl)
		return limit == HTTP_HEAD_MAX ? -EPROTO : 0;
	/* "HTTP/1.x DDD reason": the reason phrase is free text. */
	if (nl - buf < 13 || nl[-1] != '\r' || memcmp(buf, "HTTP/1.", 7) || buf[7] < '0' || buf[7] > '9' ||
	    buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
	    buf[11] > '9' || buf[12] != ' ')
		return -EPROTO;
	code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	pos = (size_t)(nl - buf) + 1;
	for (;;) {
		size_t n;

		nl = memchr(buf + pos, '\n', limit - pos);
		if (!nl)
			return limit == HTTP_HEAD_MAX ? -EPROTO : 0;
		n = (size_t)(nl - (buf + pos));
		if (n == 0 || buf[pos + n - 1] != '\r')
			return -EPROTO;
		n--;
		if (n == 0)
			break;
		if (n > 15 && !strncasecmp(buf + pos, "Content-Length:", 15)) {
			struct errmsg ignored;
			size_t v = pos + 15;

			while (v < pos + n && is_ows(buf[v]))
				v++;
			if (has_length || parse_content_length(buf + v, pos + n - v, true, &length, &ignored))
				return -EPROTO;
			has_length = true;
		}
		pos += n + 2;
	}
	pos += 2;
	/* The server always sends one: without it, the body would run to the end of the stream. */
	if (!has_length && code >= 200 && code != 204 && code != 304)
		return -EPROTO;
	if (len - pos < length)
		return 0;
	*status = code;
	*body = length ? buf + pos : NULL;
	*body_len = length;
	return (int)(pos + length);
}
