/* SPDX-License-Identifier: MIT */
#ifndef OKX_NFT_H
#define OKX_NFT_H

/* The nftables fault engine: one table "inet okx_faultd" with flag owner
 * (the kernel deletes it when our netlink socket closes), target sets, one
 * timeout "switch" set and one named counter per fault.
 *
 * A fault i is live while its switch set on<i> holds {ipv4, ipv6}; every
 * element carries a timeout, so the kernel ends the fault by itself if the
 * daemon stops. Encoders (nft_build_*) are separate from sending.
 *
 * Files: nft_plan.c plans the table (include/nft_plan.h), nft_encode.c
 * encodes the plan as libnftnl messages, nft_render.c prints it in nft
 * syntax (dry run), nft.c is the runtime engine. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfnl.h"
#include "policy.h"
#include "targets.h"

#define NFT_TABLE_NAME "okx_faultd"

struct nft_engine;

/* Open the netlink socket (extended acks on). Returns 0 or -errno. */
int nft_engine_open(struct nft_engine **out);
/* Close the socket: the kernel then drops the owned table. Accepts NULL. */
void nft_engine_close(struct nft_engine *e);

/* Create the whole table in one transaction. delay_prio[i] is the skb
 * priority (TC handle major:minor) for p->faults[i] when it is a delay,
 * ignored otherwise; may be NULL when there is no delay fault.
 * Returns 0, -EEXIST when the table exists (another okx-faultd: logged),
 * -EINVAL for a bad argument, -EBUSY when already installed, or -errno. */
int nft_engine_install(struct nft_engine *e, const struct policy *p, const struct target_set *ts,
		       const uint32_t *delay_prio);

/* Create the owned table alone, empty: the proof that no other okx-faultd
 * runs in this network namespace (--cleanup makes it before it removes
 * any tc state). Closing the engine drops it. Returns 0, -EEXIST when the
 * table exists (another okx-faultd; not logged) or -errno. */
int nft_engine_claim(struct nft_engine *e);

/* In one transaction: end fault off_fault (-1: none; an element the kernel
 * already expired is not an error) and start on_fault (-1: none) for
 * timeout_ms (the planned duration plus the caller's backstop margin).
 * Returns when the kernel acknowledged: 0, -EINVAL (bad index, a pause,
 * timeout 0) or -errno. */
int nft_engine_switch(struct nft_engine *e, int on_fault, uint64_t timeout_ms, int off_fault);

/* Read the named counter of fault i (cumulative; callers compute deltas).
 * Returns 0, -EINVAL or -errno. */
int nft_engine_fault_counter(struct nft_engine *e, int fault, uint64_t *pkts, uint64_t *bytes);
/* The watch counters, cumulative (callers compute deltas):
 *  pkts, bytes  toward the targets in scope (egress, after the scope filters);
 *  new_flows    packets in conntrack state NEW in scope: one per new flow,
 *               except that a flow not yet answered counts each packet (a
 *               retransmitted SYN, every datagram of an unanswered UDP flow);
 *  calls        calls toward the targets (okx-faultd.policy(5),
 *               arm_min_calls): TCP segments with PSH and without SYN, FIN
 *               or RST, and UDP datagrams. */
struct nft_watch {
	uint64_t pkts, bytes, new_flows, calls;
};
/* Returns 0, -EINVAL (not installed) or -errno. */
int nft_engine_watch_counters(struct nft_engine *e, struct nft_watch *w);

/* Add the ranges of `add` (targets_add's delta: disjoint from what the
 * sets hold) to the target sets dst4/dst6, and the parts of them outside
 * the cover sets to those, in one transaction: a flow to them is in scope,
 * watched and faulted from the kernel's ack on.
 * Returns 0, -EINVAL (not installed) or -errno. */
int nft_engine_add_targets(struct nft_engine *e, const struct target_set *add);

/* The cover sets cover4/cover6 (README, "Cost to other traffic"): a family
 * with more than NFT_COVER_MIN target ranges gets a small interval set of
 * at most NFT_COVER_RANGES ranges holding every target (coarsen_ranges),
 * looked up in the base chains before the target set, so that a packet
 * outside it costs one lookup in a small set. n_v4 / n_v6 0: no cover set
 * for that family. Addresses added later grow it (nft_cover_add). */
