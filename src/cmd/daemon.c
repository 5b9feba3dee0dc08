// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini daemon: the API socket first, the VM when InstanceStart arrives (or
 * at once with --config-file, as Firecracker does), or restored from a
 * snapshot by PUT /snapshot/load (at once: kvmini restore DIR). The main
 * thread waits for that, runs the VM with runner_run while the API thread
 * keeps serving, and ends with the guest. The guest console is
 * stdin/stdout, as with run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "api/backend.h"
#include "api/server.h"
#include "commands.h"
#include "exit_codes.h"
#include "log.h"
#include "jail.h"
#include "open_file.h"
#include "runner.h"

/* A config file larger than this is surely not one. */
#define CONFIG_FILE_MAX (1 << 20)

static int parse_transport(void *args, const char *value, struct errmsg *e)
{
	struct daemon_args *a = args;

	return vm_config_parse_transport(value, &a->cfg.transport, e);
}

static const struct option_spec daemon_options[] = {
	{ "config-file", 0, "FILE", "a Firecracker configuration file: the VM starts at once", option_string,
	  offsetof(struct daemon_args, config_file) },
	{ "transport", 0, "mmio|pci", "virtio devices as virtio-mmio windows announced on the kernel\n"
	  "command line, as Firecracker (default), or as PCI functions", parse_transport, 0 },
	{ .name = NULL },
};

/* The daemon's option groups around a command's own (daemon's, restore's); a NULL for help. */
static size_t groups_with(const struct option_spec *own, struct daemon_args *a, struct option_group *g)
{
	struct vm_config *cfg = a ? &a->cfg : NULL;
	size_t n = 0;

	g[n++] = (struct option_group){ host_options, cfg, NULL };
	g[n++] = (struct option_group){ own, a, NULL };
	g[n++] = (struct option_group){ seccomp_options, cfg, NULL };
	g[n++] = (struct option_group){ verbose_options, a ? &a->verbose : NULL, NULL };
	return n;
}

static size_t daemon_groups(void *args, struct option_group *g)
{
	return groups_with(daemon_options, args, g);
}

static const struct option_spec restore_options[] = {
	{ "paused", 0, NULL, "leave the restored VM paused (kvmini resume, or PATCH /vm, runs it)", option_set,
	  offsetof(struct daemon_args, paused) },
	{ "track-dirty-pages", 0, NULL, "record the pages the guest writes, for kvmini snapshot --diff", option_set,
	  offsetof(struct daemon_args, track_dirty_pages) },
	{ .name = NULL },
};

static size_t restore_groups(void *args, struct option_group *g)
{
	return groups_with(restore_options, args, g);
}

const struct option_usage restore_usage = {
	.synopsis = "DIR [--api-sock PATH] [--paused] [options]",
	.text = "Restores the VM that kvmini snapshot --out DIR saved (DIR/state, DIR/memory), in this\n"
		"process, at once: as kvmini daemon after PUT /snapshot/load. Guest memory is mapped from\n"
		"DIR/memory and loaded as the guest touches it. The VM runs on unless --paused; with\n"
		"--api-sock it is controlled as a daemon's. The guest console is stdin/stdout.",
	.groups = restore_groups,
	.notes = "Exit status: as kvmini run's; 1 also when the snapshot cannot be restored (the reason on stderr).",
};

const struct option_usage daemon_usage = {
	.synopsis = "--api-sock PATH [--config-file vm.json] [options]",
	.text = "Serves Firecracker's API on the Unix socket PATH. Configure the VM with\n"
		"PUT /boot-source, /machine-config, /drives/ID and /network-interfaces/ID, then\n"
		"start it with PUT /actions {\"action_type\": \"InstanceStart\"}; see docs/api.md.\n"
		"The guest console is stdin/stdout; kvmini ends with the guest, with run's exit codes.",
	.groups = daemon_groups,
	.notes = "With --uid and --gid, the API thread drops to them at once, the rest once the VM's files\n"
		 "are open; --chroot applies when the VM starts.",
};

