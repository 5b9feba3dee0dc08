// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
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

int open_file(const char *what, const char *path, int access, unsigned kinds, bool no_follow, struct errmsg *e)
{
	struct stat st;
	int fd, err;

	/* A look first spares a device the open (opening some does something); the check after the open counts. */
	if (!(no_follow ? lstat : stat)(path, &st) && (err = check_kind(what, path, st.st_mode, kinds, e)))
		return err;
	/* O_NONBLOCK: had a FIFO taken the file's place since, opening it for reading would wait for a writer. */
	fd = open(path, access | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (no_follow ? O_NOFOLLOW : 0));
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
