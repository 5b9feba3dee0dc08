// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "open_file.h"

static const char *kind_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	default: return "a file of unknown kind";
	}
}

static int check_kind(const char *what, const char *path, mode_t mode, unsigned kinds, struct errmsg *e)
{
	if ((S_ISREG(mode) && (kinds & OPEN_REGULAR)) || (S_ISBLK(mode) && (kinds & OPEN_BLOCK_DEV)))
		return 0;
	if (S_ISLNK(mode))
		return errmsg_set(e, ELOOP, "%s '%s' is a symbolic link; give the path of the file itself", what, path);
	return errmsg_set(e, EINVAL, "%s '%s': %s, not %s", what, path, kind_name(mode),
			  kinds & OPEN_BLOCK_DEV ? "a regular file or a block device" : "a regular file");
}

int check_file(const char *what, const char *path, unsigned kinds, bool no_follow, struct errmsg *e)
{
	struct stat st;

	if ((no_follow ? lstat : stat)(path, &st))
		return errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	return check_kind(what, path, st.st_mode, kinds, e);
}

/*
 * What open returned, checked again now that it is open (the look before
 * could be raced) and made blocking: the descriptor, or the error with fd closed.
 */
static int opened(const char *what, const char *path, int fd, unsigned kinds, struct errmsg *e)
{
	struct stat st;
	int err;

	if (fd < 0)
		return errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st))
		err = errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	else if (!(err = check_kind(what, path, st.st_mode, kinds, e)) &&
		 fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		err = errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	if (!err)
		return fd;
	close(fd);
	return err;
}

int open_file(const char *what, const char *path, int access, unsigned kinds, bool no_follow, struct errmsg *e)
{
	int fd, err;

	/* A look first spares a device the open (opening some does something); the check after the open counts. */
	if ((err = check_file(what, path, kinds, no_follow, e)))
		return err;
	/* O_NONBLOCK: had a FIFO taken the file's place since, opening it for reading would wait for a writer. */
	fd = open(path, access | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (no_follow ? O_NOFOLLOW : 0));
	return opened(what, path, fd, kinds, e);
}

int create_file(const char *what, const char *path, int flags, struct errmsg *e)
{
	struct stat st;
	int fd, err;

	/* A file already there is checked before O_TRUNC could cut it (a device, a link to someone else's file). */
	if (!lstat(path, &st) && (err = check_kind(what, path, st.st_mode, OPEN_REGULAR, e)))
		return err;
	fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW, 0600);
	return opened(what, path, fd, OPEN_REGULAR, e);
}

int read_file(const char *what, const char *path, size_t max, uint8_t **data, size_t *len, struct errmsg *e)
{
	int fd = open_file(what, path, O_RDONLY, OPEN_REGULAR, false, e);
	uint8_t *buf = NULL;
	size_t have = 0;
	struct stat st;
	int err = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		err = errmsg_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
	else if ((uint64_t)st.st_size > max)
		err = errmsg_set(e, EFBIG, "%s '%s': larger than %zu bytes", what, path, max);
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		err = errmsg_set(e, ENOMEM, "%s '%s': out of memory", what, path);
	/* What fstat said, no more: a file that grows meanwhile is read as it was. */
	while (!err && have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = errmsg_set(e, n ? errno : EIO, "%s '%s': %s", what, path, n ? strerror(errno) : "shorter than it was");
		else
			have += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[have] = 0;
	*data = buf;
	*len = have;
	return 0;
}