static int read_config_file(struct api_ctl *ctl, const char *path, struct errmsg *e)
{
	char *text = malloc(CONFIG_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	if (!text)
		return errmsg_set(e, ENOMEM, "out of memory");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errmsg_set(e, errno, "--config-file %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len)) > 0 && len + (size_t)n <= CONFIG_FILE_MAX)
		len += (size_t)n;
	if (n < 0)
		err = errmsg_set(e, errno, "--config-file %s: %s", path, strerror(errno));
	else if (n > 0)
		err = errmsg_set(e, EFBIG, "--config-file %s: larger than %d bytes", path, CONFIG_FILE_MAX);
	else if ((err = api_config_parse_file(ctl->cfg, text, len, e)))
		errmsg_prefix(e, -err, "--config-file %s: ", path);
	close(fd);
out:
	free(text);
	return err;
}

/* Until InstanceStart, a stop signal or a Stop action; true to start the VM, else *exit_code is set. */
static bool wait_for_start(struct api_ctl *ctl, int signal_fd, int *exit_code)
{
	struct pollfd fds[2] = { { .fd = ctl->start_fd, .events = POLLIN }, { .fd = signal_fd, .events = POLLIN } };
	struct signalfd_siginfo si;
	uint64_t count;
	bool stop;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			*exit_code = EXIT_RUNTIME_ERROR;
			return false;
		}
		if (fds[1].revents && read(signal_fd, &si, sizeof(si)) == sizeof(si)) {
			log_info("stopped by %s before the VM started",
				 sigabbrev_np(si.ssi_signo) ? sigabbrev_np(si.ssi_signo) : "a signal");
			*exit_code = EXIT_SIGNAL_BASE + (int)si.ssi_signo;
			return false;
		}
		if (!fds[0].revents || read(ctl->start_fd, &count, sizeof(count)) != sizeof(count))
			continue;
		pthread_mutex_lock(&ctl->lock);
		stop = ctl->stop_requested;
		pthread_mutex_unlock(&ctl->lock);
		if (stop) {
			log_info("stopped through the API before the VM started");
			*exit_code = EXIT_GUEST_OK;
			return false;
		}
		return true;
	}
}

/* Exchanges two configurations in place, without a third copy of their ~170 KiB. */
static void config_swap(struct vm_config *a, struct vm_config *b)
{
	unsigned char *x = (unsigned char *)a, *y = (unsigned char *)b, t;

	for (size_t i = 0; i < sizeof(*a); i++) {
		t = x[i];
		x[i] = y[i];
		y[i] = t;
	}
}

/*
 * Runs the VM of the snapshot in load's files as boot() runs a configured
 * one: the configuration is the snapshot's while its VM lives (GET
 * /vm/config shows it), and as it was when the restore fails, so that the
 * daemon can be loaded or configured again.
 */
static void restore(struct api_ctl *ctl, const struct api_load *load, struct runner_hooks *hooks,
		    struct runner_result *res)
{
	struct vm_config *other = malloc(sizeof(*other));
	struct snapshot_image img;
	struct errmsg e;

	if (!other) {
		snprintf(res->message, sizeof(res->message), "cannot restore the snapshot: out of memory");
		return;
	}
	/* No request changes the configuration while a start is under way: it is read unlocked, swapped locked. */
	memcpy(other, ctl->cfg, sizeof(*other));
	if (snapshot_read(&img, load->fds.state_fd, load->fds.mem_fd, other, &e)) {
		snprintf(res->message, sizeof(res->message), "%s", e.text);
		free(other);
		return;
	}
	other->track_dirty_pages = load->track_dirty_pages;
	pthread_mutex_lock(&ctl->lock);
	config_swap(ctl->cfg, other);
	pthread_mutex_unlock(&ctl->lock);
	hooks->restore = &img;
	hooks->resume = load->resume;
	runner_run(ctl->cfg, STDIN_FILENO, STDOUT_FILENO, hooks, res);
	if (!res->booted) {
		pthread_mutex_lock(&ctl->lock);
		config_swap(ctl->cfg, other);
		pthread_mutex_unlock(&ctl->lock);
	}
	snapshot_image_free(&img);
	free(other);
}

/*
 * Boots what ctl is configured with, or restores the snapshot a load handed
 * over; false when it did not start (the client that asked is told why).
 */
static bool boot(struct api_ctl *ctl, struct runner_result *res)
{
	struct runner_hooks hooks = api_ctl_hooks(ctl);
	struct api_load load;
	struct errmsg e;
	int err = 0;

	*res = (struct runner_result){ .exit_code = EXIT_RUNTIME_ERROR };
	pthread_mutex_lock(&ctl->lock);
	load = ctl->load;
	ctl->load.fds = (struct api_snapshot_fds){ -1, -1 };
	if (load.fds.state_fd < 0)
		err = api_config_startable(ctl->cfg, &e);
	pthread_mutex_unlock(&ctl->lock);
	if (load.fds.state_fd >= 0) {
		restore(ctl, &load, &hooks, res);
		api_snapshot_fds_close(&load.fds);
	} else if (err) {
		snprintf(res->message, sizeof(res->message), "%s", e.text);
	} else {
		/* The configuration cannot change any more (InstanceStart was taken): it can be used unlocked. */
		runner_run(ctl->cfg, STDIN_FILENO, STDOUT_FILENO, &hooks, res);
	}
	if (res->booted)
		return true;
	log_error("%s", res->message);
	api_ctl_start_failed(ctl, res->message);
	return false;
}

