// SPDX-License-Identifier: Apache-2.0
/* kvmini run: boot a kernel with its serial console on stdin/stdout until the guest ends. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/backend.h"
#include "api/server.h"
#include "commands.h"
#include "device.h"
#include "exit_codes.h"
#include "log.h"
#include "parse.h"
#include "runner.h"
#include "jail.h"
#include "virtio/fs.h"

/* Every registered device's options, each filling its part of cfg (NULL: for help). */
static size_t run_device_groups(struct vm_config *cfg, struct option_group *g)
{
	const struct device_ops *devices[DEVICES_MAX];
	size_t nr = devices_registered(devices), n = 0;

	for (size_t i = 0; i < nr && i < DEVICES_MAX; i++)
		if (devices[i]->options)
			g[n++] = (struct option_group){ devices[i]->options, cfg ? device_config(cfg, devices[i]) : NULL,
							NULL };
	return n;
}

static const struct option_spec init_options[] = {
	{ "init", 0, "PATH", "with --rootfs: the program to start as PID 1 (default /sbin/init)", option_string,
	  offsetof(struct run_opts, init) },
	{ .name = NULL },
};

/* What run's option groups fill. */
struct run_args {
	struct machine_args machine;
	struct run_opts *opts;
};

/* run's nine tables and a group for each device fit what the parser is given. */
_Static_assert(9 + DEVICES_MAX <= OPTION_GROUPS_MAX, "OPTION_GROUPS_MAX is too small for run");

/* The index of the groups run_parse_args checks: --rootfs's, --init's. */
enum { RUN_ROOTFS_GROUP = 4, RUN_INIT_GROUP = 5 };

static size_t run_groups(void *args, struct option_group *g)
{
	struct run_args *a = args;
	struct vm_config *cfg = a ? a->machine.cfg : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ kernel_options, cfg, NULL };
	g[n++] = (struct option_group){ initrd_options, cfg, NULL };
	g[n++] = (struct option_group){ boot_options, cfg, NULL };
	g[n++] = (struct option_group){ machine_options, a ? &a->machine : NULL, NULL };
	g[n++] = (struct option_group){ rootfs_options, a ? &a->opts->root : NULL, NULL };
	g[n++] = (struct option_group){ init_options, a ? a->opts : NULL, NULL };
	n += run_device_groups(cfg, g + n);
	g[n++] = (struct option_group){ host_options, cfg, NULL };
	g[n++] = (struct option_group){ seccomp_options, cfg, NULL };
	g[n++] = (struct option_group){ verbose_options, a ? &a->opts->verbose : NULL, NULL };
	return n;
}

const struct option_usage run_usage = {
	.synopsis = "--kernel PATH [options]",
	.groups = run_groups,
	.notes = "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A.\n"
		 "Exit status: 0 guest powered off or rebooted, 1 error, 2 usage error, 4 guest panic.",
};

int run_parse_args(int argc, char **argv, uint64_t host_ram, struct vm_config *cfg, struct run_opts *opts,
		   struct errmsg *e)
{
	struct run_args args = { .machine = { .cfg = cfg, .host_ram = host_ram }, .opts = opts };
	struct option_group groups[OPTION_GROUPS_MAX];
	int err;

	vm_config_init(cfg);
	*opts = (struct run_opts){ .verbose = false };
	err = options_parse("run", argc, argv, groups, run_groups(&args, groups), e);
	if (err)
		return err;
	if (!cfg->kernel_path[0])
		return options_required("run", "kernel", e);
	if (!opts->root.dir && (groups[RUN_ROOTFS_GROUP].given || groups[RUN_INIT_GROUP].given))
		return errmsg_set(e, EINVAL, "run: --%s goes with --rootfs", groups[RUN_ROOTFS_GROUP].given ?:
				  groups[RUN_INIT_GROUP].given);
	if (opts->root.dir && cfg->initrd_path[0])
		return errmsg_set(e, EINVAL, "run: --rootfs and --initrd do not go together (--rootfs boots kvmini's "
				  "own initramfs)");
	return jail_check(cfg->uid, cfg->gid, cfg->chroot_dir, e);
}

/*
 * --rootfs: DIR shared with virtio-fs as the root, and the built-in init
 * told to mount it and start its init. *initramfs is freed by the caller.
 */
static int run_prepare_rootfs(struct vm_config *cfg, const struct run_opts *opts, uint8_t **initramfs,
			      struct errmsg *e)
{
	char dir[PATH_MAX];
	struct exec_plan plan = { .mode = EXEC_MODE_ROOTFS, .root_tag = GUEST_ROOT_TAG,
				  .root_readonly = opts->root.readonly, .init = opts->init };
	int err;

	if (!realpath(opts->root.dir, dir))
		return errmsg_set(e, errno, "--rootfs %s: %s", opts->root.dir, strerror(errno));
	if ((err = fs_config_add_share(fs_config_of(cfg), dir, GUEST_ROOT_TAG, opts->root.readonly, e)))
		return errmsg_prefix(e, -err, "--rootfs %s: ", dir);
	return guest_build(cfg, &plan, opts->root.modules, initramfs, e);
}

static void report(const struct runner_result *res)
{
	if (res->booted)
		log_info("%s", res->message);
	else
		log_error("%s", res->message);
}

/* The API socket serves from before the VM exists until after it is gone, so no exit path leaves the file. */
static int run_with_api(struct vm_config *cfg)
{
	static struct api_ctl ctl;
	struct runner_hooks hooks;
	struct api_server *server;
	struct runner_result res;
	struct errmsg e;

	if (api_ctl_init(&ctl, false, cfg, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (api_server_start(&server, cfg->api_sock, &api_vm_backend, &ctl, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_RUNTIME_ERROR;
	}
	hooks = api_ctl_hooks(&ctl);
	runner_run(cfg, STDIN_FILENO, STDOUT_FILENO, &hooks, &res);
	api_server_stop(server);
	api_ctl_destroy(&ctl);
	report(&res);
	return res.exit_code;
}

int cmd_run(int argc, char **argv)
{
	/* Static, so zeroed for free: the drive slots' pages stay untouched unless used. */
	static struct vm_config cfg;
	struct runner_result res;
	struct run_opts opts;
	uint8_t *initramfs = NULL;
	struct errmsg e;
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	int err;

	err = run_parse_args(argc, argv, host_ram, &cfg, &opts, &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "run", &run_usage);
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	log_set_verbose(opts.verbose);
	if (opts.root.dir && run_prepare_rootfs(&cfg, &opts, &initramfs, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if ((err = seccomp_enable(!cfg.no_seccomp))) {
		log_error("cannot set up seccomp: %s (--no-seccomp runs without it)", strerror(-err));
		return EXIT_RUNTIME_ERROR;
	}
	jail_configure(cfg.uid, cfg.gid, cfg.chroot_dir);
	if (cfg.api_sock) {
		res.exit_code = run_with_api(&cfg);
	} else {
		runner_run(&cfg, STDIN_FILENO, STDOUT_FILENO, NULL, &res);
		report(&res);
	}
	free(initramfs);
	return res.exit_code;
}
