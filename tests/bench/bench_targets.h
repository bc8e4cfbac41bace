/* SPDX-License-Identifier: MIT */
#ifndef OKX_BENCH_TARGETS_H
#define OKX_BENCH_TARGETS_H

/* Synthetic targets for the benchmarks (tests/bench/nft_bench.c, pps.c):
 * n prefixes, n/2 IPv4 /32 at every other address from v4_first (host
 * order) up, inside 198.18.0.0/15, and the rest IPv6 /96, every other /96
 * of 2001:2:0:SUBNET::/64 (a /48 holds only 65,536 /64s, too few for
 * 50,000 non-adjacent ones). None adjacent, none overlapping: each prefix
 * is two interval elements. ts->v4/v6 are calloc'ed (the caller frees).
 * Returns 0, -E2BIG when the IPv4 half does not fit, or -ENOMEM. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

#define BENCH_V4_END 0xc6140000u /* one past 198.19.255.255 */

static inline int bench_targets(struct target_set *ts, size_t n, uint32_t v4_first, uint16_t v6_subnet)
{
	size_t n4 = n / 2, n6 = n - n4, i;

	memset(ts, 0, sizeof(*ts));
	if (v4_first < 0xc6120000u || v4_first >= BENCH_V4_END || n4 > (BENCH_V4_END - v4_first) / 2 ||
	    n6 > 0x7fffffffu)
		return -E2BIG;
	ts->v4 = calloc(n4 + 1, sizeof(*ts->v4));
	ts->v6 = calloc(n6 + 1, sizeof(*ts->v6));
	if (!ts->v4 || !ts->v6)
		return -ENOMEM;
	for (i = 0; i < n4; i++) {
		uint32_t a = htonl(v4_first + 2 * (uint32_t)i);

		ts->v4[i].family = AF_INET;
		memcpy(ts->v4[i].lo, &a, 4);
		memcpy(ts->v4[i].hi, &a, 4);
	}
	for (i = 0; i < n6; i++) {
		struct addr_range *r = &ts->v6[i];
		uint32_t k = htonl(2 * (uint32_t)i); /* bits 64..95 */

		r->family = AF_INET6;
		r->lo[0] = 0x20, r->lo[1] = 0x01, r->lo[3] = 0x02;
		r->lo[6] = (uint8_t)(v6_subnet >> 8), r->lo[7] = (uint8_t)v6_subnet;
		memcpy(r->lo + 8, &k, 4);
		memcpy(r->hi, r->lo, 12);
		memset(r->hi + 12, 0xff, 4);
	}
	ts->n_v4 = n4;
	ts->n_v6 = n6;
	return 0;
}

#endif
