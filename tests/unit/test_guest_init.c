// SPDX-License-Identifier: Apache-2.0
/* The built-in init's pure parts (guests/init), built as ordinary C: init.conf, the frames, PATH, raw mode, text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "frames.h"
#include "path_search.h"
#include "raw_tty.h"
#include "text.h"

static struct init_conf conf;
static struct conf_error bad;

/* Parses a literal conf: its NUL-separated entries, the last NUL included (sizeof counts the literal's own). */
#define PARSE(lit) parse_text(lit, sizeof(lit) - 1)

static char text_copy[CONF_SIZE_MAX];

static int parse_text(const char *text, size_t len)
{
	memcpy(text_copy, text, len);
	return conf_parse(text_copy, len, &conf, &bad);
}

static void expect_bad(int rc, size_t entry, const char *what)
{
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(bad.entry, entry);
	assert_string_equal(bad.what, what);
}

static void test_conf_exec_all_keys(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mode=exec\0module=/kvmini/modules/00-fuse.ko\0module=/kvmini/modules/01-virtiofs.ko\0"
			       "root=root\0root_readonly=1\0tmpfs=/tmp\0tmpfs=/run\0mount=rw0:/home/me/src:rw\0"
			       "mount=data:/run/shares/data:ro\0uid=1000\0gid=100\0groups=4,24,1000\0cwd=/home/me\0"
			       "arg=make\0arg=\0arg=-j2\0env=PATH=/usr/bin:/bin\0env=A==b\0tty=1\0"),
			 0);
	assert_int_equal(conf.mode, CONF_MODE_EXEC);
	assert_int_equal(conf.n_modules, 2);
	assert_string_equal(conf.modules[1], "/kvmini/modules/01-virtiofs.ko");
	assert_string_equal(conf.root, "root");
	assert_true(conf.root_readonly);
	assert_int_equal(conf.n_tmpfs, 2);
	assert_string_equal(conf.tmpfs[1], "/run");
	assert_int_equal(conf.n_mounts, 2);
	assert_string_equal(conf.mounts[0].tag, "rw0");
	assert_string_equal(conf.mounts[0].path, "/home/me/src");
	assert_false(conf.mounts[0].readonly);
	assert_string_equal(conf.mounts[1].tag, "data");
	assert_true(conf.mounts[1].readonly);
	assert_int_equal(conf.uid, 1000);
	assert_int_equal(conf.gid, 100);
	assert_int_equal(conf.n_groups, 3);
	assert_int_equal(conf.groups[0], 4);
	assert_int_equal(conf.groups[2], 1000);
	assert_string_equal(conf.cwd, "/home/me");
	assert_int_equal(conf.n_args, 3);
	assert_string_equal(conf.args[0], "make");
	assert_string_equal(conf.args[1], "");
	assert_string_equal(conf.args[2], "-j2");
	assert_null(conf.args[3]);
	assert_int_equal(conf.n_env, 2);
	assert_string_equal(conf.env[0], "PATH=/usr/bin:/bin");
	assert_string_equal(conf.env[1], "A==b");
	assert_null(conf.env[2]);
	assert_true(conf.tty);
}

static void test_conf_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mode=rootfs\0root=r\0"), 0);
	assert_int_equal(conf.mode, CONF_MODE_ROOTFS);
	assert_string_equal(conf.init, CONF_DEFAULT_INIT);
	assert_false(conf.root_readonly);
	assert_int_equal(PARSE("init=/lib/systemd/systemd\0mode=rootfs\0"), 0);
	assert_string_equal(conf.init, "/lib/systemd/systemd");
	assert_null(conf.root);
	assert_int_equal(PARSE("mode=exec\0arg=true\0groups=\0"), 0);
	assert_int_equal(conf.uid, 0);
	assert_int_equal(conf.gid, 0);
	assert_int_equal(conf.n_groups, 0);
	assert_string_equal(conf.cwd, "/");
	assert_int_equal(conf.n_env, 0);
	assert_null(conf.env[0]);
	assert_false(conf.tty);
}

static void test_conf_mount_path_with_colons(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mode=rootfs\0mount=t:/a:b:c:ro\0"), 0);
	assert_string_equal(conf.mounts[0].tag, "t");
	assert_string_equal(conf.mounts[0].path, "/a:b:c");
	assert_true(conf.mounts[0].readonly);
}

