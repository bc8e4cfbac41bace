/* SPDX-License-Identifier: MIT */
#ifndef OKX_NFT_PLAN_H
#define OKX_NFT_PLAN_H

/* The plan of the nftables table (internal to the nft modules): which sets,
 * counters, chains and rules a policy needs, as a small IR of rules made of
 * ops. nft_encode.c turns it into libnftnl messages (install), nft_render.c
 * into nft syntax (dry run): one plan rendered two ways, so the dry run
 * cannot drift from what is installed. A new fault kind adds its ops here,
 * one encoder case and one render case. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsname.h"
#include "nft.h"
#include "policy.h"
#include "scope.h"
#include "targets.h"

/* set ids tie a lookup to a set created in the same transaction */
#define SETID_DST4 1
#define SETID_DST6 2
#define SETID_PORTS 3
#define SETID_XPORTS 4
#define SETID_UIDS 5
#define SETID_COVER4 6
#define SETID_COVER6 7
#define SETID_ANON 100
#define SETID_CGROUP 600 /* + the level */
#define SETID_SWITCH 1000

#define CHAIN_PRIO (-5) /* "priority filter - 5" */
#define NG_MOD PCT_MAX  /* numgen random mod 100000: percent in PCT units */
/* The kernel's cmp expression compares at most 16 bytes (one register;
 * longer data is refused with EOVERFLOW, and nft 1.0.6 does not split it):
 * longer constants are matched in chunks, one payload/cmp pair each. */
#define NFT_CMP_MAX 16
/* Where a DNS query's question name starts in the transport payload (nft's
 * inner header, @ih, which follows the UDP or TCP header whatever its
 * length): after the 12-byte DNS header, and over TCP after the 2-byte
 * message length that precedes it (RFC 1035, 4.2.2). */
#define DNS_QNAME_UDP 12
#define DNS_QNAME_TCP 14

struct dns_wire {
	uint8_t b[DNS_WIRE_MAX];
	size_t len;
};

enum op_kind {
	OP_ADDR_SET,     /* ip|ip6 saddr|daddr @set */
	OP_LOOPBACK,     /* meta iiftype loopback */
	OP_L4PROTO,      /* meta l4proto [!=] tcp|udp */
	OP_L4PROTO_ANY,  /* meta l4proto [!=] { tcp, udp }: anonymous set */
	OP_TH_PORT_SET,  /* th sport|dport [!=] @set */
	OP_TH_PORT_NE,   /* th sport|dport != LO or LO-HI (val, hi) */
	OP_COUNTER,      /* counter name "X" */
	OP_CT_NEW,       /* ct state new */
	OP_TCP_PUSH,     /* tcp flags psh / fin,syn,rst,psh (with meta l4proto tcp) */
	OP_SWITCH,       /* meta nfproto @on<i> */
	OP_NUMGEN_LT,    /* numgen random mod 100000 < P */
	OP_PRIO_SET,     /* meta priority set MAJ:MIN */
	OP_L4_PORT,      /* tcp|udp sport|dport N: meta l4proto and the port */
	OP_IH_EQ,        /* @ih,OFF,LEN 0xDATA: OFF, LEN in bits in nft syntax */
	OP_SKUID_SET,    /* meta skuid @uids */
	OP_CGROUP_SET,   /* socket cgroupv2 level N @cgroup_lN (val: N) */
	OP_CT_LABEL_SET, /* ct label set SCOPE_CT_LABEL */
	OP_DROP,
	OP_RETURN,
	OP_JUMP,
	OP_GOTO,
	OP_REJECT,
};

#define F_INV 0x1
#define F_V6 0x2
#define F_SRC 0x4
#define F_UDP 0x8 /* OP_L4_PORT: udp, not tcp */

struct op {
	enum op_kind kind;
	unsigned flags;
	uint32_t val;      /* protocol, fault index, percent, priority, reject_with */
	uint32_t set_id;
	const char *name;  /* set, counter or chain name; NULL: derived from val */
	const uint8_t *data; /* OP_IH_EQ: len bytes at byte offset val */
	uint32_t len;
	uint32_t hi;       /* OP_TH_PORT_NE: the top of the range from val */
};

/* a dns rule: l4proto, dport, switch, the name's chunks, counter, verdict */
#define MAX_OPS (5 + (DNS_WIRE_MAX + NFT_CMP_MAX - 1) / NFT_CMP_MAX)
struct rule_ir {
	const char *chain;
	struct op ops[MAX_OPS];
	int n;
};

/* The ids of one cgroup level's set (scope: one socket expression per
 * level), from every cgroup of that level. */
struct plan_cgroup_level {
	uint32_t level;
	uint64_t *ids;
	size_t n_ids;
};

struct plan {
	const struct policy *p;
	const uint32_t *delay_prio;
	bool ingress;
	struct addr_range *v4, *v6;
	size_t n_v4, n_v6;
	struct nft_cover cover;   /* cover4/cover6, when a family has many ranges */
	struct port_range *ports, *xports;
	size_t n_ports, n_xports;
	struct dns_wire *dns;     /* the target_host names, when a dns fault needs them */
	size_t n_dns;
	bool dns_input;           /* a dns drop: rules in the input chain */
	bool owner;               /* scoped by socket owner: output jumps to the owner chain */
	bool label;               /* ...and flows are counted: new connections get SCOPE_CT_LABEL */
	const struct scope *scope;
	struct plan_cgroup_level *cg; /* ascending levels */
	size_t n_cg;
	struct rule_ir *rules;
	size_t n_rules, cap_rules;
	bool overflow;
};

/* Chains in creation and rendering order: the three base chains, then the
 * regular chains they jump to (owner: the uid and cgroup scope, which goes
 * on to egress). */
#define NFT_N_CHAINS 6
extern const char *const nft_chain_order[NFT_N_CHAINS];

/* Build the plan of the whole table for p and ts (see nft_build_install for
 * delay_prio). Returns 0, -EINVAL, -E2BIG or -ENOMEM; on error pl is freed. */
int nft_plan_make(struct plan *pl, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio);
void nft_plan_free(struct plan *pl);
/* Whether the plan has the chain (input only with ingress faults or a dns
 * drop, ingress only with ingress faults, forward unless scoped by socket
 * owner, owner only then). */
bool nft_plan_has_chain(const struct plan *pl, const char *name);
/* The netfilter hook of a base chain, -1 for a regular chain. */
int nft_chain_hook(const char *name);
/* The ranges of one family sorted, overlapping and adjacent ones merged,
 * in *out (malloc'ed; NULL when n is 0). Returns 0, -EINVAL (another
 * family, lo > hi) or -ENOMEM. */
int nft_norm_ranges(const struct addr_range *in, size_t n, int family, struct addr_range **out, size_t *n_out);
/* Address length of an AF_INET or AF_INET6 family: 4 or 16. */
int nft_addr_len(int family);
/* a += 1 on a big-endian address of len bytes; true when it wrapped. */
bool nft_addr_inc(uint8_t *a, int len);
/* "<prefix><i>": the names of fault i's counter (f) and switch set (on);
 * "cgroup_l" and a level: the set of that level's cgroup ids. */
void nft_fault_name(char *buf, size_t len, const char *prefix, uint32_t i);

#endif
