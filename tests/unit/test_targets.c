/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

/* Test-local parser so this suite does not depend on prefix.c. */
static struct prefix P(const char *s)
{
	struct prefix pf = { 0 };
	char buf[128];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, pf.addr) == 1) {
		pf.family = AF_INET;
		pf.len = 32;
	} else if (inet_pton(AF_INET6, buf, pf.addr) == 1) {
		pf.family = AF_INET6;
		pf.len = 128;
	} else {
		cr_assert_fail("bad test prefix %s", s);
	}
	if (slash)
		pf.len = (uint8_t)strtoul(slash + 1, NULL, 10);
	return pf;
}

static void addr_of(const char *s, int *family, uint8_t *a)
{
	struct prefix pf = P(s);

	*family = pf.family;
	memcpy(a, pf.addr, 16);
}

#define MAXP 16
struct fixture {
	struct policy pol;
	struct prefix targets[MAXP];
	struct prefix exempt[MAXP];
	struct prefix local[MAXP];
	size_t n_local;
	struct port_range ports[MAXP];
	struct port_range exempt_ports[MAXP];
	struct target_set ts;
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->pol.path = (char *)"t.policy";
	f->pol.targets = f->targets;
	f->pol.exempt = f->exempt;
	f->pol.ports = f->ports;
	f->pol.exempt_ports = f->exempt_ports;
	f->pol.protocol = PROTO_TCP;
	f->exempt_ports[0] = (struct port_range){ 22, 22 };
	f->pol.n_exempt_ports = 1;
}

static void add_target(struct fixture *f, const char *s) { f->targets[f->pol.n_targets++] = P(s); }
static void add_exempt(struct fixture *f, const char *s) { f->exempt[f->pol.n_exempt++] = P(s); }
static void add_local(struct fixture *f, const char *s) { f->local[f->n_local++] = P(s); }

static void build(struct fixture *f)
{
	char *errors = NULL;

	cr_assert_eq(targets_resolve(&f->pol, &f->ts, &errors), 0);
	cr_assert_null(errors);
	cr_assert_eq(targets_build(&f->ts, &f->pol, f->local, f->n_local), 0);
}

/* ranges as "lo-hi lo-hi" */
static void fmt_ranges(const struct addr_range *r, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		char lo[INET6_ADDRSTRLEN], hi[INET6_ADDRSTRLEN];

		inet_ntop(r[i].family, r[i].lo, lo, sizeof(lo));
		inet_ntop(r[i].family, r[i].hi, hi, sizeof(hi));
		off += (size_t)snprintf(buf + off, len - off, "%s%s-%s", i ? " " : "", lo, hi);
	}
}

static void expect(const struct fixture *f, int family, const char *want)
{
	char got[4096];

	if (family == AF_INET)
		fmt_ranges(f->ts.v4, f->ts.n_v4, got, sizeof(got));
	else
		fmt_ranges(f->ts.v6, f->ts.n_v6, got, sizeof(got));
	cr_assert_str_eq(got, want);
}

static bool has(const struct fixture *f, const char *a)
{
	uint8_t b[16];
	int fam;

	addr_of(a, &fam, b);
	return target_set_contains(&f->ts, fam, b);
}

static struct fixture fx;

static void setup(void) { fx_init(&fx); }
static void teardown(void) { target_set_free(&fx.ts); }

TestSuite(targets, .init = setup, .fini = teardown);

Test(targets, single_prefix)
{
	add_target(&fx, "198.18.0.0/24");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.0.255");
	expect(&fx, AF_INET6, "");
	cr_assert_eq(fx.ts.n_resolved, 1);
}

Test(targets, exempt_in_the_middle)
{
	add_target(&fx, "198.18.0.0/24");
	add_exempt(&fx, "198.18.0.64/26");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.0.63 198.18.0.128-198.18.0.255");
}

Test(targets, exempt_at_the_edges)
{
	add_target(&fx, "198.18.0.0/24");
	add_exempt(&fx, "198.18.0.255");
	add_exempt(&fx, "198.18.0.0");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.1-198.18.0.254");
}

