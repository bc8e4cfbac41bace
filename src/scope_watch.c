/* SPDX-License-Identifier: MIT */
/* Following a drill's scope while it runs: cgroups recreated or removed,
 * the network namespace gone (include/scope_watch.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "scope_watch.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)

struct scope_watch {
	struct scope *sc;
	int ep, in, tick;
	bool netns_gone;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
};

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The parent of each cgroup's directory, watched again on every check:
 * inotify_add_watch of a watched directory is a no-op, and a parent that
 * was removed and made again is picked up this way. */
static void watch_parents(struct scope_watch *w)
{
	const struct scope *sc = w->sc;
	char path[PATH_MAX];

	for (size_t i = 0; i < sc->n_cgroups; i++) {
		const char *slash = strrchr(sc->cgroups[i].path, '/');
		int n = slash ? snprintf(path, sizeof(path), "%s/%.*s", sc->cgroot,
					 (int)(slash - sc->cgroups[i].path), sc->cgroups[i].path)
			      : snprintf(path, sizeof(path), "%s", sc->cgroot);

		if (n > 0 && (size_t)n < sizeof(path) && inotify_add_watch(w->in, path, WATCH_MASK) < 0 &&
		    errno != ENOENT)
			log_debug("scope: watching %s: %s", path, strerror(errno));
	}
}

int scope_watch_open(struct scope_watch **out, struct scope *sc)
{
	struct itimerspec its = { .it_value = { .tv_sec = SCOPE_WATCH_MS / 1000, .tv_nsec = SCOPE_WATCH_MS % 1000 * 1000000L } };
	struct scope_watch *w;
	int ret = 0;

	*out = NULL;
	if (!sc->n_cgroups && sc->netns_fd < 0)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->sc = sc;
	w->in = w->tick = -1;
	its.it_interval = its.it_value;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0)
		ret = -errno;
	if (!ret && (w->tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		ret = -errno;
	if (!ret && timerfd_settime(w->tick, 0, &its, NULL) < 0)
		ret = -errno;
	if (!ret)
		ret = ep_add(w->ep, w->tick);
	if (!ret && sc->n_cgroups) {
		if ((w->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
			ret = -errno;
		if (!ret)
			ret = ep_add(w->ep, w->in);
		if (!ret)
			watch_parents(w);
	}
	if (!ret && sc->netns_pidfd >= 0)
		ret = ep_add(w->ep, sc->netns_pidfd);
	if (ret < 0) {
		scope_watch_close(w);
		return ret;
	}
	*out = w;
	return 0;
}

int scope_watch_fd(const struct scope_watch *w)
{
	return w->ep;
}

void scope_watch_close(struct scope_watch *w)
{
	if (!w)
		return;
	if (w->ep >= 0)
		close(w->ep);
	if (w->in >= 0)
		close(w->in);
	if (w->tick >= 0)
		close(w->tick);
	free(w);
}

bool scope_cgroup_update(struct scope_cgroup *c, bool present, uint64_t id, struct scope_change *ch)
{
	bool known = false;

	memset(ch, 0, sizeof(*ch));
	if (!present) {
		if (!c->present)
			return false;
		c->present = false;
		ch->kind = SCOPE_CGROUP_REMOVED;
		ch->id = c->id;
		return true;
	}
	if (c->present && id == c->id)
		return false;
	ch->kind = SCOPE_CGROUP_RECREATED;
	ch->id = id;
	ch->previous_id = c->id;
	c->present = true;
	c->id = id;
	for (size_t i = 0; i < c->n_ids; i++)
		known |= c->ids[i] == id;
	if (known)
		return true;
	ch->add_id = id;
	if (c->n_ids == SCOPE_CGROUP_IDS) {
		ch->del_id = c->ids[0];
		memmove(c->ids, c->ids + 1, (SCOPE_CGROUP_IDS - 1) * sizeof(c->ids[0]));
		c->n_ids--;
	}
	c->ids[c->n_ids++] = id;
	return true;
}

/* The namespace is the drill's as long as its process lives (a pidfd
 * turns readable when it exits) or its path still names it. */
static bool netns_gone(const struct scope *sc, char *why, size_t len)
{
	struct pollfd pfd = { .fd = sc->netns_pidfd, .events = POLLIN };
	struct stat st;

	if (sc->netns_pidfd >= 0) {
		if (poll(&pfd, 1, 0) <= 0)
			return false;
		snprintf(why, len, "its process exited");
		return true;
	}
	if (stat(sc->netns_path, &st) < 0) {
		snprintf(why, len, "%s: %s", sc->netns_path, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR;
	}
	if ((uint64_t)st.st_ino == sc->netns_ino && (uint64_t)st.st_dev == sc->netns_dev)
		return false;
	snprintf(why, len, "%s now names another namespace (inode %llu)", sc->netns_path,
		 (unsigned long long)st.st_ino);
	return true;
}

static int drain(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
}

int scope_watch_check(struct scope_watch *w, struct scope_change *ch)
{
	struct scope *sc = w->sc;
	int n = 0, ret;

	if (w->in >= 0 && (ret = drain(w->in, w->buf, sizeof(w->buf))) < 0)
		return ret;
	if ((ret = drain(w->tick, w->buf, sizeof(w->buf))) < 0)
		return ret;
	if (sc->n_cgroups)
		watch_parents(w);
	for (size_t i = 0; i < sc->n_cgroups; i++) {
		uint64_t id = 0;
		bool present = scope_cgroup_stat(sc, &sc->cgroups[i], &id) == 0;

		if (scope_cgroup_update(&sc->cgroups[i], present, id, &ch[n])) {
			ch[n].cgroup = i;
			n++;
		}
	}
	if (sc->netns_fd >= 0 && !w->netns_gone) {
		memset(&ch[n], 0, sizeof(ch[n]));
		if (netns_gone(sc, ch[n].why, sizeof(ch[n].why))) {
			w->netns_gone = true;
			ch[n++].kind = SCOPE_NETNS_GONE;
			/* a pidfd stays readable: the loop must not spin on it */
			if (sc->netns_pidfd >= 0)
				(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, sc->netns_pidfd, NULL);
		}
	}
	return n;
}

cJSON *scope_change_json(const struct scope *sc, const struct scope_change *c)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	switch (c->kind) {
	case SCOPE_CGROUP_REMOVED:
	case SCOPE_CGROUP_RECREATED:
		cJSON_AddStringToObject(o, "cgroup", sc->cgroups[c->cgroup].path);
		cJSON_AddStringToObject(o, "state", c->kind == SCOPE_CGROUP_REMOVED ? "removed" : "recreated");
		json_add_u64(o, "id", c->id);
		if (c->kind == SCOPE_CGROUP_RECREATED)
			json_add_u64(o, "previous_id", c->previous_id);
		break;
	case SCOPE_NETNS_GONE:
		cJSON_AddStringToObject(o, "netns", sc->netns_path);
		cJSON_AddStringToObject(o, "state", "gone");
		json_add_u64(o, "inode", sc->netns_ino);
		cJSON_AddStringToObject(o, "reason", c->why);
		break;
	}
	return o;
}
