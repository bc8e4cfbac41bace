/* SPDX-License-Identifier: MIT */
/* The arming watch: conntrack NEW events (NFNLGRP_CONNTRACK_NEW) over
 * libmnl, reduced to "a new flow in the drill's scope".
 *
 * Two netlink sockets: `ev` only receives events (non-blocking, big receive
 * buffer), `dump` only runs IPCTNL_MSG_CT_GET dumps (the baseline at open,
 * and the recovery after an overflow), so dump replies never interleave
 * with events.
 *
 * Wire format of what we read (events and dump entries alike):
 *   nlmsghdr  type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW
 *   nfgenmsg  nfgen_family = AF_INET | AF_INET6
 *   CTA_TUPLE_ORIG (nested)
 *     CTA_TUPLE_IP (nested)     CTA_IP_V4_SRC/DST (4 bytes) | CTA_IP_V6_SRC/DST (16)
 *     CTA_TUPLE_PROTO (nested)  CTA_PROTO_NUM (u8), CTA_PROTO_SRC/DST_PORT (be16)
 *   CTA_ID (be32)               conntrack entry id, the same in events and dumps
 *   CTA_PROTOINFO (nested, tcp)
 *     CTA_PROTOINFO_TCP (nested) CTA_PROTOINFO_TCP_STATE (u8): SYN_SENT in the
 *                               NEW event of a connection whose SYN was seen
 *   CTA_LABELS (16 bytes)       the connection labels, when any is set: a
 *                               uid or cgroup scope sets SCOPE_CT_LABEL
 *   ... (status, timeout, counters, ...: ignored)
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "coarsen.h"
#include "ctwatch.h"
#include "log.h"
#include "nfnl.h"
#include "scope.h"

#define CT_RCVBUF (8 << 20)       /* event socket; thousands of events of slack */
#define CT_BUF_SIZE (64 << 10)    /* larger than any dump skb the kernel builds */
#define CT_READ_BUDGET 1024       /* datagrams per ctwatch_read() */
#define CT_DUMP_TIMEOUT_S 5
#define SEEN_SLOTS (2 * CTWATCH_SEEN_CAP) /* per generation, load <= 1/2 */

/* ---- parsing ---------------------------------------------------------- */

struct attr_rule {
	enum mnl_attr_data_type type; /* MNL_TYPE_UNSPEC: not wanted */
	size_t len;                   /* exact payload length, 0: by type */
};

struct attr_table {
	const struct attr_rule *rules;
	uint16_t max;
	const struct nlattr **tb;
};

static const struct attr_rule ct_rules[CTA_MAX + 1] = {
	[CTA_TUPLE_ORIG] = { MNL_TYPE_NESTED, 0 },
	[CTA_ID] = { MNL_TYPE_U32, 0 },
	[CTA_PROTOINFO] = { MNL_TYPE_NESTED, 0 },
	[CTA_LABELS] = { MNL_TYPE_BINARY, 16 },
};
static const struct attr_rule protoinfo_rules[CTA_PROTOINFO_MAX + 1] = {
	[CTA_PROTOINFO_TCP] = { MNL_TYPE_NESTED, 0 },
};
static const struct attr_rule tcpinfo_rules[CTA_PROTOINFO_TCP_MAX + 1] = {
	[CTA_PROTOINFO_TCP_STATE] = { MNL_TYPE_U8, 0 },
};
static const struct attr_rule tuple_rules[CTA_TUPLE_MAX + 1] = {
	[CTA_TUPLE_IP] = { MNL_TYPE_NESTED, 0 },
	[CTA_TUPLE_PROTO] = { MNL_TYPE_NESTED, 0 },
};
static const struct attr_rule ip_rules[CTA_IP_MAX + 1] = {
	[CTA_IP_V4_SRC] = { MNL_TYPE_U32, 0 },
	[CTA_IP_V4_DST] = { MNL_TYPE_U32, 0 },
	[CTA_IP_V6_SRC] = { MNL_TYPE_BINARY, 16 },
	[CTA_IP_V6_DST] = { MNL_TYPE_BINARY, 16 },
};
static const struct attr_rule proto_rules[CTA_PROTO_MAX + 1] = {
	[CTA_PROTO_NUM] = { MNL_TYPE_U8, 0 },
	[CTA_PROTO_SRC_PORT] = { MNL_TYPE_U16, 0 },
	[CTA_PROTO_DST_PORT] = { MNL_TYPE_U16, 0 },
};

