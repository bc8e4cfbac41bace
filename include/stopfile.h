/* SPDX-License-Identifier: MIT */
#ifndef OKX_STOPFILE_H
#define OKX_STOPFILE_H

#include <stdbool.h>

/*
 * The stop file (okx-faultd(8), --stop-file): the drill ends when PATH
 * appears. Its directory is watched with inotify for entries created or
 * moved in (IN_CREATE, IN_MOVED_TO) and only an event naming the stop
 * file leads to a look at the path. After a wake-up for other names the
 * watch rests STOPFILE_COALESCE_MS, its events queued, so unrelated churn
 * in the directory costs a few wake-ups a second and a name comparison
 * per file, not a wake-up and a system call per file. When the
 * directory itself goes (removed, renamed, unmounted: IN_DELETE_SELF,
 * IN_MOVE_SELF, IN_IGNORED) the watch is set again on the path; when
 * that fails the path is checked on a timer until it can be watched.
 */
struct stopfile;

/* How often the path is checked while its directory cannot be watched. */
#define STOPFILE_POLL_MS 200
/* The most a stop file made amid unrelated churn waits to be seen. */
#define STOPFILE_COALESCE_MS 20

/* Watch PATH's directory. Warns when users other than root can write the
 * directory (any of them can end the drill). Returns 0 or -errno (the
 * directory cannot be watched: it does not exist, say). */
int stopfile_open(struct stopfile **out, const char *path);

/* The one descriptor to poll for input (an epoll set of the inotify
 * descriptor and a timer). */
int stopfile_fd(const struct stopfile *s);

/* Is there an entry (of any kind, a dangling symlink included) at PATH? */
bool stopfile_present(const struct stopfile *s);

/* Handle input on stopfile_fd(): read every pending event, set the watch
 * again if the directory went away. Returns 1 when the stop file is
 * present, 0 when not (or the events were about other names), or -errno. */
int stopfile_handle(struct stopfile *s);

void stopfile_close(struct stopfile *s); /* accepts NULL */

#endif
