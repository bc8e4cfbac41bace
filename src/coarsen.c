// SPDX-License-Identifier: MIT
/* Address ranges held to a budget, and the difference of two range lists
 * (include/coarsen.h). Addresses are big-endian byte strings of 1 to 16
 * bytes: arithmetic byte by byte, no 128-bit integer type needed. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "coarsen.h"

/* a gap's width as a 16-byte big-endian number, whatever the address length */
struct gap {
	uint8_t b[16];
};

/* a += 1 (up) or a -= 1, where the caller knows it does not wrap */
static void addr_step(uint8_t *a, size_t len, bool up)
{
	for (size_t i = len; i-- > 0;) {
		a[i] = (uint8_t)(up ? a[i] + 1 : a[i] - 1);
		if (a[i] != (up ? 0 : 0xff))
			return;
	}
}

/* g = next - prev - 1, with next > prev */
static void gap_of(struct gap *g, const uint8_t *prev, const uint8_t *next, size_t len)
{
	unsigned borrow = 1;

	memset(g, 0, sizeof(*g));
	for (size_t i = len; i-- > 0;) {
		unsigned d = (unsigned)next[i] - prev[i] - borrow;

		g->b[16 - len + i] = (uint8_t)d;
		borrow = d > 0xff;
	}
}

static uint64_t gap_u64(const struct gap *g)
{
	uint64_t v = 0;

	for (size_t i = 0; i < 16; i++) {
		if (v >> 56)
			return UINT64_MAX;
		v = v << 8 | g->b[i];
	}
	return v;
}

static int cmp_gap_desc(const void *a, const void *b)
{
	return -memcmp(((const struct gap *)a)->b, ((const struct gap *)b)->b, 16);
}

int coarsen_ranges(struct addr_range *r, size_t *n, size_t len, size_t budget, uint64_t *added)
{
	struct gap *gaps, t, g;
	size_t i, m, keep_eq;

	*added = 0;
	if (!len || len > 16)
		return -EINVAL;
	if (*n <= budget || *n <= 1)
		return 0;
	gaps = calloc(*n - 1, sizeof(*gaps));
	if (!gaps)
		return -ENOMEM;
	for (i = 0; i + 1 < *n; i++)
		gap_of(&gaps[i], r[i].hi, r[i + 1].lo, len); /* >= 1: disjoint, not adjacent */
	qsort(gaps, *n - 1, sizeof(*gaps), cmp_gap_desc);
	/* keep the gaps wider than t, and keep_eq of those exactly t wide */
	if (budget >= 2) {
		t = gaps[budget - 2];
		for (keep_eq = 0, i = budget - 1; i-- > 0 && !memcmp(gaps[i].b, t.b, 16);)
			keep_eq++;
	} else {
		memset(&t, 0xff, sizeof(t));
		keep_eq = 0;
	}
	free(gaps);
	for (i = 1, m = 0; i < *n; i++) {
		int c;
		bool keep;

		gap_of(&g, r[m].hi, r[i].lo, len);
		c = memcmp(g.b, t.b, 16);
		keep = c > 0;
		if (c == 0 && keep_eq > 0) {
			keep = true;
			keep_eq--;
		}
		if (keep) {
			r[++m] = r[i];
		} else {
			uint64_t a = gap_u64(&g);

			*added = a > UINT64_MAX - *added ? UINT64_MAX : *added + a;
			memcpy(r[m].hi, r[i].hi, len);
		}
	}
	*n = m + 1;
	return 0;
}

static void push(struct addr_range *out, size_t *k, int family, const uint8_t *lo, const uint8_t *hi, size_t len)
{
	struct addr_range *o = &out[(*k)++];

	memset(o, 0, sizeof(*o));
	o->family = family;
	memcpy(o->lo, lo, len);
	memcpy(o->hi, hi, len);
}

int ranges_subtract(const struct addr_range *add, size_t n_add, const struct addr_range *have, size_t n_have,
		    size_t len, struct addr_range **out, size_t *n_out)
{
	struct addr_range *o;
	size_t i, j = 0, k = 0;

	*out = NULL;
	*n_out = 0;
	if (!len || len > 16)
		return -EINVAL;
	if (!n_add)
		return 0;
	/* each have range splits at most one add range in two */
	o = calloc(n_add + n_have, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (i = 0; i < n_add; i++) {
		uint8_t cur[16], end[16];

		memcpy(cur, add[i].lo, len);
		while (j < n_have && memcmp(have[j].hi, cur, len) < 0)
			j++;
		for (;;) {
			if (j == n_have || memcmp(have[j].lo, add[i].hi, len) > 0) {
				push(o, &k, add[i].family, cur, add[i].hi, len);
				break;
			}
			if (memcmp(have[j].lo, cur, len) > 0) {
				memcpy(end, have[j].lo, len);
				addr_step(end, len, false); /* > cur: no wrap */
				push(o, &k, add[i].family, cur, end, len);
			}
			if (memcmp(have[j].hi, add[i].hi, len) >= 0)
				break;
			memcpy(cur, have[j].hi, len);
			addr_step(cur, len, true); /* < add[i].hi: no wrap */
			j++;
		}
	}
	if (!k) {
		free(o);
		return 0;
	}
	*out = o;
	*n_out = k;
	return 0;
}
