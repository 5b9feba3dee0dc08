// SPDX-License-Identifier: Apache-2.0
/*
 * kvmini daemon: the API socket first, the VM when InstanceStart arrives (or
 * at once with --config-file, as Firecracker does). The main thread waits
 * for that, runs the VM with runner_run while the API thread keeps serving,
 * and ends with the guest. The guest console is stdin/stdout, as with run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
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
#include "runner.h"
#include "jail.h"

/* A config file larger than this is surely not one. */
#define CONFIG_FILE_MAX (1 << 20)

enum { OPT_API_SOCK = 256, OPT_CONFIG_FILE, OPT_NO_SECCOMP, OPT_NESTED, OPT_UID, OPT_GID, OPT_CHROOT };

static const struct option daemon_options[] = {
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "nested", required_argument, NULL, OPT_NESTED },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void cmd_daemon_usage(void)
{
	printf("usage: kvmini daemon --api-sock PATH [--config-file vm.json] [options]\n"
	       "\n"
	       "Serves Firecracker's API on the Unix socket PATH. Configure the VM with\n"
	       "PUT /boot-source, /machine-config, /drives/ID and /network-interfaces/ID, then\n"
	       "start it with PUT /actions {\"action_type\": \"InstanceStart\"}; see docs/api.md.\n"
	       "The guest console is stdin/stdout; kvmini ends with the guest, with run's exit codes.\n"
	       "\n"
	       "  --api-sock PATH     the socket (mode 0600; a stale one is replaced)\n"
	       "  --config-file FILE  a Firecracker configuration file: the VM starts at once\n"
	       "  --nested on|off     let the guest see VMX/SVM and run VMs of its own (default off)\n"
	       "  --no-seccomp        no per-thread system call filters (docs/security.md)\n"
	       "  --uid N --gid N     run as this user and group, with no supplementary groups: the\n"
	       "                      API thread at once, the rest once the VM's files are open\n"
	       "  --chroot DIR        and change the root to DIR when the VM starts (needs --uid, --gid)\n"
	       "  -v, --verbose       say more about what kvmini does\n");
}

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
	else if ((err = api_config_parse_file(&ctl->cfg, text, len, e)))
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

/* Boots what ctl is configured with; false when it did not start (the client that asked is told why). */
static bool boot(struct api_ctl *ctl, bool nested, struct runner_result *res)
{
	struct runner_hooks hooks = api_ctl_hooks(ctl);
	static char cmdline[API_BOOT_ARGS_MAX + 32];
	struct vm_config cfg;
	struct errmsg e;

	*res = (struct runner_result){ .exit_code = EXIT_RUNTIME_ERROR };
	pthread_mutex_lock(&ctl->lock);
	if (api_config_to_vm(&ctl->cfg, &cfg, cmdline, sizeof(cmdline), &e)) {
		pthread_mutex_unlock(&ctl->lock);
		log_error("%s", e.text);
		api_ctl_start_failed(ctl, e.text);
		return false;
	}
	/* The configuration cannot change any more (InstanceStart was taken): it can be used unlocked. */
	pthread_mutex_unlock(&ctl->lock);
	cfg.nested = nested;
	runner_run(&cfg, STDIN_FILENO, STDOUT_FILENO, &hooks, res);
	if (res->booted)
		return true;
	log_error("%s", res->message);
	api_ctl_start_failed(ctl, res->message);
	return false;
}

static int serve(struct api_ctl *ctl, bool start_now, bool nested)
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
		if (boot(ctl, nested, &res)) {
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

int cmd_daemon(int argc, char **argv)
{
	static struct api_ctl ctl;
	const char *sock = NULL, *config_file = NULL;
	const char *chroot_dir = NULL;
	uint32_t uid = JAIL_KEEP_ID, gid = JAIL_KEEP_ID;
	bool no_seccomp = false, nested = false;
	struct api_server *server;
	struct errmsg e;
	int opt, code, err;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", daemon_options, NULL)) != -1) {
		switch (opt) {
		case OPT_API_SOCK:
			sock = optarg;
			break;
		case OPT_CONFIG_FILE:
			config_file = optarg;
			break;
		case OPT_NO_SECCOMP:
			no_seccomp = true;
			break;
		case OPT_NESTED:
			if (vm_config_parse_nested(optarg, &nested, &e)) {
				log_error("daemon: %s", e.text);
				return EXIT_USAGE;
			}
			break;
		case OPT_UID:
		case OPT_GID:
			if (jail_parse_id(opt == OPT_UID ? "--uid" : "--gid", optarg, opt == OPT_UID ? &uid : &gid, &e)) {
				log_error("daemon: %s", e.text);
				return EXIT_USAGE;
			}
			break;
		case OPT_CHROOT:
			chroot_dir = optarg;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			cmd_daemon_usage();
			return 0;
		case ':':
			log_error("daemon: %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("daemon: unknown option '%s' (see 'kvmini help daemon')", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("daemon: unexpected argument '%s' (see 'kvmini help daemon')", argv[optind]);
		return EXIT_USAGE;
	}
	if (!sock) {
		log_error("daemon: --api-sock is required (see 'kvmini help daemon')");
		return EXIT_USAGE;
	}
	if (jail_check(uid, gid, chroot_dir, &e)) {
		log_error("daemon: %s", e.text);
		return EXIT_USAGE;
	}
	jail_configure(uid, gid, chroot_dir);
	if ((err = seccomp_enable(!no_seccomp))) {
		log_error("cannot set up seccomp: %s (--no-seccomp runs without it)", strerror(-err));
		return EXIT_RUNTIME_ERROR;
	}
	if (api_ctl_init(&ctl, true, NULL, &e)) {
		log_error("%s", e.text);
		return EXIT_RUNTIME_ERROR;
	}
	if (config_file && read_config_file(&ctl, config_file, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_USAGE;
	}
	if (api_server_start(&server, sock, &api_vm_backend, &ctl, &e)) {
		log_error("%s", e.text);
		api_ctl_destroy(&ctl);
		return EXIT_RUNTIME_ERROR;
	}
	code = serve(&ctl, config_file != NULL, nested);
	api_server_stop(server);
	api_ctl_destroy(&ctl);
	return code;
}
