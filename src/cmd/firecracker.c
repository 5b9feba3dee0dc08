// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini as `firecracker`: Firecracker's command line (its
 * src/firecracker/src/main.rs: the same options, defaults and exit codes
 * where they matter) onto the daemon (src/cmd/daemon.c), which serves the
 * same API. main() comes here for a `firecracker` symlink, for options with
 * no subcommand, and for `kvmini firecracker`. docs/api.md says what each
 * option does in kvmini, and which are accepted without meaning here.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "vm_config.h"

/* Firecracker's --api-sock default. */
#define FIRECRACKER_API_SOCK "/run/firecracker.socket"
/* Its --id rule: 1 to 64 letters, digits and dashes. */
#define FIRECRACKER_ID_MAX 64

#define AT(field) offsetof(struct firecracker_args, field)

/* A number Firecracker parses as u64 or usize: checked, so that a typo is an error, whether or not it is used. */
static int parse_number(void *dst, const char *value, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(value, 0, UINT64_MAX, &n))
		return errmsg_set(e, EINVAL, "'%s' is not a number", value);
	*(const char **)dst = value;
	return 0;
}

static int parse_api_sock(void *dst, const char *value, struct errmsg *e)
{
	if (!value[0])
		return errmsg_set(e, EINVAL, "--api-sock: the path is empty");
	return option_string(dst, value, e);
}

static const struct option_spec firecracker_options[] = {
	{ "api-sock", 0, "PATH", "the API socket (default " FIRECRACKER_API_SOCK ")", parse_api_sock,
	  AT(d.cfg.api_sock) },
	{ "id", 0, "ID", "the microVM's id, in GET / and the log file's lines (1 to 64 letters, digits\n"
	  "and dashes; default anonymous-instance)", option_string, AT(d.id) },
	{ "config-file", 0, "FILE", "a Firecracker configuration file: the VM starts at once", option_string,
	  AT(d.config_file) },
	{ "no-api", 0, NULL, "no API socket (needs --config-file)", option_set, AT(no_api) },
	{ "enable-pci", 0, NULL, "virtio devices on PCI (default: virtio-mmio, as Firecracker)", option_set,
	  AT(enable_pci) },
	{ "log-path", 0, "PATH", "also write kvmini's log lines to this file or FIFO, in Firecracker's format",
	  option_string, AT(log.path) },
	{ "level", 0, "LEVEL", "the log file's level: Error, Warning, Info (default), Debug, Trace or Off",
	  option_string, AT(level) },
	{ "module", 0, "PATH", "only log lines from kvmini's source files under this path (e.g. src/api)",
	  option_string, AT(log.module) },
	{ "show-level", 0, NULL, "each log line names its level", option_set, AT(show_level) },
	{ "show-log-origin", 0, NULL, "each log line names its source file and line", option_set, AT(show_origin) },
	{ "metrics-path", 0, "PATH", "write a JSON metrics line to this file or FIFO every 60 s and on\n"
	  "FlushMetrics (docs/metrics.md)", option_string, AT(metrics.path) },
	{ "seccomp-filter", 0, "FILE", "accepted: kvmini keeps its own per-thread filters (docs/security.md)\n"
	  "and says so", option_string, AT(seccomp_filter) },
	{ "boot-timer", 0, NULL, "accepted: kvmini's boot timer is always on (docs/api.md)", option_set,
	  AT(boot_timer) },
	{ "http-api-max-payload-size", 0, "BYTES", "accepted: kvmini takes request bodies up to 64 KiB", parse_number,
	  AT(ignored_number) },
	{ "mmds-size-limit", 0, "BYTES", "accepted: kvmini has no MMDS yet", parse_number, AT(ignored_number) },
	{ "start-time-us", 0, "US", "accepted (the jailer's): not used", parse_number, AT(ignored_number) },
	{ "start-time-cpu-us", 0, "US", "accepted (the jailer's): not used", parse_number, AT(ignored_number) },
	{ "parent-cpu-time-us", 0, "US", "accepted (the jailer's): not used", parse_number, AT(ignored_number) },
	{ "metadata", 0, "FILE", "refused: kvmini has no MMDS yet", option_string, AT(unsupported[0]) },
	{ "describe-snapshot", 0, "FILE", "refused: kvmini does not read Firecracker snapshots yet", option_string,
	  AT(unsupported[1]) },
	{ "snapshot-version", 0, NULL, "refused, as --describe-snapshot", option_set, AT(snapshot_version) },
	{ "version", 0, NULL, "print kvmini's version, as `kvmini version`", option_set, AT(version) },
	{ .name = NULL },
};