Test(targets, exempt_overlapping_an_edge)
{
	add_target(&fx, "198.18.1.0/24");
	add_exempt(&fx, "198.18.0.0/24");
	add_exempt(&fx, "198.18.1.0/25");
	add_exempt(&fx, "198.18.2.0/23");
	build(&fx);
	expect(&fx, AF_INET, "198.18.1.128-198.18.1.255");
}

Test(targets, exempt_covering_all)
{
	add_target(&fx, "198.18.0.0/24");
	add_target(&fx, "198.18.5.7");
	add_exempt(&fx, "198.18.0.0/15");
	build(&fx);
	expect(&fx, AF_INET, "");
	cr_assert_not(has(&fx, "198.18.0.1"));
	cr_assert_eq(fx.ts.n_resolved, 2); /* the journal still shows what was asked */
}

Test(targets, exempt_equal_to_target)
{
	add_target(&fx, "198.18.0.2");
	add_exempt(&fx, "198.18.0.2/32");
	build(&fx);
	expect(&fx, AF_INET, "");
}

Test(targets, one_exempt_splits_several_targets)
{
	add_target(&fx, "198.18.4.0/24");
	add_target(&fx, "198.18.0.0/24");
	add_target(&fx, "198.18.2.0/24");
	add_exempt(&fx, "198.18.0.128/25");
	add_exempt(&fx, "198.18.1.0/24");
	add_exempt(&fx, "198.18.2.0/25");
	add_exempt(&fx, "198.18.2.200");
	add_exempt(&fx, "198.18.4.10");
	build(&fx);
	expect(&fx, AF_INET,
	       "198.18.0.0-198.18.0.127 198.18.2.128-198.18.2.199 198.18.2.201-198.18.2.255 "
	       "198.18.4.0-198.18.4.9 198.18.4.11-198.18.4.255");
}

Test(targets, adjacent_and_overlapping_merge)
{
	add_target(&fx, "198.18.0.128/25");
	add_target(&fx, "198.18.0.0/25");
	add_target(&fx, "198.18.1.0");
	add_target(&fx, "198.18.0.5");
	add_target(&fx, "198.18.3.0/24");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.1.0 198.18.3.0-198.18.3.255");
}

Test(targets, duplicates_resolved_once)
{
	add_target(&fx, "198.18.0.2");
	add_target(&fx, "198.18.0.2/32");
	add_target(&fx, "2001:2::2");
	add_target(&fx, "2001:2::2/128");
	build(&fx);
	cr_assert_eq(fx.ts.n_resolved, 2);
}

Test(targets, v6_exempt_in_the_middle)
{
	add_target(&fx, "2001:2::/48");
	add_exempt(&fx, "2001:2::1");
	add_exempt(&fx, "2001:2:0:8000::/49");
	build(&fx);
	/* the /49 is the upper half of the /48 */
	expect(&fx, AF_INET6, "2001:2::-2001:2:: 2001:2::2-2001:2:0:7fff:ffff:ffff:ffff:ffff");
	expect(&fx, AF_INET, "");
}

Test(targets, v6_word_carry)
{
	/* the split crosses a 64-bit boundary */
	add_target(&fx, "2001:2::/63");
	add_exempt(&fx, "2001:2:0:1::/64");
	add_exempt(&fx, "2001:2::ffff:ffff:ffff:ffff");
	build(&fx);
	expect(&fx, AF_INET6, "2001:2::-2001:2::ffff:ffff:ffff:fffe");
}

Test(targets, v6_adjacent_merge_across_64_bits)
{
	add_target(&fx, "2001:2::/64");
	add_target(&fx, "2001:2:0:1::/64");
	build(&fx);
	expect(&fx, AF_INET6, "2001:2::-2001:2:0:1:ffff:ffff:ffff:ffff");
}

Test(targets, families_do_not_mix)
{
	add_target(&fx, "198.18.0.0/24");
	add_target(&fx, "2001:2::/64");
	add_exempt(&fx, "::/0");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.0.255");
	expect(&fx, AF_INET6, "");
}

