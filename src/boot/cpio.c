// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "boot/cpio.h"

struct cpio_entry {
	const char *name;
	uint32_t ino, mode, nlink;
	uint32_t rdev_major, rdev_minor;
	const void *data;
	size_t data_len;
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void put_hex8(uint8_t *p, uint32_t value)
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 7; i >= 0; i--, value >>= 4)
		p[i] = digits[value & 0xf];
}

/* The caller has checked the name and the data length. */
static int write_entry(struct cpio_writer *w, const struct cpio_entry *e)
{
	size_t name_size = strlen(e->name) + 1;
	size_t head_len = pad4(CPIO_HEADER_SIZE + name_size);
	size_t entry_len = head_len + pad4(e->data_len);

	if (w->buf) {
		uint32_t fields[] = {
			e->ino, e->mode, 0 /* uid */, 0 /* gid */, e->nlink, 0 /* mtime */,
			(uint32_t)e->data_len, 0, 0 /* the device holding the file */,
			e->rdev_major, e->rdev_minor, (uint32_t)name_size, 0 /* check: only for "070702" */,
		};
		uint8_t *p = w->buf + w->len;

		if (entry_len > w->size - w->len)
			return -ENOSPC;
		memset(p, 0, entry_len); /* the padding */
		memcpy(p, CPIO_NEWC_MAGIC, strlen(CPIO_NEWC_MAGIC));
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			put_hex8(p + strlen(CPIO_NEWC_MAGIC) + 8 * i, fields[i]);
		memcpy(p + CPIO_HEADER_SIZE, e->name, name_size);
		if (e->data_len)
			memcpy(p + head_len, e->data, e->data_len);
	}
	w->len += entry_len;
	return 0;
}

static int add_entry(struct cpio_writer *w, struct cpio_entry *e, uint32_t perm)
{
	int err;

	if (!e->name[0] || perm & ~07777u)
		return -EINVAL;
	if (strnlen(e->name, CPIO_NAME_MAX + 1) > CPIO_NAME_MAX)
		return -ENAMETOOLONG;
	if (e->data_len > UINT32_MAX)
		return -EFBIG;
	e->mode |= perm;
	e->ino = w->next_ino;
	err = write_entry(w, e);
	if (!err)
		w->next_ino++;
	return err;
}

void cpio_writer_init(struct cpio_writer *w, uint8_t *buf, size_t size)
{
	*w = (struct cpio_writer){ .buf = buf, .size = size, .next_ino = 1 };
}

int cpio_add_dir(struct cpio_writer *w, const char *name, uint32_t perm)
{
	/* Two links: the parent's entry and the directory's own ".". */
	struct cpio_entry e = { .name = name, .mode = S_IFDIR, .nlink = 2 };

	return add_entry(w, &e, perm);
}

int cpio_add_file(struct cpio_writer *w, const char *name, uint32_t perm, const void *data, size_t data_len)
{
	struct cpio_entry e = { .name = name, .mode = S_IFREG, .nlink = 1, .data = data, .data_len = data_len };

	return add_entry(w, &e, perm);
}

int cpio_add_chardev(struct cpio_writer *w, const char *name, uint32_t perm, uint32_t major, uint32_t minor)
{
	struct cpio_entry e = { .name = name, .mode = S_IFCHR, .nlink = 1, .rdev_major = major, .rdev_minor = minor };

	return add_entry(w, &e, perm);
}

int cpio_finish(struct cpio_writer *w)
{
	struct cpio_entry e = { .name = CPIO_TRAILER_NAME, .nlink = 1 };

	return write_entry(w, &e);
}
