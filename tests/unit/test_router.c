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
#include <sys/stat.h>

#include "api/backend.h"
#include "api/router.h"
#include "fake_backend.h"
#include "log.h"
#include "metrics.h"
#include "test_files.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"

/* The fake VM records what it was asked; fake.err makes its operations fail. */
static struct fake_vm fake;
static char out[API_BODY_MAX];
static int status;

/* The drives' images: path_on_host must exist at PUT. The tests run in a scratch directory that has them. */
static char scratch[] = "/tmp/kvmini-test-router-XXXXXX";

static int group_setup(void **state)
{
	static const char *const images[] = { "r.img", "r2.img", "d.img", "d", "r" };

	(void)state;
	if (!mkdtemp(scratch) || chdir(scratch))
		return -1;
	for (unsigned i = 0; i < sizeof(images) / sizeof(images[0]); i++)
		test_write_file(images[i], "");
	if (symlink("r.img", "link.img") || mkdir("dir", 0755))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const files[] = { "r.img", "r2.img", "d.img", "d", "r", "link.img" };

	(void)state;
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir("dir");
	return rmdir(scratch);
}

static int setup(void **state)
{
	(void)state;
	log_file_reset();
	metrics_reset();
	fake_vm_reset(&fake);
	fake.real_outputs = true;
	memset(out, 0, sizeof(out));
	status = 0;
	return 0;
}

/* Routes one request; returns the body's length. */
static int request(enum http_method method, const char *path, const char *body)
{
	struct http_request req = { .method = method, .body = body, .body_len = body ? strlen(body) : 0 };
	int len;

	snprintf(req.path, sizeof(req.path), "%s", path);
	len = api_route(&fake_backend, &fake, &req, out, sizeof(out), &status);
	assert_int_equal((size_t)len, strlen(out));
	return len;
}

/* The answer is a fault with this status whose message contains fragment. */
static void expect_fault(int want_status, const char *fragment)
{
	char msg[512];
	const struct json_field f[] = {
		{ .name = "fault_message", .type = JSON_STRING, .required = true, .str = msg, .str_cap = sizeof(msg) },
	};
	struct errmsg e;

	assert_int_equal(status, want_status);
	if (json_read_object(out, strlen(out), f, 1, &e))
		fail_msg("not a fault body: %s (%s)", out, e.text);
	if (!strstr(msg, fragment))
		fail_msg("fault \"%s\" does not mention \"%s\"", msg, fragment);
}

static void expect_no_content(void)
{
	assert_int_equal(status, 204);
	assert_string_equal(out, "");
}

static void test_info(void **state)
{
	(void)state;
	request(HTTP_GET, "/", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"id\":\"test-vm\",\"state\":\"Not started\",\"vmm_version\":\"1.2.3\","
				 "\"app_name\":\"kvmini\"}");
	fake.state = API_STATE_RUNNING;
	request(HTTP_GET, "/", NULL);
	assert_non_null(strstr(out, "\"state\":\"Running\""));
	fake.state = API_STATE_PAUSED;
	request(HTTP_GET, "/", NULL);
	assert_non_null(strstr(out, "\"state\":\"Paused\""));
	request(HTTP_GET, "/version", NULL);
	assert_string_equal(out, "{\"firecracker_version\":\"1.2.3\"}");
}

static void test_pause_resume(void **state)
{
	(void)state;
	request(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}");
	expect_fault(400, "not started");
	fake.state = API_STATE_RUNNING;
	request(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}");
	expect_no_content();
	assert_int_equal(fake.state, API_STATE_PAUSED);
	assert_int_equal(fake.paused, 1);
	request(HTTP_PATCH, "/vm", "{\"state\": \"Resumed\"}");
	expect_no_content();
	assert_int_equal(fake.paused, 0);
}

static void test_pause_errors(void **state)
{
	(void)state;
	request(HTTP_PATCH, "/vm", "{\"state\": \"Frozen\"}");
	expect_fault(400, "Frozen");
	request(HTTP_PATCH, "/vm", NULL);
	expect_fault(400, "JSON body");
	request(HTTP_PATCH, "/vm", "{\"state\": \"Paused\", \"extra\": 1}");
	expect_fault(400, "extra");
	request(HTTP_PATCH, "/vm", "[1]");
	assert_int_equal(status, 400);
	assert_int_equal(fake.paused, -1);

	fake.err = -EINVAL;
	fake.err_msg = "not started";
	request(HTTP_PATCH, "/vm", "{\"state\": \"Paused\"}");
	expect_fault(400, "not started");
}

