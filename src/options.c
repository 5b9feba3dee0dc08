// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "options.h"

/* Help puts an option's text beside it when the option and its argument fit in this many columns, else below. */
#define HELP_LEFT_MAX 20

/* Every command takes it; options_parse answers it itself. */
static const struct option_spec help_spec = { "help", 'h', NULL, "this help", NULL, 0 };

struct match {
	const struct option_spec *spec;
	struct option_group *group; /* NULL for --help */
};

static bool is_named(const struct option_spec *s, const char *name, size_t len, bool exact)
{
	return !strncmp(s->name, name, len) && (!exact || !s->name[len]);
}

/* The option a long name (len bytes of it) or its unambiguous prefix means; false when none or several. */
static bool find_long(struct option_group *groups, size_t nr, const char *name, size_t len, struct match *m)
{
	unsigned found = 0;

	if (!len)
		return false;
	/* An exact name wins over the options it is a prefix of. */
	for (int exact = 1; exact >= 0 && !found; exact--) {
		if (is_named(&help_spec, name, len, exact)) {
			*m = (struct match){ &help_spec, NULL };
			found++;
		}
		for (size_t g = 0; g < nr; g++)
			for (const struct option_spec *s = groups[g].specs; s->name; s++)
				if (is_named(s, name, len, exact)) {
					*m = (struct match){ s, &groups[g] };
					found++;
				}
	}
	return found == 1;
}

static bool find_letter(struct option_group *groups, size_t nr, char letter, struct match *m)
{
	if (letter == help_spec.letter) {
		*m = (struct match){ &help_spec, NULL };
		return true;
	}
	for (size_t g = 0; g < nr; g++)
		for (const struct option_spec *s = groups[g].specs; s->name; s++)
			if (s->letter && s->letter == letter) {
				*m = (struct match){ s, &groups[g] };
				return true;
			}
	return false;
}

static int apply(const struct match *m, const char *value, struct errmsg *e)
{
	if (!m->group)
		return -ECANCELED;
	if (!m->group->given)
		m->group->given = m->spec->name;
	return m->spec->parse((char *)m->group->target + m->spec->offset, value, e);
}

static int unknown(const char *command, const char *what, struct errmsg *e)
{
	return errmsg_set(e, EINVAL, "%s: unknown option '%s' (see 'kvmini help %s')", command, what, command);
}

static int needs_value(const char *command, const char *what, struct errmsg *e)
{
	return errmsg_set(e, EINVAL, "%s: %s needs a value", command, what);
}

/* argv[*i] is "--name" or "--name=value"; a value given apart is argv[*i + 1], and *i moves past it. */
static int parse_long(const char *command, int argc, char *const argv[], int *i, struct option_group *groups,
		      size_t nr, struct errmsg *e)
{
	const char *arg = argv[*i], *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	struct match m;

	if (!find_long(groups, nr, name, len, &m) || (eq && !m.spec->arg))
		return unknown(command, arg, e);
	if (!m.spec->arg)
		return apply(&m, NULL, e);
	if (eq)
		return apply(&m, eq + 1, e);
	if (*i + 1 >= argc)
		return needs_value(command, arg, e);
	return apply(&m, argv[++*i], e);
}

/* argv[*i] is "-x", or letters grouped ("-vh"); one that takes a value takes the rest, or the next argument. */
static int parse_letters(const char *command, int argc, char *const argv[], int *i, struct option_group *groups,
			 size_t nr, struct errmsg *e)
{
	for (const char *c = argv[*i] + 1; *c; c++) {
		char what[3] = { '-', *c, '\0' };
		struct match m;
		int err;

		if (!find_letter(groups, nr, *c, &m))
			return unknown(command, what, e);
		if (!m.spec->arg) {
			if ((err = apply(&m, NULL, e)))
				return err;
			continue;
		}
		if (c[1])
			return apply(&m, c + 1, e);
		if (*i + 1 >= argc)
			return needs_value(command, what, e);
		return apply(&m, argv[++*i], e);
	}
	return 0;
}

int options_parse(const char *command, int argc, char *const argv[], struct option_group *groups, size_t nr,
		  struct errmsg *e)
{
	const char *stray = NULL; /* the first argument that is not an option: named once the options are good */
	int i, err;

