// SPDX-License-Identifier: Apache-2.0
/*
 * The requests Firecracker rejects (and a few near them it accepts), through the router over the fake backend:
 * each gets Firecracker's status, and every answer's body is what the schema of Firecracker's API
 * (tests/api/firecracker-api.schema.json) declares for that status. A row where kvmini still answers
 * otherwise names kvmini's status in .kvmini, with the reason: the test then wants that status, so such a row
 * fails as soon as kvmini answers as Firecracker does, and its mark must go.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/backend.h"
#include "api/router.h"
#include "fake_backend.h"
#include "schema_check.h"

/* What the fake VM went through before the row's request. */
enum stage {
	CONFIGURED, /* a kernel and a root drive */
	STARTED,    /* then InstanceStart */
	PAUSED,     /* then paused */
	FRESH,      /* nothing at all (a snapshot load) */
};

struct row {
	enum stage stage;
	enum http_method method;
	const char *path;
	const char *body;    /* "@K@" and "@D@": an existing kernel and drive file; "@N@" a path with no file */
	int firecracker;     /* Firecracker's status */
	int kvmini;	     /* non-zero: kvmini's status while it differs */
	const char *why;     /* what the row shows, or why kvmini differs */
};

#define MC "/machine-config"
static const struct row rows[] = {
	/* machine-config: Firecracker's limits (MAX_SUPPORTED_VCPUS 32, SMT wants 1 or an even count). */
	{ PAUSED, HTTP_PUT, MC, "{\"vcpu_count\": 0, \"mem_size_mib\": 128}", 400, 0, "no vCPU" },
	{ FRESH, HTTP_PUT, MC, "{\"vcpu_count\": 33, \"mem_size_mib\": 128}", 400, 0, "more than 32 vCPUs" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 3, \"mem_size_mib\": 128, \"smt\": true}", 400, 0, "SMT, odd count" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"smt\": true}", 204, 0,
	  "SMT, even count" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"smt\": true}", 204, 0,
	  "SMT, one vCPU: firectl's default" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"cpu_template\": \"None\"}", 204, 0,
	  "cpu_template None" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"track_dirty_pages\": false}", 204, 0,
	  "track_dirty_pages" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 1}", 400, 0, "no mem_size_mib" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": null, \"mem_size_mib\": 128}", 400, 0, "null for a required field" },
	{ CONFIGURED, HTTP_PUT, MC, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"vcpus\": 2}", 400, 0, "unknown field" },
	{ CONFIGURED, HTTP_PATCH, MC, "{}", 400, 0, "PATCH that changes nothing" },
	{ CONFIGURED, HTTP_PATCH, MC, "{\"vcpu_count\": 33}", 400, 0, "PATCH to 33 vCPUs" },

	/* boot-source */
	{ CONFIGURED, HTTP_PUT, "/boot-source", "{}", 400, 0, "no kernel_image_path" },
	{ CONFIGURED, HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"@K@\", \"initrd_path\": null}", 204, 0,
	  "null for an optional field (Firecracker's vm_config.json)" },
	{ CONFIGURED, HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"@K@\", \"root\": \"/dev/vda\"}", 400, 0,
	  "unknown field" },

	/* drives */
	{ CONFIGURED, HTTP_PUT, "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D@\", \"is_read_only\": false}", 400, 0, "no is_root_device" },
	{ CONFIGURED, HTTP_PUT, "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"is_root_device\": true, \"is_read_only\": false}",
	  400, 0, "no path_on_host" },
	{ CONFIGURED, HTTP_PUT, "/drives/rootfs",
	  "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/nonexistent/kvmini.img\", \"is_root_device\": true, "
	  "\"is_read_only\": false}", 400, 0, "path_on_host that does not exist" },
	{ CONFIGURED, HTTP_PUT, "/drives/rootfs", "{\"drive_id\": \"other\", \"path_on_host\": \"@D@\", \"is_root_device\": true}",
	  400, 0, "id in the path is not the body's" },
	{ CONFIGURED, HTTP_PUT, "/drives/data",
	  "{\"drive_id\": \"data\", \"path_on_host\": \"@D@\", \"is_root_device\": false, \"rate_limiter\": {}}", 204, 0,
	  "an empty rate limiter, as Kata sends" },
	{ CONFIGURED, HTTP_PUT, "/drives/data",
	  "{\"drive_id\": \"data\", \"path_on_host\": \"@D@\", \"is_root_device\": false, \"partuuid\": \"x\"}", 204, 0,
	  "partuuid" },
	{ CONFIGURED, HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"@D@\", \"is_root_device\": false, "
					   "\"cache_type\": \"None\"}",
	  400, 0, "cache_type not Unsafe or Writeback" },
	{ CONFIGURED, HTTP_PATCH, "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D@\"}", 400, 0,
	  "PATCH of a drive before the start" },

	/* interfaces */
	{ CONFIGURED, HTTP_PUT, "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}", 400, 0, "no host_dev_name" },
	{ CONFIGURED, HTTP_PUT, "/network-interfaces/eth0",
	  "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"rx_rate_limiter\": {}, \"tx_rate_limiter\": {}}", 204, 0,
	  "empty rate limiters, as Kata sends" },

	/* actions and state */
	{ CONFIGURED, HTTP_PUT, "/actions", "{\"action_type\": \"Reboot\"}", 400, 0, "unknown action" },
	{ CONFIGURED, HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\", \"when\": 0}", 400, 0, "unknown field" },
	{ CONFIGURED, HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}", 400, 0, "pause before the start" },
	{ CONFIGURED, HTTP_PATCH, "/vm", "{\"state\": \"Frozen\"}", 400, 0, "no such state" },

	/* after InstanceStart: pre-boot-only requests */
	{ STARTED, HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"@K@\"}", 400, 0, "PUT /boot-source after the start" },
	{ STARTED, HTTP_PUT, MC, "{\"vcpu_count\": 1, \"mem_size_mib\": 128}", 400, 0, "PUT /machine-config after the start" },
	{ STARTED, HTTP_PATCH, MC, "{\"vcpu_count\": 2}", 400, 0, "PATCH /machine-config after the start" },
	{ STARTED, HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"@D@\", \"is_root_device\": false}",
	  400, 0, "PUT /drives after the start" },
	{ STARTED, HTTP_PUT, "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", 400, 0,
	  "PUT /network-interfaces after the start" },
	{ STARTED, HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}", 400, 0, "a second InstanceStart" },
	{ STARTED, HTTP_PATCH, "/drives/nosuch", "{\"drive_id\": \"nosuch\", \"path_on_host\": \"@D@\"}", 400, 0,
	  "PATCH of a drive that does not exist" },
	{ STARTED, HTTP_PATCH, "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D@\"}", 204, 0,
	  "PATCH of a drive after the start: Kata's hot-plug" },
	{ STARTED, HTTP_PATCH, "/drives/rootfs", "{\"drive_id\": \"other\", \"path_on_host\": \"@D@\"}", 400, 0,
	  "PATCH with another id in the body" },

	/* snapshots: create on a paused VM only, load into a fresh process only */