static void test_actions(void **state)
{
	(void)state;
	request(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}");
	expect_fault(400, "no kernel");
	snprintf(fake.cfg.kernel_path, sizeof(fake.cfg.kernel_path), "/k");
	request(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}");
	expect_no_content();
	assert_int_equal(fake.action, API_ACTION_INSTANCE_START);
	request(HTTP_PUT, "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
	expect_no_content();
	assert_int_equal(fake.action, API_ACTION_SEND_CTRL_ALT_DEL);
	request(HTTP_PUT, "/actions", "{\"action_type\": \"Stop\"}");
	expect_no_content();
	assert_int_equal(fake.action, API_ACTION_STOP);

	request(HTTP_PUT, "/actions", "{\"action_type\": \"FlushMetrics\"}");
	expect_no_content();
	assert_int_equal(fake.action, API_ACTION_FLUSH_METRICS);

	fake.action = -1;
	request(HTTP_PUT, "/actions", "{\"action_type\": \"Reboot\"}");
	expect_fault(400, "Reboot");
	request(HTTP_PUT, "/actions", "{}");
	expect_fault(400, "action_type");
	assert_int_equal(fake.action, -1);

	fake.err = -EPERM;
	fake.err_msg = API_MSG_STARTED;
	request(HTTP_PUT, "/actions", "{\"action_type\": \"InstanceStart\"}");
	expect_fault(400, "after starting");
}

static void test_methods_and_paths(void **state)
{
	(void)state;
	request(HTTP_POST, "/", NULL);
	expect_fault(405, "POST");
	request(HTTP_GET, "/vm", NULL);
	expect_fault(405, "only PATCH");
	request(HTTP_GET, "/actions", NULL);
	expect_fault(405, "PUT");
	request(HTTP_DELETE, "/machine-config", NULL);
	expect_fault(405, "GET, PUT and PATCH");
	request(HTTP_OTHER, "/vm/config", NULL);
	assert_int_equal(status, 405);
	request(HTTP_GET, "/nothing", NULL);
	expect_fault(404, "/nothing");
	request(HTTP_GET, "/vm/", NULL);
	assert_int_equal(status, 404);
	request(HTTP_PUT, "/drives/", "{}");
	assert_int_equal(status, 404);
	request(HTTP_PUT, "/drives/a/b", "{}");
	assert_int_equal(status, 404);
	request(HTTP_GET, "/snapshot/create", NULL);
	expect_fault(405, "only PUT");
	request(HTTP_GET, "/cpu-config", NULL);
	expect_fault(404, "not implemented");
	assert_int_equal(fake.configures, 0);
}

static void test_boot_source(void **state)
{
	(void)state;
	request(HTTP_PUT, "/boot-source",
		"{\"kernel_image_path\": \"/k\", \"initrd_path\": \"/i\", \"boot_args\": \"quiet x=\\\"y\\\"\"}");
	expect_no_content();
	assert_string_equal(fake.last.section->name, "boot-source");
	assert_string_equal(fake.cfg.kernel_path, "/k");
	assert_string_equal(fake.cfg.initrd_path, "/i");
	assert_string_equal(fake.cfg.cmdline, "quiet x=\"y\"");

	request(HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"/k2\"}");
	expect_no_content();
	assert_string_equal(fake.cfg.initrd_path, "");

	request(HTTP_PUT, "/boot-source", "{\"initrd_path\": \"/i\"}");
	expect_fault(400, "kernel_image_path");
	fake.err = -EPERM;
	fake.err_msg = API_MSG_STARTED;
	request(HTTP_PUT, "/boot-source", "{\"kernel_image_path\": \"/k\"}");
	expect_fault(400, API_MSG_STARTED);
}

static void test_machine_config(void **state)
{
	(void)state;
	request(HTTP_GET, "/machine-config", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"vcpu_count\":1,\"mem_size_mib\":512,\"smt\":false,\"track_dirty_pages\":false,"
				 "\"huge_pages\":\"None\"}");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 4, \"mem_size_mib\": 1024}");
	expect_no_content();
	assert_int_equal(fake.cfg.nr_cpus, 4);
	assert_int_equal(fake.cfg.mem_size, 1024ULL << 20);
	request(HTTP_PATCH, "/machine-config", "{\"mem_size_mib\": 256}");
	expect_no_content();
	assert_int_equal(fake.cfg.nr_cpus, 4);
	assert_int_equal(fake.cfg.mem_size, 256ULL << 20);

	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 256}");
	expect_fault(400, "vcpu_count");
	/* Firecracker's limit through the API; kvmini run --cpus keeps its own. */
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 33, \"mem_size_mib\": 256}");
	expect_fault(400, "from 1 to 32");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 32}");
	expect_fault(400, "mem_size_mib");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1}");
	expect_fault(400, "mem_size_mib");
	request(HTTP_PATCH, "/machine-config", "{\"vcpu_count\": \"2\"}");
	expect_fault(400, "vcpu_count");
	request(HTTP_PATCH, "/machine-config", "{}");
	expect_fault(400, "no field");
	request(HTTP_PATCH, "/machine-config", "{\"smt\": null}");
	expect_fault(400, "no field");
	assert_int_equal(fake.cfg.nr_cpus, 4);

	/* Firecracker's other fields, null as absent. */
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": true, "
					     "\"track_dirty_pages\": true, \"huge_pages\": \"2M\", \"cpu_template\": \"None\"}");
	expect_no_content();
	assert_true(fake.cfg.smt);
	assert_true(fake.cfg.track_dirty_pages);
	assert_true(fake.cfg.hugepages);
	request(HTTP_GET, "/machine-config", NULL);
	assert_string_equal(out, "{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":true,\"track_dirty_pages\":true,"
				 "\"huge_pages\":\"2M\"}");
	/* PATCH keeps what it does not name; PUT sets the defaults again. */
	request(HTTP_PATCH, "/machine-config", "{\"vcpu_count\": 4, \"cpu_template\": null}");
	expect_no_content();
	assert_true(fake.cfg.smt);
	assert_int_equal(fake.cfg.nr_cpus, 4);
	request(HTTP_PATCH, "/machine-config", "{\"vcpu_count\": 3}");
	expect_fault(400, "1 or even");
	request(HTTP_PATCH, "/machine-config", "{\"mem_size_mib\": 255}");
	expect_fault(400, "multiple of 2");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 256, \"smt\": true}");
	expect_no_content();
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 256, \"huge_pages\": null, "
					     "\"track_dirty_pages\": null, \"smt\": false}");
	expect_no_content();
	assert_false(fake.cfg.smt);
	assert_false(fake.cfg.track_dirty_pages);
	assert_false(fake.cfg.hugepages);
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 256, \"cpu_template\": \"T2\"}");
	expect_fault(400, "kvmini has no CPU templates; use \"None\"");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 256, \"huge_pages\": \"1G\"}");
	expect_fault(400, "huge_pages");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 256, \"smt\": 1}");
	expect_fault(400, "smt");
	assert_int_equal(fake.cfg.nr_cpus, 3);
}

