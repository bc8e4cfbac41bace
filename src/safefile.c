/* SPDX-License-Identifier: MIT */
/* Opening files for a root daemon without being redirected: see
 * include/safefile.h and okx-faultd(8), SECURITY. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "safefile.h"

/* openat(O_NOFOLLOW|O_DIRECTORY) of `name` failed with `err`: a symlink
 * reports ELOOP or ENOTDIR depending on the flags, so ask what it is. */
static int classify(int dirfd, const char *name, int err)
{
	struct stat st;

	if ((err == ELOOP || err == ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
	return -err;
}

/* One component down from `dirfd`. Returns the new descriptor or -errno
 * (-ENOENT when missing and !create). */
static int step(int dirfd, const char *name, bool create)
{
	struct stat st;
	bool made = false;
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno != ENOENT || !create)
		return classify(dirfd, name, errno);
	if (mkdirat(dirfd, name, SAFEFILE_DIR_MODE) == 0)
		made = true;
	else if (errno != EEXIST) /* EEXIST: made meanwhile; the open decides */
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return classify(dirfd, name, errno);
	/* the documented mode, not whatever the umask left */
	if (made && fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) != SAFEFILE_DIR_MODE &&
	    fchmod(fd, SAFEFILE_DIR_MODE) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* Open the directory that holds the last component of `path`, walking
 * from "/" or ".". *base points at the last component inside `path`.
 * Returns 0 with *dirfd set, or -errno. */
static int walk(const char *path, bool create, int *dirfd, const char **base)
{
	char buf[PATH_MAX];
	char *comp, *next, *slash;
	size_t len = strlen(path);
	int fd;

	*dirfd = -1;
	if (!len)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	slash = strrchr(buf, '/');
	*base = path + (slash ? (size_t)(slash - buf) + 1 : 0);
	if (!**base)
		return -EISDIR;
	fd = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (slash) {
		*slash = '\0';
		for (comp = buf; comp; comp = next) {
			int nfd;

			next = strchr(comp, '/');
			if (next)
				*next++ = '\0';
			if (!*comp || !strcmp(comp, "."))
				continue;
			nfd = step(fd, comp, create);
			close(fd);
			if (nfd < 0)
				return nfd;
			fd = nfd;
		}
	}
	*dirfd = fd;
	return 0;
}

int safefile_check_new(const char *path, bool may_exist)
{
	const char *base;
	struct stat st;
	int fd, ret = walk(path, false, &fd, &base);

	if (ret == -ENOENT)
		return 0; /* a missing directory: it would be created */
	if (ret < 0)
		return ret;
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		ret = may_exist ? 0 : -EEXIST;
	else if (errno != ENOENT)
		ret = -errno;
	close(fd);
	return ret;
}

int safefile_create(const char *path, mode_t mode)
{
	const char *base;
	int dirfd, fd, ret = walk(path, true, &dirfd, &base);

	if (ret < 0)
		return ret;
	fd = openat(dirfd, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_APPEND | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
	} else if (fchmod(fd, mode) < 0) {
		ret = -errno;
		close(fd);
		(void)unlinkat(dirfd, base, 0);
	} else {
		ret = fd;
	}
	close(dirfd);
	return ret;
}

int safefile_open_dir(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	const char *base;
	struct stat st;
	size_t len = strlen(path);
	int dirfd, fd = -1, ret;
	bool made = false;

	/* "DIR/" names DIR */
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len);
	buf[len] = '\0';
	ret = walk(buf, true, &dirfd, &base);
	if (ret < 0)
		return ret;
	if (mkdirat(dirfd, base, mode) == 0)
		made = true;
	else if (errno != EEXIST) /* EEXIST: the open decides what it is */
		ret = -errno;
	if (ret == 0 && (fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		ret = classify(dirfd, base, errno);
	close(dirfd);
	if (ret < 0)
		return ret;
	/* the asked mode, not whatever the umask left */
	if (made && fstat(fd, &st) == 0 && (st.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static bool is_anonymous_pipe(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PIPEFS_MAGIC;
}

/* Accept a regular file or an anonymous pipe (then reads may block: the
 * writer is the caller's own `<(...)`). */
static int check_type(int fd, size_t *hint, struct stat *st)
{
	int fl;

	if (fstat(fd, st) < 0)
		return -errno;
	if (S_ISREG(st->st_mode)) {
		*hint = st->st_size > 0 ? (size_t)st->st_size : 0;
		return 0;
	}
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISFIFO(st->st_mode) || !is_anonymous_pipe(fd))
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	*hint = 0;
	return 0;
}

static int read_fd(int fd, size_t cap, size_t hint, char **out, size_t *outlen)
{
	size_t len = 0, room = (hint < cap ? hint : cap) + 1;
	char *buf = malloc(room + 1), *nb;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == room) {
			if (len > cap)
				break;
			room = room < cap / 2 ? room * 2 + 4096 : cap + 1;
			if (room > cap + 1)
				room = cap + 1;
			nb = realloc(buf, room + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, room - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;

			free(buf);
			return ret;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > cap) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int safefile_read_stat(const char *path, size_t cap, char **buf, size_t *len, struct stat *st)
{
	size_t hint = 0;
	int fd, ret;

	*buf = NULL;
	*len = 0;
	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = check_type(fd, &hint, st);
	if (ret == 0)
		ret = read_fd(fd, cap, hint, buf, len);
	close(fd);
	return ret;
}

int safefile_read(const char *path, size_t cap, char **buf, size_t *len, mode_t *type)
{
	struct stat st;
	int ret = safefile_read_stat(path, cap, buf, len, &st);

	*type = st.st_mode & S_IFMT;
	return ret;
}

const char *safefile_type_name(mode_t type)
{
	switch (type & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFIFO: return "FIFO";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFSOCK: return "socket";
	case S_IFLNK: return "symbolic link";
	default: return "unknown file type";
	}
}
