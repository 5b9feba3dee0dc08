// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "boot/cmdline.h"

/* Finds the next parameter in *s (spaces separate, double quotes group); returns its length, 0 at the end. */
static int next_param(const char **s, const char **start)
{
	const char *p = *s;
	bool quoted = false;

	while (*p == ' ' || *p == '\t')
		p++;
	*start = p;
	for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++)
		if (*p == '"')
			quoted = !quoted;
	if (quoted)
		return -EINVAL;
	*s = p;
	return (int)(p - *start);
}

static size_t key_len(const char *param, size_t len)
{
	const char *eq = memchr(param, '=', len);

	return eq ? (size_t)(eq - param) : len;
}

static int user_sets(const char *user, const char *key, size_t klen)
{
	const char *s = user, *p;
	int len;

	while ((len = next_param(&s, &p)) > 0)
		if (key_len(p, len) == klen && !memcmp(p, key, klen))
			return 1;
	return len;
}

static int append(char *out, size_t out_size, size_t *pos, const char *p, size_t len)
{
	size_t need = len + (*pos ? 1 : 0);

	if (*pos + need + 1 > out_size)
		return -ENOSPC;
	if (*pos)
		out[(*pos)++] = ' ';
	memcpy(out + *pos, p, len);
	*pos += len;
	out[*pos] = '\0';
	return 0;
}

int cmdline_build(const char *defaults, const char *user, char *out, size_t out_size, size_t max_len)
{
	const char *s = defaults, *p;
	size_t pos = 0;
	int len, err;

	if (!out_size)
		return -ENOSPC;
	out[0] = '\0';
	user = user ? user : "";
	while ((len = next_param(&s, &p)) > 0) {
		int set = user_sets(user, p, key_len(p, len));

		if (set < 0)
			return set;
		if (!set && (err = append(out, out_size, &pos, p, len)))
			return err;
	}
	if (len < 0)
		return len;
	s = user;
	while ((len = next_param(&s, &p)) > 0)
		if ((err = append(out, out_size, &pos, p, len)))
			return err;
	if (len < 0)
		return len;
	return pos > max_len ? -ENOSPC : (int)pos;
}
