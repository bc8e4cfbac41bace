/* SPDX-License-Identifier: MIT */
#ifndef OKX_TRUST_H
#define OKX_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Policy trust (okx-faultd(8), SECURITY): a daemon running as root runs a
 * policy only when no one but root, or the user who invoked sudo, could
 * have written it, as sshd and bgpd treat their configuration.
 */

#define TRUST_NO_SUDO ((uid_t)-1)

/* The user who invoked sudo: SUDO_UID parsed (decimal, not 0), or
 * TRUST_NO_SUDO when `s` is NULL or not a valid uid. */
uid_t trust_sudo_uid(const char *s);

/* Is a file with this owner and mode trusted? It must be owned by root or
 * by sudo_uid (TRUST_NO_SUDO: root only) and writable by no one else: not
 * by others, and by its group only when that group is the owner's private
 * group (private_group, from trust_private_group()). Returns 0, or -EPERM
 * with the reason in why (a phrase such as "owned by uid 1000, not root"). */
int trust_check(uid_t owner, mode_t mode, bool private_group, uid_t sudo_uid, char *why, size_t len);

/* Is gid the private group of the user owner: that user's primary group,
 * named like the user, with no other member? Debian and Ubuntu give every
 * user such a group and a umask of 002, so a checkout a user made is
 * group-writable by that group alone (as Debian's sshd allows for
 * ~/.ssh). Looks the user and group up (NSS); false when either is
 * unknown. */
bool trust_private_group(uid_t owner, gid_t gid);

#endif
