/* SPDX-License-Identifier: MIT */
/* What a drill acts on: the target prefixes (literal and resolved) minus the
 * exempt prefixes and the host's own addresses, kept per family as sorted,
 * disjoint, inclusive ranges so that a flow is checked with one binary
 * search.
 *
 * Range arithmetic is done on unsigned 128-bit integers (IPv4 addresses sit
 * in the low 32 bits); the result is stored back in network byte order so
 * that lookups compare with memcmp and never convert. */
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errbuf.h"
#include "targets.h"

typedef unsigned __int128 u128;

struct span {
	u128 lo, hi; /* inclusive */
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static u128 addr_to_u128(int family, const uint8_t *a)
{
	size_t i, n = addr_len(family);
	u128 v = 0;

	for (i = 0; i < n; i++)
		v = v << 8 | a[i];
	return v;
}

static void u128_to_addr(int family, u128 v, uint8_t *a)
{
	size_t i = addr_len(family);

	memset(a, 0, 16);
	while (i-- > 0) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The whole network of a prefix; stray host bits are ignored. */
static struct span prefix_span(const struct prefix *pf)
{
	unsigned bits = family_bits(pf->family);
	unsigned host = bits - (pf->len > bits ? bits : pf->len);
	u128 mask = host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
	u128 a = addr_to_u128(pf->family, pf->addr);
	struct span s = { a & ~mask, a | mask };

	return s;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sort and merge overlapping or adjacent spans in place; returns the new
 * count. */
static size_t spans_normalize(struct span *s, size_t n)
{
	size_t i, out = 0;

	if (n == 0)
		return 0;
	qsort(s, n, sizeof(*s), span_cmp);
	for (i = 1; i < n; i++) {
		/* s[i].lo > s[out].hi >= 0 when the second test runs: no underflow */
		if (s[i].lo <= s[out].hi || s[i].lo - 1 == s[out].hi) {
			if (s[i].hi > s[out].hi)
				s[out].hi = s[i].hi;
		} else {
			s[++out] = s[i];
		}
	}
	return out + 1;
}

/* inc minus exc, both normalized; out must hold ni + ne spans (each
 * exclusion strictly inside an inclusion splits it once). The result is
 * sorted and disjoint, and never adjacent since exclusions are not empty. */
static size_t spans_subtract(const struct span *inc, size_t ni, const struct span *exc, size_t ne,
			     struct span *out)
{
	size_t i, j = 0, k, n = 0;

	for (i = 0; i < ni; i++) {
		u128 lo = inc[i].lo, hi = inc[i].hi;
		bool alive = true;

		while (j < ne && exc[j].hi < lo)
			j++;
		for (k = j; k < ne && exc[k].lo <= hi; k++) {
			if (exc[k].lo > lo)
				out[n++] = (struct span){ lo, exc[k].lo - 1 };
			if (exc[k].hi >= hi) {
				alive = false;
				break;
			}
			lo = exc[k].hi + 1; /* exc[k].hi < hi: cannot wrap */
		}
		if (alive)
			out[n++] = (struct span){ lo, hi };
	}
	return n;
}

static size_t collect_spans(int family, const struct prefix *pf, size_t n, struct span *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (pf[i].family == family)
			out[k++] = prefix_span(&pf[i]);
	return k;
}

static int build_family(int family, const struct target_set *ts, const struct policy *p, const struct prefix *local,
			size_t n_local, struct addr_range **out, size_t *n_out)
{
	size_t n_exc_max = p->n_exempt + n_local;
	struct span *inc = NULL, *exc = NULL, *res = NULL;
	struct addr_range *r = NULL;
	size_t ni, ne, nr, i;
	int ret = 0;

	inc = calloc(ts->n_resolved + 1, sizeof(*inc));
	exc = calloc(n_exc_max + 1, sizeof(*exc));
	res = calloc(ts->n_resolved + n_exc_max + 1, sizeof(*res));
	if (!inc || !exc || !res) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ni = spans_normalize(inc, collect_spans(family, ts->resolved, ts->n_resolved, inc));
	ne = collect_spans(family, p->exempt, p->n_exempt, exc);
	ne += collect_spans(family, local, n_local, exc + ne);
	ne = spans_normalize(exc, ne);
	nr = spans_subtract(inc, ni, exc, ne, res);

	r = calloc(nr + 1, sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nr; i++) {
		r[i].family = family;
		u128_to_addr(family, res[i].lo, r[i].lo);
		u128_to_addr(family, res[i].hi, r[i].hi);
	}
	*out = r;
	*n_out = nr;
	r = NULL;
cleanup:
	free(r);
	free(res);
	free(exc);
	free(inc);
	return ret;
}

int targets_build(struct target_set *ts, const struct policy *p, const struct prefix *local, size_t n_local)
{
	struct addr_range *v4 = NULL, *v6 = NULL;
	size_t n4 = 0, n6 = 0;
	int ret;

	ret = build_family(AF_INET, ts, p, local, n_local, &v4, &n4);
	if (ret < 0)
		goto cleanup;
	ret = build_family(AF_INET6, ts, p, local, n_local, &v6, &n6);
	if (ret < 0)
		goto cleanup;
	free(ts->v4);
	free(ts->v6);
	ts->v4 = v4;
	ts->n_v4 = n4;
	ts->v6 = v6;
	ts->n_v6 = n6;
	v4 = v6 = NULL;
cleanup:
	free(v4);
	free(v6);
	return ret;
}

static bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, addr_len(a->family));
}

/* Append pf to (*arr, *n) unless an equal prefix is already there. */
static int prefix_push_unique(struct prefix **arr, size_t *n, size_t *cap, const struct prefix *pf)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (prefix_equal(&(*arr)[i], pf))
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct prefix *a = realloc(*arr, ncap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *pf;
	return 0;
}

static bool sockaddr_to_prefix(const struct sockaddr *sa, struct prefix *pf)
{
	memset(pf, 0, sizeof(*pf));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		pf->family = AF_INET;
		memcpy(pf->addr, &sin.sin_addr, 4);
		pf->len = 32;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		pf->family = AF_INET6;
		memcpy(pf->addr, &sin6.sin6_addr, 16);
		pf->len = 128;
		return true;
	}
	return false;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

/* Ask for one family at a time: an AF_UNSPEC lookup may stop at the first
 * matching line of /etc/hosts (glibc without "multi on" in host.conf) and
 * miss the other family. A family the name lacks is not an error. */
static int lookup_family(const char *name, int family, struct prefix **found, size_t *n, size_t *cap, int *gai_rc)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	int ret = 0;

