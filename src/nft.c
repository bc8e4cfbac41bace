/* SPDX-License-Identifier: MIT */
/* The nftables runtime engine: install the planned table in one
 * transaction, switch faults on and off, read counters, remove the table.
 * Messages come from the encoder (nft_encode.c); this file sends them and
 * reads every acknowledgement. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/object.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "nft.h"
#include "nft_plan.h"

struct nft_engine {
	struct nfnl *nl;
	bool installed;
	bool no_destroy;  /* kernel before 6.3: no DESTROYSETELEM */
	size_t n_faults;
	bool *has_switch; /* per fault: not a pause */
	bool *live;       /* per fault: elements added and not removed by us */
	struct nft_cover cover; /* what cover4/cover6 hold */
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
	nft_cover_free(&e->cover);
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
	/* the cover sets' contents, as the plan made them */
	nft_cover_free(&e->cover);
	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_install_cover(&b, p, ts, delay_prio, &e->cover);
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

int nft_engine_claim(struct nft_engine *e)
{
	struct nfnl_batch b;
	int ret;

	if (e->installed)
		return -EBUSY;
	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_claim(&b);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret == 0)
		ret = nfnl_batch_send(e->nl, &b);
	if (ret < 0 && table_exists_error(&b))
		ret = -EEXIST;
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
	nft_fault_name(name, sizeof(name), "f", (uint32_t)fault);
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
	ret = nft_build_add_targets(&b, add, &e->cover);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret == 0)
		ret = nfnl_batch_send(e->nl, &b);
	nfnl_batch_free(&b);
	/* committed: the cover sets now hold add too */
	if (ret == 0)
		ret = nft_cover_add(&e->cover, add);
	return ret;
}

int nft_engine_cgroup_update(struct nft_engine *e, const struct nft_cgroup_update *u, size_t n)
{
	struct nfnl_batch b;
	int ret;

	if (!e->installed || !n)
		return -EINVAL;
	ret = nfnl_batch_init(&b, nfnl_seq(e->nl));
	if (ret < 0)
		return ret;
	ret = nft_build_cgroup_update(&b, u, n);
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