Test(targets, whole_v4_minus_stuff)
{
	add_target(&fx, "0.0.0.0/0");
	add_exempt(&fx, "10.0.0.0/8");
	add_exempt(&fx, "127.0.0.1");
	add_exempt(&fx, "0.0.0.0");
	build(&fx);
	expect(&fx, AF_INET, "0.0.0.1-9.255.255.255 11.0.0.0-127.0.0.0 127.0.0.2-255.255.255.255");
	cr_assert(has(&fx, "255.255.255.255"));
	cr_assert_not(has(&fx, "0.0.0.0"));
	cr_assert(has(&fx, "0.0.0.1"));
	cr_assert_not(has(&fx, "10.200.0.1"));
	cr_assert(has(&fx, "127.0.0.0"));
	cr_assert_not(has(&fx, "127.0.0.1"));
}

Test(targets, whole_v4_unchanged)
{
	add_target(&fx, "0.0.0.0/0");
	build(&fx);
	expect(&fx, AF_INET, "0.0.0.0-255.255.255.255");
}

Test(targets, top_of_v4)
{
	add_target(&fx, "255.255.255.0/24");
	add_target(&fx, "255.255.254.255");
	add_exempt(&fx, "255.255.255.255");
	build(&fx);
	expect(&fx, AF_INET, "255.255.254.255-255.255.255.254");
	cr_assert_not(has(&fx, "255.255.255.255"));
}

Test(targets, top_of_v4_kept)
{
	add_target(&fx, "255.255.255.255");
	add_target(&fx, "255.255.255.254");
	add_exempt(&fx, "255.255.255.0/31");
	build(&fx);
	expect(&fx, AF_INET, "255.255.255.254-255.255.255.255");
	cr_assert(has(&fx, "255.255.255.255"));
}

