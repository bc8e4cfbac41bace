/* SPDX-License-Identifier: MIT */
/* The plan of the nftables table: normalized target and port ranges, and
 * the rules of each chain as ops (include/nft_plan.h). No I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "coarsen.h"
#include "nft_plan.h"

const char *const nft_chain_order[NFT_N_CHAINS] = { "output", "input", "forward", "owner", "egress", "ingress" };

/* ---- ranges ---------------------------------------------------------- */

int nft_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* a += 1; returns true on wrap-around (a was the top address) */
bool nft_addr_inc(uint8_t *a, int len)
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
int nft_norm_ranges(const struct addr_range *in, size_t n, int family, struct addr_range **out, size_t *n_out)
{
	int len = nft_addr_len(family);
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
		top = nft_addr_inc(next, len);
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

/* One family's cover: its ranges coarsened to NFT_COVER_RANGES when it has
 * more than NFT_COVER_MIN, none (*n_out 0) otherwise. */
static int cover_family(const struct addr_range *in, size_t n, int family, struct addr_range **out,
			size_t *n_out)
{
	uint64_t added;
	int ret;

	*out = NULL;
	*n_out = 0;
	if (n <= NFT_COVER_MIN)
		return 0;
	ret = nft_norm_ranges(in, n, family, out, n_out);
	if (ret == 0 && *n_out <= NFT_COVER_MIN) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	if (ret == 0 && *n_out)
		ret = coarsen_ranges(*out, n_out, (size_t)nft_addr_len(family), NFT_COVER_RANGES, &added);
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return ret;
}

int nft_cover_make(struct nft_cover *c, const struct target_set *ts)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cover_family(ts->v4, ts->n_v4, AF_INET, &c->v4, &c->n_v4);
	if (ret == 0)
		ret = cover_family(ts->v6, ts->n_v6, AF_INET6, &c->v6, &c->n_v6);
	if (ret < 0)
		nft_cover_free(c);
	return ret;
}

/* The union of r (n ranges, n > 0) and add, in *out (malloc'ed) */
static int cover_union(const struct addr_range *r, size_t n, const struct addr_range *add, size_t n_add,
		       int family, struct addr_range **out, size_t *n_out)
{
	struct addr_range *all;
	int ret;

	all = calloc(n + n_add, sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all, r, n * sizeof(*all));
	if (n_add)
		memcpy(all + n, add, n_add * sizeof(*all));
	ret = nft_norm_ranges(all, n + n_add, family, out, n_out);
	free(all);
	return ret;
}

int nft_cover_add(struct nft_cover *c, const struct target_set *add)
{
	struct nft_cover u = { 0 };
	int ret = 0;

	if (c->n_v4)
		ret = cover_union(c->v4, c->n_v4, add->v4, add->n_v4, AF_INET, &u.v4, &u.n_v4);
	if (ret == 0 && c->n_v6)
		ret = cover_union(c->v6, c->n_v6, add->v6, add->n_v6, AF_INET6, &u.v6, &u.n_v6);
	if (ret < 0) {
		nft_cover_free(&u);
		return ret;
	}
	nft_cover_free(c);
	*c = u;
	return 0;
}

void nft_cover_free(struct nft_cover *c)
{
	free(c->v4);
	free(c->v6);
	memset(c, 0, sizeof(*c));
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
		pl->overflow = true; /* sized in nft_plan_make: cannot happen */
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

static void rule_ports_ne(struct rule_ir *r, unsigned flags, const struct port_range *pr)
{
	if (!r || r->n == MAX_OPS)
		return;
	r->ops[r->n++] = (struct op){ .kind = OP_TH_PORT_NE, .flags = flags, .val = pr->lo, .hi = pr->hi };
}

static void rule_data(struct rule_ir *r, uint32_t off, const uint8_t *data, uint32_t len)
{
	if (!r || r->n == MAX_OPS)
		return;
	r->ops[r->n++] = (struct op){ .kind = OP_IH_EQ, .val = off, .data = data, .len = len };
}

static uint8_t ipproto(enum l4_proto pr)
{
	return pr == PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
}

/* Out of the scope's protocol: return. With protocol any and ports, only
 * TCP and UDP stay, so that th (transport header) is read for them only. */
static void plan_proto_return(struct plan *pl, const char *chain)
{
	struct rule_ir *r;

	if (pl->p->protocol != PROTO_ANY) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_L4PROTO, F_INV, ipproto(pl->p->protocol), 0, NULL);
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	} else if (pl->n_ports) {
		r = plan_rule(pl, chain);
		rule_op(r, OP_L4PROTO_ANY, F_INV, 0, 0, NULL);
		rule_op(r, OP_RETURN, 0, 0, 0, NULL);
	}
}

