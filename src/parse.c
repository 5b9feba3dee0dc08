// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* strtoull accepts leading spaces and a sign; a size or count must be plain digits. */
static int parse_digits(const char *s, uint64_t *out, char **end)
{
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;
	int err = parse_digits(s, &v, &end);

	if (err)
		return err;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		char letter;
		unsigned shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	char *end;
	uint64_t v;
	unsigned shift = 0;
	int err = parse_digits(s, &v, &end);

	if (err)
		return err;
	if (*end) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (toupper((unsigned char)*end) == units[i].letter)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		shift = units[i].shift;
		end++;
		if (strcasecmp(end, "") && strcasecmp(end, "B") && strcasecmp(end, "iB"))
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}
