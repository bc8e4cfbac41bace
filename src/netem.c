/* SPDX-License-Identifier: MIT */
/* Scoped netem delay: an HTB root of our own, one class + netem leaf per
 * delay fault, packets steered in by skb->priority (see netem.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include "duration.h"
#include "log.h"
#include "netem.h"

_Static_assert(OKX_TC_CLASS_RATE == 1250000000u, "netem_render() spells the rate 10gbit");
_Static_assert(OKX_TC_CLASS_BURST == 256u * 1024u, "netem_render() spells the burst 256k");

struct netem_ctx {
	struct nl_sock *sk;
};

/* What the kernel answered to one request. */
struct reply {
	bool done;
	int err;       /* the ACK's -errno */
	char ext[256]; /* the extended ACK's message, "" when none */
	int (*valid)(struct nl_msg *msg, void *arg);
	void *valid_arg;
};

struct root_info {
	bool present;
	uint32_t handle;
	char kind[32];
};

static int errno_of_nlerr(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_BUSY: return -EBUSY;
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_INVAL: case NLE_MISSING_ATTR: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_DUMP_INTR: return -EINTR;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_NOACCESS: return -EACCES;
	default: return -EIO;
	}
}

static const char *ifname_of(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

uint32_t netem_fault_priority(int fault_index)
{
	return TC_H_MAKE(OKX_TC_HANDLE, (uint32_t)fault_index + 1);
}

uint32_t netem_loss_prob(uint32_t pct)
{
	if (pct >= PCT_MAX)
		return UINT32_MAX;
	return (uint32_t)(((uint64_t)pct * UINT32_MAX + PCT_MAX / 2) / PCT_MAX);
}

/* ---- message builders ---- */

/* libnl's HTB cannot set TCA_HTB_DIRECT_QLEN (the kernel would take the
 * device's txqueuelen, 0 on some virtual devices, then clamp to 2), so the
 * root is written by hand:
 *   tcmsg { ifindex, handle fa17:0, parent root }
 *   TCA_KIND "htb"
 *   TCA_OPTIONS { TCA_HTB_INIT tc_htb_glob{v3, r2q 10, defcls 0},
 *                 TCA_HTB_DIRECT_QLEN u32 }
 * NLM_F_EXCL without NLM_F_REPLACE: the kernel grafts over a default
 * (handle 0) root only and answers EEXIST for anything else. */
int netem_msg_root(int ifindex, struct nl_msg **out)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = OKX_TC_HANDLE,
		.tcm_parent = TC_H_ROOT,
	};
	struct tc_htb_glob glob = { .version = TC_HTB_PROTOVER, .rate2quantum = 10, .defcls = 0 };
	struct nl_msg *msg;
	struct nlattr *opts;
	int err = -EMSGSIZE;

	*out = NULL;
	msg = nlmsg_alloc_simple(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, "htb") < 0)
		goto cleanup;
	opts = nla_nest_start(msg, TCA_OPTIONS);
	if (!opts)
		goto cleanup;
	if (nla_put(msg, TCA_HTB_INIT, sizeof(glob), &glob) < 0 ||
	    nla_put_u32(msg, TCA_HTB_DIRECT_QLEN, OKX_TC_DIRECT_QLEN) < 0)
		goto cleanup;
	if (nla_nest_end(msg, opts) < 0)
		goto cleanup;
	*out = msg;
	msg = NULL;
	err = 0;
cleanup:
	nlmsg_free(msg);
	return err;
}

static bool index_ok(int fault_index)
{
	return fault_index >= 0 && fault_index < 0xffff;
}

