/* SPDX-License-Identifier: MIT */
/* The nftables engine's encoders, built into a batch buffer and parsed back
 * with libnftnl (no kernel needed); the batch bookkeeping; the dry-run text. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nfnl.h"
#include "nft.h"
#include "scope.h"

/* ---- fixtures ---- */

static struct addr_range R(const char *lo, const char *hi)
{
	struct addr_range r = { 0 };

	r.family = strchr(lo, ':') ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(r.family, lo, r.lo), 1);
	cr_assert_eq(inet_pton(r.family, hi, r.hi), 1);
	return r;
}

static struct fault F(enum fault_action a)
{
	struct fault f = { .action = a, .duration_ms = 1000, .line = 1 };

	return f;
}

struct fixture {
	struct policy p;
	struct target_set ts;
	struct addr_range v4[4], v6[2];
	struct port_range ports[4], xports[2];
	struct fault faults[8];
};

/* protocol tcp, port 443, exempt port 22, egress, drop + loss 12.5 % */
static void fixture_basic(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->v4[0] = R("198.18.0.2", "198.18.0.2");
	x->v4[1] = R("198.18.1.0", "198.18.1.255");
	x->v6[0] = R("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff");
	x->ts.v4 = x->v4;
	x->ts.n_v4 = 2;
	x->ts.v6 = x->v6;
	x->ts.n_v6 = 1;
	x->ports[0] = (struct port_range){ 443, 443 };
	x->xports[0] = (struct port_range){ 22, 22 };
	x->faults[0] = F(ACT_DROP);
	x->faults[1] = F(ACT_LOSS);
	x->faults[1].percent = 12500;
	snprintf(x->p.name, sizeof(x->p.name), "unit");
	x->p.protocol = PROTO_TCP;
	x->p.direction = DIR_EGRESS;
	x->p.ports = x->ports;
	x->p.n_ports = 1;
	x->p.exempt_ports = x->xports;
	x->p.n_exempt_ports = 1;
	x->p.faults = x->faults;
	x->p.n_faults = 2;
}

/* direction both, protocol udp, no ports; drop, pause, reject, loss, delay */
static void fixture_all(struct fixture *x)
{
	fixture_basic(x);
	x->p.protocol = PROTO_UDP;
	x->p.direction = DIR_BOTH;
	x->p.n_ports = 0;
	x->faults[0] = F(ACT_DROP);
	x->faults[1] = F(ACT_PAUSE);
	x->faults[2] = F(ACT_REJECT);
	x->faults[2].with = REJ_ICMP_ADMIN;
	x->faults[3] = F(ACT_LOSS);
	x->faults[3].percent = 30000;
	x->faults[4] = F(ACT_DELAY);
	x->faults[4].latency_ms = 100;
	x->p.n_faults = 5;
}

static const uint32_t prio_all[5] = { 0, 0, 0, 0, 0xfa170005u };

/* ---- batch walking ---- */

struct msgs {
	const struct nlmsghdr *m[4096];
	size_t n;
};

/* the messages between BEGIN and END; checks the envelope and sequence */
static void walk(const struct nfnl_batch *b, struct msgs *out)
{
	const struct nlmsghdr *nlh = (const void *)b->buf; /* malloc: aligned */
	int len = (int)b->len;
	uint32_t seq = b->begin_seq;

	out->n = 0;
	cr_assert(b->ended);
	cr_assert(mnl_nlmsg_ok(nlh, len));
	cr_assert_eq(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	for (nlh = mnl_nlmsg_next(nlh, &len); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		cr_assert_eq(nlh->nlmsg_seq, ++seq, "sequence numbers are consecutive");
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			break;
		cr_assert_eq(nlh->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
		cr_assert(nlh->nlmsg_flags & NLM_F_ACK, "every message asks for an ack");
		cr_assert(out->n < 4096);
		out->m[out->n++] = nlh;
	}
	cr_assert(mnl_nlmsg_ok(nlh, len), "batch ends with BATCH_END");
	cr_assert_eq(nlh->nlmsg_type, NFNL_MSG_BATCH_END);
	cr_assert_eq(len - (int)MNL_ALIGN(nlh->nlmsg_len), 0, "nothing after BATCH_END");
	cr_assert_eq(out->n, b->n_msgs);
}

static int mtype(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type & 0xff;
}

static void build_install(struct nfnl_batch *b, struct fixture *x, const uint32_t *prio)
{
	cr_assert_eq(nfnl_batch_init(b, 1000), 0);
	cr_assert_eq(nft_build_install(b, &x->p, &x->ts, prio), 0);
	cr_assert_eq(nfnl_batch_end(b), 0);
}

struct elem_list {
	uint8_t key[64][16];
	uint32_t klen[64];
	uint32_t flags[64];
	uint64_t timeout[64];
	size_t n;
	size_t total;
};

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_list *l = data;
	uint32_t len = 0;
	const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	if (l->n < 64) {
		memcpy(l->key[l->n], k, len);
		l->klen[l->n] = len;
		l->flags[l->n] = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
		l->timeout[l->n] = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT) ? nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT) : 0;
		l->n++;
	}
	l->total++;
	return 0;
}

/* libnftnl numbers the element nests 1, 2, 3... when building (the kernel
 * ignores the nest type) but its parser wants NFTA_LIST_ELEM in each:
 * parse a copy with the types normalized. */
static int parse_elems_msg(const struct nlmsghdr *nlh, struct nftnl_set *s)
{
	struct nlmsghdr *copy = malloc(nlh->nlmsg_len);
	struct nlattr *a, *e;
	int ret;

	cr_assert_not_null(copy);
	memcpy(copy, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(a, copy, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
			e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	}
	ret = nftnl_set_elems_nlmsg_parse(copy, s);
	free(copy);
	return ret;
}

/* parse every element message for set `name`, accumulate into l */
static size_t parse_elems(const struct msgs *ms, int type, const char *name, struct elem_list *l)
{
	size_t i, n_msgs = 0;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < ms->n; i++) {
		struct nftnl_set *s;

		if (mtype(ms->m[i]) != type)
			continue;
		s = nftnl_set_alloc();
		cr_assert_not_null(s);
		cr_assert_eq(parse_elems_msg(ms->m[i], s), 0);
		if (!strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name)) {
			cr_assert_str_eq(nftnl_set_get_str(s, NFTNL_SET_TABLE), NFT_TABLE_NAME);
			cr_assert_eq(nftnl_set_elem_foreach(s, elem_cb, l), 0);
			n_msgs++;
		}
		nftnl_set_free(s);
	}
	return n_msgs;
}

static void expect_key4(const struct elem_list *l, size_t i, const char *addr, bool end)
{
	uint8_t a[4];

	cr_assert_eq(inet_pton(AF_INET, addr, a), 1);
	cr_expect_eq(l->klen[i], 4);
	cr_expect(memcmp(l->key[i], a, 4) == 0, "element %zu is not %s", i, addr);
	cr_expect_eq(l->flags[i], end ? NFT_SET_ELEM_INTERVAL_END : 0u, "element %zu (%s) flags", i, addr);
}

static const struct nlmsghdr *find_set(const struct msgs *ms, const char *name, struct nftnl_set *s)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		if (mtype(ms->m[i]) != NFT_MSG_NEWSET)
			continue;
		cr_assert_eq(nftnl_set_nlmsg_parse(ms->m[i], s), 0);
		if (!strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name))
			return ms->m[i];
	}
	return NULL;
}

struct expr_names {
	char s[256];
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct expr_names *n = data;
	size_t len = strlen(n->s);

