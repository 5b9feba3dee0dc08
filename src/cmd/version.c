// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "commands.h"
#include "version.h"

const char *kvmini_version(void)
{
	return KVMINI_VERSION;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kvmini %s\n", KVMINI_VERSION);
	return 0;
}
