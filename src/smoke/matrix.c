// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

static const char *const axis_names[MATRIX_AXES] = { "transport", "acpi", "boot", "console" };
static const char *const axis_values[MATRIX_AXES][MATRIX_AXIS_VALUES] = {
	{ "pci", "mmio" }, { "on", "off" }, { "bzimage", "pvh" }, { "serial", "virtio" },
};

const char *matrix_axis_name(enum matrix_axis a)
{
	return (unsigned)a < MATRIX_AXES ? axis_names[a] : NULL;
}

const char *matrix_axis_value_name(enum matrix_axis a, unsigned value)
{
	return (unsigned)a < MATRIX_AXES && value < MATRIX_AXIS_VALUES ? axis_values[a][value] : NULL;
}

int matrix_parse_axis(struct matrix *m, enum matrix_axis a, const char *list, struct errmsg *e)
{
	char copy[64], *rest = copy, *tok;

	if ((unsigned)a >= MATRIX_AXES)
		return errmsg_set(e, EINVAL, "matrix axis %d: no such axis", (int)a);
	if (strlen(list) >= sizeof(copy))
		return errmsg_set(e, EINVAL, "--%s '%.40s...': list too long", axis_names[a], list);
	strcpy(copy, list);
	m->n_axis[a] = 0;
	while ((tok = strsep(&rest, ","))) {
		unsigned v = 0;

		while (v < MATRIX_AXIS_VALUES && strcmp(tok, axis_values[a][v]))
			v++;
		if (v == MATRIX_AXIS_VALUES)
			return errmsg_set(e, EINVAL, "--%s '%s': '%s' is not %s or %s", axis_names[a], list, tok,
					  axis_values[a][0], axis_values[a][1]);
		for (size_t i = 0; i < m->n_axis[a]; i++)
			if (m->axis[a][i] == v)
				return errmsg_set(e, EINVAL, "--%s '%s': %s is listed twice", axis_names[a], list, tok);
		m->axis[a][m->n_axis[a]++] = v; /* no overflow: a third value is a duplicate */
	}
	return 0;
}

static size_t axis_len(const struct matrix *m, enum matrix_axis a)
{
	return m->n_axis[a] ? m->n_axis[a] : 1;
}

int matrix_check(const struct matrix *m, struct errmsg *e)
{
	size_t n = matrix_runs(m);

	/* Each factor is at most 16, so the product cannot overflow. */
	if (n > MATRIX_MAX_CELLS)
		return errmsg_set(e, E2BIG, "the matrix has %zu cells, more than %d: shorten a list", n,
				  MATRIX_MAX_CELLS);
	return 0;
}

int matrix_parse_repeat(const char *text, unsigned *repeat, struct errmsg *e)
{
	uint64_t n;

	if (parse_uint(text, 1, MATRIX_MAX_REPEAT, &n))
		return errmsg_set(e, EINVAL, "--repeat '%s': not a number from 1 to %d", text, MATRIX_MAX_REPEAT);
	*repeat = n;
	return 0;
}

size_t matrix_runs(const struct matrix *m)
{
	size_t n = m->n_cpus * m->n_mem;

	for (int a = 0; a < MATRIX_AXES; a++)
		n *= axis_len(m, a);
	return n;
}

void matrix_cell(const struct matrix *m, size_t i, struct matrix_cell *c)
{
	c->cpus = m->cpus[i % m->n_cpus];
	i /= m->n_cpus;
	c->mem = m->mem[i % m->n_mem];
	c->mem_text = m->mem_text[i % m->n_mem];
	i /= m->n_mem;
	for (int a = 0; a < MATRIX_AXES; a++) {
		c->axis[a] = m->n_axis[a] ? m->axis[a][i % m->n_axis[a]] : 0;
		i /= axis_len(m, a);
	}
}

int matrix_cell_name(const struct matrix *m, size_t i, char *buf, size_t size)
{
	struct matrix_cell c;
	bool all = matrix_runs(m) == 1;
	size_t len = 0;
	int n;

	matrix_cell(m, i, &c);
	if (!size)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	/* Each step appends ",name=value" and the first comma is skipped. */
#define APPEND(...)                                                                   \
	do {                                                                          \
		n = snprintf(buf + len, size - len, __VA_ARGS__);                     \
		if (n < 0 || (size_t)n >= size - len)                                 \
			return -ENAMETOOLONG;                                         \
		len += n;                                                             \
	} while (0)
	if (all || m->n_cpus > 1)
		APPEND("%scpus=%u", len ? "," : "", c.cpus);
	if (all || m->n_mem > 1)
		APPEND("%smem=%s", len ? "," : "", c.mem_text);
	for (int a = 0; a < MATRIX_AXES; a++)
		if (m->n_axis[a] > 1)
			APPEND("%s%s=%s", len ? "," : "", axis_names[a], axis_values[a][c.axis[a]]);
#undef APPEND
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void matrix_stats(const struct matrix_run_result *runs, size_t n, struct matrix_stats *s)
{
	double times[MATRIX_MAX_REPEAT];

	memset(s, 0, sizeof(*s));
	s->boot_median_s = s->boot_min_s = s->boot_max_s = -1;
	for (size_t i = 0; i < n; i++) {
		s->runs++;
		if (!runs[i].pass)
			s->not_pass++;
		/* Only the first MATRIX_MAX_REPEAT times count: no more runs than that are made. */
		if (runs[i].boot_s >= 0 && s->timed < MATRIX_MAX_REPEAT)
			times[s->timed++] = runs[i].boot_s;
	}
	if (s->runs)
		s->flake_rate = (double)s->not_pass / s->runs;
	if (!s->timed)
		return;
	qsort(times, s->timed, sizeof(times[0]), cmp_double);
	s->boot_min_s = times[0];
	s->boot_max_s = times[s->timed - 1];
	s->boot_median_s = s->timed % 2 ? times[s->timed / 2]
					 : (times[s->timed / 2 - 1] + times[s->timed / 2]) / 2;
}

size_t matrix_baseline(const struct matrix_cell_result *before, size_t n_before,
		       const struct matrix_cell_result *after, size_t n_after,
		       struct matrix_baseline_row *rows, size_t max_rows)
{
	size_t n_rows = 0;

	for (size_t i = 0; i < n_after && n_rows < max_rows; i++) {
		const struct matrix_cell_result *b = NULL, *a = &after[i];
		struct matrix_baseline_row *r;

		for (size_t j = 0; j < n_before && !b; j++)
			if (before[j].name && a->name && !strcmp(before[j].name, a->name))
				b = &before[j];
		if (!b)
			continue;
		r = &rows[n_rows++];
		memset(r, 0, sizeof(*r));
		r->name = a->name;
		r->boot_before_s = b->boot_s;
		r->boot_after_s = a->boot_s;
		r->boot_known = b->boot_s >= 0 && a->boot_s >= 0;
		r->boot_delta_s = r->boot_known ? a->boot_s - b->boot_s : 0;
		for (int k = 0; k < MATRIX_EXIT_REASONS; k++) {
			/* Counts stay far below 2^63: a subtraction of two's complement is exact. */
			r->exits_delta[k] = (int64_t)(a->exits[k] - b->exits[k]);
			r->exits_total_delta += r->exits_delta[k];
		}
	}
	return n_rows;
}
