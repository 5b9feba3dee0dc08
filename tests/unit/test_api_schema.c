// SPDX-License-Identifier: Apache-2.0
/* The API tests' schema checker (tests/api/schema_check.c): each rule rejects what it should, and the real schema
 * takes the bodies Firecracker's clients send. */
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

#include "schema_check.h"

/* One definition per rule, small enough to read beside the tests. */
static const char rules[] =
	"{\"definitions\": {"
	" \"Bucket\": {\"type\": \"object\", \"required\": [\"size\"],"
	"  \"properties\": {\"size\": {\"type\": \"integer\", \"minimum\": 0}}},"
	" \"Thing\": {\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"id\", \"count\"],"
	"  \"properties\": {"
	"   \"id\": {\"type\": \"string\"},"
	"   \"count\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 32},"
	"   \"flag\": {\"type\": \"boolean\"},"
	"   \"mode\": {\"type\": \"string\", \"enum\": [\"Sync\", \"Async\"]},"
	"   \"bucket\": {\"$ref\": \"#/definitions/Bucket\"},"
	"   \"list\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/definitions/Bucket\"}},"
	"   \"tags\": {\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"}}}},"
	" \"Open\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}},"
	" \"Loop\": {\"$ref\": \"#/definitions/Loop\"}"
	"},"
	"\"operations\": ["
	" {\"method\": \"PUT\", \"path\": \"/things/{id}\", \"request\": \"Thing\","
	"  \"responses\": {\"204\": null, \"400\": \"Open\", \"default\": \"Bucket\"}},"
	" {\"method\": \"GET\", \"path\": \"/things/{id}\", \"responses\": {\"200\": \"Thing\"}},"
	" {\"method\": \"GET\", \"path\": \"/\", \"responses\": {\"200\": \"Open\"}}"
	"]}";

static const struct schema rule_schema = { rules, sizeof(rules) - 1 };
static struct errmsg e;

static int validate(const struct schema *s, const char *def, const char *body)
{
	memset(&e, 0, sizeof(e));
	return schema_validate(s, def, body, strlen(body), &e);
}

/* body fails against Thing with a message that contains fragment. */
static void expect_invalid(const char *body, const char *fragment)
{
	int err = validate(&rule_schema, "Thing", body);

	if (err != -EINVAL)
		fail_msg("%s: want -EINVAL, got %d (%s)", body, err, e.text);
	if (!strstr(e.text, fragment))
		fail_msg("%s: \"%s\" does not mention \"%s\"", body, e.text, fragment);
}

static void expect_valid(const char *body)
{
	if (validate(&rule_schema, "Thing", body))
		fail_msg("%s: %s", body, e.text);
}

static void test_valid(void **state)
{
	(void)state;
	expect_valid("{\"id\": \"a\", \"count\": 1}");
	expect_valid(" {\"count\": 32, \"id\": \"b\", \"flag\": false, \"mode\": \"Async\", \"bucket\": {\"size\": 0},"
		     " \"list\": [{\"size\": 1}, {\"size\": 2, \"other\": 3}], \"tags\": {\"k\": \"v\"}}\n");
}

static void test_type(void **state)
{
	(void)state;
	expect_invalid("{\"id\": 1, \"count\": 1}", "Thing.id: an integer, not \"string\"");
	expect_invalid("{\"id\": \"a\", \"count\": \"1\"}", "Thing.count: a string, not \"integer\"");
	expect_invalid("{\"id\": \"a\", \"count\": 1.5}", "Thing.count: a number");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"flag\": \"true\"}", "Thing.flag: a string");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"bucket\": []}", "Thing.bucket: an array");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"list\": {}}", "Thing.list: an object");
	assert_int_equal(validate(&rule_schema, "Thing", "[]"), -EINVAL);
	assert_int_equal(validate(&rule_schema, "Thing", "7"), -EINVAL);
}

