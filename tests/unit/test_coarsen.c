/* SPDX-License-Identifier: MIT */
/* Address ranges coarsened to a budget (ctwatch's event filter, the
 * nftables cover sets) and range differences (runtime cover growth). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coarsen.h"

static struct addr_range W(uint32_t lo, uint32_t hi)
{
	struct addr_range r = { .family = AF_INET };
	uint32_t l = htonl(lo), h = htonl(hi);

	memcpy(r.lo, &l, 4);
	memcpy(r.hi, &h, 4);
	return r;
}

static uint32_t lo_of(const struct addr_range *r)
{
	uint32_t v;

	memcpy(&v, r->lo, 4);
	return ntohl(v);
}

static uint32_t hi_of(const struct addr_range *r)
{
	uint32_t v;

	memcpy(&v, r->hi, 4);
	return ntohl(v);
}

static struct addr_range R6(const char *lo, const char *hi)
{
	struct addr_range r = { .family = AF_INET6 };

	cr_assert_eq(inet_pton(AF_INET6, lo, r.lo), 1);
	cr_assert_eq(inet_pton(AF_INET6, hi, r.hi), 1);
	return r;
}

static void expect_w(const struct addr_range *r, uint32_t lo, uint32_t hi)
{
	cr_expect_eq(lo_of(r), lo, "lo %08x, expected %08x", lo_of(r), lo);
	cr_expect_eq(hi_of(r), hi, "hi %08x, expected %08x", hi_of(r), hi);
}

Test(coarsen, under_budget_is_exact)
{
	struct addr_range r[3] = { W(10, 10), W(20, 25), W(100, 200) };
	size_t n = 3;
	uint64_t added = 7;

	cr_assert_eq(coarsen_ranges(r, &n, 4, 3, &added), 0);
	cr_assert_eq(n, 3);
	cr_expect_eq(added, 0);
	expect_w(&r[0], 10, 10);
	expect_w(&r[1], 20, 25);
	expect_w(&r[2], 100, 200);
	cr_assert_eq(coarsen_ranges(r, &n, 4, 16, &added), 0);
	cr_assert_eq(n, 3);
}

/* 2,000 ranges with gaps of pseudo-random widths: at most the budget, a
 * superset of every input range, sorted and disjoint, and `added` is
 * exactly the addresses gained */
Test(coarsen, superset_within_budget)
{
	enum { N = 2000 };
	struct addr_range *in = calloc(N, sizeof(*in)), *r = calloc(N, sizeof(*r));
	uint32_t a = 1000, seed = 12345;
	uint64_t sum_in = 0, sum_out = 0, added;
	size_t n = N, i, k;

	cr_assert(in && r);
	for (i = 0; i < N; i++) {
		uint32_t len, gap;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 50;
		gap = 1 + (seed >> 8) % 1000;
		in[i] = W(a, a + len);
		sum_in += len + 1;
		a += len + 1 + gap;
	}
	memcpy(r, in, N * sizeof(*r));
	cr_assert_eq(coarsen_ranges(r, &n, 4, 16, &added), 0);
	cr_assert_eq(n, 16);
	for (k = 0; k < n; k++) {
		sum_out += (uint64_t)hi_of(&r[k]) - lo_of(&r[k]) + 1;
		if (k)
			cr_assert_gt(lo_of(&r[k]), hi_of(&r[k - 1]) + 1, "sorted, disjoint, not adjacent");
	}
	cr_expect_eq(sum_out - sum_in, added);
	for (i = 0, k = 0; i < N; i++) {
		while (k < n && hi_of(&r[k]) < lo_of(&in[i]))
			k++;
		cr_assert(k < n && lo_of(&r[k]) <= lo_of(&in[i]) && hi_of(&in[i]) <= hi_of(&r[k]),
			  "input range %zu not covered", i);
	}
	free(in);
	free(r);
}

/* the widest gaps are kept; of equal gaps the leftmost */
Test(coarsen, widest_gaps_kept_leftmost_first)
{
	struct addr_range r[5] = { W(0, 0), W(10, 10), W(20, 20), W(1000, 1000), W(1010, 1010) };
	struct addr_range t[4] = { W(0, 0), W(2, 2), W(4, 4), W(6, 6) };
	size_t n = 5;
	uint64_t added;

	cr_assert_eq(coarsen_ranges(r, &n, 4, 2, &added), 0);
	cr_assert_eq(n, 2);
	expect_w(&r[0], 0, 20);
	expect_w(&r[1], 1000, 1010);
	cr_expect_eq(added, 9 + 9 + 9);
	n = 4;
	cr_assert_eq(coarsen_ranges(t, &n, 4, 3, &added), 0);
	cr_assert_eq(n, 3);
	expect_w(&t[0], 0, 0);
	expect_w(&t[1], 2, 2);
	expect_w(&t[2], 4, 6);
	cr_expect_eq(added, 1);
}

