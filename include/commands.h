/* SPDX-License-Identifier: Apache-2.0 */
/* kvmini's subcommands, git-style: one source file each under src/cmd/. */
#ifndef KVMINI_COMMANDS_H
#define KVMINI_COMMANDS_H

#include "options.h"

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
	const struct option_usage *usage; /* NULL: a command without options, its summary says it all */
};

int cmd_run(int argc, char **argv);
extern const struct option_usage run_usage;
int cmd_smoke(int argc, char **argv);
extern const struct option_usage smoke_usage;
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* kvmini daemon: a VM configured and started through the API socket (src/cmd/daemon.c). */
int cmd_daemon(int argc, char **argv);
/* kvmini as Firecracker: its options, no subcommand, or started as `firecracker` (src/cmd/firecracker.c). */
int cmd_firecracker(int argc, char **argv);
extern const struct option_usage firecracker_usage;
/* kvmini exec: one command in a fresh guest on a share of the host's root (src/cmd/exec.c). */
int cmd_exec(int argc, char **argv);
extern const struct option_usage exec_usage;
extern const struct option_usage daemon_usage;
/* kvmini restore DIR: a daemon that starts with the snapshot in DIR (src/cmd/daemon.c). */
int cmd_restore(int argc, char **argv);
extern const struct option_usage restore_usage;
/* kvmini snapshot: pauses a VM through its API socket and saves it into a directory (src/cmd/snapshot.c). */
int cmd_snapshot(int argc, char **argv);
extern const struct option_usage snapshot_usage;
/* kvmini pause|resume|stop|status|stats|regs: a client of the API socket (src/cmd/ctl.c); argv[0] says which. */
int cmd_ctl(int argc, char **argv);
extern const struct option_usage ctl_usage;
/*
 * One request to the API socket sock, answered within timeout_s: 0 with
 * the status and the body (*resp, NULL when none) in buf; -1 with the
 * reason in e when there was no answer.
 */
int ctl_exchange(const char *sock, int timeout_s, const char *method, const char *path, const char *body, char *buf,
		 size_t cap, int *status, const char **resp, size_t *resp_len, struct errmsg *e);
/* An error answer on stderr: "kvmini: 400 Bad Request: <fault_message>". */
void ctl_print_fault(int status, const char *body, size_t len);

/*
 * Options more than one command takes (src/cmd/shared_options.c), declared
 * once: each table but the last fills a struct vm_config, the last a bool.
 */
extern const struct option_spec kernel_options[];  /* --kernel: run, smoke, exec */
extern const struct option_spec initrd_options[];  /* --initrd: run, smoke (exec makes its own) */
extern const struct option_spec boot_options[];    /* --cmdline, --no-acpi: run, smoke, exec */
extern const struct option_spec host_options[];    /* --api-sock, --nested, --uid, --gid, --chroot: run, daemon */
extern const struct option_spec seccomp_options[]; /* --no-seccomp: run, smoke, daemon */
extern const struct option_spec verbose_options[]; /* -v, --verbose */
/* --mem, --cpus, --hugepages, --transport: run, exec; they fill a struct machine_args */
extern const struct option_spec machine_options[];
/* --rootfs, --modules: run, exec; they fill a struct guest_root (include/exec/guest.h) */
extern const struct option_spec rootfs_options[];
/* The version string, e.g. for the API's vmm_version: the semantic version, "+" and the commit. */
const char *kvmini_version(void);
/* "kvmini VERSION\n": what --version prints, in kvmini's mode and in Firecracker's (Kata reads its second word). */
void version_print(FILE *f);

extern const struct command commands[];
const struct command *command_find(const char *name);

#include <stdbool.h>
#include <stdint.h>

#include "errmsg.h"
#include "exec/guest.h"
#include "log.h"
#include "metrics.h"
#include "vm_config.h"

/*
 * What the daemon runs (src/cmd/daemon.c): from kvmini daemon's options or
 * Firecracker's (src/cmd/firecracker.c). Of the VM's configuration what is
 * not the guest's; the API or the config file fills the rest.
 */
struct daemon_args {
	struct vm_config cfg;  /* cfg.api_sock NULL: no API socket (Firecracker's --no-api, with a config file) */
	const char *config_file;
	const char *id;        /* the instance id (GET /, log lines); NULL: "kvmini-PID" */
	bool verbose;
	/* kvmini restore: the snapshot's directory (its files state and memory), restored at once */
	const char *restore_dir;
	bool paused, track_dirty_pages; /* the restored VM stays paused; it records written pages for Diff */
};

/* The configuration's defaults in API mode (args zeroed): devices on virtio-mmio, as Firecracker puts them. */
void daemon_args_init(struct daemon_args *args);
/* Runs the daemon with its options parsed: its exit code, what went wrong said on stderr. */
int daemon_run(struct daemon_args *args);
/*
 * `kvmini restore DIR [options]` into a (daemon_args_init first): 0;
 * -ECANCELED for --help; -EINVAL with the message for a usage error. Pure,
 * for the unit tests.
 */
int restore_parse_args(int argc, char **argv, struct daemon_args *a, struct errmsg *e);
/* What `kvmini snapshot` takes. */
struct snapshot_args {
	const char *sock, *out;
	bool diff, keep_paused;
};

/* `kvmini snapshot`'s options into a: 0; -ECANCELED for --help; -EINVAL with the message. Pure, for the unit tests. */
int snapshot_parse_args(int argc, char **argv, struct snapshot_args *a, struct errmsg *e);
/* The files of a snapshot directory (kvmini snapshot --out DIR, kvmini restore DIR). */
#define SNAPSHOT_STATE_FILE "state"
#define SNAPSHOT_MEMORY_FILE "memory"

/* What Firecracker's command line fills (src/cmd/firecracker.c). */
struct firecracker_args {
	struct daemon_args d;
	bool log_file;                 /* set up the log file as `log` says before anything else */
	struct log_file_config log;
	struct metrics_config metrics; /* path NULL: none until PUT /metrics */
	const char *level, *seccomp_filter;
	const char *ignored_number;   /* the numbers kvmini checks but does not use (--start-time-us, ...) */
	const char *unsupported[2];   /* --metadata, --describe-snapshot */
	bool no_api, enable_pci, show_level, show_origin, boot_timer, snapshot_version, version;
};

/*
 * Firecracker's options into a, for daemon_run. 0; -ECANCELED for --help;
 * -EINVAL with the message for a bad option (Firecracker's exit code 153),
 * -EDOM for a bad --level (152), -ENOTSUP for what kvmini cannot do yet.
 * With a->version set, nothing else is checked. Pure, for the unit tests.
 */
int firecracker_parse_args(int argc, char **argv, struct firecracker_args *a, struct errmsg *e);

/* What the machine options fill: --mem is checked against the host's RAM. */
struct machine_args {
	struct vm_config *cfg;
	uint64_t host_ram;
};

/* What run takes besides the vm_config: -v, and a directory to boot as the root with its init and modules. */
struct run_opts {
	bool verbose;
	struct guest_root root;
	const char *init; /* --init PATH, with --rootfs */
};

/*
 * `kvmini run`'s options into a vm_config, which must come zeroed (the
 * caller's static one is, without touching the pages of its device area);
 * -EINVAL with the reason for a usage error, -ECANCELED for --help. host_ram
 * bounds --mem. Pure, for the unit tests.
 */
int run_parse_args(int argc, char **argv, uint64_t host_ram, struct vm_config *cfg, struct run_opts *opts,
		   struct errmsg *e);
#endif
