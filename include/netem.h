/* SPDX-License-Identifier: MIT */
#ifndef OKX_NETEM_H
#define OKX_NETEM_H

/*
 * Scoped netem delay for `delay` faults.
 *
 * On the delay interface okx-faultd installs, and owns, this tree:
 *
 *   root  qdisc htb handle fa17: default 0 direct_qlen 1000
 *   class htb fa17:N   rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000
 *                      (N = fault index + 1, in hex as tc writes it)
 *   leaf  qdisc netem parent fa17:N  delay LAT [JIT] [loss P%] limit 10000
 *
 * The major number 0xfa17 ("fa17:") is reserved for okx-faultd: a root
 * qdisc with that handle is ours (possibly left by a killed daemon), any
 * other non-default root qdisc is someone else's and is never replaced.
 *
 * Nothing is delayed by the tree alone: HTB sends every packet whose
 * skb->priority is not one of its class ids through its direct queue
 * (default 0: no default class, no rate limit). The nftables engine sets
 * `meta priority` to netem_fault_priority(i) for target packets only
 * while fault i is live, and HTB puts exactly those packets into class
 * fa17:i+1 before any filter runs. When the fault's set element times
 * out (or the daemon dies) the packets go straight through again.
 *
 * All functions return 0 or -errno and log what went wrong (log.h).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

#define OKX_TC_MAJOR 0xfa17u
#define OKX_TC_HANDLE (OKX_TC_MAJOR << 16) /* fa17:0, the HTB root */

/* HTB's direct queue (the path of all non-target traffic), in packets:
 * what pfifo_fast gives a device with the usual txqueuelen. */
#define OKX_TC_DIRECT_QLEN 1000u
/* Class rate and ceil, bytes/s (10 Gbit/s): high enough that HTB never
 * shapes the few flows of a trading connector. */
#define OKX_TC_CLASS_RATE 1250000000u
#define OKX_TC_CLASS_QUANTUM 60000u
/* Class burst and cburst, bytes: a few GSO super-packets pass back to back
 * (libnl's default, rate/HZ + mtu, is below one MTU at this rate). */
#define OKX_TC_CLASS_BURST 262144u
/* netem queue limit, packets: room for 10 kpps at 1 s of delay. */
#define OKX_TC_NETEM_LIMIT 10000u
/* tc_netem_qopt carries latency and jitter as 32-bit psched ticks of
 * 64 ns, at most ~274.9 s; okx-faultd refuses more than this (and so
 * does the policy parser). */
#define OKX_TC_MAX_DELAY_MS POLICY_MAX_DELAY_MS

struct netem_ctx;

/* Open a NETLINK_ROUTE socket (extended ACKs on). */
int netem_open(struct netem_ctx **out);
void netem_close(struct netem_ctx *c); /* accepts NULL */

/* The delay interface. ifname non-empty: that device (-ENODEV when it does
 * not exist). ifname "" or NULL: the device of the route to `first_target`
 * (an address or CIDR; the network address is looked up), asked of the
 * kernel with RTM_GETROUTE; -EINVAL when first_target is NULL or not an
 * address, the kernel's error (-ENETUNREACH, ...) when there is no route.
 * On success *ifindex and ifname_out (IF_NAMESIZE bytes) are filled. */
int netem_resolve_ifindex(struct netem_ctx *c, const char *ifname, const char *first_target,
			  int *ifindex, char *ifname_out);

/* 0 when the root qdisc of ifindex is the kernel's default (handle 0:,
 * e.g. noqueue, pfifo_fast, fq_codel, mq) or ours (htb fa17:);
 * -EBUSY when it is another one (logged with its kind and handle);
 * -ENODEV when there is no such device. */
int netem_check_iface(struct netem_ctx *c, int ifindex);

/* Check that every delay fault of p can be encoded (latency and jitter
 * at most OKX_TC_MAX_DELAY_MS, fault index + 1 fits a 16-bit minor).
 * Logs "FILE:LINE: message" per bad fault; -ERANGE if any. Touches
 * nothing; netem_install() calls it first. */
int netem_validate(const struct policy *p);

/* Install the tree for every delay fault of p (nothing when p has none).
 * A stale tree of ours is removed first; a foreign root qdisc gives
 * -EBUSY and is left alone. The root is created with NLM_F_EXCL and no
 * NLM_F_REPLACE, so the kernel itself refuses to replace a qdisc that
 * appeared after the check. On any error the root is deleted again and
 * the interface is back to its default. -EOPNOTSUPP (logged) when the
 * kernel has no netem: its answer to the leaf add, nothing is read from
 * /lib/modules. */
int netem_install(struct netem_ctx *c, int ifindex, const struct policy *p);

/* Testing hook: with NETEM_NO_LEAF the classes keep HTB's default pfifo
 * leaf, so the root, the classes, classification by priority and the
 * class counters can be tested on kernels without sch_netem. */
#define NETEM_NO_LEAF 0x1u
int netem_install_flags(struct netem_ctx *c, int ifindex, const struct policy *p, unsigned flags);

/* skb->priority that steers packets into fault fault_index's class:
 * TC_H_MAKE(OKX_TC_MAJOR << 16, fault_index + 1). */
uint32_t netem_fault_priority(int fault_index);

/* Packets and bytes fault fault_index's class took in: sent by the class,
 * plus packets still queued in its leaf, plus packets the leaf dropped
 * (netem loss; the kernel keeps no byte count for those). -ENOENT when
 * the class does not exist. */
int netem_class_stats(struct netem_ctx *c, int ifindex, int fault_index, uint64_t *pkts,
		      uint64_t *bytes);

/* Delete our root qdisc (and with it every class and leaf) if the root of
 * ifindex is ours; 0 when there is nothing of ours there. */
int netem_remove(struct netem_ctx *c, int ifindex);

/* --cleanup: remove our root qdisc from every interface of this network
 * namespace; *removed (may be NULL) counts them. */
int netem_cleanup_all(struct netem_ctx *c, int *removed);

/* Dry run: the iproute2 commands equivalent to netem_install(), one per
 * line, each beginning with "# tc ". Nothing when p has no delay fault.
 * ifname NULL or "" prints the placeholder "IFACE". */
void netem_render(FILE *out, const char *ifname, const struct policy *p);

/*
 * Message builders, separate from sending so that they are unit tested
 * without a kernel. Each returns 0 and a new message in *out (free it
 * with nlmsg_free) or -errno.
 */
struct nl_msg;
int netem_msg_root(int ifindex, struct nl_msg **out);               /* RTM_NEWQDISC htb fa17: */
int netem_msg_class(int ifindex, int fault_index, struct nl_msg **out); /* RTM_NEWTCLASS fa17:N */
int netem_msg_leaf(int ifindex, int fault_index, const struct fault *f, struct nl_msg **out);
int netem_msg_del_root(int ifindex, struct nl_msg **out);           /* RTM_DELQDISC root fa17: */

/* Loss as netem wants it: a probability scaled to UINT32_MAX (100 % is
 * UINT32_MAX), from PCT units (thousandths of a percent). */
uint32_t netem_loss_prob(uint32_t pct);

#endif
