/* SPDX-License-Identifier: MIT */
#ifndef OKX_SCOPE_H
#define OKX_SCOPE_H

/* The scope keys of a policy resolved on this host (okx-faultd.policy(5),
 * SCOPE): uid names to numbers, cgroup paths to the ids the kernel
 * matches, and the network namespace the drill runs in, held by an open
 * descriptor.
 *
 * uid and cgroup select sockets: the table matches `meta skuid` and
 * `socket cgroupv2 level N` on the packets they send (egress only), and
 * marks the connections they open with the connection label
 * SCOPE_CT_LABEL, so that the arming watch (conntrack events carry no
 * socket owner) counts only theirs. A cgroup's id is the inode of its
 * directory on the cgroup2 mount, which is found in /proc/self/mountinfo
 * (nft only looks under /sys/fs/cgroup, which a hybrid layout mounts
 * elsewhere); a cgroup recreated (a service restart) gets a new id, which
 * src/scope_watch.c follows. */

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

/* The connection label (conntrack labels, bit 0-127) set on every new
 * connection of an in-scope socket when flows are counted. */
#define SCOPE_CT_LABEL 127u
/* Ids kept in the set per cgroup: a recreated cgroup adds its new id; the
 * old ones stay (they match what sockets survive from before) until this
 * many, then the oldest gives way. */
#define SCOPE_CGROUP_IDS 16u

struct scope_cgroup {
	const char *path;  /* the policy's, borrowed: below the cgroup2 root */
	int line;
	uint32_t level;    /* the cgroup's depth below the hierarchy's root: the socket expression's level */
	uint64_t id;       /* the current id; while removed, the last one seen */
	bool present;
	uint64_t ids[SCOPE_CGROUP_IDS]; /* in the set, oldest first */
	size_t n_ids;
};

struct scope {
	uint32_t *uids; /* sorted, distinct */
	size_t n_uids;
	struct scope_cgroup *cgroups; /* the policy's order */
	size_t n_cgroups;
	char *cgroot;    /* the cgroup2 mount point (malloc'ed); NULL without cgroups */
	int netns_fd;    /* the drill's network namespace; -1: the daemon's own */
	char *netns_path;
	uint64_t netns_ino, netns_dev;
	int netns_line;
	int netns_pidfd; /* netns /proc/PID/ns/net: the process (pidfd); -1 otherwise */
};

void scope_init(struct scope *sc);
void scope_free(struct scope *sc); /* accepts a zeroed or scope_init'ed scope */

/* uid names (getpwnam: run it with no capability in effect, like other
 * name services) and cgroups, found under the cgroup2 mount that
 * `mountinfo` (a /proc/PID/mountinfo path) lists. Every problem is
 * appended to *errors as "FILE:LINE: message\n". Returns 0, -EINVAL
 * (errors), or -ENOMEM. */
int scope_resolve_owner(struct scope *sc, const struct policy *p, const char *mountinfo, char **errors);

/* The id cgroup c has now: the inode of its directory (lstat). Returns 0
 * or -errno (errno set as well). */
int scope_cgroup_stat(const struct scope *sc, const struct scope_cgroup *c, uint64_t *id);

/* Open the policy's netns (none: 0, nothing done): a name under
 * /run/netns or a path, which must be a network namespace (nsfs, type
 * CLONE_NEWNET); for /proc/PID/ns/net the process is held by a pidfd
 * too, so its exit is seen. Errors as scope_resolve_owner(). */
int scope_open_netns(struct scope *sc, const struct policy *p, char **errors);

/* Move the calling thread into the opened namespace (setns: needs
 * CAP_SYS_ADMIN). Sockets made afterwards, and threads started
 * afterwards, are in it. Returns 0 (also with no netns) or -errno. */
int scope_enter_netns(const struct scope *sc);

/* The journal's `scope` (okx-faultd(8), JOURNAL): uids, cgroups with
 * path, level and id, netns with path and inode (null when none). */
cJSON *scope_json(const struct scope *sc);

/* The 16 bytes of a connection's labels (CTA_LABELS, the kernel's bit
 * order) with SCOPE_CT_LABEL alone set; *byte and *mask locate the bit. */
void scope_label_bytes(uint8_t out[16], size_t *byte, uint8_t *mask);

/* Pure helpers, unit-tested. The cgroup2 mount in the text of a
 * mountinfo file: its mount point (unescaped) and the depth of the
 * mount's root within the hierarchy (0 for "/"); a mount of the whole
 * hierarchy is preferred. Returns 0, -ENOENT (none) or -ENAMETOOLONG. */
int scope_find_cgroup2(const char *mountinfo, char *mnt, size_t len, uint32_t *root_depth);
/* Number of components of a normalized path ("a/b": 2, "" or "/": 0). */
uint32_t scope_path_depth(const char *path);

#endif