	snprintf(n->s + len, sizeof(n->s) - len, "%s%s", len ? "," : "", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	return 0;
}

/* "chain: expr,expr,..." for every rule, in order */
static size_t rules_of(const struct msgs *ms, char out[][300], size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ms->n && n < max; i++) {
		struct nftnl_rule *r;
		struct expr_names en = { "" };

		if (mtype(ms->m[i]) != NFT_MSG_NEWRULE)
			continue;
		r = nftnl_rule_alloc();
		cr_assert_eq(nftnl_rule_nlmsg_parse(ms->m[i], r), 0);
		cr_assert_str_eq(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), NFT_TABLE_NAME);
		cr_assert_eq(nftnl_expr_foreach(r, expr_cb, &en), 0);
		snprintf(out[n++], 300, "%s: %s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), en.s);
		nftnl_rule_free(r);
	}
	return n;
}

/* ---- batch bookkeeping ---- */

Test(nfnl, batch_sequence_and_lookup)
{
	struct nfnl_batch b;
	struct msgs ms;

	cr_assert_eq(nfnl_batch_init(&b, 41), 0);
	cr_assert_eq(nft_build_remove(&b), 0);
	cr_assert_eq(nft_build_switch(&b, 1, 5000, 0, 0), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(b.begin_seq, 41);
	cr_assert_eq(ms.n, 3);
	cr_expect_eq(nfnl_batch_msg(&b, 42)->type, NFT_MSG_DELTABLE);
	cr_expect_eq(nfnl_batch_msg(&b, 43)->type, NFT_MSG_DESTROYSETELEM_);
	cr_expect_eq(nfnl_batch_msg(&b, 44)->type, NFT_MSG_NEWSETELEM);
	cr_expect_null(nfnl_batch_msg(&b, 41), "BEGIN is not a message");
	cr_expect_null(nfnl_batch_msg(&b, 45), "END is not a message");
	cr_expect_eq(nfnl_batch_msg(&b, 42)->quiet_err[0], -ENOENT, "a missing table is not logged");
	cr_expect_str_eq(nfnl_batch_msg(&b, 44)->what, "add element on1");
	cr_expect_eq(nfnl_batch_end(&b), -EINVAL, "ended twice");
	cr_expect_null(nfnl_batch_reserve(&b, 100), "no message after END");
	nfnl_batch_free(&b);
	nfnl_batch_free(&b); /* idempotent */
	nfnl_batch_free(NULL);
}

Test(nfnl, add_checks_the_reserved_size)
{
	struct nfnl_batch b;
	struct nlmsghdr *nlh;
	char *buf;

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	buf = nfnl_batch_reserve(&b, 64);
	cr_assert_not_null(buf);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_seq = nfnl_batch_seq(&b);
	nlh->nlmsg_len = 128;
	cr_expect_eq(nfnl_batch_add(&b, 64, "too big"), -EINVAL);
	nlh->nlmsg_len = 32;
	nlh->nlmsg_seq = 99;
	cr_expect_eq(nfnl_batch_add(&b, 64, "wrong seq"), -EINVAL);
	nlh->nlmsg_seq = nfnl_batch_seq(&b);
	cr_expect_eq(nfnl_batch_add(&b, 64, "ok"), 0);
	cr_expect_eq(nfnl_batch_quiet(&b, -EEXIST), 0);
	cr_expect_eq(nfnl_batch_quiet(&b, -EPERM), 0);
	cr_expect_eq(nfnl_batch_quiet(&b, -ENOENT), -ENOSPC);
	nfnl_batch_free(&b);
}

/* ---- install ---- */

Test(nft, install_table_sets_counters_chains)
{
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	const char *chains[8];
	size_t i, nc = 0, nobj = 0;
	const char *objs[8];

	fixture_basic(&x);
	build_install(&b, &x, NULL);
	walk(&b, &ms);

	cr_assert_eq(mtype(ms.m[0]), NFT_MSG_NEWTABLE, "the table comes first");
	cr_expect_eq(ms.m[0]->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
	cr_assert_eq(nftnl_table_nlmsg_parse(ms.m[0], t), 0);
	cr_expect_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "okx_faultd");
	cr_expect_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
	cr_expect_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS), NFT_TABLE_F_OWNER);

	cr_assert_not_null(find_set(&ms, "dst4", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 4);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 7); /* ipv4_addr */
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_INTERVAL);
	cr_assert_not_null(find_set(&ms, "dst6", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 16);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 8);
	cr_assert_not_null(find_set(&ms, "ports", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 2);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 13); /* inet_service */
	cr_assert_not_null(find_set(&ms, "xports", s));
	cr_assert_not_null(find_set(&ms, "on0", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_TIMEOUT);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 1);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 2); /* nf_proto */
	cr_expect(nftnl_set_is_set(s, NFTNL_SET_ID));
	cr_assert_not_null(find_set(&ms, "on1", s));
	cr_expect_null(find_set(&ms, "on2", s));

	for (i = 0; i < ms.n; i++) {
		if (mtype(ms.m[i]) == NFT_MSG_NEWCHAIN && nc < 8) {
			struct nftnl_chain *c = nftnl_chain_alloc();

			cr_assert_eq(nftnl_chain_nlmsg_parse(ms.m[i], c), 0);
			chains[nc] = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
			if (!strcmp(chains[nc], "output")) {
				cr_expect_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_LOCAL_OUT);
				cr_expect_eq(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -5);
				cr_expect_eq(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
				cr_expect_str_eq(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
			}
			if (!strcmp(chains[nc], "egress"))
				cr_expect_not(nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM), "egress is a regular chain");
			nc++;
			nftnl_chain_free(c);
		}
		if (mtype(ms.m[i]) == NFT_MSG_NEWOBJ && nobj < 8) {
			struct nftnl_obj *o = nftnl_obj_alloc();

			cr_assert_eq(nftnl_obj_nlmsg_parse(ms.m[i], o), 0);
			cr_expect_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), NFT_OBJECT_COUNTER);
			objs[nobj++] = strdup(nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
			nftnl_obj_free(o);
		}
		if (mtype(ms.m[i]) == NFT_MSG_NEWRULE)
			cr_assert_eq(nc, 3, "every chain exists before the first rule");
	}
	cr_assert_eq(nc, 3, "egress only: output, forward, egress");
	cr_expect_str_eq(chains[0], "output");
	cr_expect_str_eq(chains[1], "forward");
	cr_expect_str_eq(chains[2], "egress");
	cr_assert_eq(nobj, 5);
	cr_expect_str_eq(objs[0], "f0");
	cr_expect_str_eq(objs[1], "f1");
	cr_expect_str_eq(objs[2], "watch_pkts");
	cr_expect_str_eq(objs[3], "watch_new");
	cr_expect_str_eq(objs[4], "watch_calls");
	for (i = 0; i < nc; i++)
		free((void *)chains[i]);
	for (i = 0; i < nobj; i++)
		free((void *)objs[i]);
	nftnl_table_free(t);
	nftnl_set_free(s);
	nfnl_batch_free(&b);
}

Test(nft, install_interval_elements)
{
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	struct elem_list l;
	uint16_t k;

	fixture_basic(&x);
	x.v4[2] = R("255.255.255.0", "255.255.255.255"); /* top of the space: no end element */
	x.ts.n_v4 = 3;
	build_install(&b, &x, NULL);
	walk(&b, &ms);

	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "dst4", &l), 1);
	cr_assert_eq(l.total, 6);
	expect_key4(&l, 0, "0.0.0.0", true); /* closed left edge, as nft does */
	expect_key4(&l, 1, "198.18.0.2", false);
	expect_key4(&l, 2, "198.18.0.3", true);
	expect_key4(&l, 3, "198.18.1.0", false);
	expect_key4(&l, 4, "198.18.2.0", true);
	expect_key4(&l, 5, "255.255.255.0", false);

	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "dst6", &l), 1);
	cr_assert_eq(l.total, 3);
	cr_expect_eq(l.klen[2], 16);
	cr_expect_eq(l.key[2][5], 1, "2001:2:0:ffff:...:ffff + 1 = 2001:2:1::");
	cr_expect_eq(l.flags[2], NFT_SET_ELEM_INTERVAL_END);

	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "ports", &l), 1);
	cr_assert_eq(l.total, 3);
	memcpy(&k, l.key[1], 2);
	cr_expect_eq(ntohs(k), 443);
	memcpy(&k, l.key[2], 2);
	cr_expect_eq(ntohs(k), 444);
	cr_expect_eq(l.flags[2], NFT_SET_ELEM_INTERVAL_END);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "xports", &l), 1);
	cr_expect_eq(l.total, 3);
	cr_expect_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "on0", &l), 0, "switches start empty");
	nfnl_batch_free(&b);
}

