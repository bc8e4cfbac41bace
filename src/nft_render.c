/* SPDX-License-Identifier: MIT */
/* The nft-syntax renderer of the dry run: the same plan the encoder
 * installs (include/nft_plan.h), printed so that `nft -c -f -` accepts it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "nft.h"
#include "nft_plan.h"

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
	int bits = nft_addr_len(family) * 8, p = range_plen(r->lo, r->hi, bits);

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

/* "@ih,OFF,LEN 0xN": bits, and the value as nft lists it, without leading
 * zeros (it keeps the length from LEN) */
static void render_hex(FILE *out, const struct op *o)
{
	uint32_t i = 0;

	fprintf(out, "@ih,%u,%u 0x", o->val * 8, o->len * 8);
	while (i + 1 < o->len && o->data[i] == 0)
		i++;
	fprintf(out, (o->data[i] & 0xf0) ? "%02x" : "%x", o->data[i]);
	for (i++; i < o->len; i++)
		fprintf(out, "%02x", o->data[i]);
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
	case OP_TH_PORT_NE:
		fprintf(out, "th %s != %u", (o->flags & F_SRC) ? "sport" : "dport", o->val);
		if (o->hi != o->val)
			fprintf(out, "-%u", o->hi);
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
	case OP_L4_PORT:
		fprintf(out, "%s %s %u", (o->flags & F_UDP) ? "udp" : "tcp", (o->flags & F_SRC) ? "sport" : "dport",
			o->val);
		break;
	case OP_IH_EQ:
		render_hex(out, o);
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
	case OP_GOTO:
		fprintf(out, "goto %s", o->name);
		break;
	case OP_SKUID_SET:
		fprintf(out, "meta skuid @%s", o->name);
		break;
	case OP_CGROUP_SET:
		fprintf(out, "socket cgroupv2 level %u @cgroup_l%u", o->val, o->val);
		break;
	case OP_CT_LABEL_SET:
		fprintf(out, "ct label set %u", o->val);
		break;
	case OP_REJECT:
		fprintf(out, "reject with %s", reject_text((enum reject_with)o->val));
		break;
	}
}

static void render_chain(FILE *out, const struct plan *pl, const char *chain)
{
	int hook = nft_chain_hook(chain);
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

/* nft names a cgroup only by its path under /sys/fs/cgroup (where a hybrid
 * layout has no cgroup2), so the ids the daemon adds are comments here */
static void render_owner_sets(FILE *out, const struct plan *pl)
{
	const struct scope *sc = pl->scope;

	if (sc->n_uids) {
		fputs("\tset uids {\n\t\ttype uid\n\t\telements = {", out);
		for (size_t i = 0; i < sc->n_uids; i++) {
			render_sep(out, i);
			fprintf(out, "%u", sc->uids[i]);
		}
		fputs(" }\n\t}\n", out);
	}
	for (size_t k = 0; k < pl->n_cg; k++) {
		fprintf(out, "\tset cgroup_l%u {\n\t\ttype cgroupsv2\n", pl->cg[k].level);
		for (size_t i = 0; i < sc->n_cgroups; i++) {
			const struct scope_cgroup *c = &sc->cgroups[i];

			if (c->level == pl->cg[k].level)
				fprintf(out, "\t\t# element %llu: cgroup %s (added by the daemon: nft reads cgroup "
					     "paths under /sys/fs/cgroup only)\n",
					(unsigned long long)c->id, c->path);
		}
		fputs("\t}\n", out);
	}
}

void nft_render_opts(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio,
		     unsigned flags)
{
	struct plan pl;
	size_t i;
	int ret;

	ret = nft_plan_make(&pl, p, ts, delay_prio);
	if (ret < 0) {
		fprintf(out, "# okx-faultd: cannot plan the nftables ruleset: %s\n", strerror(-ret));
		return;
	}
	fprintf(out, "table inet %s {\n", NFT_TABLE_NAME);
	if (!(flags & NFT_RENDER_NO_OWNER))
		fputs("\tflags owner\n", out);
	render_interval_set(out, "dst4", "ipv4_addr", pl.v4, NULL, pl.n_v4, AF_INET);
	render_interval_set(out, "dst6", "ipv6_addr", pl.v6, NULL, pl.n_v6, AF_INET6);
	if (pl.cover.n_v4)
		render_interval_set(out, "cover4", "ipv4_addr", pl.cover.v4, NULL, pl.cover.n_v4, AF_INET);
	if (pl.cover.n_v6)
		render_interval_set(out, "cover6", "ipv6_addr", pl.cover.v6, NULL, pl.cover.n_v6, AF_INET6);
	if (pl.n_ports)
		render_interval_set(out, "ports", "inet_service", NULL, pl.ports, pl.n_ports, 0);
	if (pl.n_xports)
		render_interval_set(out, "xports", "inet_service", NULL, pl.xports, pl.n_xports, 0);
	if (pl.owner)
		render_owner_sets(out, &pl);
	for (i = 0; i < p->n_faults; i++)
		if (p->faults[i].action != ACT_PAUSE)
			fprintf(out, "\tset on%zu {\n\t\ttype nf_proto\n\t\tflags timeout\n\t}\n", i);
	for (i = 0; i < p->n_faults; i++)
		if (p->faults[i].action != ACT_PAUSE)
			fprintf(out, "\tcounter f%zu {\n\t}\n", i);
	fputs("\tcounter watch_pkts {\n\t}\n\tcounter watch_new {\n\t}\n\tcounter watch_calls {\n\t}\n", out);
	for (i = 0; i < NFT_N_CHAINS; i++)
		if (nft_plan_has_chain(&pl, nft_chain_order[i]))
			render_chain(out, &pl, nft_chain_order[i]);
	fputs("}\n", out);
	nft_plan_free(&pl);
}

void nft_render(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio)
{
	nft_render_opts(out, p, ts, delay_prio, 0);
}