static void test_drives(void **state)
{
	(void)state;
	request(HTTP_PUT, "/drives/root",
		"{\"drive_id\": \"root\", \"path_on_host\": \"r.img\", \"is_root_device\": true, "
		"\"is_read_only\": true, \"cache_type\": \"Unsafe\", \"io_engine\": \"Sync\"}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 1);
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].id, "root");
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "r.img");
	assert_true(blk_config_of(&fake.cfg)->drives[0].readonly);
	assert_true(blk_config_of(&fake.cfg)->has_root);
	assert_int_equal(blk_config_of(&fake.cfg)->root, 0);

	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"is_root_device\": false, \"path_on_host\": \"d.img\"}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);
	assert_false(blk_config_of(&fake.cfg)->drives[1].readonly);

	/* The same id again updates the drive. */
	request(HTTP_PUT, "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"r2.img\", "
					  "\"is_root_device\": true, \"is_read_only\": false}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "r2.img");

	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"d.img\", "
					  "\"is_root_device\": true}");
	expect_fault(400, "root device");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"y\", \"is_root_device\": false, \"path_on_host\": \"d.img\"}");
	expect_fault(400, "differ");
	request(HTTP_PUT, "/drives/a23456789012345678901",
		"{\"drive_id\": \"a23456789012345678901\", \"is_root_device\": false, \"path_on_host\": \"d.img\"}");
	expect_fault(400, "drive_id");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"\"}");
	expect_fault(400, "path_on_host");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"d\", \"cache_type\": \"None\"}");
	expect_fault(400, "cache_type");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"d\", \"io_engine\": \"Uring\"}");
	expect_fault(400, "io_engine");
	/* Firecracker's rejections: a drive without is_root_device, a path that is not there. */
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"d\"}");
	expect_fault(400, "missing field 'is_root_device'");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"/nonexistent/x\"}");
	expect_fault(400, "drive '/nonexistent/x': No such file or directory");
	/* The rules of the start: the file itself, not a link to it, and a file or a block device. */
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"link.img\"}");
	expect_fault(400, "symbolic link");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"dir\"}");
	expect_fault(400, "a directory");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"d\", "
					"\"partuuid\": \"a b\"}");
	expect_fault(400, "partuuid");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false, \"path_on_host\": \"d\", "
					"\"rate_limiter\": {\"bandwidth\": {\"size\": 1}}}");
	expect_fault(400, "'rate_limiter': ");
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);

	/* Every field Firecracker has, null as absent, and GET /vm/config shows them back. */
	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"is_root_device\": false, \"path_on_host\": \"d\", "
					  "\"partuuid\": null, \"is_read_only\": null, \"cache_type\": \"Writeback\", "
					  "\"io_engine\": \"Async\", \"rate_limiter\": "
					  "{\"bandwidth\": {\"size\": 1048576, \"refill_time\": 1000}, \"ops\": null}}");
	expect_no_content();
	assert_false(blk_config_of(&fake.cfg)->drives[1].no_flush);
	assert_true(blk_config_of(&fake.cfg)->drives[1].io_engine_async);
	assert_int_equal(blk_config_of(&fake.cfg)->drives[1].rate_limiter.bandwidth.size, 1048576);
	request(HTTP_PUT, "/drives/root", "{\"drive_id\": \"root\", \"is_root_device\": true, \"path_on_host\": \"r\", "
					  "\"partuuid\": \"0eaa91a0-01\", \"rate_limiter\": {}}");
	expect_no_content();
	assert_true(blk_config_of(&fake.cfg)->drives[0].no_flush);
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, "\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"r\",\"is_root_device\":true,"
				    "\"partuuid\":\"0eaa91a0-01\",\"is_read_only\":false,\"cache_type\":\"Unsafe\","
				    "\"io_engine\":\"Sync\"},{\"drive_id\":\"data\",\"path_on_host\":\"d\",\"is_root_device\":false,"
				    "\"is_read_only\":false,\"cache_type\":\"Writeback\",\"io_engine\":\"Async\","
				    "\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,\"one_time_burst\":0,\"refill_time\":1000}}}]"));
}

/* PATCH /drives/{id}: after the start only, a new path or rate limiter, and the configuration follows. */
static void test_patch_drive(void **state)
{
	(void)state;
	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"is_root_device\": false, \"path_on_host\": \"d\"}");
	expect_no_content();
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"d.img\"}");
	expect_fault(400, API_MSG_NOT_STARTED);

	fake.state = API_STATE_RUNNING;
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\"}");
	expect_fault(400, "nothing to change");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": null, \"rate_limiter\": null}");
	expect_fault(400, "nothing to change");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/nonexistent\"}");
	expect_fault(400, "No such file");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"link.img\"}");
	expect_fault(400, "symbolic link");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"is_read_only\": true}");
	expect_fault(400, "is_read_only");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"other\", \"path_on_host\": \"d.img\"}");
	expect_fault(400, "differ");
	assert_int_equal(fake.patches, 1); /* only the one before the start reached the VM, which refused it */

	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"d.img\"}");
	expect_no_content();
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "d.img");
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"rate_limiter\": {\"ops\": {\"size\": 10, "
					    "\"refill_time\": 100}}}");
	expect_no_content();
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "d.img");
	assert_int_equal(blk_config_of(&fake.cfg)->drives[0].rate_limiter.ops.size, 10);
	assert_int_equal(fake.patches, 3);
	/* A bucket not given keeps its configuration. */
	request(HTTP_PATCH, "/drives/data", "{\"drive_id\": \"data\", \"rate_limiter\": {\"bandwidth\": {\"size\": 4096, "
					    "\"refill_time\": 1000}}}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->drives[0].rate_limiter.ops.size, 10);
	assert_int_equal(blk_config_of(&fake.cfg)->drives[0].rate_limiter.bandwidth.size, 4096);
}

/* /balloon: PUT before the start; GET; PATCH of it and of /balloon/statistics only after it. */
static void test_balloon(void **state)
{
	const struct balloon_config *b = balloon_config_of(&fake.cfg);

	(void)state;
	request(HTTP_PUT, "/balloon",
		"{\"amount_mib\": 64, \"deflate_on_oom\": true, \"stats_polling_interval_s\": 1}");
	expect_no_content();
	assert_true(b->enabled);
	assert_int_equal(b->amount_mib, 64);
	request(HTTP_GET, "/balloon", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"amount_mib\":64,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}");
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, "\"balloon\":{\"amount_mib\":64,"));
	request(HTTP_PUT, "/balloon", "{\"amount_mib\": 64}");
	expect_fault(400, "deflate_on_oom");

	/* Before the start: the backend refuses what needs the device. */
	request(HTTP_PATCH, "/balloon", "{\"amount_mib\": 8}");
	expect_fault(400, API_MSG_NOT_STARTED);
	request(HTTP_GET, "/balloon/statistics", NULL);
	expect_fault(400, API_MSG_NOT_STARTED);

	fake.state = API_STATE_RUNNING;
	request(HTTP_PATCH, "/balloon", "{\"amount_mib\": 8}");
	expect_no_content();
	assert_string_equal(fake.last.sub, "");
	assert_int_equal(b->amount_mib, 8);
	request(HTTP_PATCH, "/balloon/statistics", "{\"stats_polling_interval_s\": 5}");
	expect_no_content();
	assert_string_equal(fake.last.sub, "statistics");
	assert_int_equal(b->stats_polling_interval_s, 5);
	assert_int_equal(b->amount_mib, 8);
	assert_int_equal(fake.patches, 3);
	request(HTTP_GET, "/balloon/statistics", NULL);
	assert_int_equal(status, 200);

	/* Each PATCH body has its one field. */
	request(HTTP_PATCH, "/balloon", "{\"stats_polling_interval_s\": 5}");
	expect_fault(400, "stats_polling_interval_s");
	request(HTTP_PATCH, "/balloon/statistics", "{\"amount_mib\": 5}");
	expect_fault(400, "amount_mib");
	request(HTTP_PATCH, "/balloon", "{}");
	expect_fault(400, "amount_mib");
	request(HTTP_PATCH, "/balloon", NULL);
	assert_int_equal(status, 400);
	request(HTTP_PUT, "/balloon/statistics", "{}");
	expect_fault(405, "GET and PATCH");
	request(HTTP_GET, "/balloon/other", NULL);
	expect_fault(404, "no such endpoint");
	request(HTTP_PATCH, "/balloon/hinting/start", "{}");
	expect_fault(404, "not implemented");
	assert_int_equal(fake.patches, 3);
}

