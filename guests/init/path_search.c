// SPDX-License-Identifier: Apache-2.0
#include <linux/errno.h>

#include "path_search.h"

const char *env_value(const char *const *env, const char *name)
{
	for (; *env; env++) {
		const char *e = *env, *n = name;

		while (*n && *e == *n)
			e++, n++;
		if (!*n && *e == '=')
			return e + 1;
	}
	return NULL;
}

int path_search_next(const char *path, size_t *pos, const char *cmd, char *out, size_t size)
{
	const char *dir = path + *pos;
	size_t dir_len = 0, len = 0;

	/* A list "a:b" has two entries and "a:" has two too, the second empty: done only past the end. */
	if (*pos > 0 && path[*pos - 1] == '\0')
		return 0;
	while (dir[dir_len] && dir[dir_len] != ':')
		dir_len++;
	*pos += dir_len + 1;
	if (dir_len == 0)
		dir = ".", dir_len = 1;
	for (size_t i = 0; i < dir_len && len < size; i++)
		out[len++] = dir[i];
	if (len < size)
		out[len++] = '/';
	for (const char *c = cmd; *c && len < size; c++)
		out[len++] = *c;
	if (len >= size)
		return -ENAMETOOLONG;
	out[len] = '\0';
	return 1;
}
