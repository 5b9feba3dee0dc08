/* SPDX-License-Identifier: Apache-2.0 */
/* Parsers for command-line values. Pure functions: 0 or -EINVAL/-ERANGE. */
#ifndef KVMINI_PARSE_H
#define KVMINI_PARSE_H

#include <stdint.h>

/* "512M", "2G", "65536K", "1073741824" (bytes). Suffixes K, M, G, T, case-insensitive, optional "iB"/"B". */
int parse_size(const char *s, uint64_t *bytes);
/* A decimal integer in [min, max], nothing else around it. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