static size_t firecracker_groups(void *args, struct option_group *g)
{
	struct firecracker_args *a = args;
	size_t n = 0;

	g[n++] = (struct option_group){ firecracker_options, a, NULL };
	g[n++] = (struct option_group){ seccomp_options, a ? &a->d.cfg : NULL, NULL };
	g[n++] = (struct option_group){ verbose_options, a ? &a->d.verbose : NULL, NULL };
	return n;
}

const struct option_usage firecracker_usage = {
	.synopsis = "[--api-sock PATH] [--config-file vm.json] [options]",
	.text = "Behaves as Firecracker does with the same options, for its clients (firecracker-go-sdk,\n"
		"firectl, Kata Containers): kvmini started with options and no command, or through a\n"
		"symbolic link named firecracker, comes here. It is kvmini daemon with Firecracker's\n"
		"command line: its API on the socket, its log and metrics files, devices on virtio-mmio.",
	.groups = firecracker_groups,
	.notes = "Exit status: as kvmini daemon; 153 for a bad option and 152 for a bad --level, as Firecracker.\n"
		 "See docs/api.md and docs/kata.md.",
};

/* Firecracker's --id rule. */
static bool id_ok(const char *id)
{
	size_t len = strlen(id);

	if (!len || len > FIRECRACKER_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

int firecracker_parse_args(int argc, char **argv, struct firecracker_args *a, struct errmsg *e)
{
	struct option_group groups[OPTION_GROUPS_MAX];
	int err;

	memset(a, 0, sizeof(*a));
	daemon_args_init(&a->d);
	a->log = (struct log_file_config)LOG_FILE_CONFIG_KEEP;
	err = options_parse("firecracker", argc, argv, groups, firecracker_groups(a, groups), e);
	if (err || a->version)
		return err;
	if (a->unsupported[0] || a->unsupported[1] || a->snapshot_version)
		return errmsg_set(e, ENOTSUP, "firecracker: %s is not supported by kvmini yet (docs/api.md)",
				  a->unsupported[0] ? "--metadata (MMDS)" : "reading Firecracker snapshots");
	if (a->no_api && !a->d.config_file)
		return errmsg_set(e, EINVAL, "firecracker: --no-api needs --config-file (nothing could start the VM)");
	if (a->seccomp_filter && a->d.cfg.no_seccomp)
		return errmsg_set(e, EINVAL, "firecracker: --seccomp-filter and --no-seccomp do not go together");
	if (a->d.id && !id_ok(a->d.id))
		return errmsg_set(e, EINVAL, "firecracker: --id '%s' must be 1 to %d letters, digits and dashes",
				  a->d.id, FIRECRACKER_ID_MAX);
	if (a->level && log_parse_level(a->level, &a->log.level))
		return errmsg_set(e, EDOM,
				  "firecracker: --level '%s' must be Error, Warning, Info, Debug, Trace or Off",
				  a->level);
	a->log.show_level = a->show_level;
	a->log.show_origin = a->show_origin;
	a->log_file = a->log.path || a->level || a->log.module || a->show_level || a->show_origin;
	a->d.id = a->d.id ?: "anonymous-instance";
	if (a->no_api)
		a->d.cfg.api_sock = NULL;
	else if (!a->d.cfg.api_sock)
		a->d.cfg.api_sock = FIRECRACKER_API_SOCK;
	if (a->enable_pci)
		a->d.cfg.transport = VIRTIO_TRANSPORT_PCI;
	return 0;
}

int cmd_firecracker(int argc, char **argv)
{
	/* Static: the configuration's drive slots stay untouched pages. */
	static struct firecracker_args a;
	struct errmsg e;
	int err = firecracker_parse_args(argc, argv, &a, &e);

	if (err == -ECANCELED) {
		options_print_usage(stdout, "firecracker", &firecracker_usage);
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		if (err == -EDOM)
			return EXIT_FC_BAD_CONFIGURATION;
		return err == -ENOTSUP ? EXIT_RUNTIME_ERROR : EXIT_FC_ARG_PARSING;
	}
	if (a.version) {
		version_print(stdout);
		return 0;
	}
	/* The log file first, as Firecracker: what follows, errors included, goes there too. */
	log_set_instance_id(a.d.id);
	if (a.log_file && log_file_configure(&a.log, &e)) {
		log_error("--log-path: %s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (a.seccomp_filter)
		log_info("--seccomp-filter %s is not used: kvmini installs its own per-thread filters "
			 "(docs/security.md)", a.seccomp_filter);
	if (a.metrics.path && metrics_open(&a.metrics, &e)) {
		log_error("--metrics-path: %s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	return daemon_run(&a.d);
}
