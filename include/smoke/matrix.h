/* SPDX-License-Identifier: Apache-2.0 */
/* `kvmini smoke --cpus 1,2,4 --mem 256M,1G`: the lists, and the runs they make. Pure. */
#ifndef KVMINI_SMOKE_MATRIX_H
#define KVMINI_SMOKE_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

#define MATRIX_MAX_VALUES 16

struct matrix {
	unsigned cpus[MATRIX_MAX_VALUES];
	size_t n_cpus;
	uint64_t mem[MATRIX_MAX_VALUES];
	const char *mem_text[MATRIX_MAX_VALUES]; /* as the user wrote them, for run names */
	size_t n_mem;
};

/* "1,2,4": each from 1 to max_cpus, no duplicates. -EINVAL with the reason. */
int matrix_parse_cpus(struct matrix *m, const char *list, unsigned max_cpus, struct errmsg *e);
/* "256M,1G": each a valid --mem (vm_config_parse_mem). `list` is split in place and must outlive m. */
int matrix_parse_mem(struct matrix *m, char *list, uint64_t host_ram, struct errmsg *e);
size_t matrix_runs(const struct matrix *m);
/* Run i's values, cpus varying fastest. */
void matrix_run(const struct matrix *m, size_t i, unsigned *cpus, uint64_t *mem, const char **mem_text);

#endif