static int attr_table_cb(const struct nlattr *a, void *data)
{
	const struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(a);
	const struct attr_rule *r;
	int rc;

	if (type > t->max)
		return MNL_CB_OK; /* attributes of newer kernels */
	r = &t->rules[type];
	if (r->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	rc = r->len ? mnl_attr_validate2(a, r->type, r->len) : mnl_attr_validate(a, r->type);
	if (rc < 0 || t->tb[type])
		return MNL_CB_ERROR; /* bad length, or the attribute twice */
	t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *nest, const struct attr_rule *rules, uint16_t max,
			const struct nlattr **tb)
{
	struct attr_table t = { rules, max, tb };

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, attr_table_cb, &t) == MNL_CB_ERROR ? -EINVAL : 0;
}

/* The TCP state, 0 (TCP_CONNTRACK_NONE) when the message has none */
static int parse_tcp_state(const struct nlattr *pi, uint8_t *state)
{
	const struct nlattr *p[CTA_PROTOINFO_MAX + 1], *t[CTA_PROTOINFO_TCP_MAX + 1];

	*state = 0;
	if (!pi)
		return 0;
	if (parse_nested(pi, protoinfo_rules, CTA_PROTOINFO_MAX, p) < 0)
		return -EINVAL;
	if (!p[CTA_PROTOINFO_TCP])
		return 0;
	if (parse_nested(p[CTA_PROTOINFO_TCP], tcpinfo_rules, CTA_PROTOINFO_TCP_MAX, t) < 0)
		return -EINVAL;
	if (t[CTA_PROTOINFO_TCP_STATE])
		*state = mnl_attr_get_u8(t[CTA_PROTOINFO_TCP_STATE]);
	return 0;
}

static int parse_msg(const struct nlmsghdr *nlh, struct ct_flow *f, uint32_t *id)
{
	const struct nlattr *ct[CTA_MAX + 1] = { 0 }, *tup[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1],
			    *l4[CTA_PROTO_MAX + 1];
	struct attr_table t = { ct_rules, CTA_MAX, ct };
	const struct nfgenmsg *nfg;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return -EINVAL;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_CT_NEW)
		return -ENOENT;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_table_cb, &t) == MNL_CB_ERROR || !ct[CTA_TUPLE_ORIG])
		return -EINVAL;
	if (parse_nested(ct[CTA_TUPLE_ORIG], tuple_rules, CTA_TUPLE_MAX, tup) < 0 || !tup[CTA_TUPLE_IP] ||
	    !tup[CTA_TUPLE_PROTO])
		return -EINVAL;
	if (parse_nested(tup[CTA_TUPLE_IP], ip_rules, CTA_IP_MAX, ip) < 0 ||
	    parse_nested(tup[CTA_TUPLE_PROTO], proto_rules, CTA_PROTO_MAX, l4) < 0 || !l4[CTA_PROTO_NUM])
		return -EINVAL;

	memset(f, 0, sizeof(*f));
	if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST] && !ip[CTA_IP_V6_SRC] && !ip[CTA_IP_V6_DST]) {
		f->family = AF_INET;
		memcpy(f->src, mnl_attr_get_payload(ip[CTA_IP_V4_SRC]), 4);
		memcpy(f->dst, mnl_attr_get_payload(ip[CTA_IP_V4_DST]), 4);
	} else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST] && !ip[CTA_IP_V4_SRC] && !ip[CTA_IP_V4_DST]) {
		f->family = AF_INET6;
		memcpy(f->src, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
		memcpy(f->dst, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
	} else if (ip[CTA_IP_V4_SRC] || ip[CTA_IP_V4_DST] || ip[CTA_IP_V6_SRC] || ip[CTA_IP_V6_DST]) {
		return -EINVAL; /* half a tuple, or both families */
	} else {
		return -ENOENT;
	}
	if (nfg->nfgen_family != AF_UNSPEC && nfg->nfgen_family != f->family)
		return -EINVAL;

	f->proto = mnl_attr_get_u8(l4[CTA_PROTO_NUM]);
	if (l4[CTA_PROTO_SRC_PORT] && l4[CTA_PROTO_DST_PORT]) {
		f->sport = ntohs(mnl_attr_get_u16(l4[CTA_PROTO_SRC_PORT]));
		f->dport = ntohs(mnl_attr_get_u16(l4[CTA_PROTO_DST_PORT]));
	} else if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
		return -EINVAL;
	}
	*id = ct[CTA_ID] ? ntohl(mnl_attr_get_u32(ct[CTA_ID])) : 0;
	if (ct[CTA_LABELS]) {
		const uint8_t *labels = mnl_attr_get_payload(ct[CTA_LABELS]);
		uint8_t want[16], mask;
		size_t byte;

		scope_label_bytes(want, &byte, &mask);
		f->label = labels[byte] & mask;
	}
	return f->proto == IPPROTO_TCP ? parse_tcp_state(ct[CTA_PROTOINFO], &f->tcp_state) : 0;
}