/* Cheap returns in a base chain ahead of the address lookup: a packet out
 * of the scope's protocol or ports leaves before the target set is looked
 * up (every packet on the host passes the base chains, few are toward a
 * target; tests/bench/pps.sh measures the cost). Each returns only packets
 * that every chain it jumps to returns first thing (plan_scope): egress
 * tests the destination port, ingress the source port, forward jumps to
 * both. The jump chains keep their own filters, so the semantics are
 * plan_scope's alone. */
static void plan_prefilter(struct plan *pl, const char *chain, bool egress, bool ingress)
{
	struct rule_ir *r;

	plan_proto_return(pl, chain);
	if (!pl->n_ports)
		return;
	/* one port or range (most policies): a comparison, cheaper than
	 * a set lookup; more: the ports set */
	r = plan_rule(pl, chain);
	for (unsigned f = 0; f < 2; f++) {
		if (!(f ? ingress : egress))
			continue;
		if (pl->n_ports == 1)
			rule_ports_ne(r, f ? F_SRC : 0, &pl->ports[0]);
		else
			rule_op(r, OP_TH_PORT_SET, F_INV | (f ? F_SRC : 0), 0, SETID_PORTS, "ports");
	}
	rule_op(r, OP_RETURN, 0, 0, 0, NULL);
}

/* The target lookup, behind the cover set's when the family has one
 * (README, "Cost to other traffic"): a packet outside the cover costs one
 * lookup in a small set instead of one in the large one. */
