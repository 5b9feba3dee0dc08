// SPDX-License-Identifier: Apache-2.0
/* The shared option parser (src/options.c): forms, errors, help and man output, on a table of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

struct target {
	const char *name;
	bool quiet, verbose, color;
	unsigned count;
	int parsed; /* how many values parse_count took */
};

static int parse_count(void *t, const char *value, struct errmsg *e)
{
	struct target *tg = t;

	if (strcmp(value, "1") && strcmp(value, "2"))
		return errmsg_set(e, EINVAL, "--count '%s': must be 1 or 2", value);
	tg->count = (unsigned)atoi(value);
	tg->parsed++;
	return 0;
}

#define AT(field) offsetof(struct target, field)

static const struct option_spec specs[] = {
	{ "name", 0, "NAME", "what it is called", option_string, AT(name) },
	{ "name-prefix", 0, "P", "a name that starts with another", option_string, AT(name) },
	{ "quiet", 'q', NULL, "say less", option_set, AT(quiet) },
	{ "count", 'n', "N", "how many\nof them", parse_count, 0 },
	{ .name = NULL },
};

static const struct option_spec other_specs[] = {
	{ "verbose", 'v', NULL, "say more", option_set, AT(verbose) },
	{ "no-color", 0, NULL, "no colours", option_clear, AT(color) },
	{ "label", 0, "KEY=VALUE[,KEY=VALUE]", "too long for the column:\nits help goes below", option_string,
	  AT(name) },
	{ .name = NULL },
};

static struct target t;
static struct option_group groups[2];
static struct errmsg e;

/* Parses ARGS (argv[0] is "cmd") into t with both tables. */
static int parse_args(const char *const *args)
{
	char *argv[16] = { "cmd" };
	int argc = 1;

	memset(&t, 0, sizeof(t));
	t.color = true;
	memset(&e, 0, sizeof(e));
	groups[0] = (struct option_group){ specs, &t, NULL };
	groups[1] = (struct option_group){ other_specs, &t, NULL };
	for (; *args; args++) {
		assert_true(argc < 15);
		argv[argc++] = (char *)*args;
	}
	return options_parse("cmd", argc, argv, groups, 2, &e);
}

#define PARSE(...) parse_args((const char *const[]){ __VA_ARGS__, NULL })

static void expect_error(int ret, const char *text)
{
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(e.text, text);
}

static void test_long_forms(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--name", "a", "--count=2", "--quiet"), 0);
	assert_string_equal(t.name, "a");
	assert_int_equal(t.count, 2);
	assert_true(t.quiet);
	assert_false(t.verbose);

	/* An empty value is a value; the last of a repeated option wins. */
	assert_int_equal(PARSE("--name=", "--name", "b"), 0);
	assert_string_equal(t.name, "b");

	/* A value that looks like an option is still the value. */
	assert_int_equal(PARSE("--name", "--quiet"), 0);
	assert_string_equal(t.name, "--quiet");
	assert_false(t.quiet);
}

static void test_prefixes(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--qu", "--cou", "1", "--verb"), 0);
	assert_true(t.quiet);
	assert_int_equal(t.count, 1);
	assert_true(t.verbose);

	/* An exact name wins over a longer one it starts. */
	assert_int_equal(PARSE("--name", "x"), 0);
	assert_string_equal(t.name, "x");

	/* "--na" starts name and name-prefix: unknown, as with getopt_long. */
	expect_error(PARSE("--na", "x"), "cmd: unknown option '--na' (see 'kvmini help cmd')");
	/* "--h" is help's prefix only here (nothing else starts with h). */
	assert_int_equal(PARSE("--h"), -ECANCELED);
}

