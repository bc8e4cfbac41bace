/* SPDX-License-Identifier: MIT */
/* The libnftnl encoder: the plan (include/nft_plan.h) as nf_tables netlink
 * messages appended to a batch, and the switch, remove and counter
 * requests of the engine. Nothing here talks to the kernel. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
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
#include <libnftnl/udata.h>
#include <net/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "coarsen.h"
#include "nft.h"
#include "nft_plan.h"

/* nftables datatype ids (nftables include/datatype.h), so that
 * `nft list ruleset` prints keys by type */
#define DT_NFPROTO 2
#define DT_IPADDR 7
#define DT_IP6ADDR 8
#define DT_INET_PROTOCOL 12
#define DT_INET_SERVICE 13
#define DT_UID 24
#define DT_CGROUPV2 46

#define MSG_MAX 8192    /* any message but NEWSETELEM */
#define ELEM_NEST_MAX 60000

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
/* Each range: a start element and, unless it runs to the top of the
 * family, an end element (also what re-resolved targets add to a set that
 * already has its leading end element). */
static int elems_add_ranges(struct elems *l, const struct addr_range *r, size_t n, int family)
{
	size_t len = (size_t)nft_addr_len(family), i;
	int ret = 0;

	for (i = 0; ret == 0 && i < n; i++) {
		uint8_t next[16];

		ret = elems_push(l, r[i].lo, len, false);
		memcpy(next, r[i].hi, 16);
		if (ret == 0 && !nft_addr_inc(next, (int)len))
			ret = elems_push(l, next, len, true);
	}
	return ret;
}

static int elems_from_ranges(struct elems *l, const struct addr_range *r, size_t n, int family)
{
	static const uint8_t zero[16];
	size_t len = (size_t)nft_addr_len(family);
	int ret = 0;

	if (n && memcmp(r[0].lo, zero, len) != 0)
		ret = elems_push(l, zero, len, true);
	return ret ? ret : elems_add_ranges(l, r, n, family);
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

/* nftables' byte order of a key: host order (uid, cgroup id) must be said
 * in the set's user data, or `nft list` prints the keys byte-swapped */
#define NFT_BYTEORDER_HOST 1

static int put_set_udata(struct build *bd, const char *name, uint32_t id, uint32_t key_type, uint32_t key_len,
			 uint32_t flags, uint32_t size, bool host_order)
{
	struct nftnl_set *s = set_ref(name, id);
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	if (!s)
		goto out;
	if (host_order) {
		ud = nftnl_udata_buf_alloc(64);
		if (!ud || !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_HOST) ||
		    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud)) < 0)
			goto out;
	}
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
	nftnl_udata_buf_free(ud);
	nftnl_set_free(s);
	return ret;
}

static int put_set(struct build *bd, const char *name, uint32_t id, uint32_t key_type, uint32_t key_len,
		   uint32_t flags, uint32_t size)
{
	return put_set_udata(bd, name, id, key_type, key_len, flags, size, false);
}

/* One element, written straight into the message: its flags, timeout and
 * key, as libnftnl would lay them out but without an object per element
 * (at 100,000 prefixes the allocations were a tenth of the install). */
static void put_elem(struct nlmsghdr *nlh, const struct elem *x, size_t key_len, uint64_t timeout_ms)
{
	struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM), *key;

	if (x->end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	if (timeout_ms)
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(timeout_ms));
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, key_len, x->key);
	mnl_attr_nest_end(nlh, key);
	mnl_attr_nest_end(nlh, el);
}

/* One NEWSETELEM/DELSETELEM message per chunk, each under the 64 KiB
 * attribute nest limit; all in the same batch. The set is named, and
 * also given by id when it is created in the same batch. */
