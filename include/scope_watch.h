/* SPDX-License-Identifier: MIT */
#ifndef OKX_SCOPE_WATCH_H
#define OKX_SCOPE_WATCH_H

/* Keeping a drill's scope current while it runs (okx-faultd.policy(5),
 * SCOPE). A cgroup removed and created again (a service restart) has a new
 * id, which the table must match from then on; a cgroup removed is said
 * (its old id stays in the set); a network namespace whose process exited,
 * or whose path now names another namespace or nothing, ends the drill:
 * its faults would act on nothing the policy meant. Never a silent change.
 *
 * One descriptor for the event loop: an epoll set over an inotify watch of
 * each cgroup's parent directory (mkdir, rmdir, renames), a timer every
 * SCOPE_WATCH_MS (what inotify cannot see: a parent removed, another
 * mount's changes) and the netns process's pidfd. */

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "scope.h"

#define SCOPE_WATCH_MS 1000

enum scope_change_kind {
	SCOPE_CGROUP_REMOVED,   /* the cgroup's directory is gone: no new socket can be created in it */
	SCOPE_CGROUP_RECREATED, /* it exists again (or under a new id) */
	SCOPE_NETNS_GONE,       /* the namespace's process exited, or its path names another namespace or nothing */
};

struct scope_change {
	enum scope_change_kind kind;
	size_t cgroup;        /* index in sc->cgroups */
	uint64_t id;          /* RECREATED: the new id; REMOVED: the last one */
	uint64_t previous_id; /* RECREATED */
	uint64_t add_id;      /* RECREATED: the id the level's set gains, 0: none (known already) */
	uint64_t del_id;      /* an old id that leaves the set to make room, 0: none */
	char why[96];         /* NETNS_GONE */
};

struct scope_watch;

/* Watch sc (kept by reference, updated by scope_watch_check). Returns 0
 * with *out NULL when there is nothing to watch (no cgroup, no netns), 0
 * with a watch, or -errno. */
int scope_watch_open(struct scope_watch **out, struct scope *sc);
int scope_watch_fd(const struct scope_watch *w);

/* Drain what woke the watch, look at every cgroup and the namespace, and
 * update sc: at most sc->n_cgroups + 1 changes are written to ch. Returns
 * their number or -errno. Call it once right after opening, too: the ids
 * may have changed since they were resolved. */
int scope_watch_check(struct scope_watch *w, struct scope_change *ch);

void scope_watch_close(struct scope_watch *w); /* accepts NULL */

/* The journal's `scope_changed` fields for c (okx-faultd(8), JOURNAL). */
cJSON *scope_change_json(const struct scope *sc, const struct scope_change *c);

/* For tests: decide c's change from the id stat found (present) or not,
 * updating c. Returns true when there is a change, written to *ch. */
bool scope_cgroup_update(struct scope_cgroup *c, bool present, uint64_t id, struct scope_change *ch);

#endif
