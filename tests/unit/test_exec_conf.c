// SPDX-License-Identifier: Apache-2.0
/* The built-in init's configuration for exec and run --rootfs (src/exec/conf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec/conf.h"

/* The entries of a built init.conf, one string each, in order. */
struct entries {
	char *buf;
	size_t len;
	const char *list[64];
	unsigned nr;
};

static void build(const struct exec_plan *p, struct entries *out)
{
	struct errmsg e;

	memset(out, 0, sizeof(*out));
	assert_int_equal(exec_conf_build(p, &out->buf, &out->len, &e), 0);
	assert_true(out->len > 0);
	assert_int_equal(out->buf[out->len - 1], 0); /* every entry, the last too, ends with a NUL */
	for (size_t off = 0; off < out->len; off += strlen(out->buf + off) + 1) {
		assert_true(out->nr < 64);
		out->list[out->nr++] = out->buf + off;
	}
}

static int index_of(const struct entries *c, const char *entry)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (!strcmp(c->list[i], entry))
			return (int)i;
	return -1;
}

static void test_exec_plan(void **state)
{
	static const char *const tmpfs[] = { "/tmp", "/run", "/var/tmp" };
	const struct exec_mount mounts[] = { { "rw0", "/home/u/out", true }, { "data", "/run/shares/data", false } };
	const gid_t groups[] = { 27, 100 };
	char *argv[] = { "sh", "-c", "echo a=b; exit 3", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "DISPLAY=:0", "HOME=/home/u", "XDG_SESSION_ID=4", "SSH_AUTH_SOCK=/x",
			 "DISPLAYS=kept", "NOEQUALS", NULL };
	struct exec_modules mods = { .nr = 2, .list = { { "fuse", "kernel/fs/fuse/fuse.ko" },
							{ "virtiofs", "kernel/fs/fuse/virtiofs.ko" } } };
	const struct exec_plan p = {
		.mode = EXEC_MODE_EXEC, .modules = &mods, .root_tag = "root", .root_readonly = true, .tmpfs = tmpfs,
		.nr_tmpfs = 3, .mounts = mounts, .nr_mounts = 2, .uid = 1000, .gid = 1000, .groups = groups,
		.nr_groups = 2, .cwd = "/home/u", .argv = argv, .envp = envp, .tty = true,
	};
	struct entries c;

	(void)state;
	build(&p, &c);
	assert_string_equal(c.list[0], "mode=exec");
	assert_string_equal(c.list[1], "module=/kvmini/modules/01-fuse.ko");
	assert_string_equal(c.list[2], "module=/kvmini/modules/02-virtiofs.ko");
	assert_true(index_of(&c, "root=root") > 2);
	assert_true(index_of(&c, "root_readonly=1") > 0);
	assert_true(index_of(&c, "tmpfs=/run") < index_of(&c, "mount=rw0:/home/u/out:rw"));
	assert_true(index_of(&c, "mount=rw0:/home/u/out:rw") < index_of(&c, "mount=data:/run/shares/data:ro"));
	assert_true(index_of(&c, "uid=1000") > 0);
	assert_true(index_of(&c, "gid=1000") > 0);
	assert_true(index_of(&c, "groups=27,100") > 0);
	assert_true(index_of(&c, "cwd=/home/u") > 0);
	assert_true(index_of(&c, "arg=sh") < index_of(&c, "arg=-c"));
	assert_true(index_of(&c, "arg=-c") < index_of(&c, "arg=echo a=b; exit 3"));
	assert_true(index_of(&c, "env=PATH=/usr/bin:/bin") > 0);
	assert_true(index_of(&c, "env=HOME=/home/u") > 0);
	assert_true(index_of(&c, "env=DISPLAYS=kept") > 0);
	assert_int_equal(index_of(&c, "env=DISPLAY=:0"), -1);
	assert_int_equal(index_of(&c, "env=XDG_SESSION_ID=4"), -1);
	assert_int_equal(index_of(&c, "env=SSH_AUTH_SOCK=/x"), -1);
	assert_int_equal(index_of(&c, "env=NOEQUALS"), -1);
	assert_true(index_of(&c, "tty=1") > 0);
	assert_int_equal(index_of(&c, "init=/sbin/init"), -1);
	free(c.buf);
}

static void test_rootfs_plan(void **state)
{
	const struct exec_plan p = { .mode = EXEC_MODE_ROOTFS, .root_tag = "rootfs", .init = "/bin/sh" };
	struct entries c;

	(void)state;
	build(&p, &c);
	assert_int_equal(c.nr, 3);
	assert_string_equal(c.list[0], "mode=rootfs");
	assert_string_equal(c.list[1], "root=rootfs");
	assert_string_equal(c.list[2], "init=/bin/sh");
	free(c.buf);
}

static void test_no_empty_groups_lost(void **state)
{
	char *argv[] = { "true", NULL };
	const struct exec_plan p = { .mode = EXEC_MODE_EXEC, .root_tag = "root", .cwd = "/", .argv = argv };
	struct entries c;
	struct errmsg e;
	char *buf;
	size_t len;

	(void)state;
	build(&p, &c);
	assert_true(index_of(&c, "groups=") > 0); /* no supplementary groups: the key says so */
	assert_int_equal(index_of(&c, "tty=1"), -1);
	free(c.buf);
	argv[0] = NULL;
	assert_int_equal(exec_conf_build(&p, &buf, &len, &e), -EINVAL);
}

static void test_host_only_names(void **state)
{
	(void)state;
	assert_true(exec_env_host_only("WAYLAND_DISPLAY=wayland-0"));
	assert_true(exec_env_host_only("XDG_SESSION_TYPE=x11"));
	assert_true(exec_env_host_only("TMUX="));
	assert_false(exec_env_host_only("TMUXX=1"));
	assert_false(exec_env_host_only("TERM=xterm"));
	assert_false(exec_env_host_only("XDG_CONFIG_HOME=/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_plan),
		cmocka_unit_test(test_rootfs_plan),
		cmocka_unit_test(test_no_empty_groups_lost),
		cmocka_unit_test(test_host_only_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