int netem_msg_class(int ifindex, int fault_index, struct nl_msg **out)
{
	struct rtnl_class *cl;
	int err;

	*out = NULL;
	if (!index_ok(fault_index))
		return -ERANGE;
	cl = rtnl_class_alloc();
	if (!cl)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), OKX_TC_HANDLE);
	rtnl_tc_set_handle(TC_CAST(cl), netem_fault_priority(fault_index));
	err = rtnl_tc_set_kind(TC_CAST(cl), "htb");
	if (err >= 0)
		err = rtnl_htb_set_rate(cl, OKX_TC_CLASS_RATE);
	if (err >= 0)
		err = rtnl_htb_set_ceil(cl, OKX_TC_CLASS_RATE);
	/* explicit quantum: rate/r2q would be far above 200000 and the kernel
	 * would log "quantum of class is big" for every class */
	if (err >= 0)
		err = rtnl_htb_set_quantum(cl, OKX_TC_CLASS_QUANTUM);
	if (err >= 0)
		err = rtnl_htb_set_rbuffer(cl, OKX_TC_CLASS_BURST);
	if (err >= 0)
		err = rtnl_htb_set_cbuffer(cl, OKX_TC_CLASS_BURST);
	if (err >= 0)
		err = rtnl_class_build_add_request(cl, NLM_F_CREATE | NLM_F_EXCL, out);
	rtnl_class_put(cl);
	return err < 0 ? errno_of_nlerr(err) : 0;
}

/* libnl's netem takes latency and jitter in microseconds (it converts to
 * psched ticks, 64 ns each, through /proc/net/psched) and loss as the
 * kernel's u32 probability passed through an int. */
int netem_msg_leaf(int ifindex, int fault_index, const struct fault *f, struct nl_msg **out)
{
	struct rtnl_qdisc *q;
	int err;

	*out = NULL;
	if (!index_ok(fault_index))
		return -ERANGE;
	if (f->latency_ms > OKX_TC_MAX_DELAY_MS || f->jitter_ms > OKX_TC_MAX_DELAY_MS)
		return -ERANGE;
	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), netem_fault_priority(fault_index));
	err = rtnl_tc_set_kind(TC_CAST(q), "netem");
	if (err >= 0) {
		rtnl_netem_set_limit(q, (int)OKX_TC_NETEM_LIMIT);
		rtnl_netem_set_delay(q, (int)(f->latency_ms * 1000));
		if (f->jitter_ms)
			rtnl_netem_set_jitter(q, (int)(f->jitter_ms * 1000));
		/* the int is stored back into a u32: 100 % (UINT32_MAX) goes
		 * through as -1 and arrives intact */
		if (f->loss)
			rtnl_netem_set_loss(q, (int)netem_loss_prob(f->loss));
		err = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, out);
	}
	rtnl_qdisc_put(q);
	return err < 0 ? errno_of_nlerr(err) : 0;
}

/* The handle makes the deletion safe against races: the kernel refuses
 * (EINVAL, "Invalid handle") when the root is no longer fa17:. */
int netem_msg_del_root(int ifindex, struct nl_msg **out)
{
	struct rtnl_qdisc *q;
	int err;

	*out = NULL;
	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), OKX_TC_HANDLE);
	err = rtnl_qdisc_build_delete_request(q, out);
	rtnl_qdisc_put(q);
	return err < 0 ? errno_of_nlerr(err) : 0;
}

/* ---- sending ---- */

/* An NLMSG_ERROR with NLM_F_ACK_TLVS carries, after struct nlmsgerr and
 * (unless NLM_F_CAPPED) the echoed request, attributes of which
 * NLMSGERR_ATTR_MSG is the kernel's explanation. */
static void extack_copy(struct nlmsgerr *e, char *buf, size_t len)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	buf[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)(void *)((char *)e + off),
		      (int)(h->nlmsg_len - NLMSG_HDRLEN - off), NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(buf, tb[NLMSGERR_ATTR_MSG], len);
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;

	(void)nla;
	r->done = true;
	r->err = e->error;
	extack_copy(e, r->ext, sizeof(r->ext));
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;

	if (r->valid)
		return r->valid(msg, r->valid_arg);
	return NL_OK;
}

/* Send msg (consumed), read every answer up to its ACK. Returns 0, the
 * kernel's -errno (its message in r->ext) or a local -errno. */