Test(nft, adjacent_and_overlapping_ranges_merge)
{
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	struct elem_list l;

	fixture_basic(&x);
	x.v4[0] = R("198.18.0.10", "198.18.0.19");
	x.v4[1] = R("198.18.0.0", "198.18.0.9");   /* adjacent, unsorted */
	x.v4[2] = R("198.18.0.15", "198.18.0.30"); /* overlapping */
	x.ts.n_v4 = 3;
	x.ports[0] = (struct port_range){ 8000, 8080 };
	x.ports[1] = (struct port_range){ 8081, 8090 };
	x.ports[2] = (struct port_range){ 60000, 65535 };
	x.p.n_ports = 3;
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "dst4", &l), 1);
	cr_assert_eq(l.total, 3);
	expect_key4(&l, 1, "198.18.0.0", false);
	expect_key4(&l, 2, "198.18.0.31", true);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "ports", &l), 1);
	cr_expect_eq(l.total, 4, "0 end, 8000, 8091 end, 60000 (open to the top)");
	nfnl_batch_free(&b);
}

Test(nft, large_sets_split_into_messages)
{
	static struct addr_range v4[20000];
	struct fixture x;
	struct nfnl_batch b;
	struct msgs *ms = malloc(sizeof(*ms));
	struct elem_list l;
	size_t i, n_msgs;

	cr_assert_not_null(ms);
	fixture_basic(&x);
	for (i = 0; i < 20000; i++) {
		uint32_t a = htonl(0xc6120000u + 2 * (uint32_t)i); /* every other address of 198.18.0.0/15 */

		v4[i].family = AF_INET;
		memcpy(v4[i].lo, &a, 4);
		memcpy(v4[i].hi, &a, 4);
	}
	x.ts.v4 = v4;
	x.ts.n_v4 = 20000;
	build_install(&b, &x, NULL);
	walk(&b, ms);
	n_msgs = parse_elems(ms, NFT_MSG_NEWSETELEM, "dst4", &l);
	cr_expect_eq(l.total, 40001);
	cr_expect_eq(n_msgs, (40001 + nft_elems_per_msg(4) - 1) / nft_elems_per_msg(4));
	cr_expect_gt(n_msgs, 1);
	for (i = 0; i < ms->n; i++)
		cr_expect_lt(ms->m[i]->nlmsg_len, 65536u, "message %zu fits the 16-bit nest length", i);
	free(ms);
	nfnl_batch_free(&b);
}

Test(nft, install_rules_basic)
{
	static const char *const want[] = {
		"output: meta,cmp,immediate",               /* meta l4proto != tcp return */
		"output: payload,cmp,immediate",            /* th dport != 443 return */
		"output: meta,cmp,payload,lookup,immediate",
		"output: meta,cmp,payload,lookup,immediate",
		"forward: meta,cmp,immediate",
		"forward: payload,cmp,immediate",
		"forward: meta,cmp,payload,lookup,immediate",
		"forward: meta,cmp,payload,lookup,immediate",
		"egress: meta,cmp,immediate",               /* meta l4proto != tcp return */
		"egress: payload,lookup,immediate",         /* th sport @xports return */
		"egress: payload,lookup,immediate",         /* th dport @xports return */
		"egress: payload,lookup,immediate",         /* th dport != @ports return */
		"egress: objref",                           /* watch_pkts */
		"egress: ct,bitwise,cmp,objref",            /* ct state new -> watch_new */
		"egress: meta,cmp,payload,bitwise,cmp,objref", /* tcp push, no syn/fin/rst -> watch_calls */
		"egress: meta,lookup,objref,immediate",     /* drop */
		"egress: meta,lookup,numgen,byteorder,cmp,objref,immediate", /* loss */
	};
	char got[32][300];
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	size_t n, i;

	fixture_basic(&x);
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	n = rules_of(&ms, got, 32);
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++)
		cr_expect_str_eq(got[i], want[i], "rule %zu", i);
	nfnl_batch_free(&b);
}

struct loss_check {
	int seen;
	uint32_t modulus, cmp_op, cmp_be;
	char set[32];
	char counter[32];
	uint32_t verdict;
};

static int loss_cb(struct nftnl_expr *e, void *data)
{
	struct loss_check *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len;

	c->seen++;
	if (!strcmp(name, "numgen"))
		c->modulus = nftnl_expr_get_u32(e, NFTNL_EXPR_NG_MODULUS);
	else if (!strcmp(name, "cmp")) {
		c->cmp_op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
		memcpy(&c->cmp_be, nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len), 4);
	} else if (!strcmp(name, "lookup"))
		snprintf(c->set, sizeof(c->set), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	else if (!strcmp(name, "objref"))
		snprintf(c->counter, sizeof(c->counter), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME));
	else if (!strcmp(name, "immediate"))
		c->verdict = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	return 0;
}

Test(nft, loss_rule_expressions)
{
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	struct loss_check c = { 0 };
	struct nftnl_rule *r = nftnl_rule_alloc();

	fixture_basic(&x);
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_assert_eq(mtype(ms.m[ms.n - 1]), NFT_MSG_NEWRULE);
	cr_assert_eq(nftnl_rule_nlmsg_parse(ms.m[ms.n - 1], r), 0);
	cr_assert_eq(nftnl_expr_foreach(r, loss_cb, &c), 0);
	cr_expect_eq(c.modulus, 100000);
	cr_expect_eq(c.cmp_op, NFT_CMP_LT);
	cr_expect_eq(ntohl(c.cmp_be), 12500, "compared in network order after byteorder hton");
	cr_expect_str_eq(c.set, "on1");
	cr_expect_str_eq(c.counter, "f1");
	cr_expect_eq(c.verdict, (uint32_t)NF_DROP);
	nftnl_rule_free(r);
	nfnl_batch_free(&b);
}

Test(nft, install_rules_all_actions_both_directions)
{
	char got[48][300];
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	size_t n, i, ingress = 0, egress = 0, input = 0;
	bool delay_in_egress = false;

	fixture_all(&x);
	build_install(&b, &x, prio_all);
	walk(&b, &ms);
	n = rules_of(&ms, got, 48);
	for (i = 0; i < n; i++) {
		ingress += !strncmp(got[i], "ingress:", 8);
		egress += !strncmp(got[i], "egress:", 7);
		input += !strncmp(got[i], "input:", 6);
		if (!strcmp(got[i], "egress: meta,lookup,objref,immediate,meta"))
			delay_in_egress = true;
		cr_expect(strcmp(got[i], "ingress: meta,lookup,objref,immediate,meta") != 0, "delay on ingress");
	}
	cr_expect_eq(input, 3, "proto return and two jumps");
	/* egress: proto, 2 xports, 3 watch, drop, reject, loss, delay */
	cr_expect_eq(egress, 10);
	/* ingress: loopback, proto, 2 xports, drop, reject, loss */
	cr_expect_eq(ingress, 7);
	cr_expect(delay_in_egress);
	for (i = 0; i < n && strncmp(got[i], "ingress:", 8); i++)
		;
	cr_assert_lt(i, n);
	cr_expect_str_eq(got[i], "ingress: meta,cmp,immediate", "first ingress rule: loopback replies return");
	nfnl_batch_free(&b);
}

Test(nft, delay_without_priority_is_refused)
{
	struct fixture x;
	struct nfnl_batch b;
	static const uint32_t zero[5];

	fixture_all(&x);
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_install(&b, &x.p, &x.ts, NULL), -EINVAL);
	nfnl_batch_free(&b);
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_install(&b, &x.p, &x.ts, zero), -EINVAL);
	nfnl_batch_free(&b);
}

