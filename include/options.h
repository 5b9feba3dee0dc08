/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One command-line parser for every command, driven by tables. A table of
 * option specs says each option's name, its argument and its help; a command
 * hands the parser groups (a table and the struct its options fill), so an
 * option shared by two commands, or owned by a device, is declared once, and
 * its help, the man page and its parsing come from that one declaration.
 */
#ifndef KVMINI_OPTIONS_H
#define KVMINI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "errmsg.h"

struct option_spec {
	const char *name;   /* the long name, without "--"; NULL ends a table */
	char letter;        /* the short form (-v), 0 for none */
	const char *arg;    /* the argument's syntax in help ("PATH", "on|off"); NULL: a flag */
	const char *help;   /* one line; a '\n' continues it on the next */
	/*
	 * Stores the value (NULL for a flag) at dst, which is the group's target
	 * plus `offset`; -EINVAL with a message that names the option and
	 * quotes the value.
	 */
	int (*parse)(void *dst, const char *value, struct errmsg *e);
	size_t offset;
};

struct option_group {
	const struct option_spec *specs;
	void *target;      /* what its parse functions fill; unused for help */
	const char *given; /* set by options_parse: the first of its options given (long name), NULL if none */
};

/*
 * Parses argv[1..argc-1] for `command` ("run"): --name VALUE, --name=VALUE,
 * an unambiguous prefix of a name, -x and grouped letters (-vh); "--" ends
 * the options. Options are taken in order, so the last of a repeated one wins
 * unless its parse function collects them. 0; -ECANCELED for --help or -h;
 * -EINVAL with the one-line message a user sees for an unknown option, a
 * missing value, an argument that is not an option, or what a parse
 * function refused.
 */
int options_parse(const char *command, int argc, char *const argv[], struct option_group *groups, size_t nr,
		  struct errmsg *e);

/* "COMMAND: --NAME is required (see 'kvmini help COMMAND')" into e; returns -EINVAL. */
int options_required(const char *command, const char *name, struct errmsg *e);

/* The groups' options as aligned help lines ("  --kernel PATH    bzImage, ..."). */
void options_print_help(FILE *f, const struct option_group *groups, size_t nr);
/* The same as roff for a man page: one .TP paragraph per option. */
void options_print_man(FILE *f, const struct option_group *groups, size_t nr);
/* Text as roff: escapes what roff would take as its own; a '\n' starts a new line of source. */
void options_print_roff(FILE *f, const char *text);

/* A command's usage, for its --help, `kvmini help NAME` and the man page. */
struct option_usage {
	const char *synopsis; /* what follows "kvmini NAME" on the usage line */
	const char *text;     /* what the command does, before its options; NULL: its summary says it */
	/* Its option groups, targets in args (a command's own struct; NULL: only for help); returns how many. */
	size_t (*groups)(void *args, struct option_group *out);
	const char *notes;    /* after the options (keys, exit status), or NULL */
};

/* The most groups a command has: its own tables and one per device (run checks it against DEVICES_MAX). */
#define OPTION_GROUPS_MAX 48

/* "usage: kvmini NAME SYNOPSIS", the text, the options, the notes. */
void options_print_usage(FILE *f, const char *command, const struct option_usage *u);

/* A number's macro as text, for help strings: "up to " OPTION_TEXT(VM_MAX_DRIVES). */
#define OPTION_TEXT(n) OPTION_TEXT_(n)
#define OPTION_TEXT_(n) #n

/* Parse functions for the common kinds: a string (const char *), a flag that sets or clears a bool. */
int option_string(void *dst, const char *value, struct errmsg *e);
int option_set(void *dst, const char *value, struct errmsg *e);
int option_clear(void *dst, const char *value, struct errmsg *e);

#endif
