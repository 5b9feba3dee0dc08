// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include "boot/cpio.h"
#include "boot/initramfs.h"

/* The kernel's console device, which it opens as init's stdin, stdout and stderr. */
#define CONSOLE_MAJOR 5
#define CONSOLE_MINOR 1

static int write_archive(struct cpio_writer *w, const struct initramfs_entry *extra, size_t nr)
{
	int err;

	err = cpio_add_dir(w, "dev", 0755);
	err = err ?: cpio_add_chardev(w, "dev/console", 0600, CONSOLE_MAJOR, CONSOLE_MINOR);
	err = err ?: cpio_add_dir(w, "proc", 0755);
	err = err ?: cpio_add_dir(w, "sys", 0755);
	err = err ?: cpio_add_file(w, "init", 0755, builtin_init_start, (size_t)(builtin_init_end - builtin_init_start));
	for (size_t i = 0; i < nr && !err; i++)
		err = extra[i].data ? cpio_add_file(w, extra[i].name, 0644, extra[i].data, extra[i].len)
				    : cpio_add_dir(w, extra[i].name, 0755);
	return err ?: cpio_finish(w);
}

int builtin_initramfs(const struct initramfs_entry *extra, size_t nr, uint8_t **out, size_t *len)
{
	struct cpio_writer w;
	uint8_t *buf;
	size_t size;
	int err;

	/* Measure first, then write the same entries into a buffer of exactly that size. */
	cpio_writer_init(&w, NULL, 0);
	err = write_archive(&w, extra, nr);
	if (err)
		return err;
	size = w.len;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	cpio_writer_init(&w, buf, size);
	err = write_archive(&w, extra, nr);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = size;
	return 0;
}