static void test_letters(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-qv", "--no-color"), 0);
	assert_true(t.quiet);
	assert_true(t.verbose);
	assert_false(t.color);

	assert_int_equal(PARSE("-n", "2"), 0);
	assert_int_equal(t.count, 2);
	/* A letter that takes a value takes the rest of the group. */
	assert_int_equal(PARSE("-qn1"), 0);
	assert_true(t.quiet);
	assert_int_equal(t.count, 1);

	expect_error(PARSE("-qx"), "cmd: unknown option '-x' (see 'kvmini help cmd')");
	expect_error(PARSE("-n"), "cmd: -n needs a value");
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--help"), -ECANCELED);
	assert_int_equal(PARSE("-vh"), -ECANCELED);
	assert_true(t.verbose);
	/* Options are taken in order: a mistake before --help is reported. */
	expect_error(PARSE("--bogus", "--help"), "cmd: unknown option '--bogus' (see 'kvmini help cmd')");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error(PARSE("--bogus"), "cmd: unknown option '--bogus' (see 'kvmini help cmd')");
	expect_error(PARSE("--bogus=1"), "cmd: unknown option '--bogus=1' (see 'kvmini help cmd')");
	expect_error(PARSE("--quiet=yes"), "cmd: unknown option '--quiet=yes' (see 'kvmini help cmd')");
	expect_error(PARSE("--=x"), "cmd: unknown option '--=x' (see 'kvmini help cmd')");
	expect_error(PARSE("--name"), "cmd: --name needs a value");
	expect_error(PARSE("--count", "3"), "--count '3': must be 1 or 2");
	assert_int_equal(t.parsed, 0);
}

static void test_arguments(void **state)
{
	(void)state;
	/* The first stray argument is named, after every option was taken. */
	expect_error(PARSE("one", "--quiet", "two"), "cmd: unexpected argument 'one' (see 'kvmini help cmd')");
	assert_true(t.quiet);
	expect_error(PARSE("--quiet", "-"), "cmd: unexpected argument '-' (see 'kvmini help cmd')");
	/* "--" ends the options: what follows is an argument. */
	expect_error(PARSE("--", "--quiet"), "cmd: unexpected argument '--quiet' (see 'kvmini help cmd')");
	assert_false(t.quiet);
	assert_int_equal(PARSE("--quiet", "--"), 0);
	/* An option's mistake comes before a stray argument's. */
	expect_error(PARSE("one", "--bogus"), "cmd: unknown option '--bogus' (see 'kvmini help cmd')");
}

static void test_given(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-v", "--count", "1", "--quiet"), 0);
	assert_string_equal(groups[0].given, "count");
	assert_string_equal(groups[1].given, "verbose");
	assert_int_equal(PARSE("-q"), 0);
	assert_string_equal(groups[0].given, "quiet");
	assert_null(groups[1].given);
}

static void test_required(void **state)
{
	(void)state;
	expect_error(options_required("cmd", "name", &e), "cmd: --name is required (see 'kvmini help cmd')");
}

/* What a print function wrote, as a string the caller frees. */
static char *printed(void (*print)(FILE *, const struct option_group *, size_t))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	groups[0] = (struct option_group){ specs, NULL, NULL };
	groups[1] = (struct option_group){ other_specs, NULL, NULL };
	print(f, groups, 2);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_help_text(void **state)
{
	char *text = printed(options_print_help);

	(void)state;
	/* The column is the longest option that fits (--name-prefix P), plus two; --label's text goes below. */
	assert_string_equal(text, "  --name NAME      what it is called\n"
				  "  --name-prefix P  a name that starts with another\n"
				  "  -q, --quiet      say less\n"
				  "  -n, --count N    how many\n"
				  "                   of them\n"
				  "  -v, --verbose    say more\n"
				  "  --no-color       no colours\n"
				  "  --label KEY=VALUE[,KEY=VALUE]\n"
				  "                   too long for the column:\n"
				  "                   its help goes below\n");
	free(text);
}

static void test_man(void **state)
{
	char *text = printed(options_print_man);

	(void)state;
	assert_non_null(strstr(text, ".TP\n\\fB\\-\\-name\\fR \\fINAME\\fR\nwhat it is called\n"));
	assert_non_null(strstr(text, ".TP\n\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR\nsay less\n"));
	assert_non_null(strstr(text, "how many\nof them\n"));
	assert_non_null(strstr(text, "\\fB\\-\\-no\\-color\\fR\n"));
	free(text);
}

static void test_roff(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	/* A line starting with a dot or a quote would be a roff request; a backslash an escape. */
	options_print_roff(f, ".x 'y\n'z a\\b -c");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "\\&.x 'y\n\\&'z a\\eb \\-c");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_forms),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_letters),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_given),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_help_text),
		cmocka_unit_test(test_man),
		cmocka_unit_test(test_roff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