/* A configuration file's "balloon" is read as PUT /balloon reads its body; null is no balloon. */
static void test_balloon_config_file(void **state)
{
	static const char file[] = "{\"balloon\": {\"amount_mib\": 3, \"deflate_on_oom\": false}}";
	static const char none[] = "{\"balloon\": null}", partial[] = "{\"balloon\": {\"amount_mib\": 3}}";
	static struct vm_config cfg;
	struct errmsg e;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(api_config_parse_file(&cfg, none, strlen(none), &e), 0);
	assert_false(balloon_config_of(&cfg)->enabled);
	assert_int_equal(api_config_parse_file(&cfg, file, strlen(file), &e), 0);
	assert_true(balloon_config_of(&cfg)->enabled);
	assert_int_equal(balloon_config_of(&cfg)->amount_mib, 3);
	assert_int_equal(api_config_parse_file(&cfg, partial, strlen(partial), &e), -EINVAL);
	assert_non_null(strstr(e.text, "'balloon': missing field 'deflate_on_oom'"));
}

static void test_too_many_drives(void **state)
{
	char path[32], body[128];

	(void)state;
	for (unsigned i = 0; i <= BLK_MAX_DRIVES; i++) {
		snprintf(path, sizeof(path), "/drives/d%u", i);
		snprintf(body, sizeof(body), "{\"drive_id\": \"d%u\", \"is_root_device\": false, \"path_on_host\": \"d\"}", i);
		request(HTTP_PUT, path, body);
		if (i < BLK_MAX_DRIVES)
			expect_no_content();
		else
			expect_fault(400, "at most");
	}
}

static void test_network_interfaces(void **state)
{
	(void)state;
	request(HTTP_PUT, "/network-interfaces/eth0",
		"{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:AC:10:00:02\"}");
	expect_no_content();
	assert_int_equal(net_config_of(&fake.cfg)->nr, 1);
	assert_string_equal(net_config_of(&fake.cfg)->nets[0].tap, "tap0");
	assert_true(net_config_of(&fake.cfg)->nets[0].mac_set);
	assert_int_equal(net_config_of(&fake.cfg)->nets[0].mac[5], 2);
	assert_string_equal(net_config_of(&fake.cfg)->nets[0].id, "eth0");

	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\"}");
	expect_no_content();
	assert_false(net_config_of(&fake.cfg)->nets[1].mac_set);
	assert_int_equal(net_config_of(&fake.cfg)->nets[1].mtu, 0);

	/* mtu in Firecracker's range; the rate limiters are read as objects (Kata sends {}). */
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 67}");
	expect_fault(400, "'mtu' must be an integer from 68 to 65535");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 65536}");
	expect_fault(400, "mtu");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", "
						      "\"tx_rate_limiter\": {\"ops\": 5}}");
	expect_fault(400, "'tx_rate_limiter': ");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", "
						      "\"rx_rate_limiter\": []}");
	expect_fault(400, "rx_rate_limiter");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 1500, "
						      "\"guest_mac\": null, \"rx_rate_limiter\": {}, \"tx_rate_limiter\": "
						      "{\"bandwidth\": {\"size\": 1000, \"refill_time\": 10}}}");
	expect_no_content();
	assert_int_equal(net_config_of(&fake.cfg)->nets[1].mtu, 1500);
	assert_false(rate_limiter_config_active(&net_config_of(&fake.cfg)->nets[1].rx_rate_limiter));
	assert_int_equal(net_config_of(&fake.cfg)->nets[1].tx_rate_limiter.bandwidth.refill_time_ms, 10);
	/* kvmini's queues: 1 to 4, and over 1 without a rate limiter (its timer wakes one pair). */
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"queues\": 5}");
	expect_fault(400, "'queues' must be an integer from 1 to 4");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"queues\": 2, "
						      "\"tx_rate_limiter\": {\"ops\": {\"size\": 10, \"refill_time\": 10}}}");
	expect_fault(400, "rate limiters need 'queues' 1");
	request(HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"queues\": 2}");
	expect_no_content();
	assert_int_equal(net_config_of(&fake.cfg)->nets[1].queues, 2);
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, "\"host_dev_name\":\"tap1\",\"queues\":2"));

	request(HTTP_PUT, "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap0\"}");
	expect_fault(400, "eth0");
	request(HTTP_PUT, "/network-interfaces/eth2",
		"{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap2\", \"guest_mac\": \"06:00:ac:10:00:02\"}");
	expect_fault(400, "guest_mac");
	request(HTTP_PUT, "/network-interfaces/eth2",
		"{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap2\", \"guest_mac\": \"zz\"}");
	expect_fault(400, "zz");
	request(HTTP_PUT, "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"a,b\"}");
	expect_fault(400, "host_dev_name");
	request(HTTP_PUT, "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"a/b\"}");
	assert_int_equal(status, 400);
	request(HTTP_PUT, "/network-interfaces/eth2", "{\"iface_id\": \"eth3\", \"host_dev_name\": \"tap3\"}");
	expect_fault(400, "differ");
	/* Updating eth0 may keep its own tap and MAC. */
	request(HTTP_PUT, "/network-interfaces/eth0",
		"{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:ac:10:00:02\"}");
	expect_no_content();
	assert_int_equal(net_config_of(&fake.cfg)->nr, 2);
}

/* PUT /entropy makes the virtio-rng device, with its rate limiter; GET /vm/config shows it only then. */
static void test_entropy(void **state)
{
	const struct rng_config *rng = rng_config_of_const(&fake.cfg);

	(void)state;
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, ",\"entropy\":null,"));
	request(HTTP_PUT, "/entropy", "{}");
	expect_no_content();
	assert_true(rng->enabled);
	assert_false(rate_limiter_config_active(&rng->rate_limiter));
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, ",\"entropy\":{},"));
	request(HTTP_PUT, "/entropy", "{\"rate_limiter\": {\"bandwidth\": {\"size\": 4096, \"refill_time\": 100}}}");
	expect_no_content();
	assert_int_equal(rng->rate_limiter.bandwidth.size, 4096);
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, ",\"entropy\":{\"rate_limiter\":{\"bandwidth\":{\"size\":4096,"
				    "\"one_time_burst\":0,\"refill_time\":100}}},"));
	request(HTTP_PUT, "/entropy", "{\"rate_limiter\": {\"ops\": {\"size\": 1}}}");
	expect_fault(400, "'rate_limiter': 'ops': missing field 'refill_time'");
	request(HTTP_PUT, "/entropy", "{\"rate\": {}}");
	expect_fault(400, "unknown field 'rate'");
	assert_int_equal(rng->rate_limiter.bandwidth.size, 4096);
	request(HTTP_PATCH, "/entropy", "{}");
	assert_int_equal(status, 405);
}

