// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "kv.h"

/* Longer option values are cut when quoted, so the reason after them still fits the message. */
#define QUOTE_MAX 60

int kv_option_error(struct errmsg *e, const char *option, const char *arg)
{
	if (strlen(arg) > QUOTE_MAX)
		return errmsg_prefix(e, EINVAL, "%s '%.*s...': ", option, QUOTE_MAX - 3, arg);
	return errmsg_prefix(e, EINVAL, "%s '%s': ", option, arg);
}

int kv_next(const char **pos, struct kv_item *it, struct errmsg *e)
{
	const char *start = *pos, *end = strchrnul(start, ','), *eq = memchr(start, '=', (size_t)(end - start));

	*pos = *end ? end + 1 : NULL;
	if (!eq)
		return errmsg_set(e, EINVAL, "expected key=value, got '%.*s'", (int)(end - start), start);
	*it = (struct kv_item){ .key = start, .key_len = (size_t)(eq - start), .value = eq + 1,
				.value_len = (size_t)(end - eq - 1) };
	return 0;
}

int kv_key(const struct kv_item *it, const char *const keys[], unsigned nr_keys, unsigned *seen,
	   struct errmsg *e)
{
	for (unsigned i = 0; i < nr_keys; i++) {
		if (strlen(keys[i]) != it->key_len || memcmp(keys[i], it->key, it->key_len))
			continue;
		if (*seen & (1u << i))
			return errmsg_set(e, EINVAL, "'%s' given twice", keys[i]);
		*seen |= 1u << i;
		return (int)i;
	}
	return errmsg_set(e, EINVAL, "unknown key '%.*s'", (int)it->key_len, it->key);
}

static bool kv_value_is(const struct kv_item *it, const char *s)
{
	return strlen(s) == it->value_len && !memcmp(s, it->value, it->value_len);
}

int kv_choice(const struct kv_item *it, const char *no, const char *yes, bool *out, struct errmsg *e)
{
	if (kv_value_is(it, no) || kv_value_is(it, yes)) {
		*out = kv_value_is(it, yes);
		return 0;
	}
	return errmsg_set(e, EINVAL, "%.*s '%.*s': must be %s or %s", (int)it->key_len, it->key, (int)it->value_len,
			  it->value, no, yes);
}

int kv_string(const struct kv_item *it, char *dst, size_t size, struct errmsg *e)
{
	if (!it->value_len)
		return errmsg_set(e, EINVAL, "empty %.*s", (int)it->key_len, it->key);
	if (it->value_len >= size)
		return errmsg_set(e, EINVAL, "%.*s longer than %zu characters", (int)it->key_len, it->key, size - 1);
	memcpy(dst, it->value, it->value_len);
	dst[it->value_len] = '\0';
	return 0;
}