Test(nft, any_protocol_guards_exempt_ports_with_anonymous_set)
{
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_set *s = nftnl_set_alloc();
	struct elem_list l;
	char got[32][300];
	size_t n, i, anon = 0;

	fixture_basic(&x);
	x.p.protocol = PROTO_ANY;
	x.p.n_ports = 0;
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	for (i = 0; i < ms.n; i++) {
		if (mtype(ms.m[i]) != NFT_MSG_NEWSET)
			continue;
		cr_assert_eq(nftnl_set_nlmsg_parse(ms.m[i], s), 0);
		if (strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), "__set%d") != 0)
			continue;
		anon++;
		cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
		cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 12); /* inet_proto */
	}
	cr_expect_eq(anon, 2, "one per guarded rule (sport, dport)");
	parse_elems(&ms, NFT_MSG_NEWSETELEM, "__set%d", &l);
	cr_assert_eq(l.total, 4);
	cr_expect_eq(l.key[0][0], IPPROTO_TCP);
	cr_expect_eq(l.key[1][0], IPPROTO_UDP);
	n = rules_of(&ms, got, 32);
	cr_assert_geq(n, 6);
	cr_expect_str_eq(got[4], "egress: meta,lookup,payload,lookup,immediate");
	cr_expect_str_eq(got[5], "egress: meta,lookup,payload,lookup,immediate");
	nftnl_set_free(s);
	nfnl_batch_free(&b);
}

/* ---- switch, remove, counters ---- */

Test(nft, switch_batch_destroys_then_adds_with_timeout)
{
	struct nfnl_batch b;
	struct msgs ms;
	struct elem_list l;

	cr_assert_eq(nfnl_batch_init(&b, 7), 0);
	cr_assert_eq(nft_build_switch(&b, 2, 91500, 0, 0), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 2);
	cr_expect_eq(mtype(ms.m[0]), NFT_MSG_DESTROYSETELEM_, "off first: one switch at a time");
	cr_expect_eq(mtype(ms.m[1]), NFT_MSG_NEWSETELEM);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_DESTROYSETELEM_, "on0", &l), 1);
	cr_assert_eq(l.total, 2);
	cr_expect_eq(l.key[0][0], NFPROTO_IPV4);
	cr_expect_eq(l.key[1][0], NFPROTO_IPV6);
	cr_expect_eq(l.timeout[0], 0);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "on2", &l), 1);
	cr_assert_eq(l.total, 2);
	cr_expect_eq(l.key[0][0], NFPROTO_IPV4);
	cr_expect_eq(l.key[1][0], NFPROTO_IPV6);
	cr_expect_eq(l.timeout[0], 91500);
	cr_expect_eq(l.timeout[1], 91500);
	nfnl_batch_free(&b);
}

Test(nft, switch_variants)
{
	struct nfnl_batch b;
	struct msgs ms;
	struct elem_list l;

	/* renew: the on fault's old elements go first; old kernels: DELSETELEM */
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_switch(&b, 3, 1000, -1, NFT_SWITCH_RENEW | NFT_SWITCH_DELETE), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 2);
	cr_expect_eq(mtype(ms.m[0]), NFT_MSG_DELSETELEM);
	cr_expect_eq(parse_elems(&ms, NFT_MSG_DELSETELEM, "on3", &l), 1);
	cr_expect_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "on3", &l), 1);
	nfnl_batch_free(&b);

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_switch(&b, -1, 0, 4, 0), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 1);
	cr_expect_eq(parse_elems(&ms, NFT_MSG_DESTROYSETELEM_, "on4", &l), 1);
	nfnl_batch_free(&b);

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_switch(&b, -1, 0, -1, 0), -EINVAL, "nothing to do");
	cr_expect_eq(nft_build_switch(&b, 1, 0, -1, 0), -EINVAL, "timeout 0");
	nfnl_batch_free(&b);
}

/* --cleanup's ownership proof: the owned table alone, created exclusively
 * (an existing one, another okx-faultd's, is an error it expects quietly) */
Test(nft, claim)
{
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_table *t = nftnl_table_alloc();

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_claim(&b), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 1);
	cr_expect_eq(mtype(ms.m[0]), NFT_MSG_NEWTABLE);
	cr_expect_eq(ms.m[0]->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
	cr_assert_eq(nftnl_table_nlmsg_parse(ms.m[0], t), 0);
	cr_expect_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "okx_faultd");
	cr_expect_eq(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS), NFT_TABLE_F_OWNER);
	cr_expect_eq(nfnl_batch_msg(&b, 2)->quiet_err[0], -EEXIST);
	nfnl_batch_free(&b);
	nftnl_table_free(t);
}

Test(nft, remove_and_get_counter)
{
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_obj *o = nftnl_obj_alloc();
	char buf[512] __attribute__((aligned(8)));
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len;

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_remove(&b), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 1);
	cr_expect_eq(mtype(ms.m[0]), NFT_MSG_DELTABLE);
	cr_assert_eq(nftnl_table_nlmsg_parse(ms.m[0], t), 0);
	cr_expect_str_eq(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "okx_faultd");
	nfnl_batch_free(&b);

	len = nft_build_get_counter(buf, sizeof(buf), 77, "f12");
	cr_assert_gt(len, 0);
	cr_expect_eq((int)nlh->nlmsg_len, len);
	cr_expect_eq(nlh->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ);
	cr_expect_eq(nlh->nlmsg_seq, 77);
	cr_expect(nlh->nlmsg_flags & NLM_F_ACK);
	cr_expect_not(nlh->nlmsg_flags & NLM_F_DUMP, "one object, not a dump");
	cr_assert_eq(nftnl_obj_nlmsg_parse(nlh, o), 0);
	cr_expect_str_eq(nftnl_obj_get_str(o, NFTNL_OBJ_NAME), "f12");
	cr_expect_str_eq(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), "okx_faultd");
	cr_expect_eq(nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE), NFT_OBJECT_COUNTER);
	cr_expect_eq(nft_build_get_counter(buf, 64, 1, "f1"), -ENOSPC);
	nftnl_table_free(t);
	nftnl_obj_free(o);
}

/* ---- render ---- */

static char *render(const struct fixture *x, const uint32_t *prio, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	nft_render_opts(f, &x->p, &x->ts, prio, flags);
	cr_assert_eq(fclose(f), 0);
	return text;
}

Test(nft, render_basic)
{
	static const char want[] =
		"table inet okx_faultd {\n"
		"\tflags owner\n"
		"\tset dst4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 198.18.0.2, 198.18.1.0/24 }\n\t}\n"
		"\tset dst6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { 2001:2::/48 }\n\t}\n"
		"\tset ports {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 443 }\n\t}\n"
		"\tset xports {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 22 }\n\t}\n"
		"\tset on0 {\n\t\ttype nf_proto\n\t\tflags timeout\n\t}\n"
		"\tset on1 {\n\t\ttype nf_proto\n\t\tflags timeout\n\t}\n"
		"\tcounter f0 {\n\t}\n"
		"\tcounter f1 {\n\t}\n"
		"\tcounter watch_pkts {\n\t}\n"
		"\tcounter watch_new {\n\t}\n"
		"\tcounter watch_calls {\n\t}\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter - 5; policy accept;\n"
		"\t\tmeta l4proto != tcp return\n"
		"\t\tth dport != 443 return\n"
		"\t\tip daddr @dst4 jump egress\n"
		"\t\tip6 daddr @dst6 jump egress\n"
		"\t}\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter - 5; policy accept;\n"
		"\t\tmeta l4proto != tcp return\n"
		"\t\tth dport != 443 return\n"
		"\t\tip daddr @dst4 jump egress\n"
		"\t\tip6 daddr @dst6 jump egress\n"
		"\t}\n"
		"\tchain egress {\n"
		"\t\tmeta l4proto != tcp return\n"
		"\t\tth sport @xports return\n"
		"\t\tth dport @xports return\n"
		"\t\tth dport != @ports return\n"
		"\t\tcounter name \"watch_pkts\"\n"
		"\t\tct state new counter name \"watch_new\"\n"
		"\t\ttcp flags psh / fin,syn,rst,psh counter name \"watch_calls\"\n"
		"\t\tmeta nfproto @on0 counter name \"f0\" drop\n"
		"\t\tmeta nfproto @on1 numgen random mod 100000 < 12500 counter name \"f1\" drop\n"
		"\t}\n"
		"}\n";
	struct fixture x;
	char *text;

	fixture_basic(&x);
	x.v6[0] = R("2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff");
	text = render(&x, NULL, 0);
	cr_expect_str_eq(text, want);
	free(text);
	text = render(&x, NULL, NFT_RENDER_NO_OWNER);
	cr_expect_null(strstr(text, "flags owner"));
	free(text);
}

