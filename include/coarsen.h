/* SPDX-License-Identifier: MIT */
#ifndef OKX_COARSEN_H
#define OKX_COARSEN_H

/* Address ranges held to a budget: neighbouring ranges merged across the
 * smallest gaps, a superset of the input in at most `budget` ranges. The
 * conntrack event filter (ctwatch.c, by 32-bit words) and the nftables
 * cover sets (nft_plan.c, README "Cost to other traffic") use it. */

#include <stddef.h>
#include <stdint.h>

#include "targets.h"

/* r: n ranges of big-endian addresses of len bytes (1 to 16), sorted,
 * disjoint and not adjacent. Keep the budget - 1 widest gaps between
 * neighbours and merge across the others (the leftmost of equal gaps kept
 * first): at most budget ranges (one when budget is 0), each input range
 * inside one of them; nothing changes when n <= budget. *added: the addresses the merged
 * gaps held, UINT64_MAX when more. Returns 0, -EINVAL or -ENOMEM. */
int coarsen_ranges(struct addr_range *r, size_t *n, size_t len, size_t budget, uint64_t *added);

/* The parts of `add` outside `have` (each sorted, disjoint, addresses of
 * len bytes), sorted and disjoint, in *out (malloc'ed, NULL when none).
 * Returns 0, -EINVAL or -ENOMEM. */
int ranges_subtract(const struct addr_range *add, size_t n_add, const struct addr_range *have, size_t n_have,
		    size_t len, struct addr_range **out, size_t *n_out);

#endif
