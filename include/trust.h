/* SPDX-License-Identifier: MIT */
#ifndef OKX_TRUST_H
#define OKX_TRUST_H

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
 * by sudo_uid (TRUST_NO_SUDO: root only) and writable by neither its group
 * nor others. Returns 0, or -EPERM with the reason in why (a phrase such
 * as "owned by uid 1000, not root"). */
int trust_check(uid_t owner, mode_t mode, uid_t sudo_uid, char *why, size_t len);

#endif