Test(coarsen, ipv4_edges)
{
	struct addr_range r[3] = { W(0, 0), W(0x01000000, 0x01000000), W(0xffffffff, 0xffffffff) };
	size_t n = 3;
	uint64_t added;

	cr_assert_eq(coarsen_ranges(r, &n, 4, 2, &added), 0);
	cr_assert_eq(n, 2);
	expect_w(&r[0], 0, 0x01000000);
	expect_w(&r[1], 0xffffffff, 0xffffffff);
	cr_expect_eq(added, 0xffffff);
	/* budget 1, and 0 taken as 1: everything */
	r[0] = W(0, 0), r[1] = W(0x01000000, 0x01000000), r[2] = W(0xffffffff, 0xffffffff);
	n = 3;
	cr_assert_eq(coarsen_ranges(r, &n, 4, 0, &added), 0);
	cr_assert_eq(n, 1);
	expect_w(&r[0], 0, 0xffffffff);
	cr_expect_eq(added, 0xffffffffull - 2);
	cr_expect_eq(coarsen_ranges(r, &n, 0, 1, &added), -EINVAL);
	cr_expect_eq(coarsen_ranges(r, &n, 17, 1, &added), -EINVAL);
}

Test(coarsen, ipv6_edges_and_saturation)
{
	struct addr_range r[3] = { R6("::", "::"), R6("2001:2::", "2001:2::ffff"), R6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") };
	struct addr_range want = R6("::", "2001:2::ffff");
	uint8_t top[16];
	size_t n = 3;
	uint64_t added;

	cr_assert_eq(coarsen_ranges(r, &n, 16, 2, &added), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(memcmp(r[0].lo, want.lo, 16), 0);
	cr_expect_eq(memcmp(r[0].hi, want.hi, 16), 0);
	cr_expect_eq(added, UINT64_MAX, "more than 2^64 addresses: saturated");
	memset(top, 0xff, 16);
	cr_expect_eq(memcmp(r[1].lo, top, 16), 0);
	cr_assert_eq(coarsen_ranges(r, &n, 16, 1, &added), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(memcmp(r[0].hi, top, 16), 0);
	/* small IPv6 gaps are counted exactly */
	r[0] = R6("2001:2::", "2001:2::"), r[1] = R6("2001:2::10", "2001:2::10");
	n = 2;
	cr_assert_eq(coarsen_ranges(r, &n, 16, 1, &added), 0);
	cr_expect_eq(added, 15);
}

Test(coarsen, subtract)
{
	struct addr_range add[3] = { W(10, 20), W(30, 40), W(50, 60) };
	struct addr_range have[4] = { W(0, 12), W(15, 16), W(35, 55), W(60, 60) };
	struct addr_range all = W(0, 0xffffffff), mid = W(1, 1), *out;
	size_t n;

	cr_assert_eq(ranges_subtract(add, 3, have, 4, 4, &out, &n), 0);
	cr_assert_eq(n, 4);
	expect_w(&out[0], 13, 14);
	expect_w(&out[1], 17, 20);
	expect_w(&out[2], 30, 34);
	expect_w(&out[3], 56, 59);
	cr_expect_eq(out[0].family, AF_INET);
	free(out);
	/* nothing left: NULL */
	cr_assert_eq(ranges_subtract(have, 1, &all, 1, 4, &out, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_null(out);
	/* nothing to take away, and the edges of the space */
	cr_assert_eq(ranges_subtract(add, 3, NULL, 0, 4, &out, &n), 0);
	cr_assert_eq(n, 3);
	free(out);
	cr_assert_eq(ranges_subtract(&all, 1, &mid, 1, 4, &out, &n), 0);
	cr_assert_eq(n, 2);
	expect_w(&out[0], 0, 0);
	expect_w(&out[1], 2, 0xffffffff);
	free(out);
}

Test(coarsen, subtract_ipv6_edges)
{
	struct addr_range all = R6("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	struct addr_range have[2] = { R6("::", "::1"), R6("2001:2::", "2001:2::ffff:ffff:ffff:ffff") };
	struct addr_range w0 = R6("::2", "2001:1:ffff:ffff:ffff:ffff:ffff:ffff");
	struct addr_range w1 = R6("2001:2:0:1::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	struct addr_range *out;
	size_t n;

	cr_assert_eq(ranges_subtract(&all, 1, have, 2, 16, &out, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(memcmp(out[0].lo, w0.lo, 16), 0);
	cr_expect_eq(memcmp(out[0].hi, w0.hi, 16), 0);
	cr_expect_eq(memcmp(out[1].lo, w1.lo, 16), 0);
	cr_expect_eq(memcmp(out[1].hi, w1.hi, 16), 0);
	free(out);
}
