/* SPDX-License-Identifier: MIT */
/* The dns fault: the wire-name encoder, and its rules built into a batch
 * and parsed back with libnftnl (no kernel needed): the question name is
 * compared in chunks of at most 16 bytes from the inner header, after the
 * 12-byte DNS header (UDP) or the 2-byte length and the header (TCP); the
 * dry-run text says the same. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "dnsname.h"
#include "nfnl.h"
#include "nft.h"

/* ---- wire names ---- */

/* arrays, not pointers: Criterion copies the parameters into the test's
 * own process */
struct wire_case {
	char name[16];
	int ret;
	char wire[16]; /* bytes, when ret > 0 */
};

static struct wire_case wire_cases[] = {
	{ "www.okx.com", 13, "\003www\003okx\003com" },
	{ "WWW.OKX.Com.", 13, "\003www\003okx\003com" },
	{ "a", 3, "\001a" },
	{ "x-1.b2", 8, "\003x-1\002b2" },
	{ "", -EINVAL, "" },
	{ ".", -EINVAL, "" },
	{ "a..b", -EINVAL, "" },
	{ ".a", -EINVAL, "" },
	{ "a.b..", -EINVAL, "" },
};

ParameterizedTestParameters(dnsname, wire)
{
	return cr_make_param_array(struct wire_case, wire_cases, sizeof(wire_cases) / sizeof(wire_cases[0]));
}

ParameterizedTest(struct wire_case *c, dnsname, wire)
{
	uint8_t out[DNS_WIRE_MAX];
	int ret = dns_wire_name(c->name, out, sizeof(out));

	cr_assert_eq(ret, c->ret, "'%s': %d, want %d", c->name, ret, c->ret);
	if (ret > 0) {
		cr_expect_eq(memcmp(out, c->wire, (size_t)ret - 1), 0, "'%s' bytes", c->name);
		cr_expect_eq(out[ret - 1], 0, "'%s' ends with the root", c->name);
	}
}

static void make_name(char *buf, size_t label, size_t labels)
{
	size_t i, k = 0;

	for (i = 0; i < labels; i++) {
		if (i)
			buf[k++] = '.';
		memset(buf + k, 'a' + (int)(i % 26), label);
		k += label;
	}
	buf[k] = '\0';
}

Test(dnsname, limits)
{
	char name[400];
	uint8_t out[DNS_WIRE_MAX];

	make_name(name, 63, 1);
	cr_expect_eq(dns_wire_name(name, out, sizeof(out)), 65);
	make_name(name, 64, 1);
	cr_expect_eq(dns_wire_name(name, out, sizeof(out)), -EINVAL, "a 64-byte label");
	/* 4 labels of 62 and one of 1: 253 characters, 255 bytes */
	make_name(name, 62, 4);
	strcat(name, ".z");
	cr_assert_eq(strlen(name), 253);
	cr_expect_eq(dns_wire_name(name, out, sizeof(out)), 255);
	strcat(name, ".");
	cr_expect_eq(dns_wire_name(name, out, sizeof(out)), 255, "a trailing dot changes nothing");
	name[252] = 'z';
	strcpy(name + 253, "z");
	cr_expect_eq(dns_wire_name(name, out, sizeof(out)), -EINVAL, "254 characters");
	cr_expect_eq(dns_wire_name("www.okx.com", out, 12), -ENOSPC);
	cr_expect_eq(dns_wire_name("www.okx.com", out, 13), 13);
}