/* PATCH /network-interfaces/{id}: its rate limiters after the start; the buckets given replace the old ones. */
static void test_interface_patch(void **state)
{
	const struct net_config *n = &net_config_of(&fake.cfg)->nets[0];

	(void)state;
	request(HTTP_PUT, "/network-interfaces/eth0",
		"{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", "
		"\"tx_rate_limiter\": {\"ops\": {\"size\": 10, \"refill_time\": 1000}}}");
	expect_no_content();
	request(HTTP_PATCH, "/network-interfaces/eth0",
		"{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1, \"refill_time\": 1}}}");
	expect_fault(400, "before starting");
	fake.state = API_STATE_RUNNING;
	request(HTTP_PATCH, "/network-interfaces/eth0",
		"{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 10}}, "
		"\"tx_rate_limiter\": {\"bandwidth\": {\"size\": 2000, \"refill_time\": 20}}}");
	expect_no_content();
	assert_int_equal(fake.patches, 2);
	assert_int_equal(n->rx_rate_limiter.bandwidth.size, 1000);
	assert_int_equal(n->tx_rate_limiter.bandwidth.size, 2000);
	assert_int_equal(n->tx_rate_limiter.ops.size, 10); /* not given: kept */
	request(HTTP_GET, "/vm/config", NULL);
	assert_non_null(strstr(out, "\"tx_rate_limiter\":{\"bandwidth\":{\"size\":2000,\"one_time_burst\":0,"
				    "\"refill_time\":20},\"ops\":{\"size\":10,"));
	request(HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}");
	expect_fault(400, "nothing to change");
	request(HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap1\"}");
	expect_fault(400, "unknown field 'host_dev_name'");
	request(HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\": \"eth1\", \"rx_rate_limiter\": {}}");
	expect_fault(400, "differ");
	request(HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"ops\": 1}}");
	expect_fault(400, "'rx_rate_limiter': 'ops' must be an object");
	request(HTTP_PATCH, "/network-interfaces/eth9", "{\"iface_id\": \"eth9\", \"rx_rate_limiter\": {}}");
	expect_fault(400, "eth9");
}

/* PUT /vsock: Firecracker's fields (vsock_id kept), the CID checked; a second PUT replaces the first. */
static void test_vsock(void **state)
{
	(void)state;
	request(HTTP_PUT, "/vsock", "{\"guest_cid\": 2, \"uds_path\": \"/tmp/v.sock\"}");
	expect_fault(400, "guest_cid");
	request(HTTP_PUT, "/vsock", "{\"guest_cid\": 3}");
	expect_fault(400, "uds_path");
	request(HTTP_PUT, "/vsock", "{\"vsock_id\": \"v\", \"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}");
	expect_no_content();
	request(HTTP_PUT, "/vsock", "{\"guest_cid\": 4, \"uds_path\": \"/tmp/w.sock\", \"vsock_id\": null}");
	expect_no_content();
	assert_int_equal(vsock_config_of(&fake.cfg)->cid, 4);
	assert_string_equal(vsock_config_of(&fake.cfg)->uds, "/tmp/w.sock");
	assert_string_equal(vsock_config_of(&fake.cfg)->id, "");
}

static const char full_config[] =
	"{\"boot-source\":{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\",\"boot_args\":\"quiet\"},"
	"\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":true,\"track_dirty_pages\":true,"
	"\"huge_pages\":\"None\"},\"balloon\":null,"
	"\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"r\",\"is_root_device\":true,\"is_read_only\":true,"
	"\"cache_type\":\"Unsafe\",\"io_engine\":\"Sync\"}],"
	"\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
	"\"guest_mac\":\"06:00:ac:10:00:02\",\"mtu\":9000,"
	"\"rx_rate_limiter\":{\"ops\":{\"size\":100,\"one_time_burst\":10,\"refill_time\":1000}},"
	"\"tx_rate_limiter\":{\"bandwidth\":{\"size\":4096,\"one_time_burst\":0,\"refill_time\":100}}}],"
	"\"entropy\":null,\"vsock\":{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"}}";

static void test_vm_config_roundtrip(void **state)
{
	struct errmsg e;

	(void)state;
	request(HTTP_GET, "/vm/config", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"boot-source\":{\"kernel_image_path\":\"\",\"boot_args\":\"\"},"
				 "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":512,\"smt\":false,"
				 "\"track_dirty_pages\":false,\"huge_pages\":\"None\"},\"balloon\":null,"
				 "\"drives\":[],\"network-interfaces\":[],\"entropy\":null,\"vsock\":null}");

	/* GET /vm/config gives what --config-file takes. */
	assert_int_equal(api_config_parse_file(&fake.cfg, full_config, strlen(full_config), &e), 0);
	request(HTTP_GET, "/vm/config", NULL);
	assert_string_equal(out, full_config);
}

static void test_config_file(void **state)
{
	static const char spaced[] = " {\n \"drives\" : [ ] ,\n \"boot-source\" : { \"kernel_image_path\" : \"/a b\" }\n}\n";
	/* Static: a vm_config is zeroed before vm_config_init, and large. */
	static struct vm_config cfg;
	struct errmsg e;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(api_config_parse_file(&cfg, spaced, strlen(spaced), &e), 0);
	assert_string_equal(cfg.kernel_path, "/a b");
	assert_int_equal(api_config_parse_file(&cfg, "{}", 2, &e), 0);
	/* What Firecracker's clients write: null sections, empty lists, empty sections kvmini does not have. */
	static const char empties[] = "{\"drives\": [], \"network-interfaces\": null, \"machine-config\": null, "
				      "\"logger\": null, \"pmem\": [ ], \"mmds-config\": null, \"cpu-config\": null}";
	assert_int_equal(api_config_parse_file(&cfg, empties, strlen(empties), &e), 0);
	assert_int_equal(cfg.nr_cpus, 1);

	static const char *const bad[][2] = {
		{ "", "not a JSON object" },
		{ "[]", "not a JSON object" },
		{ "{\"vsock\": {}}", "vsock" },
		{ "{\"mmds-config\": {\"network_interfaces\": []}}", "mmds-config" },
		{ "{\"frobnicate\": null}", "frobnicate" },
		{ "{\"machine-config\": []}", "machine-config" },
		{ "{\"machine-config\": {\"vcpu_count\": 33, \"mem_size_mib\": 128}}", "32" },
		{ "{\"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"r\"}]}", "is_root_device" },
		{ "{\"boot-source\": {}}", "kernel_image_path" },
		{ "{\"machine-config\": {\"vcpu_count\": 0, \"mem_size_mib\": 128}}", "machine-config" },
		{ "{\"drives\": {}}", "drives" },
		{ "{\"drives\": [{\"drive_id\": \"a\"}]}", "path_on_host" },
		/* Malformed JSON is refused before any section is read, with the byte where it goes wrong. */
		{ "{\"drives\": [1, ]}", "byte 15" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}", "invalid JSON" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}} x", "" },
		{ "{\"boot-source\" {}}", "':'" },
		{ "{\"a\": \"unterminated}", "" },
		{ "{\"network-interfaces\": [[[[[[[[[[[]]]]]]]]]]]}", "network-interfaces" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		vm_config_init(&cfg);
		e.text[0] = '\0';
		if (api_config_parse_file(&cfg, bad[i][0], strlen(bad[i][0]), &e) != -EINVAL)
			fail_msg("config file '%s' was taken", bad[i][0]);
		if (!strstr(e.text, bad[i][1]))
			fail_msg("config file '%s': \"%s\" does not mention \"%s\"", bad[i][0], e.text, bad[i][1]);
	}
}

