/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, strict HTTP/1.1 parser for the control socket. Pure and bounded:
 * the request line and headers fit in HTTP_HEAD_MAX bytes, a body in
 * HTTP_BODY_MAX, a body needs Content-Length, chunked encoding is refused.
 * Everything here is fed bytes from an untrusted client (and a fuzzer).
 */
#ifndef KVMINI_API_HTTP_H
#define KVMINI_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

#define HTTP_HEAD_MAX 8192
#define HTTP_BODY_MAX 65536
#define HTTP_PATH_MAX 256

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH, HTTP_POST, HTTP_DELETE, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char path[HTTP_PATH_MAX]; /* the target's path, without a query string; always starts with '/' */
	const char *body;         /* into the caller's buffer; NULL when there is none */
	size_t body_len;
	bool close;               /* "Connection: close", or HTTP/1.0 without keep-alive */
	bool expect_continue;     /* "Expect: 100-continue": send "HTTP/1.1 100 Continue" once head_len is set */
	size_t head_len;          /* set once the head is complete, also while 0 is returned for a body still to come */
};

/*
 * One request from buf[0, len). Returns the bytes it takes (head and body)
 * with *req filled; 0 when the request is not complete yet (and could still
 * fit), with *req filled but for the body when req->head_len is set; or a
 * negative HTTP status with a one-line reason in e:
 * -400 malformed, -411 a body without Content-Length, -413 body over
 * HTTP_BODY_MAX, -431 head over HTTP_HEAD_MAX, -501 Transfer-Encoding,
 * -505 not HTTP/1.x, -414 path of HTTP_PATH_MAX bytes or more, -417 an
 * Expect other than 100-continue.
 * Lines end with CRLF (a bare LF is -400). PUT, PATCH and POST need a
 * Content-Length (-411 without one); a Content-Length over HTTP_BODY_MAX is
 * refused as soon as its header line arrives, before any of the body.
 * A prefix of a request returns 0, or the error the whole would return.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req, struct errmsg *e);

/*
 * A whole response with a JSON body (or none when body is NULL): status
 * line, Content-Type (only with a body), Content-Length, and "Connection:
 * close" when asked; a 1xx or 204 has neither body nor Content-Length.
 * Returns its length (out is NUL-terminated), or -ENOSPC.
 */
int http_format_response(char *out, size_t cap, int status, const char *body, bool close);

/* The reason phrase of a status this API uses ("OK", "No Content", ...), "Unknown" otherwise. */
const char *http_reason(int status);

/*
 * For the CLI client: one response from buf[0, len). Returns the bytes it
 * takes with *status and the body (NULL when empty); 0 when incomplete;
 * -EPROTO when malformed, or a body without Content-Length.
 */
int http_parse_response(const char *buf, size_t len, int *status, const char **body, size_t *body_len);

#endif
