/* SPDX-License-Identifier: MIT */
/* The stop file's watch: see include/stopfile.h and okx-faultd(8). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "stopfile.h"

/* IN_IGNORED, IN_UNMOUNT and IN_Q_OVERFLOW come without asking. */
#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define LOST_MASK (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

struct stopfile {
	char *path;
	char *dir;
	const char *name; /* last component, inside path */
	int ep, ifd, wd, tfd; /* ep holds ifd and tfd: the one descriptor the caller polls */
	bool polling;         /* no watch: tfd checks the path every STOPFILE_POLL_MS */
	bool paused;          /* ifd left out of ep until tfd fires (STOPFILE_COALESCE_MS) */
};

static int ep_ctl(struct stopfile *s, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(s->ep, op, fd, &ev);
}

static int split(struct stopfile *s, const char *path)
{
	char *slash;

	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	slash = strrchr(s->path, '/');
	s->name = slash ? slash + 1 : s->path;
	if (!*s->name)
		return -EISDIR;
	if (!slash)
		s->dir = strdup(".");
	else if (slash == s->path)
		s->dir = strdup("/");
	else
		s->dir = strndup(s->path, (size_t)(slash - s->path));
	return s->dir ? 0 : -ENOMEM;
}

/* Anyone who can create an entry in the directory can end the drill. */
static void warn_writable(const struct stopfile *s)
{
	struct stat st;

	if (stat(s->dir, &st) < 0)
		return;
	if (st.st_uid != 0)
		log_warnx("stop file: directory %s belongs to uid %u: that user can end the drill", s->dir,
			  (unsigned)st.st_uid);
	else if (st.st_mode & S_IWOTH)
		log_warnx("stop file: directory %s is writable by every user: any of them can end the drill", s->dir);
	else if (st.st_mode & S_IWGRP)
		log_warnx("stop file: directory %s is writable by group %u: any member can end the drill", s->dir,
			  (unsigned)st.st_gid);
}

int stopfile_open(struct stopfile **out, const char *path)
{
	struct stopfile *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->ep = s->ifd = s->wd = s->tfd = -1;
	ret = split(s, path);
	if (ret < 0)
		goto fail;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->ep < 0 || s->ifd < 0 || s->tfd < 0 || ep_ctl(s, EPOLL_CTL_ADD, s->ifd) < 0 ||
	    ep_ctl(s, EPOLL_CTL_ADD, s->tfd) < 0) {
		ret = -errno;
		goto fail;
	}
	s->wd = inotify_add_watch(s->ifd, s->dir, WATCH_MASK);
	if (s->wd < 0) {
		ret = -errno;
		goto fail;
	}
	warn_writable(s);
	*out = s;
	return 0;
fail:
	stopfile_close(s);
	return ret;
}

int stopfile_fd(const struct stopfile *s)
{
	return s->ep;
}

bool stopfile_present(const struct stopfile *s)
{
	struct stat st;

	return fstatat(AT_FDCWD, s->path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Arm the timer: once after `ms`, every `every` ms after that (0: once;
 * ms 0: disarm). */
static int set_timer(struct stopfile *s, long ms, long every)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_nsec = ms * 1000000L;
	its.it_interval.tv_nsec = every * 1000000L;
	return timerfd_settime(s->tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int set_polling(struct stopfile *s, bool on)
{
	s->polling = on;
	return set_timer(s, on ? STOPFILE_POLL_MS : 0, on ? STOPFILE_POLL_MS : 0);
}

/* Unrelated churn: leave the inotify descriptor out of the set for a
 * moment, so a burst of N files costs one wake-up, not N. The events
 * queue meanwhile (an overflow is taken as "look at the path"). */
static int pause_watch(struct stopfile *s, bool on)
{
	/* out of the set, not a MOD to no events: inotify wakes its waiters
	 * without a poll mask, so a masked entry would still wake the loop */
	if (ep_ctl(s, on ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, s->ifd) < 0)
		return -errno;
	s->paused = on;
	return on ? set_timer(s, STOPFILE_COALESCE_MS, 0) : 0;
}

/* The watched directory went away (`why`): watch whatever is at its path
 * now, or check the path on a timer until that works. */
static int rewatch(struct stopfile *s, const char *why)
{
	if (s->wd >= 0) {
		(void)inotify_rm_watch(s->ifd, s->wd); /* still there after IN_MOVE_SELF */
		s->wd = -1;
	}
	s->wd = inotify_add_watch(s->ifd, s->dir, WATCH_MASK);
	if (s->wd >= 0) {
		log_info("stop file: directory %s %s; watching it again", s->dir, why);
		return s->polling ? set_polling(s, false) : 0;
	}
	if (s->polling)
		return 0;
	log_warnx("stop file: directory %s %s and cannot be watched (%s); checking %s every %d ms", s->dir, why,
		  strerror(errno), s->path, STOPFILE_POLL_MS);
	return set_polling(s, true);
}

static const char *lost_why(uint32_t mask)
{
	if (mask & IN_MOVE_SELF)
		return "was moved";
	if (mask & IN_DELETE_SELF)
		return "was removed";
	if (mask & IN_UNMOUNT)
		return "was unmounted";
	return "is no longer watched";
}

/* Read every pending event. *look: the stop file may be there now.
 * Returns how many events were read, or -errno. */
static int read_events(struct stopfile *s, bool *look, uint32_t *lost)
{
	int count = 0;

	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(s->ifd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? count : -errno;
		for (char *p = buf; p < buf + n; count++) {
			/* buf is aligned for the struct and the kernel pads each
			 * name so the next event starts aligned too (inotify(7)) */
			const struct inotify_event *ev = (const void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				*look = true;
			else if (ev->wd != s->wd || s->wd < 0)
				continue; /* a watch already replaced */
			else if (ev->mask & LOST_MASK)
				*lost |= ev->mask;
			else if (ev->len && !strcmp(ev->name, s->name))
				*look = true;
		}
	}
}

static int on_timer(struct stopfile *s, bool *look)
{
	uint64_t ticks;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return -errno;
	if (s->paused)
		return pause_watch(s, false); /* the queued events are read next */
	if (!s->polling)
		return 0;
	*look = true;
	return rewatch(s, "was gone");
}

int stopfile_handle(struct stopfile *s)
{
	struct epoll_event evs[2];
	bool look = false;
	uint32_t lost = 0;
	int n, ret, events = 0;

	n = epoll_wait(s->ep, evs, 2, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == s->tfd && (ret = on_timer(s, &look)) < 0)
			return ret;
	}
	if (!s->polling && !s->paused && (events = read_events(s, &look, &lost)) < 0)
		return events;
	if (lost) {
		ret = rewatch(s, lost_why(lost));
		if (ret < 0)
			return ret;
		look = true; /* it may have been made before the new watch */
	} else if (events && !look && (ret = pause_watch(s, true)) < 0) {
		return ret;
	}
	return look && stopfile_present(s) ? 1 : 0;
}

void stopfile_close(struct stopfile *s)
{
	if (!s)
		return;
	if (s->ep >= 0)
		close(s->ep);
	if (s->ifd >= 0)
		close(s->ifd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->dir);
	free(s->path);
	free(s);
}
