// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini pause|resume|stop|status|stats|regs --sock PATH [--json]: one
 * request to a running kvmini's API socket (the same HTTP any client sends),
 * its answer as text, or as the raw JSON with --json.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "api/http.h"
#include "api/router.h"
#include "commands.h"
#include "exit_codes.h"
#include "log.h"
#include "parse.h"

#define CTL_TIMEOUT_S 30

struct ctl_args {
	const char *sock;
	bool json;
	unsigned vcpu;
};

static int parse_vcpu(void *vcpu, const char *value, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(value, 0, VM_MAX_CPUS - 1, &n))
		return errmsg_set(e, EINVAL, "--vcpu '%s': must be a number from 0 to %d", value, VM_MAX_CPUS - 1);
	*(unsigned *)vcpu = n;
	return 0;
}

static const struct option_spec ctl_options[] = {
	{ "sock", 0, "PATH", "the --api-sock of the kvmini to talk to", option_string,
	  offsetof(struct ctl_args, sock) },
	{ "json", 0, NULL, "print the API's JSON answer as it is", option_set, offsetof(struct ctl_args, json) },
	{ "vcpu", 0, "N", "regs: the vCPU whose registers to show (default 0)", parse_vcpu,
	  offsetof(struct ctl_args, vcpu) },
	{ .name = NULL },
};

static size_t ctl_groups(void *args, struct option_group *g)
{
	g[0] = (struct option_group){ ctl_options, args, NULL };
	return 1;
}

struct ctl_request {
	const char *command, *method, *path, *body, *done;
};

static const struct ctl_request requests[] = {
	{ "pause", "PATCH", "/vm", "{\"state\": \"Paused\"}", "paused" },
	{ "resume", "PATCH", "/vm", "{\"state\": \"Resumed\"}", "resumed" },
	{ "stop", "PUT", "/actions", "{\"action_type\": \"Stop\"}", "stopped" },
	{ "status", "GET", "/", NULL, NULL },
	{ "stats", "GET", "/vm/stats", NULL, NULL },
	{ "regs", "GET", NULL, NULL, NULL },
};

const struct option_usage ctl_usage = {
	.synopsis = "--sock PATH [--json] [--vcpu N]",
	.text = "Talks to a kvmini started with --api-sock PATH (kvmini run or kvmini daemon):\n"
		"  pause    pause the guest (its vCPUs and devices stop)\n"
		"  resume   resume a paused guest\n"
		"  stop     stop the guest at once (kvmini exits 0)\n"
		"  status   the VM's state: Not started, Running or Paused\n"
		"  stats    uptime, vCPU exits by reason, memory, device counters\n"
		"  regs     vCPU N's registers (default 0); the guest must be paused",
	.groups = ctl_groups,
	.notes = "Exit status: 0 done, 1 the API refused (its fault_message is printed) or no answer, 2 usage error.",
};

