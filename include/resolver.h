/* SPDX-License-Identifier: MIT */
#ifndef OKX_RESOLVER_H
#define OKX_RESOLVER_H

/* Re-resolution of the policy's target_host names during a drill
 * (resolve_every), off the event loop: a round runs getaddrinfo for every
 * name in a thread of its own, which owns nothing but its results until it
 * signals the end of the round on a pipe; the loop then collects them. At
 * most one round runs at a time.
 *
 * Lookups are held while a dns fault is live (README, "Names that move"):
 * the fault makes these very names fail on purpose. The loop holds and
 * releases with resolver_hold, which never blocks (one atomic counter, odd
 * while held): a round does not start while held, a name whose turn comes
 * while held is skipped, and a lookup that was under way when the hold
 * began (or that ran across a whole hold) is marked `held`, so that its
 * failure is not taken for the name's. */

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "prefix.h"

struct resolver_answer {
	const char *name;      /* the policy's, borrowed */
	struct prefix *addrs;  /* A and AAAA, IPv4 first, sorted; NULL when none */
	size_t n_addrs;
	int err;               /* 0, or why there is no answer: -errno or a getaddrinfo EAI_* (> 0) */
	bool skipped;          /* not looked up: lookups were held when its turn came */
	bool held;             /* looked up, but lookups were held at some point meanwhile */
};

/* One name's addresses, as targets_lookup (include/targets.h). */
typedef int (*resolver_lookup_fn)(const char *name, struct prefix **out, size_t *n, int *gai_rc);

struct resolver;

/* names: p->hosts (kept by reference), looked up with targets_lookup.
 * Returns 0 or -errno. */
int resolver_open(struct resolver **out, const struct policy *p);
/* The same with another lookup function (tests). */
int resolver_open_with(struct resolver **out, const struct policy *p, resolver_lookup_fn lookup);
/* Readable when a round has ended; then call resolver_collect. */
int resolver_fd(const struct resolver *r);
/* Start a round. Returns 0, -EBUSY while one runs, -EAGAIN while lookups
 * are held, or -errno. */
int resolver_start(struct resolver *r);
/* After resolver_fd became readable: the round's answers, one per name
 * (owned by r, valid until the next round or resolver_close). Returns the
 * number of answers, or -EAGAIN when no round has ended. */
int resolver_collect(struct resolver *r, const struct resolver_answer **answers);
/* Hold lookups (true: a dns fault went live) or release them (false).
 * Only the loop calls it; it never waits for a running round. Accepts NULL. */
void resolver_hold(struct resolver *r, bool hold);
bool resolver_held(const struct resolver *r);
/* Waits for a running round to end. Accepts NULL. */
void resolver_close(struct resolver *r);

#endif