static void test_conf_framing_errors(void **state)
{
	(void)state;
	expect_bad(PARSE("mode=exec\0arg=true"), 0, "the last entry has no NUL");
	expect_bad(PARSE("mode=exec\0arg\0"), 2, "an entry has no '='");
	expect_bad(PARSE("mode=exec\0\0arg=x\0"), 2, "an entry has no '='");
	expect_bad(PARSE("=exec\0"), 1, "an entry has no key");
	expect_bad(PARSE(""), 0, "no mode= entry");
	expect_bad(PARSE("root=r\0"), 0, "no mode= entry");
	expect_bad(PARSE("mode=exec\0"), 0, "mode=exec needs an arg= entry");
}

static void test_conf_bad_values(void **state)
{
	(void)state;
	expect_bad(PARSE("mode=shell\0"), 1, "unknown mode");
	expect_bad(PARSE("mode=exec\0mode=exec\0"), 2, "key given twice");
	expect_bad(PARSE("mode=exec\0colour=blue\0"), 2, "unknown key");
	expect_bad(PARSE("mode=exec\0module=fuse.ko\0"), 2, "needs an absolute path");
	expect_bad(PARSE("mode=exec\0root=\0"), 2, "root= needs a tag");
	expect_bad(PARSE("mode=exec\0root=a\0root=b\0"), 3, "key given twice");
	expect_bad(PARSE("mode=exec\0root_readonly=yes\0"), 2, "must be 0 or 1");
	expect_bad(PARSE("mode=exec\0tty=2\0"), 2, "must be 0 or 1");
	expect_bad(PARSE("mode=exec\0tmpfs=tmp\0"), 2, "needs an absolute path");
	expect_bad(PARSE("mode=exec\0cwd=home\0"), 2, "needs an absolute path");
	expect_bad(PARSE("mode=exec\0init=sbin/init\0"), 2, "needs an absolute path");
	expect_bad(PARSE("mode=exec\0env=NOVALUE\0"), 2, "env= must be NAME=VALUE");
}

static void test_conf_bad_ids(void **state)
{
	(void)state;
	assert_int_equal(PARSE("mode=exec\0arg=x\0uid=4294967294\0"), 0);
	assert_int_equal(conf.uid, 4294967294u);
	expect_bad(PARSE("mode=exec\0uid=4294967295\0"), 2, "must be a number");
	expect_bad(PARSE("mode=exec\0uid=99999999999999999999\0"), 2, "must be a number");
	expect_bad(PARSE("mode=exec\0gid=-1\0"), 2, "must be a number");
	expect_bad(PARSE("mode=exec\0gid=12a\0"), 2, "must be a number");
	expect_bad(PARSE("mode=exec\0gid=\0"), 2, "must be a number");
	expect_bad(PARSE("mode=exec\0uid=1\0uid=1\0"), 3, "key given twice");
	expect_bad(PARSE("mode=exec\0groups=1,,2\0"), 2, "groups= must be numbers split by commas");
	expect_bad(PARSE("mode=exec\0groups=1,\0"), 2, "groups= must be numbers split by commas");
	expect_bad(PARSE("mode=exec\0groups=1\0groups=2\0"), 3, "key given twice");
}

static void test_conf_bad_mounts(void **state)
{
	(void)state;
	expect_bad(PARSE("mode=exec\0mount=t:/p\0"), 2, "mount= must be TAG:PATH:ro or TAG:PATH:rw");
	expect_bad(PARSE("mode=exec\0mount=:/p:ro\0"), 2, "mount= must be TAG:PATH:ro or TAG:PATH:rw");
	expect_bad(PARSE("mode=exec\0mount=t\0"), 2, "mount= must be TAG:PATH:ro or TAG:PATH:rw");
	expect_bad(PARSE("mode=exec\0mount=t:p:ro\0"), 2, "mount= needs an absolute path");
	expect_bad(PARSE("mode=exec\0mount=t:/p:rx\0"), 2, "mount= must end in :ro or :rw");
}

