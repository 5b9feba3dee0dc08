// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One reader set-up shaped like PUT /machine-config plus a string and an optional field of each type. */
struct target {
	char path[16];
	uint64_t vcpus, mib;
	bool smt, smt_present, path_present;
};

static int read_target(const char *text, struct target *t, struct errmsg *e)
{
	const struct json_field fields[] = {
		{ .name = "vcpu_count", .type = JSON_UINT, .required = true, .uint = &t->vcpus, .min = 1, .max = 254 },
		{ .name = "mem_size_mib", .type = JSON_UINT, .uint = &t->mib, .max = UINT64_MAX },
		{ .name = "smt", .type = JSON_BOOL, .boolean = &t->smt, .present = &t->smt_present },
		{ .name = "path", .type = JSON_STRING, .str = t->path, .str_cap = sizeof(t->path),
		  .present = &t->path_present },
	};

	return json_read_object(text, strlen(text), fields, ARRAY_SIZE(fields), e);
}

static void expect_ok(const char *text, struct target *t)
{
	struct errmsg e = { "" };

	memset(t, 0x55, sizeof(*t));
	if (read_target(text, t, &e))
		fail_msg("'%s' refused: %s", text, e.text);
}

static void expect_refused(const char *text, const char *msg)
{
	struct target t, before;
	struct errmsg e = { "" };
	int err;

	memset(&t, 0x55, sizeof(t));
	before = t;
	err = read_target(text, &t, &e);
	if (err != -EINVAL)
		fail_msg("'%s': got %d, want -EINVAL", text, err);
	if (msg && strcmp(e.text, msg))
		fail_msg("'%s': message \"%s\", want \"%s\"", text, e.text, msg);
	if (!msg && !e.text[0])
		fail_msg("'%s': no message", text);
	/* Fields are written only on success. */
	assert_memory_equal(&t, &before, sizeof(t));
}

static void test_read_fields(void **state)
{
	struct target t;
	(void)state;

	expect_ok(" \t\r\n{ \"vcpu_count\" : 2 , \"mem_size_mib\":1024,\"smt\":true,\"path\":\"/a/b\"}\n ", &t);
	assert_int_equal(t.vcpus, 2);
	assert_int_equal(t.mib, 1024);
	assert_true(t.smt);
	assert_true(t.smt_present);
	assert_string_equal(t.path, "/a/b");
	assert_true(t.path_present);

	expect_ok("{\"smt\":false,\"vcpu_count\":254}", &t);
	assert_false(t.smt);
	assert_true(t.smt_present);
	assert_false(t.path_present);
	assert_int_equal(t.vcpus, 254);
}

/* null is how Firecracker's clients say "absent": for an optional field it is, for a required one it is missing. */
static void test_null_is_absent(void **state)
{
	struct target t;
	(void)state;

	expect_ok("{\"vcpu_count\":3,\"smt\":null,\"path\":null,\"mem_size_mib\":null}", &t);
	assert_int_equal(t.vcpus, 3);
	assert_false(t.smt_present);
	assert_false(t.path_present);
	assert_int_equal(t.mib, 0x5555555555555555ULL); /* untouched */
	expect_refused("{\"vcpu_count\":null}", "missing field 'vcpu_count'");
	expect_refused("{\"vcpu_count\":1,\"smt\":null,\"smt\":true}", "duplicate field 'smt'");
	expect_refused("{\"vcpu_count\":1,\"smt\":nul}", NULL);
	expect_refused("{\"vcpu_count\":1,\"smt\":nullx}", NULL);
}

