/* SPDX-License-Identifier: MIT */
#ifndef OKX_PRIVS_H
#define OKX_PRIVS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Capabilities of this process, asked of and set in the kernel directly
 * (capget/capset and prctl: no libcap for a handful of bits). The drill
 * keeps CAP_NET_ADMIN only once its files and sockets are open
 * (okx-faultd(8), SECURITY). All functions return 0 or -errno.
 */

/* The one capability a running drill keeps. */
#define PRIVS_KEEP_MASK (UINT64_C(1) << 12) /* CAP_NET_ADMIN */

/* Is `cap` in the effective set? */
bool privs_have(int cap);

/* The effective, permitted and inheritable sets as 64-bit masks. */
int privs_get(uint64_t *eff, uint64_t *prm, uint64_t *inh);

/* Empty the effective set and keep the permitted one, so that code that
 * needs no privilege (name resolution: NSS modules, resolver libraries)
 * runs with none; privs_resume() makes the permitted set effective
 * again. */
int privs_suspend(void);
int privs_resume(void);

/* For good: every capability but CAP_NET_ADMIN leaves the bounding set
 * (those still in it; that needs CAP_SETPCAP), the ambient and
 * inheritable sets are emptied, permitted and effective become
 * CAP_NET_ADMIN alone, and no_new_privs is set. Checked afterwards:
 * -EPERM when the effective set is not exactly CAP_NET_ADMIN. */
int privs_drop(void);

#endif