Test(nft, render_all_actions)
{
	struct fixture x;
	char *text;

	fixture_all(&x);
	x.ts.n_v6 = 0;
	x.v4[1] = R("198.18.1.1", "198.18.1.5");
	text = render(&x, prio_all, 0);
	cr_expect_not_null(strstr(text, "\t\telements = { 198.18.0.2, 198.18.1.1-198.18.1.5 }\n"));
	cr_expect_not_null(strstr(text, "\tset dst6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n"), "empty set, no elements line");
	cr_expect_null(strstr(text, "set ports"));
	cr_expect_null(strstr(text, "on1"), "no switch for a pause");
	cr_expect_not_null(strstr(text, "\tchain input {\n\t\ttype filter hook input priority filter - 5; policy accept;\n"
				       "\t\tmeta l4proto != udp return\n"
				       "\t\tip saddr @dst4 jump ingress\n\t\tip6 saddr @dst6 jump ingress\n\t}\n"));
	cr_expect_not_null(strstr(text, "\tchain forward {\n\t\ttype filter hook forward priority filter - 5; policy accept;\n"
				       "\t\tmeta l4proto != udp return\n\t\tip daddr @dst4 jump egress\n"), "no ports: no port return");
	cr_expect_not_null(strstr(text, "\t\tip saddr @dst4 jump ingress\n\t\tip6 saddr @dst6 jump ingress\n\t}\n\tchain egress"),
			   "forward jumps to ingress too");
	cr_expect_not_null(strstr(text, "\tchain ingress {\n\t\tmeta iiftype loopback return\n\t\tmeta l4proto != udp return\n"));
	cr_expect_not_null(strstr(text, "meta nfproto @on2 counter name \"f2\" reject with icmpx admin-prohibited\n"));
	cr_expect_not_null(strstr(text, "meta nfproto @on3 numgen random mod 100000 < 30000 counter name \"f3\" drop\n"));
	cr_expect_not_null(strstr(text, "meta nfproto @on4 counter name \"f4\" meta priority set fa17:5\n"));
	cr_expect_null(strstr(strstr(text, "chain ingress"), "priority set"), "no delay on ingress");
	free(text);

	x.faults[2].with = REJ_TCP_RESET;
	x.p.protocol = PROTO_TCP;
	text = render(&x, prio_all, 0);
	cr_expect_not_null(strstr(text, "meta nfproto @on2 meta l4proto tcp counter name \"f2\" reject with tcp reset\n"));
	free(text);
	x.faults[2].with = REJ_ICMP_NET;
	text = render(&x, prio_all, 0);
	cr_expect_not_null(strstr(text, "reject with icmpx no-route\n"));
	free(text);
	text = render(&x, NULL, 0);
	cr_expect_str_eq(text, "# okx-faultd: cannot plan the nftables ruleset: Invalid argument\n");
	free(text);
}

Test(nft, render_any_protocol)
{
	struct fixture x;
	char *text;

	fixture_basic(&x);
	x.p.protocol = PROTO_ANY;
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\tchain egress {\n\t\tmeta l4proto != { tcp, udp } return\n\t\tth sport @xports return\n"));
	free(text);
	x.p.n_ports = 0;
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\tchain egress {\n\t\tmeta l4proto { tcp, udp } th sport @xports return\n"
				       "\t\tmeta l4proto { tcp, udp } th dport @xports return\n\t\tcounter name \"watch_pkts\"\n"));
	free(text);
	x.p.n_exempt_ports = 0;
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\tchain egress {\n\t\tcounter name \"watch_pkts\"\n"), "any, no ports: no filter");
	cr_expect_null(strstr(text, "xports"));
	free(text);
}

/* A rule's expressions with their operands, for the rules that test
 * protocols, ports and addresses: "meta 16; cmp != 06; return". */
struct rule_desc {
	char s[300];
};

static int desc_cb(struct nftnl_expr *e, void *data)
{
	struct rule_desc *d = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	char one[100];
	char *p = one;
	size_t room = sizeof(one);
	uint32_t n = 0;

	if (!strcmp(name, "meta")) {
		snprintf(p, room, "meta %u", nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY));
	} else if (!strcmp(name, "cmp")) {
		const uint8_t *b = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &n);
		int k = snprintf(p, room, "cmp %s ", nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ ? "==" : "!=");

		for (uint32_t i = 0; i < n && (size_t)k + 3 < room; i++)
			k += snprintf(p + k, room - (size_t)k, "%02x", b[i]);
	} else if (!strcmp(name, "payload")) {
		snprintf(p, room, "payload %u,%u,%u", nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
			 nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET), nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN));
	} else if (!strcmp(name, "lookup")) {
		bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
			   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);

		snprintf(p, room, "lookup %s@%s", inv ? "!" : "", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	} else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		int v = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);

		if (v == NFT_RETURN)
			snprintf(p, room, "return");
		else
			snprintf(p, room, "%s %s", v == NFT_JUMP ? "jump" : "goto", nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	} else {
		snprintf(p, room, "%s", name);
	}
	cr_assert_lt(strlen(d->s) + strlen(one) + 3, sizeof(d->s));
	if (d->s[0])
		strcat(d->s, "; ");
	strcat(d->s, one);
	return 0;
}

/* the k-th rule of a chain, described */
static struct rule_desc chain_rule(const struct msgs *ms, const char *chain, size_t k)
{
	struct rule_desc d = { "" };

	for (size_t i = 0; i < ms->n; i++) {
		struct nftnl_rule *r;
		bool mine;

		if (mtype(ms->m[i]) != NFT_MSG_NEWRULE)
			continue;
		r = nftnl_rule_alloc(); /* a parse adds to a rule's expressions */
		cr_assert_eq(nftnl_rule_nlmsg_parse(ms->m[i], r), 0);
		mine = !strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain) && k-- == 0;
		if (mine)
			cr_assert_eq(nftnl_expr_foreach(r, desc_cb, &d), 0);
		nftnl_rule_free(r);
		if (mine)
			break;
	}
	return d;
}

/* Issue 18: a packet out of the scope's protocol or ports leaves each base
 * chain before the target set is looked up, testing what the chain it
 * would jump to tests first: the destination port toward egress, the
 * source port toward ingress, both (neither in ports) in forward. One
 * port or range is compared, more are looked up in the ports set. */