/* A nested object is kept as its text, checked for syntax, for its own reader. */
static void test_object_field(void **state)
{
	const char *obj = NULL;
	size_t obj_len = 0;
	bool present = false;
	const struct json_field f[] = {
		{ .name = "rate_limiter", .type = JSON_OBJECT, .object = &obj, .object_len = &obj_len,
		  .present = &present },
	};
	struct errmsg e = { "" };
	const char *text = "{\"rate_limiter\": {\"bandwidth\": {\"size\": 1, \"x\": [1, {}]}} }";
	(void)state;

	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), 0);
	assert_true(present);
	assert_int_equal(obj_len, strlen("{\"bandwidth\": {\"size\": 1, \"x\": [1, {}]}}"));
	assert_memory_equal(obj, "{\"bandwidth\"", 12);
	text = "{\"rate_limiter\": null}";
	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), 0);
	assert_false(present);
	text = "{\"rate_limiter\": [1]}";
	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), -EINVAL);
	assert_string_equal(e.text, "'rate_limiter' must be an object");
	text = "{\"rate_limiter\": {\"a\": }}";
	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), -EINVAL);
}

/* A nested array likewise (a snapshot load's network_overrides); an object is not one. */
static void test_array_field(void **state)
{
	const char *arr = NULL;
	size_t arr_len = 0;
	const struct json_field f[] = {
		{ .name = "network_overrides", .type = JSON_ARRAY, .object = &arr, .object_len = &arr_len },
	};
	struct errmsg e = { "" };
	const char *text = "{\"network_overrides\": [{\"iface_id\": \"eth0\"}, []] }";
	(void)state;

	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), 0);
	assert_int_equal(arr_len, strlen("[{\"iface_id\": \"eth0\"}, []]"));
	assert_memory_equal(arr, "[{", 2);
	text = "{\"network_overrides\": {}}";
	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), -EINVAL);
	assert_string_equal(e.text, "'network_overrides' must be an array");
	text = "{\"network_overrides\": [1,]}";
	assert_int_equal(json_read_object(text, strlen(text), f, 1, &e), -EINVAL);
}