static int serve(struct api_ctl *ctl, bool start_now)
{
	struct runner_result res;
	sigset_t stop_signals;
	int signal_fd, exit_code = EXIT_RUNTIME_ERROR;

	/* The runner takes these signals the same way once the VM runs. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
	if (signal_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return EXIT_RUNTIME_ERROR;
	}
	if (start_now) {
		pthread_mutex_lock(&ctl->lock);
		ctl->start = API_START_REQUESTED;
		pthread_mutex_unlock(&ctl->lock);
	}
	for (;;) {
		if (!start_now && !wait_for_start(ctl, signal_fd, &exit_code))
			break;
		if (boot(ctl, &res)) {
			log_info("%s", res.message);
			exit_code = res.exit_code;
			break;
		}
		if (start_now) {
			exit_code = res.exit_code;
			break;
		}
	}
	close(signal_fd);
	return exit_code;
}

/* kvmini restore: the snapshot's files, as the start the daemon makes at once. */
static int open_restore(struct api_ctl *ctl, const struct daemon_args *args, struct errmsg *e)
{
	char state[VM_PATH_MAX], memory[VM_PATH_MAX];
	struct api_snapshot_fds fds;

	if (snprintf(state, sizeof(state), "%s/" SNAPSHOT_STATE_FILE, args->restore_dir) >= (int)sizeof(state) ||
	    snprintf(memory, sizeof(memory), "%s/" SNAPSHOT_MEMORY_FILE, args->restore_dir) >= (int)sizeof(memory))
		return errmsg_set(e, ENAMETOOLONG, "restore: '%s': the path is too long", args->restore_dir);
	if ((fds.state_fd = open_file("snapshot", state, O_RDONLY, OPEN_REGULAR, false, e)) < 0)
		return fds.state_fd;
	if ((fds.mem_fd = open_file("memory file", memory, O_RDONLY, OPEN_REGULAR, false, e)) < 0) {
		close(fds.state_fd);
		return fds.mem_fd;
	}
	ctl->load = (struct api_load){ fds, args->track_dirty_pages, !args->paused };
	return 0;
}

int daemon_run(struct daemon_args *args)
{
	static struct api_ctl ctl;
	struct vm_config *cfg = &args->cfg;
	struct api_server *server = NULL;
	struct errmsg e;
	int code, err;

	if ((err = jail_check(cfg->uid, cfg->gid, cfg->chroot_dir, &e))) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	log_set_verbose(args->verbose);
	jail_configure(cfg->uid, cfg->gid, cfg->chroot_dir);
	if ((err = seccomp_enable(!cfg->no_seccomp))) {
		log_error("cannot set up seccomp: %s (--no-seccomp runs without it)", strerror(-err));
		return EXIT_RUNTIME_ERROR;
	}
	if (api_ctl_init(&ctl, true, cfg, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (args->id)
		snprintf(ctl.id, sizeof(ctl.id), "%s", args->id);
	log_set_instance_id(ctl.id);
	if (args->config_file && read_config_file(&ctl, args->config_file, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_USAGE;
	}
	if (args->restore_dir && open_restore(&ctl, args, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_RUNTIME_ERROR;
	}
	if (cfg->api_sock && api_server_start(&server, cfg->api_sock, &api_vm_backend, &ctl, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_RUNTIME_ERROR;
	}
	code = serve(&ctl, args->config_file || args->restore_dir);
	api_server_stop(server);
	api_ctl_destroy(&ctl);
	return code;
}

void daemon_args_init(struct daemon_args *args)
{
	vm_config_init(&args->cfg);
	/* Firecracker's clients boot with pci=off, often acpi=off too: devices on the command line, an MP table. */
	args->cfg.transport = VIRTIO_TRANSPORT_MMIO;
	args->cfg.mmio_cmdline = true;
	args->cfg.mptable_too = true;
}

int cmd_daemon(int argc, char **argv)
{
	/* Static: the configuration's drive slots stay untouched pages. */
	static struct daemon_args args;
	struct option_group groups[OPTION_GROUPS_MAX];
	struct errmsg e;
	int err;

	daemon_args_init(&args);
	err = options_parse("daemon", argc, argv, groups, daemon_groups(&args, groups), &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "daemon", &daemon_usage);
		return 0;
	}
	if (!err && !args.cfg.api_sock)
		err = options_required("daemon", "api-sock", &e);
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	return daemon_run(&args);
}

int restore_parse_args(int argc, char **argv, struct daemon_args *a, struct errmsg *e)
{
	struct option_group groups[OPTION_GROUPS_MAX];

	/* DIR first, then the options: the parser takes what follows its argv[0]. */
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return -ECANCELED;
	if (argc < 2 || argv[1][0] == '-')
		return errmsg_set(e, EINVAL, "restore: the snapshot's directory comes first (see 'kvmini help restore')");
	a->restore_dir = argv[1];
	return options_parse("restore", argc - 1, argv + 1, groups, restore_groups(a, groups), e);
}

int cmd_restore(int argc, char **argv)
{
	/* Static: the configuration's drive slots stay untouched pages. */
	static struct daemon_args args;
	struct errmsg e;
	int err;

	daemon_args_init(&args);
	err = restore_parse_args(argc, argv, &args, &e);
	if (err == -ECANCELED) {
		options_print_usage(stdout, "restore", &restore_usage);
		return 0;
	}
	if (err) {
		log_error("%s", e.text);
		return EXIT_USAGE;
	}
	return daemon_run(&args);
}