static int connect_socket(const char *path, int timeout_s, struct errmsg *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return errmsg_set(e, ENAMETOOLONG, "--sock %s: the path is too long", path);
	memcpy(addr.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg_set(e, errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	errmsg_set(e, errno, "cannot connect to %s: %s%s", path, strerror(errno),
		   errno == ENOENT ? " (is kvmini running with --api-sock there?)"
		   : errno == ECONNREFUSED ? " (nothing serves it: a stale socket?)" : "");
	close(fd);
	return -1;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

int ctl_exchange(const char *sock, int timeout_s, const char *method, const char *path, const char *body, char *buf,
		 size_t cap, int *status, const char **resp, size_t *resp_len, struct errmsg *e)
{
	size_t len = 0;
	int fd, n;

	n = snprintf(buf, cap,
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     method, path, body ? strlen(body) : 0, body ? body : "");
	if (n < 0 || (size_t)n >= cap)
		return errmsg_set(e, E2BIG, "the request is too long");
	if ((fd = connect_socket(sock, timeout_s, e)) < 0)
		return -1;
	if (!send_all(fd, buf, (size_t)n)) {
		errmsg_set(e, errno, "cannot send to %s: %s", sock, strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t got = recv(fd, buf + len, cap - len, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			errmsg_set(e, errno, "no answer from %s: %s", sock,
				   errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		len += (size_t)got;
		n = http_parse_response(buf, len, status, resp, resp_len);
		if (n > 0) {
			close(fd);
			return 0;
		}
		if (n < 0 || !got || len == cap) {
			errmsg_set(e, EPROTO, "%s answered with %s", sock,
				   n < 0 ? "a malformed response" : !got ? "an incomplete response" : "too much");
			break;
		}
	}
	close(fd);
	return -1;
}

/* ---- the answer as text: "key: value" lines, nested objects and arrays indented ---- */

struct printer {
	unsigned indent;
};

/* One member or element, and what is nested in it one level deeper (at most JSON_DEPTH_MAX). */
static int print_item(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct printer *p = ctx;
	int err;

	printf("%*s", (int)p->indent * 2, "");
	if (it->key)
		printf("%.*s:", (int)it->key_len, it->key);
	else
		printf("-");
	if (*it->value == '{' || *it->value == '[') {
		printf("\n");
		p->indent++;
		err = json_for_each(it->value, it->value_len, *it->value == '{', print_item, p, e);
		p->indent--;
		return err;
	}
	if (*it->value == '"')
		printf(" %.*s\n", (int)it->value_len - 2, it->value + 1);
	else
		printf(" %.*s\n", (int)it->value_len, it->value);
	return 0;
}

static int print_text(const char *body, size_t len)
{
	struct printer p = { 0 };
	struct errmsg e;

	if (json_for_each(body, len, true, print_item, &p, &e)) {
		log_error("the answer is not the JSON expected: %s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	return 0;
}

void ctl_print_fault(int status, const char *body, size_t len)
{
	char msg[1024] = "";
	const struct json_field f[] = {
		{ .name = "fault_message", .type = JSON_STRING, .str = msg, .str_cap = sizeof(msg) },
	};
	struct errmsg e;

	if (!body || json_read_object(body, len, f, 1, &e) || !msg[0])
		snprintf(msg, sizeof(msg), "%.*s", (int)(len > 200 ? 200 : len), body ? body : "");
	log_error("%d %s: %s", status, http_reason(status), msg);
}

int cmd_ctl(int argc, char **argv)
{
	static char buf[HTTP_HEAD_MAX + API_BODY_MAX];
	const struct ctl_request *req = NULL;
	struct ctl_args args = { .sock = NULL };
	struct option_group groups[OPTION_GROUPS_MAX];
	const char *resp;
	char regs_path[32];
	struct errmsg e;
	size_t resp_len;
	int err, status;

	for (unsigned i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (!strcmp(argv[0], requests[i].command))
			req = &requests[i];
	if (!req) {
		log_error("'%s' is not an API command", argv[0]);
		return EXIT_USAGE;
	}
	err = options_parse(req->command, argc, argv, groups, ctl_groups(&args, groups), &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, req->command, &ctl_usage);
		return 0;
	}
	if (!err && !args.sock)
		err = options_required(req->command, "sock", &e);
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	snprintf(regs_path, sizeof(regs_path), "/vcpu/%u/regs", args.vcpu);
	if (ctl_exchange(args.sock, CTL_TIMEOUT_S, req->method, req->path ? req->path : regs_path, req->body, buf,
			 sizeof(buf), &status, &resp, &resp_len, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (status < 200 || status > 299) {
		ctl_print_fault(status, resp, resp_len);
		if (args.json && resp)
			printf("%.*s\n", (int)resp_len, resp);
		return EXIT_RUNTIME_ERROR;
	}
	if (args.json) {
		if (resp && resp_len)
			printf("%.*s\n", (int)resp_len, resp);
		return 0;
	}
	if (req->done) {
		printf("%s\n", req->done);
		return 0;
	}
	return resp ? print_text(resp, resp_len) : 0;
}
