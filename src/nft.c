/* SPDX-License-Identifier: MIT */
/* The nftables fault engine: plan the table once, then either encode the
 * plan as netlink messages (install) or print it in nft syntax (dry run),
 * so that both always describe the same ruleset. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <net/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "log.h"
#include "nft.h"

/* nftables datatype ids (nftables include/datatype.h), so that
 * `nft list ruleset` prints keys by type */
#define DT_NFPROTO 2
#define DT_IPADDR 7
#define DT_IP6ADDR 8
#define DT_INET_PROTOCOL 12
#define DT_INET_SERVICE 13

/* set ids tie a lookup to a set created in the same transaction */
#define SETID_DST4 1
#define SETID_DST6 2
#define SETID_PORTS 3
#define SETID_XPORTS 4
#define SETID_ANON 100
#define SETID_SWITCH 1000

#define CHAIN_PRIO (-5) /* "priority filter - 5" */
#define NG_MOD PCT_MAX  /* numgen random mod 100000: percent in PCT units */
#define MSG_MAX 8192    /* any message but NEWSETELEM */
#define ELEM_NEST_MAX 60000

enum op_kind {
	OP_ADDR_SET,     /* ip|ip6 saddr|daddr @set */
	OP_LOOPBACK,     /* meta iiftype loopback */
	OP_L4PROTO,      /* meta l4proto [!=] tcp|udp */
	OP_L4PROTO_ANY,  /* meta l4proto [!=] { tcp, udp }: anonymous set */
	OP_TH_PORT_SET,  /* th sport|dport [!=] @set */
	OP_COUNTER,      /* counter name "X" */
	OP_CT_NEW,       /* ct state new */
	OP_TCP_PUSH,     /* tcp flags psh / fin,syn,rst,psh (with meta l4proto tcp) */
	OP_SWITCH,       /* meta nfproto @on<i> */
	OP_NUMGEN_LT,    /* numgen random mod 100000 < P */
	OP_PRIO_SET,     /* meta priority set MAJ:MIN */
	OP_DROP,
	OP_RETURN,
	OP_JUMP,
	OP_REJECT,
};

#define F_INV 0x1
#define F_V6 0x2
#define F_SRC 0x4

struct op {
	enum op_kind kind;
	unsigned flags;
	uint32_t val;      /* protocol, fault index, percent, priority, reject_with */
	uint32_t set_id;
	const char *name;  /* set, counter or chain name; NULL: derived from val */
};

#define MAX_OPS 6
struct rule_ir {
	const char *chain;
	struct op ops[MAX_OPS];
	int n;
};

struct plan {
	const struct policy *p;
	const uint32_t *delay_prio;
	bool ingress;
	struct addr_range *v4, *v6;
	size_t n_v4, n_v6;
	struct port_range *ports, *xports;
	size_t n_ports, n_xports;
	struct rule_ir *rules;
	size_t n_rules, cap_rules;
	bool overflow;
};

static const char *const chain_order[] = { "output", "input", "forward", "egress", "ingress" };
#define ARRAY_LEN_CHAINS (sizeof(chain_order) / sizeof(chain_order[0]))

/* ---- ranges ---------------------------------------------------------- */

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* a += 1; returns true on wrap-around (a was the top address) */
static bool addr_inc(uint8_t *a, int len)
{
	int i;

	for (i = len - 1; i >= 0; i--)
		if (++a[i] != 0)
			return false;
	return true;
}

static int range_cmp(const void *x, const void *y)
{
	const struct addr_range *a = x, *b = y;

	return memcmp(a->lo, b->lo, 16);
}

/* Sorted, with overlapping and adjacent ranges merged: adjacent ranges
 * would give an end element and a start element with the same key. */
static int norm_ranges(const struct addr_range *in, size_t n, int family, struct addr_range **out, size_t *n_out)
{
	int len = addr_len(family);
	struct addr_range *r;
	size_t i, k = 0;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return 0;
	r = calloc(n, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (in[i].family != family || memcmp(in[i].lo, in[i].hi, (size_t)len) > 0) {
			free(r);
			return -EINVAL;
		}
		r[i].family = family;
		memcpy(r[i].lo, in[i].lo, (size_t)len);
		memcpy(r[i].hi, in[i].hi, (size_t)len);
	}
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		uint8_t next[16];
		bool top;

		memcpy(next, r[k].hi, 16);
		top = addr_inc(next, len);
		if (top || memcmp(r[i].lo, next, (size_t)len) <= 0) {
			if (memcmp(r[i].hi, r[k].hi, (size_t)len) > 0)
				memcpy(r[k].hi, r[i].hi, 16);
		} else {
			r[++k] = r[i];
		}
	}
	*out = r;
	*n_out = k + 1;
	return 0;
}

static int port_cmp(const void *x, const void *y)
{
	const struct port_range *a = x, *b = y;

	return (int)a->lo - (int)b->lo;
}

static int norm_ports(const struct port_range *in, size_t n, struct port_range **out, size_t *n_out)
{
	struct port_range *r;
	size_t i, k = 0;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (in[i].lo > in[i].hi) {
			free(r);
			return -EINVAL;
		}
		r[i] = in[i];
	}
	qsort(r, n, sizeof(*r), port_cmp);
	for (i = 1; i < n; i++) {
		if (r[k].hi == 65535 || r[i].lo <= r[k].hi + 1) {
			if (r[i].hi > r[k].hi)
				r[k].hi = r[i].hi;
		} else {
			r[++k] = r[i];
		}
	}
	*out = r;
	*n_out = k + 1;
	return 0;
}

/* ---- plan ------------------------------------------------------------ */

static struct rule_ir *plan_rule(struct plan *pl, const char *chain)
{
	struct rule_ir *r;

	if (pl->n_rules == pl->cap_rules) {
		pl->overflow = true; /* sized in plan_make: cannot happen */
		return NULL;
	}
	r = &pl->rules[pl->n_rules++];
	memset(r, 0, sizeof(*r));
	r->chain = chain;
	return r;
}

static void rule_op(struct rule_ir *r, enum op_kind kind, unsigned flags, uint32_t val, uint32_t set_id,
		    const char *name)
{
	if (!r || r->n == MAX_OPS)
		return;
	r->ops[r->n++] = (struct op){ .kind = kind, .flags = flags, .val = val, .set_id = set_id, .name = name };
}

static void plan_jumps(struct plan *pl, const char *chain, unsigned src, const char *target)
{
	struct rule_ir *r = plan_rule(pl, chain);

	rule_op(r, OP_ADDR_SET, src, 0, SETID_DST4, "dst4");
	rule_op(r, OP_JUMP, 0, 0, 0, target);
	r = plan_rule(pl, chain);
	rule_op(r, OP_ADDR_SET, src | F_V6, 0, SETID_DST6, "dst6");
	rule_op(r, OP_JUMP, 0, 0, 0, target);
}

static uint8_t ipproto(enum l4_proto pr)
{
	return pr == PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
}

/* Scope filters: everything out of scope returns to the base chain. Ports
 * are the remote side: destination port on egress, source on ingress. */
