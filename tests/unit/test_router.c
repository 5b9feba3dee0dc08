// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/backend.h"
#include "api/router.h"
#include "fake_backend.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/vsock.h"

/* The fake VM records what it was asked; fake.err makes its operations fail. */
static struct fake_vm fake;
static char out[API_BODY_MAX];
static int status;

static int setup(void **state)
{
	(void)state;
	fake_vm_reset(&fake);
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

	fake.action = -1;
	request(HTTP_PUT, "/actions", "{\"action_type\": \"FlushMetrics\"}");
	expect_fault(400, "FlushMetrics");
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
	request(HTTP_PUT, "/snapshot/create", "{}");
	expect_fault(404, "not implemented");
	request(HTTP_GET, "/balloon", NULL);
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
	assert_string_equal(out, "{\"vcpu_count\":1,\"mem_size_mib\":512,\"smt\":false}");
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
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 255, \"mem_size_mib\": 256}");
	expect_fault(400, "vcpu_count");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 32}");
	expect_fault(400, "mem_size_mib");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 1}");
	expect_fault(400, "mem_size_mib");
	request(HTTP_PUT, "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": true}");
	expect_fault(400, "smt");
	request(HTTP_PATCH, "/machine-config", "{\"vcpu_count\": \"2\"}");
	expect_fault(400, "vcpu_count");
	assert_int_equal(fake.cfg.nr_cpus, 4);
}

static void test_drives(void **state)
{
	(void)state;
	request(HTTP_PUT, "/drives/root",
		"{\"drive_id\": \"root\", \"path_on_host\": \"/r.img\", \"is_root_device\": true, "
		"\"is_read_only\": true, \"cache_type\": \"Unsafe\", \"io_engine\": \"Sync\"}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 1);
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].id, "root");
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "/r.img");
	assert_true(blk_config_of(&fake.cfg)->drives[0].readonly);
	assert_true(blk_config_of(&fake.cfg)->has_root);
	assert_int_equal(blk_config_of(&fake.cfg)->root, 0);

	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/d.img\"}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);
	assert_false(blk_config_of(&fake.cfg)->drives[1].readonly);

	/* The same id again updates the drive. */
	request(HTTP_PUT, "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r2.img\", "
					  "\"is_root_device\": true, \"is_read_only\": false}");
	expect_no_content();
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);
	assert_string_equal(blk_config_of(&fake.cfg)->drives[0].path, "/r2.img");

	request(HTTP_PUT, "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/d.img\", "
					  "\"is_root_device\": true}");
	expect_fault(400, "root device");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"y\", \"path_on_host\": \"/d.img\"}");
	expect_fault(400, "differ");
	request(HTTP_PUT, "/drives/a23456789012345678901",
		"{\"drive_id\": \"a23456789012345678901\", \"path_on_host\": \"/d.img\"}");
	expect_fault(400, "drive_id");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"\"}");
	expect_fault(400, "path_on_host");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/x\", \"cache_type\": \"None\"}");
	expect_fault(400, "cache_type");
	request(HTTP_PUT, "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/x\", \"rate_limiter\": {}}");
	assert_int_equal(status, 400);
	assert_int_equal(blk_config_of(&fake.cfg)->nr_drives, 2);
}

static void test_too_many_drives(void **state)
{
	char path[32], body[128];

	(void)state;
	for (unsigned i = 0; i <= BLK_MAX_DRIVES; i++) {
		snprintf(path, sizeof(path), "/drives/d%u", i);
		snprintf(body, sizeof(body), "{\"drive_id\": \"d%u\", \"path_on_host\": \"/d\"}", i);
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
	"\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false},"
	"\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"/r\",\"is_root_device\":true,\"is_read_only\":true}],"
	"\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
	"\"guest_mac\":\"06:00:ac:10:00:02\"}],"
	"\"vsock\":{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"}}";

static void test_vm_config_roundtrip(void **state)
{
	struct errmsg e;

	(void)state;
	request(HTTP_GET, "/vm/config", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(out, "{\"boot-source\":{\"kernel_image_path\":\"\",\"boot_args\":\"\"},"
				 "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":512,\"smt\":false},"
				 "\"drives\":[],\"network-interfaces\":[],\"vsock\":null}");

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

	static const char *const bad[][2] = {
		{ "", "not a JSON object" },
		{ "[]", "not a JSON object" },
		{ "{\"vsock\": {}}", "vsock" },
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

/* The core's sections, then the device records' (virtio-blk's, virtio-net's), in GET /vm/config's order. */
static void test_sections(void **state)
{
	static const char *const want[] = { "boot-source", "machine-config", "drives", "network-interfaces",
					    "vsock" };
	const struct device_api *all[API_SECTIONS_MAX];
	size_t n = api_sections(all);

	(void)state;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(all[i]->name, want[i]);
		assert_ptr_equal(api_section_find(want[i], strlen(want[i])), all[i]);
	}
	assert_string_equal(all[2]->id_field, "drive_id");
	assert_string_equal(all[3]->id_field, "iface_id");
	assert_null(all[0]->id_field);
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
		T(test_too_many_drives),
		T(test_network_interfaces),
		T(test_vsock),
		T(test_vm_config_roundtrip),
		T(test_config_file),
		T(test_config_to_boot),
		T(test_sections),
		T(test_regs),
		T(test_stats),
		T(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