static int transact(struct netem_ctx *c, struct nl_msg *msg, struct reply *r)
{
	struct nl_cb *cb;
	int err;

	r->done = false;
	r->err = 0;
	r->ext[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	if (nl_cb_err(cb, NL_CB_CUSTOM, on_error, r) < 0 ||
	    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r) < 0 ||
	    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, r) < 0) {
		err = -EINVAL;
		goto cleanup;
	}
	err = nl_send_auto(c->sk, msg);
	if (err < 0) {
		err = errno_of_nlerr(err);
		goto cleanup;
	}
	err = 0;
	while (!r->done) {
		int rc = nl_recvmsgs(c->sk, cb);

		if (rc < 0 && !r->done) {
			err = errno_of_nlerr(rc);
			goto cleanup;
		}
	}
	err = r->err;
cleanup:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return err;
}

static void log_tc_error(const char *what, const char *dev, int err, const struct reply *r)
{
	log_warnx("tc: %s on %s: %s%s%s", what, dev, strerror(-err), r->ext[0] ? ": " : "", r->ext);
}

int netem_open(struct netem_ctx **out)
{
	struct netem_ctx *c;
	int one = 1, err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sk = nl_socket_alloc();
	if (!c->sk) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = nl_connect(c->sk, NETLINK_ROUTE);
	if (err < 0) {
		log_warnx("rtnetlink socket: %s", nl_geterror(err));
		err = errno_of_nlerr(err);
		goto cleanup;
	}
	/* best effort: older kernels only lose the explanations */
	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0)
		log_debug("rtnetlink: NETLINK_EXT_ACK: %s", strerror(errno));
	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
		log_debug("rtnetlink: NETLINK_CAP_ACK: %s", strerror(errno));
	*out = c;
	c = NULL;
	err = 0;
cleanup:
	netem_close(c);
	return err;
}

void netem_close(struct netem_ctx *c)
{
	if (!c)
		return;
	nl_socket_free(c->sk); /* closes; accepts NULL */
	free(c);
}

/* ---- interface resolution ---- */

struct route_answer {
	uint32_t oif;
};

static int route_oif(struct nl_msg *msg, void *arg)
{
	struct route_answer *a = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_type != RTM_NEWROUTE)
		return NL_OK;
	if (nlmsg_parse(h, sizeof(struct rtmsg), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	if (tb[RTA_OIF])
		a->oif = nla_get_u32(tb[RTA_OIF]);
	return NL_OK;
}

static int parse_target(const char *s, int *family, unsigned char addr[16])
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(s, "/");

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int route_lookup(struct netem_ctx *c, const char *target, uint32_t *oif)
{
	struct route_answer a = { 0 };
	struct reply r = { .valid = route_oif, .valid_arg = &a };
	struct rtmsg rtm = { 0 };
	unsigned char addr[16];
	struct nl_msg *msg;
	int family, err;

	err = parse_target(target, &family, addr);
	if (err) {
		log_warnx("interface: cannot route to \"%s\": not an address", target);
		return err;
	}
	rtm.rtm_family = (unsigned char)family;
	rtm.rtm_dst_len = family == AF_INET ? 32 : 128;
	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, family == AF_INET ? 4 : 16, addr) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = transact(c, msg, &r);
	if (err) {
		log_warnx("interface: no route to %s: %s%s%s", target, strerror(-err), r.ext[0] ? ": " : "", r.ext);
		return err;
	}
	if (!a.oif) {
		log_warnx("interface: the route to %s has no output device", target);
		return -ENETUNREACH;
	}
	*oif = a.oif;
	return 0;
}

int netem_resolve_ifindex(struct netem_ctx *c, const char *ifname, const char *first_target,
			  int *ifindex, char *ifname_out)
{
	uint32_t idx;
	int err;

	if (ifname && *ifname) {
		if (strlen(ifname) >= IF_NAMESIZE) {
			log_warnx("interface %s: name too long", ifname);
			return -EINVAL;
		}
		idx = if_nametoindex(ifname);
		if (!idx) {
			err = errno ? -errno : -ENODEV;
			log_warnx("interface %s: %s", ifname, strerror(-err));
			return err;
		}
		memcpy(ifname_out, ifname, strlen(ifname) + 1);
		*ifindex = (int)idx;
		return 0;
	}
	if (!first_target) {
		log_warnx("interface: no interface and no target to route to");
		return -EINVAL;
	}
	err = route_lookup(c, first_target, &idx);
	if (err)
		return err;
	if (!if_indextoname(idx, ifname_out)) {
		err = -errno;
		log_warnx("interface: route to %s: device %u: %s", first_target, idx, strerror(-err));
		return err;
	}
	*ifindex = (int)idx;
	return 0;
}