static void plan_scope(struct plan *pl, const char *chain, bool egress)
{
	const struct policy *p = pl->p;
	struct rule_ir *r;
	/* with protocol any and no ports, non-TCP/UDP packets stay in scope,
	 * and th (transport header) must only be read for TCP/UDP */
	bool guard = p->protocol == PROTO_ANY && !pl->n_ports;

	if (p->protocol != PROTO_ANY) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_L4PROTO, F_INV, ipproto(p->protocol), 0, NULL);
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	} else if (pl->n_ports) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_L4PROTO_ANY, F_INV, 0, 0, NULL);
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	}
	if (pl->n_xports) {
		unsigned f;

		for (f = 0; f < 2; f++) {
			r = plan_rule(pl, chain);
			if (guard)
				rule_op(r, OP_L4PROTO_ANY, 0, 0, 0, NULL);
			rule_op(r, OP_TH_PORT_SET, f ? 0 : F_SRC, 0, SETID_XPORTS, "xports");
			rule_op(r, OP_RETURN, 0, 0, 0, NULL);
		}
	}
	if (pl->n_ports) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_TH_PORT_SET, F_INV | (egress ? 0 : F_SRC), 0, SETID_PORTS, "ports");
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	}
}

static enum reject_with resolve_with(const struct policy *p, enum reject_with w)
{
	if (w != REJ_DEFAULT)
		return w;
	return p->protocol == PROTO_TCP ? REJ_TCP_RESET : REJ_ICMP_PORT;
}

static int plan_fault(struct plan *pl, const char *chain, bool egress, uint32_t i)
{
	const struct fault *f = &pl->p->faults[i];
	struct rule_ir *r;

	if (f->action == ACT_PAUSE || (f->action == ACT_DELAY && !egress))
		return 0;
	if (f->action != ACT_DELAY && pl->p->direction == (egress ? DIR_INGRESS : DIR_EGRESS))
		return 0;
	r = plan_rule(pl, chain);
	rule_op(r, OP_SWITCH, 0, i, SETID_SWITCH + i, NULL);
	switch (f->action) {
	case ACT_DROP:
		rule_op(r, OP_COUNTER, 0, i, 0, NULL);
		rule_op(r, OP_DROP, 0, 0, 0, NULL);
		break;
	case ACT_REJECT: {
		enum reject_with w = resolve_with(pl->p, f->with);

		if (w == REJ_TCP_RESET)
			rule_op(r, OP_L4PROTO, 0, IPPROTO_TCP, 0, NULL);
		rule_op(r, OP_COUNTER, 0, i, 0, NULL);
		rule_op(r, OP_REJECT, 0, w, 0, NULL);
		break;
	}
	case ACT_LOSS:
		if (f->percent > PCT_MAX)
			return -EINVAL;
		rule_op(r, OP_NUMGEN_LT, 0, f->percent, 0, NULL);
		rule_op(r, OP_COUNTER, 0, i, 0, NULL);
		rule_op(r, OP_DROP, 0, 0, 0, NULL);
		break;
	case ACT_DELAY:
		if (!pl->delay_prio || !pl->delay_prio[i])
			return -EINVAL;
		rule_op(r, OP_COUNTER, 0, i, 0, NULL);
		rule_op(r, OP_PRIO_SET, 0, pl->delay_prio[i], 0, NULL);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* Calls toward the targets (okx-faultd.policy(5), arm_min_calls): a TCP
 * segment the sender pushed (PSH: the end of one write, which Linux sets
 * once per send and never on a pure ACK, a keep-alive or window probe),
 * not a SYN, FIN or RST; every UDP datagram. */
static void plan_calls(struct plan *pl, const char *chain)
{
	enum l4_proto pr = pl->p->protocol;
	struct rule_ir *r;

	if (pr != PROTO_UDP) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_TCP_PUSH, 0, 0, 0, NULL);
		rule_op(r, OP_COUNTER, 0, 0, 0, "watch_calls");
	}
	if (pr != PROTO_TCP) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_L4PROTO, 0, IPPROTO_UDP, 0, NULL);
		rule_op(r, OP_COUNTER, 0, 0, 0, "watch_calls");
	}
}