Test(nft, base_chains_return_out_of_scope_before_the_lookup)
{
	static const char proto_tcp[] = "meta 16; cmp != 06; return"; /* NFT_META_L4PROTO */
	static const char out4[] = "meta 15; cmp == 02; payload 1,16,4; lookup @dst4; jump egress";
	static const char dport_set[] = "payload 2,2,2; lookup !@ports; return";
	static const char sport_set[] = "payload 2,0,2; lookup !@ports; return";
	struct fixture x;
	struct nfnl_batch b;
	struct msgs ms;
	char *text;

	fixture_basic(&x);
	x.p.direction = DIR_BOTH;
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_expect_str_eq(chain_rule(&ms, "output", 0).s, proto_tcp);
	cr_expect_str_eq(chain_rule(&ms, "output", 1).s, "payload 2,2,2; cmp != 01bb; return");
	cr_expect_str_eq(chain_rule(&ms, "output", 2).s, out4);
	cr_expect_str_eq(chain_rule(&ms, "input", 0).s, proto_tcp);
	cr_expect_str_eq(chain_rule(&ms, "input", 1).s, "payload 2,0,2; cmp != 01bb; return");
	cr_expect_str_eq(chain_rule(&ms, "input", 2).s, "meta 15; cmp == 02; payload 1,12,4; lookup @dst4; jump ingress");
	cr_expect_str_eq(chain_rule(&ms, "forward", 0).s, proto_tcp);
	cr_expect_str_eq(chain_rule(&ms, "forward", 1).s, "payload 2,2,2; cmp != 01bb; payload 2,0,2; cmp != 01bb; return");
	cr_expect_str_eq(chain_rule(&ms, "forward", 2).s, out4);
	/* the jump chains keep their own filters */
	cr_expect_str_eq(chain_rule(&ms, "egress", 0).s, proto_tcp);
	cr_expect_str_eq(chain_rule(&ms, "egress", 3).s, dport_set);
	cr_expect_str_eq(chain_rule(&ms, "ingress", 1).s, proto_tcp);
	cr_expect_str_eq(chain_rule(&ms, "ingress", 4).s, sport_set);
	nfnl_batch_free(&b);
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\tchain input {\n\t\ttype filter hook input priority filter - 5; policy accept;\n"
				       "\t\tmeta l4proto != tcp return\n\t\tth sport != 443 return\n"
				       "\t\tip saddr @dst4 jump ingress\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\tchain forward {\n\t\ttype filter hook forward priority filter - 5; policy accept;\n"
				       "\t\tmeta l4proto != tcp return\n\t\tth dport != 443 th sport != 443 return\n"
				       "\t\tip daddr @dst4 jump egress\n"), "%s", text);
	free(text);

	/* one range: compared as a range */
	x.ports[0] = (struct port_range){ 9000, 9100 };
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_expect_str_eq(chain_rule(&ms, "output", 1).s, "payload 2,2,2; range; return");
	nfnl_batch_free(&b);
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\t\tth dport != 9000-9100 th sport != 9000-9100 return\n"), "%s", text);
	free(text);

	/* two ports, protocol any: TCP and UDP only before th is read, then
	 * the ports set */
	x.ports[1] = (struct port_range){ 443, 443 };
	x.p.n_ports = 2;
	x.p.protocol = PROTO_ANY;
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_expect_str_eq(chain_rule(&ms, "output", 0).s, "meta 16; lookup !@__set%d; return");
	cr_expect_str_eq(chain_rule(&ms, "output", 1).s, dport_set);
	cr_expect_str_eq(chain_rule(&ms, "input", 1).s, sport_set);
	cr_expect_str_eq(chain_rule(&ms, "forward", 1).s, "payload 2,2,2; lookup !@ports; payload 2,0,2; lookup !@ports; return");
	nfnl_batch_free(&b);
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "policy accept;\n\t\tmeta l4proto != { tcp, udp } return\n\t\tth dport != @ports return\n"
				       "\t\tip daddr @dst4 jump egress\n"), "%s", text);
	free(text);

	/* protocol any, no ports: every packet is in scope but for its address */
	x.p.n_ports = 0;
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_expect_str_eq(chain_rule(&ms, "output", 0).s, out4);
	cr_expect_str_eq(chain_rule(&ms, "forward", 0).s, out4);
	nfnl_batch_free(&b);
}

/* resolve_every: new addresses join the live target sets in one
 * transaction, with no leading 0.0.0.0 end element (the set has it) */
Test(nft, add_targets_batch)
{
	struct target_set add = { 0 };
	struct addr_range r4[2] = { { .family = AF_INET }, { .family = AF_INET } };
	struct nfnl_batch b;
	struct elem_list l;
	struct msgs ms;

	inet_pton(AF_INET, "198.18.0.3", r4[0].lo);
	inet_pton(AF_INET, "198.18.0.3", r4[0].hi);
	inet_pton(AF_INET, "255.255.255.0", r4[1].lo);
	inet_pton(AF_INET, "255.255.255.255", r4[1].hi);
	add.v4 = r4;
	add.n_v4 = 2;
	cr_assert_eq(nfnl_batch_init(&b, 1000), 0);
	cr_assert_eq(nft_build_add_targets(&b, &add, NULL), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 1, "dst4 only: one message");
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "dst4", &l), 1);
	cr_assert_eq(l.total, 3);
	expect_key4(&l, 0, "198.18.0.3", false);
	expect_key4(&l, 1, "198.18.0.4", true);
	expect_key4(&l, 2, "255.255.255.0", false); /* to the top: no end element */
	nfnl_batch_free(&b);
}

/* ---- cover sets (README, "Cost to other traffic") ---- */

/* n /32 targets 198.18.2.0, .2, .4, ...: every gap one address wide */
static void fixture_many(struct fixture *x, struct addr_range *r, size_t n)
{
	fixture_basic(x);
	x->p.direction = DIR_BOTH;
	for (size_t i = 0; i < n; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.%zu.%zu", 2 + i * 2 / 256, i * 2 % 256);
		r[i] = R(a, a);
	}
	x->ts.v4 = r;
	x->ts.n_v4 = n;
}

/* more than NFT_COVER_MIN ranges: cover4 holds NFT_COVER_RANGES ranges, the
 * widest gaps kept (all equal here: the leftmost), and the base chains
 * look it up before dst4; IPv6 with one range has no cover */
Test(nft, cover_set_before_the_target_set)
{
	static const char out4[] = "meta 15; cmp == 02; payload 1,16,4; lookup @cover4; payload 1,16,4; lookup @dst4; jump egress";
	static const char in4[] = "meta 15; cmp == 02; payload 1,12,4; lookup @cover4; payload 1,12,4; lookup @dst4; jump ingress";
	static const char out6[] = "meta 15; cmp == 0a; payload 1,24,16; lookup @dst6; jump egress";
	struct addr_range r[100];
	struct fixture x;
	struct nfnl_batch b;
	struct nftnl_set *s = nftnl_set_alloc();
	struct elem_list l;
	struct msgs ms;
	char a[32], *text;
	size_t i;

	cr_assert_not_null(s);
	fixture_many(&x, r, 100);
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_assert_not_null(find_set(&ms, "cover4", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL, NFT_SET_INTERVAL);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 4);
	cr_expect_null(find_set(&ms, "cover6", s));
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cover4", &l), 1);
	cr_assert_eq(l.total, 1 + 2 * NFT_COVER_RANGES);
	expect_key4(&l, 0, "0.0.0.0", true);
	for (i = 0; i + 1 < NFT_COVER_RANGES; i++) {
		snprintf(a, sizeof(a), "198.18.2.%zu", 2 * i);
		expect_key4(&l, 1 + 2 * i, a, false);
		snprintf(a, sizeof(a), "198.18.2.%zu", 2 * i + 1);
		expect_key4(&l, 2 + 2 * i, a, true);
	}
	expect_key4(&l, 31, "198.18.2.30", false);
	expect_key4(&l, 32, "198.18.2.199", true);
	cr_expect_str_eq(chain_rule(&ms, "output", 2).s, out4);
	cr_expect_str_eq(chain_rule(&ms, "output", 3).s, out6);
	cr_expect_str_eq(chain_rule(&ms, "input", 2).s, in4);
	cr_expect_str_eq(chain_rule(&ms, "forward", 2).s, out4);
	cr_expect_str_eq(chain_rule(&ms, "forward", 4).s, in4);
	nfnl_batch_free(&b);
	text = render(&x, NULL, 0);
	cr_expect_not_null(strstr(text, "\t\tip daddr @cover4 ip daddr @dst4 jump egress\n"
				       "\t\tip6 daddr @dst6 jump egress\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\t\tip saddr @cover4 ip saddr @dst4 jump ingress\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\tset cover4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
				       "\t\telements = { 198.18.2.0, 198.18.2.2,"), "%s", text);
	cr_expect_not_null(strstr(text, "198.18.2.28, 198.18.2.30-198.18.2.198 }\n"), "%s", text);
	cr_expect_null(strstr(text, "cover6"), "%s", text);
	free(text);

	/* NFT_COVER_MIN ranges: no cover set, the rules as without one */
	fixture_many(&x, r, NFT_COVER_MIN);
	build_install(&b, &x, NULL);
	walk(&b, &ms);
	cr_expect_null(find_set(&ms, "cover4", s));
	cr_expect_str_eq(chain_rule(&ms, "output", 2).s, "meta 15; cmp == 02; payload 1,16,4; lookup @dst4; jump egress");
	nfnl_batch_free(&b);
	text = render(&x, NULL, 0);
	cr_expect_null(strstr(text, "cover"), "%s", text);
	free(text);
	nftnl_set_free(s);
}

