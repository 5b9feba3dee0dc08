// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "jail.h"
#include "log.h"
#include "parse.h"

static uint32_t jail_uid = JAIL_KEEP_ID, jail_gid = JAIL_KEEP_ID;
static const char *jail_root;

int jail_parse_id(const char *opt, const char *arg, uint32_t *id, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(arg, 0, JAIL_KEEP_ID - 1, &n))
		return errmsg_set(e, EINVAL, "%s '%s': must be a number from 0 to %u", opt, arg, JAIL_KEEP_ID - 1);
	*id = (uint32_t)n;
	return 0;
}

int jail_check(uint32_t uid, uint32_t gid, const char *chroot_dir, struct errmsg *e)
{
	if ((uid == JAIL_KEEP_ID) != (gid == JAIL_KEEP_ID))
		return errmsg_set(e, EINVAL, "--uid and --gid go together: give both or neither");
	if (chroot_dir && uid == JAIL_KEEP_ID)
		return errmsg_set(e, EINVAL, "--chroot needs --uid and --gid: root can leave a chroot");
	return 0;
}

void jail_configure(uint32_t uid, uint32_t gid, const char *chroot_dir)
{
	jail_uid = uid;
	jail_gid = gid;
	jail_root = chroot_dir;
}

/* Raw system calls: they change the calling thread only (see jail.h). */
static int drop_credentials(const char **what)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	/* A thread started by one that has dropped them already has them, and may no longer call setgroups. */
	if (!syscall(SYS_getresuid, &ruid, &euid, &suid) && !syscall(SYS_getresgid, &rgid, &egid, &sgid) &&
	    ruid == jail_uid && euid == jail_uid && suid == jail_uid && rgid == jail_gid && egid == jail_gid &&
	    sgid == jail_gid)
		return 0;
	/* Groups and group first: once the user ID is dropped, the right to change them goes too. */
	*what = "setgroups";
	if (syscall(SYS_setgroups, 0, NULL))
		return -errno;
	*what = "--gid: setresgid";
	if (syscall(SYS_setresgid, jail_gid, jail_gid, jail_gid))
		return -errno;
	*what = "--uid: setresuid";
	if (syscall(SYS_setresuid, jail_uid, jail_uid, jail_uid))
		return -errno;
	return 0;
}

int jail_enter(enum seccomp_kind kind, const char **what)
{
	/* Each kind of thread comes here first: its name for the log file's lines. */
	static const char *const names[SECCOMP_KINDS] = {
		[SECCOMP_MAIN] = "main", [SECCOMP_VCPU] = "vcpu", [SECCOMP_IO] = "io", [SECCOMP_API] = "api",
	};
	int err;

	log_set_thread_name(names[kind]);

	if (kind == SECCOMP_MAIN && jail_root) {
		*what = "--chroot";
		if (chroot(jail_root))
			return -errno;
		*what = "--chroot: chdir /";
		if (chdir("/"))
			return -errno;
	}
	if (jail_uid != JAIL_KEEP_ID && (err = drop_credentials(what)))
		return err;
	*what = "seccomp";
	return seccomp_enter(kind);
}