/* One more entry than a list takes is refused, whatever the list. */
static void test_conf_limits(void **state)
{
	static const struct {
		const char *entry;
		size_t max;
	} lists[] = {
		{ "module=/m.ko", CONF_MODULES_MAX }, { "mount=t:/p:ro", CONF_MOUNTS_MAX },
		{ "tmpfs=/t", CONF_TMPFS_MAX },	      { "arg=a", CONF_ARGS_MAX },
		{ "env=A=b", CONF_ENV_MAX },
	};
	static char text[CONF_SIZE_MAX];

	(void)state;
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		size_t len = 0, n = strlen(lists[l].entry) + 1;

		memcpy(text, "mode=exec\0arg=x", 16);
		len = 16;
		for (size_t i = 0; i < lists[l].max; i++, len += n)
			memcpy(text + len, lists[l].entry, n);
		/* arg= has taken one already: the list is full with max entries in all */
		if (!strncmp(lists[l].entry, "arg=", 4))
			len -= n;
		assert_int_equal(conf_parse(text, len, &conf, &bad), 0);
		memcpy(text + len, lists[l].entry, n);
		len += n;
		assert_int_equal(conf_parse(text, len, &conf, &bad), -EINVAL);
	}
	memcpy(text, "mode=exec\0arg=x\0groups=", 23);
	{
		size_t len = 23;

		for (size_t i = 0; i <= CONF_GROUPS_MAX; i++)
			len += (size_t)sprintf(text + len, i ? ",%zu" : "%zu", i);
		text[len++] = '\0';
		expect_bad(conf_parse(text, len, &conf, &bad), 3, "too many groups");
	}
}

/* A frame arrives in pieces of any size: the reader asks for exactly what completes it. */
static void test_reader_pieces(void **state)
{
	static struct frame_reader r;
	struct exec_frame h = { .type = EXEC_STDIN, .len = 5 };
	uint8_t wire[sizeof(h) + 5];

	(void)state;
	memcpy(wire, &h, sizeof(h));
	memcpy(wire + sizeof(h), "hello", 5);
	assert_int_equal(frame_reader_want(&r), sizeof(h));
	memcpy(frame_reader_space(&r), wire, 3);
	assert_int_equal(frame_reader_got(&r, 3), 0);
	assert_int_equal(frame_reader_want(&r), sizeof(h) - 3);
	memcpy(frame_reader_space(&r), wire + 3, sizeof(h) - 3);
	assert_int_equal(frame_reader_got(&r, sizeof(h) - 3), 0);
	assert_int_equal(frame_reader_want(&r), 5);
	memcpy(frame_reader_space(&r), wire + sizeof(h), 5);
	assert_int_equal(frame_reader_got(&r, 5), 1);
	assert_int_equal(frame_reader_want(&r), 0);
	assert_int_equal(frame_reader_header(&r).type, EXEC_STDIN);
	assert_memory_equal(frame_reader_payload(&r), "hello", 5);
	frame_reader_next(&r);

	/* no payload: whole with its header */
	h = (struct exec_frame){ .type = EXEC_STDIN_EOF, .len = 0 };
	memcpy(frame_reader_space(&r), &h, sizeof(h));
	assert_int_equal(frame_reader_got(&r, sizeof(h)), 1);
	assert_int_equal(frame_reader_header(&r).type, EXEC_STDIN_EOF);
	frame_reader_next(&r);

	/* the largest frame fits whole */
	h = (struct exec_frame){ .type = EXEC_STDIN, .len = EXEC_FRAME_MAX };
	memcpy(frame_reader_space(&r), &h, sizeof(h));
	assert_int_equal(frame_reader_got(&r, sizeof(h)), 0);
	assert_int_equal(frame_reader_want(&r), EXEC_FRAME_MAX);
	memset(frame_reader_space(&r), 'x', EXEC_FRAME_MAX);
	assert_int_equal(frame_reader_got(&r, EXEC_FRAME_MAX), 1);
	frame_reader_next(&r);
}

static void test_reader_too_long(void **state)
{
	static struct frame_reader r;
	struct exec_frame h = { .type = EXEC_STDIN, .len = EXEC_FRAME_MAX + 1 };

	(void)state;
	memcpy(frame_reader_space(&r), &h, sizeof(h));
	assert_int_equal(frame_reader_got(&r, sizeof(h)), -EPROTO);
	h.len = UINT32_MAX;
	frame_reader_next(&r);
	memcpy(frame_reader_space(&r), &h, sizeof(h));
	assert_int_equal(frame_reader_got(&r, sizeof(h)), -EPROTO);
}