#define SC "/snapshot/create"
#define SL "/snapshot/load"
	{ CONFIGURED, HTTP_PUT, SC, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@N@\"}", 400, 0,
	  "create before the start" },
	{ STARTED, HTTP_PUT, SC, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@N@\"}", 400, 0, "create while running" },
	{ PAUSED, HTTP_PUT, SC, "{\"snapshot_path\": \"@D@\"}", 400, 0, "create without mem_file_path" },
	{ PAUSED, HTTP_PUT, SC, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@N@\", \"snapshot_type\": \"Diff\"}", 400,
	  0, "a Diff into a memory file that is not there" },
	{ PAUSED, HTTP_PUT, SC, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\", \"snapshot_type\": \"Full\"}", 204,
	  0, "create while paused" },
	{ FRESH, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\"}", 204, 0,
	  "load into a fresh process" },
	{ CONFIGURED, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\"}", 400, 0,
	  "load after PUT /boot-source and /drives" },
	{ STARTED, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\"}", 400, 0, "load after InstanceStart" },
	{ FRESH, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_backend\": {\"backend_type\": \"Uffd\", "
			    "\"backend_path\": \"@N@\"}}", 400, 0, "a Uffd memory backend" },
	{ FRESH, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\", \"mem_backend\": "
			    "{\"backend_type\": \"File\", \"backend_path\": \"@K@\"}}", 400, 0,
	  "both mem_file_path and mem_backend" },
	{ FRESH, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\"}", 400, 0, "neither mem_file_path nor mem_backend" },
	{ FRESH, HTTP_PUT, SL, "{\"snapshot_path\": \"@D@\", \"mem_file_path\": \"@K@\", \"resume\": true}", 400, 0,
	  "unknown field" },
};

