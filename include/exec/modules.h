/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest kernel's own modules that kvmini's init must load before it can
 * mount a share and open its channel (src/exec/modules.c): found in a
 * modules tree as `make modules_install` or a distribution package lays it
 * out, resolved through modules.dep with dependencies first, and skipped
 * when modules.builtin says the kernel has them built in.
 */
#ifndef KVMINI_EXEC_MODULES_H
#define KVMINI_EXEC_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "errmsg.h"

/* The most modules one guest loads: four wanted ones and their dependencies, with room to spare. */
#define EXEC_MODULES_MAX 24
#define EXEC_MODULE_NAME_MAX 64
#define EXEC_MODULE_PATH_MAX 256

struct exec_module {
	char name[EXEC_MODULE_NAME_MAX]; /* "virtio_pci" */
	char path[EXEC_MODULE_PATH_MAX]; /* relative to the modules directory, as modules.dep has it */
};

struct exec_modules {
	unsigned nr;
	struct exec_module list[EXEC_MODULES_MAX]; /* in load order */
};

/*
 * The modules named in wanted[] ("fuse"; '-' and '_' alike) and what they
 * depend on, dependencies first, from the text of modules.dep and
 * modules.builtin (NUL-terminated; builtin may be ""). A compressed module
 * (.ko.xz, ...) is listed as it is: the init hands it to the kernel so.
 * Pure. 0; -ENOENT when
 * a module is in neither ("module NAME is neither built into the kernel nor
 * in modules.dep"); -E2BIG past
 * EXEC_MODULES_MAX; -ELOOP for a dependency cycle.
 */
int exec_modules_resolve(const char *dep, const char *builtin, const char *const *wanted, size_t nr_wanted,
			 struct exec_modules *out, struct errmsg *e);

/*
 * The modules directory of kernel `version`: DIR itself when it holds
 * modules.dep, else DIR/lib/modules/VERSION (INSTALL_MOD_PATH's layout);
 * without DIR, /lib/modules/VERSION. 0 with the path in out; -ENOENT (and
 * *e) when DIR has neither; 1 when DIR was not given and the default does
 * not exist (then the kernel is taken to have what it needs built in).
 */
int exec_modules_dir(const char *dir, const char *version, char *out, size_t size, struct errmsg *e);

/* exec_modules_resolve on the files of directory `dir`. */
int exec_modules_find(const char *dir, const char *const *wanted, size_t nr_wanted, struct exec_modules *out,
		      struct errmsg *e);

#endif