int ct_parse_flow(const struct nlmsghdr *nlh, struct ct_flow *out)
{
	uint32_t id;

	return parse_msg(nlh, out, &id);
}

/* ---- the set of flows already reported ------------------------------- */

/* Two generations: when the current one holds CTWATCH_SEEN_CAP keys the
 * older one is forgotten wholesale. Lookups stay O(1), nothing is ever
 * deleted from an open-addressing table, and the newest CAP flows are
 * always remembered. */
struct ct_key {
	uint32_t id;
	uint16_t sport, dport;
	uint8_t family, proto, pad[2];
	uint8_t src[16], dst[16];
};

struct seen_slot {
	struct ct_key k;
	bool used;
	bool dumped; /* counted by a recovery dump; its own event may follow */
};

struct seen {
	struct seen_slot *gen[2];
	size_t n[2];
	int cur;
	bool forgot; /* a generation was dropped: old flows may look new */
};

static void key_from_flow(struct ct_key *k, const struct ct_flow *f, uint32_t id)
{
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->sport = f->sport;
	k->dport = f->dport;
	k->family = (uint8_t)f->family;
	k->proto = f->proto;
	memcpy(k->src, f->src, 16);
	memcpy(k->dst, f->dst, 16);
}

static size_t key_hash(const struct ct_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static bool gen_find(const struct seen_slot *g, const struct ct_key *k, size_t *slot)
{
	size_t i = key_hash(k) & (SEEN_SLOTS - 1);

	while (g[i].used) {
		if (!memcmp(&g[i].k, k, sizeof(*k))) {
			*slot = i;
			return true;
		}
		i = (i + 1) & (SEEN_SLOTS - 1);
	}
	*slot = i;
	return false;
}

/* true when k was known; otherwise it is remembered now. *out: its slot,
 * valid until the next call. */
static bool seen_check_add(struct seen *s, const struct ct_key *k, struct seen_slot **out)
{
	size_t slot = 0;

	if (gen_find(s->gen[!s->cur], k, &slot)) {
		*out = &s->gen[!s->cur][slot];
		return true;
	}
	if (gen_find(s->gen[s->cur], k, &slot)) {
		*out = &s->gen[s->cur][slot];
		return true;
	}
	if (s->n[s->cur] >= CTWATCH_SEEN_CAP) {
		s->cur = !s->cur;
		s->forgot |= s->n[s->cur] > 0;
		memset(s->gen[s->cur], 0, SEEN_SLOTS * sizeof(*s->gen[s->cur]));
		s->n[s->cur] = 0;
		gen_find(s->gen[s->cur], k, &slot);
	}
	s->gen[s->cur][slot] = (struct seen_slot){ .k = *k, .used = true };
	s->n[s->cur]++;
	*out = &s->gen[s->cur][slot];
	return false;
}

/* ---- in-kernel prefilter ---------------------------------------------- */

/* Offsets in a ctnetlink NEW event as ctnetlink_conntrack_event() builds it:
 * nlmsghdr (16), nfgenmsg (4), then CTA_TUPLE_ORIG > CTA_TUPLE_IP > src, dst. */
enum {
	OFF_NLMSG_TYPE = 4,
	OFF_ORIG = 20,
	OFF_IP = 24,
	OFF_SRC = 28,
	OFF_V4_DST = 36,
	OFF_V4_DST_VAL = 40,
	OFF_V6_DST = 48,
	OFF_V6_DST_VAL = 52,
	MIN_EVENT_LEN = 68, /* through the IPv6 destination */
};
#define BPF_ACCEPT 0xffffffffu
#define ATTR_TYPE_MASK ((uint16_t)NLA_TYPE_MASK) /* without NLA_F_NESTED / NLA_F_NET_BYTEORDER */

/* cBPF absolute loads read big-endian; netlink headers are host-endian:
 * the value a 16-bit load sees for a host-order field */
static uint32_t bpf_view16(uint16_t host)
{
	uint8_t b[2];

	memcpy(b, &host, 2);
	return (uint32_t)b[0] << 8 | b[1];
}

static uint32_t addr_word0(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

struct bpf_out {
	struct sock_filter *prog;
	size_t n, max;
	bool full;
};

static void emit(struct bpf_out *o, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (o->n >= o->max) {
		o->full = true;
		return;
	}
	o->prog[o->n++] = (struct sock_filter){ code, jt, jf, k };
}

/* accept unless the 16-bit header field at off (masked) equals want */
static void emit_expect16(struct bpf_out *o, uint32_t off, uint16_t mask, uint16_t want)
{
	emit(o, BPF_LD | BPF_H | BPF_ABS, 0, 0, off);
	if (mask != 0xffff)
		emit(o, BPF_ALU | BPF_AND | BPF_K, 0, 0, bpf_view16(mask));
	emit(o, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, bpf_view16(want));
	emit(o, BPF_RET | BPF_K, 0, 0, BPF_ACCEPT);
}

static void emit_attr(struct bpf_out *o, uint32_t off, uint16_t len, uint16_t type)
{
	emit_expect16(o, off, 0xffff, len);
	emit_expect16(o, off + 2, ATTR_TYPE_MASK, type);
}

/* ---- the ranges in the filter: by 32-bit words, coarsened to fit -------- */

/* One family's ranges by their first 32 bits (all of an IPv4 address), as
 * 4-byte ranges, sorted, overlapping and adjacent ones merged. *out is
 * malloc'ed (NULL when n is 0). Returns their number or -ENOMEM. */
static ssize_t word_ranges(const struct addr_range *r, size_t n, struct addr_range **out)
{
	struct addr_range *w;
	uint32_t top = 0;
	size_t i, m = 0;

	*out = NULL;
	if (!n)
		return 0;
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint32_t lo = addr_word0(r[i].lo), hi = addr_word0(r[i].hi);

		/* sorted by address (include/targets.h): lo never decreases */
		if (m && lo <= top + (uint64_t)1) {
			if (hi > top) {
				top = hi;
				memcpy(w[m - 1].hi, r[i].hi, 4);
			}
			continue;
		}
		w[m].family = r[i].family;
		memcpy(w[m].lo, r[i].lo, 4);
		memcpy(w[m].hi, r[i].hi, 4);
		top = hi;
		m++;
	}
	*out = w;
	return (ssize_t)m;
}

/* A holds the (first) address word: accept when inside one of the sorted,
 * disjoint ranges r, else drop. A binary search tree, each node in
 * preorder:
 *   JGE lo      (A < lo: to the left subtree, through a JA when far)
 *   JGT hi      (A > hi: to the right subtree, next)
 *   RET accept
 *   right subtree, left subtree          an empty subtree: RET drop
 * so an event costs 2 compares per level, about 2 log2(n). Conditional
 * jumps reach 255 instructions at most; the BPF_JA's offset is 32 bits. */
static size_t tree_len(size_t n)
{
	size_t left = n / 2, right, len;

	if (!n)
		return 1;
	right = n - left - 1;
	len = tree_len(right);
	return 3 + (2 + len > 255) + len + tree_len(left);
}

static void emit_tree(struct bpf_out *o, const struct addr_range *r, size_t n)
{
	size_t left = n / 2, right = n - left - 1, rlen;

	if (!n) {
		emit(o, BPF_RET | BPF_K, 0, 0, 0);
		return;
	}
	rlen = tree_len(right);
	if (2 + rlen > 255) {
		emit(o, BPF_JMP | BPF_JGE | BPF_K, 1, 0, addr_word0(r[left].lo));
		emit(o, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(2 + rlen));
	} else {
		emit(o, BPF_JMP | BPF_JGE | BPF_K, 0, (uint8_t)(2 + rlen), addr_word0(r[left].lo));
	}
	emit(o, BPF_JMP | BPF_JGT | BPF_K, 1, 0, addr_word0(r[left].hi));
	emit(o, BPF_RET | BPF_K, 0, 0, BPF_ACCEPT);
	emit_tree(o, r + left + 1, right);
	emit_tree(o, r, left);
}

/* Drop a NEW event without the scope's connection label: find CTA_LABELS
 * among the top-level attributes (the kernel's nlattr search from A for
 * type X), then test the label's bit in its payload. */
static void emit_label(struct bpf_out *o)
{
	uint8_t bits[16], mask;
	size_t byte;

	scope_label_bytes(bits, &byte, &mask);
	emit(o, BPF_LD | BPF_IMM, 0, 0, OFF_ORIG);
	emit(o, BPF_LDX | BPF_IMM, 0, 0, CTA_LABELS);
	emit(o, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_NLATTR));
	emit(o, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
	emit(o, BPF_RET | BPF_K, 0, 0, 0); /* no labels at all */
	emit(o, BPF_MISC | BPF_TAX, 0, 0, 0);
	/* a load past the end of the message drops it: the filter's default */
	emit(o, BPF_LD | BPF_B | BPF_IND, 0, 0, (uint32_t)(MNL_ATTR_HDRLEN + byte));
	emit(o, BPF_JMP | BPF_JSET | BPF_K, 1, 0, mask);
	emit(o, BPF_RET | BPF_K, 0, 0, 0);
}

/* How many ranges of the budget each family gets: all it has when the two
 * fit, else the smaller family keeps its own up to half the budget */
static void split_budget(size_t n4, size_t n6, size_t budget, size_t *b4, size_t *b6)
{
	*b4 = n4;
	*b6 = n6;
	if (n4 + n6 <= budget)
		return;
	if (n6 <= budget / 2)
		*b4 = budget - n6;
	else if (n4 <= budget / 2)
		*b6 = budget - n4;
	else {
		*b4 = budget - budget / 2;
		*b6 = budget / 2;
	}
}

static int build_filter(const struct target_set *ts, bool label, struct sock_filter *prog, size_t max,
			size_t budget, struct ctwatch_filter_info *info)
{
	struct bpf_out o = { prog, 0, max, false };
	const uint16_t v4len = MNL_ATTR_HDRLEN + 4, v6len = MNL_ATTR_HDRLEN + 16;
	struct addr_range *w4 = NULL, *w6 = NULL;
	struct ctwatch_filter_info fi = { 0 };
	ssize_t n4, n6;
	size_t ja, b4, b6;
	int ret;

	n4 = word_ranges(ts->v4, ts->n_v4, &w4);
	n6 = word_ranges(ts->v6, ts->n_v6, &w6);
	if (n4 < 0 || n6 < 0) {
		ret = -ENOMEM;
		goto out;
	}
	fi.targets_v4 = ts->n_v4;
	fi.targets_v6 = ts->n_v6;
	fi.words_v4 = (size_t)n4;
	fi.words_v6 = (size_t)n6;
	fi.held_v4 = (size_t)n4;
	fi.held_v6 = (size_t)n6;
	split_budget(fi.held_v4, fi.held_v6, budget ? budget : 1, &b4, &b6);
	if (coarsen_ranges(w4, &fi.held_v4, 4, b4, &fi.extra_v4) < 0 ||
	    coarsen_ranges(w6, &fi.held_v6, 4, b6, &fi.extra_v6) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	fi.coarsened = fi.held_v4 < fi.words_v4 || fi.held_v6 < fi.words_v6;

	emit(&o, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	emit(&o, BPF_JMP | BPF_JGE | BPF_K, 1, 0, MIN_EVENT_LEN); /* loads below never fall off */
	emit(&o, BPF_RET | BPF_K, 0, 0, BPF_ACCEPT);
	emit_expect16(&o, OFF_NLMSG_TYPE, 0xffff, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW);
	if (label)
		emit_label(&o);
	emit_expect16(&o, OFF_ORIG + 2, ATTR_TYPE_MASK, CTA_TUPLE_ORIG);
	emit_expect16(&o, OFF_IP + 2, ATTR_TYPE_MASK, CTA_TUPLE_IP);
	emit(&o, BPF_LD | BPF_H | BPF_ABS, 0, 0, OFF_SRC);
	emit(&o, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, bpf_view16(v4len));
	ja = o.n;
	emit(&o, BPF_JMP | BPF_JA, 0, 0, 0); /* to the IPv6 part, patched below */

	emit_attr(&o, OFF_SRC, v4len, CTA_IP_V4_SRC);
	emit_attr(&o, OFF_V4_DST, v4len, CTA_IP_V4_DST);
	emit(&o, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_V4_DST_VAL);
	emit_tree(&o, w4, fi.held_v4);

	if (!o.full)
		prog[ja].k = (uint32_t)(o.n - ja - 1);
	emit_attr(&o, OFF_SRC, v6len, CTA_IP_V6_SRC);
	emit_attr(&o, OFF_V6_DST, v6len, CTA_IP_V6_DST);
	emit(&o, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_V6_DST_VAL);
	emit_tree(&o, w6, fi.held_v6); /* by the first word: a superset */
	ret = o.full ? -E2BIG : (int)o.n;
out:
	free(w4);
	free(w6);
	if (info)
		*info = fi;
	return ret;
}

int ctwatch_build_filter(const struct target_set *ts, bool label, struct sock_filter *prog, size_t max,
			 struct ctwatch_filter_info *info)
{
	return build_filter(ts, label, prog, max, CTWATCH_FILTER_RANGES, info);
}

/* Said at the normal log level (README, "Nothing before traffic"): the
 * filter was coarsened, and what passes to user space because of it. */
static void log_coarsened(const struct ctwatch_filter_info *fi, size_t budget, int insns)
{
	char v6[160] = "";

	if (fi->targets_v6)
		(void)snprintf(v6, sizeof(v6), "; IPv6, by the first 32 bits: %zu ranges of /32 prefixes held as %zu, %llu more /32 prefixes pass",
			       fi->words_v6, fi->held_v6, (unsigned long long)fi->extra_v6);
	log_info("conntrack: %zu target ranges are more than the event filter holds (%zu): merged across the smallest "
		 "gaps into %zu; events for %llu IPv4 addresses outside the targets reach the daemon, which checks each "
		 "exactly%s",
		 fi->targets_v4 + fi->targets_v6, budget, fi->held_v4 + fi->held_v6,
		 (unsigned long long)fi->extra_v4, v6);
	log_debug("conntrack: event filter of %d instructions attached", insns);
}

/* The largest program is refused when the socket's option memory
 * (net.core.optmem_max) cannot hold it: then a smaller budget, down to
 * CT_FILTER_MIN_RANGES, before going without. */
#define CT_FILTER_MIN_RANGES 16

static void attach_filter(int fd, const struct target_set *ts, bool label)
{
	struct sock_filter *prog = calloc(CTWATCH_BPF_MAX, sizeof(*prog));
	struct ctwatch_filter_info fi;
	size_t budget = CTWATCH_FILTER_RANGES;
	struct sock_fprog fp;
	int n;

	if (!prog) {
		log_warnx("conntrack: no memory for the event filter; no filter attached, every new-flow event "
			  "reaches the daemon");
		return;
	}
	for (;;) {
		n = build_filter(ts, label, prog, CTWATCH_BPF_MAX, budget, &fi);
		if (n < 0) {
			log_warnx("conntrack: event filter: %s; no filter attached, every new-flow event reaches "
				  "the daemon", strerror(-n));
			break;
		}
		fp.len = (unsigned short)n;
		fp.filter = prog;
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) == 0) {
			if (fi.coarsened)
				log_coarsened(&fi, budget, n);
			else
				log_debug("conntrack: event filter of %d instructions attached (%zu ranges)", n,
					  fi.held_v4 + fi.held_v6);
			break;
		}
		if (errno != ENOMEM || budget <= CT_FILTER_MIN_RANGES || fi.held_v4 + fi.held_v6 <= CT_FILTER_MIN_RANGES) {
			log_warn("conntrack: event filter of %d instructions not attached; every new-flow event "
				 "reaches the daemon", n);
			break;
		}
		log_debug("conntrack: event filter of %d instructions refused (net.core.optmem_max?), "
			  "trying a smaller one", n);
		budget /= 4;
	}
	free(prog);
}

/* ---- sockets ---------------------------------------------------------- */

struct ctwatch {
	struct mnl_socket *ev;
	struct mnl_socket *dump;
	const struct policy *p;
	const struct target_set *ts;
	struct seen seen;
	void *buf; /* malloc'ed: aligned for nlmsghdr */
	uint32_t seq;
	struct ctwatch_stats st;
};

struct dump_ctx {
	struct ctwatch *w;
	bool baseline;
	ctwatch_cb cb;
	void *data;
	uint64_t n; /* in-scope flows not seen before */
};

static int set_rcvbuf(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return 0;
	log_debug("conntrack: SO_RCVBUFFORCE %d: %s, trying SO_RCVBUF", bytes, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		return -errno;
	return 0;
}

static int get_rcvbuf(int fd)
{
	socklen_t len;
	int v = 0;

	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0)
		return -errno;
	return v;
}

/* With a uid or cgroup scope, only flows the table labelled (include/scope.h) */
static bool flow_in_scope(const struct ctwatch *w, const struct ct_flow *f)
{
	return target_scope_match(w->p, w->ts, f->family, f->dst, f->proto, f->sport, f->dport) &&
	       (!policy_owner_scoped(w->p) || f->label);
}

/* Report f unless already seen; returns true when reported (or, for the
 * baseline, remembered). */
static bool flow_offer(struct ctwatch *w, const struct ct_flow *f, uint32_t id, bool baseline, ctwatch_cb cb,
		       void *data)
{
	struct seen_slot *sl;
	struct ct_key k;

	key_from_flow(&k, f, id);
	if (seen_check_add(&w->seen, &k, &sl))
		return false;
	if (!baseline) {
		sl->dumped = true;
		w->st.in_scope++;
		if (cb)
			cb(f, data);
	}
	return true;
}

/* A recovery dump cannot tell a flow that began after the lost events
 * from an old one it no longer remembers: then it only remembers. */
static void dump_entry(struct dump_ctx *d, const struct nlmsghdr *nlh)
{
	struct ct_flow f;
	uint32_t id;

	if (parse_msg(nlh, &f, &id) < 0 || !flow_in_scope(d->w, &f))
		return;
	if (flow_offer(d->w, &f, id, d->baseline || d->w->seen.forgot, d->cb, d->data))
		d->n++;
}

/* Read one dump to its NLMSG_DONE; replies of an earlier dump that was
 * abandoned (timeout) carry another sequence number and are skipped. */
static int dump_recv(struct ctwatch *w, struct dump_ctx *d, uint32_t seq)
{
	unsigned int portid = mnl_socket_get_portid(w->dump);

	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t n = nfnl_recv(mnl_socket_get_fd(w->dump), w->buf, CT_BUF_SIZE, 0);
		int len;

		if (n == -EINTR || n == -ESRCH) /* -ESRCH: not from the kernel, dropped */
			continue;
		if (n < 0) /* -EMSGSIZE: entries lost, the dump is incomplete */
			return n == -EAGAIN || n == -EWOULDBLOCK ? -ETIMEDOUT : (int)n;
		len = (int)n;
		for (nlh = w->buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
					return -EBADMSG;
				return e->error; /* 0: a plain ACK ends it too */
			}
			dump_entry(d, nlh);
		}
	}
}

