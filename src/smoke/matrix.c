// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "parse.h"
#include "smoke/matrix.h"
#include "vm_config.h"

int matrix_parse_cpus(struct matrix *m, const char *list, unsigned max_cpus, struct errmsg *e)
{
	char copy[256], *rest = copy, *tok;

	if (strlen(list) >= sizeof(copy))
		return errmsg_set(e, EINVAL, "--cpus '%.40s...': list too long", list);
	strcpy(copy, list);
	m->n_cpus = 0;
	/* strsep, unlike strtok, sees empty items ("1,,2"), which are mistakes worth reporting. */
	while ((tok = strsep(&rest, ","))) {
		uint64_t n;

		if (parse_uint(tok, 1, max_cpus, &n))
			return errmsg_set(e, EINVAL, "--cpus '%s': '%s' is not a number from 1 to %u", list, tok, max_cpus);
		for (size_t i = 0; i < m->n_cpus; i++)
			if (m->cpus[i] == n)
				return errmsg_set(e, EINVAL, "--cpus '%s': %s is listed twice", list, tok);
		if (m->n_cpus == MATRIX_MAX_VALUES)
			return errmsg_set(e, EINVAL, "--cpus '%s': at most %d values", list, MATRIX_MAX_VALUES);
		m->cpus[m->n_cpus++] = n;
	}
	return 0;
}

int matrix_parse_mem(struct matrix *m, char *list, uint64_t host_ram, struct errmsg *e)
{
	char *rest = list, *tok;

	m->n_mem = 0;
	while ((tok = strsep(&rest, ","))) {
		int err;

		if (m->n_mem == MATRIX_MAX_VALUES)
			return errmsg_set(e, EINVAL, "--mem: at most %d values", MATRIX_MAX_VALUES);
		if ((err = vm_config_parse_mem(tok, host_ram, &m->mem[m->n_mem], e)))
			return err;
		m->mem_text[m->n_mem++] = tok;
	}
	return 0;
}

size_t matrix_runs(const struct matrix *m)
{
	return m->n_cpus * m->n_mem;
}

void matrix_run(const struct matrix *m, size_t i, unsigned *cpus, uint64_t *mem, const char **mem_text)
{
	*cpus = m->cpus[i % m->n_cpus];
	*mem = m->mem[i / m->n_cpus];
	*mem_text = m->mem_text[i / m->n_cpus];
}
