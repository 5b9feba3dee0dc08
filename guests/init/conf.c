// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include <linux/errno.h>

#include "conf.h"

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A decimal number up to UINT32_MAX - 1 (-1 is no id for setuid), ended by end; NULL if there is none. */
static const char *parse_id(const char *s, char end, uint32_t *id)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return NULL;
	}
	if (*s != end)
		return NULL;
	*id = (uint32_t)v;
	return s;
}

static const char *parse_flag(const char *s, bool *flag)
{
	if (streq(s, "1"))
		*flag = true;
	else if (streq(s, "0"))
		*flag = false;
	else
		return "must be 0 or 1";
	return NULL;
}

static const char *parse_groups(const char *s, struct init_conf *c)
{
	if (!*s)
		return NULL;
	for (;;) {
		uint32_t id;
		const char *end = parse_id(s, ',', &id) ?: parse_id(s, '\0', &id);

		if (!end)
			return "groups= must be numbers split by commas";
		if (c->n_groups == CONF_GROUPS_MAX)
			return "too many groups";
		c->groups[c->n_groups++] = id;
		if (!*end)
			return NULL;
		s = end + 1;
	}
}

/* TAG:PATH:ro or TAG:PATH:rw; PATH may hold colons itself. */
static const char *parse_mount(char *s, struct init_conf *c)
{
	char *first = strchr(s, ':'), *last = strrchr(s, ':');
	struct conf_mount *m;

	if (!first || first == last || first == s)
		return "mount= must be TAG:PATH:ro or TAG:PATH:rw";
	if (first[1] != '/')
		return "mount= needs an absolute path";
	if (!streq(last + 1, "ro") && !streq(last + 1, "rw"))
		return "mount= must end in :ro or :rw";
	if (c->n_mounts == CONF_MOUNTS_MAX)
		return "too many mount= entries";
	m = &c->mounts[c->n_mounts++];
	*first = '\0';
	*last = '\0';
	m->tag = s;
	m->path = first + 1;
	m->readonly = last[2] == 'o'; /* "ro", checked above */
	return NULL;
}

/* Appends value to a list of max entries: the message for a full one, or NULL. */
static const char *add(const char **list, size_t *n, size_t max, const char *value)
{
	if (*n == max)
		return "too many entries of this key";
	list[(*n)++] = value;
	return NULL;
}

static const char *set_once(const char **slot, const char *value)
{
	if (*slot)
		return "key given twice";
	*slot = value;
	return NULL;
}

static const char *absolute(const char *path)
{
	return path[0] == '/' ? NULL : "needs an absolute path";
}

/* Applies one entry; the message for a bad one, or NULL. */
static const char *apply(struct init_conf *c, const char *key, char *value, bool *uid_set, bool *gid_set)
{
	if (streq(key, "mode")) {
		if (c->mode != CONF_MODE_NONE)
			return "key given twice";
		if (streq(value, "exec"))
			c->mode = CONF_MODE_EXEC;
		else if (streq(value, "rootfs"))
			c->mode = CONF_MODE_ROOTFS;
		else
			return "unknown mode";
		return NULL;
	}
	if (streq(key, "module"))
		return absolute(value) ?: add(c->modules, &c->n_modules, CONF_MODULES_MAX, value);
	if (streq(key, "root"))
		return *value ? set_once(&c->root, value) : "root= needs a tag";
	if (streq(key, "root_readonly"))
		return parse_flag(value, &c->root_readonly);
	if (streq(key, "mount"))
		return parse_mount(value, c);
	if (streq(key, "tmpfs"))
		return absolute(value) ?: add(c->tmpfs, &c->n_tmpfs, CONF_TMPFS_MAX, value);
	if (streq(key, "init"))
		return absolute(value) ?: set_once(&c->init, value);
	if (streq(key, "uid") || streq(key, "gid")) {
		bool *set = key[0] == 'u' ? uid_set : gid_set;

		if (*set)
			return "key given twice";
		*set = true;
		return parse_id(value, '\0', key[0] == 'u' ? &c->uid : &c->gid) ? NULL : "must be a number";
	}
	if (streq(key, "groups"))
		return c->n_groups ? "key given twice" : parse_groups(value, c);
	if (streq(key, "cwd"))
		return absolute(value) ?: set_once(&c->cwd, value);
	if (streq(key, "arg"))
		return add(c->args, &c->n_args, CONF_ARGS_MAX, value);
	if (streq(key, "env"))
		return strchr(value, '=') ? add(c->env, &c->n_env, CONF_ENV_MAX, value) : "env= must be NAME=VALUE";
	if (streq(key, "tty"))
		return parse_flag(value, &c->tty);
	return "unknown key";
}

int conf_parse(char *text, size_t len, struct init_conf *c, struct conf_error *err)
{
	bool uid_set = false, gid_set = false;
	size_t entry = 0;

	memset(c, 0, sizeof(*c));
	err->entry = 0;
	if (len && text[len - 1] != '\0') {
		err->what = "the last entry has no NUL";
		return -EINVAL;
	}
	for (size_t at = 0, n; at < len; at += n + 1) {
		char *key = text + at, *eq = strchr(key, '=');
		const char *what;

		n = strlen(key); /* before apply() writes NULs into the value */
		err->entry = ++entry;
		if (!eq || eq == key) {
			err->what = eq ? "an entry has no key" : "an entry has no '='";
			return -EINVAL;
		}
		*eq = '\0';
		what = apply(c, key, eq + 1, &uid_set, &gid_set);
		if (what) {
			err->what = what;
			return -EINVAL;
		}
	}
	err->entry = 0;
	if (c->mode == CONF_MODE_NONE) {
		err->what = "no mode= entry";
		return -EINVAL;
	}
	if (c->mode == CONF_MODE_EXEC && !c->n_args) {
		err->what = "mode=exec needs an arg= entry";
		return -EINVAL;
	}
	if (!c->init)
		c->init = CONF_DEFAULT_INIT;
	if (!c->cwd)
		c->cwd = "/";
	return 0;
}
