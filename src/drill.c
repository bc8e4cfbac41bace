/* SPDX-License-Identifier: MIT */
/*
 * The drill: one single-threaded epoll loop over a timerfd per deadline, a
 * signalfd, the stop file's watch (src/stopfile.c) and the conntrack event
 * socket. States: watching -> armed (arm_delay) -> steps (faults and
 * pauses, `repeat` times) -> done. Nothing is live before arming: the
 * table installed at start carries only the scope and watch rules, and
 * every fault rule is gated by an (empty) switch set.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "arm.h"
#include "clock.h"
#include "control.h"
#include "ctwatch.h"
#include "dnsname.h"
#include "drill.h"
#include "journal.h"
#include "log.h"
#include "netem.h"
#include "nft.h"
#include "plan.h"
#include "privs.h"
#include "resolver.h"
#include "scope.h"
#include "scope_watch.h"
#include "status.h"
#include "stopfile.h"
#include "targets.h"

/* The kernel ends a fault by itself this long after its planned end when
 * the daemon cannot (stopped, hung): the set element's timeout. */
#define BACKSTOP_MS 250
#define PROGRESS_EVERY_MS 5000
#define LOOP_EVENTS 8 /* epoll events read per wake-up */

enum dstate { ST_WATCH, ST_DELAY, ST_STEP, ST_DONE };

struct drill {
	const struct policy *p;
	const struct drill_opts *o;
	struct target_set ts;
	struct journal *j;
	char *jpath;  /* the journal path asked for (the default one may get a suffix) */
	bool junique; /* the default path: a free name is chosen, not refused */
	struct nft_engine *nft;
	struct netem_ctx *tc;
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint32_t *delay_prio;
	struct ctwatch *ct;
	struct resolver *res; /* resolve_every; NULL: names resolved once */
	struct scope scope;      /* uid, cgroup, netns resolved (include/scope.h) */
	struct scope_watch *sw;  /* cgroups recreated, the netns gone; NULL: nothing to watch */
	struct scope_change *changes;          /* room for what one check finds */
	struct nft_cgroup_update *cg_updates;

	int ep, t_deadline, t_timeout, t_tick, t_resolve, sfd;
	struct stopfile *sf; /* NULL: no stop file */
	bool stop_unwatchable;

	enum dstate st;
	/* watching */
	struct arm arm;
	struct arm_need need;
	struct timespec first_flow;
	bool have_first, have_trigger;
	struct ct_flow trigger;
	uint64_t last_progress_ns;
	struct arm_counts prog; /* at the last progress line */
	/* steps */
	size_t step, n_steps;
	int live;                 /* fault index in p->faults whose switch is on, or -1 */
	size_t live_step;
	struct stamp live_invoke, live_begin;
	uint64_t live_timeout_ms; /* the live fault's kernel timeout (its backstop) */
	struct plan plan;         /* step deadlines (include/plan.h) */
	uint64_t *base_pkts, *base_bytes; /* counter values at the end of the previous run of each fault */
	uint64_t *base_tc_pkts, *base_tc_bytes; /* netem class statistics, likewise (delay faults) */

	int exit_code;
	const char *outcome;

	/* the control socket (include/control.h) */
	struct control *ctl;
	struct stamp started, armed_at;
	const char *end_reason; /* an aborted drill's: stop_file, signal, stopped */
	char stopped_by[64];    /* reason stopped: "control socket uid=U pid=P" */
	struct {
		bool read, ok;
		size_t step;
		uint64_t ns, pkts, bytes;
	} hits; /* the live fault's counter as a status last read it */
};

/* Signals that end a drill like SIGTERM (okx-faultd(8), SIGNALS): an ssh
 * logout (SIGHUP), the quit key (SIGQUIT) or a stray kill -USR1 must
 * close the windows and journal them, not kill the daemon mid-line. They
 * are blocked and read from a signalfd, never handled asynchronously. */