Test(targets, top_of_v6)
{
	add_target(&fx, "::/0");
	add_exempt(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	add_exempt(&fx, "::");
	build(&fx);
	expect(&fx, AF_INET6, "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
}

Test(targets, whole_v6_and_top_merge)
{
	add_target(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	add_target(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/125");
	add_target(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff8/126");
	build(&fx);
	expect(&fx, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffb "
			      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	cr_assert(has(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	cr_assert_not(has(&fx, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc"));
}

Test(targets, whole_v6)
{
	add_target(&fx, "::/0");
	build(&fx);
	expect(&fx, AF_INET6, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	cr_assert(has(&fx, "::"));
	cr_assert(has(&fx, "2001:2::1"));
}

Test(targets, local_addresses_removed)
{
	add_target(&fx, "198.18.0.0/24");
	add_target(&fx, "2001:2::/64");
	add_local(&fx, "198.18.0.1");
	add_local(&fx, "2001:2::1");
	add_local(&fx, "127.0.0.1");
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.0.0 198.18.0.2-198.18.0.255");
	expect(&fx, AF_INET6, "2001:2::-2001:2:: 2001:2::2-2001:2::ffff:ffff:ffff:ffff");
}

Test(targets, stray_host_bits_ignored)
{
	struct prefix pf = P("198.18.0.77");

	pf.len = 24; /* not normalized by a parser */
	fx.targets[fx.pol.n_targets++] = pf;
	build(&fx);
	expect(&fx, AF_INET, "198.18.0.0-198.18.0.255");
}

Test(targets, rebuild_replaces)
{
	add_target(&fx, "198.18.0.0/24");
	build(&fx);
	add_exempt(&fx, "198.18.0.0/25");
	cr_assert_eq(targets_build(&fx.ts, &fx.pol, NULL, 0), 0);
	expect(&fx, AF_INET, "198.18.0.128-198.18.0.255");
}

Test(targets, contains_boundaries)
{
	add_target(&fx, "198.18.0.10");
	add_target(&fx, "198.18.0.20/30");
	add_target(&fx, "198.18.1.0/24");
	build(&fx);
	cr_assert_not(has(&fx, "198.18.0.9"));
	cr_assert(has(&fx, "198.18.0.10"));
	cr_assert_not(has(&fx, "198.18.0.11"));
	cr_assert_not(has(&fx, "198.18.0.19"));
	cr_assert(has(&fx, "198.18.0.20"));
	cr_assert(has(&fx, "198.18.0.23"));
	cr_assert_not(has(&fx, "198.18.0.24"));
	cr_assert(has(&fx, "198.18.1.0"));
	cr_assert(has(&fx, "198.18.1.255"));
	cr_assert_not(has(&fx, "198.18.2.0"));
	cr_assert_not(has(&fx, "0.0.0.0"));
	cr_assert_not(has(&fx, "255.255.255.255"));
	cr_assert_not(has(&fx, "::"));
	cr_assert_not(target_set_contains(&fx.ts, AF_UNIX, "\0\0\0\0"));
}

Test(targets, contains_empty_set)
{
	build(&fx);
	cr_assert_not(has(&fx, "198.18.0.1"));
	cr_assert_not(has(&fx, "2001:2::1"));
}

static uint32_t be32(const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4);
	return ntohl(v);
}

/* Random prefixes and exemptions inside a /22, checked address by address
 * against the plain definition. */
Test(targets, randomized_against_naive)
{
	unsigned seed = 12345, round;

	for (round = 0; round < 200; round++) {
		bool in[1024];
		size_t i, j, nt, ne;

		target_set_free(&fx.ts);
		fx_init(&fx);
		nt = 1 + (rand_r(&seed) % 5);
		ne = rand_r(&seed) % 6;
		for (i = 0; i < nt + ne; i++) {
			unsigned len = 22 + (unsigned)(rand_r(&seed) % 11);
			uint32_t off = (uint32_t)(rand_r(&seed) % 1024);
			uint32_t base = 0xc6120000u | (off & ~((1u << (32 - len)) - 1) & 0x3ff);
			struct prefix pf = { .family = AF_INET, .len = (uint8_t)len };
			uint32_t be = htonl(base);

			memcpy(pf.addr, &be, 4);
			if (i < nt)
				fx.targets[fx.pol.n_targets++] = pf;
			else
				fx.exempt[fx.pol.n_exempt++] = pf;
		}
		for (j = 0; j < 1024; j++) {
			bool t = false, e = false;

			for (i = 0; i < fx.pol.n_targets + fx.pol.n_exempt; i++) {
				const struct prefix *pf = i < fx.pol.n_targets ? &fx.targets[i] : &fx.exempt[i - fx.pol.n_targets];
				uint32_t a;
				uint32_t mask = (uint32_t)(0xffffffffull << (32 - pf->len));

				memcpy(&a, pf->addr, 4);
				if (((0xc6120000u | (uint32_t)j) & mask) == (ntohl(a) & mask)) {
					if (i < fx.pol.n_targets)
						t = true;
					else
						e = true;
				}
			}
			in[j] = t && !e;
		}
		build(&fx);
		for (i = 0; i + 1 < fx.ts.n_v4; i++) /* disjoint, sorted, never adjacent */
			cr_assert_lt(be32(fx.ts.v4[i].hi) + 1, be32(fx.ts.v4[i + 1].lo));
		for (j = 0; j < 1024; j++) {
			uint32_t be = htonl(0xc6120000u | (uint32_t)j);

			cr_assert_eq(target_set_contains(&fx.ts, AF_INET, &be), in[j], "round %u addr %zu", round, j);
		}
	}
}

static bool scope(const struct fixture *f, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	uint8_t b[16];
	int fam;

	addr_of(dst, &fam, b);
	return target_scope_match(&f->pol, &f->ts, fam, b, proto, sport, dport);
}

Test(targets, scope_tcp_port)
{
	add_target(&fx, "198.18.0.2");
	add_target(&fx, "2001:2::2");
	fx.ports[fx.pol.n_ports++] = (struct port_range){ 443, 443 };
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.2", IPPROTO_TCP, 40000, 443));
	cr_assert(scope(&fx, "2001:2::2", IPPROTO_TCP, 40000, 443));
	cr_assert_not(scope(&fx, "198.18.0.2", IPPROTO_TCP, 40000, 80));
	cr_assert_not(scope(&fx, "198.18.0.2", IPPROTO_UDP, 40000, 443));
	cr_assert_not(scope(&fx, "198.18.0.3", IPPROTO_TCP, 40000, 443));
	cr_assert_not(scope(&fx, "2001:2::3", IPPROTO_TCP, 40000, 443));
	cr_assert_not(scope(&fx, "198.18.0.2", IPPROTO_ICMP, 0, 0));
	/* the default exempt port 22, as source too */
	cr_assert_not(scope(&fx, "198.18.0.2", IPPROTO_TCP, 22, 443));
}

Test(targets, scope_all_ports_minus_exempt)
{
	add_target(&fx, "198.18.0.0/24");
	fx.exempt_ports[1] = (struct port_range){ 8000, 8099 };
	fx.pol.n_exempt_ports = 2;
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_TCP, 40000, 1));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_TCP, 40000, 65535));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_TCP, 40000, 22));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_TCP, 40000, 8000));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_TCP, 8099, 443));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_TCP, 8100, 443));
}

