// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <linux/kvm.h>

#include "api/json.h"
#include "smoke/results_json.h"

static const char *const exit_names[MATRIX_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
};

const char *results_exit_reason_name(unsigned reason)
{
	return reason < MATRIX_EXIT_REASONS ? exit_names[reason] : NULL;
}

/* Seconds as whole microseconds: json_out writes integers only, and a boot time needs no more. */
static void put_us(struct json_out *j, const char *key, double s)
{
	if (s < 0 || s != s)
		json_put_null(j, key);
	else
		json_put_uint(j, key, (uint64_t)(s * 1e6 + 0.5));
}

static void put_text(struct json_out *j, const char *key, const char *s)
{
	if (s)
		json_put_string(j, key, s);
	else
		json_put_null(j, key);
}

static void put_exits(struct json_out *j, const uint64_t *exits)
{
	json_object_begin(j, "exits");
	for (unsigned r = 0; r < MATRIX_EXIT_REASONS; r++) {
		char key[16];

		if (!exits[r])
			continue;
		if (exit_names[r])
			json_put_uint(j, exit_names[r], exits[r]);
		else {
			snprintf(key, sizeof(key), "exit_%u", r);
			json_put_uint(j, key, exits[r]);
		}
	}
	json_object_end(j);
}

static void put_test(struct json_out *j, const struct ktap_case *t)
{
	json_object_begin(j, NULL);
	json_put_string(j, "suite", t->suite);
	json_put_string(j, "name", t->name);
	json_put_string(j, "result", ktap_result_name(t->result));
	put_text(j, "reason", t->reason[0] ? t->reason : NULL);
	json_object_end(j);
}

static void put_cell(struct json_out *j, const struct results_cell *c)
{
	struct matrix_run_result stat_in[MATRIX_MAX_REPEAT];
	uint64_t exits[MATRIX_EXIT_REASONS] = { 0 };
	struct matrix_stats s;
	size_t n_runs = c->n_runs < MATRIX_MAX_REPEAT ? c->n_runs : MATRIX_MAX_REPEAT;

	json_object_begin(j, NULL);
	json_put_string(j, "name", c->name);
	json_object_begin(j, "axes");
	json_put_uint(j, "cpus", c->cell.cpus);
	json_put_uint(j, "mem_bytes", c->cell.mem);
	put_text(j, "mem", c->cell.mem_text);
	for (int a = 0; a < MATRIX_AXES; a++)
		json_put_string(j, matrix_axis_name(a), matrix_axis_value_name(a, c->cell.axis[a]));
	json_object_end(j);
	json_put_string(j, "verdict", verdict_status_name(c->status));
	put_text(j, "title", c->title);
	put_text(j, "signature", c->signature);

	for (size_t i = 0; i < n_runs; i++) {
		stat_in[i].pass = c->runs[i].status == VERDICT_PASS;
		stat_in[i].boot_s = c->runs[i].boot_s;
		for (unsigned r = 0; r < MATRIX_EXIT_REASONS; r++)
			exits[r] += c->runs[i].exits[r];
	}
	matrix_stats(stat_in, n_runs, &s);
	json_put_uint(j, "repeats", s.runs);
	json_put_uint(j, "not_pass", s.not_pass);
	put_us(j, "boot_median_us", s.boot_median_s);
	put_us(j, "boot_min_us", s.boot_min_s);
	put_us(j, "boot_max_us", s.boot_max_s);
	put_exits(j, exits);
	json_array_begin(j, "runs");
	for (size_t i = 0; i < n_runs; i++) {
		json_object_begin(j, NULL);
		json_put_string(j, "verdict", verdict_status_name(c->runs[i].status));
		put_us(j, "boot_us", c->runs[i].boot_s);
		put_exits(j, c->runs[i].exits);
		json_array_begin(j, "tests");
		for (size_t t = 0; t < c->runs[i].n_tests; t++)
			put_test(j, &c->runs[i].tests[t]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

/* verdict_status_name() answers "?" out of range: refuse such a cell instead of writing it. */
static bool status_valid(enum verdict_status s)
{
	return (unsigned)s <= VERDICT_CONFIG;
}

int results_json_write(char *buf, size_t cap, const struct results_cell *cells, size_t n)
{
	struct json_out j;

	for (size_t i = 0; i < n; i++) {
		if (!cells[i].name || !status_valid(cells[i].status) || (cells[i].n_runs && !cells[i].runs))
			return -EINVAL;
		for (size_t r = 0; r < cells[i].n_runs; r++) {
			const struct results_run *run = &cells[i].runs[r];

			if (!status_valid(run->status) || (run->n_tests && !run->tests))
				return -EINVAL;
			for (size_t t = 0; t < run->n_tests; t++)
				if (!ktap_result_name(run->tests[t].result))
					return -EINVAL;
		}
		for (int a = 0; a < MATRIX_AXES; a++)
			if (!matrix_axis_value_name(a, cells[i].cell.axis[a]))
				return -EINVAL;
	}
	json_out_init(&j, buf, cap);
	json_object_begin(&j, NULL);
	json_put_uint(&j, "version", RESULTS_JSON_VERSION);
	json_array_begin(&j, "cells");
	for (size_t i = 0; i < n; i++)
		put_cell(&j, &cells[i]);
	json_array_end(&j);
	json_object_end(&j);
	return json_out_finish(&j);
}
