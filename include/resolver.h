/* SPDX-License-Identifier: MIT */
#ifndef OKX_RESOLVER_H
#define OKX_RESOLVER_H

/* Re-resolution of the policy's target_host names during a drill
 * (resolve_every), off the event loop: a round runs getaddrinfo for every
 * name in a thread of its own, which owns nothing but its results until it
 * signals the end of the round on a pipe; the loop then collects them. At
 * most one round runs at a time. */

#include <stddef.h>

#include "policy.h"
#include "prefix.h"

struct resolver_answer {
	const char *name;      /* the policy's, borrowed */
	struct prefix *addrs;  /* A and AAAA, IPv4 first, sorted; NULL when none */
	size_t n_addrs;
	int err;               /* 0, or why there is no answer: -errno or a getaddrinfo EAI_* (> 0) */
};

struct resolver;

/* names: p->hosts (kept by reference). Returns 0 or -errno. */
int resolver_open(struct resolver **out, const struct policy *p);
/* Readable when a round has ended; then call resolver_collect. */
int resolver_fd(const struct resolver *r);
/* Start a round. Returns 0, -EBUSY while one runs, or -errno. */
int resolver_start(struct resolver *r);
/* After resolver_fd became readable: the round's answers, one per name
 * (owned by r, valid until the next round or resolver_close). Returns the
 * number of answers, or -EAGAIN when no round has ended. */
int resolver_collect(struct resolver *r, const struct resolver_answer **answers);
/* Waits for a running round to end. Accepts NULL. */
void resolver_close(struct resolver *r);

#endif
