/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 networks: parsing, formatting, containment, coverage. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

int prefix_max_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool prefix_has_host_bits(const struct prefix *p)
{
	int max = prefix_max_len(p->family), i;

	for (i = p->len; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

static void prefix_clear_host_bits(struct prefix *p)
{
	int max = prefix_max_len(p->family), i;

	for (i = p->len; i < max; i++)
		p->addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static bool parse_len(const char *s, int max, uint8_t *len)
{
	int n = 0, digits = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 3)
			return false;
		n = n * 10 + (*s - '0');
	}
	if (*s != '\0' || !digits || n > max)
		return false;
	*len = (uint8_t)n;
	return true;
}

enum prefix_err prefix_parse(const char *s, struct prefix *p, struct prefix *suggest)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(addr))
		return PREFIX_BAD_ADDR;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return PREFIX_BAD_ADDR;
	p->len = (uint8_t)prefix_max_len(p->family);
	if (slash && !parse_len(slash + 1, prefix_max_len(p->family), &p->len))
		return PREFIX_BAD_LEN;
	if (prefix_has_host_bits(p)) {
		if (suggest) {
			*suggest = *p;
			prefix_clear_host_bits(suggest);
		}
		return PREFIX_HOST_BITS;
	}
	return PREFIX_OK;
}

char *prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr))) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (p->len == prefix_max_len(p->family))
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, "%s/%u", addr, p->len);
	return buf;
}

bool prefix_contains(const struct prefix *net, const struct prefix *inner)
{
	int i;

	if (net->family != inner->family || net->len > inner->len)
		return false;
	for (i = 0; i < net->len / 8; i++)
		if (net->addr[i] != inner->addr[i])
			return false;
	if (net->len % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - net->len % 8));
		if ((net->addr[i] ^ inner->addr[i]) & mask)
			return false;
	}
	return true;
}

/* A prefix as the closed range [lo, hi] of 16-byte big-endian numbers
 * (memcmp orders them; IPv4 uses the first 4 bytes, the rest zero). */
struct span {
	uint8_t lo[16], hi[16];
};

static void span_of(const struct prefix *p, struct span *s)
{
	int bits = prefix_max_len(p->family);

	memcpy(s->lo, p->addr, 16);
	memcpy(s->hi, p->addr, 16);
	for (int b = p->len; b < bits; b++)
		s->hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

static int span_cmp(const void *a, const void *b)
{
	return memcmp(((const struct span *)a)->lo, ((const struct span *)b)->lo, 16);
}

/* n + 1 in place (never the family's last address: the caller stops
 * there) */
static void span_next(uint8_t n[16], int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		if (++n[i] != 0)
			return;
}

int prefix_union_covers(const struct prefix *t, const struct prefix *e, size_t n)
{
	struct span *sp = calloc(n ? n : 1, sizeof(*sp)), want;
	uint8_t cur[16];
	size_t m = 0;
	int covered = 0;

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (e[i].family == t->family)
			span_of(&e[i], &sp[m++]);
	qsort(sp, m, sizeof(*sp), span_cmp);
	span_of(t, &want);
	memcpy(cur, want.lo, 16);
	/* walk the sorted ranges from the target's first address: a gap
	 * before its last one means some of it is not exempt */
	for (size_t i = 0; i < m && memcmp(sp[i].lo, cur, 16) <= 0; i++) {
		if (memcmp(sp[i].hi, cur, 16) < 0)
			continue;
		if (memcmp(sp[i].hi, want.hi, 16) >= 0) {
			covered = 1;
			break;
		}
		memcpy(cur, sp[i].hi, 16);
		span_next(cur, t->family == AF_INET ? 4 : 16);
	}
	free(sp);
	return covered;
}