static void test_required(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\"}", "Thing: missing required field 'count'");
	expect_invalid("{\"id\": \"a\", \"count\": null}", "Thing: required field 'count' is null");
	/* null for an optional field is Firecracker's "absent". */
	expect_valid("{\"id\": \"a\", \"count\": 1, \"flag\": null, \"bucket\": null}");
}

static void test_enum(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"mode\": \"sync\"}", "Thing.mode: \"sync\" is not one of");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"mode\": \"\"}", "is not one of");
}

static void test_limits(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 0}", "Thing.count: 0 is below the minimum 1");
	expect_invalid("{\"id\": \"a\", \"count\": 33}", "Thing.count: 33 is above the maximum 32");
	expect_invalid("{\"id\": \"a\", \"count\": -1}", "below the minimum");
	/* Beyond 64 bits is still above the maximum, not wrapped. */
	expect_invalid("{\"id\": \"a\", \"count\": 123456789012345678901234567890}", "above the maximum");
}

static void test_nested(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"bucket\": {}}", "Thing.bucket: missing required field 'size'");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"bucket\": {\"size\": -5}}", "Thing.bucket.size: -5 is below");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"list\": [{\"size\": 1}, {\"size\": \"x\"}]}",
		       "Thing.list[1].size: a string");
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"tags\": {\"k\": 1}}", "Thing.tags.k: an integer");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"vcpus\": 2}", "Thing: unknown field 'vcpus'");
	/* Without additionalProperties false, more fields are allowed (Bucket inside list, above; Open here). */
	assert_int_equal(validate(&rule_schema, "Open", "{\"a\": 1, \"b\": [true]}"), 0);
}

static void test_duplicate(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 1, \"id\": \"b\"}", "Thing: duplicate field 'id'");
}

static void test_malformed(void **state)
{
	(void)state;
	expect_invalid("{\"id\": \"a\", \"count\": 1", "");
	expect_invalid("{\"id\": \"a\", \"count\": 1,}", "");
	expect_invalid("", "an empty body");
	expect_invalid("   ", "an empty body");
	assert_int_equal(validate(&rule_schema, "Nothing", "{}"), -ENOENT);
	assert_int_equal(validate(&rule_schema, "Loop", "{}"), -ELOOP);
}

static void expect_lookup(const char *method, const char *path, const char *status, int want, const char *want_def)
{
	char def[64] = "unset";
	int err;

	memset(&e, 0, sizeof(e));
	err = schema_lookup(&rule_schema, method, path, status, def, sizeof(def), &e);
	if (err != want)
		fail_msg("%s %s %s: want %d, got %d (%s)", method, path, status ? status : "request", want, err, e.text);
	if (!err)
		assert_string_equal(def, want_def);
}

static void test_lookup(void **state)
{
	(void)state;
	expect_lookup("PUT", "/things/x1", NULL, 0, "Thing");
	expect_lookup("PUT", "/things/x1", "204", 0, "");
	expect_lookup("PUT", "/things/x1", "400", 0, "Open");
	expect_lookup("PUT", "/things/x1", "500", 0, "Bucket");
	expect_lookup("GET", "/things/x1", NULL, 0, "");
	expect_lookup("GET", "/things/x1", "200", 0, "Thing");
	expect_lookup("GET", "/", "200", 0, "Open");
	expect_lookup("GET", "/things/x1", "404", -ENOENT, NULL);
	expect_lookup("PATCH", "/things/x1", NULL, -ENOENT, NULL);
	expect_lookup("PUT", "/things/", NULL, -ENOENT, NULL);
	expect_lookup("PUT", "/things/a/b", NULL, -ENOENT, NULL);
	expect_lookup("PUT", "/thing/a", NULL, -ENOENT, NULL);
}

/* The real schema, with bodies as firecracker-go-sdk and Kata send them and ones Firecracker refuses. */
static struct schema fc;

static int load_fc(void **state)
{
	FILE *f = fopen("tests/api/firecracker-api.schema.json", "rb");
	static char buf[65536];

	(void)state;
	assert_non_null(f);
	fc.len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_true(fc.len > 0 && fc.len < sizeof(buf) - 1);
	fc.text = buf;
	return 0;
}

