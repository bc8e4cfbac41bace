/* SPDX-License-Identifier: MIT */
#ifndef OKX_SAFEFILE_H
#define OKX_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Files a root daemon opens on behalf of a path it was given (the journal,
 * the policy). Paths are walked one component at a time with openat(2)
 * from "/" (absolute) or the working directory (relative), never following
 * a symbolic link, so a link planted by another user in a world-writable
 * directory cannot redirect a write (okx-faultd(8), SECURITY).
 */

/* Mode of the directories safefile_create() makes. */
#define SAFEFILE_DIR_MODE 0750

/* Could PATH be created by safefile_create()? Walks the existing
 * directories of PATH without following symlinks and creates nothing.
 * Returns 0 (missing directories are fine: they would be created),
 * -EEXIST when the last component exists (whatever it is, a symlink
 * included) and !may_exist, -ELOOP when a directory component is a
 * symlink, -ENOTDIR when it is not a directory, -EISDIR when PATH ends
 * with '/', or -errno. */
int safefile_check_new(const char *path, bool may_exist);

/* Create PATH as a new regular file open for appending (O_CREAT|O_EXCL|
 * O_NOFOLLOW|O_WRONLY|O_APPEND|O_CLOEXEC) with exactly `mode` (whatever
 * the umask), creating missing directories with SAFEFILE_DIR_MODE on the
 * way, none of them followed if a symlink. Returns the descriptor, or the
 * errors of safefile_check_new() (-EEXIST for any existing entry: a file,
 * a FIFO, a symlink, dangling or not). */
int safefile_create(const char *path, mode_t mode);

/* Open the directory PATH (O_RDONLY|O_DIRECTORY|O_CLOEXEC: it can be
 * flock(2)ed), creating it with exactly `mode` when missing and missing
 * parents with SAFEFILE_DIR_MODE, no component followed if a symlink.
 * Returns the descriptor, -ELOOP (a symlink on the way or at PATH),
 * -ENOTDIR, or -errno. */
int safefile_open_dir(const char *path, mode_t mode);

/* Read a whole file into memory (NUL-terminated, *len without the NUL).
 * The open never blocks (O_NONBLOCK: a FIFO without a writer cannot hang
 * the daemon) and only a regular file or an anonymous pipe (a shell's
 * `<(...)` or a piped stdin) is read. Returns 0, -EFBIG when the file
 * holds more than `cap` bytes, -EISDIR, -EINVAL for any other kind of
 * file (*type then holds its S_IFMT bits, see safefile_type_name()), or
 * -errno. *buf is malloc'ed on success, NULL otherwise. */
int safefile_read(const char *path, size_t cap, char **buf, size_t *len, mode_t *type);

/* The same, with the fstat(2) of the descriptor read (owner, mode; all
 * zero when the open failed). */
int safefile_read_stat(const char *path, size_t cap, char **buf, size_t *len, struct stat *st);

/* "FIFO", "character device", "block device", "socket", "directory",
 * "symbolic link", "regular file" or "unknown file type". */
const char *safefile_type_name(mode_t type);

#endif