Test(dnsname, matched)
{
	char out[16];

	cr_expect_eq(dns_name_matched("WWW.Okx.COM.", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "www.okx.com");
	cr_expect_eq(dns_name_matched("www.okx.com", out, 11), -ENOSPC);
	cr_expect_str_eq(out, "");
	cr_expect_eq(dns_name_matched(".", out, sizeof(out)), -EINVAL);
}

/* ---- rules ---- */

struct dns_fixture {
	struct policy p;
	struct target_set ts;
	struct addr_range v4[1];
	struct host_name hosts[2];
	struct fault faults[3];
	char names[2][300];
};

static void fixture(struct dns_fixture *x, const char *name0, const char *name1, enum dns_mode mode)
{
	memset(x, 0, sizeof(*x));
	x->v4[0].family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, "198.18.7.7", x->v4[0].lo), 1);
	memcpy(x->v4[0].hi, x->v4[0].lo, 4);
	x->ts.v4 = x->v4;
	x->ts.n_v4 = 1;
	snprintf(x->names[0], sizeof(x->names[0]), "%s", name0);
	x->hosts[0] = (struct host_name){ x->names[0], 2 };
	x->p.n_hosts = 1;
	if (name1) {
		snprintf(x->names[1], sizeof(x->names[1]), "%s", name1);
		x->hosts[1] = (struct host_name){ x->names[1], 3 };
		x->p.n_hosts = 2;
	}
	x->p.hosts = x->hosts;
	x->faults[0] = (struct fault){ .action = ACT_PAUSE, .duration_ms = 1000, .line = 4 };
	x->faults[1] = (struct fault){ .action = ACT_DNS, .duration_ms = 1000, .mode = mode, .line = 5 };
	snprintf(x->p.name, sizeof(x->p.name), "dns");
	x->p.protocol = PROTO_TCP;
	x->p.direction = DIR_BOTH;
	x->p.faults = x->faults;
	x->p.n_faults = 2;
}

/* One dns rule parsed back: its protocol and port, switch, the payload
 * chunks reassembled, counter and verdict. */
struct dns_rule {
	char chain[32];
	uint8_t l4proto;
	uint16_t dport, sport;
	char set[32], counter[32];
	uint32_t first_off; /* inner-header offset of the first chunk */
	uint8_t name[512];
	size_t len, chunks, max_chunk;
	bool contiguous;
	const char *verdict; /* "drop", "reject", "other" */
	uint32_t reject_type;
	/* parser state */
	uint32_t base, off, plen;
	bool meta_l4;
};

static int dns_expr_cb(struct nftnl_expr *e, void *data)
{
	struct dns_rule *r = data;
	const char *n = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const uint8_t *d;
	uint32_t len;

	if (strcmp(n, "cmp") != 0 && strcmp(n, "payload") != 0)
		r->base = ~0u; /* a cmp compares what a payload just loaded */
	if (!strcmp(n, "meta")) {
		r->meta_l4 = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO;
	} else if (!strcmp(n, "payload")) {
		r->base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
		r->off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
		r->plen = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	} else if (!strcmp(n, "cmp")) {
		d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
		if (r->meta_l4) {
			r->l4proto = d[0];
			r->meta_l4 = false;
		} else if (r->base == NFT_PAYLOAD_TRANSPORT_HEADER && len == 2) {
			uint16_t *port = r->off ? &r->dport : &r->sport;

			memcpy(port, d, 2);
			*port = ntohs(*port);
		} else if (r->base == NFT_PAYLOAD_INNER_HEADER) {
			cr_assert_eq(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), NFT_CMP_EQ);
			cr_assert_eq(len, r->plen, "cmp and payload lengths agree");
			if (!r->chunks)
				r->first_off = r->off;
			else if (r->off != r->first_off + r->len)
				r->contiguous = false;
			memcpy(r->name + r->len, d, len);
			r->len += len;
			r->chunks++;
			if (len > r->max_chunk)
				r->max_chunk = len;
		}
	} else if (!strcmp(n, "lookup")) {
		snprintf(r->set, sizeof(r->set), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		r->meta_l4 = false;
	} else if (!strcmp(n, "objref")) {
		snprintf(r->counter, sizeof(r->counter), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME));
	} else if (!strcmp(n, "immediate")) {
		r->verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_DROP ? "drop" : "other";
	} else if (!strcmp(n, "reject")) {
		r->verdict = "reject";
		r->reject_type = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);
	}
	return 0;
}