	*gai_rc = getaddrinfo(name, NULL, &hints, &res);
	if (*gai_rc != 0)
		return 0;
	for (ai = res; ai && ret == 0; ai = ai->ai_next) {
		struct prefix pf;

		if (sockaddr_to_prefix(ai->ai_addr, &pf))
			ret = prefix_push_unique(found, n, cap, &pf);
	}
	freeaddrinfo(res);
	return ret;
}

int targets_lookup(const char *name, struct prefix **out, size_t *n, int *gai_rc)
{
	struct prefix *found = NULL;
	size_t n_found = 0, cap_found = 0;
	int rc4 = 0, rc6 = 0, ret;

	ret = lookup_family(name, AF_INET, &found, &n_found, &cap_found, &rc4);
	if (ret == 0)
		ret = lookup_family(name, AF_INET6, &found, &n_found, &cap_found, &rc6);
	if (ret < 0) {
		free(found);
		return ret;
	}
	/* the resolver's own words when it had any */
	*gai_rc = rc4 && rc4 != EAI_NODATA && rc4 != EAI_ADDRFAMILY ? rc4 : rc6;
	if (n_found)
		qsort(found, n_found, sizeof(*found), prefix_cmp);
	*out = found;
	*n = n_found;
	return 0;
}

/* The A and AAAA addresses of one name, IPv4 first, each sorted, so that the
 * journaled list does not depend on the resolver's ordering. */
static int resolve_one(const struct policy *p, const struct host_name *h, struct prefix **arr, size_t *n,
		       size_t *cap, char **errors)
{
	struct prefix *found = NULL;
	size_t n_found = 0, i;
	int rc = 0, ret;

	ret = targets_lookup(h->name, &found, &n_found, &rc);
	if (ret < 0)
		goto cleanup;
	if (n_found == 0) {
		const char *why = !rc ? "no IPv4 or IPv6 address" : rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);

		ret = errbuf_append(errors, "%s:%d: cannot resolve '%s': %s\n", p->path ? p->path : "(policy)",
				    h->line, h->name, why);
		if (ret == 0)
			ret = -EINVAL;
		goto cleanup;
	}
	for (i = 0; i < n_found; i++) {
		ret = prefix_push_unique(arr, n, cap, &found[i]);
		if (ret < 0)
			goto cleanup;
	}
cleanup:
	free(found);
	return ret;
}