static struct fake_vm fake;
static char out[API_BODY_MAX];
static char kernel[] = "/tmp/kvmini-rej-kernel-XXXXXX";
static char drive[] = "/tmp/kvmini-rej-drive-XXXXXX";
static char missing[sizeof(kernel) + 8];
static struct schema schema;

/* body with @K@, @D@ and @N@ replaced by the scratch files' paths. */
static void fill(const char *body, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	while (*body && n + 1 < cap) {
		const char *with = !strncmp(body, "@K@", 3)   ? kernel
				   : !strncmp(body, "@D@", 3) ? drive
				   : !strncmp(body, "@N@", 3) ? missing
							      : NULL;

		if (with) {
			n += (size_t)snprintf(buf + n, cap - n, "%s", with);
			body += 3;
		} else {
			buf[n++] = *body++;
			buf[n] = '\0';
		}
	}
	assert_true(n + 1 < cap);
}

static int route(enum http_method method, const char *path, const char *body)
{
	struct http_request req = { .method = method };
	static char filled[4096];
	int status = 0;

	fill(body, filled, sizeof(filled));
	req.body = filled;
	req.body_len = strlen(filled);
	snprintf(req.path, sizeof(req.path), "%s", path);
	assert_true(api_route(&fake_backend, &fake, &req, out, sizeof(out), &status) >= 0);
	return status;
}

static const char *method_name(enum http_method m)
{
	return m == HTTP_PUT ? "PUT" : m == HTTP_PATCH ? "PATCH" : "GET";
}

static int setup(void **state)
{
	FILE *f;
	int fd;

	(void)state;
	for (char *p = kernel; p; p = p == kernel ? drive : NULL) {
		fd = mkstemp(p);
		assert_true(fd >= 0);
		close(fd);
	}
	snprintf(missing, sizeof(missing), "%s.none", kernel);
	f = fopen("tests/api/firecracker-api.schema.json", "rb");
	assert_non_null(f);
	static char text[65536];
	schema.len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	schema.text = text;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel);
	unlink(drive);
	unlink(missing);
	return 0;
}

/* The VM at the row's stage: a kernel and a root drive "rootfs", then started and paused. */
static void configure(const struct row *r)
{
	fake_vm_reset(&fake);
	fake.real_outputs = true; /* a snapshot's files are opened as kvmini does */
	unlink(missing);
	if (r->stage == FRESH)
		return;
	assert_int_equal(route(HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"@K@\"}"), 204);
	assert_int_equal(route(HTTP_PUT, "/drives/rootfs",
			       "{\"drive_id\": \"rootfs\", \"path_on_host\": \"@D@\", \"is_root_device\": true, "
			       "\"is_read_only\": false}"),
			 204);
	if (r->stage == STARTED || r->stage == PAUSED)
		assert_int_equal(route(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}"), 204);
	if (r->stage == PAUSED)
		assert_int_equal(route(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}"), 204);
}

static void test_rows(void **state)
{
	unsigned failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int want = r->kvmini ? r->kvmini : r->firecracker;
		char status[8], def[64];
		struct errmsg e;
		int got;

		configure(r);
		got = route(r->method, r->path, r->body);
		if (got != want) {
			print_message("row %zu, %s: %s %s %s: got %d, want %d%s: %s\n", i, r->why, method_name(r->method),
				      r->path, r->body, got, want,
				      r->kvmini ? " (kvmini's status marked in the row; Firecracker's is another)" : "",
				      out);
			failed++;
			continue;
		}
		snprintf(status, sizeof(status), "%d", got);
		if (schema_lookup(&schema, method_name(r->method), r->path, status, def, sizeof(def), &e) ||
		    (def[0] ? schema_validate(&schema, def, out, strlen(out), &e) : (out[0] ? -EINVAL : 0))) {
			print_message("row %zu, %s: %s %s -> %d: the body does not follow the schema: %s (%s)\n", i,
				      r->why, method_name(r->method), r->path, got, def[0] ? e.text : "a body", out);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	alarm(20);
	return cmocka_run_group_tests(tests, setup, teardown);
}