/* Frames come out in order, as written, and a partly written queue keeps the rest. */
static void test_queue_order(void **state)
{
	static struct frame_queue q;
	struct exec_exit e = { .how = EXEC_EXITED, .value = 3 };
	struct exec_frame h;
	const uint8_t *p;
	size_t len, room;

	(void)state;
	p = frame_queue_pending(&q, &len);
	assert_int_equal(len, 0);
	assert_int_equal(frame_queue_add(&q, EXEC_STARTED, NULL, 0), 0);
	room = frame_queue_room(&q);
	assert_true(room > 0);
	memcpy(frame_queue_payload(&q), "out", 3);
	frame_queue_commit(&q, EXEC_STDOUT, 3);
	assert_int_equal(frame_queue_add(&q, EXEC_EXIT, &e, sizeof(e)), 0);

	p = frame_queue_pending(&q, &len);
	assert_int_equal(len, 3 * sizeof(h) + 3 + sizeof(e));
	memcpy(&h, p, sizeof(h));
	assert_int_equal(h.type, EXEC_STARTED);
	assert_int_equal(h.len, 0);
	frame_queue_sent(&q, sizeof(h) + 2); /* a short write, into the next frame's header */
	p = frame_queue_pending(&q, &len);
	assert_int_equal(len, 2 * sizeof(h) + 1 + sizeof(e));
	memcpy(&h, p - 2, sizeof(h));
	assert_int_equal(h.type, EXEC_STDOUT);
	assert_int_equal(h.len, 3);
	assert_memory_equal(p - 2 + sizeof(h), "out", 3);
	frame_queue_sent(&q, len);
	frame_queue_pending(&q, &len);
	assert_int_equal(len, 0);
}

/* A full queue takes nothing more, gives room back as it is written, and never holds more than it can. */
static void test_queue_bounds(void **state)
{
	static struct frame_queue q;
	size_t len, total = 0, room;
	int frames = 0;

	(void)state;
	assert_int_equal(frame_queue_room(&q), EXEC_FRAME_MAX);
	while ((room = frame_queue_room(&q)) > 0) {
		size_t n = room < 1000 ? room : 1000;

		memset(frame_queue_payload(&q), 'a', n);
		frame_queue_commit(&q, EXEC_STDERR, n);
		total += n + sizeof(struct exec_frame);
		frames++;
	}
	frame_queue_pending(&q, &len);
	assert_int_equal(len, total);
	assert_true(total <= FRAME_QUEUE_SIZE);
	assert_true(frames > 60);
	assert_int_equal(frame_queue_add(&q, EXEC_STDOUT, "x", 1), -ENOSPC);

	/* some written: what waits moves to the front, and the room is what was written, less a header */
	frame_queue_sent(&q, total / 4);
	room = frame_queue_room(&q);
	assert_true(room > 0);
	assert_true(room + sizeof(struct exec_frame) <= FRAME_QUEUE_SIZE - (total - total / 4));
	frame_queue_pending(&q, &len);
	assert_int_equal(len, total - total / 4);
	assert_int_equal(frame_queue_add(&q, EXEC_STDOUT, "x", 1), 0);
	frame_queue_pending(&q, &len);
	frame_queue_sent(&q, len);
	/* drained: the largest frame fits again, so the last frames always can */
	assert_int_equal(frame_queue_room(&q), EXEC_FRAME_MAX);
}

static void test_exit_from_status(void **state)
{
	struct exec_exit e;

	(void)state;
	e = frame_exit_from_status(0);
	assert_int_equal(e.how, EXEC_EXITED);
	assert_int_equal(e.value, 0);
	e = frame_exit_from_status(3 << 8);
	assert_int_equal(e.how, EXEC_EXITED);
	assert_int_equal(e.value, 3);
	e = frame_exit_from_status(255 << 8);
	assert_int_equal(e.value, 255);
	e = frame_exit_from_status(9);
	assert_int_equal(e.how, EXEC_KILLED);
	assert_int_equal(e.value, 9);
	e = frame_exit_from_status(0x80 | 11); /* SIGSEGV with a core dump */
	assert_int_equal(e.how, EXEC_KILLED);
	assert_int_equal(e.value, 11);
}