int targets_resolve(const struct policy *p, struct target_set *ts, char **errors)
{
	size_t cap = ts->n_resolved, i;
	int ret = 0, bad = 0;

	for (i = 0; i < p->n_targets; i++) {
		ret = prefix_push_unique(&ts->resolved, &ts->n_resolved, &cap, &p->targets[i]);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < p->n_hosts; i++) {
		ret = resolve_one(p, &p->hosts[i], &ts->resolved, &ts->n_resolved, &cap, errors);
		if (ret == -EINVAL)
			bad++;
		else if (ret < 0)
			return ret;
	}
	return bad ? -EINVAL : 0;
}

int targets_add(struct target_set *ts, const struct policy *p, const struct prefix *local, size_t n_local,
		const struct prefix *add, size_t n_add, struct target_set *delta)
{
	struct target_set out = { 0 }; /* the new addresses outside the old ranges */
	size_t cap = ts->n_resolved, dcap = 0, ocap = 0, i;
	int ret = 0;

	memset(delta, 0, sizeof(*delta));
	for (i = 0; i < n_add && ret == 0; i++) {
		size_t before = ts->n_resolved;

		ret = prefix_push_unique(&ts->resolved, &ts->n_resolved, &cap, &add[i]);
		if (ret < 0 || ts->n_resolved == before)
			continue;
		ret = prefix_push_unique(&delta->resolved, &delta->n_resolved, &dcap, &add[i]);
		if (ret == 0 && !target_set_contains(ts, add[i].family, add[i].addr))
			ret = prefix_push_unique(&out.resolved, &out.n_resolved, &ocap, &add[i]);
	}
	if (ret == 0 && out.n_resolved)
		ret = targets_build(&out, p, local, n_local);
	if (ret == 0 && out.n_resolved)
		ret = targets_build(ts, p, local, n_local);
	if (ret == 0) {
		delta->v4 = out.v4, delta->n_v4 = out.n_v4;
		delta->v6 = out.v6, delta->n_v6 = out.n_v6;
		out.v4 = out.v6 = NULL;
	} else {
		target_set_free(delta);
	}
	target_set_free(&out);
	return ret;
}

int targets_local_addrs(struct prefix **out, size_t *n)
{
	struct ifaddrs *ifa = NULL, *it;
	struct prefix *arr = NULL;
	size_t cnt = 0, cap = 0;
	int ret = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (it = ifa; it; it = it->ifa_next) {
		struct prefix pf;

		if (!sockaddr_to_prefix(it->ifa_addr, &pf))
			continue;
		ret = prefix_push_unique(&arr, &cnt, &cap, &pf);
		if (ret < 0)
			goto cleanup;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
cleanup:
	freeifaddrs(ifa);
	free(arr);
	return ret;
}

bool target_set_contains(const struct target_set *ts, int family, const void *addr)
{
	const struct addr_range *r;
	size_t n, lo = 0, hi, len;

	if (family == AF_INET) {
		r = ts->v4;
		n = ts->n_v4;
	} else if (family == AF_INET6) {
		r = ts->v6;
		n = ts->n_v6;
	} else {
		return false;
	}
	len = addr_len(family);
	hi = n;
	/* lo ends as the number of ranges starting at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(r[mid].lo, addr, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(addr, r[lo - 1].hi, len) <= 0;
}

static bool port_in(const struct port_range *r, size_t n, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return true;
	return false;
}

/* Ports only mean something for tcp and udp: with protocol any and no
 * port= lines, other protocols (icmp, ...) to a target are in scope and the
 * exempt ports do not apply to them; with port= lines they are not. */
bool target_scope_match(const struct policy *p, const struct target_set *ts, int family, const void *dst,
			uint8_t proto, uint16_t sport, uint16_t dport)
{
	bool ported = proto == IPPROTO_TCP || proto == IPPROTO_UDP;

	switch (p->protocol) {
	case PROTO_TCP:
		if (proto != IPPROTO_TCP)
			return false;
		break;
	case PROTO_UDP:
		if (proto != IPPROTO_UDP)
			return false;
		break;
	case PROTO_ANY:
		if (!ported && p->n_ports)
			return false;
		break;
	}
	if (!target_set_contains(ts, family, dst))
		return false;
	if (!ported)
		return true;
	if (p->n_ports && !port_in(p->ports, p->n_ports, dport))
		return false;
	return !port_in(p->exempt_ports, p->n_exempt_ports, sport) &&
	       !port_in(p->exempt_ports, p->n_exempt_ports, dport);
}

void target_set_free(struct target_set *ts)
{
	if (!ts)
		return;
	free(ts->resolved);
	free(ts->v4);
	free(ts->v6);
	memset(ts, 0, sizeof(*ts));
}
