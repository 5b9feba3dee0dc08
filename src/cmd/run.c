// SPDX-License-Identifier: Apache-2.0
/* kvmini run: boot a kernel with its serial console on stdin/stdout until the guest ends. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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

/* What run's own options fill: the machine needs host_ram to check --mem. */
struct run_args {
	struct vm_config *cfg;
	uint64_t host_ram;
	bool verbose;
};

static int parse_mem(void *args, const char *value, struct errmsg *e)
{
	struct run_args *a = args;

	return vm_config_parse_mem(value, a->host_ram, &a->cfg->mem_size, e);
}

static int parse_cpus(void *args, const char *value, struct errmsg *e)
{
	struct run_args *a = args;
	uint64_t cpus;

	if (parse_uint(value, 1, VM_MAX_CPUS, &cpus))
		return errmsg_set(e, EINVAL, "--cpus '%s': must be a number from 1 to %d", value, VM_MAX_CPUS);
	a->cfg->nr_cpus = cpus;
	return 0;
}

static int parse_hugepages(void *args, const char *value, struct errmsg *e)
{
	struct run_args *a = args;

	return option_set(&a->cfg->hugepages, value, e);
}

static int parse_transport(void *args, const char *value, struct errmsg *e)
{
	struct run_args *a = args;

	return vm_config_parse_transport(value, &a->cfg->transport, e);
}

static const struct option_spec machine_options[] = {
	{ "mem", 0, "SIZE", "guest RAM, e.g. 512M or 2G (default 512M, at least 64M)", parse_mem, 0 },
	{ "cpus", 0, "N", "vCPUs (default 1, at most " OPTION_TEXT(VM_MAX_CPUS) ")", parse_cpus, 0 },
	{ "hugepages", 0, NULL, "back guest RAM with huge pages", parse_hugepages, 0 },
	{ "transport", 0, "pci|mmio", "virtio devices as PCI functions (default) or virtio-mmio windows",
	  parse_transport, 0 },
	{ .name = NULL },
};

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

/* run's five tables and a group for each device fit what the parser is given. */
_Static_assert(5 + DEVICES_MAX <= OPTION_GROUPS_MAX, "OPTION_GROUPS_MAX is too small for run");

static size_t run_groups(void *args, struct option_group *g)
{
	struct run_args *a = args;
	struct vm_config *cfg = a ? a->cfg : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ boot_options, cfg, NULL };
	g[n++] = (struct option_group){ machine_options, a, NULL };
	n += run_device_groups(cfg, g + n);
	g[n++] = (struct option_group){ host_options, cfg, NULL };
	g[n++] = (struct option_group){ seccomp_options, cfg, NULL };
	g[n++] = (struct option_group){ verbose_options, a ? &a->verbose : NULL, NULL };
	return n;
}

const struct option_usage run_usage = {
	.synopsis = "--kernel PATH [options]",
	.groups = run_groups,
	.notes = "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A.\n"
		 "Exit status: 0 guest powered off or rebooted, 1 error, 2 usage error, 4 guest panic.",
};

int run_parse_args(int argc, char **argv, uint64_t host_ram, struct vm_config *cfg, bool *verbose, struct errmsg *e)
{
	struct run_args args = { .cfg = cfg, .host_ram = host_ram };
	struct option_group groups[OPTION_GROUPS_MAX];
	int err;

	vm_config_init(cfg);
	err = options_parse("run", argc, argv, groups, run_groups(&args, groups), e);
	*verbose = args.verbose;
	if (err)
		return err;
	if (!cfg->kernel_path[0])
		return options_required("run", "kernel", e);
	return jail_check(cfg->uid, cfg->gid, cfg->chroot_dir, e);
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
	struct errmsg e;
	bool verbose;
	uint64_t host_ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	int err;

	err = run_parse_args(argc, argv, host_ram, &cfg, &verbose, &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "run", &run_usage);
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	log_set_verbose(verbose);
	if ((err = seccomp_enable(!cfg.no_seccomp))) {
		log_error("cannot set up seccomp: %s (--no-seccomp runs without it)", strerror(-err));
		return EXIT_RUNTIME_ERROR;
	}
	jail_configure(cfg.uid, cfg.gid, cfg.chroot_dir);
	if (cfg.api_sock)
		return run_with_api(&cfg);
	runner_run(&cfg, STDIN_FILENO, STDOUT_FILENO, NULL, &res);
	report(&res);
	return res.exit_code;
}