static void test_config_to_boot(void **state)
{
	static struct vm_config cfg;
	static struct api_ctl ctl;
	char args[VM_CMDLINE_MAX + DEVICE_BOOT_ARGS_MAX];
	struct errmsg e;

	(void)state;
	vm_config_init(&cfg);
	assert_int_equal(api_config_startable(&cfg, &e), -EINVAL);
	assert_non_null(strstr(e.text, "boot-source"));

	assert_int_equal(api_config_parse_file(&cfg, full_config, strlen(full_config), &e), 0);
	assert_int_equal(api_config_startable(&cfg, &e), 0);
	assert_string_equal(cfg.kernel_path, "/k");
	assert_string_equal(cfg.initrd_path, "/i");
	assert_int_equal(cfg.nr_cpus, 2);
	assert_int_equal(cfg.mem_size, 256ULL << 20);
	assert_int_equal(blk_config_of(&cfg)->nr_drives, 1);
	assert_int_equal(net_config_of(&cfg)->nr, 1);
	assert_true(cfg.acpi);
	/* The root drive asks for its root= when the VM is built; the configuration keeps the client's boot_args. */
	assert_int_equal(devices_boot_args(&cfg, args, sizeof(args)), 0);
	assert_string_equal(args, "quiet root=/dev/vda ro");
	assert_string_equal(cfg.cmdline, "quiet");
	assert_int_equal(devices_boot_args(&cfg, args, 10), -E2BIG);

	/* Paths a client named: the files they end in are opened without following a symbolic link. */
	assert_true(blk_config_of(&cfg)->drives[0].path_from_api);
	assert_int_equal(api_ctl_init(&ctl, true, &cfg, &e), 0);
	assert_ptr_equal(ctl.cfg, &cfg);
	assert_true(cfg.paths_from_api);
	api_ctl_destroy(&ctl);
	/* kvmini run --api-sock's paths are the command line's. */
	assert_int_equal(api_ctl_init(&ctl, false, &cfg, &e), 0);
	assert_false(cfg.paths_from_api);
	api_ctl_destroy(&ctl);
}

/* The core's sections, then the device records' (virtio-balloon's, -blk's, -net's), in GET /vm/config's order. */
static void test_sections(void **state)
{
	static const char *const want[] = { "boot-source", "machine-config", "balloon", "drives",
					    "network-interfaces", "entropy", "vsock" };
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all);

	(void)state;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(all[i]->name, want[i]);
		assert_ptr_equal(api_section_find(want[i], strlen(want[i])), all[i]);
	}
	assert_null(all[2]->id_field);
	assert_string_equal(all[3]->id_field, "drive_id");
	assert_string_equal(all[4]->id_field, "iface_id");
	assert_null(all[0]->id_field);
	assert_null(all[5]->id_field);
	assert_null(api_section_find("drive", 5));
	assert_null(api_section_find("drives/x", 8));
}

static void test_regs(void **state)
{
	(void)state;
	fake.state = API_STATE_RUNNING;
	fake.cfg.nr_cpus = 4;
	request(HTTP_GET, "/vcpu/3/regs", NULL);
	assert_int_equal(status, 200);
	assert_int_equal(fake.regs_vcpu, 3);
	assert_non_null(strstr(out, "\"rip\":\"0xffffffff81000000\""));
	assert_non_null(strstr(out, "\"cs\":{\"selector\":\"0x10\""));

	fake.err = -EBUSY;
	fake.err_msg = "paused";
	request(HTTP_GET, "/vcpu/0/regs", NULL);
	expect_fault(409, "paused");
	fake.err = -ENOENT;
	fake.err_msg = "no vCPU 9";
	request(HTTP_GET, "/vcpu/9/regs", NULL);
	expect_fault(404, "no vCPU 9");
	fake.err = -EIO;
	fake.err_msg = NULL;
	request(HTTP_GET, "/vcpu/0/regs", NULL);
	assert_int_equal(status, 500);

	request(HTTP_GET, "/vcpu/x/regs", NULL);
	assert_int_equal(status, 404);
	request(HTTP_GET, "/vcpu/254/regs", NULL);
	assert_int_equal(status, 404);
	request(HTTP_GET, "/vcpu//regs", NULL);
	assert_int_equal(status, 404);
	request(HTTP_GET, "/vcpu/0/regs/", NULL);
	assert_int_equal(status, 404);
	request(HTTP_PUT, "/vcpu/0/regs", "{}");
	assert_int_equal(status, 405);
}

static void test_stats(void **state)
{
	(void)state;
	request(HTTP_GET, "/vm/stats", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"uptime_ms\":42}");
	fake.err = -EINVAL;
	fake.err_msg = "not started";
	request(HTTP_GET, "/vm/stats", NULL);
	expect_fault(400, "not started");
}

/* A buffer too small for the answer gives a fault, never an overflow. */
static void test_small_buffer(void **state)
{
	struct http_request req = { .method = HTTP_GET, .path = "/vm/config" };
	char small[64];
	int len;

	(void)state;
	memset(small, 'x', sizeof(small));
	len = api_route(&fake_backend, &fake, &req, small, 48, &status);
	assert_int_equal(status, 500);
	assert_true(len < 48);
	assert_int_equal(small[len], '\0');
	assert_int_equal(small[48], 'x');
	memset(small, 'x', sizeof(small));
	len = api_route(&fake_backend, &fake, &req, small, 4, &status);
	assert_true(len < 4);
	assert_int_equal(small[4], 'x');
	assert_int_equal(api_fault_body(small, 0, "x"), 0);
}

