// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini snapshot --sock PATH --out DIR [--diff] [--keep-paused]: a client
 * of a running kvmini's API socket, as kvmini pause is. It pauses the VM if
 * it runs, saves it with PUT /snapshot/create into DIR/state and
 * DIR/memory, and resumes it as it was, so that `kvmini restore DIR` can
 * bring it back in another process.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/http.h"
#include "api/json.h"
#include "api/router.h"
#include "commands.h"
#include "exit_codes.h"
#include "log.h"

/* A pause, a resume or GET / answers at once; writing guest RAM takes as long as the API lets it. */
#define SNAPSHOT_REQUEST_TIMEOUT_S 10
#define SNAPSHOT_CREATE_TIMEOUT_S 130 /* the API's own deadline (120 s, backend.h), and its answer's way back */

static const struct option_spec snapshot_options[] = {
	{ "sock", 0, "PATH", "the --api-sock of the kvmini whose VM to save", option_string,
	  offsetof(struct snapshot_args, sock) },
	{ "out", 0, "DIR", "the directory to save into (made, mode 0700, if it is not there): DIR/state and\n"
	  "DIR/memory, replaced if there", option_string, offsetof(struct snapshot_args, out) },
	{ "diff", 0, NULL, "a Diff snapshot: only the pages written since the last snapshot, over the\n"
	  "DIR/memory of that one (the VM must track dirty pages)", option_set,
	  offsetof(struct snapshot_args, diff) },
	{ "keep-paused", 0, NULL, "leave the VM paused afterwards (else it runs on if it ran before)", option_set,
	  offsetof(struct snapshot_args, keep_paused) },
	{ .name = NULL },
};

static size_t snapshot_groups(void *args, struct option_group *g)
{
	g[0] = (struct option_group){ snapshot_options, args, NULL };
	return 1;
}

const struct option_usage snapshot_usage = {
	.synopsis = "--sock PATH --out DIR [--diff] [--keep-paused]",
	.text = "Saves the VM of a kvmini started with --api-sock PATH (kvmini run, daemon or restore)\n"
		"into DIR: it is paused for as long as that takes. kvmini restore DIR brings it back.",
	.groups = snapshot_groups,
	.notes = "Exit status: 0 saved, 1 the API refused (its fault_message is printed) or no answer, 2 usage error.",
};

int snapshot_parse_args(int argc, char **argv, struct snapshot_args *a, struct errmsg *e)
{
	struct option_group groups[OPTION_GROUPS_MAX];
	int err;

	memset(a, 0, sizeof(*a));
	err = options_parse("snapshot", argc, argv, groups, snapshot_groups(a, groups), e);
	if (!err && !a->sock)
		err = options_required("snapshot", "sock", e);
	if (!err && !a->out)
		err = options_required("snapshot", "out", e);
	if (!err && !a->out[0])
		err = errmsg_set(e, EINVAL, "snapshot: --out: the path is empty");
	return err;
}