#define NFT_COVER_MIN 64
#define NFT_COVER_RANGES 16
struct nft_cover {
	struct addr_range *v4, *v6;
	size_t n_v4, n_v6;
};
/* The cover of ts's ranges. Returns 0, -EINVAL or -ENOMEM (c zeroed). */
int nft_cover_make(struct nft_cover *c, const struct target_set *ts);
/* c becomes c plus add's ranges, for each family that has a cover set
 * (after the transaction of nft_build_add_targets committed). Returns 0,
 * -EINVAL or -ENOMEM (c unchanged). */
int nft_cover_add(struct nft_cover *c, const struct target_set *add);
void nft_cover_free(struct nft_cover *c); /* accepts zeroed */

/* A cgroup's new id (scope: the cgroup was created again) for the set of
 * its level, and an old id to delete (0: none). */
struct nft_cgroup_update {
	uint32_t level;
	uint64_t add_id, del_id;
};
/* Apply updates in one transaction: the table matches the new ids from
 * the kernel's ack on. Returns 0, -EINVAL (not installed, nothing to do)
 * or -errno. */
int nft_engine_cgroup_update(struct nft_engine *e, const struct nft_cgroup_update *u, size_t n);

/* Delete the table (normal end). A table already gone is not an error.
 * Returns 0 or -errno. */
int nft_engine_remove(struct nft_engine *e);

/* Print the ruleset nft_engine_install creates, in nft syntax, accepted by
 * `nft -c -f -`. */
void nft_render(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio);

#define NFT_RENDER_NO_OWNER 0x1u /* omit "flags owner" (for loading with nft -f) */
void nft_render_opts(FILE *out, const struct policy *p, const struct target_set *ts, const uint32_t *delay_prio,
		     unsigned flags);

/* Encoders: append messages to a batch started with nfnl_batch_init(); the
 * caller ends it. Return 0, -EINVAL or -ENOMEM. */
int nft_build_install(struct nfnl_batch *b, const struct policy *p, const struct target_set *ts,
		      const uint32_t *delay_prio);
/* The same, and on success *cover (zeroed or freed by the caller before)
 * takes the cover sets' contents as the plan made them. */
int nft_build_install_cover(struct nfnl_batch *b, const struct policy *p, const struct target_set *ts,
			    const uint32_t *delay_prio, struct nft_cover *cover);
/* Switch flags. RENEW: remove on_fault's elements first (a fresh timeout
 * when the switch may still hold them). DELETE: use DELSETELEM instead of
 * DESTROYSETELEM (kernels before 6.3; an absent element then fails). */
#define NFT_SWITCH_RENEW 0x1u
#define NFT_SWITCH_DELETE 0x2u
int nft_build_switch(struct nfnl_batch *b, int on_fault, uint64_t timeout_ms, int off_fault, unsigned flags);
int nft_build_claim(struct nfnl_batch *b); /* the owned table, empty */
int nft_build_remove(struct nfnl_batch *b);
/* add's ranges to dst4/dst6, and those parts of them outside `cover` (NULL:
 * none) to cover4/cover6 where the family has a cover set */
int nft_build_add_targets(struct nfnl_batch *b, const struct target_set *add, const struct nft_cover *cover);
int nft_build_cgroup_update(struct nfnl_batch *b, const struct nft_cgroup_update *u, size_t n);
/* One GETOBJ request for a named counter of our table, with NLM_F_ACK.
 * Returns its length or -ENOSPC. */
int nft_build_get_counter(char *buf, size_t len, uint32_t seq, const char *name);

/* Elements per NEWSETELEM message (kept under the 64 KiB nest limit). */
unsigned nft_elems_per_msg(unsigned key_len);

/* nf_tables message type for "destroy set element" (kernel >= 6.3): like
 * DELSETELEM, but an absent element is not an error. */
#define NFT_MSG_DESTROYSETELEM_ 30

#endif