static int ct_dump(struct ctwatch *w, struct dump_ctx *d)
{
	uint32_t req[(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))) / 4];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	uint8_t family;

	if (w->ts->n_v4 && w->ts->n_v6)
		family = AF_UNSPEC;
	else if (w->ts->n_v4)
		family = AF_INET;
	else if (w->ts->n_v6)
		family = AF_INET6;
	else
		return 0; /* nothing can be in scope */

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++w->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(w->dump, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return dump_recv(w, d, nlh->nlmsg_seq);
}

static void check_events_sysctl(void)
{
	char c = 0;
	int fd = open("/proc/sys/net/netfilter/nf_conntrack_events", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return; /* conntrack not loaded yet: it is when the ct rule goes in */
	if (read(fd, &c, 1) == 1 && c == '0')
		log_warnx("net.netfilter.nf_conntrack_events is 0: no conntrack events, new flows will not be seen");
	(void)close(fd);
}

static int open_socket(struct mnl_socket **out, int flags)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, flags | SOCK_CLOEXEC);

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		(void)mnl_socket_close(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

int ctwatch_open(struct ctwatch **out, const struct policy *p, const struct target_set *ts)
{
	struct timeval tv = { .tv_sec = CT_DUMP_TIMEOUT_S };
	int grp = NFNLGRP_CONNTRACK_NEW;
	struct dump_ctx d = { 0 };
	struct ctwatch *w;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->p = p;
	w->ts = ts;
	w->buf = malloc(CT_BUF_SIZE);
	w->seen.gen[0] = calloc(SEEN_SLOTS, sizeof(struct seen_slot));
	w->seen.gen[1] = calloc(SEEN_SLOTS, sizeof(struct seen_slot));
	if (!w->buf || !w->seen.gen[0] || !w->seen.gen[1]) {
		ret = -ENOMEM;
		goto fail;
	}

	ret = open_socket(&w->ev, SOCK_NONBLOCK);
	if (ret < 0) {
		log_warnx("conntrack: netlink socket: %s", strerror(-ret));
		goto fail;
	}
	ret = set_rcvbuf(mnl_socket_get_fd(w->ev), CT_RCVBUF);
	if (ret < 0) {
		log_warnx("conntrack: SO_RCVBUF: %s", strerror(-ret));
		goto fail;
	}
	w->st.rcvbuf = get_rcvbuf(mnl_socket_get_fd(w->ev));
	if (w->st.rcvbuf < CT_RCVBUF)
		log_warnx("conntrack: event receive buffer is %d bytes (wanted %d): overflows more likely",
			  w->st.rcvbuf, CT_RCVBUF);
	attach_filter(mnl_socket_get_fd(w->ev), ts, policy_owner_scoped(p));
	if (mnl_socket_setsockopt(w->ev, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		ret = -errno;
		log_warnx("conntrack: subscribing to new-flow events: %s", strerror(-ret));
		goto fail;
	}

	ret = open_socket(&w->dump, 0);
	if (ret < 0) {
		log_warnx("conntrack: netlink socket: %s", strerror(-ret));
		goto fail;
	}
	if (setsockopt(mnl_socket_get_fd(w->dump), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		goto fail;
	}
	check_events_sysctl();

	/* subscribed first, dumped second: a flow is either in the baseline or
	 * in the queued events (or both, then deduplicated), never lost */
	d.w = w;
	d.baseline = true;
	ret = ct_dump(w, &d);
	if (ret < 0) {
		log_warnx("conntrack: baseline dump: %s", strerror(-ret));
		goto fail;
	}
	w->st.baseline = d.n;
	if (d.n > CTWATCH_SEEN_CAP)
		log_warnx("conntrack: %llu in-scope flows already exist, more than the %d remembered",
			  (unsigned long long)d.n, CTWATCH_SEEN_CAP);
	log_debug("conntrack: watching new flows, %llu existing in-scope flows ignored", (unsigned long long)d.n);
	*out = w;
	return 0;
fail:
	ctwatch_close(w);
	return ret;
}

int ctwatch_fd(const struct ctwatch *w)
{
	return mnl_socket_get_fd(w->ev);
}

/* A NEW event is one new conntrack entry: counted once, even when its
 * tuple and id are those of an earlier flow (the kernel reuses both for a
 * reused 5-tuple), unless a recovery dump already counted that entry. A TCP connection counts only when conntrack saw its
 * SYN: one under way before the drill, picked up mid-stream where
 * conntrack was not tracking yet (or after `conntrack -F`), is also
 * reported as NEW, in another state. Either way it is remembered, so a
 * recovery dump does not count it later. */
static void event_flow(struct ctwatch *w, const struct ct_flow *f, uint32_t id, ctwatch_cb cb, void *data)
{
	struct seen_slot *sl;
	struct ct_key k;

	key_from_flow(&k, f, id);
	if (seen_check_add(&w->seen, &k, &sl) && sl->dumped) {
		/* counted by a recovery dump that ran before its event was read */
		sl->dumped = false;
		return;
	}
	if (f->proto == IPPROTO_TCP && f->tcp_state != TCP_CONNTRACK_SYN_SENT) {
		w->st.midstream++;
		log_debug("conntrack: a connection under way (tcp state %u, dport %u) picked up: not a new flow",
			  f->tcp_state, f->dport);
		return;
	}
	w->st.in_scope++;
	if (cb)
		cb(f, data);
}

static void handle_events(struct ctwatch *w, const void *buf, size_t n, ctwatch_cb cb, void *data)
{
	const struct nlmsghdr *nlh;
	int len = (int)n;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct ct_flow f;
		uint32_t id;

		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		w->st.events++;
		if (parse_msg(nlh, &f, &id) < 0 || !flow_in_scope(w, &f))
			continue;
		event_flow(w, &f, id, cb, data);
	}
}

static int recover(struct ctwatch *w, ctwatch_cb cb, void *data)
{
	struct dump_ctx d = { .w = w, .cb = cb, .data = data };
	int ret = ct_dump(w, &d);

	w->st.recovered += d.n;
	w->st.lower_bound = true;
	if (w->seen.forgot)
		log_warnx("conntrack: event overflow (ENOBUFS) after more than %d flows: the recovery dump cannot tell "
			  "new flows from forgotten ones and counts none; the flow count is a lower bound",
			  CTWATCH_SEEN_CAP);
	else if (ret < 0)
		log_warnx("conntrack: event overflow (ENOBUFS), recovery dump failed after %llu flows: %s",
			  (unsigned long long)d.n, strerror(-ret));
	else
		log_warnx("conntrack: event overflow (ENOBUFS), recovery dump recovered %llu flows",
			  (unsigned long long)d.n);
	return ret;
}

int ctwatch_read(struct ctwatch *w, ctwatch_cb cb, void *data)
{
	bool overflow = false;
	int i, ret = 0;

	for (i = 0; i < CT_READ_BUDGET; i++) {
		ssize_t n = nfnl_recv(mnl_socket_get_fd(w->ev), w->buf, CT_BUF_SIZE, 0);

		if (n >= 0) {
			handle_events(w, w->buf, (size_t)n, cb, data);
			continue;
		}
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -ENOBUFS) {
			/* the kernel dropped events; the queue after this
			 * point is intact, so keep draining, then dump once */
			overflow = true;
			w->st.overflows++;
		} else if (n == -EMSGSIZE) {
			/* events lost with the rest of the datagram: the same */
			log_debug("conntrack: truncated event datagram, recovering by a dump");
			overflow = true;
		} else if (n == -ESRCH) {
			log_debug("conntrack: datagram from a process, not the kernel, dropped");
		} else if (n != -EINTR) {
			ret = (int)n;
			break;
		}
	}
	if (overflow) {
		int r = recover(w, cb, data);

		if (ret == 0)
			ret = r;
	}
	return ret;
}

void ctwatch_targets_changed(struct ctwatch *w)
{
	int fd = mnl_socket_get_fd(w->ev), zero = 0;

	/* without a filter until the new one is attached (coarsened when the
	 * set outgrew the filter; none when it cannot be): events pass,
	 * nothing is lost */
	(void)setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
	attach_filter(fd, w->ts, policy_owner_scoped(w->p));
}

int ctwatch_set_rcvbuf(struct ctwatch *w, int bytes)
{
	int fd = mnl_socket_get_fd(w->ev);
	int ret = set_rcvbuf(fd, bytes);

	if (ret < 0)
		return ret;
	w->st.rcvbuf = get_rcvbuf(fd);
	return 0;
}

void ctwatch_get_stats(const struct ctwatch *w, struct ctwatch_stats *st)
{
	*st = w->st;
}

void ctwatch_close(struct ctwatch *w)
{
	if (!w)
		return;
	if (w->ev)
		(void)mnl_socket_close(w->ev);
	if (w->dump)
		(void)mnl_socket_close(w->dump);
	free(w->seen.gen[0]);
	free(w->seen.gen[1]);
	free(w->buf);
	free(w);
}