/* The file's text, NUL-terminated, into buf. */
static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* PUT /logger, before the start only: kvmini's log lines then also go to the file, in Firecracker's format. */
static void test_logger(void **state)
{
	char dir[] = "/tmp/kvmini-test-logger-XXXXXX", path[64], body[256], text[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(body, sizeof(body), "{\"log_path\": \"%s\", \"level\": \"wArNiNg\", \"show_level\": true}", path);
	request(HTTP_PUT, "/logger", body);
	expect_no_content();
	log_error("one error");
	log_info("not at warning level");
	read_text(path, text, sizeof(text));
	assert_non_null(strstr(text, ":ERROR] one error\n"));
	assert_null(strstr(text, "not at warning"));

	/* The level goes back to Info when left out; the rest stays. */
	request(HTTP_PUT, "/logger", "{\"show_log_origin\": true, \"module\": null}");
	expect_no_content();
	log_info("now at info");
	read_text(path, text, sizeof(text));
	assert_non_null(strstr(text, ":INFO:tests/unit/test_router.c:"));

	request(HTTP_PUT, "/logger", "{\"level\": \"loud\"}");
	expect_fault(400, "'level'");
	request(HTTP_PUT, "/logger", "{\"log_path\": \"/nonexistent-dir/log\"}");
	expect_fault(400, "/nonexistent-dir/log");
	request(HTTP_PUT, "/logger", "{\"log_level\": \"Info\"}");
	expect_fault(400, "log_level");
	request(HTTP_PUT, "/logger", NULL);
	expect_fault(400, "body");
	fake.state = API_STATE_RUNNING;
	request(HTTP_PUT, "/logger", "{\"level\": \"Debug\"}");
	expect_fault(400, "after starting");
	log_file_reset();
	unlink(path);
	rmdir(dir);
}

/* A config file's "logger" and "metrics" (Kata Containers puts both there) are set up as their PUTs are. */
static void test_config_file_outputs(void **state)
{
	char dir[] = "/tmp/kvmini-test-outputs-XXXXXX", text[2048], file[512];
	struct errmsg e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "{\"logger\": {\"log_path\": \"%s/log\", \"level\": \"Error\"}, "
		 "\"metrics\": {\"metrics_path\": \"%s/metrics\"}, \"boot-source\": {\"kernel_image_path\": \"/k\"}}",
		 dir, dir);
	assert_int_equal(api_config_parse_file(&fake.cfg, file, strlen(file), &e), 0);
	assert_true(metrics_enabled());
	log_error("into the file");
	snprintf(file, sizeof(file), "%s/log", dir);
	read_text(file, text, sizeof(text));
	assert_non_null(strstr(text, "] into the file\n"));
	unlink(file);

	snprintf(file, sizeof(file), "{\"logger\": null, \"metrics\": {\"metrics_path\": \"%s/metrics\"}}", dir);
	assert_int_equal(api_config_parse_file(&fake.cfg, file, strlen(file), &e), -EINVAL);
	assert_non_null(strstr(e.text, "'metrics': "));
	snprintf(file, sizeof(file), "{\"logger\": {\"level\": \"none\"}}");
	assert_int_equal(api_config_parse_file(&fake.cfg, file, strlen(file), &e), -EINVAL);
	assert_non_null(strstr(e.text, "'logger': 'level'"));
	log_file_reset();
	metrics_reset();
	snprintf(file, sizeof(file), "%s/metrics", dir);
	unlink(file);
	rmdir(dir);
}

/* PUT /metrics once, FlushMetrics after the start: one JSON line per flush, API requests counted by endpoint. */
static void test_metrics(void **state)
{
	char dir[] = "/tmp/kvmini-test-metrics-XXXXXX", path[64], body[256], text[4096];
	char *second;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrics", dir);
	request(HTTP_PUT, "/actions", "{\"action_type\": \"FlushMetrics\"}");
	expect_fault(400, "before starting");
	request(HTTP_PUT, "/metrics", "{\"metrics_path\": \"/tmp\"}");
	expect_fault(400, "/tmp");
	request(HTTP_PUT, "/metrics", "{}");
	expect_fault(400, "metrics_path");
	snprintf(body, sizeof(body), "{\"metrics_path\": \"%s\", \"properties\": {\"a\": \"b\"}}", path);
	request(HTTP_PUT, "/metrics", body);
	expect_fault(400, "properties");
	snprintf(body, sizeof(body), "{\"metrics_path\": \"%s\", \"emit_id\": true}", path);
	request(HTTP_PUT, "/metrics", body);
	expect_no_content();
	request(HTTP_PUT, "/metrics", body);
	expect_fault(400, "already");
	request(HTTP_GET, "/", NULL);
	fake.state = API_STATE_RUNNING;
	request(HTTP_PUT, "/actions", "{\"action_type\": \"FlushMetrics\"}");
	expect_no_content();
	request(HTTP_PUT, "/actions", "{\"action_type\": \"FlushMetrics\"}");
	expect_no_content();

	read_text(path, text, sizeof(text));
	second = strchr(text, '\n');
	assert_non_null(second);
	*second++ = '\0';
	/*
	 * The first flush counts what came before it: five PUT /metrics (four failed), GET /, the FlushMetrics
	 * refused before the start (a request is counted once answered).
	 */
	assert_non_null(strstr(text, "\"id\":\"anonymous-instance\""));
	assert_non_null(strstr(text, "\"metrics_count\":5,\"metrics_fails\":4"));
	assert_non_null(strstr(text, "\"instance_info_count\":1"));
	assert_non_null(strstr(text, "\"actions_count\":1,\"actions_fails\":1"));
	assert_non_null(strstr(text, "\"utc_timestamp_ms\":"));
	/* The second only what came between: the first flush's own request. */
	assert_non_null(strstr(second, "\"metrics_count\":0,\"metrics_fails\":0"));
	assert_non_null(strstr(second, "\"actions_count\":1,\"actions_fails\":0"));
	assert_non_null(strchr(second, '\n'));
	metrics_reset();
	unlink(path);
	rmdir(dir);
}

/* The size of a file in the scratch directory; -1 when it is not there. */
static long file_size(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (long)st.st_size;
}

