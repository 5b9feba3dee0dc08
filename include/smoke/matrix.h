/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kvmini smoke --cpus 1,2,4 --mem 256M,1G --transport pci,mmio --acpi on,off
 * --boot bzimage,pvh --console serial,virtio --repeat N`: the lists, the cells
 * they cross into, and the statistics of a cell's repeated runs. Pure.
 *
 * A zeroed struct matrix is valid for the boot-path axes: an axis never parsed
 * has one value, its first name (kvmini run's default).
 */
#ifndef KVMINI_SMOKE_MATRIX_H
#define KVMINI_SMOKE_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"

#define MATRIX_MAX_VALUES 16
/* Every cell boots a VM (and --repeat multiplies that): a typo in a list should not queue hours. */
#define MATRIX_MAX_CELLS 256
#define MATRIX_MAX_REPEAT 100
/* Exit counts are indexed by KVM_EXIT_* number; the ones kvmini sees are all below this. */
#define MATRIX_EXIT_REASONS 40

enum matrix_axis {
	MATRIX_TRANSPORT, /* pci, mmio */
	MATRIX_ACPI,      /* on, off */
	MATRIX_BOOT,      /* bzimage, pvh */
	MATRIX_CONSOLE,   /* serial, virtio */
	MATRIX_AXES,
};
#define MATRIX_AXIS_VALUES 2 /* each boot-path axis has two values */

struct matrix {
	unsigned cpus[MATRIX_MAX_VALUES];
	size_t n_cpus;
	uint64_t mem[MATRIX_MAX_VALUES];
	const char *mem_text[MATRIX_MAX_VALUES]; /* as the user wrote them, for run names */
	size_t n_mem;
	/* Value indexes into matrix_axis_value_name(); n_axis[a] == 0: not parsed, the default only. */
	unsigned axis[MATRIX_AXES][MATRIX_AXIS_VALUES];
	size_t n_axis[MATRIX_AXES];
};

/* One cell's values. */
struct matrix_cell {
	unsigned cpus;
	uint64_t mem;
	const char *mem_text;
	unsigned axis[MATRIX_AXES]; /* value indexes */
};

/* "transport", "acpi", "boot", "console"; NULL out of range. */
const char *matrix_axis_name(enum matrix_axis a);
/* "pci"/"mmio", "on"/"off", "bzimage"/"pvh", "serial"/"virtio"; NULL out of range. */
const char *matrix_axis_value_name(enum matrix_axis a, unsigned value);

/* "1,2,4": each from 1 to max_cpus, no duplicates. -EINVAL with the reason. */
int matrix_parse_cpus(struct matrix *m, const char *list, unsigned max_cpus, struct errmsg *e);
/* "256M,1G": each a valid --mem (vm_config_parse_mem). `list` is split in place and must outlive m. */
int matrix_parse_mem(struct matrix *m, char *list, uint64_t host_ram, struct errmsg *e);
/* "pci,mmio" for MATRIX_TRANSPORT, and so on: known names, no duplicates. -EINVAL quoting the value. */
int matrix_parse_axis(struct matrix *m, enum matrix_axis a, const char *list, struct errmsg *e);
/* After all lists: -E2BIG when the cells exceed MATRIX_MAX_CELLS. */
int matrix_check(const struct matrix *m, struct errmsg *e);
/* "3": runs per cell, 1 to MATRIX_MAX_REPEAT. */
int matrix_parse_repeat(const char *text, unsigned *repeat, struct errmsg *e);

size_t matrix_runs(const struct matrix *m);
/* Cell i's values: cpus vary fastest, then mem, then the axes in enum order. */
void matrix_cell(const struct matrix *m, size_t i, struct matrix_cell *c);
/*
 * Cell i's name: "name=value" for every axis with more than one value, in
 * the order cpus, mem, transport, acpi, boot, console, comma-separated
 * ("cpus=2,mem=256M,transport=mmio,acpi=off"). A one-cell matrix is named by
 * its cpus and mem. -ENAMETOOLONG when it does not fit in size bytes.
 */
int matrix_cell_name(const struct matrix *m, size_t i, char *buf, size_t size);

/* One run of a cell, as the statistics need it. */
struct matrix_run_result {
	bool pass;
	double boot_s; /* < 0: unknown */
};

/*
 * A cell's repeats. The spread is min to max, not an IQR: with the few
 * repeats a smoke run makes (often 3 to 10) quartiles are barely defined,
 * and the extremes are what a flaky boot shows.
 */
struct matrix_stats {
	size_t runs;
	size_t not_pass;
	double flake_rate; /* not_pass / runs; 0 with no runs */
	size_t timed;      /* runs with a known boot time, PASS or not */
	double boot_median_s, boot_min_s, boot_max_s; /* < 0 when timed == 0 */
};

void matrix_stats(const struct matrix_run_result *runs, size_t n, struct matrix_stats *s);

/* A cell of a result set, for --baseline. */
struct matrix_cell_result {
	const char *name; /* matrix_cell_name() */
	double boot_s;    /* the median; < 0: unknown */
	uint64_t exits[MATRIX_EXIT_REASONS];
};

/* A cell found in both sets: after minus before. */
struct matrix_baseline_row {
	const char *name;
	bool boot_known; /* both boot times known */
	double boot_before_s, boot_after_s, boot_delta_s;
	int64_t exits_delta[MATRIX_EXIT_REASONS];
	int64_t exits_total_delta;
};

/*
 * One row per cell of `after` that `before` also has (matched by name), in
 * after's order; cells in only one set have no row. Returns the rows written,
 * at most max_rows.
 */
size_t matrix_baseline(const struct matrix_cell_result *before, size_t n_before,
		       const struct matrix_cell_result *after, size_t n_after,
		       struct matrix_baseline_row *rows, size_t max_rows);

#endif