/* the rules with a port-53 match (either port), in order */
static size_t dns_rules(const struct nfnl_batch *b, struct dns_rule *out, size_t max)
{
	const struct nlmsghdr *nlh = (const void *)b->buf;
	int len = (int)b->len;
	size_t n = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nftnl_rule *r;
		struct dns_rule d = { .contiguous = true };

		if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
			continue;
		r = nftnl_rule_alloc();
		cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
		cr_assert_eq(nftnl_expr_foreach(r, dns_expr_cb, &d), 0);
		snprintf(d.chain, sizeof(d.chain), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
		nftnl_rule_free(r);
		if (d.dport != 53 && d.sport != 53)
			continue;
		cr_assert(n < max);
		out[n++] = d;
	}
	return n;
}

static void check_rule(const struct dns_rule *r, const char *chain, bool tcp, bool reply, const char *name,
		       enum dns_mode mode)
{
	uint8_t wire[DNS_WIRE_MAX];
	int wl = dns_wire_name(name, wire, sizeof(wire));

	cr_assert_gt(wl, 0);
	cr_expect_str_eq(r->chain, chain);
	cr_expect_eq(r->l4proto, tcp ? IPPROTO_TCP : IPPROTO_UDP);
	cr_expect_eq(reply ? r->sport : r->dport, 53, "%s: %s port 53", name, reply ? "source" : "destination");
	cr_expect_str_eq(r->set, "on1");
	cr_expect_str_eq(r->counter, "f1");
	cr_expect_eq(r->first_off, tcp ? 14u : 12u, "%s: the name's offset", name);
	cr_expect(r->contiguous, "%s: chunks follow each other", name);
	cr_expect_eq(r->len, (size_t)wl, "%s: %zu bytes compared, want %d", name, r->len, wl);
	cr_expect_eq(memcmp(r->name, wire, (size_t)wl), 0, "%s: the wire name", name);
	cr_expect_eq(r->chunks, ((size_t)wl + 15) / 16, "%s: %zu chunks", name, r->chunks);
	cr_expect_leq(r->max_chunk, 16u, "the kernel's cmp takes at most 16 bytes");
	if (mode == DNS_DROP) {
		cr_expect_str_eq(r->verdict, "drop");
	} else {
		cr_expect_str_eq(r->verdict, "reject");
		cr_expect_eq(r->reject_type, tcp ? (uint32_t)NFT_REJECT_TCP_RST : (uint32_t)NFT_REJECT_ICMPX_UNREACH);
	}
}

/* Where the rules go (plan_dns in src/nft_plan.c): refuse in output and
 * forward; drop silently, so UDP queries of this host where a local
 * resolver receives them and remote answers in input, TCP in output. */
struct where {
	const char *chain;
	bool tcp, reply;
};

static const struct where refuse_rules[] = {
	{ "output", false, false }, { "output", true, false }, { "forward", false, false }, { "forward", true, false },
};
static const struct where drop_rules[] = {
	{ "output", true, false }, { "input", false, false }, { "input", false, true },
	{ "forward", false, false }, { "forward", true, false },
};

static void check_install(const char *name0, const char *name1, enum dns_mode mode)
{
	const char *names[2] = { name0, name1 };
	const struct where *w = mode == DNS_DROP ? drop_rules : refuse_rules;
	size_t per = mode == DNS_DROP ? 5 : 4, nn = name1 ? 2 : 1, n, i = 0, k, c, first;
	struct dns_rule r[16];
	struct dns_fixture x;
	struct nfnl_batch b;

	fixture(&x, name0, name1, mode);
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_install(&b, &x.p, &x.ts, NULL), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	n = dns_rules(&b, r, 16);
	cr_assert_eq(n, per * nn, "%zu rules, want %zu per name", n, per);
	/* chain by chain, and in a chain name by name */
	for (c = 0; c < per; c = first) {
		for (first = c; first < per && !strcmp(w[first].chain, w[c].chain); first++)
			;
		for (k = 0; k < nn; k++)
			for (size_t j = c; j < first; j++, i++)
				check_rule(&r[i], w[j].chain, w[j].tcp, w[j].reply, names[k], mode);
	}
	nfnl_batch_free(&b);
}

