/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of JSON texts against tests/api/firecracker-api.schema.json, our
 * own schema of Firecracker's API for the subset kvmini implements. The
 * schema is a small subset of JSON Schema: "definitions" of named types
 * (type, $ref, enum, minimum, maximum, required, properties,
 * additionalProperties, items) and "operations", a list mapping (method,
 * path, status) to the request's and the response's definition.
 *
 * Instances are read with src/api/json.c's json_for_each, so the checker
 * and kvmini share one reader but not one notion of what a field means. As
 * in Firecracker, `null` for a member that is not required means absent.
 */
#ifndef KVMINI_TESTS_SCHEMA_CHECK_H
#define KVMINI_TESTS_SCHEMA_CHECK_H

#include <stddef.h>

#include "errmsg.h"

struct schema {
	const char *text;
	size_t len;
};

/*
 * Checks instance[0, len) against the definition named def. 0, or -EINVAL
 * with the first violation: "MachineConfiguration.vcpu_count: 33 is above
 * the maximum 32". -ENOENT: no such definition.
 */
int schema_validate(const struct schema *s, const char *def, const char *instance, size_t len, struct errmsg *e);

/*
 * The definition a request body (status NULL) or a response body (status
 * "204") of METHOD PATH must follow, copied into def ("" when there must be
 * no body). PATH is matched against the operations' templates, "{id}"
 * standing for one segment. -ENOENT when the schema has no such operation
 * or status (a status the operation does not list takes its "default").
 */
int schema_lookup(const struct schema *s, const char *method, const char *path, const char *status, char *def,
		  size_t def_cap, struct errmsg *e);

#endif
