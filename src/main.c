// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "exit_codes.h"
#include "log.h"

const struct command commands[] = {
	{ "run", "boot a kernel and attach its serial console", cmd_run, &run_usage },
	{ "exec", "run a command in a fresh guest on a read-only share of this host's root", cmd_exec, &exec_usage },
	{ "smoke", "boot a kernel and say whether it passed (for CI)", cmd_smoke, &smoke_usage },
	{ "daemon", "serve the API socket; configure and start a VM through it", cmd_daemon, &daemon_usage },
	{ "restore", "bring back a VM that kvmini snapshot saved, in this process", cmd_restore, &restore_usage },
	{ "firecracker", "behave as Firecracker, for its clients (also: a symlink named firecracker)", cmd_firecracker,
	  &firecracker_usage },
	{ "pause", "pause a VM through its API socket", cmd_ctl, &ctl_usage },
	{ "resume", "resume a paused VM", cmd_ctl, &ctl_usage },
	{ "stop", "stop a VM at once", cmd_ctl, &ctl_usage },
	{ "status", "show a VM's state", cmd_ctl, &ctl_usage },
	{ "stats", "show a VM's counters (uptime, vCPU exits, memory, devices)", cmd_ctl, &ctl_usage },
	{ "regs", "show a paused VM's vCPU registers", cmd_ctl, &ctl_usage },
	{ "snapshot", "save a VM into a directory through its API socket", cmd_snapshot, &snapshot_usage },
	{ "help", "show help for kvmini or one of its commands", cmd_help, NULL },
	{ "version", "print kvmini's version", cmd_version, NULL },
	{ NULL, NULL, NULL, NULL },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/*
 * Firecracker's clients start it with options and no command, or as a binary
 * named firecracker: then kvmini is Firecracker. --help and --version stay
 * kvmini's own (--version prints the same line either way).
 */
static bool as_firecracker(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "firecracker"))
		return true;
	return argc > 1 && !strncmp(argv[1], "--", 2) && strcmp(argv[1], "--help") && strcmp(argv[1], "--version");
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	/* The log file's local time: /etc/localtime read now, before any thread's system call filter. */
	tzset();
	if (argc > 0 && as_firecracker(argc, argv))
		return cmd_firecracker(argc, argv);
	if (argc < 2)
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc - 1, argv + 1);
	cmd = command_find(argv[1]);
	if (!cmd) {
		log_error("'%s' is not a kvmini command (see 'kvmini help')", argv[1]);
		return EXIT_USAGE;
	}
	return cmd->main(argc - 1, argv + 1);
}