Test(dns, install_short_name)
{
	check_install("www.okx.com", NULL, DNS_REFUSE);
}

Test(dns, install_chunked_names_drop)
{
	char longest[300];

	make_name(longest, 62, 4);
	strcat(longest, ".z");
	/* 16 bytes exactly, 17 (one byte over), and 255 (sixteen chunks) */
	check_install("abcdefghijk.io", "ABCDEFGHIJKL.io", DNS_DROP);
	check_install(longest, "okx.com", DNS_REFUSE);
}

Test(dns, needs_target_host)
{
	struct dns_fixture x;
	struct nfnl_batch b;

	fixture(&x, "www.okx.com", NULL, DNS_REFUSE);
	x.p.n_hosts = 0;
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_install(&b, &x.p, &x.ts, NULL), -EINVAL);
	nfnl_batch_free(&b);
}

static char *render(const struct dns_fixture *x)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	nft_render(f, &x->p, &x->ts, NULL);
	cr_assert_eq(fclose(f), 0);
	return text;
}

Test(dns, render_matches_the_plan)
{
	struct dns_fixture x;
	char *t, *out, *fwd, *eg;

	fixture(&x, "www.OKX.com", "abcdefghijklm.io", DNS_REFUSE);
	t = render(&x);
	out = strstr(t, "\tchain output {");
	fwd = strstr(t, "\tchain forward {");
	eg = strstr(t, "\tchain egress {");
	cr_assert(out && fwd && eg && out < fwd && fwd < eg);
	cr_expect_not_null(strstr(out, "\t\tudp dport 53 meta nfproto @on1 "
				       "@ih,96,104 0x3777777036f6b7803636f6d00 counter name \"f1\" "
				       "reject with icmpx port-unreachable\n"));
	cr_expect_not_null(strstr(out, "\t\ttcp dport 53 meta nfproto @on1 "
				       "@ih,112,104 0x3777777036f6b7803636f6d00 counter name \"f1\" "
				       "reject with tcp reset\n"));
	/* 18 bytes: 16 and 2 */
	cr_expect_not_null(strstr(fwd, "\t\tudp dport 53 meta nfproto @on1 "
				       "@ih,96,128 0xd6162636465666768696a6b6c6d0269 @ih,224,16 0x6f00 "),
			   "%s", t);
	cr_expect_null(strstr(eg, "dport 53"), "no dns rule behind the target jumps");
	cr_expect_not_null(strstr(t, "\tset on1 {"));
	cr_expect_not_null(strstr(t, "\tcounter f1 {"));
	free(t);
}

Test(dns, render_drop_and_a_zero_chunk)
{
	struct dns_fixture x;
	char *t, *in;

	/* 17 bytes: the second chunk is the root's zero byte alone */
	fixture(&x, "abcdefghijkl.io", NULL, DNS_DROP);
	t = render(&x);
	in = strstr(t, "\tchain input {");
	cr_assert_not_null(in, "%s", t);
	cr_expect_not_null(strstr(in, "\t\tudp sport 53 meta nfproto @on1 "
				      "@ih,96,128 0xc6162636465666768696a6b6c02696f @ih,224,8 0x0 counter name \"f1\" drop\n"),
			   "%s", t);
	*in = '\0'; /* what comes before: the output chain */
	cr_expect_null(strstr(t, "udp dport 53"), "no UDP drop in output: %s", t);
	cr_expect_not_null(strstr(t, "tcp dport 53"));
	free(t);
}