static const struct {
	int signo;
	const char *name;
} abort_signals[] = {
	{ SIGINT, "SIGINT" }, { SIGTERM, "SIGTERM" }, { SIGHUP, "SIGHUP" },
	{ SIGQUIT, "SIGQUIT" }, { SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
};

/* ---- small helpers ---------------------------------------------------- */

static int timer_arm_abs(int fd, uint64_t mono_ns)
{
	struct itimerspec its = { 0 };

	if (mono_ns == 0)
		mono_ns = 1; /* 0 would disarm */
	its.it_value.tv_sec = (time_t)(mono_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(mono_ns % 1000000000ull);
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static int timer_every(int fd, uint64_t ms)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	its.it_interval = its.it_value;
	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int timer_disarm(int fd)
{
	struct itimerspec its = { 0 };

	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int timer_drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static const char *proto_str(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "ipv6-icmp";
	case IPPROTO_SCTP: return "sctp";
	default: snprintf(buf, len, "%u", proto); return buf;
	}
}

static cJSON *ports_json(const struct port_range *r, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	char buf[16];

	for (size_t i = 0; a && i < n; i++) {
		if (r[i].lo == r[i].hi)
			snprintf(buf, sizeof(buf), "%u", r[i].lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", r[i].lo, r[i].hi);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	return a;
}

static cJSON *prefixes_json(const struct prefix *pf, size_t n, bool cidr)
{
	cJSON *a = cJSON_CreateArray();
	char buf[PREFIX_STRLEN + 8];

	for (size_t i = 0; a && i < n; i++) {
		prefix_format(&pf[i], buf, PREFIX_STRLEN);
		/* journal targets as CIDRs, host routes included (okx-faultd(8), JOURNAL) */
		if (cidr && !strchr(buf, '/'))
			snprintf(buf + strlen(buf), 8, "/%u", pf[i].len);
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	return a;
}

/* ---- journal events ----------------------------------------------------- */

static int journal_event(struct drill *d, const char *ev, const struct stamp *at, cJSON *fields)
{
	int ret;

	if (!d->j) {
		cJSON_Delete(fields);
		return 0;
	}
	if (journal_failed(d->j)) {
		cJSON_Delete(fields);
		return journal_failed(d->j);
	}
	ret = journal_write(d->j, ev, at, fields);
	if (ret < 0)
		log_errx("journal %s is incomplete: writing '%s' failed: %s; ending the drill", journal_path(d->j), ev,
			 strerror(-ret));
	return ret;
}

static int journal_start(struct drill *d)
{
	const struct policy *p = d->p;
	struct utsname u;
	struct stamp now;
	cJSON *f = cJSON_CreateObject();

	if (!f)
		return -ENOMEM;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	{
		/* absolute: the journal is read elsewhere, later */
		char *abs = realpath(p->path, NULL);

		cJSON_AddStringToObject(f, "policy", abs ? abs : p->path);
		free(abs);
	}
	/* the digest of the bytes parsed: the policy is read once */
	cJSON_AddStringToObject(f, "policy_sha256", p->sha256);
	cJSON_AddStringToObject(f, "name", p->name);
	cJSON_AddStringToObject(f, "version", OKX_VERSION);
	cJSON_AddStringToObject(f, "git_commit", OKX_GIT_COMMIT);
	cJSON_AddStringToObject(f, "host", u.nodename);
	cJSON_AddStringToObject(f, "kernel", u.release);
	cJSON_AddNumberToObject(f, "pid", getpid());
	cJSON_AddItemToObject(f, "targets", prefixes_json(d->ts.resolved, d->ts.n_resolved, true));
	cJSON_AddItemToObject(f, "ports", ports_json(p->ports, p->n_ports));
	cJSON_AddStringToObject(f, "protocol", proto_name(p->protocol));
	cJSON_AddItemToObject(f, "exempt", prefixes_json(p->exempt, p->n_exempt, true));
	cJSON_AddItemToObject(f, "exempt_ports", ports_json(p->exempt_ports, p->n_exempt_ports));
	cJSON_AddStringToObject(f, "direction", direction_name(p->direction));
	cJSON_AddItemToObject(f, "scope", scope_json(&d->scope));
	if (d->ifname[0])
		cJSON_AddStringToObject(f, "interface", d->ifname);
	stamp_now(&now);
	return journal_event(d, "start", &now, f);
}

static int journal_end(struct drill *d)
{
	struct stamp now;
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "outcome", d->outcome);
	cJSON_AddNumberToObject(f, "exit_code", d->exit_code);
	if (d->end_reason && d->exit_code == EXIT_ABORTED) {
		cJSON_AddStringToObject(f, "reason", d->end_reason);
		if (!strcmp(d->end_reason, "stopped"))
			cJSON_AddStringToObject(f, "by", d->stopped_by);
	}
	stamp_now(&now);
	return journal_event(d, "end", &now, f);
}

static int journal_armed(struct drill *d, const struct stamp *at)
{
	cJSON *f = cJSON_CreateObject();
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pbuf[8];

	json_add_u64(f, "flows", d->arm.total.flows);
	json_add_u64(f, "calls", d->arm.total.calls);
	json_add_u64(f, "packets", d->arm.total.packets);
	json_add_u64(f, "bytes", d->arm.total.bytes);
	if (d->ct) {
		struct ctwatch_stats st;

		/* README, "Journal": events were lost, flows may be missing */
		ctwatch_get_stats(d->ct, &st);
		cJSON_AddBoolToObject(f, "flows_lower_bound", st.lower_bound);
	}
	if (d->have_first)
		json_add_time(f, "first_flow_ts", &d->first_flow);
	else
		cJSON_AddNullToObject(f, "first_flow_ts");
	if (d->have_trigger) {
		cJSON *t = cJSON_AddObjectToObject(f, "trigger");

		inet_ntop(d->trigger.family, d->trigger.src, src, sizeof(src));
		inet_ntop(d->trigger.family, d->trigger.dst, dst, sizeof(dst));
		cJSON_AddStringToObject(t, "src", src);
		cJSON_AddStringToObject(t, "dst", dst);
		cJSON_AddNumberToObject(t, "dport", d->trigger.dport);
		cJSON_AddStringToObject(t, "proto", proto_str(d->trigger.proto, pbuf, sizeof(pbuf)));
	} else {
		cJSON_AddNullToObject(f, "trigger");
	}
	return journal_event(d, "armed", at, f);
}

/* The names a dns fault fails, as matched: lower case, no trailing dot. */
static void json_add_dns_names(cJSON *o, const struct policy *p)
{
	cJSON *a = cJSON_AddArrayToObject(o, "names");
	char name[DNS_WIRE_MAX];
	size_t i;

	for (i = 0; a && i < p->n_hosts; i++)
		if (dns_name_matched(p->hosts[i].name, name, sizeof(name)) == 0)
			cJSON_AddItemToArray(a, cJSON_CreateString(name));
}

static int journal_fault_begin(struct drill *d)
{
	const struct fault *f = &d->p->faults[d->live];
	char params[256];
	cJSON *o = cJSON_CreateObject();

	fault_format_params(f, params, sizeof(params));
	cJSON_AddNumberToObject(o, "index", (double)d->live_step);
	cJSON_AddStringToObject(o, "action", action_name(f->action));
	cJSON_AddStringToObject(o, "params", params);
	cJSON_AddStringToObject(o, "expect", expect_name(f->expect));
	json_add_u64(o, "planned_ms", f->duration_ms);
	json_add_u64(o, "timeout_ms", d->live_timeout_ms);
	if (f->action == ACT_DNS)
		json_add_dns_names(o, d->p);
	json_add_time(o, "invoke_ts", &d->live_invoke.real);
	return journal_event(d, "fault_begin", &d->live_begin, o);
}

/* For a delay fault, what its netem class sent during the window (HTB
 * class statistics). Packets still held by netem at this instant are sent
 * later and not included; `hits` (the nft counter) counts every packet the
 * fault steered into the class. */
static void add_netem_stats(struct drill *d, int fi, cJSON *o)
{
	uint64_t pk = 0, by = 0;
	cJSON *n;
	int ret;

	if (!d->tc || d->ifindex <= 0)
		return;
	ret = netem_class_stats(d->tc, d->ifindex, fi, &pk, &by);
	if (ret < 0) {
		log_warnx("reading the netem class of fault %d: %s", fi, strerror(-ret));
		return;
	}
	n = cJSON_AddObjectToObject(o, "netem");
	cJSON_AddStringToObject(n, "interface", d->ifname);
	json_add_u64(n, "sent_packets", pk - d->base_tc_pkts[fi]);
	json_add_u64(n, "sent_bytes", by - d->base_tc_bytes[fi]);
	d->base_tc_pkts[fi] = pk, d->base_tc_bytes[fi] = by;
}

/* Milliseconds with three decimals, as a JSON number. */
static void add_ms(cJSON *o, const char *key, uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 ".%03" PRIu64, ns / 1000000, ns / 1000 % 1000);
	cJSON_AddRawToObject(o, key, buf);
}

/* The end of the live window as it happened. When the daemon asks to end
 * the fault after its kernel timeout ran out (it was stopped or stalled),
 * the kernel had already ended it at begin + timeout: that is the window's
 * end (reason kernel_expiry), not the late request (okx-faultd(8), TIMING). */
static const char *window_end(const struct drill *d, const struct stamp *invoke, const struct stamp *ack,
			      const char *reason, struct stamp *end)
{
	uint64_t t = d->live_timeout_ms * 1000000ull;

	*end = *ack;
	if (!plan_kernel_expired(timespec_ns(&d->live_begin.mono), d->live_timeout_ms, timespec_ns(&invoke->mono)))
		return reason;
	end->mono = timespec_add_ns(d->live_begin.mono, t);
	end->real = timespec_add_ns(d->live_begin.real, t);
	return "kernel_expiry";
}

/* Read the live fault's counter after its switch went off and journal the
 * window. The counter only moves while the switch is on, so the delta
 * since the previous run of the same fault is exactly this window's.
 * late_ns: how late the request came after the planned end. */
static int journal_fault_end(struct drill *d, const struct stamp *invoke, const struct stamp *ack, const char *reason,
			     uint64_t late_ns)
{
	int fi = d->live;
	uint64_t pk = 0, by = 0;
	cJSON *o = cJSON_CreateObject(), *h;
	struct stamp end;
	double actual;
	int ret;

	ret = nft_engine_fault_counter(d->nft, fi, &pk, &by);
	if (ret < 0) {
		log_warnx("reading the counter of fault %zu: %s", d->live_step, strerror(-ret));
		pk = d->base_pkts[fi], by = d->base_bytes[fi];
	}
	reason = window_end(d, invoke, ack, reason, &end);
	actual = mono_diff_ms(&d->live_begin.mono, &end.mono);
	cJSON_AddNumberToObject(o, "index", (double)d->live_step);
	json_add_time(o, "invoke_ts", &invoke->real);
	cJSON_AddNumberToObject(o, "actual_ms", actual);
	h = cJSON_AddObjectToObject(o, "hits");
	json_add_u64(h, "packets", pk - d->base_pkts[fi]);
	json_add_u64(h, "bytes", by - d->base_bytes[fi]);
	if (ret < 0)
		cJSON_AddBoolToObject(h, "unknown", true);
	if (d->p->faults[fi].action == ACT_DELAY)
		add_netem_stats(d, fi, o);
	cJSON_AddStringToObject(o, "reason", reason);
	if (!strcmp(reason, "stopped"))
		cJSON_AddStringToObject(o, "by", d->stopped_by);
	if (!strcmp(reason, "completed") || !strcmp(reason, "kernel_expiry"))
		add_ms(o, "late_ms", late_ns);
	if (!strcmp(reason, "kernel_expiry"))
		log_warnx("fault %zu: the daemon woke %.3f ms after the planned end; the kernel had ended the fault "
			  "%" PRIu64 " ms after its begin", d->live_step, (double)late_ns / 1e6, d->live_timeout_ms);
	log_info("fault %zu (%s) ended after %.3f ms (%s): %" PRIu64 " packets, %" PRIu64 " bytes hit", d->live_step,
		 action_name(d->p->faults[fi].action), actual, reason, pk - d->base_pkts[fi], by - d->base_bytes[fi]);
	d->base_pkts[fi] = pk, d->base_bytes[fi] = by;
	return journal_event(d, "fault_end", &end, o);
}

/* ---- re-resolution (resolve_every) ---------------------------------------- */

static int journal_targets_added(struct drill *d, const char *name, const struct target_set *delta)
{
	struct stamp now;
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "name", name);
	cJSON_AddItemToObject(f, "addresses", prefixes_json(delta->resolved, delta->n_resolved, true));
	stamp_now(&now);
	return journal_event(d, "targets_added", &now, f);
}

static void log_added(const char *name, const struct target_set *delta)
{
	char list[256] = "";

	for (size_t i = 0; i < delta->n_resolved; i++) {
		char buf[PREFIX_STRLEN];
		size_t len = strlen(list);

		prefix_format(&delta->resolved[i], buf, sizeof(buf));
		snprintf(list + len, sizeof(list) - len, "%s%s", i ? " " : "", buf);
	}
	log_info("target_host %s: new address%s %s added to the targets", name, delta->n_resolved == 1 ? "" : "es",
		 list);
}

/* New addresses of one name go into the live sets in one transaction, then
 * into the journal; nothing is removed mid-drill (README, "Names that
 * move"). A kernel error ends the drill: the sets and the scope checks
 * would disagree. */
static int add_answer(struct drill *d, const struct resolver_answer *a)
{
	struct prefix *local = NULL;
	struct target_set delta = { 0 };
	size_t n_local = 0;
	int ret;

	ret = targets_local_addrs(&local, &n_local);
	if (ret < 0) {
		/* the host's own addresses must never become targets: next round */
		log_warnx("target_host %s: listing local addresses: %s; trying again in %" PRIu64 " ms", a->name,
			  strerror(-ret), d->p->resolve_every_ms);
		return 0;
	}
	ret = targets_add(&d->ts, d->p, local, n_local, a->addrs, a->n_addrs, &delta);
	free(local);
	if (ret < 0 || !delta.n_resolved)
		return ret;
	ret = nft_engine_add_targets(d->nft, &delta);
	if (ret < 0) {
		log_warnx("target_host %s: adding its new addresses to the target sets: %s", a->name, strerror(-ret));
	} else {
		if (d->ct)
			ctwatch_targets_changed(d->ct);
		log_added(a->name, &delta);
		ret = journal_targets_added(d, a->name, &delta);
	}
	target_set_free(&delta);
	return ret;
}

/* One name's answer. A lookup skipped or failed because a dns fault was
 * live says nothing about the name: not a failed lookup, only the next
 * round counts. Addresses found all the same (a cache, /etc/hosts, an
 * answer just before the fault) are real: a dns fault only takes answers
 * away. */
static int on_answer(struct drill *d, const struct resolver_answer *a)
{
	const char *why;

	if (a->skipped) {
		log_debug("target_host %s: not looked up: a dns fault is live", a->name);
		return 0;
	}
	if (!a->err) {
		log_debug("target_host %s: %zu address%s%s", a->name, a->n_addrs, a->n_addrs == 1 ? "" : "es",
			  a->held ? " (a dns fault went live during the lookup)" : "");
		return add_answer(d, a);
	}
	why = a->err < 0 ? strerror(-a->err) : gai_strerror(a->err);
	if (a->held)
		log_debug("target_host %s: lookup failed while a dns fault was live (%s); not counted", a->name, why);
	else
		log_warnx("target_host %s: lookup failed (%s); trying again in %" PRIu64 " ms", a->name, why,
			  d->p->resolve_every_ms);
	return 0;
}

static int on_resolved(struct drill *d)
{
	const struct resolver_answer *ans;
	int n = resolver_collect(d->res, &ans), ret = 0;

	for (int i = 0; i < n && ret == 0; i++)
		ret = on_answer(d, &ans[i]);
	return ret;
}

/* A round is due. None starts while a dns fault is live (the loop holds
 * the resolver at the fault's begin, src/resolver.c); rounds resume on
 * schedule after its end. */
static int on_resolve_timer(struct drill *d)
{
	int ret = timer_drain(d->t_resolve);

	if (ret < 0)
		return ret;
	ret = resolver_start(d->res);
	if (ret == -EAGAIN)
		log_debug("target_host: no lookup while a dns fault is live");
	else if (ret == -EBUSY)
		log_debug("target_host: the previous lookup is still running");
	else if (ret < 0)
		log_warnx("target_host: cannot start a lookup: %s", strerror(-ret));
	for (size_t i = 0; ret == 0 && i < d->p->n_hosts; i++)
		log_debug("target_host %s: looking up", d->p->hosts[i].name);
	return 0;
}

static int setup_resolve(struct drill *d)
{
	int ret;

	if (!d->p->n_hosts || !d->p->resolve_every_ms)
		return 0;
	ret = resolver_open(&d->res, d->p);
	if (ret == 0)
		ret = ep_add(d->ep, resolver_fd(d->res));
	if (ret == 0)
		ret = timer_every(d->t_resolve, d->p->resolve_every_ms);
	return ret;
}

/* ---- steps -------------------------------------------------------------- */

static const struct fault *step_fault(const struct drill *d, size_t step, int *index)
{
	*index = (int)(step % d->p->n_faults);
	return &d->p->faults[*index];
}

static void finish(struct drill *d, int code, const char *outcome)
{
	d->st = ST_DONE;
	d->exit_code = code;
	d->outcome = outcome;
}

/* Move the plan to step `next` (of f), asked at now_ns. */
static void plan_step(struct drill *d, size_t next, const struct fault *f, uint64_t now_ns)
{
	uint64_t shift;

	if (!d->plan.started) {
		plan_start(&d->plan, now_ns, f->duration_ms);
		return;
	}
	shift = plan_next(&d->plan, now_ns, f->duration_ms);
	if (shift)
		log_warnx("step %zu: woke %.3f ms after the planned end; the rest of the plan moves by as much", next,
			  (double)shift / 1e6);
}

/* Switch the live fault (if any) off and fault `on` (if >= 0) on, in one
 * batch, then set the next deadline: nothing slow comes between the
 * deadline and the switch; the journal is written right after. */
static int switch_step(struct drill *d, size_t next, int on, const char *reason, const struct stamp *invoke,
		       uint64_t late_ns)
{
	uint64_t timeout = on >= 0 ? plan_timeout_ms(&d->plan, timespec_ns(&invoke->mono), BACKSTOP_MS) : 0;
	struct stamp ack;
	int ret;

	ret = nft_engine_switch(d->nft, on, timeout, d->live);
	stamp_now(&ack);
	if (ret < 0) {
		log_warnx("switching faults failed: %s", strerror(-ret));
		return ret;
	}
	/* after the switch, never before it: a lookup that slips in between
	 * is marked held all the same (src/resolver.c) */
	resolver_hold(d->res, on >= 0 && d->p->faults[on].action == ACT_DNS);
	if (next < d->n_steps && (ret = timer_arm_abs(d->t_deadline, d->plan.end_ns)) < 0)
		return ret;
	if (d->live >= 0) {
		ret = journal_fault_end(d, invoke, &ack, reason, late_ns);
		d->live = -1;
	}
	if (on >= 0) {
		d->live = on;
		d->live_step = next;
		d->live_invoke = *invoke;
		d->live_begin = ack;
		d->live_timeout_ms = timeout;
		log_info("fault %zu: %s for %" PRIu64 " ms is live", next, action_name(d->p->faults[on].action),
			 d->p->faults[on].duration_ms);
		/* a live fault the journal cannot record must not stay live */
		if (ret == 0)
			ret = journal_fault_begin(d);
	}
	/* the journal failed: the caller takes the live fault down */
	return ret;
}

/* Switch from the live fault (if any) to step `next` (if < n_steps and not
 * a pause) in one batch, journal both, and set the next deadline from the
 * plan (include/plan.h). */
static int advance(struct drill *d, size_t next, const char *reason)
{
	int on = -1, idx = -1, ret;
	const struct fault *f = NULL;
	struct stamp invoke;
	uint64_t late_ns;

	stamp_now(&invoke);
	late_ns = d->plan.started ? plan_late_ns(&d->plan, timespec_ns(&invoke.mono)) : 0;
	if (next < d->n_steps) {
		f = step_fault(d, next, &idx);
		if (f->action != ACT_PAUSE)
			on = idx;
		plan_step(d, next, f, timespec_ns(&invoke.mono));
	}
	if (on >= 0 || d->live >= 0)
		ret = switch_step(d, next, on, reason, &invoke, late_ns);
	else
		ret = next < d->n_steps ? timer_arm_abs(d->t_deadline, d->plan.end_ns) : 0;
	if (ret < 0)
		return ret;
	d->step = next;
	if (next >= d->n_steps) {
		finish(d, EXIT_DRILL_OK, "completed");
		return 0;
	}
	if (f->action == ACT_PAUSE)
		log_info("step %zu: pause for %" PRIu64 " ms", next, f->duration_ms);
	d->st = ST_STEP;
	return 0;
}

/* Take the live fault down (abort paths). */
static void abort_live(struct drill *d, const char *reason)
{
	struct stamp invoke, ack;
	int ret;

	if (d->live < 0)
		return;
	stamp_now(&invoke);
	ret = nft_engine_switch(d->nft, -1, 0, d->live);
	stamp_now(&ack);
	if (ret < 0) {
		/* last resort: deleting the table ends every fault */
		log_warnx("switching fault off failed (%s); removing the table", strerror(-ret));
		ret = nft_engine_remove(d->nft);
		if (ret < 0)
			log_warnx("removing the table failed: %s", strerror(-ret));
		stamp_now(&ack);
	}
	resolver_hold(d->res, false);
	journal_fault_end(d, &invoke, &ack, reason, plan_late_ns(&d->plan, timespec_ns(&invoke.mono)));
	d->live = -1;
}

/* ---- arming ------------------------------------------------------------- */

/* The watch counters (README, "Arming"): read on every tick, also when
 * only flows are wanted, for the waiting log's keep-alive hint. */
static int read_watch(struct drill *d)
{
	struct arm_counts before = d->arm.total;
	struct nft_watch w;
	int ret;

	ret = nft_engine_watch_counters(d->nft, &w);
	if (ret < 0)
		return ret;
	arm_counters(&d->arm, mono_now_ns(), w.calls, w.pkts, w.bytes);
	/* with -v, each change the daemon has read: what a test waits for
	 * before it asserts "not armed yet" (README, Tests) */
	if (d->arm.total.packets != before.packets || d->arm.total.calls != before.calls)
		log_debug("watch: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " calls toward the targets",
			  d->arm.total.packets, d->arm.total.bytes, d->arm.total.calls);
	return 0;
}

static int arm_now(struct drill *d)
{
	struct stamp now;

	stamp_now(&now);
	d->armed_at = now;
	(void)read_watch(d);
	log_info("armed: %" PRIu64 " flows, %" PRIu64 " calls, %" PRIu64 " packets, %" PRIu64
		 " bytes toward the targets", d->arm.total.flows, d->arm.total.calls, d->arm.total.packets,
		 d->arm.total.bytes);
	if (journal_armed(d, &now) < 0)
		return -EIO;
	ctwatch_close(d->ct);
	d->ct = NULL;
	(void)timer_disarm(d->t_timeout);
	(void)timer_disarm(d->t_tick);
	if (d->p->arm_delay_ms) {
		d->st = ST_DELAY;
		log_info("arm_delay: first fault in %" PRIu64 " ms", d->p->arm_delay_ms);
		return timer_arm_abs(d->t_deadline, timespec_ns(&now.mono) + d->p->arm_delay_ms * 1000000ull);
	}
	return advance(d, 0, "completed");
}

static int check_arm(struct drill *d)
{
	return arm_met(&d->arm, mono_now_ns()) ? arm_now(d) : 0;
}

static void on_flow(const struct ct_flow *f, void *data)
{
	struct drill *d = data;
	uint64_t now = mono_now_ns();

	if (d->st != ST_WATCH)
		return;
	if (!d->have_first) {
		clock_gettime(CLOCK_REALTIME, &d->first_flow);
		d->have_first = true;
	}
	arm_flow(&d->arm, now);
	d->trigger = *f;
	d->have_trigger = true;
	log_debug("flow %" PRIu64 " toward the targets (dport %u)", d->arm.total.flows, f->dport);
}

static void progress(struct drill *d, uint64_t now, bool force)
{
	const struct arm_counts *t = &d->arm.total;
	const struct policy *p = d->p;

	if (!force && now - d->last_progress_ns < PROGRESS_EVERY_MS * 1000000ull)
		return;
	if (!force && !memcmp(t, &d->prog, sizeof(*t)) &&
	    now - d->last_progress_ns < 12 * PROGRESS_EVERY_MS * 1000000ull)
		return;
	d->last_progress_ns = now;
	d->prog = *t;
	log_info("waiting: %" PRIu64 "/%" PRIu64 " flows, %" PRIu64 "/%" PRIu64 " calls, %" PRIu64 "/%" PRIu64
		 " packets, %" PRIu64 "/%" PRIu64 " bytes", t->flows, p->arm_min_flows, t->calls, p->arm_min_calls,
		 t->packets, p->arm_min_packets, t->bytes, p->arm_min_bytes);
	if (arm_keepalive_hint(&d->arm))
		log_info("waiting: %" PRIu64 " new flow%s carrying %" PRIu64
			 " requests: a keep-alive client? see arm_min_calls", t->flows, t->flows == 1 ? "" : "s",
			 t->calls);
}

/* ---- event handlers ----------------------------------------------------- */

static int on_ct(struct drill *d)
{
	uint64_t before = d->arm.total.flows;
	int ret = ctwatch_read(d->ct, on_flow, d);

	if (ret < 0)
		return ret;
	if (d->arm.total.flows == before)
		return 0;
	ret = read_watch(d);
	if (ret < 0)
		return ret;
	progress(d, mono_now_ns(), false);
	return check_arm(d);
}

static int on_tick(struct drill *d)
{
	uint64_t now = mono_now_ns();
	int ret = timer_drain(d->t_tick);

	if (ret < 0)
		return ret;
	ret = read_watch(d);
	if (ret < 0)
		return ret;
	progress(d, now, false);
	return check_arm(d);
}

static int on_deadline(struct drill *d)
{
	int ret = timer_drain(d->t_deadline);

	if (ret < 0)
		return ret;
	if (d->st == ST_DELAY)
		return advance(d, 0, "completed");
	if (d->st == ST_STEP)
		return advance(d, d->step + 1, "completed");
	return 0;
}

static void on_abort(struct drill *d, const char *reason, const char *what)
{
	log_info("%s: aborting the drill", what);
	d->end_reason = reason;
	abort_live(d, reason);
	finish(d, EXIT_ABORTED, "aborted");
}

static int on_signal(struct drill *d)
{
	struct signalfd_siginfo si;
	const char *name = "signal";

	if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
		return errno == EAGAIN ? 0 : -errno;
	for (size_t i = 0; i < sizeof(abort_signals) / sizeof(abort_signals[0]); i++)
		if (abort_signals[i].signo == (int)si.ssi_signo)
			name = abort_signals[i].name;
	on_abort(d, "signal", name);
	return 0;
}

static bool stop_file_present(const struct drill *d)
{
	return d->sf && stopfile_present(d->sf);
}

static bool is_stopfile_fd(const struct drill *d, int fd)
{
	return d->sf && fd == stopfile_fd(d->sf);
}

static int on_stopfile(struct drill *d)
{
	int ret = stopfile_handle(d->sf);

	if (ret > 0)
		on_abort(d, "stop_file", "stop file appeared");
	return ret < 0 ? ret : 0;
}

/* ---- the control socket (include/control.h) ------------------------------ */

static uint64_t ms_since(uint64_t now, uint64_t then)
{
	return now > then ? (now - then) / 1000000 : 0;
}

static uint64_t timer_left_ms(int fd)
{
	struct itimerspec its;

	if (fd < 0 || timerfd_gettime(fd, &its) < 0)
		return 0;
	return (uint64_t)its.it_value.tv_sec * 1000 + (uint64_t)its.it_value.tv_nsec / 1000000;
}

static void status_step(const struct drill *d, size_t step, struct status_step *s)
{
	int idx;
	const struct fault *f = step_fault(d, step, &idx);

	s->index = step;
	snprintf(s->action, sizeof(s->action), "%s", action_name(f->action));
	fault_format_params(f, s->params, sizeof(s->params));
	s->planned_ms = f->duration_ms;
}

/* The live fault's hits so far: its counter, read at most every
 * CONTROL_HITS_EVERY_MS whatever the number of requests. */
static void status_hits(struct drill *d, uint64_t now, struct drill_status *st)
{
	uint64_t pk, by;
	int ret;

	if (!d->hits.read || d->hits.step != d->live_step || now - d->hits.ns >= CONTROL_HITS_EVERY_MS * 1000000ull) {
		ret = nft_engine_fault_counter(d->nft, d->live, &pk, &by);
		if (ret < 0)
			log_debug("status: reading the counter of fault %zu: %s", d->live_step, strerror(-ret));
		d->hits.read = true;
		d->hits.ok = ret == 0;
		d->hits.step = d->live_step;
		d->hits.ns = now;
		d->hits.pkts = ret == 0 ? pk - d->base_pkts[d->live] : 0;
		d->hits.bytes = ret == 0 ? by - d->base_bytes[d->live] : 0;
	}
	st->hits_known = d->hits.ok;
	st->hits_packets = d->hits.pkts;
	st->hits_bytes = d->hits.bytes;
}

static void status_arming(const struct drill *d, uint64_t now, struct drill_status *st)
{
	const struct policy *p = d->p;
	struct arm_counts c = d->arm.total;
	char pbuf[8];

	if (d->st == ST_WATCH)
		arm_window_counts(&d->arm, now, &c); /* what counts toward the thresholds now */
	st->flows = (struct status_count){ c.flows, p->arm_min_flows };
	st->calls = (struct status_count){ c.calls, p->arm_min_calls };
	st->packets = (struct status_count){ c.packets, p->arm_min_packets };
	st->bytes = (struct status_count){ c.bytes, p->arm_min_bytes };
	st->arm_window_ms = p->arm_window_ms;
	st->arm_timeout_ms = p->arm_timeout_ms;
	if (d->st == ST_WATCH) {
		st->waiting_left = true;
		st->arm_left_ms = timer_left_ms(d->t_timeout);
		return;
	}
	st->armed = d->armed_at.real.tv_sec != 0;
	st->armed_ns = (int64_t)timespec_ns(&d->armed_at.real);
	if (!st->armed || !d->have_trigger)
		return;
	st->has_trigger = true;
	inet_ntop(d->trigger.family, d->trigger.src, st->trigger_src, sizeof(st->trigger_src));
	inet_ntop(d->trigger.family, d->trigger.dst, st->trigger_dst, sizeof(st->trigger_dst));
	snprintf(st->trigger_proto, sizeof(st->trigger_proto), "%s", proto_str(d->trigger.proto, pbuf, sizeof(pbuf)));
	st->trigger_dport = d->trigger.dport;
}

static void status_fill(void *data, struct drill_status *st, bool hits)
{
	struct drill *d = data;
	uint64_t now = mono_now_ns();
	size_t next = 0;

	snprintf(st->name, sizeof(st->name), "%s", d->p->name);
	st->pid = getpid();
	if (d->j)
		snprintf(st->journal, sizeof(st->journal), "%s", journal_path(d->j));
	st->started_ns = (int64_t)timespec_ns(&d->started.real);
	st->elapsed_ms = ms_since(now, timespec_ns(&d->started.mono));
	st->steps_total = d->n_steps;
	status_arming(d, now, st);
	switch (d->st) {
	case ST_WATCH:
		st->state = STATUS_WAITING;
		break;
	case ST_DELAY:
		st->state = STATUS_ARM_DELAY;
		st->delay_planned_ms = d->p->arm_delay_ms;
		st->delay_left_ms = timer_left_ms(d->t_deadline);
		break;
	case ST_STEP:
		status_step(d, d->step, &st->step);
		next = d->step + 1;
		st->state = d->live >= 0 ? STATUS_FAULT : STATUS_PAUSE;
		st->step_elapsed_ms = ms_since(now, d->live >= 0 ? timespec_ns(&d->live_begin.mono) : d->plan.begin_ns);
		if (d->live >= 0 && hits)
			status_hits(d, now, st);
		break;
	case ST_DONE:
		st->state = STATUS_ENDING;
		snprintf(st->outcome, sizeof(st->outcome), "%s", d->outcome);
		st->exit_code = d->exit_code;
		if (d->end_reason && d->exit_code == EXIT_ABORTED)
			snprintf(st->reason, sizeof(st->reason), "%s", d->end_reason);
		snprintf(st->by, sizeof(st->by), "%s", d->stopped_by);
		next = d->n_steps;
		break;
	}
	for (size_t i = next; i < d->n_steps && st->n_next < STATUS_NEXT_MAX; i++)
		status_step(d, i, &st->next[st->n_next++]);
}

/* A client of the control socket asked to end the drill. */
static void status_stop(void *data, const char *by)
{
	struct drill *d = data;

	if (d->st == ST_DONE)
		return;
	snprintf(d->stopped_by, sizeof(d->stopped_by), "%s", by);
	on_abort(d, "stopped", by);
}

static const struct control_ops drill_control_ops = { .status = status_fill, .stop = status_stop };

/* Before anything is touched: the control socket's directory, and what is
 * at its path (include/control.h). Returns an exit code. */
static int open_control(struct drill *d)
{
	int ret = control_open(&d->ctl, control_dir(d->o->control_dir), d->p->name, &drill_control_ops, d);

	if (ret == 0 && (ret = ep_add(d->ep, control_fd(d->ctl))) < 0)
		log_warnx("control socket: %s", strerror(-ret));
	switch (ret) {
	case 0: return 0;
	case -ELOOP: case -ENOTDIR: case -EPERM: case -EEXIST: case -EINVAL: return EXIT_USAGE;
	default: return EXIT_RUNTIME;
	}
}

/* ---- scope (uid, cgroup, netns) ------------------------------------------ */

static void log_scope_change(const struct drill *d, const struct scope_change *c)
{
	const struct scope *sc = &d->scope;

	switch (c->kind) {
	case SCOPE_CGROUP_REMOVED:
		log_warnx("cgroup %s was removed (id %llu): no new socket is in scope until it is created again; "
			  "its id stays in the set", sc->cgroups[c->cgroup].path, (unsigned long long)c->id);
		break;
	case SCOPE_CGROUP_RECREATED:
		log_info("cgroup %s is there again with id %llu (was %llu): matched from now on",
			 sc->cgroups[c->cgroup].path, (unsigned long long)c->id, (unsigned long long)c->previous_id);
		break;
	case SCOPE_NETNS_GONE:
		log_errx("network namespace %s (inode %llu) is gone: %s; its faults would act on nothing the policy "
			 "meant: ending the drill", sc->netns_path, (unsigned long long)sc->netns_ino, c->why);
		break;
	}
}

/* A cgroup recreated gets its new id into the set (one transaction for
 * all), then every change is logged and journaled (scope_changed); a
 * namespace gone ends the drill. Never a silent change of scope. */
static int on_scope(struct drill *d)
{
	struct nft_cgroup_update *up = d->cg_updates;
	struct stamp now;
	bool gone = false;
	int n = scope_watch_check(d->sw, d->changes), k = 0, ret = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const struct scope_change *c = &d->changes[i];

		if (c->kind == SCOPE_CGROUP_RECREATED && (c->add_id || c->del_id))
			up[k++] = (struct nft_cgroup_update){ .level = d->scope.cgroups[c->cgroup].level,
							      .add_id = c->add_id, .del_id = c->del_id };
	}
	if (k && (ret = nft_engine_cgroup_update(d->nft, up, (size_t)k)) < 0) {
		log_warnx("updating the cgroup sets: %s", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < n && ret == 0; i++) {
		log_scope_change(d, &d->changes[i]);
		gone |= d->changes[i].kind == SCOPE_NETNS_GONE;
		stamp_now(&now);
		ret = journal_event(d, "scope_changed", &now, scope_change_json(&d->scope, &d->changes[i]));
	}
	if (gone && d->st != ST_DONE) {
		abort_live(d, "error");
		finish(d, EXIT_RUNTIME, "error");
	}
	return ret;
}

/* After the table exists and the journal is open: what the scope does
 * from now on is followed, starting with what changed since it was
 * resolved. */
static int setup_scope_watch(struct drill *d)
{
	size_t n = d->scope.n_cgroups + 1;
	int ret = scope_watch_open(&d->sw, &d->scope);

	if (ret < 0 || !d->sw) {
		if (ret < 0)
			log_warnx("watching the scope: %s", strerror(-ret));
		return ret;
	}
	d->changes = calloc(n, sizeof(*d->changes));
	d->cg_updates = calloc(n, sizeof(*d->cg_updates));
	if (!d->changes || !d->cg_updates)
		return -ENOMEM;
	ret = ep_add(d->ep, scope_watch_fd(d->sw));
	return ret < 0 ? ret : on_scope(d);
}

/* ---- setup / teardown --------------------------------------------------- */

static int setup_fds(struct drill *d)
{
	sigset_t set;

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->t_deadline = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->t_timeout = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->t_tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->t_resolve = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->ep < 0 || d->t_deadline < 0 || d->t_timeout < 0 || d->t_tick < 0 || d->t_resolve < 0)
		return -errno;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(abort_signals) / sizeof(abort_signals[0]); i++)
		sigaddset(&set, abort_signals[i].signo);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sfd < 0)
		return -errno;
	if (ep_add(d->ep, d->t_deadline) || ep_add(d->ep, d->t_timeout) || ep_add(d->ep, d->t_tick) ||
	    ep_add(d->ep, d->t_resolve) || ep_add(d->ep, d->sfd))
		return -errno;
	if (d->o->stop_file) {
		int ret = stopfile_open(&d->sf, d->o->stop_file);

		if (ret < 0) {
			log_errx("stop file %s: cannot watch its directory: %s", d->o->stop_file, strerror(-ret));
			d->stop_unwatchable = true;
			return ret;
		}
		if (ep_add(d->ep, stopfile_fd(d->sf)))
			return -errno;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void drill_free(struct drill *d)
{
	ctwatch_close(d->ct);
	scope_watch_close(d->sw);
	free(d->changes);
	free(d->cg_updates);
	resolver_close(d->res);
	if (d->nft) {
		int ret = nft_engine_remove(d->nft);

		if (ret < 0 && ret != -ENOENT)
			log_warnx("removing table inet okx_faultd: %s", strerror(-ret));
	}
	nft_engine_close(d->nft);
	if (d->tc && d->ifindex > 0) {
		int ret = netem_remove(d->tc, d->ifindex);

		if (ret < 0)
			log_warnx("removing the tc qdisc on %s: %s", d->ifname, strerror(-ret));
	}
	netem_close(d->tc);
	journal_close(d->j);
	free(d->jpath);
	target_set_free(&d->ts);
	close_fd(&d->ep), close_fd(&d->t_deadline), close_fd(&d->t_timeout), close_fd(&d->t_tick);
	close_fd(&d->t_resolve);
	close_fd(&d->sfd);
	stopfile_close(d->sf);
	control_close(d->ctl);
	free(d->delay_prio);
	arm_free(&d->arm);
	free(d->base_pkts);
	free(d->base_bytes);
	free(d->base_tc_pkts);
	free(d->base_tc_bytes);
	scope_free(&d->scope);
}

static bool has_delay(const struct policy *p)
{
	for (size_t i = 0; i < p->n_faults; i++)
		if (p->faults[i].action == ACT_DELAY)
			return true;
	return false;
}

static const char *first_target_str(const struct target_set *ts, char *buf)
{
	if (!ts->n_resolved)
		return NULL;
	prefix_format(&ts->resolved[0], buf, PREFIX_STRLEN);
	return buf;
}

/* target_host and uid names: NSS modules and resolver libraries run with
 * no capability in effect (okx-faultd(8), SECURITY); cgroup ids need none
 * either. Returns an exit code. */
static int resolve_unprivileged(struct drill *d, const struct policy *p)
{
	char *errors = NULL;
	int ret = privs_suspend(), back;

	if (ret < 0) {
		log_warnx("suspending capabilities for name resolution: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	/* target_host is resolved here, before any fault; re-resolution
	 * (resolve_every) is held while a dns fault is live */
	ret = targets_resolve(p, &d->ts, &errors);
	if (ret != -ENOMEM) {
		int r = scope_resolve_owner(&d->scope, p, "/proc/self/mountinfo", &errors);

		if (r < 0)
			ret = r;
	}
	back = privs_resume();
	if (back < 0) {
		log_warnx("restoring capabilities after name resolution: %s", strerror(-back));
		free(errors);
		return EXIT_RUNTIME;
	}
	if (ret < 0) {
		fputs(errors ? errors : "cannot resolve targets or scope\n", stderr);
		free(errors);
		return EXIT_USAGE;
	}
	free(errors);
	return 0;
}

/* netns (okx-faultd.policy(5), SCOPE): opened, checked and entered before
 * any socket of the drill is made; the names above were looked up from
 * the host's network. Everything after runs in it, the threads started
 * later included; files stay the host's (the mount namespace is not
 * changed). Returns an exit code. */
static int enter_netns(struct drill *d, const struct policy *p, bool dry)
{
	struct scope *sc = &d->scope;
	char *errors = NULL;
	int ret = scope_open_netns(sc, p, &errors);

	if (ret < 0) {
		fputs(errors ? errors : "cannot open the network namespace\n", stderr);
		free(errors);
		return ret == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
	}
	free(errors);
	if (sc->netns_fd < 0)
		return 0;
	ret = scope_enter_netns(sc);
	if (ret < 0 && dry) {
		/* a dry run describes the drill even where it cannot enter */
		log_warnx("%s: cannot enter network namespace %s (%s): this namespace's addresses and interfaces are "
			  "shown", p->path, sc->netns_path, strerror(-ret));
		return 0;
	}
	if (ret < 0) {
		log_errx("entering network namespace %s: %s", sc->netns_path, strerror(-ret));
		return EXIT_RUNTIME;
	}
	log_info("network namespace %s (inode %llu): the drill runs in it", sc->netns_path,
		 (unsigned long long)sc->netns_ino);
	if (p->n_hosts && p->resolve_every_ms)
		log_info("resolve_every: later lookups of target_host run inside network namespace %s, with this "
			 "host's resolver configuration", sc->netns_path);
	return 0;
}

/* Everything that can fail on bad input, before the kernel is touched:
 * resolution, target ranges, the delay interface. Returns an exit code. */
static int prepare(struct drill *d, const struct policy *p, bool dry)
{
	struct prefix *local = NULL;
	size_t n_local = 0;
	char tbuf[PREFIX_STRLEN];
	int ret;

	ret = resolve_unprivileged(d, p);
	if (ret == 0)
		ret = enter_netns(d, p, dry);
	if (ret != 0)
		return ret;
	if (policy_scope_note(p))
		log_info("%s", policy_scope_note(p));
	ret = targets_local_addrs(&local, &n_local);
	if (ret < 0) {
		log_warnx("listing local addresses: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	ret = targets_build(&d->ts, p, local, n_local);
	d->ts.scope = &d->scope;
	free(local);
	if (ret < 0) {
		log_warnx("computing target ranges: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	if (!d->ts.n_v4 && !d->ts.n_v6) {
		log_errx("%s: nothing left to fault: every target is exempt or a local address", p->path);
		return EXIT_USAGE;
	}
	d->delay_prio = calloc(p->n_faults, sizeof(*d->delay_prio));
	if (!d->delay_prio)
		return EXIT_RUNTIME;
	if (!has_delay(p))
		return 0;
	if (netem_validate(p) < 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < p->n_faults; i++)
		if (p->faults[i].action == ACT_DELAY)
			d->delay_prio[i] = netem_fault_priority((int)i);
	ret = netem_open(&d->tc);
	if (ret < 0) {
		log_warnx("opening the rtnetlink socket: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	ret = netem_resolve_ifindex(d->tc, p->interface, first_target_str(&d->ts, tbuf), &d->ifindex, d->ifname);
	if (ret < 0 && dry) {
		/* a dry run describes the drill even where its interface is missing */
		log_warnx("%s: no interface for delay faults here (%s): %s", p->path,
			  p->interface[0] ? p->interface : "route to the first target", strerror(-ret));
		d->ifindex = 0;
		return 0;
	}
	if (ret < 0) {
		log_errx("%s: no interface for delay faults (%s): %s", p->path,
			 p->interface[0] ? p->interface : "route to the first target", strerror(-ret));
		d->ifindex = 0;
		return EXIT_USAGE;
	}
	ret = netem_check_iface(d->tc, d->ifindex);
	if (ret < 0) {
		d->ifindex = 0; /* not ours: never touch it, not even on the way out */
		return ret == -EBUSY ? EXIT_USAGE : EXIT_RUNTIME;
	}
	return 0;
}

/* OKX_FAULTD_TEST_CT_RCVBUF=BYTES (okx-faultd(8), ENVIRONMENT): for tests
 * only, shrink the conntrack event socket so that an overflow can be made
 * for real. It only makes overflows come sooner; what is counted after the
 * recovery must not change, and that is what the test checks. */
static int test_ct_rcvbuf(struct drill *d)
{
	const char *v = secure_getenv("OKX_FAULTD_TEST_CT_RCVBUF");
	char *end;
	long n;
	int ret;

	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1024 || n > (64L << 20)) {
		log_warnx("OKX_FAULTD_TEST_CT_RCVBUF=%s: want a byte count in 1024..67108864", v);
		return -EINVAL;
	}
	ret = ctwatch_set_rcvbuf(d->ct, (int)n);
	if (ret < 0)
		return ret;
	log_warnx("test knob OKX_FAULTD_TEST_CT_RCVBUF: conntrack event receive buffer set to %ld bytes", n);
	return 0;
}

static int setup_watch(struct drill *d)
{
	const struct policy *p = d->p;
	int ret;

	ret = arm_init(&d->arm, &d->need);
	if (ret < 0)
		return ret;
	if (p->arm_min_flows) {
		ret = ctwatch_open(&d->ct, p, &d->ts);
		if (ret < 0) {
			log_warnx("subscribing to conntrack events: %s", strerror(-ret));
			return ret;
		}
		ret = test_ct_rcvbuf(d);
		if (ret < 0)
			return ret;
		ret = ep_add(d->ep, ctwatch_fd(d->ct));
		if (ret < 0)
			return ret;
	}
	ret = timer_arm_abs(d->t_timeout, mono_now_ns() + p->arm_timeout_ms * 1000000ull);
	if (ret < 0)
		return ret;
	return timer_every(d->t_tick, arm_needs_counters(&d->need) ? ARM_SAMPLE_MS : 1000);
}

/* Did anything but the stop file's own descriptors wake the loop? */
static bool woke_other(const struct drill *d, const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++)
		if (!is_stopfile_fd(d, evs[i].data.fd))
			return true;
	return false;
}

static bool is_resolve_fd(const struct drill *d, int fd)
{
	return fd == d->t_resolve || (d->res && fd == resolver_fd(d->res));
}

/* The re-resolution's events go last in a wake-up: a round's start (a
 * thread to create) never comes between a deadline and its switch. */
static void resolve_last(const struct drill *d, struct epoll_event *evs, int n)
{
	struct epoll_event later[LOOP_EVENTS];
	int k = 0, m = 0;

	for (int i = 0; i < n; i++) {
		if (is_resolve_fd(d, evs[i].data.fd))
			later[m++] = evs[i];
		else
			evs[k++] = evs[i];
	}
	memcpy(evs + k, later, (size_t)m * sizeof(*later));
}

static int loop(struct drill *d)
{
	struct epoll_event evs[LOOP_EVENTS];

	while (d->st != ST_DONE) {
		int n = epoll_wait(d->ep, evs, LOOP_EVENTS, -1);
		bool ctl = false;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* the stop file's path itself is looked at on every other wake-up
		 * too: a watch can miss it (a directory replaced in between) */
		if (woke_other(d, evs, n) && stop_file_present(d)) {
			on_abort(d, "stop_file", "stop file found");
			break;
		}
		resolve_last(d, evs, n);
		for (int i = 0; i < n && d->st != ST_DONE; i++) {
			int fd = evs[i].data.fd, ret = 0;

			if (fd == d->sfd)
				ret = on_signal(d);
			else if (is_stopfile_fd(d, fd))
				ret = on_stopfile(d);
			else if (fd == d->t_deadline)
				ret = on_deadline(d);
			else if (fd == d->t_tick && d->st == ST_WATCH)
				ret = on_tick(d);
			else if (fd == d->t_timeout && d->st == ST_WATCH) {
				log_info("arm timeout: not armed after %" PRIu64 " ms; nothing was injected",
					 d->p->arm_timeout_ms);
				finish(d, EXIT_ARM_TIMEOUT, "arm_timeout");
			} else if (d->ct && fd == ctwatch_fd(d->ct))
				ret = on_ct(d);
			else if (fd == d->t_resolve)
				ret = on_resolve_timer(d);
			else if (d->res && fd == resolver_fd(d->res))
				ret = on_resolved(d);
			else if (d->sw && fd == scope_watch_fd(d->sw))
				ret = on_scope(d);
			else if (d->ctl && fd == control_fd(d->ctl))
				ctl = true; /* after the drill's own events: a switch never waits for a client */
			else if (fd == d->t_tick || fd == d->t_timeout)
				ret = timer_drain(fd);
			if (ret < 0)
				return ret;
		}
		if (ctl && d->st != ST_DONE) {
			int ret = control_handle(d->ctl);

			if (ret < 0)
				return ret;
		}
		control_changed(d->ctl);
	}
	return 0;
}

static int alloc_counters(struct drill *d)
{
	size_t n = d->p->n_faults;

	d->base_pkts = calloc(n, sizeof(uint64_t));
	d->base_bytes = calloc(n, sizeof(uint64_t));
	d->base_tc_pkts = calloc(n, sizeof(uint64_t));
	d->base_tc_bytes = calloc(n, sizeof(uint64_t));
	return d->base_pkts && d->base_bytes && d->base_tc_pkts && d->base_tc_bytes ? 0 : -ENOMEM;
}

/* The journal path (command line, then policy, then the default path),
 * checked before anything is touched: an existing path or a symlinked
 * directory on it is refused with exit 2 (okx-faultd(8), SECURITY). The
 * default path only needs a free name, found when it is opened. Returns an
 * exit code. */
static int choose_journal(struct drill *d)
{
	int ret;

	if (d->o->journal || d->p->journal) {
		d->jpath = strdup(d->o->journal ? d->o->journal : d->p->journal);
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		d->jpath = journal_default_path(d->p->name, &now);
		d->junique = true;
	}
	if (!d->jpath)
		return EXIT_RUNTIME;
	ret = journal_check_path(d->jpath, d->junique);
	if (ret < 0) {
		log_errx("journal %s: %s", d->jpath, journal_strerror(ret));
		return EXIT_USAGE;
	}
	return 0;
}

/* Create the journal and write `start`. Only once the owned table exists:
 * a second okx-faultd is refused by the table before it can create or
 * write anything. After this every step is journaled. */
static int open_journal(struct drill *d)
{
	int ret = journal_open(&d->j, d->jpath, d->junique);

	if (ret < 0) {
		log_errx("journal %s: %s", d->jpath, journal_strerror(ret));
		return ret;
	}
	log_info("journal: %s", journal_path(d->j));
	return journal_start(d);
}

/* tc state a killed okx-faultd left in this namespace goes at the next
 * start (okx-faultd(8), --cleanup). Only after our owned table exists:
 * then no other instance runs here whose qdisc this could be. */
static void sweep_stale_qdiscs(struct drill *d)
{
	struct netem_ctx *tc = d->tc;
	int removed = 0, ret = 0;

	if (!tc)
		ret = netem_open(&tc);
	if (ret >= 0)
		ret = netem_cleanup_all(tc, &removed);
	if (ret < 0)
		log_warnx("removing stale okx-faultd qdiscs: %s", strerror(-ret));
	else if (removed)
		log_info("removed %d stale qdisc%s a killed okx-faultd left behind", removed, removed == 1 ? "" : "s");
	if (tc != d->tc)
		netem_close(tc);
}

/* The table (scope, watch rules, empty switch sets) and, for delay
 * faults, the inert HTB/netem tree. */
static int install(struct drill *d)
{
	int ret = nft_engine_open(&d->nft);

	if (ret >= 0)
		ret = nft_engine_install(d->nft, d->p, &d->ts, d->delay_prio);
	if (ret < 0) {
		if (ret != -EEXIST)
			log_warnx("installing table inet okx_faultd: %s", strerror(-ret));
		nft_engine_close(d->nft);
		d->nft = NULL; /* never remove a table another instance owns */
		return ret;
	}
	sweep_stale_qdiscs(d);
	if (d->tc) {
		ret = netem_install(d->tc, d->ifindex, d->p);
		if (ret < 0 && ret != -EOPNOTSUPP)
			log_warnx("installing netem on %s: %s", d->ifname, strerror(-ret));
	}
	return ret;
}

/* Watch (or arm at once), then run the steps until done. */
static int run(struct drill *d)
{
	const struct policy *p = d->p;
	int ret;

	d->st = ST_WATCH;
	d->need = (struct arm_need){ .flows = p->arm_min_flows, .calls = p->arm_min_calls,
				     .packets = p->arm_min_packets, .bytes = p->arm_min_bytes,
				     .window_ms = p->arm_window_ms };
	ret = setup_resolve(d);
	if (ret < 0) {
		log_warnx("target_host: setting up re-resolution: %s", strerror(-ret));
		return ret;
	}
	if (arm_immediate(&d->need)) {
		ret = arm_now(d);
	} else {
		ret = setup_watch(d);
		if (ret < 0)
			return ret;
		log_info("watching: waiting for %" PRIu64 " flows, %" PRIu64 " calls, %" PRIu64 " packets, %" PRIu64
			 " bytes toward the targets", p->arm_min_flows, p->arm_min_calls, p->arm_min_packets,
			 p->arm_min_bytes);
		/* packets may already have arrived between install and subscription */
		ret = on_tick(d);
	}
	return ret < 0 ? ret : loop(d);
}

/* Faults come down before the end event claims the drill is over. */
static void teardown(struct drill *d)
{
	if (d->nft) {
		int ret = nft_engine_remove(d->nft);

		if (ret < 0 && ret != -ENOENT)
			log_warnx("removing table inet okx_faultd: %s", strerror(-ret));
		nft_engine_close(d->nft);
		d->nft = NULL;
	}
	journal_end(d);
	log_info("drill %s: %s (exit %d)", d->p->name, d->outcome, d->exit_code);
	control_end(d->ctl);
}

/* Everything that needs more than CAP_NET_ADMIN is done: the journal and
 * the stop file's watch are open, the names resolved, the scheduling set
 * (okx-faultd(8), SECURITY). */
static int drop_privileges(void)
{
	int ret = privs_drop();

	if (ret < 0)
		log_errx("dropping every capability but CAP_NET_ADMIN: %s", strerror(-ret));
	else
		log_debug("capabilities: CAP_NET_ADMIN only, no_new_privs set");
	return ret;
}

/* After the table exists: the control socket (a live drill of the same
 * name, in another network namespace, refuses this one before it has a
 * journal, as the table does in this one), the journal, then the drill. */
static void run_installed(struct drill *d)
{
	int ret = control_listen(d->ctl);

	if (ret == 0)
		ret = open_journal(d);
	if (ret == 0)
		ret = setup_scope_watch(d);
	if (ret == 0)
		ret = drop_privileges();
	if (ret < 0) {
		finish(d, EXIT_RUNTIME, "error");
		return;
	}
	if (d->st == ST_DONE) /* the scope was gone already */
		return;
	if (stop_file_present(d)) {
		log_info("stop file %s is present: nothing injected", d->o->stop_file);
		d->end_reason = "stop_file";
		finish(d, EXIT_ABORTED, "aborted");
		return;
	}
	ret = run(d);
	if (ret < 0) {
		log_warnx("runtime failure: %s", strerror(-ret));
		abort_live(d, "error");
		finish(d, EXIT_RUNTIME, "error");
	}
	/* a journal that lost an event is a failed drill, whatever ended it */
	if (journal_sync(d->j) < 0 && d->exit_code != EXIT_RUNTIME)
		finish(d, EXIT_RUNTIME, "error");
}

int drill_run(const struct policy *p, const struct drill_opts *o)
{
	struct drill d = { .p = p, .o = o, .ep = -1, .t_deadline = -1, .t_timeout = -1, .t_tick = -1,
			   .t_resolve = -1, .sfd = -1, .live = -1, .exit_code = EXIT_RUNTIME, .outcome = "error" };
	int code, ret;

	stamp_now(&d.started);
	scope_init(&d.scope);
	d.n_steps = p->n_faults * p->repeat;
	code = prepare(&d, p, false);
	if (code == 0)
		code = choose_journal(&d);
	if (code != 0)
		goto out;
	ret = setup_fds(&d);
	if (ret < 0) {
		log_warnx("setting up the event loop: %s", strerror(-ret));
		/* the usual cause is a stop file in a directory that does not exist */
		code = d.stop_unwatchable ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	code = open_control(&d);
	if (code != 0)
		goto out;
	code = EXIT_RUNTIME;
	if (alloc_counters(&d) < 0)
		goto out;
	ret = install(&d);
	if (ret < 0) {
		/* no netem in this kernel: a policy this host cannot run */
		code = ret == -EOPNOTSUPP ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	run_installed(&d);
	code = d.exit_code;
	teardown(&d);
out:
	drill_free(&d);
	return code;
}

int drill_dry_run(const struct policy *p, FILE *out)
{
	struct drill d = { .p = p, .ep = -1, .t_deadline = -1, .t_timeout = -1, .t_tick = -1, .t_resolve = -1, .sfd = -1 };
	int code;

	scope_init(&d.scope);
	code = prepare(&d, p, true);

	if (code == 0) {
		nft_render(out, p, &d.ts, d.delay_prio);
		if (has_delay(p))
			netem_render(out, d.ifname[0] ? d.ifname : (p->interface[0] ? p->interface : "IFACE"), p);
	}
	d.ifindex = 0; /* nothing was installed */
	drill_free(&d);
	return code;
}

/* The same ownership proof as the start-up sweep (sweep_stale_qdiscs):
 * our owned table is created first, so no other okx-faultd runs in this
 * namespace whose qdisc this could be. When one runs (a refused second
 * instance's ExecStopPost, a cleanup by hand during a drill) its state is
 * left alone. */
int drill_cleanup(void)
{
	struct nft_engine *nft = NULL;
	struct netem_ctx *tc = NULL;
	int removed = 0, ret = nft_engine_open(&nft);

	if (ret >= 0)
		ret = nft_engine_claim(nft);
	if (ret == -EEXIST) {
		log_info("cleanup: another okx-faultd runs in this network namespace (table inet %s exists); "
			 "its tc state is left alone",
			 NFT_TABLE_NAME);
		nft_engine_close(nft);
		return EXIT_DRILL_OK;
	}
	if (ret >= 0)
		ret = netem_open(&tc);
	if (ret >= 0)
		ret = netem_cleanup_all(tc, &removed);
	netem_close(tc);
	if (nft && ret >= 0)
		ret = nft_engine_remove(nft);
	nft_engine_close(nft);
	if (ret < 0) {
		log_warnx("cleanup: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	log_info("cleanup: removed %d stale qdisc%s", removed, removed == 1 ? "" : "s");
	return EXIT_DRILL_OK;
}