static void test_uint_range(void **state)
{
	struct target t;
	(void)state;

	expect_ok("{\"vcpu_count\":1}", &t);
	assert_int_equal(t.vcpus, 1);
	expect_ok("{\"vcpu_count\":1,\"mem_size_mib\":18446744073709551615}", &t);
	assert_int_equal(t.mib, UINT64_MAX);
	expect_ok("{\"vcpu_count\":1,\"mem_size_mib\":0}", &t);
	assert_int_equal(t.mib, 0);

	static const char *const bad[] = {
		"{\"vcpu_count\":0}",	 "{\"vcpu_count\":255}",  "{\"vcpu_count\":-1}", "{\"vcpu_count\":1.0}",
		"{\"vcpu_count\":1e2}",	 "{\"vcpu_count\":1E2}",  "{\"vcpu_count\":02}", "{\"vcpu_count\":+2}",
		"{\"vcpu_count\":\"2\"}", "{\"vcpu_count\":true}", "{\"vcpu_count\":[2]}",
		"{\"vcpu_count\":{}}",	 "{\"vcpu_count\":-0}",	  "{\"vcpu_count\":99999999999999999999999}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_refused(bad[i], "'vcpu_count' must be an integer from 1 to 254");
	expect_refused("{\"vcpu_count\":1,\"mem_size_mib\":18446744073709551616}",
		       "'mem_size_mib' must be an integer from 0 to 18446744073709551615");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_refused("{\"vcpu_count\":1,\"smt\":1}", "'smt' must be true or false");
	expect_refused("{\"vcpu_count\":1,\"smt\":\"true\"}", "'smt' must be true or false");
	expect_refused("{\"vcpu_count\":1,\"smt\":True}", "'smt' must be true or false");
	expect_refused("{\"vcpu_count\":1,\"path\":3}", "'path' must be a string");
	expect_refused("{\"vcpu_count\":1,\"path\":{\"x\":\"y\"}}", "'path' must be a string");
	expect_refused("{\"vcpu_count\":1,\"path\":[\"x\"]}", "'path' must be a string");
}

static void test_unknown_missing_duplicate(void **state)
{
	char long_key[200];
	(void)state;

	expect_refused("{\"vcpus\":1}", "unknown field 'vcpus'");
	expect_refused("{\"vcpu_count\":1,\"x\":{\"nested\":1}}", "unknown field 'x'");
	expect_refused("{\"Vcpu_count\":1}", "unknown field 'Vcpu_count'");
	expect_refused("{\"bad\\u0001\\n\":1}", "unknown field 'bad?\?'");
	expect_refused("{\"\\u00e9\":1}", "unknown field '?\?'");
	strcpy(long_key, "{\"");
	memset(long_key + 2, 'k', 100);
	strcpy(long_key + 102, "\":1}");
	expect_refused(long_key, "unknown field 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'");
	expect_refused("{}", "missing field 'vcpu_count'");
	expect_refused("{\"smt\":true}", "missing field 'vcpu_count'");
	expect_refused("{\"vcpu_count\":1,\"vcpu_count\":1}", "duplicate field 'vcpu_count'");
	expect_refused("{\"vcpu_count\":1,\"vcpu\\u005fcount\":2}", "duplicate field 'vcpu_count'");
}

static void test_not_an_object(void **state)
{
	(void)state;
	expect_refused("", "not a JSON object");
	expect_refused("   ", "not a JSON object");
	expect_refused("[]", "not a JSON object");
	expect_refused("\"vcpu_count\"", "not a JSON object");
	expect_refused("null", "not a JSON object");
	expect_refused("\xef\xbb\xbf{\"vcpu_count\":1}", "not a JSON object");
}

static void test_syntax(void **state)
{
	static const char *const bad[] = {
		"{",
		"{\"vcpu_count\"",
		"{\"vcpu_count\":",
		"{\"vcpu_count\":1",
		"{\"vcpu_count\":1,}",
		"{\"vcpu_count\" 1}",
		"{\"vcpu_count\":1 \"smt\":true}",
		"{\"vcpu_count\":1}}",
		"{\"vcpu_count\":1} x",
		"{\"vcpu_count\":1}{}",
		"{'vcpu_count':1}",
		"{vcpu_count:1}",
		"{\"vcpu_count\":1,\"smt\":truex}",
		"{\"vcpu_count\":1,\"smt\":tru}",
		"{,\"vcpu_count\":1}",
		"{\"vcpu_count\":1\v}",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_refused(bad[i], NULL);
	expect_refused("{\"vcpu_count\":1,}", "invalid JSON at byte 16: expected a field name in double quotes");
}

static void expect_path_value(const char *json_value, const char *want)
{
	char text[128];
	struct target t;

	snprintf(text, sizeof(text), "{\"vcpu_count\":1,\"path\":%s}", json_value);
	expect_ok(text, &t);
	assert_string_equal(t.path, want);
}

static void expect_path_refused(const char *json_value, const char *msg)
{
	char text[128];

	snprintf(text, sizeof(text), "{\"vcpu_count\":1,\"path\":%s}", json_value);
	expect_refused(text, msg);
}

static void test_strings(void **state)
{
	(void)state;
	expect_path_value("\"\"", "");
	expect_path_value("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	expect_path_value("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
	expect_path_value("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");	  /* a surrogate pair: U+1F600 */
	expect_path_value("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf");	  /* U+10FFFF */
	expect_path_value("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	expect_path_value("\"\x7f\"", "\x7f");
	/* At most str_cap - 1 = 15 bytes, counted after unescaping. */
	expect_path_value("\"123456789012345\"", "123456789012345");
	expect_path_value("\"1234567890123\\u00e9\"", "1234567890123\xc3\xa9");
}

static void test_bad_strings(void **state)
{
	(void)state;
	expect_path_refused("\"1234567890123456\"", "'path' must be at most 15 bytes long");
	expect_path_refused("\"1234567890123\\u20ac\"", "'path' must be at most 15 bytes long");
	expect_path_refused("\"a\\u0000b\"", "invalid JSON at byte 31: \\u0000 is not allowed in a string");
	expect_path_refused("\"a\nb\"", NULL);
	expect_path_refused("\"a\tb\"", NULL);
	expect_path_refused("\"\x01\"", NULL);
	expect_path_refused("\"\\x41\"", NULL);
	expect_path_refused("\"\\u12\"", NULL);
	expect_path_refused("\"\\u12g4\"", NULL);
	expect_path_refused("\"\\U0041\"", NULL);
	expect_path_refused("\"\\ud83d\"", NULL);	       /* a lone high surrogate */
	expect_path_refused("\"\\ud83dx\"", NULL);
	expect_path_refused("\"\\ud83d\\u0041\"", NULL); /* a high surrogate followed by no low one */
	expect_path_refused("\"\\ude00\"", NULL);	       /* a lone low surrogate */
	expect_path_refused("\"abc", NULL);
	expect_path_refused("\"abc\\", NULL);
	expect_path_refused("\"\xc3\"", NULL);		   /* truncated UTF-8 */
	expect_path_refused("\"\xc0\xaf\"", NULL);	   /* overlong '/' */
	expect_path_refused("\"\xe0\x80\xaf\"", NULL);	   /* overlong '/' */
	expect_path_refused("\"\xed\xa0\x80\"", NULL);	   /* an encoded surrogate */
	expect_path_refused("\"\xf4\x90\x80\x80\"", NULL); /* past U+10FFFF */
	expect_path_refused("\"\xff\"", NULL);
	expect_path_refused("\"\x80\"", NULL);
}

static void test_nul_in_text(void **state)
{
	static const char text[] = "{\"vcpu_count\":1}\0";
	struct target t;
	struct errmsg e;
	(void)state;

	assert_int_equal(read_target(text, &t, &e), 0);
	/* A NUL byte after the object is text after it, not an end. */
	const struct json_field f = { .name = "vcpu_count", .type = JSON_UINT, .uint = &t.vcpus, .max = 9 };
	assert_int_equal(json_read_object(text, sizeof(text), &f, 1, &e), -EINVAL);
	assert_int_equal(json_read_object("{\"vcpu_count\":1\0}", 17, &f, 1, &e), -EINVAL);
}

static void test_no_fields(void **state)
{
	struct errmsg e;
	(void)state;

	assert_int_equal(json_read_object("{}", 2, NULL, 0, &e), 0);
	assert_int_equal(json_read_object("{\"a\":1}", 7, NULL, 0, &e), -EINVAL);
	assert_string_equal(e.text, "unknown field 'a'");
}

/* What json_for_each gave: "key=value;" per item (key "-" in an array). */
static int collect(void *ctx, const struct json_item *it, struct errmsg *e)
{
	char *seen = ctx;
	size_t n = strlen(seen);

	(void)e;
	snprintf(seen + n, 256 - n, "%.*s=%.*s;", it->key ? (int)it->key_len : 1, it->key ? it->key : "-",
		 (int)it->value_len, it->value);
	return 0;
}

static void expect_items(const char *text, bool object, const char *want)
{
	char seen[256] = "";
	struct errmsg e = { "" };

	if (json_for_each(text, strlen(text), object, collect, seen, &e))
		fail_msg("'%s' refused: %s", text, e.text);
	assert_string_equal(seen, want);
}

static void expect_walk_refused(const char *text, bool object, const char *msg)
{
	char seen[256] = "";
	struct errmsg e = { "" };

	if (json_for_each(text, strlen(text), object, collect, seen, &e) != -EINVAL)
		fail_msg("'%s' taken", text);
	/* Nothing is handed out of malformed text, not even the items before the fault. */
	assert_string_equal(seen, "");
	if (!strstr(e.text, msg))
		fail_msg("'%s': \"%s\" does not mention \"%s\"", text, e.text, msg);
}

static void test_for_each(void **state)
{
	(void)state;
	expect_items("{}", true, "");
	expect_items(" [ ] ", false, "");
	expect_items("{\"a\":1,\"b\":\"x\"}", true, "a=1;b=\"x\";");
	/* Nested values come whole, as written; keys as written too. */
	expect_items(" { \"a\\u0041\" : {\"b\": [1, {\"c\": null}]} , \"d\":[ ]}\n", true,
		     "a\\u0041={\"b\": [1, {\"c\": null}]};d=[ ];");
	expect_items("[true,false,null,-0.5e+3,\"s\",[],{}]", false,
		     "-=true;-=false;-=null;-=-0.5e+3;-=\"s\";-=[];-={};");

	expect_walk_refused("", true, "not a JSON object");
	expect_walk_refused("[]", true, "not a JSON object");
	expect_walk_refused("{}", false, "not a JSON array");
	expect_walk_refused("{\"a\":1", true, "expected ',' or '}'");
	expect_walk_refused("[1,]", false, "expected a value");
	expect_walk_refused("{\"a\" 1}", true, "':'");
	expect_walk_refused("{\"a\":1} x", true, "text after the object");
	expect_walk_refused("[1] ]", false, "text after the array");
	expect_walk_refused("[{\"a\":1,}]", false, "field name");
	expect_walk_refused("[{\"a\":[1}]", false, "expected ',' or ']'");
	expect_walk_refused("[01]", false, "bad number");
	expect_walk_refused("[1.]", false, "bad number");
	expect_walk_refused("[1e]", false, "bad number");
	expect_walk_refused("[-]", false, "bad number");
	expect_walk_refused("[nul]", false, "expected a value");
	expect_walk_refused("[\"\\x\"]", false, "bad escape");
	expect_walk_refused("[\"\xff\"]", false, "UTF-8");
}

/* Nesting is bounded without recursion: JSON_DEPTH_MAX levels are taken, one more is not. */
static void test_for_each_depth(void **state)
{
	char text[2 * (JSON_DEPTH_MAX + 2) + 1];
	char seen[256];
	struct errmsg e = { "" };
	size_t n;

	(void)state;
	/* The outer array is the walk itself; its one element holds JSON_DEPTH_MAX levels. */
	n = 0;
	for (unsigned i = 0; i < JSON_DEPTH_MAX + 1; i++)
		text[n++] = '[';
	for (unsigned i = 0; i < JSON_DEPTH_MAX + 1; i++)
		text[n++] = ']';
	text[n] = '\0';
	seen[0] = '\0';
	assert_int_equal(json_for_each(text, n, false, collect, seen, &e), 0);
	memmove(text + 1, text, n + 1);
	text[0] = '[';
	text[n + 1] = ']';
	text[n + 2] = '\0';
	seen[0] = '\0';
	assert_int_equal(json_for_each(text, n + 2, false, collect, seen, &e), -EINVAL);
	assert_non_null(strstr(e.text, "nested too deeply"));
	assert_string_equal(seen, "");
}

/* fn's error ends the walk and is returned as it is. */
static int refuse_second(void *ctx, const struct json_item *it, struct errmsg *e)
{
	unsigned *calls = ctx;

	(void)it;
	return ++*calls == 2 ? errmsg_set(e, ENOENT, "second") : 0;
}

static void test_for_each_stops(void **state)
{
	unsigned calls = 0;
	struct errmsg e = { "" };

	(void)state;
	assert_int_equal(json_for_each("[1,2,3]", 7, false, refuse_second, &calls, &e), -ENOENT);
	assert_int_equal(calls, 2);
	assert_string_equal(e.text, "second");
}

static void test_out_object(void **state)
{
	char buf[256];
	struct json_out j;
	(void)state;

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	json_put_string(&j, "id", "vm0");
	json_put_uint(&j, "mem", UINT64_MAX);
	json_put_int(&j, "delta", INT64_MIN);
	json_put_bool(&j, "on", true);
	json_put_bool(&j, "off", false);
	json_object_begin(&j, "empty");
	json_object_end(&j);
	json_array_begin(&j, "list");
	json_put_uint(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_put_string(&j, "k", "v");
	json_object_end(&j);
	json_array_begin(&j, NULL);
	json_array_end(&j);
	json_array_end(&j);
	json_object_end(&j);
	assert_int_equal(json_out_finish(&j), (int)strlen(buf));
	assert_string_equal(buf, "{\"id\":\"vm0\",\"mem\":18446744073709551615,\"delta\":-9223372036854775808,"
				 "\"on\":true,\"off\":false,\"empty\":{},\"list\":[1,{\"k\":\"v\"},[]]}");
}

static void test_out_escapes(void **state)
{
	char buf[256];
	struct json_out j;
	(void)state;

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	json_put_string(&j, "s", "q\" b\\ /\n\t\x01\x1f\x7f \xc3\xa9 \xff \xe2\x82");
	json_put_string(&j, "k\"", "");
	json_object_end(&j);
	assert_true(json_out_finish(&j) > 0);
	assert_string_equal(buf, "{\"s\":\"q\\\" b\\\\ /\\u000a\\u0009\\u0001\\u001f\x7f \xc3\xa9 \\ufffd "
				 "\\ufffd\\ufffd\",\"k\\\"\":\"\"}");
}

/* What the writer writes, the reader reads back unchanged. */
static void test_out_round_trip(void **state)
{
	static const char value[] = "\"\\\n\x01 \xf0\x9f\x98\x80 /x";
	char buf[256], back[64];
	struct json_out j;
	struct errmsg e;
	const struct json_field f = { .name = "s\n", .type = JSON_STRING, .str = back, .str_cap = sizeof(back) };
	(void)state;

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	json_put_string(&j, "s\n", value);
	json_object_end(&j);
	assert_true(json_out_finish(&j) > 0);
	assert_int_equal(json_read_object(buf, strlen(buf), &f, 1, &e), 0);
	assert_string_equal(back, value);
}

static void test_out_overflow(void **state)
{
	char buf[8];
	struct json_out j;
	(void)state;

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	json_put_string(&j, "a", "b"); /* {"a":"b" is 8 bytes: no room for the NUL */
	json_put_bool(&j, "c", true);
	json_object_end(&j);
	assert_int_equal(json_out_finish(&j), -ENOSPC);
	assert_true(strnlen(buf, sizeof(buf)) < sizeof(buf)); /* cut short, but still a C string */

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	json_put_uint(&j, "a", 1);
	json_object_end(&j);
	assert_int_equal(json_out_finish(&j), 7);
	assert_string_equal(buf, "{\"a\":1}");

	json_out_init(&j, buf, 0);
	json_put_bool(&j, NULL, true);
	assert_int_equal(json_out_finish(&j), -ENOSPC);
}

static void test_out_nesting(void **state)
{
	char buf[64];
	struct json_out j;
	(void)state;

	json_out_init(&j, buf, sizeof(buf));
	for (int i = 0; i < 8; i++)
		json_array_begin(&j, NULL);
	for (int i = 0; i < 8; i++)
		json_array_end(&j);
	assert_int_equal(json_out_finish(&j), 16);

	json_out_init(&j, buf, sizeof(buf));
	for (int i = 0; i < 9; i++)
		json_array_begin(&j, NULL);
	assert_true(json_out_finish(&j) < 0);

	json_out_init(&j, buf, sizeof(buf));
	json_object_begin(&j, NULL);
	assert_int_equal(json_out_finish(&j), -EINVAL); /* left open */
	json_object_end(&j);
	json_object_end(&j);
	assert_int_equal(json_out_finish(&j), -EINVAL); /* closed once too often */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_fields),
		cmocka_unit_test(test_uint_range),
		cmocka_unit_test(test_null_is_absent),
		cmocka_unit_test(test_object_field),
		cmocka_unit_test(test_array_field),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_unknown_missing_duplicate),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_nul_in_text),
		cmocka_unit_test(test_no_fields),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_for_each_depth),
		cmocka_unit_test(test_for_each_stops),
		cmocka_unit_test(test_out_object),
		cmocka_unit_test(test_out_escapes),
		cmocka_unit_test(test_out_round_trip),
		cmocka_unit_test(test_out_overflow),
		cmocka_unit_test(test_out_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