/* targets added at run time: the parts outside the cover join it in the
 * same transaction (an interval set refuses overlaps), the cover then
 * holds them (nft_cover_add), and a family without a cover set gets none */
Test(nft, add_targets_grow_the_cover)
{
	struct addr_range r[100], a4[3], a6[1];
	struct target_set add = { 0 };
	struct nft_cover c;
	struct fixture x;
	struct nfnl_batch b;
	struct elem_list l;
	struct msgs ms;

	fixture_many(&x, r, 100);
	cr_assert_eq(nft_cover_make(&c, &x.ts), 0);
	cr_assert_eq(c.n_v4, NFT_COVER_RANGES);
	cr_assert_eq(c.n_v6, 0);
	a4[0] = R("198.18.2.1", "198.18.2.1");     /* a gap the cover kept */
	a4[1] = R("198.18.2.101", "198.18.2.101"); /* inside the last cover range */
	a4[2] = R("198.18.9.0", "198.18.9.255");   /* beyond it */
	a6[0] = R("2001:2::9", "2001:2::9");
	add.v4 = a4;
	add.n_v4 = 3;
	add.v6 = a6;
	add.n_v6 = 1;
	cr_assert_eq(nfnl_batch_init(&b, 1000), 0);
	cr_assert_eq(nft_build_add_targets(&b, &add, &c), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 3, "dst4, dst6, cover4");
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "dst4", &l), 1);
	cr_expect_eq(l.total, 6);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cover4", &l), 1);
	cr_assert_eq(l.total, 4);
	expect_key4(&l, 0, "198.18.2.1", false);
	expect_key4(&l, 1, "198.18.2.2", true);
	expect_key4(&l, 2, "198.18.9.0", false);
	expect_key4(&l, 3, "198.18.10.0", true);
	cr_expect_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cover6", &l), 0);
	nfnl_batch_free(&b);

	/* committed: .0-.2 merge, 198.18.9.0/24 joins; the same addresses
	 * again add nothing to the cover */
	cr_assert_eq(nft_cover_add(&c, &add), 0);
	cr_expect_eq(c.n_v4, NFT_COVER_RANGES - 1 + 1, "%zu ranges", c.n_v4); /* .0-.2 one, + 9.0/24 */
	cr_expect_eq(c.n_v6, 0);
	cr_assert_eq(nfnl_batch_init(&b, 1000), 0);
	cr_assert_eq(nft_build_add_targets(&b, &add, &c), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_expect_eq(ms.n, 2, "dst4 and dst6 only");
	cr_expect_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cover4", &l), 0);
	nfnl_batch_free(&b);
	nft_cover_free(&c);
}

/* ---- owner scope (uid, cgroup) ---- */

struct owner_fixture {
	struct fixture x;
	struct scope sc;
	struct policy_word uids[2], cgroups[3];
	uint32_t uid_vals[2];
	struct scope_cgroup cg[3];
};

/* fixture_basic (direction both) scoped by uids 0, 65534 and cgroups a/b
 * (level 2, ids 100 then 101 after a restart), c (level 1, id 7), d/e
 * (level 2, id 200) */
static void fixture_owner(struct owner_fixture *o)
{
	memset(o, 0, sizeof(*o));
	fixture_basic(&o->x);
	o->x.p.direction = DIR_BOTH;
	o->x.p.arm_min_flows = 1;
	o->uids[0] = (struct policy_word){ "0", 3 };
	o->uids[1] = (struct policy_word){ "nobody", 4 };
	o->x.p.uids = o->uids;
	o->x.p.n_uids = 2;
	o->cgroups[0] = (struct policy_word){ "a/b", 5 };
	o->cgroups[1] = (struct policy_word){ "c", 6 };
	o->cgroups[2] = (struct policy_word){ "d/e", 7 };
	o->x.p.cgroups = o->cgroups;
	o->x.p.n_cgroups = 3;
	o->uid_vals[0] = 0;
	o->uid_vals[1] = 65534;
	o->cg[0] = (struct scope_cgroup){ .path = "a/b", .level = 2, .id = 101, .present = true, .ids = { 100, 101 }, .n_ids = 2 };
	o->cg[1] = (struct scope_cgroup){ .path = "c", .level = 1, .id = 7, .present = true, .ids = { 7 }, .n_ids = 1 };
	o->cg[2] = (struct scope_cgroup){ .path = "d/e", .level = 2, .id = 200, .present = true, .ids = { 200 }, .n_ids = 1 };
	scope_init(&o->sc);
	o->sc.uids = o->uid_vals;
	o->sc.n_uids = 2;
	o->sc.cgroups = o->cg;
	o->sc.n_cgroups = 3;
	o->x.ts.scope = &o->sc;
}

struct label_check {
	bool ct_set_labels, goto_egress;
	uint8_t imm[16];
	uint32_t imm_len, socket_level, socket_key;
	char lookup[32];
};

static int owner_cb(struct nftnl_expr *e, void *data)
{
	struct label_check *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len = 0;

	if (!strcmp(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG))
		c->ct_set_labels = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_LABELS;
	else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
		const void *d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);

		c->imm_len = len;
		memcpy(c->imm, d, len < 16 ? len : 16);
	} else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		c->goto_egress = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NFT_GOTO &&
				 !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN), "egress");
	} else if (!strcmp(name, "socket")) {
		c->socket_key = nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_KEY);
		c->socket_level = nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_LEVEL);
	} else if (!strcmp(name, "lookup"))
		snprintf(c->lookup, sizeof(c->lookup), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	return 0;
}

static struct label_check rule_check(const struct msgs *ms, size_t rule)
{
	struct label_check c = { 0 };
	struct nftnl_rule *r = nftnl_rule_alloc();
	size_t i, k = 0;

	for (i = 0; i < ms->n; i++) {
		if (mtype(ms->m[i]) != NFT_MSG_NEWRULE || k++ != rule)
			continue;
		cr_assert_eq(nftnl_rule_nlmsg_parse(ms->m[i], r), 0);
		cr_assert_eq(nftnl_expr_foreach(r, owner_cb, &c), 0);
		break;
	}
	nftnl_rule_free(r);
	return c;
}