static int plan_chain_body(struct plan *pl, const char *chain, bool egress)
{
	struct rule_ir *r;
	uint32_t i;
	int ret;

	if (!egress) {
		/* Targets never include local addresses, so a packet "from a
		 * target" arriving on loopback is our own reject's reply (TCP
		 * reset, ICMP error) to a local socket: let it through, or the
		 * ingress rules would drop it and the client would time out
		 * instead of failing at once. */
		r = plan_rule(pl, chain);
		rule_op(r, OP_LOOPBACK, 0, 0, 0, NULL);
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	}
	plan_scope(pl, chain, egress);
	if (egress) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_COUNTER, 0, 0, 0, "watch_pkts");
		/* any ct expression also makes conntrack track this namespace */
		r = plan_rule(pl, chain);
		rule_op(r, OP_CT_NEW, 0, 0, 0, NULL);
		rule_op(r, OP_COUNTER, 0, 0, 0, "watch_new");
		plan_calls(pl, chain);
	}
	for (i = 0; i < pl->p->n_faults; i++) {
		ret = plan_fault(pl, chain, egress, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void plan_free(struct plan *pl)
{
	free(pl->v4);
	free(pl->v6);
	free(pl->ports);
	free(pl->xports);
	free(pl->rules);
	memset(pl, 0, sizeof(*pl));
}

static int plan_make(struct plan *pl, const struct policy *p, const struct target_set *ts,
		     const uint32_t *delay_prio)
{
	int ret;

	memset(pl, 0, sizeof(*pl));
	pl->p = p;
	pl->delay_prio = delay_prio;
	pl->ingress = p->direction != DIR_EGRESS;
	if (p->n_faults > 100000)
		return -EINVAL;
	ret = norm_ranges(ts->v4, ts->n_v4, AF_INET, &pl->v4, &pl->n_v4);
	if (ret == 0)
		ret = norm_ranges(ts->v6, ts->n_v6, AF_INET6, &pl->v6, &pl->n_v6);
	if (ret == 0)
		ret = norm_ports(p->ports, p->n_ports, &pl->ports, &pl->n_ports);
	if (ret == 0)
		ret = norm_ports(p->exempt_ports, p->n_exempt_ports, &pl->xports, &pl->n_xports);
	if (ret < 0)
		goto fail;
	pl->cap_rules = 32 + 2 * p->n_faults;
	pl->rules = calloc(pl->cap_rules, sizeof(*pl->rules));
	if (!pl->rules) {
		ret = -ENOMEM;
		goto fail;
	}
	plan_jumps(pl, "output", 0, "egress");
	if (pl->ingress)
		plan_jumps(pl, "input", F_SRC, "ingress");
	plan_jumps(pl, "forward", 0, "egress");
	if (pl->ingress)
		plan_jumps(pl, "forward", F_SRC, "ingress");
	ret = plan_chain_body(pl, "egress", true);
	if (ret == 0 && pl->ingress)
		ret = plan_chain_body(pl, "ingress", false);
	if (ret == 0 && pl->overflow)
		ret = -E2BIG;
	if (ret < 0)
		goto fail;
	return 0;
fail:
	plan_free(pl);
	return ret;
}

static bool plan_has_chain(const struct plan *pl, const char *name)
{
	if (!strcmp(name, "input") || !strcmp(name, "ingress"))
		return pl->ingress;
	return true;
}

static int chain_hook(const char *name)
{
	if (!strcmp(name, "output"))
		return NF_INET_LOCAL_OUT;
	if (!strcmp(name, "input"))
		return NF_INET_LOCAL_IN;
	if (!strcmp(name, "forward"))
		return NF_INET_FORWARD;
	return -1;
}

/* ---- set elements ---------------------------------------------------- */

struct elem {
	uint8_t key[16];
	bool end;
};

struct elems {
	struct elem *e;
	size_t n, cap;
};

static int elems_push(struct elems *l, const void *key, size_t len, bool end)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct elem *p = realloc(l->e, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->e = p;
		l->cap = cap;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	memcpy(l->e[l->n].key, key, len);
	l->e[l->n++].end = end;
	return 0;
}

/* Interval set encoding: [lo, hi] is a start element lo and an end element
 * hi+1 flagged NFT_SET_ELEM_INTERVAL_END (none when hi is the top of the
 * space). Like nft, lead with an end element at 0 when the first range does
 * not start at 0, so the kernel's tree has a closed left edge. */
static int elems_from_ranges(struct elems *l, const struct addr_range *r, size_t n, int family)
{
	static const uint8_t zero[16];
	size_t len = (size_t)addr_len(family), i;
	int ret = 0;

	if (n && memcmp(r[0].lo, zero, len) != 0)
		ret = elems_push(l, zero, len, true);
	for (i = 0; ret == 0 && i < n; i++) {
		uint8_t next[16];

		ret = elems_push(l, r[i].lo, len, false);
		memcpy(next, r[i].hi, 16);
		if (ret == 0 && !addr_inc(next, (int)len))
			ret = elems_push(l, next, len, true);
	}
	return ret;
}

static int elems_from_ports(struct elems *l, const struct port_range *r, size_t n)
{
	static const uint8_t zero[2];
	size_t i;
	int ret = 0;

	if (n && r[0].lo != 0)
		ret = elems_push(l, zero, 2, true);
	for (i = 0; ret == 0 && i < n; i++) {
		uint16_t k = htons(r[i].lo);

		ret = elems_push(l, &k, 2, false);
		if (ret == 0 && r[i].hi != 65535) {
			k = htons((uint16_t)(r[i].hi + 1));
			ret = elems_push(l, &k, 2, true);
		}
	}
	return ret;
}

unsigned nft_elems_per_msg(unsigned key_len)
{
	/* element nest + key nest + value + flags + timeout */
	unsigned per = 4 + 4 + 4 + MNL_ALIGN(key_len) + 8 + 12;

	return ELEM_NEST_MAX / per;
}

/* ---- encoders -------------------------------------------------------- */

struct build {
	struct nfnl_batch *b;
	uint32_t anon_id;
};

static int add_msg(struct build *bd, size_t reserved, const char *fmt_kind, const char *name)
{
	char what[56];

	snprintf(what, sizeof(what), "%s %s", fmt_kind, name);
	return nfnl_batch_add(bd->b, reserved, what);
}

static struct nlmsghdr *msg_start(struct build *bd, size_t reserve, uint16_t type, uint16_t flags)
{
	char *buf = nfnl_batch_reserve(bd->b, reserve);

	if (!buf)
		return NULL;
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags | NLM_F_ACK, nfnl_batch_seq(bd->b));
}

static int put_table(struct build *bd)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME) < 0)
		goto out;
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
	/* NLM_F_EXCL: an existing table means another okx-faultd */
	nlh = msg_start(bd, MSG_MAX, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	ret = add_msg(bd, MSG_MAX, "add table inet", NFT_TABLE_NAME);
	/* EPERM: the table exists and another socket owns it */
	if (ret == 0)
		ret = nfnl_batch_quiet(bd->b, -EEXIST);
	if (ret == 0)
		ret = nfnl_batch_quiet(bd->b, -EPERM);
out:
	nftnl_table_free(t);
	return ret;
}

static struct nftnl_set *set_ref(const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME) < 0 || nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

static int put_set(struct build *bd, const char *name, uint32_t id, uint32_t key_type, uint32_t key_len,
		   uint32_t flags, uint32_t size)
{
	struct nftnl_set *s = set_ref(name, id);
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!s)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	if (size)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nlh = msg_start(bd, MSG_MAX, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (!nlh)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	ret = add_msg(bd, MSG_MAX, "add set", name);
out:
	nftnl_set_free(s);
	return ret;
}

/* One NEWSETELEM/DELSETELEM message per chunk, each under the 64 KiB
 * attribute nest limit; all in the same batch. */
static int put_elems(struct build *bd, uint16_t type, const char *name, uint32_t id, size_t key_len,
		     const struct elem *el, size_t n, uint64_t timeout_ms)
{
	size_t per = nft_elems_per_msg((unsigned)key_len), done = 0;
	const char *verb = type == NFT_MSG_NEWSETELEM ? "add element" : type == NFT_MSG_DELSETELEM ? "delete element" : "destroy element";

	while (done < n) {
		size_t k = n - done < per ? n - done : per, i, reserve = 1024 + k * (36 + key_len);
		struct nftnl_set *s = set_ref(name, id);
		struct nlmsghdr *nlh;
		int ret = -ENOMEM;

		if (!s)
			return -ENOMEM;
		for (i = 0; i < k; i++) {
			const struct elem *x = &el[done + i];
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();

			if (!e)
				goto chunk_out;
			nftnl_set_elem_add(s, e);
			if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, x->key, (uint32_t)key_len) < 0)
				goto chunk_out;
			if (x->end)
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
			if (timeout_ms)
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		}
		nlh = msg_start(bd, reserve, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		if (!nlh)
			goto chunk_out;
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		ret = add_msg(bd, reserve, verb, name);
chunk_out:
		nftnl_set_free(s);
		if (ret < 0)
			return ret;
		done += k;
	}
	return 0;
}

static int put_counter(struct build *bd, const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!o)
		goto out;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFT_TABLE_NAME);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	if (!nftnl_obj_is_set(o, NFTNL_OBJ_TABLE) || !nftnl_obj_is_set(o, NFTNL_OBJ_NAME))
		goto out;
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, 0);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, 0);
	nlh = msg_start(bd, MSG_MAX, NFT_MSG_NEWOBJ, NLM_F_CREATE);
	if (!nlh)
		goto out;
	nftnl_obj_nlmsg_build_payload(nlh, o);
	ret = add_msg(bd, MSG_MAX, "add counter", name);
out:
	nftnl_obj_free(o);
	return ret;
}

