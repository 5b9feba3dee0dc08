// SPDX-License-Identifier: Apache-2.0
#include <linux/errno.h>

#include "text.h"

void line_add(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->text) - 1)
		l->text[l->len++] = *s++;
}

void line_add_num(struct line *l, uint64_t n)
{
	char digits[21];
	size_t i = sizeof(digits) - 1;

	digits[i] = '\0';
	do
		digits[--i] = (char)('0' + n % 10);
	while (n /= 10);
	line_add(l, digits + i);
}

/* The errors the init's setup can meet, so a FAILED line reads without a table. */
static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EPERM, "EPERM" },	      { ENOENT, "ENOENT" },	    { EIO, "EIO" },
	{ ENXIO, "ENXIO" },	      { E2BIG, "E2BIG" },	    { ENOEXEC, "ENOEXEC" },
	{ EBADF, "EBADF" },	      { ENOMEM, "ENOMEM" },	    { EACCES, "EACCES" },
	{ EFAULT, "EFAULT" },	      { EBUSY, "EBUSY" },	    { EEXIST, "EEXIST" },
	{ ENODEV, "ENODEV" },	      { ENOTDIR, "ENOTDIR" },	    { EISDIR, "EISDIR" },
	{ EINVAL, "EINVAL" },	      { ENFILE, "ENFILE" },	    { EMFILE, "EMFILE" },
	{ ENOTTY, "ENOTTY" },	      { ETXTBSY, "ETXTBSY" },	    { ENOSPC, "ENOSPC" },
	{ EROFS, "EROFS" },	      { ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" },
	{ ELOOP, "ELOOP" },	      { EPROTO, "EPROTO" },	    { EBADMSG, "EBADMSG" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },   { ENOKEY, "ENOKEY" },
	{ EKEYREJECTED, "EKEYREJECTED" },
};

void line_add_errno(struct line *l, long err)
{
	line_add(l, "errno ");
	line_add_num(l, (uint64_t)-err);
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
		if (errno_names[i].err == -err) {
			line_add(l, " (");
			line_add(l, errno_names[i].name);
			line_add(l, ")");
			return;
		}
	}
}