	for (size_t g = 0; g < nr; g++)
		groups[g].given = NULL;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-' || !arg[1]) {
			stray = stray ? stray : arg;
			continue;
		}
		err = arg[1] == '-' ? parse_long(command, argc, argv, &i, groups, nr, e)
				    : parse_letters(command, argc, argv, &i, groups, nr, e);
		if (err)
			return err;
	}
	if (!stray && i < argc)
		stray = argv[i];
	if (stray)
		return errmsg_set(e, EINVAL, "%s: unexpected argument '%s' (see 'kvmini help %s')", command, stray,
				  command);
	return 0;
}

int options_required(const char *command, const char *name, struct errmsg *e)
{
	return errmsg_set(e, EINVAL, "%s: --%s is required (see 'kvmini help %s')", command, name, command);
}

/* "-v, --verbose" or "--kernel PATH", as help shows it; its length. */
static int left_column(const struct option_spec *s, char *buf, size_t size)
{
	const char *space = s->arg ? " " : "", *arg = s->arg ? s->arg : "";

	if (s->letter)
		return snprintf(buf, size, "-%c, --%s%s%s", s->letter, s->name, space, arg);
	return snprintf(buf, size, "--%s%s%s", s->name, space, arg);
}

void options_print_help(FILE *f, const struct option_group *groups, size_t nr)
{
	int width = 0;
	char left[128];

	for (size_t g = 0; g < nr; g++)
		for (const struct option_spec *s = groups[g].specs; s->name; s++) {
			int len = 2 + left_column(s, left, sizeof(left));

			if (len <= HELP_LEFT_MAX && len > width)
				width = len;
		}
	width += 2;
	for (size_t g = 0; g < nr; g++)
		for (const struct option_spec *s = groups[g].specs; s->name; s++) {
			int len = 2 + left_column(s, left, sizeof(left));
			const char *line = s->help;

			fprintf(f, "  %s", left);
			if (len > HELP_LEFT_MAX)
				fprintf(f, "\n%*s", width, "");
			else
				fprintf(f, "%*s", width - len, "");
			for (const char *end; (end = strchr(line, '\n')); line = end + 1)
				fprintf(f, "%.*s\n%*s", (int)(end - line), line, width, "");
			fprintf(f, "%s\n", line);
		}
}

void options_print_usage(FILE *f, const char *command, const struct option_usage *u)
{
	struct option_group groups[OPTION_GROUPS_MAX];
	size_t nr = u->groups(NULL, groups);

	fprintf(f, "usage: kvmini %s %s\n\n", command, u->synopsis);
	if (u->text)
		fprintf(f, "%s\n\n", u->text);
	options_print_help(f, groups, nr);
	if (u->notes)
		fprintf(f, "\n%s\n", u->notes);
}

void options_print_roff(FILE *f, const char *text)
{
	for (const char *c = text; *c; c++) {
		if ((c == text || c[-1] == '\n') && (*c == '.' || *c == '\''))
			fputs("\\&", f);
		if (*c == '\\')
			fputs("\\e", f);
		else if (*c == '-')
			fputs("\\-", f);
		else
			fputc(*c, f);
	}
}

void options_print_man(FILE *f, const struct option_group *groups, size_t nr)
{
	for (size_t g = 0; g < nr; g++)
		for (const struct option_spec *s = groups[g].specs; s->name; s++) {
			fputs(".TP\n", f);
			if (s->letter)
				fprintf(f, "\\fB\\-%c\\fR, ", s->letter);
			fputs("\\fB\\-\\-", f);
			options_print_roff(f, s->name);
			fputs("\\fR", f);
			if (s->arg) {
				fputs(" \\fI", f);
				options_print_roff(f, s->arg);
				fputs("\\fR", f);
			}
			fputc('\n', f);
			options_print_roff(f, s->help);
			fputc('\n', f);
		}
}

int option_string(void *dst, const char *value, struct errmsg *e)
{
	(void)e;
	*(const char **)dst = value;
	return 0;
}

int option_set(void *dst, const char *value, struct errmsg *e)
{
	(void)value, (void)e;
	*(bool *)dst = true;
	return 0;
}

int option_clear(void *dst, const char *value, struct errmsg *e)
{
	(void)value, (void)e;
	*(bool *)dst = false;
	return 0;
}