Test(targets, scope_no_exempt_ports)
{
	add_target(&fx, "198.18.0.0/24");
	fx.pol.n_exempt_ports = 0; /* exempt_port = none */
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_TCP, 40000, 22));
}

Test(targets, scope_port_ranges_and_lists)
{
	add_target(&fx, "198.18.0.0/24");
	fx.ports[fx.pol.n_ports++] = (struct port_range){ 80, 80 };
	fx.ports[fx.pol.n_ports++] = (struct port_range){ 8443, 8450 };
	fx.pol.protocol = PROTO_UDP;
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 80));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 8443));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 8450));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 8451));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 8442));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_TCP, 5000, 80));
}

Test(targets, scope_any_with_ports_only_tcp_udp)
{
	add_target(&fx, "198.18.0.0/24");
	fx.ports[fx.pol.n_ports++] = (struct port_range){ 443, 443 };
	fx.pol.protocol = PROTO_ANY;
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_TCP, 5000, 443));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 443));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_SCTP, 5000, 443));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_ICMP, 0, 0));
}

Test(targets, scope_any_without_ports)
{
	add_target(&fx, "198.18.0.0/24");
	add_target(&fx, "2001:2::/64");
	fx.pol.protocol = PROTO_ANY;
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_ICMP, 0, 0));
	cr_assert(scope(&fx, "2001:2::9", IPPROTO_ICMPV6, 0, 0));
	cr_assert(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 53));
	cr_assert_not(scope(&fx, "198.18.0.9", IPPROTO_UDP, 5000, 22));
	cr_assert_not(scope(&fx, "198.18.1.9", IPPROTO_ICMP, 0, 0));
}

Test(targets, scope_exempt_address)
{
	add_target(&fx, "198.18.0.0/24");
	add_exempt(&fx, "198.18.0.4");
	build(&fx);
	cr_assert(scope(&fx, "198.18.0.3", IPPROTO_TCP, 5000, 443));
	cr_assert_not(scope(&fx, "198.18.0.4", IPPROTO_TCP, 5000, 443));
}

Test(targets, resolve_localhost)
{
	struct host_name h = { (char *)"localhost", 3 };
	char *errors = NULL;

	add_target(&fx, "127.0.0.1");
	fx.pol.hosts = &h;
	fx.pol.n_hosts = 1;
	cr_assert_eq(targets_resolve(&fx.pol, &fx.ts, &errors), 0);
	cr_assert_null(errors);
	/* 127.0.0.1 from the name is deduplicated against the literal */
	cr_assert_geq(fx.ts.n_resolved, 1);
	cr_assert_eq(fx.ts.resolved[0].family, AF_INET);
	for (size_t i = 1; i < fx.ts.n_resolved; i++)
		cr_assert_neq(fx.ts.resolved[i].family, AF_INET, "127.0.0.1 twice");
}