static int put_elems(struct build *bd, uint16_t type, const char *name, uint32_t id, size_t key_len,
		     const struct elem *el, size_t n, uint64_t timeout_ms)
{
	size_t per = nft_elems_per_msg((unsigned)key_len), done = 0;
	const char *verb = type == NFT_MSG_NEWSETELEM ? "add element" : type == NFT_MSG_DELSETELEM ? "delete element" : "destroy element";

	while (done < n) {
		size_t k = n - done < per ? n - done : per, i, reserve = 1024 + k * (36 + key_len);
		struct nlmsghdr *nlh = msg_start(bd, reserve, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		struct nlattr *list;
		int ret;

		if (!nlh)
			return -ENOMEM;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, NFT_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		if (id)
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (i = 0; i < k; i++)
			put_elem(nlh, &el[done + i], key_len, timeout_ms);
		mnl_attr_nest_end(nlh, list);
		ret = add_msg(bd, reserve, verb, name);
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
	int hook = nft_chain_hook(name);
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

/* register 1 outside [lo, hi] (network order) */
static void rb_range_ne(struct rb *rb, uint16_t lo, uint16_t hi)
{
	struct nftnl_expr *e = rb_new(rb, "range");

	rb_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
	rb_data(rb, e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 2);
	rb_data(rb, e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 2);
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

/* meta skuid: the uid (host order, 4 bytes) of the file of the socket
 * that sent the packet; no socket, no match */
static void rb_skuid_lookup(struct rb *rb, const struct op *o)
{
	rb_meta_load(rb, NFT_META_SKUID);
	rb_lookup(rb, o->name, o->set_id, false);
}

/* socket cgroupv2 level N: the id (host order, 8 bytes) of the socket's
 * cgroup's ancestor at level N */
static void rb_cgroup_lookup(struct rb *rb, const struct op *o)
{
	struct nftnl_expr *e = rb_new(rb, "socket");
	char name[32];

	rb_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
	rb_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
	rb_u32(e, NFTNL_EXPR_SOCKET_LEVEL, o->val);
	nft_fault_name(name, sizeof(name), "cgroup_l", o->val);
	rb_lookup(rb, name, o->set_id, false);
}

/* ct label set N: 16 bytes of labels in a register, the kernel ORs the
 * bits set (nf_connlabels_replace with the value as its own mask) */
static void rb_ct_label_set(struct rb *rb)
{
	struct nftnl_expr *e = rb_new(rb, "immediate");
	uint8_t bits[16];
	size_t byte;
	uint8_t mask;

	scope_label_bytes(bits, &byte, &mask);
	rb_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	rb_data(rb, e, NFTNL_EXPR_IMM_DATA, bits, 16);
	e = rb_new(rb, "ct");
	rb_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_LABELS);
	rb_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
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

/* prev: the rule's op before o, NULL for the first */
static void encode_op(struct rb *rb, const struct op *o, const struct op *prev, uint32_t anon_id)
{
	char name[32];
	bool inv = o->flags & F_INV;
	uint8_t b;

	switch (o->kind) {
	case OP_ADDR_SET: {
		bool v6 = o->flags & F_V6, src = o->flags & F_SRC;

		b = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		/* the family once for consecutive lookups (cover, then target
		 * set), as nft compiles "ip daddr @a ip daddr @b" */
		if (!prev || prev->kind != OP_ADDR_SET || (prev->flags & F_V6) != (o->flags & F_V6)) {
			rb_meta_load(rb, NFT_META_NFPROTO);
			rb_cmp(rb, NFT_CMP_EQ, &b, 1);
		}
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
	case OP_TH_PORT_NE: {
		uint16_t lo = htons((uint16_t)o->val), hi = htons((uint16_t)o->hi);

		rb_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, (o->flags & F_SRC) ? 0 : 2, 2);
		if (o->val == o->hi)
			rb_cmp(rb, NFT_CMP_NEQ, &lo, 2);
		else
			rb_range_ne(rb, lo, hi);
		break;
	}
	case OP_COUNTER:
		nft_fault_name(name, sizeof(name), "f", o->val);
		rb_objref(rb, o->name ? o->name : name);
		break;
	case OP_CT_NEW:
		rb_ct_new(rb);
		break;
	case OP_TCP_PUSH:
		rb_tcp_push(rb);
		break;
	case OP_SWITCH:
		nft_fault_name(name, sizeof(name), "on", o->val);
		rb_meta_load(rb, NFT_META_NFPROTO);
		rb_lookup(rb, name, o->set_id, false);
		break;
	case OP_NUMGEN_LT:
		rb_numgen_lt(rb, o->val);
		break;
	case OP_PRIO_SET:
		rb_prio_set(rb, o->val);
		break;
	case OP_L4_PORT: {
		uint16_t port = htons((uint16_t)o->val);

		b = (o->flags & F_UDP) ? IPPROTO_UDP : IPPROTO_TCP;
		rb_meta_load(rb, NFT_META_L4PROTO);
		rb_cmp(rb, NFT_CMP_EQ, &b, 1);
		rb_payload(rb, NFT_PAYLOAD_TRANSPORT_HEADER, (o->flags & F_SRC) ? 0 : 2, 2);
		rb_cmp(rb, NFT_CMP_EQ, &port, 2);
		break;
	}
	case OP_IH_EQ:
		if (!o->len || o->len > NFT_CMP_MAX) {
			rb->err = -EINVAL;
			break;
		}
		rb_payload(rb, NFT_PAYLOAD_INNER_HEADER, o->val, o->len);
		rb_cmp(rb, NFT_CMP_EQ, o->data, o->len);
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
	case OP_GOTO:
		rb_verdict(rb, NFT_GOTO, o->name);
		break;
	case OP_SKUID_SET:
		rb_skuid_lookup(rb, o);
		break;
	case OP_CGROUP_SET:
		rb_cgroup_lookup(rb, o);
		break;
	case OP_CT_LABEL_SET:
		rb_ct_label_set(rb);
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
		encode_op(&rb, &ir->ops[i], i ? &ir->ops[i - 1] : NULL, anon_id);
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

/* uids (4 bytes) and cgroup ids (8 bytes) in host order, as the meta and
 * socket expressions load them; plain hash sets, cgroup ones updated
 * while the drill runs (nft_build_cgroup_update) */
static int build_owner_sets(struct build *bd, const struct plan *pl)
{
	const struct scope *sc = pl->scope;
	struct elems l = { 0 };
	char name[32];
	int ret = 0;

	if (sc->n_uids) {
		for (size_t i = 0; ret == 0 && i < sc->n_uids; i++)
			ret = elems_push(&l, &sc->uids[i], 4, false);
		if (ret == 0)
			ret = put_set_udata(bd, "uids", SETID_UIDS, DT_UID, 4, 0, 0, true);
		if (ret == 0)
			ret = put_elems(bd, NFT_MSG_NEWSETELEM, "uids", SETID_UIDS, 4, l.e, l.n, 0);
	}
	for (size_t k = 0; ret == 0 && k < pl->n_cg; k++) {
		const struct plan_cgroup_level *c = &pl->cg[k];
		uint32_t id = SETID_CGROUP + c->level;

		l.n = 0;
		for (size_t i = 0; ret == 0 && i < c->n_ids; i++)
			ret = elems_push(&l, &c->ids[i], 8, false);
		nft_fault_name(name, sizeof(name), "cgroup_l", c->level);
		if (ret == 0)
			ret = put_set_udata(bd, name, id, DT_CGROUPV2, 8, 0, 0, true);
		if (ret == 0 && l.n)
			ret = put_elems(bd, NFT_MSG_NEWSETELEM, name, id, 8, l.e, l.n, 0);
	}
	free(l.e);
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
	if (ret == 0 && pl->cover.n_v4) {
		ret = elems_from_ranges(&l, pl->cover.v4, pl->cover.n_v4, AF_INET);
		if (ret == 0)
			ret = put_interval_set(bd, "cover4", SETID_COVER4, DT_IPADDR, 4, &l);
	}
	l.n = 0;
	if (ret == 0 && pl->cover.n_v6) {
		ret = elems_from_ranges(&l, pl->cover.v6, pl->cover.n_v6, AF_INET6);
		if (ret == 0)
			ret = put_interval_set(bd, "cover6", SETID_COVER6, DT_IP6ADDR, 16, &l);
	}
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
	if (ret == 0 && pl->owner)
		ret = build_owner_sets(bd, pl);
	for (i = 0; ret == 0 && i < pl->p->n_faults; i++) {
		if (pl->p->faults[i].action == ACT_PAUSE)
			continue;
		nft_fault_name(name, sizeof(name), "on", (uint32_t)i);
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
		nft_fault_name(name, sizeof(name), "f", (uint32_t)i);
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
	return nft_build_install_cover(b, p, ts, delay_prio, NULL);
}

int nft_build_install_cover(struct nfnl_batch *b, const struct policy *p, const struct target_set *ts,
			    const uint32_t *delay_prio, struct nft_cover *cover)
{
	struct build bd = { .b = b };
	struct plan pl;
	size_t i, c;
	int ret;

	ret = nft_plan_make(&pl, p, ts, delay_prio);
	if (ret < 0)
		return ret;
	ret = put_table(&bd);
	if (ret == 0)
		ret = build_sets(&bd, &pl);
	if (ret == 0)
		ret = build_counters(&bd, &pl);
	/* all chains before any rule: jumps need their target to exist */
	for (c = 0; ret == 0 && c < NFT_N_CHAINS; c++)
		if (nft_plan_has_chain(&pl, nft_chain_order[c]))
			ret = put_chain(&bd, nft_chain_order[c]);
	for (c = 0; ret == 0 && c < NFT_N_CHAINS; c++)
		for (i = 0; ret == 0 && i < pl.n_rules; i++)
			if (!strcmp(pl.rules[i].chain, nft_chain_order[c]))
				ret = put_rule(&bd, &pl.rules[i]);
	if (ret == 0 && cover) {
		/* the plan's cover, handed over rather than computed again */
		*cover = pl.cover;
		memset(&pl.cover, 0, sizeof(pl.cover));
	}
	nft_plan_free(&pl);
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
		nft_fault_name(name, sizeof(name), "on", (uint32_t)off_fault);
		ret = put_elems(&bd, del, name, 0, 1, l.e, l.n, 0);
	}
	if (ret == 0 && on_fault >= 0 && (flags & NFT_SWITCH_RENEW) && on_fault != off_fault) {
		nft_fault_name(name, sizeof(name), "on", (uint32_t)on_fault);
		ret = put_elems(&bd, del, name, 0, 1, l.e, l.n, 0);
	}
	if (ret == 0 && on_fault >= 0) {
		nft_fault_name(name, sizeof(name), "on", (uint32_t)on_fault);
		ret = put_elems(&bd, NFT_MSG_NEWSETELEM, name, 0, 1, l.e, l.n, timeout_ms);
	}
	free(l.e);
	return ret;
}

int nft_build_claim(struct nfnl_batch *b)
{
	struct build bd = { .b = b };

	return put_table(&bd);
}

/* add's ranges of one family outside the cover (n_cover > 0) to its set */
static int add_to_cover(struct build *bd, const char *name, const struct addr_range *add, size_t n_add,
			const struct addr_range *cover, size_t n_cover, int family)
{
	size_t len = (size_t)nft_addr_len(family), n_norm = 0, n_out = 0;
	struct addr_range *norm = NULL, *out = NULL;
	struct elems l = { 0 };
	int ret;

	ret = nft_norm_ranges(add, n_add, family, &norm, &n_norm);
	if (ret == 0)
		ret = ranges_subtract(norm, n_norm, cover, n_cover, len, &out, &n_out);
	if (ret == 0 && n_out)
		ret = elems_add_ranges(&l, out, n_out, family);
	if (ret == 0 && l.n)
		ret = put_elems(bd, NFT_MSG_NEWSETELEM, name, 0, len, l.e, l.n, 0);
	free(norm);
	free(out);
	free(l.e);
	return ret;
}

int nft_build_add_targets(struct nfnl_batch *b, const struct target_set *add, const struct nft_cover *cover)
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
	if (ret == 0 && cover && cover->n_v4 && add->n_v4)
		ret = add_to_cover(&bd, "cover4", add->v4, add->n_v4, cover->v4, cover->n_v4, AF_INET);
	if (ret == 0 && cover && cover->n_v6 && add->n_v6)
		ret = add_to_cover(&bd, "cover6", add->v6, add->n_v6, cover->v6, cover->n_v6, AF_INET6);
	return ret;
}

int nft_build_cgroup_update(struct nfnl_batch *b, const struct nft_cgroup_update *u, size_t n)
{
	struct build bd = { .b = b };
	char name[32];
	int ret = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct elem e = { 0 };

		nft_fault_name(name, sizeof(name), "cgroup_l", u[i].level);
		if (u[i].del_id) {
			memcpy(e.key, &u[i].del_id, 8);
			ret = put_elems(&bd, NFT_MSG_DELSETELEM, name, 0, 8, &e, 1, 0);
		}
		if (ret == 0 && u[i].add_id) {
			memcpy(e.key, &u[i].add_id, 8);
			ret = put_elems(&bd, NFT_MSG_NEWSETELEM, name, 0, 8, &e, 1, 0);
		}
	}
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
