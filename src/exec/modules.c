// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "exec/modules.h"
#include "open_file.h"

/* A modules.dep of a distribution kernel is about half a MiB; this leaves room and bounds a bad file. */
#define DEP_FILE_MAX (16u << 20)
/* Depth of the dependency walk: far beyond a real kernel's chains, so only a cycle reaches it. */
#define DEPTH_MAX 32

/* Whether a and b (b of length len) name the same module: '-' and '_' are the same, as modprobe has it. */
static bool same_name(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len && a[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return i == len && !a[i];
}

/* The module name within a path of modules.dep ("kernel/fs/fuse/fuse.ko" is "fuse"): *len bytes from the start. */
static const char *name_of(const char *path, size_t path_len, size_t *len)
{
	const char *base = path, *dot;

	for (size_t i = 0; i < path_len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	dot = memchr(base, '.', (size_t)(path + path_len - base));
	*len = (size_t)((dot ? dot : path + path_len) - base);
	return base;
}

/* The line of text that names module `name` as its path (up to `stop`, ':' or '\n'); NULL if none. */
static const char *find_line(const char *text, const char *name, char stop, size_t *path_len)
{
	for (const char *line = text; *line; line = strchrnul(line, '\n'), line += *line == '\n') {
		size_t len = strcspn(line, stop == ':' ? ":\n" : "\n"), nlen;
		const char *base = name_of(line, len, &nlen);

		if (len && same_name(name, base, nlen)) {
			*path_len = len;
			return line;
		}
	}
	return NULL;
}

struct walk {
	const char *dep, *builtin;
	struct exec_modules *out;
	struct errmsg *e;
};

static bool listed(const struct exec_modules *out, const char *name, size_t len)
{
	for (unsigned i = 0; i < out->nr; i++)
		if (same_name(out->list[i].name, name, len))
			return true;
	return false;
}

/* Adds module name[0..len) after what it depends on, unless built in or already listed. */
static int visit(struct walk *w, const char *name, size_t len, unsigned depth)
{
	char want[EXEC_MODULE_NAME_MAX];
	const char *line, *p;
	size_t path_len;
	int err;

	if (len >= sizeof(want))
		return errmsg_set(w->e, EINVAL, "modules.dep: a module name of %zu bytes", len);
	memcpy(want, name, len);
	want[len] = 0;
	if (listed(w->out, want, len) || find_line(w->builtin, want, '\n', &path_len))
		return 0;
	if (depth > DEPTH_MAX)
		return errmsg_set(w->e, ELOOP, "modules.dep: the dependencies of %s go round in a circle", want);
	line = find_line(w->dep, want, ':', &path_len);
	if (!line)
		return errmsg_set(w->e, ENOENT, "module %s is neither built into the kernel nor in modules.dep", want);
	if (line[path_len] != ':')
		return errmsg_set(w->e, EINVAL, "modules.dep: no ':' after %.*s", (int)path_len, line);
	if (path_len >= EXEC_MODULE_PATH_MAX)
		return errmsg_set(w->e, EINVAL, "modules.dep: the path of %s is too long", want);
	/* The line lists every module this one needs; each is visited with its own, so the order holds either way. */
	for (p = line + path_len + 1; *p && *p != '\n';) {
		size_t dep_len, dep_name_len;
		const char *dep_name;

		p += strspn(p, " \t");
		dep_len = strcspn(p, " \t\n");
		if (!dep_len)
			break;
		dep_name = name_of(p, dep_len, &dep_name_len);
		if ((err = visit(w, dep_name, dep_name_len, depth + 1)))
			return err;
		p += dep_len;
	}
	if (listed(w->out, want, len))
		return errmsg_set(w->e, ELOOP, "modules.dep: %s depends on itself", want);
	if (w->out->nr == EXEC_MODULES_MAX)
		return errmsg_set(w->e, E2BIG, "more than %d modules to load", EXEC_MODULES_MAX);
	snprintf(w->out->list[w->out->nr].name, EXEC_MODULE_NAME_MAX, "%s", want);
	snprintf(w->out->list[w->out->nr].path, EXEC_MODULE_PATH_MAX, "%.*s", (int)path_len, line);
	w->out->nr++;
	return 0;
}

int exec_modules_resolve(const char *dep, const char *builtin, const char *const *wanted, size_t nr_wanted,
			 struct exec_modules *out, struct errmsg *e)
{
	struct walk w = { .dep = dep, .builtin = builtin, .out = out, .e = e };
	int err;

	out->nr = 0;
	for (size_t i = 0; i < nr_wanted; i++)
		if ((err = visit(&w, wanted[i], strlen(wanted[i]), 0)))
			return err;
	return 0;
}

static bool has_dep_file(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	return snprintf(path, sizeof(path), "%s/modules.dep", dir) < (int)sizeof(path) && !stat(path, &st) &&
	       S_ISREG(st.st_mode);
}

int exec_modules_dir(const char *dir, const char *version, char *out, size_t size, struct errmsg *e)
{
	if (!dir) {
		if (snprintf(out, size, "/lib/modules/%s", version) >= (int)size)
			return errmsg_set(e, ENAMETOOLONG, "the kernel's version '%s' is too long", version);
		return has_dep_file(out) ? 0 : 1;
	}
	if (snprintf(out, size, "%s", dir) < (int)size && has_dep_file(out))
		return 0;
	if (snprintf(out, size, "%s/lib/modules/%s", dir, version) < (int)size && has_dep_file(out))
		return 0;
	return errmsg_set(e, ENOENT, "--modules %s: no modules.dep in it nor in %s/lib/modules/%s", dir, dir, version);
}

int exec_modules_find(const char *dir, const char *const *wanted, size_t nr_wanted, struct exec_modules *out,
		      struct errmsg *e)
{
	char path[PATH_MAX];
	uint8_t *dep = NULL, *builtin = NULL;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	err = read_file("modules list", path, DEP_FILE_MAX, &dep, &len, e);
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	/* A tree without modules.builtin (a kernel with no built-in modules) is fine: then nothing is built in. */
	if (!err && access(path, F_OK) == 0)
		err = read_file("modules list", path, DEP_FILE_MAX, &builtin, &len, e);
	if (!err)
		err = exec_modules_resolve((char *)dep, builtin ? (char *)builtin : "", wanted, nr_wanted, out, e);
	free(dep);
	free(builtin);
	return err;
}