/* One request; 0 for a 2xx answer, else EXIT_RUNTIME_ERROR with the reason said on stderr. */
static int request(const char *sock, int timeout_s, const char *method, const char *path, const char *body,
		   const char **resp, size_t *resp_len)
{
	static char buf[HTTP_HEAD_MAX + API_BODY_MAX];
	struct errmsg e;
	int status;

	if (ctl_exchange(sock, timeout_s, method, path, body, buf, sizeof(buf), &status, resp, resp_len, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (status >= 200 && status <= 299)
		return 0;
	ctl_print_fault(status, *resp, *resp_len);
	return EXIT_RUNTIME_ERROR;
}

struct state_pick {
	char *state;
	size_t cap;
};

/* InstanceInfo's "state" member (its names have no escapes); the others are passed over. */
static int pick_state(void *ctx, const struct json_item *it, struct errmsg *e)
{
	struct state_pick *p = ctx;

	if (it->key_len != 5 || memcmp(it->key, "state", 5) || it->value[0] != '"')
		return 0;
	if (it->value_len - 2 >= p->cap)
		return errmsg_set(e, EINVAL, "its state is too long");
	memcpy(p->state, it->value + 1, it->value_len - 2);
	p->state[it->value_len - 2] = '\0';
	return 0;
}

/* The VM's state from GET /: "Running", "Paused" or "Not started". */
static int get_state(const char *sock, char *state, size_t cap)
{
	struct state_pick pick = { state, cap };
	const char *resp = NULL;
	size_t len = 0;
	struct errmsg e;
	int err;

	state[0] = '\0';
	if ((err = request(sock, SNAPSHOT_REQUEST_TIMEOUT_S, "GET", "/", NULL, &resp, &len)))
		return err;
	if (!resp || json_for_each(resp, len, true, pick_state, &pick, &e) || !state[0]) {
		log_error("snapshot: %s's GET / has no state", sock);
		return EXIT_RUNTIME_ERROR;
	}
	return 0;
}

static int set_paused(const char *sock, bool paused)
{
	const char *resp = NULL;
	size_t len = 0;

	return request(sock, SNAPSHOT_REQUEST_TIMEOUT_S, "PATCH", "/vm",
		       paused ? "{\"state\": \"Paused\"}" : "{\"state\": \"Resumed\"}", &resp, &len);
}

/* DIR made if missing (0700: guest memory is as private as the guest), and its absolute path: the VM's kvmini opens it. */
static int prepare_dir(const char *out, char *abs)
{
	if (mkdir(out, 0700) && errno != EEXIST) {
		log_error("snapshot: --out %s: %s", out, strerror(errno));
		return EXIT_RUNTIME_ERROR;
	}
	if (!realpath(out, abs)) {
		log_error("snapshot: --out %s: %s", out, strerror(errno));
		return EXIT_RUNTIME_ERROR;
	}
	return 0;
}

static int create(const struct snapshot_args *a, const char *dir)
{
	static char state_path[PATH_MAX + 16], mem_path[PATH_MAX + 16], body[2 * sizeof(state_path) * 6 + 128];
	const char *resp = NULL;
	struct json_out j;
	size_t len = 0;

	snprintf(state_path, sizeof(state_path), "%s/" SNAPSHOT_STATE_FILE, dir);
	snprintf(mem_path, sizeof(mem_path), "%s/" SNAPSHOT_MEMORY_FILE, dir);
	json_out_init(&j, body, sizeof(body));
	json_object_begin(&j, NULL);
	json_put_string(&j, "snapshot_type", a->diff ? "Diff" : "Full");
	json_put_string(&j, "snapshot_path", state_path);
	json_put_string(&j, "mem_file_path", mem_path);
	json_object_end(&j);
	if (json_out_finish(&j) < 0) {
		log_error("snapshot: --out %s: the path is too long", dir);
		return EXIT_USAGE;
	}
	return request(a->sock, SNAPSHOT_CREATE_TIMEOUT_S, "PUT", "/snapshot/create", body, &resp, &len);
}

int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_args a;
	char state[16], dir[PATH_MAX];
	struct errmsg e;
	bool was_running;
	int err, code;

	err = snapshot_parse_args(argc, argv, &a, &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "snapshot", &snapshot_usage);
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	if ((code = get_state(a.sock, state, sizeof(state))))
		return code;
	if (strcmp(state, "Running") && strcmp(state, "Paused")) {
		log_error("snapshot: the VM at %s is %s: nothing to save yet", a.sock, state);
		return EXIT_RUNTIME_ERROR;
	}
	if ((code = prepare_dir(a.out, dir)))
		return code;
	was_running = !strcmp(state, "Running");
	if (was_running && (code = set_paused(a.sock, true)))
		return code;
	code = create(&a, dir);
	/* Resumed even when the snapshot failed: the VM goes on as it was. */
	if (was_running && !a.keep_paused && set_paused(a.sock, false))
		code = EXIT_RUNTIME_ERROR;
	if (!code)
		printf("saved into %s%s\n", dir, was_running && a.keep_paused ? " (paused)" : "");
	return code;
}