Test(nft, owner_scope_sets)
{
	struct owner_fixture o;
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_set *s = nftnl_set_alloc();
	struct elem_list l;
	uint32_t ulen = 0;
	uint64_t id;

	fixture_owner(&o);
	build_install(&b, &o.x, NULL);
	walk(&b, &ms);
	cr_assert_not_null(find_set(&ms, "uids", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 24, "uid");
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 4);
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), 0, "a plain hash set");
	cr_expect(nftnl_set_is_set(s, NFTNL_SET_USERDATA), "key byte order for nft list");
	cr_expect_gt((nftnl_set_get_data(s, NFTNL_SET_USERDATA, &ulen), ulen), 0);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "uids", &l), 1);
	cr_assert_eq(l.total, 2);
	cr_expect_eq(*(uint32_t *)l.key[0], 0);
	cr_expect_eq(*(uint32_t *)l.key[1], 65534, "host order, as meta skuid loads it");
	cr_assert_not_null(find_set(&ms, "cgroup_l1", s));
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 46, "cgroupsv2");
	cr_expect_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cgroup_l1", &l), 1);
	cr_assert_eq(l.total, 1);
	memcpy(&id, l.key[0], 8);
	cr_expect_eq(id, 7);
	cr_assert_not_null(find_set(&ms, "cgroup_l2", s));
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cgroup_l2", &l), 1);
	cr_assert_eq(l.total, 3, "both ids of a/b, the id of d/e");
	memcpy(&id, l.key[2], 8);
	cr_expect_eq(id, 200);
	cr_expect_null(find_set(&ms, "cgroup_l3", s));
	nftnl_set_free(s);
	nfnl_batch_free(&b);
}

Test(nft, owner_scope_chains_and_rules)
{
	char got[32][300];
	struct owner_fixture o;
	struct nfnl_batch b;
	struct msgs ms;
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct label_check k;
	uint8_t want[16], mask;
	size_t n, i, byte, watch_new = 99;
	char chains[128] = "";

	fixture_owner(&o);
	build_install(&b, &o.x, NULL);
	walk(&b, &ms);
	for (i = 0; i < ms.n; i++) {
		if (mtype(ms.m[i]) != NFT_MSG_NEWCHAIN)
			continue;
		cr_assert_eq(nftnl_chain_nlmsg_parse(ms.m[i], c), 0);
		snprintf(chains + strlen(chains), sizeof(chains) - strlen(chains), "%s ",
			 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
	}
	cr_expect_str_eq(chains, "output owner egress ", "no input, forward or ingress: egress only");
	n = rules_of(&ms, got, 32);
	cr_assert_geq(n, 8);
	cr_expect_str_eq(got[0], "output: meta,cmp,immediate", "protocol and port returns first");
	cr_expect_str_eq(got[2], "output: meta,cmp,payload,lookup,immediate");
	cr_expect_str_eq(got[4], "owner: meta,lookup,socket,lookup,immediate");
	cr_expect_str_eq(got[5], "owner: meta,lookup,socket,lookup,immediate");
	k = rule_check(&ms, 2);
	cr_expect_str_eq(k.lookup, "dst4");
	k = rule_check(&ms, 4);
	cr_expect_eq(k.socket_key, NFT_SOCKET_CGROUPV2);
	cr_expect_eq(k.socket_level, 1, "levels ascending");
	cr_expect_str_eq(k.lookup, "cgroup_l1");
	cr_expect(k.goto_egress, "goto, not jump: a socket matching two levels counts once");
	k = rule_check(&ms, 5);
	cr_expect_eq(k.socket_level, 2);
	cr_expect_str_eq(k.lookup, "cgroup_l2");
	for (i = 0; i < n; i++)
		if (strstr(got[i], "egress: ct,bitwise,cmp,objref"))
			watch_new = i;
	cr_assert_lt(watch_new, n);
	cr_expect_str_eq(got[watch_new], "egress: ct,bitwise,cmp,objref,immediate,ct");
	k = rule_check(&ms, watch_new);
	cr_expect(k.ct_set_labels);
	cr_assert_eq(k.imm_len, 16);
	scope_label_bytes(want, &byte, &mask);
	cr_expect_arr_eq(k.imm, want, 16);
	nftnl_chain_free(c);
	nfnl_batch_free(&b);

	/* flows not counted: no label; uids alone: no socket expression */
	o.x.p.arm_min_flows = 0;
	o.x.p.n_cgroups = 0;
	o.sc.n_cgroups = 0;
	build_install(&b, &o.x, NULL);
	walk(&b, &ms);
	n = rules_of(&ms, got, 32);
	cr_expect_str_eq(got[4], "owner: meta,lookup,immediate");
	for (i = 0; i < n; i++)
		cr_expect_null(strstr(got[i], "immediate,ct"), "no label: %s", got[i]);
	nfnl_batch_free(&b);
}

Test(nft, owner_scope_needs_its_resolution)
{
	struct owner_fixture o;
	struct nfnl_batch b;

	fixture_owner(&o);
	o.x.ts.scope = NULL;
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_install(&b, &o.x.p, &o.x.ts, NULL), -EINVAL);
	nfnl_batch_free(&b);
	fixture_owner(&o);
	o.sc.n_cgroups = 1; /* the policy has three */
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_install(&b, &o.x.p, &o.x.ts, NULL), -EINVAL);
	nfnl_batch_free(&b);
}

Test(nft, cgroup_update)
{
	const struct nft_cgroup_update u[2] = { { .level = 2, .add_id = 102, .del_id = 100 }, { .level = 1, .add_id = 8 } };
	struct nfnl_batch b;
	struct msgs ms;
	struct elem_list l;
	uint64_t id;

	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_assert_eq(nft_build_cgroup_update(&b, u, 2), 0);
	cr_assert_eq(nfnl_batch_end(&b), 0);
	walk(&b, &ms);
	cr_assert_eq(ms.n, 3, "one transaction");
	cr_expect_eq(mtype(ms.m[0]), NFT_MSG_DELSETELEM);
	cr_expect_eq(mtype(ms.m[1]), NFT_MSG_NEWSETELEM);
	cr_expect_eq(mtype(ms.m[2]), NFT_MSG_NEWSETELEM);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_DELSETELEM, "cgroup_l2", &l), 1);
	memcpy(&id, l.key[0], 8);
	cr_expect_eq(id, 100);
	cr_expect_eq(l.klen[0], 8);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cgroup_l2", &l), 1);
	memcpy(&id, l.key[0], 8);
	cr_expect_eq(id, 102);
	cr_assert_eq(parse_elems(&ms, NFT_MSG_NEWSETELEM, "cgroup_l1", &l), 1);
	memcpy(&id, l.key[0], 8);
	cr_expect_eq(id, 8);
	nfnl_batch_free(&b);
	cr_assert_eq(nfnl_batch_init(&b, 1), 0);
	cr_expect_eq(nft_build_cgroup_update(&b, u, 0), -EINVAL);
	nfnl_batch_free(&b);
}

Test(nft, render_owner_scope)
{
	struct owner_fixture o;
	char *text;

	fixture_owner(&o);
	text = render(&o.x, NULL, 0);
	cr_expect_not_null(strstr(text, "\tset uids {\n\t\ttype uid\n\t\telements = { 0, 65534 }\n\t}\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\tset cgroup_l1 {\n\t\ttype cgroupsv2\n\t\t# element 7: cgroup c (added by the "
				       "daemon: nft reads cgroup paths under /sys/fs/cgroup only)\n\t}\n"), "%s", text);
	cr_expect_not_null(strstr(text, "# element 101: cgroup a/b"), "%s", text);
	cr_expect_not_null(strstr(text, "# element 200: cgroup d/e"), "%s", text);
	cr_expect_not_null(strstr(text, "\t\tmeta l4proto != tcp return\n\t\tth dport != 443 return\n"
				       "\t\tip daddr @dst4 jump owner\n\t\tip6 daddr @dst6 jump owner\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\tchain owner {\n"
				       "\t\tmeta skuid @uids socket cgroupv2 level 1 @cgroup_l1 goto egress\n"
				       "\t\tmeta skuid @uids socket cgroupv2 level 2 @cgroup_l2 goto egress\n\t}\n"), "%s", text);
	cr_expect_not_null(strstr(text, "ct state new counter name \"watch_new\" ct label set 127\n"), "%s", text);
	cr_expect_null(strstr(text, "chain forward"));
	cr_expect_null(strstr(text, "chain input"));
	cr_expect_null(strstr(text, "chain ingress"));
	free(text);
}
