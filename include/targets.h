/* SPDX-License-Identifier: MIT */
#ifndef OKX_TARGETS_H
#define OKX_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "prefix.h"

/* An inclusive address range [lo, hi] of one family, network byte order
 * (for AF_INET only the first 4 bytes are used). */
struct addr_range {
	int family;
	uint8_t lo[16];
	uint8_t hi[16];
};

struct scope;

/* What a drill acts on, computed once at start from the policy. */
struct target_set {
	struct prefix *resolved;  /* target= plus every address of every target_host=, deduplicated: journaled as "targets" */
	size_t n_resolved;
	struct addr_range *v4;    /* resolved minus exempt minus local addresses, sorted, merged, disjoint */
	size_t n_v4;
	struct addr_range *v6;
	size_t n_v6;
	/* the uid and cgroup keys resolved (include/scope.h), borrowed: needed
	 * when the policy has them, NULL otherwise; not freed here */
	const struct scope *scope;
};

/* Resolve target_host names (A and AAAA) and collect literal targets into
 * ts->resolved. A name that does not resolve is an error appended to
 * *errors as "FILE:LINE: cannot resolve 'NAME': reason\n"; returns -EINVAL
 * then, 0 on success. */
int targets_resolve(const struct policy *p, struct target_set *ts, char **errors);

/* The A and AAAA addresses of one name (getaddrinfo, blocking), IPv4 first,
 * each family sorted, as /32 and /128 prefixes in *out (malloc'ed, NULL when
 * none). *gai_rc is the resolver's error when it had one (then *n may be
 * 0). Returns 0 or -errno. */
int targets_lookup(const char *name, struct prefix **out, size_t *n, int *gai_rc);

/* Add addresses found later (resolve_every): those not yet in ts->resolved
 * are appended to it (and to delta->resolved, for the journal) and the
 * ranges recomputed; delta->v4/v6 are the ranges of those outside the old
 * ranges (minus exempt and local addresses): what must be added to the
 * live sets. Nothing is ever removed. Returns 0 or -errno (*delta is then
 * empty). */
int targets_add(struct target_set *ts, const struct policy *p, const struct prefix *local, size_t n_local,
		const struct prefix *add, size_t n_add, struct target_set *delta);

/* Compute ts->v4 / ts->v6 from ts->resolved minus p->exempt minus `local`
 * (the host's own addresses, see targets_local_addrs). Returns 0 or -errno. */
int targets_build(struct target_set *ts, const struct policy *p, const struct prefix *local, size_t n_local);

/* The addresses configured on this host's interfaces (getifaddrs), each as
 * a /32 or /128. Returns 0 or -errno; *out is malloc'ed. */
int targets_local_addrs(struct prefix **out, size_t *n);

/* Is `addr` (network order, 4 or 16 bytes) inside one of the ranges? */
bool target_set_contains(const struct target_set *ts, int family, const void *addr);

/* Is a flow to (family, addr, proto, dport) from sport in the drill's scope:
 * inside the target ranges, protocol as in the policy, dport in the ports
 * (or any), and neither sport nor dport an exempt port? proto is IPPROTO_*. */
bool target_scope_match(const struct policy *p, const struct target_set *ts, int family, const void *dst,
			uint8_t proto, uint16_t sport, uint16_t dport);

void target_set_free(struct target_set *ts); /* accepts NULL and zeroed */

#endif