static int put_chain(struct build *bd, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	int hook = chain_hook(name);
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0)
		goto out;
	if (hook >= 0) {
		if (nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0)
			goto out;
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, CHAIN_PRIO);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = msg_start(bd, MSG_MAX, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (!nlh)
		goto out;
	nftnl_chain_nlmsg_build_payload(nlh, c);
	ret = add_msg(bd, MSG_MAX, "add chain", name);
out:
	nftnl_chain_free(c);
	return ret;
}

/* Rule builder with a sticky error: expression helpers do nothing once
 * something failed, the caller checks rb.err once. */
struct rb {
	struct nftnl_rule *r;
	int err;
};

static struct nftnl_expr *rb_new(struct rb *rb, const char *name)
{
	struct nftnl_expr *e;

	if (rb->err)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e) {
		rb->err = -ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(rb->r, e);
	return e;
}

static void rb_data(struct rb *rb, struct nftnl_expr *e, uint16_t attr, const void *data, uint32_t len)
{
	if (e && nftnl_expr_set(e, attr, data, len) < 0)
		rb->err = -ENOMEM;
}

static void rb_str(struct rb *rb, struct nftnl_expr *e, uint16_t attr, const char *s)
{
	if (e && nftnl_expr_set_str(e, attr, s) < 0)
		rb->err = -ENOMEM;
}

static void rb_u32(struct nftnl_expr *e, uint16_t attr, uint32_t v)
{
	if (e)
		nftnl_expr_set_u32(e, attr, v);
}