static void test_path_search(void **state)
{
	char out[64];
	size_t pos = 0;

	(void)state;
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/ls");
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 1);
	assert_string_equal(out, "./ls");
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 1);
	assert_string_equal(out, "/bin/ls");
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 1);
	assert_string_equal(out, "./ls");
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 0);
	assert_int_equal(path_search_next("/usr/bin::/bin:", &pos, "ls", out, sizeof(out)), 0);

	pos = 0;
	assert_int_equal(path_search_next("/bin", &pos, "sh", out, sizeof(out)), 1);
	assert_string_equal(out, "/bin/sh");
	assert_int_equal(path_search_next("/bin", &pos, "sh", out, sizeof(out)), 0);
}

static void test_path_search_too_long(void **state)
{
	char out[12];
	size_t pos = 0;

	(void)state;
	/* "/bin/abcdef" is 11 bytes and its NUL the 12th; one more does not fit and is skipped */
	assert_int_equal(path_search_next("/usr/bin:/bin", &pos, "abcdef", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(path_search_next("/usr/bin:/bin", &pos, "abcdef", out, sizeof(out)), 1);
	assert_string_equal(out, "/bin/abcdef");
	assert_int_equal(path_search_next("/usr/bin:/bin", &pos, "abcdef", out, sizeof(out)), 0);
}

static void test_env_value(void **state)
{
	const char *env[] = { "PATHX=no", "PAT=no", "PATH=/bin", "PATH=/second", NULL };
	const char *none[] = { NULL };

	(void)state;
	assert_string_equal(env_value(env, "PATH"), "/bin");
	assert_string_equal(env_value(env, "PAT"), "no");
	assert_null(env_value(env, "HOME"));
	assert_null(env_value(none, "PATH"));
}

static void test_raw_tty(void **state)
{
	struct termios t;

	(void)state;
	memset(&t, 0xff, sizeof(t));
	raw_tty_flags(&t);
	assert_int_equal(t.c_iflag & (ICRNL | IXON | INLCR | IGNCR | ISTRIP | BRKINT), 0);
	assert_int_equal(t.c_oflag & OPOST, 0);
	assert_int_equal(t.c_lflag & (ECHO | ICANON | ISIG | IEXTEN | ECHONL), 0);
	assert_int_equal(t.c_cflag & (CSIZE | PARENB), CS8);
	assert_int_equal(t.c_cc[VMIN], 1);
	assert_int_equal(t.c_cc[VTIME], 0);
	/* what raw mode does not concern is left alone */
	assert_int_equal(t.c_cflag & CREAD, CREAD);
}

static void test_line(void **state)
{
	struct line l = { .len = 0 };
	char big[400];

	(void)state;
	line_add(&l, "mount /x: ");
	line_add_errno(&l, -ENODEV);
	assert_int_equal(l.len, strlen("mount /x: errno 19 (ENODEV)"));
	assert_memory_equal(l.text, "mount /x: errno 19 (ENODEV)", l.len);
	l.len = 0;
	line_add_errno(&l, -4000);
	assert_memory_equal(l.text, "errno 4000", l.len);
	assert_int_equal(l.len, 10);
	l.len = 0;
	line_add_num(&l, UINT64_MAX);
	assert_memory_equal(l.text, "18446744073709551615", l.len);
	/* a longer line is cut short, one byte kept for its newline */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	line_add(&l, big);
	assert_int_equal(l.len, sizeof(l.text) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_exec_all_keys),   cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_mount_path_with_colons), cmocka_unit_test(test_conf_framing_errors),
		cmocka_unit_test(test_conf_bad_values),	     cmocka_unit_test(test_conf_bad_ids),
		cmocka_unit_test(test_conf_bad_mounts),	     cmocka_unit_test(test_conf_limits),
		cmocka_unit_test(test_reader_pieces),	     cmocka_unit_test(test_reader_too_long),
		cmocka_unit_test(test_queue_order),	     cmocka_unit_test(test_queue_bounds),
		cmocka_unit_test(test_exit_from_status),     cmocka_unit_test(test_path_search),
		cmocka_unit_test(test_path_search_too_long), cmocka_unit_test(test_env_value),
		cmocka_unit_test(test_raw_tty),		     cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