Test(targets, resolve_failure_message)
{
	struct host_name h[2] = { { (char *)"no-such-host.invalid", 7 }, { (char *)"also-not.invalid", 9 } };
	char *errors = (char *)malloc(8);

	cr_assert_not_null(errors);
	strcpy(errors, "prior\n"); /* appended to, not replaced */
	fx.pol.hosts = h;
	fx.pol.n_hosts = 2;
	cr_assert_eq(targets_resolve(&fx.pol, &fx.ts, &errors), -EINVAL);
	cr_assert_not_null(errors);
	cr_assert(strncmp(errors, "prior\nt.policy:7: cannot resolve 'no-such-host.invalid': ", 57) == 0, "%s",
		  errors);
	cr_assert_not_null(strstr(errors, "\nt.policy:9: cannot resolve 'also-not.invalid': "), "%s", errors);
	cr_assert_eq(errors[strlen(errors) - 1], '\n');
	free(errors);
}

Test(targets, local_addrs_have_loopback)
{
	struct prefix *local = NULL;
	size_t n = 0, i;
	bool lo = false;

	cr_assert_eq(targets_local_addrs(&local, &n), 0);
	for (i = 0; i < n; i++) {
		cr_assert(local[i].len == (local[i].family == AF_INET ? 32 : 128));
		if (local[i].family == AF_INET && !memcmp(local[i].addr, "\x7f\0\0\x01", 4))
			lo = true;
	}
	cr_assert(lo, "127.0.0.1 not among %zu local addresses", n);
	free(local);
}

Test(targets, free_accepts_null_and_zeroed)
{
	struct target_set z = { 0 };

	target_set_free(NULL);
	target_set_free(&z);
	target_set_free(&z);
}

/* resolve_every: addresses a name resolves to later */
Test(targets, add_new_addresses)
{
	struct prefix add[] = { P("198.18.0.2/32"), P("198.18.0.3/32"), P("198.18.1.7/32"), P("198.18.0.9/32"),
				P("2001:2::5/128") };
	struct target_set delta;
	char got[256];

	add_target(&fx, "198.18.0.2/32");
	add_target(&fx, "198.18.2.0/24");
	add_exempt(&fx, "198.18.0.9/32");
	add_local(&fx, "198.18.1.7/32");
	build(&fx);
	cr_assert_eq(targets_add(&fx.ts, &fx.pol, fx.local, fx.n_local, add, 5, &delta), 0);
	/* .2 was a target already; the others are new to the drill */
	cr_expect_eq(delta.n_resolved, 4);
	/* exempt and local addresses are journaled but never in a range */
	fmt_ranges(delta.v4, delta.n_v4, got, sizeof(got));
	cr_expect_str_eq(got, "198.18.0.3-198.18.0.3");
	fmt_ranges(delta.v6, delta.n_v6, got, sizeof(got));
	cr_expect_str_eq(got, "2001:2::5-2001:2::5");
	/* the live view grew, nothing was removed */
	expect(&fx, AF_INET, "198.18.0.2-198.18.0.3 198.18.2.0-198.18.2.255");
	cr_expect(has(&fx, "2001:2::5"));
	cr_expect_eq(fx.ts.n_resolved, 6);
	target_set_free(&delta);
}

Test(targets, add_nothing_new)
{
	struct prefix add[] = { P("198.18.2.7/32"), P("198.18.0.2/32") };
	struct target_set delta;

	add_target(&fx, "198.18.0.2/32");
	add_target(&fx, "198.18.2.0/24");
	build(&fx);
	cr_assert_eq(targets_add(&fx.ts, &fx.pol, NULL, 0, add, 2, &delta), 0);
	/* .2.7 is new to the list (journaled) but inside a range: no element */
	cr_expect_eq(delta.n_resolved, 1);
	cr_expect_eq(delta.n_v4 + delta.n_v6, 0);
	target_set_free(&delta);
	cr_assert_eq(targets_add(&fx.ts, &fx.pol, NULL, 0, add, 2, &delta), 0);
	cr_expect_eq(delta.n_resolved, 0, "the same answer twice adds nothing");
	target_set_free(&delta);
}
