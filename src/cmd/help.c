// SPDX-License-Identifier: Apache-2.0
/* kvmini help: the list of commands, one command's usage, or (--man) the kvmini(1) man page, all from the tables. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "log.h"

static void print_man_section(const char *title, const char *text)
{
	fprintf(stdout, ".%s ", title);
	options_print_roff(stdout, text);
	fputc('\n', stdout);
}

/* Text as written, its lines kept (the texts are laid out for a terminal already). */
static void print_man_lines(const char *text)
{
	fputs(".PP\n.nf\n", stdout);
	options_print_roff(stdout, text);
	fputs("\n.fi\n", stdout);
}

/* One command, or the commands that share its usage (pause|resume|...), with its options. */
static void print_man_command(const struct command *cmd)
{
	struct option_group groups[OPTION_GROUPS_MAX];
	const struct command *other;

	fputs(".SS kvmini ", stdout);
	for (other = commands; other->name; other++)
		if (other == cmd || (cmd->usage && other->usage == cmd->usage))
			printf("%s%s", other == cmd ? "" : "|", other->name);
	if (cmd->usage) {
		fputc(' ', stdout);
		options_print_roff(stdout, cmd->usage->synopsis);
	}
	fputc('\n', stdout);
	options_print_roff(stdout, cmd->summary);
	fputs(".\n", stdout);
	if (!cmd->usage)
		return;
	if (cmd->usage->text)
		print_man_lines(cmd->usage->text);
	options_print_man(stdout, groups, cmd->usage->groups(NULL, groups));
	if (cmd->usage->notes)
		print_man_lines(cmd->usage->notes);
}

static void print_man(void)
{
	printf(".TH KVMINI 1 \"\" \"kvmini %s\" \"User Commands\"\n", kvmini_version());
	print_man_section("SH", "NAME");
	options_print_roff(stdout, "kvmini - a small KVM virtual machine monitor\n");
	print_man_section("SH", "SYNOPSIS");
	fputs(".B kvmini\n.I command\n.RI [ options ]\n", stdout);
	print_man_section("SH", "DESCRIPTION");
	options_print_roff(stdout, "kvmini opens /dev/kvm, maps guest memory, runs one thread per vCPU and boots a\n"
				   "Linux kernel straight from the command line, with no firmware. Its messages go to\n"
				   "stderr, one line each, starting with kvmini:.\n");
	print_man_section("SH", "COMMANDS");
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		const struct command *first = commands;

		/* Commands sharing a usage are described once, under the first of them. */
		while (first != cmd && !(cmd->usage && first->usage == cmd->usage))
			first++;
		if (first == cmd)
			print_man_command(cmd);
	}
	print_man_section("SH", "SEE ALSO");
	options_print_roff(stdout, "README.md and docs/ in kvmini's source: the devices, the control API, security,\n"
				   "the smoke test and the test bench.\n");
}

int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc > 1 && !strcmp(argv[1], "--man")) {
		print_man();
		return 0;
	}
	if (argc > 1) {
		cmd = command_find(argv[1]);
		if (!cmd) {
			log_error("help: '%s' is not a kvmini command", argv[1]);
			return EXIT_USAGE;
		}
		if (cmd->usage)
			options_print_usage(stdout, cmd->name, cmd->usage);
		else
			printf("kvmini %s: %s\n", cmd->name, cmd->summary);
		return 0;
	}
	printf("usage: kvmini <command> [options]\n\ncommands:\n");
	for (cmd = commands; cmd->name; cmd++)
		printf("  %-11s %s\n", cmd->name, cmd->summary);
	printf("\n'kvmini help <command>' shows a command's options, 'kvmini help --man' the kvmini(1) man page.\n"
	       "pause, resume, stop, status, stats, regs and snapshot talk to a kvmini started with --api-sock\n"
	       "(Firecracker's API; see docs/api.md).\n");
	return 0;
}