/* ---- qdisc inspection ---- */

static int alloc_qdisc_cache(struct netem_ctx *c, struct nl_cache **cache)
{
	int err = 0, tries;

	/* a dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is
	 * inconsistent; ask again */
	for (tries = 0; tries < 3; tries++) {
		err = rtnl_qdisc_alloc_cache(c->sk, cache);
		if (err != -NLE_DUMP_INTR)
			break;
	}
	if (err < 0) {
		log_warnx("tc: listing qdiscs: %s", nl_geterror(err));
		return errno_of_nlerr(err);
	}
	return 0;
}

static void root_of(struct nl_cache *cache, int ifindex, struct root_info *ri)
{
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	const char *kind;

	memset(ri, 0, sizeof(*ri));
	if (!q)
		return;
	ri->present = true;
	ri->handle = rtnl_tc_get_handle(TC_CAST(q));
	kind = rtnl_tc_get_kind(TC_CAST(q));
	snprintf(ri->kind, sizeof(ri->kind), "%s", kind ? kind : "?");
	rtnl_qdisc_put(q);
}

static bool root_is_ours(const struct root_info *ri)
{
	return ri->present && ri->handle == OKX_TC_HANDLE && strcmp(ri->kind, "htb") == 0;
}

static bool root_is_default(const struct root_info *ri)
{
	return !ri->present || ri->handle == 0;
}

static int root_qdisc(struct netem_ctx *c, int ifindex, struct root_info *ri)
{
	struct nl_cache *cache;
	int err;

	err = alloc_qdisc_cache(c, &cache);
	if (err)
		return err;
	root_of(cache, ifindex, ri);
	nl_cache_free(cache);
	return 0;
}

static int refuse_foreign(int ifindex, const struct root_info *ri)
{
	char dev[IF_NAMESIZE];

	log_warnx("interface %s: root qdisc %s %x: was not installed by okx-faultd; refusing to replace it "
		  "(delete it, or choose another interface for delay faults)",
		  ifname_of(ifindex, dev), ri->kind, TC_H_MAJ(ri->handle) >> 16);
	return -EBUSY;
}

int netem_check_iface(struct netem_ctx *c, int ifindex)
{
	struct root_info ri;
	char dev[IF_NAMESIZE];
	int err;

	/* a device that does not exist has no root qdisc in the dump either */
	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, dev)) {
		log_warnx("interface #%d: %s", ifindex, strerror(ENODEV));
		return -ENODEV;
	}
	err = root_qdisc(c, ifindex, &ri);
	if (err)
		return err;
	if (root_is_default(&ri) || root_is_ours(&ri))
		return 0;
	return refuse_foreign(ifindex, &ri);
}

static int del_root(struct netem_ctx *c, int ifindex)
{
	struct reply r = { 0 };
	struct nl_msg *msg;
	char dev[IF_NAMESIZE];
	int err;

	err = netem_msg_del_root(ifindex, &msg);
	if (err)
		return err;
	err = transact(c, msg, &r);
	if (err)
		log_tc_error("deleting root qdisc fa17:", ifname_of(ifindex, dev), err, &r);
	return err;
}

int netem_remove(struct netem_ctx *c, int ifindex)
{
	struct root_info ri;
	char dev[IF_NAMESIZE];
	int err;

	err = root_qdisc(c, ifindex, &ri);
	if (err)
		return err;
	if (!root_is_ours(&ri)) {
		log_debug("interface %s: no okx-faultd qdisc to remove", ifname_of(ifindex, dev));
		return 0;
	}
	return del_root(c, ifindex);
}