static void plan_jumps(struct plan *pl, const char *chain, unsigned src, const char *target)
{
	struct rule_ir *r = plan_rule(pl, chain);

	if (pl->cover.n_v4)
		rule_op(r, OP_ADDR_SET, src, 0, SETID_COVER4, "cover4");
	rule_op(r, OP_ADDR_SET, src, 0, SETID_DST4, "dst4");
	rule_op(r, OP_JUMP, 0, 0, 0, target);
	r = plan_rule(pl, chain);
	if (pl->cover.n_v6)
		rule_op(r, OP_ADDR_SET, src | F_V6, 0, SETID_COVER6, "cover6");
	rule_op(r, OP_ADDR_SET, src | F_V6, 0, SETID_DST6, "dst6");
	rule_op(r, OP_JUMP, 0, 0, 0, target);
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

	plan_proto_return(pl, chain);
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

	if (f->action == ACT_PAUSE || f->action == ACT_DNS || (f->action == ACT_DELAY && !egress))
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

/* ---- owner scope (uid, cgroup) ---------------------------------------- */

static int cg_level_cmp(const void *a, const void *b)
{
	const struct plan_cgroup_level *x = a, *y = b;

	return x->level < y->level ? -1 : x->level > y->level;
}

/* One set of ids per cgroup level: the socket expression reads the
 * socket's ancestor at one level, so each level is looked up apart. */
static int plan_owner(struct plan *pl, const struct policy *p, const struct scope *sc)
{
	if (!pl->owner)
		return 0;
	if (!sc || !p->n_uids != !sc->n_uids || sc->n_cgroups != p->n_cgroups)
		return -EINVAL;
	for (size_t i = 0; i < p->n_faults; i++)
		if (p->faults[i].action == ACT_DNS)
			return -EINVAL; /* refused by the policy: nothing to scope it by */
	pl->scope = sc;
	pl->label = p->arm_min_flows > 0;
	pl->cg = calloc(sc->n_cgroups + 1, sizeof(*pl->cg));
	if (!pl->cg)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_cgroups; i++) {
		const struct scope_cgroup *c = &sc->cgroups[i];
		struct plan_cgroup_level *l = NULL;
		uint64_t *ids;

		for (size_t k = 0; k < pl->n_cg; k++)
			if (pl->cg[k].level == c->level)
				l = &pl->cg[k];
		if (!l) {
			l = &pl->cg[pl->n_cg++];
			l->level = c->level;
		}
		ids = reallocarray(l->ids, l->n_ids + c->n_ids + 1, sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		l->ids = ids;
		memcpy(l->ids + l->n_ids, c->ids, c->n_ids * sizeof(*ids));
		l->n_ids += c->n_ids;
	}
	qsort(pl->cg, pl->n_cg, sizeof(*pl->cg), cg_level_cmp);
	return 0;
}

/* The owner chain: a packet whose socket is in scope goes on to egress
 * (goto: egress returns to output, so a socket matching two levels is not
 * counted twice); any other falls off the end, out of scope. With both
 * keys a socket must match both. A packet without a socket matches no
 * rule. */
static void plan_owner_chain(struct plan *pl)
{
	struct rule_ir *r;

	if (!pl->n_cg) {
		r = plan_rule(pl, "owner");
		rule_op(r, OP_SKUID_SET, 0, 0, SETID_UIDS, "uids");
		rule_op(r, OP_GOTO, 0, 0, 0, "egress");
		return;
	}
	for (size_t i = 0; i < pl->n_cg; i++) {
		r = plan_rule(pl, "owner");
		if (pl->scope->n_uids)
			rule_op(r, OP_SKUID_SET, 0, 0, SETID_UIDS, "uids");
		rule_op(r, OP_CGROUP_SET, 0, pl->cg[i].level, SETID_CGROUP + pl->cg[i].level, NULL);
		rule_op(r, OP_GOTO, 0, 0, 0, "egress");
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
		/* conntrack events carry no socket owner: the label says it */
		if (pl->label)
			rule_op(r, OP_CT_LABEL_SET, 0, SCOPE_CT_LABEL, 0, NULL);
		plan_calls(pl, chain);
	}
	for (i = 0; i < pl->p->n_faults; i++) {
		ret = plan_fault(pl, chain, egress, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* One rule of dns fault i for one name: the question name compared in
 * chunks of at most NFT_CMP_MAX bytes. Queries may go to any resolver (a
 * local cache at 127.0.0.53 included), so no target set is looked up. An
 * answer (reply) repeats the question at the same offset. */
static void plan_dns_rule(struct plan *pl, const char *chain, uint32_t i, const struct dns_wire *w, bool tcp,
			  bool reply)
{
	const struct fault *f = &pl->p->faults[i];
	uint32_t base = tcp ? DNS_QNAME_TCP : DNS_QNAME_UDP;
	struct rule_ir *r = plan_rule(pl, chain);
	size_t off;

	rule_op(r, OP_L4_PORT, (reply ? F_SRC : 0) | (tcp ? 0 : F_UDP), 53, 0, NULL);
	rule_op(r, OP_SWITCH, 0, i, SETID_SWITCH + i, NULL);
	for (off = 0; off < w->len; off += NFT_CMP_MAX)
		rule_data(r, base + (uint32_t)off, w->b + off,
			  (uint32_t)(w->len - off < NFT_CMP_MAX ? w->len - off : NFT_CMP_MAX));
	rule_op(r, OP_COUNTER, 0, i, 0, NULL);
	if (f->mode == DNS_DROP)
		rule_op(r, OP_DROP, 0, 0, 0, NULL);
	else
		rule_op(r, OP_REJECT, 0, tcp ? REJ_TCP_RESET : REJ_ICMP_PORT, 0, NULL);
}

/* dns faults act ahead of the jumps to the targets. refuse answers a query
 * where it is first seen: output for this host's, forward for those it
 * routes (containers). drop must be silent to the sender, and a UDP
 * datagram dropped in output fails the sender's send() at once (EPERM)
 * instead of letting its resolver time out: so this host's UDP queries are
 * dropped where a local resolver receives them (input), and the answers of
 * a remote resolver are dropped instead (input, source port 53); TCP
 * retransmits what output drops, so its queries are dropped there. Each
 * query is counted once either way. */
static void plan_dns(struct plan *pl, const char *chain)
{
	bool out = !strcmp(chain, "output"), in = !strcmp(chain, "input");
	uint32_t i;
	size_t k;

	for (i = 0; i < pl->p->n_faults; i++) {
		bool drop = pl->p->faults[i].mode == DNS_DROP;

		if (pl->p->faults[i].action != ACT_DNS || (in && !drop))
			continue;
		for (k = 0; k < pl->n_dns; k++) {
			if (!(out && drop))
				plan_dns_rule(pl, chain, i, &pl->dns[k], false, false);
			if (in)
				plan_dns_rule(pl, chain, i, &pl->dns[k], false, true);
			else
				plan_dns_rule(pl, chain, i, &pl->dns[k], true, false);
		}
	}
}

/* The wire names of the target_host names, when some fault is a dns fault;
 * the number of dns rules through *rules. */
static int plan_dns_names(struct plan *pl, size_t *rules)
{
	const struct policy *p = pl->p;
	size_t i, n_dns = 0;
	int ret;

	*rules = 0;
	for (i = 0; i < p->n_faults; i++) {
		if (p->faults[i].action != ACT_DNS)
			continue;
		n_dns++;
		pl->dns_input |= p->faults[i].mode == DNS_DROP;
	}
	if (!n_dns)
		return 0;
	if (!p->n_hosts)
		return -EINVAL;
	pl->dns = calloc(p->n_hosts, sizeof(*pl->dns));
	if (!pl->dns)
		return -ENOMEM;
	for (i = 0; i < p->n_hosts; i++) {
		ret = dns_wire_name(p->hosts[i].name, pl->dns[i].b, sizeof(pl->dns[i].b));
		if (ret < 0)
			return ret;
		pl->dns[i].len = (size_t)ret;
	}
	pl->n_dns = p->n_hosts;
	*rules = n_dns * p->n_hosts * 6; /* at most 2 per name in output, input, forward */
	return 0;
}

void nft_plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_cg; i++)
		free(pl->cg[i].ids);
	free(pl->cg);
	free(pl->dns);
	free(pl->v4);
	free(pl->v6);
	nft_cover_free(&pl->cover);
	free(pl->ports);
	free(pl->xports);
	free(pl->rules);
	memset(pl, 0, sizeof(*pl));
}

int nft_plan_make(struct plan *pl, const struct policy *p, const struct target_set *ts,
		  const uint32_t *delay_prio)
{
	size_t dns_rules = 0;
	int ret;

	memset(pl, 0, sizeof(*pl));
	pl->p = p;
	pl->delay_prio = delay_prio;
	pl->owner = policy_owner_scoped(p);
	/* an owner scope acts on egress: received packets have no socket */
	pl->ingress = p->direction != DIR_EGRESS && !pl->owner;
	if (p->n_faults > 100000)
		return -EINVAL;
	ret = nft_norm_ranges(ts->v4, ts->n_v4, AF_INET, &pl->v4, &pl->n_v4);
	if (ret == 0)
		ret = nft_norm_ranges(ts->v6, ts->n_v6, AF_INET6, &pl->v6, &pl->n_v6);
	if (ret == 0)
		ret = nft_cover_make(&pl->cover, ts);
	if (ret == 0)
		ret = norm_ports(p->ports, p->n_ports, &pl->ports, &pl->n_ports);
	if (ret == 0)
		ret = norm_ports(p->exempt_ports, p->n_exempt_ports, &pl->xports, &pl->n_xports);
	if (ret == 0)
		ret = plan_dns_names(pl, &dns_rules);
	if (ret < 0)
		goto fail;
	if (ret == 0)
		ret = plan_owner(pl, p, ts->scope);
	if (ret < 0)
		goto fail;
	pl->cap_rules = 40 + 2 * p->n_faults + dns_rules + pl->n_cg + 1;
	pl->rules = calloc(pl->cap_rules, sizeof(*pl->rules));
	if (!pl->rules) {
		ret = -ENOMEM;
		goto fail;
	}
	plan_dns(pl, "output");
	plan_prefilter(pl, "output", true, false);
	plan_jumps(pl, "output", 0, pl->owner ? "owner" : "egress");
	plan_dns(pl, "input");
	if (pl->ingress) {
		plan_prefilter(pl, "input", false, true);
		plan_jumps(pl, "input", F_SRC, "ingress");
	}
	/* forwarded packets have no local socket: out of an owner scope */
	plan_dns(pl, "forward");
	if (!pl->owner) {
		plan_prefilter(pl, "forward", true, pl->ingress);
		plan_jumps(pl, "forward", 0, "egress");
	}
	if (pl->ingress)
		plan_jumps(pl, "forward", F_SRC, "ingress");
	if (pl->owner)
		plan_owner_chain(pl);
	ret = plan_chain_body(pl, "egress", true);
	if (ret == 0 && pl->ingress)
		ret = plan_chain_body(pl, "ingress", false);
	if (ret == 0 && pl->overflow)
		ret = -E2BIG;
	if (ret < 0)
		goto fail;
	return 0;
fail:
	nft_plan_free(pl);
	return ret;
}

bool nft_plan_has_chain(const struct plan *pl, const char *name)
{
	if (!strcmp(name, "input"))
		return pl->ingress || pl->dns_input;
	if (!strcmp(name, "ingress"))
		return pl->ingress;
	if (!strcmp(name, "forward"))
		return !pl->owner || pl->n_dns;
	if (!strcmp(name, "owner"))
		return pl->owner;
	return true;
}

int nft_chain_hook(const char *name)
{
	if (!strcmp(name, "output"))
		return NF_INET_LOCAL_OUT;
	if (!strcmp(name, "input"))
		return NF_INET_LOCAL_IN;
	if (!strcmp(name, "forward"))
		return NF_INET_FORWARD;
	return -1;
}

void nft_fault_name(char *buf, size_t len, const char *prefix, uint32_t i)
{
	snprintf(buf, len, "%s%u", prefix, i);
}
