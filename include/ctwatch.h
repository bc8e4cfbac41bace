/* SPDX-License-Identifier: MIT */
#ifndef OKX_CTWATCH_H
#define OKX_CTWATCH_H

#include <linux/filter.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "targets.h"

/* The original-direction tuple of one conntrack entry. Addresses in network
 * byte order (AF_INET: first 4 bytes), ports in host order (0 for protocols
 * without ports, e.g. icmp). */
struct ct_flow {
	int family;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t tcp_state; /* CTA_PROTOINFO_TCP_STATE (TCP_CONNTRACK_*), 0: none given */
	bool label;        /* CTA_LABELS has SCOPE_CT_LABEL: the table saw the flow's first packet
			    * leave a socket in the uid or cgroup scope (include/scope.h) */
};

/* The arming watch: conntrack NEW events for flows in the drill's scope.
 *
 * Every NEW event is one new flow (a new conntrack entry on a reused tuple
 * too), except a TCP connection whose SYN conntrack did not see: one under
 * way before the drill, picked up mid-stream. Remembers the flows it has
 * seen (and the baseline) in a bounded set, by tuple and conntrack id: at
 * least the CTWATCH_SEEN_CAP most recent in-scope flows, at most twice
 * that; only an overflow's recovery dump consults it. */
#define CTWATCH_SEEN_CAP 4096

struct ctwatch;

/* Subscribe to NFNLGRP_CONNTRACK_NEW (NETLINK_NETFILTER) on a non-blocking
 * socket with a large receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF), then
 * take a baseline dump of the in-scope flows that already exist so they are
 * never counted as new. p and ts are kept by reference and must outlive the
 * watch. Flows created while the baseline dump runs (a few ms) are taken as
 * baseline. Returns 0 or -errno (-EPERM without CAP_NET_ADMIN). */
int ctwatch_open(struct ctwatch **out, const struct policy *p, const struct target_set *ts);

/* For poll(): readable when events are pending. */
int ctwatch_fd(const struct ctwatch *w);

typedef void (*ctwatch_cb)(const struct ct_flow *f, void *data);

/* Drain pending events (at most a bounded batch per call, so a flood cannot
 * starve the caller; poll again when the fd stays readable) and call cb once
 * per new in-scope flow. After an overflow (ENOBUFS) the events that were
 * lost are recovered with a conntrack dump: cb is called for in-scope flows
 * neither in the baseline nor already seen, and a warning tells how many
 * the dump recovered. Flows that ended before the dump are lost, and once
 * more flows were seen than are remembered the dump counts none: after an
 * overflow the count is a lower bound (stats: lower_bound). Returns 0 or
 * -errno. */
int ctwatch_read(struct ctwatch *w, ctwatch_cb cb, void *data);

void ctwatch_close(struct ctwatch *w); /* accepts NULL */

/* The target set the watch was opened with has grown (resolve_every):
 * replace the event socket's filter so events for the new addresses pass.
 * Scope checks in user space read the set itself. */
void ctwatch_targets_changed(struct ctwatch *w);

/* For tests only: replace the receive buffer size (bytes, as for
 * SO_RCVBUF; the kernel doubles it). Returns 0 or -errno. */
int ctwatch_set_rcvbuf(struct ctwatch *w, int bytes);

struct ctwatch_stats {
	uint64_t events;    /* NEW event messages received */
	uint64_t in_scope;  /* flows reported through cb (events and recoveries) */
	uint64_t overflows; /* ENOBUFS seen */
	uint64_t recovered; /* flows reported by recovery dumps */
	uint64_t baseline;  /* in-scope flows in the baseline dump */
	uint64_t midstream; /* TCP connections picked up mid-stream, not counted */
	bool lower_bound;   /* events were lost: flows may be missing from the count */
	int rcvbuf;         /* SO_RCVBUF as the kernel reports it */
};
void ctwatch_get_stats(const struct ctwatch *w, struct ctwatch_stats *st);

/* The classic BPF filter attached to the event socket so that events for
 * flows to other addresses are dropped in the kernel, before they take room
 * in the receive buffer or wake the daemon. It only drops a message that has
 * the exact layout of a ctnetlink NEW event (orig tuple first, IPv4/IPv6
 * addresses at fixed offsets) and whose destination is outside the target
 * ranges: exact for IPv4, by the first 32 bits for IPv6 (a superset; user
 * space does the exact check). With `label` (a uid or cgroup scope) a NEW
 * event without the connection label SCOPE_CT_LABEL is dropped too: its
 * flow did not come from a socket in scope. Anything else is passed on.
 *
 * The ranges are searched as a binary tree (about 2 log2(n) compares per
 * event). It holds at most CTWATCH_FILTER_RANGES ranges of both families;
 * more are coarsened: neighbouring ranges merged across the smallest gaps
 * until they fit, so the filter passes a superset of the targets (every
 * target still passes; user space checks exactly). README, "Nothing
 * before traffic", and okx-faultd(8) tell what the daemon says then.
 *
 * Writes at most `max` instructions; returns their number (never more than
 * CTWATCH_BPF_MAX with max = CTWATCH_BPF_MAX), -E2BIG when max is too small
 * or -ENOMEM. When info is not NULL it is filled in (also on error). */
#define CTWATCH_BPF_MAX 4096    /* BPF_MAXINSNS */
#define CTWATCH_FILTER_RANGES 960

struct ctwatch_filter_info {
	size_t targets_v4, targets_v6; /* the target set's ranges */
	size_t words_v4, words_v6;     /* ... by their first 32 bits, adjacent ones merged */
	size_t held_v4, held_v6;       /* the ranges the filter holds */
	uint64_t extra_v4;             /* IPv4 addresses outside the targets it passes */
	uint64_t extra_v6;             /* IPv6 /32 prefixes added by coarsening */
	bool coarsened;                /* held < words for a family */
};

int ctwatch_build_filter(const struct target_set *ts, bool label, struct sock_filter *prog, size_t max,
			 struct ctwatch_filter_info *info);

/* Pure parsing, no kernel needed: a ctnetlink IPCTNL_MSG_CT_NEW message
 * (an event or a dump entry) to its original tuple. Returns 0, -ENOENT when
 * the message is well formed but not a usable flow (another message type, a
 * tuple that is neither IPv4 nor IPv6), or -EINVAL when it is malformed
 * (truncated, missing or bad tuple attributes, tcp/udp without ports). */
int ct_parse_flow(const struct nlmsghdr *nlh, struct ct_flow *out);

#endif