int netem_cleanup_all(struct netem_ctx *c, int *removed)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int *ifs = NULL, n = 0, cap = 0, i, err, first_err = 0;

	if (removed)
		*removed = 0;
	err = alloc_qdisc_cache(c, &cache);
	if (err)
		return err;
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_tc *tc = (struct rtnl_tc *)o;
		const char *kind = rtnl_tc_get_kind(tc);

		if (rtnl_tc_get_parent(tc) != TC_H_ROOT || rtnl_tc_get_handle(tc) != OKX_TC_HANDLE ||
		    !kind || strcmp(kind, "htb") != 0)
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 8;
			int *nifs = realloc(ifs, (size_t)ncap * sizeof(*ifs));

			if (!nifs) {
				err = -ENOMEM;
				goto cleanup;
			}
			ifs = nifs;
			cap = ncap;
		}
		ifs[n++] = rtnl_tc_get_ifindex(tc);
	}
	for (i = 0; i < n; i++) {
		char dev[IF_NAMESIZE];

		err = del_root(c, ifs[i]);
		if (err) {
			if (!first_err)
				first_err = err;
			continue;
		}
		log_info("cleanup: removed okx-faultd qdisc htb fa17: from %s", ifname_of(ifs[i], dev));
		if (removed)
			(*removed)++;
	}
	err = first_err;
cleanup:
	free(ifs);
	nl_cache_free(cache);
	return err;
}

/* ---- install ---- */

static bool is_delay(const struct policy *p, size_t i)
{
	return p->faults[i].action == ACT_DELAY;
}

int netem_validate(const struct policy *p)
{
	int err = 0;
	size_t i;

	for (i = 0; i < p->n_faults; i++) {
		const struct fault *f = &p->faults[i];

		if (!is_delay(p, i))
			continue;
		if (i >= 0xffff) {
			log_warnx("%s:%d: delay: too many faults for a tc class id (at most 65534)",
				  p->path ? p->path : "policy", f->line);
			err = -ERANGE;
		}
		if (f->latency_ms > OKX_TC_MAX_DELAY_MS || f->jitter_ms > OKX_TC_MAX_DELAY_MS) {
			log_warnx("%s:%d: delay: latency and jitter can be at most %us (netem's limit)",
				  p->path ? p->path : "policy", f->line, OKX_TC_MAX_DELAY_MS / 1000);
			err = -ERANGE;
		}
	}
	return err;
}

static int add_one(struct netem_ctx *c, int ifindex, struct nl_msg *msg, const char *what)
{
	struct reply r = { 0 };
	char dev[IF_NAMESIZE];
	int err;

	err = transact(c, msg, &r);
	if (err)
		log_tc_error(what, ifname_of(ifindex, dev), err, &r);
	return err;
}

static int add_fault(struct netem_ctx *c, int ifindex, int i, const struct fault *f, unsigned flags)
{
	struct nl_msg *msg;
	char what[64], dev[IF_NAMESIZE];
	int err;

	err = netem_msg_class(ifindex, i, &msg);
	if (err)
		return err;
	snprintf(what, sizeof(what), "adding class fa17:%x", (unsigned)i + 1);
	err = add_one(c, ifindex, msg, what);
	if (err || (flags & NETEM_NO_LEAF))
		return err;
	err = netem_msg_leaf(ifindex, i, f, &msg);
	if (err)
		return err;
	snprintf(what, sizeof(what), "adding netem under fa17:%x", (unsigned)i + 1);
	err = add_one(c, ifindex, msg, what);
	/* The kernel says whether it has netem: it loads sch_netem on demand
	 * and answers ENOENT ("Specified qdisc kind is unknown") when it
	 * cannot. Nothing under /lib/modules is read (a sandbox hides it). */
	if (err == -ENOENT) {
		log_errx("interface %s: this kernel has no netem qdisc (sch_netem is neither built in nor loadable); "
			 "delay faults cannot run here",
			 ifname_of(ifindex, dev));
		err = -EOPNOTSUPP;
	}
	return err;
}