static void expect_fc(const char *def, const char *body, int want)
{
	int err = validate(&fc, def, body);

	if (err != want)
		fail_msg("%s %s: want %d, got %d (%s)", def, body, want, err, e.text);
}

static void test_firecracker_schema(void **state)
{
	char def[64];

	(void)state;
	expect_fc("MachineConfiguration", "{\"mem_size_mib\":512,\"smt\":true,\"vcpu_count\":1}", 0);
	expect_fc("MachineConfiguration", "{\"mem_size_mib\":512,\"vcpu_count\":33}", -EINVAL);
	expect_fc("MachineConfiguration", "{\"mem_size_mib\":512,\"vcpu_count\":1,\"cpu_template\":\"None\"}", 0);
	expect_fc("MachineConfiguration", "{\"mem_size_mib\":512,\"vcpu_count\":1,\"cpu_template\":\"Z9\"}", -EINVAL);
	expect_fc("PartialMachineConfiguration", "{}", 0);
	expect_fc("Drive", "{\"drive_id\":\"1\",\"is_read_only\":false,\"is_root_device\":true,\"path_on_host\":\"/r\"}",
		  0);
	expect_fc("Drive", "{\"drive_id\":\"1\",\"is_read_only\":false,\"path_on_host\":\"/r\"}", -EINVAL);
	expect_fc("NetworkInterface",
		  "{\"guest_mac\":\"06:00:00:00:00:01\",\"host_dev_name\":\"tap0\",\"iface_id\":\"eth0\","
		  "\"rx_rate_limiter\":{},\"tx_rate_limiter\":{}}",
		  0);
	expect_fc("NetworkInterface", "{\"host_dev_name\":\"tap0\",\"iface_id\":\"eth0\",\"mtu\":67}", -EINVAL);
	expect_fc("Logger", "{\"level\":\"Debug\",\"log_path\":\"/l\",\"show_level\":true,\"show_log_origin\":false}", 0);
	expect_fc("Vsock", "{\"guest_cid\":2,\"uds_path\":\"/v\"}", -EINVAL);
	expect_fc("InstanceActionInfo", "{\"action_type\":\"Stop\"}", -EINVAL);
	expect_fc("BootSource", "{\"kernel_image_path\":\"/k\",\"initrd_path\":null}", 0);
	expect_fc("FullVmConfiguration",
		  "{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"machine-config\":{\"mem_size_mib\":128,"
		  "\"vcpu_count\":2},\"drives\":[{\"drive_id\":\"d\",\"is_root_device\":false,\"rate_limiter\":"
		  "{\"bandwidth\":{\"size\":1,\"refill_time\":100}}}]}",
		  0);
	assert_int_equal(schema_lookup(&fc, "PATCH", "/drives/drive_0", NULL, def, sizeof(def), &e), 0);
	assert_string_equal(def, "PartialDrive");
	assert_int_equal(schema_lookup(&fc, "GET", "/balloon/statistics", "200", def, sizeof(def), &e), 0);
	assert_string_equal(def, "BalloonStats");
	/* Every definition an operation names exists. */
	for (const char *const *d = (const char *const[]){ "InstanceInfo", "FirecrackerVersion", "Error", "Vm",
							    "EntropyDevice", "Metrics", "BalloonUpdate",
							    "BalloonStatsUpdate", "Balloon", "PartialNetworkInterface",
							    NULL };
	     *d; d++)
		assert_int_not_equal(validate(&fc, *d, "{}"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),	     cmocka_unit_test(test_type),
		cmocka_unit_test(test_required),     cmocka_unit_test(test_enum),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_nested),
		cmocka_unit_test(test_unknown_fields), cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_malformed),    cmocka_unit_test(test_lookup),
		cmocka_unit_test_setup(test_firecracker_schema, load_fc),
	};

	alarm(20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