static void test_snapshot_create(void **state)
{
	(void)state;
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\"}");
	expect_fault(400, "before starting");
	fake.state = API_STATE_RUNNING;
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\"}");
	expect_fault(400, "pause it first");
	assert_int_equal(file_size("s.state"), -1); /* refused before anything was opened */
	fake.state = API_STATE_PAUSED;

	/* Firecracker's fields: both paths required, the type Full by default, nothing else. */
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\"}");
	expect_fault(400, "mem_file_path");
	request(HTTP_PUT, "/snapshot/create", "{\"mem_file_path\": \"s.mem\"}");
	expect_fault(400, "snapshot_path");
	request(HTTP_PUT, "/snapshot/create",
		"{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\", \"snapshot_type\": \"Partial\"}");
	expect_fault(400, "Partial");
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\", \"version\": 1}");
	expect_fault(400, "version");
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"\", \"mem_file_path\": \"s.mem\"}");
	expect_fault(400, "'snapshot_path' is empty");
	request(HTTP_PUT, "/snapshot/create", NULL);
	expect_fault(400, "JSON body");
	assert_int_equal(fake.snapshots, 0);

	/* A Diff goes over a Full snapshot's memory file: without one, nothing is created. */
	request(HTTP_PUT, "/snapshot/create",
		"{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\", \"snapshot_type\": \"Diff\"}");
	expect_fault(400, "does not exist");
	assert_int_equal(file_size("s.state"), -1);
	assert_int_equal(file_size("s.mem"), -1);

	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\"}");
	expect_no_content();
	assert_int_equal(fake.snapshots, 1);
	assert_int_equal(fake.last_snapshot, SNAPSHOT_FULL);
	assert_int_equal(file_size("s.state"), 0);
	assert_int_equal(file_size("s.mem"), 0);
	/* Diff keeps the memory file's contents; Full cuts it. */
	test_write_file("s.mem", "full");
	request(HTTP_PUT, "/snapshot/create",
		"{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\", \"snapshot_type\": \"Diff\"}");
	expect_no_content();
	assert_int_equal(fake.last_snapshot, SNAPSHOT_DIFF);
	assert_int_equal(file_size("s.mem"), 4);
	request(HTTP_PUT, "/snapshot/create",
		"{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"s.mem\", \"snapshot_type\": \"Full\"}");
	expect_no_content();
	assert_int_equal(file_size("s.mem"), 0);

	/* A client's path may not end in a symbolic link, nor name a directory. */
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"link.img\", \"mem_file_path\": \"s.mem\"}");
	expect_fault(400, "symbolic link");
	assert_int_equal(file_size("r.img"), 0);
	request(HTTP_PUT, "/snapshot/create", "{\"snapshot_path\": \"s.state\", \"mem_file_path\": \"dir\"}");
	expect_fault(400, "a directory");
	assert_int_equal(fake.snapshots, 3);
	unlink("s.state");
	unlink("s.mem");
}

static void test_snapshot_load(void **state)
{
	const char *load = "{\"snapshot_path\": \"r.img\", \"mem_backend\": {\"backend_type\": \"File\", "
			   "\"backend_path\": \"d.img\"}}";

	(void)state;
	/* Exactly one of mem_backend and the older mem_file_path. */
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\"}");
	expect_fault(400, "missing field: 'mem_backend'");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"d.img\"}}");
	expect_fault(400, "not both");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_backend\": {\"backend_type\": \"Uffd\", "
					    "\"backend_path\": \"/run/uffd.sock\"}}");
	expect_fault(400, "Uffd\" is not supported");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_backend\": {\"backend_type\": \"File\"}}");
	expect_fault(400, "'mem_backend': missing field 'backend_path'");
	request(HTTP_PUT, "/snapshot/load", "{\"mem_file_path\": \"d.img\"}");
	expect_fault(400, "snapshot_path");
	/* Firecracker's other fields: taken where they ask for what kvmini does anyway, refused otherwise. */
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap1\"}]}");
	expect_fault(400, "network_overrides");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"vsock_override\": {\"uds_path\": \"/v.sock\"}}");
	expect_fault(400, "vsock_override");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"clock_realtime\": true}");
	expect_fault(400, "clock_realtime");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"huge_pages\": \"2M\"}");
	expect_fault(400, "huge_pages");
	/* The files are opened: there, regular, and not through a link. */
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"nosuch\", \"mem_file_path\": \"d.img\"}");
	expect_fault(400, "nosuch");
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"link.img\"}");
	expect_fault(400, "symbolic link");
	assert_int_equal(fake.loads, 0);

	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_file_path\": \"d.img\", "
					    "\"enable_diff_snapshots\": true, \"network_overrides\": [], "
					    "\"clock_realtime\": false, \"huge_pages\": \"Snapshot\"}");
	expect_no_content();
	assert_int_equal(fake.loads, 1);
	assert_string_equal(fake.last_load.state_path, "r.img");
	assert_string_equal(fake.last_load.mem_path, "d.img");
	assert_true(fake.last_load.track_dirty_pages);
	assert_false(fake.last_load.resume);
	assert_int_equal(fake.state, API_STATE_PAUSED);
	/* Once loaded, the process has its VM. */
	request(HTTP_PUT, "/snapshot/load", load);
	expect_fault(400, "after starting");

	fake_vm_reset(&fake);
	fake.real_outputs = true;
	request(HTTP_PUT, "/snapshot/load", "{\"snapshot_path\": \"r.img\", \"mem_backend\": {\"backend_type\": \"File\", "
					    "\"backend_path\": \"d.img\"}, \"resume_vm\": true, \"track_dirty_pages\": false}");
	expect_no_content();
	assert_string_equal(fake.last_load.mem_path, "d.img");
	assert_true(fake.last_load.resume);
	assert_false(fake.last_load.track_dirty_pages);
	assert_int_equal(fake.state, API_STATE_RUNNING);

	/* Only into a process nothing configured yet (but its logger and metrics), as Firecracker. */
	fake_vm_reset(&fake);
	fake.real_outputs = true;
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"bogus\": 1}");
	assert_int_equal(status, 400);
	request(HTTP_PUT, "/snapshot/load", load);
	expect_no_content();
	fake_vm_reset(&fake);
	fake.real_outputs = true;
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128}");
	expect_no_content();
	request(HTTP_PUT, "/snapshot/load", load);
	expect_fault(400, "after configuring");
	assert_int_equal(fake.loads, 0);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_info),
		T(test_pause_resume),
		T(test_pause_errors),
		T(test_actions),
		T(test_methods_and_paths),
		T(test_boot_source),
		T(test_machine_config),
		T(test_drives),
		T(test_patch_drive),
		T(test_balloon),
		T(test_balloon_config_file),
		T(test_too_many_drives),
		T(test_network_interfaces),
		T(test_entropy),
		T(test_interface_patch),
		T(test_vsock),
		T(test_vm_config_roundtrip),
		T(test_config_file),
		T(test_config_to_boot),
		T(test_sections),
		T(test_regs),
		T(test_stats),
		T(test_small_buffer),
		T(test_logger),
		T(test_config_file_outputs),
		T(test_metrics),
		T(test_snapshot_create),
		T(test_snapshot_load),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