static void rb_meta_load(struct rb *rb, uint32_t key)
{
	struct nftnl_expr *e = rb_new(rb, "meta");

	rb_u32(e, NFTNL_EXPR_META_KEY, key);
	rb_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void rb_cmp(struct rb *rb, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rb_new(rb, "cmp");

	rb_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_CMP_OP, op);
	rb_data(rb, e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void rb_payload(struct rb *rb, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = rb_new(rb, "payload");

	rb_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	rb_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	rb_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void rb_lookup(struct rb *rb, const char *set, uint32_t id, bool inv)
{
	struct nftnl_expr *e = rb_new(rb, "lookup");

	rb_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	rb_str(rb, e, NFTNL_EXPR_LOOKUP_SET, set);
	rb_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (inv)
		rb_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

static void rb_verdict(struct rb *rb, int verdict, const char *chain)
{
	struct nftnl_expr *e = rb_new(rb, "immediate");

	rb_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	rb_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		rb_str(rb, e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void rb_objref(struct rb *rb, const char *name)
{
	struct nftnl_expr *e = rb_new(rb, "objref");

	rb_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	rb_str(rb, e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
}

static void rb_ct_new(struct rb *rb)
{
	uint32_t mask = 1u << (IP_CT_NEW + 1), zero = 0; /* NF_CT_STATE_BIT(IP_CT_NEW) */
	struct nftnl_expr *e = rb_new(rb, "ct");

	rb_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	rb_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = rb_new(rb, "bitwise");
	rb_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	rb_data(rb, e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	rb_data(rb, e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	rb_cmp(rb, NFT_CMP_NEQ, &zero, 4);
}

/* TCP flags: the byte at offset 13 of the TCP header; the protocol test
 * first, as nft adds it for any tcp expression (and lists it implied) */
static void rb_tcp_push(struct rb *rb)
{
	uint8_t mask = TH_FIN | TH_SYN | TH_RST | TH_PUSH, want = TH_PUSH, zero = 0, tcp = IPPROTO_TCP;
	struct nftnl_expr *e;

	rb_meta_load(rb, NFT_META_L4PROTO);
	rb_cmp(rb, NFT_CMP_EQ, &tcp, 1);
	rb_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	e = rb_new(rb, "bitwise");
	rb_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
	rb_data(rb, e, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
	rb_data(rb, e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
	rb_cmp(rb, NFT_CMP_EQ, &want, 1);
}

/* numgen yields a host-order integer; cmp compares bytes, so convert to
 * network order first and compare against a network-order constant. */
static void rb_numgen_lt(struct rb *rb, uint32_t thr)
{
	struct nftnl_expr *e = rb_new(rb, "numgen");
	uint32_t be = htonl(thr);

	rb_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_NG_MODULUS, NG_MOD);
	rb_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	rb_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
	e = rb_new(rb, "byteorder");
	rb_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	rb_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 4);
	rb_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
	rb_cmp(rb, NFT_CMP_LT, &be, 4);
}

static void rb_prio_set(struct rb *rb, uint32_t prio)
{
	struct nftnl_expr *e = rb_new(rb, "immediate");

	rb_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	rb_data(rb, e, NFTNL_EXPR_IMM_DATA, &prio, 4);
	e = rb_new(rb, "meta");
	rb_u32(e, NFTNL_EXPR_META_KEY, NFT_META_PRIORITY);
	rb_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

static void reject_type_code(enum reject_with w, uint32_t *type, uint32_t *code)
{
	*type = NFT_REJECT_ICMPX_UNREACH;
	switch (w) {
	case REJ_TCP_RESET:
		*type = NFT_REJECT_TCP_RST;
		*code = 0;
		break;
	case REJ_ICMP_HOST:
		*code = NFT_REJECT_ICMPX_HOST_UNREACH;
		break;
	case REJ_ICMP_NET:
		*code = NFT_REJECT_ICMPX_NO_ROUTE;
		break;
	case REJ_ICMP_ADMIN:
		*code = NFT_REJECT_ICMPX_ADMIN_PROHIBITED;
		break;
	default:
		*code = NFT_REJECT_ICMPX_PORT_UNREACH;
		break;
	}
}

static void rb_reject(struct rb *rb, enum reject_with w)
{
	struct nftnl_expr *e = rb_new(rb, "reject");
	uint32_t type, code;

	reject_type_code(w, &type, &code);
	rb_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	if (e)
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, (uint8_t)code);
}

static void fault_name(char *buf, size_t len, const char *prefix, uint32_t i)
{
	snprintf(buf, len, "%s%u", prefix, i);
}

/* { tcp, udp } as an anonymous constant set: its messages must precede
 * the rule that uses it. */
static int put_anon_l4(struct build *bd, uint32_t *id)
{
	static const uint8_t tcp = IPPROTO_TCP, udp = IPPROTO_UDP;
	struct elems l = { 0 };
	int ret;

	*id = SETID_ANON + bd->anon_id++;
	ret = put_set(bd, "__set%d", *id, DT_INET_PROTOCOL, 1, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT, 2);
	if (ret == 0)
		ret = elems_push(&l, &tcp, 1, false);
	if (ret == 0)
		ret = elems_push(&l, &udp, 1, false);
	if (ret == 0)
		ret = put_elems(bd, NFT_MSG_NEWSETELEM, "__set%d", *id, 1, l.e, l.n, 0);
	free(l.e);
	return ret;
}

static void encode_op(struct rb *rb, const struct op *o, uint32_t anon_id)
{
	char name[32];
	bool inv = o->flags & F_INV;
	uint8_t b;

	switch (o->kind) {
	case OP_ADDR_SET: {
		bool v6 = o->flags & F_V6, src = o->flags & F_SRC;

		b = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		rb_meta_load(rb, NFT_META_NFPROTO);
		rb_cmp(rb, NFT_CMP_EQ, &b, 1);
		/* iphdr saddr 12 daddr 16; ipv6hdr saddr 8 daddr 24 */
		rb_payload(rb, NFT_PAYLOAD_NETWORK_HEADER, v6 ? (src ? 8 : 24) : (src ? 12 : 16), v6 ? 16 : 4);
		rb_lookup(rb, o->name, o->set_id, false);
		break;
	}
	case OP_LOOPBACK: {
		uint16_t t = ARPHRD_LOOPBACK;

		rb_meta_load(rb, NFT_META_IIFTYPE);
		rb_cmp(rb, NFT_CMP_EQ, &t, 2);
		break;
	}
	case OP_L4PROTO:
		b = (uint8_t)o->val;
		rb_meta_load(rb, NFT_META_L4PROTO);
		rb_cmp(rb, inv ? NFT_CMP_NEQ : NFT_CMP_EQ, &b, 1);
		break;
	case OP_L4PROTO_ANY:
		rb_meta_load(rb, NFT_META_L4PROTO);
		rb_lookup(rb, "__set%d", anon_id, inv);
		break;
	case OP_TH_PORT_SET:
		rb_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, (o->flags & F_SRC) ? 0 : 2, 2);
		rb_lookup(rb, o->name, o->set_id, inv);
		break;
	case OP_COUNTER:
		fault_name(name, sizeof(name), "f", o->val);
		rb_objref(rb, o->name ? o->name : name);
		break;
	case OP_CT_NEW:
		rb_ct_new(rb);
		break;
	case OP_TCP_PUSH:
		rb_tcp_push(rb);
		break;
	case OP_SWITCH:
		fault_name(name, sizeof(name), "on", o->val);
		rb_meta_load(rb, NFT_META_NFPROTO);
		rb_lookup(rb, name, o->set_id, false);
		break;
	case OP_NUMGEN_LT:
		rb_numgen_lt(rb, o->val);
		break;
	case OP_PRIO_SET:
		rb_prio_set(rb, o->val);
		break;
	case OP_DROP:
		rb_verdict(rb, NF_DROP, NULL);
		break;
	case OP_RETURN:
		rb_verdict(rb, NFT_RETURN, NULL);
		break;
	case OP_JUMP:
		rb_verdict(rb, NFT_JUMP, o->name);
		break;
	case OP_REJECT:
		rb_reject(rb, (enum reject_with)o->val);
		break;
	}
}

static int put_rule(struct build *bd, const struct rule_ir *ir)
{
	struct rb rb = { .r = nftnl_rule_alloc(), .err = 0 };
	uint32_t anon_id = 0;
	struct nlmsghdr *nlh;
	int i, ret;

	if (!rb.r)
		return -ENOMEM;
	for (i = 0; i < ir->n; i++) {
		if (ir->ops[i].kind == OP_L4PROTO_ANY) {
			ret = put_anon_l4(bd, &anon_id);
			if (ret < 0)
				goto out;
		}
	}
	if (nftnl_rule_set_str(rb.r, NFTNL_RULE_TABLE, NFT_TABLE_NAME) < 0 ||
	    nftnl_rule_set_str(rb.r, NFTNL_RULE_CHAIN, ir->chain) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_rule_set_u32(rb.r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (i = 0; i < ir->n; i++)
		encode_op(&rb, &ir->ops[i], anon_id);
	ret = rb.err;
	if (ret < 0)
		goto out;
	nlh = msg_start(bd, MSG_MAX, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	if (!nlh) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_rule_nlmsg_build_payload(nlh, rb.r);
	ret = add_msg(bd, MSG_MAX, "add rule to chain", ir->chain);
out:
	nftnl_rule_free(rb.r);
	return ret;
}

static int put_interval_set(struct build *bd, const char *name, uint32_t id, uint32_t dt, size_t key_len,
			    struct elems *l)
{
	int ret = put_set(bd, name, id, dt, (uint32_t)key_len, NFT_SET_INTERVAL, 0);

	if (ret == 0)
		ret = put_elems(bd, NFT_MSG_NEWSETELEM, name, id, key_len, l->e, l->n, 0);
	return ret;
}

static int build_sets(struct build *bd, const struct plan *pl)
{
	struct elems l = { 0 };
	char name[32];
	size_t i;
	int ret;

	ret = elems_from_ranges(&l, pl->v4, pl->n_v4, AF_INET);
	if (ret == 0)
		ret = put_interval_set(bd, "dst4", SETID_DST4, DT_IPADDR, 4, &l);
	l.n = 0;
	if (ret == 0)
		ret = elems_from_ranges(&l, pl->v6, pl->n_v6, AF_INET6);
	if (ret == 0)
		ret = put_interval_set(bd, "dst6", SETID_DST6, DT_IP6ADDR, 16, &l);
	l.n = 0;
	if (ret == 0 && pl->n_ports) {
		ret = elems_from_ports(&l, pl->ports, pl->n_ports);
		if (ret == 0)
			ret = put_interval_set(bd, "ports", SETID_PORTS, DT_INET_SERVICE, 2, &l);
	}
	l.n = 0;
	if (ret == 0 && pl->n_xports) {
		ret = elems_from_ports(&l, pl->xports, pl->n_xports);
		if (ret == 0)
			ret = put_interval_set(bd, "xports", SETID_XPORTS, DT_INET_SERVICE, 2, &l);
	}
	free(l.e);
	for (i = 0; ret == 0 && i < pl->p->n_faults; i++) {
		if (pl->p->faults[i].action == ACT_PAUSE)
			continue;
		fault_name(name, sizeof(name), "on", (uint32_t)i);
		ret = put_set(bd, name, SETID_SWITCH + (uint32_t)i, DT_NFPROTO, 1, NFT_SET_TIMEOUT, 0);
	}
	return ret;
}

static int build_counters(struct build *bd, const struct plan *pl)
{
	char name[32];
	size_t i;
	int ret = 0;

	for (i = 0; ret == 0 && i < pl->p->n_faults; i++) {
		if (pl->p->faults[i].action == ACT_PAUSE)
			continue;
		fault_name(name, sizeof(name), "f", (uint32_t)i);
		ret = put_counter(bd, name);
	}
	if (ret == 0)
		ret = put_counter(bd, "watch_pkts");
	if (ret == 0)
		ret = put_counter(bd, "watch_new");
	if (ret == 0)
		ret = put_counter(bd, "watch_calls");
	return ret;
}

int nft_build_install(struct nfnl_batch *b, const struct policy *p, const struct target_set *ts,
		      const uint32_t *delay_prio)
{
	struct build bd = { .b = b };
	struct plan pl;
	size_t i, c;
	int ret;

	ret = plan_make(&pl, p, ts, delay_prio);
	if (ret < 0)
		return ret;
	ret = put_table(&bd);
	if (ret == 0)
		ret = build_sets(&bd, &pl);
	if (ret == 0)
		ret = build_counters(&bd, &pl);
	/* all chains before any rule: jumps need their target to exist */
	for (c = 0; ret == 0 && c < ARRAY_LEN_CHAINS; c++)
		if (plan_has_chain(&pl, chain_order[c]))
			ret = put_chain(&bd, chain_order[c]);
	for (c = 0; ret == 0 && c < ARRAY_LEN_CHAINS; c++)
		for (i = 0; ret == 0 && i < pl.n_rules; i++)
			if (!strcmp(pl.rules[i].chain, chain_order[c]))
				ret = put_rule(&bd, &pl.rules[i]);
	plan_free(&pl);
	return ret;
}

int nft_build_switch(struct nfnl_batch *b, int on_fault, uint64_t timeout_ms, int off_fault, unsigned flags)
{
	static const uint8_t fam[2] = { NFPROTO_IPV4, NFPROTO_IPV6 };
	uint16_t del = (flags & NFT_SWITCH_DELETE) ? NFT_MSG_DELSETELEM : NFT_MSG_DESTROYSETELEM_;
	struct build bd = { .b = b };
	struct elems l = { 0 };
	char name[32];
	int ret;

	if ((on_fault < 0 && off_fault < 0) || (on_fault >= 0 && timeout_ms == 0))
		return -EINVAL;
	ret = elems_push(&l, &fam[0], 1, false);
	if (ret == 0)
		ret = elems_push(&l, &fam[1], 1, false);
	if (ret == 0 && off_fault >= 0) {
		fault_name(name, sizeof(name), "on", (uint32_t)off_fault);
		ret = put_elems(&bd, del, name, 0, 1, l.e, l.n, 0);
	}
	if (ret == 0 && on_fault >= 0 && (flags & NFT_SWITCH_RENEW) && on_fault != off_fault) {
		fault_name(name, sizeof(name), "on", (uint32_t)on_fault);
		ret = put_elems(&bd, del, name, 0, 1, l.e, l.n, 0);
	}
	if (ret == 0 && on_fault >= 0) {
		fault_name(name, sizeof(name), "on", (uint32_t)on_fault);
		ret = put_elems(&bd, NFT_MSG_NEWSETELEM, name, 0, 1, l.e, l.n, timeout_ms);
	}
	free(l.e);
	return ret;
}

/* Ranges added to an interval set that already has its leading end
 * element at 0: each range is a start element and, unless it runs to the
 * top of the family, an end element. */
static int elems_add_ranges(struct elems *l, const struct addr_range *r, size_t n, int family)
{
	size_t len = (size_t)addr_len(family), i;
	int ret = 0;

	for (i = 0; ret == 0 && i < n; i++) {
		uint8_t next[16];

		ret = elems_push(l, r[i].lo, len, false);
		memcpy(next, r[i].hi, 16);
		if (ret == 0 && !addr_inc(next, (int)len))
			ret = elems_push(l, next, len, true);
	}
	return ret;
}

int nft_build_add_targets(struct nfnl_batch *b, const struct target_set *add)
{
	struct build bd = { .b = b };
	struct elems l = { 0 };
	int ret = 0;

	if (add->n_v4)
		ret = elems_add_ranges(&l, add->v4, add->n_v4, AF_INET);
	if (ret == 0 && l.n)
		ret = put_elems(&bd, NFT_MSG_NEWSETELEM, "dst4", 0, 4, l.e, l.n, 0);
	l.n = 0;
	if (ret == 0 && add->n_v6)
		ret = elems_add_ranges(&l, add->v6, add->n_v6, AF_INET6);
	if (ret == 0 && l.n)
		ret = put_elems(&bd, NFT_MSG_NEWSETELEM, "dst6", 0, 16, l.e, l.n, 0);
	free(l.e);
	return ret;
}

int nft_build_remove(struct nfnl_batch *b)
{
	struct build bd = { .b = b };
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME) < 0)
		goto out;
	nlh = msg_start(&bd, MSG_MAX, NFT_MSG_DELTABLE, 0);
	if (!nlh)
		goto out;
	nftnl_table_nlmsg_build_payload(nlh, t);
	ret = add_msg(&bd, MSG_MAX, "delete table inet", NFT_TABLE_NAME);
	if (ret == 0)
		ret = nfnl_batch_quiet(b, -ENOENT);
out:
	nftnl_table_free(t);
	return ret;
}

int nft_build_get_counter(char *buf, size_t len, uint32_t seq, const char *name)
{
	struct nftnl_obj *o;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (len < MNL_ALIGN(256 + strlen(name)))
		return -ENOSPC;
	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, NFT_TABLE_NAME);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	if (!nftnl_obj_is_set(o, NFTNL_OBJ_TABLE) || !nftnl_obj_is_set(o, NFTNL_OBJ_NAME))
		goto out;
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	memset(buf, 0, MNL_ALIGN(256 + strlen(name)));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	ret = (int)nlh->nlmsg_len;
out:
	nftnl_obj_free(o);
	return ret;
}

/* ---- render ---------------------------------------------------------- */

static bool bit_at(const uint8_t *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* The prefix length when [lo, hi] is exactly one network, else -1. */
static int range_plen(const uint8_t *lo, const uint8_t *hi, int bits)
{
	int p, i;

	for (p = 0; p < bits && bit_at(lo, p) == bit_at(hi, p); p++)
		;
	for (i = p; i < bits; i++)
		if (bit_at(lo, i) || !bit_at(hi, i))
			return -1;
	return p;
}

static void render_range(FILE *out, const struct addr_range *r, int family)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int bits = addr_len(family) * 8, p = range_plen(r->lo, r->hi, bits);

	if (!inet_ntop(family, r->lo, a, sizeof(a)) || !inet_ntop(family, r->hi, b, sizeof(b)))
		return;
	if (p == bits)
		fprintf(out, "%s", a);
	else if (p >= 0)
		fprintf(out, "%s/%d", a, p);
	else
		fprintf(out, "%s-%s", a, b);
}

static void render_sep(FILE *out, size_t i)
{
	if (i == 0)
		fputs(" ", out);
	else if (i % 8 == 0)
		fputs(",\n\t\t\t     ", out);
	else
		fputs(", ", out);
}

static void render_interval_set(FILE *out, const char *name, const char *type, const struct addr_range *r,
				const struct port_range *pr, size_t n, int family)
{
	size_t i;

	fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", name, type);
	if (n) {
		fputs("\t\telements = {", out);
		for (i = 0; i < n; i++) {
			render_sep(out, i);
			if (r)
				render_range(out, &r[i], family);
			else if (pr[i].lo == pr[i].hi)
				fprintf(out, "%u", pr[i].lo);
			else
				fprintf(out, "%u-%u", pr[i].lo, pr[i].hi);
		}
		fputs(" }\n", out);
	}
	fputs("\t}\n", out);
}

static const char *reject_text(enum reject_with w)
{
	switch (w) {
	case REJ_TCP_RESET:
		return "tcp reset";
	case REJ_ICMP_HOST:
		return "icmpx host-unreachable";
	case REJ_ICMP_NET:
		return "icmpx no-route";
	case REJ_ICMP_ADMIN:
		return "icmpx admin-prohibited";
	default:
		return "icmpx port-unreachable";
	}
}

static void render_op(FILE *out, const struct op *o)
{
	const char *inv = (o->flags & F_INV) ? "!= " : "";
	const char *proto = o->val == IPPROTO_UDP ? "udp" : "tcp";

	switch (o->kind) {
	case OP_ADDR_SET:
		fprintf(out, "%s %s @%s", (o->flags & F_V6) ? "ip6" : "ip", (o->flags & F_SRC) ? "saddr" : "daddr",
			o->name);
		break;
	case OP_LOOPBACK:
		fputs("meta iiftype loopback", out);
		break;
	case OP_L4PROTO:
		fprintf(out, "meta l4proto %s%s", inv, proto);
		break;
	case OP_L4PROTO_ANY:
		fprintf(out, "meta l4proto %s{ tcp, udp }", inv);
		break;
	case OP_TH_PORT_SET:
		fprintf(out, "th %s %s@%s", (o->flags & F_SRC) ? "sport" : "dport", inv, o->name);
		break;
	case OP_COUNTER:
		if (o->name)
			fprintf(out, "counter name \"%s\"", o->name);
		else
			fprintf(out, "counter name \"f%u\"", o->val);
		break;
	case OP_CT_NEW:
		fputs("ct state new", out);
		break;
	case OP_TCP_PUSH:
		fputs("tcp flags psh / fin,syn,rst,psh", out);
		break;
	case OP_SWITCH:
		fprintf(out, "meta nfproto @on%u", o->val);
		break;
	case OP_NUMGEN_LT:
		fprintf(out, "numgen random mod %u < %u", NG_MOD, o->val);
		break;
	case OP_PRIO_SET:
		fprintf(out, "meta priority set %x:%x", o->val >> 16, o->val & 0xffff);
		break;
	case OP_DROP:
		fputs("drop", out);
		break;
	case OP_RETURN:
		fputs("return", out);
		break;
	case OP_JUMP:
		fprintf(out, "jump %s", o->name);
		break;
	case OP_REJECT:
		fprintf(out, "reject with %s", reject_text((enum reject_with)o->val));
		break;
	}
}

static void render_chain(FILE *out, const struct plan *pl, const char *chain)
{
	int hook = chain_hook(chain);
	size_t i;
	int k;

	fprintf(out, "\tchain %s {\n", chain);
	if (hook >= 0)
		fprintf(out, "\t\ttype filter hook %s priority filter - %d; policy accept;\n", chain, -CHAIN_PRIO);
	for (i = 0; i < pl->n_rules; i++) {
		if (strcmp(pl->rules[i].chain, chain) != 0)
			continue;
		fputs("\t\t", out);
		for (k = 0; k < pl->rules[i].n; k++) {
			if (k)
				fputc(' ', out);
			render_op(out, &pl->rules[i].ops[k]);
		}
		fputc('\n', out);
	}
	fputs("\t}\n", out);
}

void nft_render_opts(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio,
		     unsigned flags)
{
	struct plan pl;
	size_t i;
	int ret;

	ret = plan_make(&pl, p, ts, delay_prio);
	if (ret < 0) {
		fprintf(out, "# okx-faultd: cannot plan the nftables ruleset: %s\n", strerror(-ret));
		return;
	}
	fprintf(out, "table inet %s {\n", NFT_TABLE_NAME);
	if (!(flags & NFT_RENDER_NO_OWNER))
		fputs("\tflags owner\n", out);
	render_interval_set(out, "dst4", "ipv4_addr", pl.v4, NULL, pl.n_v4, AF_INET);
	render_interval_set(out, "dst6", "ipv6_addr", pl.v6, NULL, pl.n_v6, AF_INET6);
	if (pl.n_ports)
		render_interval_set(out, "ports", "inet_service", NULL, pl.ports, pl.n_ports, 0);
	if (pl.n_xports)
		render_interval_set(out, "xports", "inet_service", NULL, pl.xports, pl.n_xports, 0);
	for (i = 0; i < p->n_faults; i++)
		if (p->faults[i].action != ACT_PAUSE)
			fprintf(out, "\tset on%zu {\n\t\ttype nf_proto\n\t\tflags timeout\n\t}\n", i);
	for (i = 0; i < p->n_faults; i++)
		if (p->faults[i].action != ACT_PAUSE)
			fprintf(out, "\tcounter f%zu {\n\t}\n", i);
	fputs("\tcounter watch_pkts {\n\t}\n\tcounter watch_new {\n\t}\n\tcounter watch_calls {\n\t}\n", out);
	for (i = 0; i < ARRAY_LEN_CHAINS; i++)
		if (plan_has_chain(&pl, chain_order[i]))
			render_chain(out, &pl, chain_order[i]);
	fputs("}\n", out);
	plan_free(&pl);
}

void nft_render(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio)
{
	nft_render_opts(out, p, ts, delay_prio, 0);
}

/* ---- engine ---------------------------------------------------------- */

struct nft_engine {
	struct nfnl *nl;
	bool installed;
	bool no_destroy;  /* kernel before 6.3: no DESTROYSETELEM */
	size_t n_faults;
	bool *has_switch; /* per fault: not a pause */
	bool *live;       /* per fault: elements added and not removed by us */
};

int nft_engine_open(struct nft_engine **out)
{
	struct nft_engine *e;
	int ret;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ret = nfnl_open(&e->nl);
	if (ret < 0) {
		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void nft_engine_close(struct nft_engine *e)
{
	if (!e)
		return;
	nfnl_close(e->nl);
	free(e->has_switch);
	free(e->live);
	free(e);
}

static bool table_exists_error(const struct nfnl_batch *b)
{
	return b->n_msgs && b->msgs[0].type == NFT_MSG_NEWTABLE &&
	       (b->msgs[0].err == -EEXIST || b->msgs[0].err == -EPERM);
}

int nft_engine_install(struct nft_engine *e, const struct policy *p, const struct target_set *ts,
		       const uint32_t *delay_prio)
{
	struct nfnl_batch b;
	size_t i;
	int ret;

	if (e->installed)
		return -EBUSY;
	free(e->has_switch);
	free(e->live);
	e->n_faults = p->n_faults;
	e->has_switch = calloc(p->n_faults + 1, sizeof(bool));
	e->live = calloc(p->n_faults + 1, sizeof(bool));
	if (!e->has_switch || !e->live)
		return -ENOMEM;
	for (i = 0; i < p->n_faults; i++)
		e->has_switch[i] = p->faults[i].action != ACT_PAUSE;
	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_install(&b, p, ts, delay_prio);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret < 0) {
		log_warnx("nftables: cannot build the ruleset: %s", strerror(-ret));
		goto out;
	}
	ret = nfnl_batch_send(e->nl, &b);
	if (ret < 0 && table_exists_error(&b)) {
		log_errx("another okx-faultd is running (table inet %s exists)", NFT_TABLE_NAME);
		ret = -EEXIST;
	} else if (ret == 0) {
		e->installed = true;
	}
out:
	nfnl_batch_free(&b);
	return ret;
}

static bool valid_fault(const struct nft_engine *e, int i)
{
	return i < 0 || ((size_t)i < e->n_faults && e->has_switch[i]);
}

static bool failed_destroy(const struct nfnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->n_msgs; i++)
		if (b->msgs[i].type == NFT_MSG_DESTROYSETELEM_ &&
		    (b->msgs[i].err == -EINVAL || b->msgs[i].err == -EOPNOTSUPP))
			return true;
	return false;
}

static bool only_absent_delete(const struct nfnl_batch *b)
{
	size_t i;
	bool any = false;

	for (i = 0; i < b->n_msgs; i++) {
		if (!b->msgs[i].err)
			continue;
		if (b->msgs[i].type != NFT_MSG_DELSETELEM || b->msgs[i].err != -ENOENT)
			return false;
		any = true;
	}
	return any;
}

static int switch_once(struct nft_engine *e, int on, uint64_t timeout_ms, int off, unsigned flags,
		       struct nfnl_batch *b)
{
	size_t i;
	int ret;

	ret = nfnl_batch_init(b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_switch(b, on, timeout_ms, off, flags);
	if (ret == 0)
		ret = nfnl_batch_end(b);
	if (ret < 0)
		return ret;
	for (i = 0; i < b->n_msgs; i++) {
		if (b->msgs[i].type == NFT_MSG_DESTROYSETELEM_)
			b->msgs[i].quiet_err[0] = -EINVAL; /* probed: old kernels */
		else if (b->msgs[i].type == NFT_MSG_DELSETELEM)
			b->msgs[i].quiet_err[0] = -ENOENT; /* expired by the kernel */
	}
	return nfnl_batch_send(e->nl, b);
}

int nft_engine_switch(struct nft_engine *e, int on_fault, uint64_t timeout_ms, int off_fault)
{
	struct nfnl_batch b = { 0 };
	unsigned flags;
	int ret;

	if (!e->installed || !valid_fault(e, on_fault) || !valid_fault(e, off_fault) ||
	    (on_fault >= 0 && timeout_ms == 0))
		return -EINVAL;
	if (on_fault < 0 && off_fault < 0)
		return 0;
	flags = (on_fault >= 0 && e->live[on_fault] ? NFT_SWITCH_RENEW : 0) | (e->no_destroy ? NFT_SWITCH_DELETE : 0);
	ret = switch_once(e, on_fault, timeout_ms, off_fault, flags, &b);
	if (ret < 0 && !e->no_destroy && failed_destroy(&b)) {
		log_debug("nftables: no DESTROYSETELEM (kernel < 6.3), using DELSETELEM");
		e->no_destroy = true;
		flags |= NFT_SWITCH_DELETE;
		nfnl_batch_free(&b);
		ret = switch_once(e, on_fault, timeout_ms, off_fault, flags, &b);
	}
	if (ret == -ENOENT && only_absent_delete(&b)) {
		/* the kernel expired the elements already: delete nothing */
		nfnl_batch_free(&b);
		ret = on_fault >= 0 ? switch_once(e, on_fault, timeout_ms, -1, flags & ~NFT_SWITCH_RENEW, &b) : 0;
	}
	if (ret == 0) {
		if (off_fault >= 0)
			e->live[off_fault] = false;
		if (on_fault >= 0)
			e->live[on_fault] = true;
	}
	nfnl_batch_free(&b);
	return ret;
}

struct ctr_query {
	const char *name;
	bool got;
	uint64_t pkts, bytes;
};

struct ctr_queries {
	struct ctr_query *q;
	size_t n;
};

static int ctr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctr_queries *qs = data;
	struct nftnl_obj *o;
	const char *name;
	size_t i;
	int ret = 0;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ))
		return 0;
	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0) {
		ret = -EPROTO;
		goto out;
	}
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	for (i = 0; name && i < qs->n; i++) {
		if (strcmp(name, qs->q[i].name) != 0)
			continue;
		qs->q[i].got = true;
		qs->q[i].pkts = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		qs->q[i].bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	}
out:
	nftnl_obj_free(o);
	return ret;
}

/* GETOBJ for each counter, all in one send; every reply and ack read. */
static int read_counters(struct nft_engine *e, struct ctr_query *q, size_t n)
{
	char buf[1024] __attribute__((aligned(8)));
	struct ctr_queries qs = { q, n };
	size_t len = 0, i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = nft_build_get_counter(buf + len, sizeof(buf) - len, nfnl_seq(e->nl) + (uint32_t)i, q[i].name);
		if (ret < 0)
			return ret;
		len += MNL_ALIGN((size_t)ret);
	}
	ret = nfnl_request(e->nl, buf, len, (unsigned)n, ctr_cb, &qs);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (!q[i].got) {
			log_warnx("nftables: no reply for counter %s", q[i].name);
			return -EPROTO;
		}
	}
	return 0;
}

int nft_engine_fault_counter(struct nft_engine *e, int fault, uint64_t *pkts, uint64_t *bytes)
{
	char name[32];
	struct ctr_query q = { .name = name };
	int ret;

	if (!e->installed || fault < 0 || !valid_fault(e, fault))
		return -EINVAL;
	fault_name(name, sizeof(name), "f", (uint32_t)fault);
	ret = read_counters(e, &q, 1);
	if (ret < 0)
		return ret;
	*pkts = q.pkts;
	*bytes = q.bytes;
	return 0;
}

int nft_engine_watch_counters(struct nft_engine *e, struct nft_watch *w)
{
	struct ctr_query q[3] = { { .name = "watch_pkts" }, { .name = "watch_new" }, { .name = "watch_calls" } };
	int ret;

	if (!e->installed)
		return -EINVAL;
	ret = read_counters(e, q, 3);
	if (ret < 0)
		return ret;
	w->pkts = q[0].pkts;
	w->bytes = q[0].bytes;
	w->new_flows = q[1].pkts;
	w->calls = q[2].pkts;
	return 0;
}

int nft_engine_add_targets(struct nft_engine *e, const struct target_set *add)
{
	struct nfnl_batch b;
	int ret;

	if (!e->installed)
		return -EINVAL;
	if (!add->n_v4 && !add->n_v6)
		return 0;
	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_add_targets(&b, add);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret == 0)
		ret = nfnl_batch_send(e->nl, &b);
	nfnl_batch_free(&b);
	return ret;
}

int nft_engine_remove(struct nft_engine *e)
{
	struct nfnl_batch b;
	int ret;

	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_remove(&b);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret == 0)
		ret = nfnl_batch_send(e->nl, &b);
	if (ret == -ENOENT)
		ret = 0;
	if (ret == 0)
		e->installed = false;
	nfnl_batch_free(&b);
	return ret;
}
