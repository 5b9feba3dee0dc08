// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "commands.h"
#include "exit_codes.h"
#include "log.h"

int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc > 1) {
		cmd = command_find(argv[1]);
		if (!cmd) {
			log_error("help: '%s' is not a kvmini command", argv[1]);
			return EXIT_USAGE;
		}
		if (cmd->usage)
			cmd->usage();
		else
			printf("kvmini %s: %s\n", cmd->name, cmd->summary);
		return 0;
	}
	printf("usage: kvmini <command> [options]\n\ncommands:\n");
	for (cmd = commands; cmd->name; cmd++)
		printf("  %-10s %s\n", cmd->name, cmd->summary);
	printf("\n'kvmini help <command>' shows a command's options. pause, resume, stop, status, stats and regs\n"
	       "talk to a kvmini started with --api-sock (Firecracker's API; see docs/api.md).\n");
	return 0;
}
