// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "commands.h"
#include "version.h"

const char *kvmini_version(void)
{
	return KVMINI_VERSION;
}

/* Kata Containers takes the second word of the first line, less a leading 'v', as a semantic version. */
void version_print(FILE *f)
{
	fprintf(f, "kvmini %s\n", KVMINI_VERSION);
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	version_print(stdout);
	return 0;
}
