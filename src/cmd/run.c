// SPDX-License-Identifier: Apache-2.0
/* kvmini run: boot a kernel with its serial console on stdin/stdout until the guest ends. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "api/backend.h"
#include "api/server.h"
#include "boot/cmdline.h"
#include "commands.h"
#include "exit_codes.h"
#include "log.h"
#include "parse.h"
#include "runner.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "jail.h"

#define DEFAULT_MEM (512ULL << 20)

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_CPUS,
	OPT_NO_ACPI,
	OPT_HUGEPAGES,
	OPT_DRIVE,
	OPT_NET,
	OPT_RNG,
	OPT_TRANSPORT,
	OPT_CONSOLE,
	OPT_API_SOCK,
	OPT_NO_SECCOMP,
	OPT_NESTED,
	OPT_UID,
	OPT_GID,
	OPT_CHROOT,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "no-acpi", no_argument, NULL, OPT_NO_ACPI },
	{ "hugepages", no_argument, NULL, OPT_HUGEPAGES },
	{ "drive", required_argument, NULL, OPT_DRIVE },
	{ "net", required_argument, NULL, OPT_NET },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "nested", required_argument, NULL, OPT_NESTED },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cmd_run_usage(void)
{
	printf("usage: kvmini run --kernel PATH [options]\n"
	       "\n"
	       "  --kernel PATH    bzImage, or an ELF vmlinux with a PVH entry point\n"
	       "  --initrd PATH    initramfs to load with it\n"
	       "  --cmdline STR    kernel parameters, added to \"%s\"\n"
	       "                   (a parameter given here replaces the default of the same name)\n"
	       "  --mem SIZE       guest RAM, e.g. 512M or 2G (default 512M, at least 64M)\n"
	       "  --cpus N         vCPUs (default 1)\n"
	       "  --no-acpi        describe the machine with an MP table instead of ACPI\n"
	       "  --hugepages      back guest RAM with huge pages\n"
	       "  --drive path=FILE[,readonly=on|off][,cache=none|writeback][,id=NAME]\n"
	       "                   a virtio-blk disk backed by FILE (raw image or block device);\n"
	       "                   repeatable, up to %d; id (at most 20 characters) is its serial\n"
	       "  --net tap=NAME[,mac=52:54:00:12:34:56]\n"
	       "                   a virtio-net interface on host tap NAME; repeatable, up to %d\n"
	       "  --rng            a virtio-rng device fed from the host's getrandom()\n"
	       "  --transport pci|mmio\n"
	       "                   virtio devices as PCI functions (default) or virtio-mmio windows\n"
	       "  --console serial|virtio\n"
	       "                   virtio: the console is also hvc0 (virtio-console), and input goes there\n"
	       "  --api-sock PATH  serve the control API (Firecracker's, docs/api.md) on this Unix socket:\n"
	       "                   kvmini pause|resume|stop|status --sock PATH, or curl --unix-socket PATH\n"
	       "  --nested on|off  let the guest see VMX/SVM and run VMs of its own (default off)\n"
	       "  --no-seccomp     no per-thread system call filters (docs/security.md); for debugging\n"
	       "  --uid N --gid N  once every file is open, run as this user and group, with no\n"
	       "                   supplementary groups (started as root)\n"
	       "  --chroot DIR     and change the root to DIR first (needs --uid and --gid)\n"
	       "  -v, --verbose    say more about what kvmini does\n"
	       "\n"
	       "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A.\n"
	       "Exit status: 0 guest powered off or rebooted, 1 error, 2 usage error, 4 guest panic.\n",
	       CMDLINE_DEFAULTS, BLK_MAX_DRIVES, NET_MAX_INTERFACES);
}

static int usage_error(struct errmsg *e, const char *fmt, const char *arg)
{
	return errmsg_set(e, EINVAL, fmt, arg);
}

int run_parse_args(int argc, char **argv, uint64_t host_ram, struct vm_config *cfg, bool *verbose, struct errmsg *e)
{
	uint64_t cpus;
	int opt, err;

	cfg->mem_size = DEFAULT_MEM;
	cfg->nr_cpus = 1;
	cfg->acpi = true;
	cfg->uid = cfg->gid = JAIL_KEEP_ID;
	*verbose = false;
	optind = 0; /* restart getopt: it keeps state between calls */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", run_options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			cfg->kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_MEM:
			if ((err = vm_config_parse_mem(optarg, host_ram, &cfg->mem_size, e)))
				return err;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 1, VM_MAX_CPUS, &cpus))
				return errmsg_set(e, EINVAL, "--cpus '%s': must be a number from 1 to %d", optarg,
						  VM_MAX_CPUS);
			cfg->nr_cpus = cpus;
			break;
		case OPT_NO_ACPI:
			cfg->acpi = false;
			break;
		case OPT_HUGEPAGES:
			cfg->hugepages = true;
			break;
		case OPT_DRIVE:
			if ((err = vm_config_add_drive(cfg, optarg, e)))
				return err;
			break;
		case OPT_NET:
			if ((err = vm_config_add_net(cfg, optarg, e)))
				return err;
			break;
		case OPT_RNG:
			rng_config_of(cfg)->enabled = true;
			break;
		case OPT_TRANSPORT:
			if ((err = vm_config_parse_transport(optarg, &cfg->transport, e)))
				return err;
			break;
		case OPT_CONSOLE:
			if ((err = vm_config_parse_console(optarg, &vcon_config_of(cfg)->enabled, e)))
				return err;
			break;
		case OPT_API_SOCK:
			cfg->api_sock = optarg;
			break;
		case OPT_NO_SECCOMP:
			cfg->no_seccomp = true;
			break;
		case OPT_NESTED:
			if ((err = vm_config_parse_nested(optarg, &cfg->nested, e)))
				return err;
			break;
		case OPT_UID:
			if ((err = jail_parse_id("--uid", optarg, &cfg->uid, e)))
				return err;
			break;
		case OPT_GID:
			if ((err = jail_parse_id("--gid", optarg, &cfg->gid, e)))
				return err;
			break;
		case OPT_CHROOT:
			cfg->chroot_dir = optarg;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'h':
			return -ECANCELED;
		case ':':
			return usage_error(e, "run: %s needs a value", argv[optind - 1]);
		default:
			/* For a short option inside a group (-xv), argv[optind - 1] is not the culprit: optopt is. */
			if (optopt > 0 && optopt < 128 && isprint(optopt))
				return errmsg_set(e, EINVAL, "run: unknown option '-%c' (see 'kvmini help run')", optopt);
			return usage_error(e, "run: unknown option '%s' (see 'kvmini help run')", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error(e, "run: unexpected argument '%s' (see 'kvmini help run')", argv[optind]);
	if (!cfg->kernel_path)
		return errmsg_set(e, EINVAL, "run: --kernel is required (see 'kvmini help run')");
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
static int run_with_api(const struct vm_config *cfg)
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
		cmd_run_usage();
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