int netem_install_flags(struct netem_ctx *c, int ifindex, const struct policy *p, unsigned flags)
{
	struct root_info ri;
	struct nl_msg *msg;
	char dev[IF_NAMESIZE];
	bool installed = false;
	size_t i;
	int err;

	err = netem_validate(p);
	if (err)
		return err;
	for (i = 0; i < p->n_faults && !is_delay(p, i); i++)
		;
	if (i == p->n_faults)
		return 0;
	err = root_qdisc(c, ifindex, &ri);
	if (err)
		return err;
	if (root_is_ours(&ri)) {
		log_warnx("interface %s: removing a stale okx-faultd qdisc htb fa17: (left by a killed okx-faultd)",
			  ifname_of(ifindex, dev));
		err = del_root(c, ifindex);
		if (err)
			return err;
	} else if (!root_is_default(&ri)) {
		return refuse_foreign(ifindex, &ri);
	}
	err = netem_msg_root(ifindex, &msg);
	if (err)
		return err;
	err = add_one(c, ifindex, msg, "adding root qdisc htb fa17:");
	if (err == -EEXIST) {
		log_warnx("interface %s: another root qdisc appeared; not replacing it", ifname_of(ifindex, dev));
		err = -EBUSY;
	}
	if (err)
		goto cleanup;
	installed = true;
	for (i = 0; i < p->n_faults; i++) {
		if (!is_delay(p, i))
			continue;
		err = add_fault(c, ifindex, (int)i, &p->faults[i], flags);
		if (err)
			goto cleanup;
	}
	log_debug("interface %s: okx-faultd qdisc htb fa17: installed", ifname_of(ifindex, dev));
cleanup:
	if (err && installed && del_root(c, ifindex) == 0)
		log_info("interface %s: rolled back to its default qdisc", ifname_of(ifindex, dev));
	return err;
}

int netem_install(struct netem_ctx *c, int ifindex, const struct policy *p)
{
	return netem_install_flags(c, ifindex, p, 0);
}

/* ---- counters ---- */

int netem_class_stats(struct netem_ctx *c, int ifindex, int fault_index, uint64_t *pkts,
		      uint64_t *bytes)
{
	struct nl_cache *cache = NULL;
	struct rtnl_class *cl = NULL;
	int err, tries;

	*pkts = *bytes = 0;
	if (!index_ok(fault_index))
		return -ERANGE;
	for (tries = 0; tries < 3; tries++) {
		err = rtnl_class_alloc_cache(c->sk, ifindex, &cache);
		if (err != -NLE_DUMP_INTR)
			break;
	}
	if (err < 0) {
		log_warnx("tc: listing classes: %s", nl_geterror(err));
		return errno_of_nlerr(err);
	}
	cl = rtnl_class_get(cache, ifindex, netem_fault_priority(fault_index));
	if (!cl) {
		err = -ENOENT;
		goto cleanup;
	}
	/* HTB counts a class's packets when they leave it; its queue figures
	 * are its leaf's, and its drops include netem's random loss */
	*pkts = rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_PACKETS) + rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_QLEN) +
		rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_DROPS);
	*bytes = rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_BYTES) + rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_BACKLOG);
	err = 0;
cleanup:
	rtnl_class_put(cl);
	nl_cache_free(cache);
	return err;
}

/* ---- dry run ---- */

void netem_render(FILE *out, const char *ifname, const struct policy *p)
{
	const char *dev = ifname && *ifname ? ifname : "IFACE";
	bool root = false;
	size_t i;

	for (i = 0; i < p->n_faults; i++) {
		const struct fault *f = &p->faults[i];
		unsigned minor = (unsigned)i + 1;
		char loss[32];

		if (!is_delay(p, i))
			continue;
		if (!root) {
			fprintf(out, "# tc qdisc add dev %s root handle fa17: htb default 0 direct_qlen %u\n", dev,
				OKX_TC_DIRECT_QLEN);
			root = true;
		}
		fprintf(out, "# tc class add dev %s parent fa17: classid fa17:%x htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum %u\n",
			dev, minor, OKX_TC_CLASS_QUANTUM);
		fprintf(out, "# tc qdisc add dev %s parent fa17:%x netem limit %u delay %" PRIu64 "ms", dev, minor,
			OKX_TC_NETEM_LIMIT, f->latency_ms);
		if (f->jitter_ms)
			fprintf(out, " %" PRIu64 "ms", f->jitter_ms);
		if (f->loss) {
			percent_format(f->loss, loss, sizeof(loss));
			fprintf(out, " loss %s%%", loss);
		}
		fputc('\n', out);
	}
}
