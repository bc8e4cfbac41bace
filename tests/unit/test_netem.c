/* Encoders of the netem module, parsed back attribute by attribute; the
 * dry-run text; priorities; the kernel-support probe over a fake tree. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netem.h"

/* ---- helpers ---- */

static struct tcmsg *parse_tc(struct nl_msg *msg, int type, struct nlattr **tb)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	cr_assert_eq(h->nlmsg_type, type);
	cr_assert_eq(nlmsg_parse(h, sizeof(struct tcmsg), tb, TCA_MAX, NULL), 0);
	return nlmsg_data(h);
}

static struct fault delay(uint64_t lat, uint64_t jit, uint32_t loss)
{
	struct fault f = { .action = ACT_DELAY, .duration_ms = 1000, .latency_ms = lat, .jitter_ms = jit, .loss = loss, .line = 7 };

	return f;
}

/* psched ticks are 64 ns (PSCHED_SHIFT 6); check against the kernel's
 * own figure in /proc/net/psched ("%08x %08x ..": ns per us, ns per tick) */
static uint64_t tick_ns(void)
{
	FILE *f = fopen("/proc/net/psched", "r");
	unsigned a, b;

	if (!f)
		return 64;
	cr_assert_eq(fscanf(f, "%x %x", &a, &b), 2);
	fclose(f);
	return b;
}

/* ---- priorities and loss ---- */

Test(netem, priority_is_class_id)
{
	cr_expect_eq(netem_fault_priority(0), 0xfa170001u);
	cr_expect_eq(netem_fault_priority(9), 0xfa17000au);
	cr_expect_eq(netem_fault_priority(0xfffe), 0xfa17ffffu);
	cr_expect_eq(TC_H_MAJ(netem_fault_priority(3)), OKX_TC_HANDLE);
	cr_expect_eq(OKX_TC_HANDLE, 0xfa170000u);
}

Test(netem, loss_probability_scaled_to_u32)
{
	cr_expect_eq(netem_loss_prob(0), 0u);
	cr_expect_eq(netem_loss_prob(PCT_MAX), UINT32_MAX);
	cr_expect_eq(netem_loss_prob(PCT_MAX + 1), UINT32_MAX);
	/* iproute2: rint(0.015 * UINT32_MAX) */
	cr_expect_eq(netem_loss_prob(1500), 64424509u);
	cr_expect_eq(netem_loss_prob(50000), 2147483648u);
	cr_expect_eq(netem_loss_prob(1), 42950u);
}

/* ---- encoders ---- */

Test(netem, root_message)
{
	struct nlattr *tb[TCA_MAX + 1], *ho[TCA_HTB_MAX + 1];
	struct nl_msg *msg;
	struct tcmsg *tcm;
	struct tc_htb_glob g;
	struct nlmsghdr *h;

	cr_assert_eq(netem_msg_root(7, &msg), 0);
	h = nlmsg_hdr(msg);
	cr_expect(h->nlmsg_flags & NLM_F_CREATE);
	cr_expect(h->nlmsg_flags & NLM_F_EXCL);
	cr_expect_not(h->nlmsg_flags & NLM_F_REPLACE, "must never replace another root");
	tcm = parse_tc(msg, RTM_NEWQDISC, tb);
	cr_expect_eq(tcm->tcm_ifindex, 7);
	cr_expect_eq(tcm->tcm_handle, 0xfa170000u);
	cr_expect_eq(tcm->tcm_parent, TC_H_ROOT);
	cr_assert_not_null(tb[TCA_KIND]);
	cr_expect_str_eq(nla_get_string(tb[TCA_KIND]), "htb");
	cr_assert_not_null(tb[TCA_OPTIONS]);
	cr_assert_eq(nla_parse_nested(ho, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL), 0);
	cr_assert_not_null(ho[TCA_HTB_INIT]);
	cr_assert_eq(nla_len(ho[TCA_HTB_INIT]), (int)sizeof(g));
	memcpy(&g, nla_data(ho[TCA_HTB_INIT]), sizeof(g));
	cr_expect_eq(g.version, 3u);
	cr_expect_eq(g.defcls, 0u, "default 0: unclassified packets use the direct queue");
	cr_expect_eq(g.rate2quantum, 10u);
	cr_assert_not_null(ho[TCA_HTB_DIRECT_QLEN]);
	cr_expect_eq(nla_get_u32(ho[TCA_HTB_DIRECT_QLEN]), 1000u);
	nlmsg_free(msg);
}

Test(netem, class_message)
{
	struct nlattr *tb[TCA_MAX + 1], *ho[TCA_HTB_MAX + 1];
	struct nl_msg *msg;
	struct tcmsg *tcm;
	struct tc_htb_opt o;

	cr_assert_eq(netem_msg_class(7, 2, &msg), 0);
	cr_expect(nlmsg_hdr(msg)->nlmsg_flags & NLM_F_EXCL);
	tcm = parse_tc(msg, RTM_NEWTCLASS, tb);
	cr_expect_eq(tcm->tcm_ifindex, 7);
	cr_expect_eq(tcm->tcm_parent, 0xfa170000u);
	cr_expect_eq(tcm->tcm_handle, 0xfa170003u);
	cr_expect_str_eq(nla_get_string(tb[TCA_KIND]), "htb");
	cr_assert_not_null(tb[TCA_OPTIONS]);
	cr_assert_eq(nla_parse_nested(ho, TCA_HTB_MAX, tb[TCA_OPTIONS], NULL), 0);
	cr_assert_not_null(ho[TCA_HTB_PARMS]);
	memcpy(&o, nla_data(ho[TCA_HTB_PARMS]), sizeof(o));
	cr_expect_eq(o.rate.rate, 1250000000u, "10 Gbit/s in bytes/s");
	cr_expect_eq(o.ceil.rate, 1250000000u);
	cr_expect_eq(o.quantum, 60000u);
	cr_expect_eq(o.prio, 0u);
	/* burst 256 KiB at 10 Gbit/s: 209.7 us of tokens, in 64 ns ticks */
	cr_expect(o.buffer * tick_ns() > 208000 && o.buffer * tick_ns() <= 209716, "buffer %u ticks", o.buffer);
	cr_expect_eq(o.cbuffer, o.buffer);
	cr_expect_null(ho[TCA_HTB_RATE64], "10 Gbit/s fits the 32-bit rate");
	nlmsg_free(msg);
}

static void check_leaf(const struct fault *f, uint32_t parent, uint64_t lat_ns, uint64_t jit_ns, uint32_t loss)
{
	struct nlattr *tb[TCA_MAX + 1];
	struct tc_netem_qopt q;
	struct nl_msg *msg;
	struct tcmsg *tcm;
	struct nlmsghdr *h;
	int rest;

	cr_assert_eq(netem_msg_leaf(5, (int)(parent & 0xffff) - 1, f, &msg), 0);
	h = nlmsg_hdr(msg);
	cr_expect(h->nlmsg_flags & NLM_F_CREATE);
	tcm = parse_tc(msg, RTM_NEWQDISC, tb);
	cr_expect_eq(tcm->tcm_ifindex, 5);
	cr_expect_eq(tcm->tcm_parent, parent);
	cr_expect_eq(tcm->tcm_handle, 0u, "the kernel picks the leaf's handle");
	cr_expect_str_eq(nla_get_string(tb[TCA_KIND]), "netem");
	cr_assert_not_null(tb[TCA_OPTIONS]);
	/* netem's TCA_OPTIONS: a struct tc_netem_qopt, then TCA_NETEM_*
	 * attributes, the whole rest of the message */
	rest = (int)((char *)h + h->nlmsg_len - (char *)tb[TCA_OPTIONS]);
	cr_expect_eq(NLA_ALIGN(tb[TCA_OPTIONS]->nla_len), rest);
	cr_assert_geq(nla_len(tb[TCA_OPTIONS]), (int)sizeof(q));
	memcpy(&q, nla_data(tb[TCA_OPTIONS]), sizeof(q));
	cr_expect_eq((uint64_t)q.latency * tick_ns(), lat_ns, "latency %u ticks", q.latency);
	cr_expect_eq((uint64_t)q.jitter * tick_ns(), jit_ns, "jitter %u ticks", q.jitter);
	cr_expect_eq(q.loss, loss);
	cr_expect_eq(q.limit, 10000u);
	cr_expect_eq(q.gap, 0u);
	cr_expect_eq(q.duplicate, 0u);
	nlmsg_free(msg);
}

Test(netem, leaf_latency_only)
{
	struct fault f = delay(100, 0, 0);

	check_leaf(&f, 0xfa170001u, 100000000ull, 0, 0);
}

Test(netem, leaf_latency_jitter_loss)
{
	struct fault f = delay(50, 10, 1500);

	check_leaf(&f, 0xfa170004u, 50000000ull, 10000000ull, 64424509u);
}

Test(netem, leaf_full_loss_and_largest_delay)
{
	struct fault f = delay(OKX_TC_MAX_DELAY_MS, 1, PCT_MAX);

	check_leaf(&f, 0xfa17000bu, 270000000000ull, 1000000ull, UINT32_MAX);
}

Test(netem, leaf_out_of_range)
{
	struct fault f = delay(OKX_TC_MAX_DELAY_MS + 1, 0, 0);
	struct nl_msg *msg = (struct nl_msg *)&f;

	cr_expect_eq(netem_msg_leaf(5, 0, &f, &msg), -ERANGE);
	cr_expect_null(msg);
	f = delay(10, OKX_TC_MAX_DELAY_MS + 1, 0);
	cr_expect_eq(netem_msg_leaf(5, 0, &f, &msg), -ERANGE);
	f = delay(10, 0, 0);
	cr_expect_eq(netem_msg_leaf(5, 0xffff, &f, &msg), -ERANGE);
	cr_expect_eq(netem_msg_leaf(5, -1, &f, &msg), -ERANGE);
	cr_expect_eq(netem_msg_class(5, 0xffff, &msg), -ERANGE);
	cr_expect_eq(netem_msg_class(5, -1, &msg), -ERANGE);
}

Test(netem, delete_message)
{
	struct nlattr *tb[TCA_MAX + 1];
	struct nl_msg *msg;
	struct tcmsg *tcm;

	cr_assert_eq(netem_msg_del_root(9, &msg), 0);
	tcm = parse_tc(msg, RTM_DELQDISC, tb);
	cr_expect_eq(tcm->tcm_ifindex, 9);
	cr_expect_eq(tcm->tcm_parent, TC_H_ROOT);
	cr_expect_eq(tcm->tcm_handle, 0xfa170000u, "the handle makes the kernel refuse a root that is not ours");
	nlmsg_free(msg);
}

/* ---- validation and dry run ---- */

static char captured[4096];

static void capture(enum log_level level, const char *line, void *data)
{
	(void)level;
	(void)data;
	strncat(captured, line, sizeof(captured) - strlen(captured) - 2);
	strcat(captured, "\n");
}

static struct fault faults[] = {
	{ .action = ACT_DROP, .duration_ms = 10000, .line = 3 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 100, .line = 4 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 50, .jitter_ms = 10, .loss = 1500, .line = 5 },
	{ .action = ACT_PAUSE, .duration_ms = 1000, .line = 6 },
	{ .action = ACT_LOSS, .duration_ms = 1000, .percent = 30000, .line = 7 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 1500, .loss = 100000, .line = 8 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 1, .loss = 1, .line = 9 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 2, .loss = 500, .line = 10 },
	{ .action = ACT_DELAY, .duration_ms = 5000, .latency_ms = 3, .loss = 12340, .line = 11 },
};

static char *render(const char *ifname, struct fault *f, size_t n)
{
	struct policy p = { .path = "t.policy", .faults = f, .n_faults = n };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	netem_render(out, ifname, &p);
	cr_assert_eq(fclose(out), 0);
	return buf;
}

Test(netem, render_commands)
{
	char *text = render("eth0", faults, sizeof(faults) / sizeof(faults[0]));

	cr_expect_str_eq(text,
		"# tc qdisc add dev eth0 root handle fa17: htb default 0 direct_qlen 1000\n"
		"# tc class add dev eth0 parent fa17: classid fa17:2 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:2 netem limit 10000 delay 100ms\n"
		"# tc class add dev eth0 parent fa17: classid fa17:3 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:3 netem limit 10000 delay 50ms 10ms loss 1.5%\n"
		"# tc class add dev eth0 parent fa17: classid fa17:6 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:6 netem limit 10000 delay 1500ms loss 100%\n"
		"# tc class add dev eth0 parent fa17: classid fa17:7 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:7 netem limit 10000 delay 1ms loss 0.001%\n"
		"# tc class add dev eth0 parent fa17: classid fa17:8 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:8 netem limit 10000 delay 2ms loss 0.5%\n"
		"# tc class add dev eth0 parent fa17: classid fa17:9 htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev eth0 parent fa17:9 netem limit 10000 delay 3ms loss 12.34%\n");
	free(text);
}

Test(netem, render_hex_minor_and_placeholder)
{
	struct fault f[11] = { { 0 } };
	char *text;

	for (size_t i = 0; i < 10; i++)
		f[i].action = ACT_DROP;
	f[10] = delay(20, 0, 0);
	text = render("", f, 11);
	cr_expect_str_eq(text,
		"# tc qdisc add dev IFACE root handle fa17: htb default 0 direct_qlen 1000\n"
		"# tc class add dev IFACE parent fa17: classid fa17:b htb rate 10gbit ceil 10gbit burst 256k cburst 256k quantum 60000\n"
		"# tc qdisc add dev IFACE parent fa17:b netem limit 10000 delay 20ms\n");
	free(text);
	text = render(NULL, f, 11);
	cr_expect(strstr(text, "dev IFACE ") != NULL);
	free(text);
}

Test(netem, render_nothing_without_delay)
{
	char *text = render("eth0", faults, 1);

	cr_expect_str_eq(text, "");
	free(text);
}

Test(netem, validate_names_the_line)
{
	struct fault f[3] = { delay(10, 0, 0), delay(OKX_TC_MAX_DELAY_MS + 1, 0, 0), delay(5, 300000, 0) };
	struct policy p = { .path = "t.policy", .faults = f, .n_faults = 3 };

	f[1].line = 12;
	f[2].line = 13;
	captured[0] = '\0';
	log_set_capture(capture, NULL);
	cr_expect_eq(netem_validate(&p), -ERANGE);
	log_set_capture(NULL, NULL);
	cr_expect(strstr(captured, "t.policy:12: delay: latency and jitter can be at most 270s") != NULL, "%s", captured);
	cr_expect(strstr(captured, "t.policy:13: ") != NULL, "%s", captured);
	cr_expect(strstr(captured, ":7:") == NULL, "%s", captured);
	p.n_faults = 1;
	cr_expect_eq(netem_validate(&p), 0);
}

/* ---- read-only kernel queries (no change to any interface) ---- */

Test(netem_live, resolve_by_name_and_route)
{
	struct netem_ctx *c = NULL;
	char name[IF_NAMESIZE];
	int idx = 0;

	cr_assert_eq(netem_open(&c), 0);
	cr_expect_eq(netem_resolve_ifindex(c, "lo", NULL, &idx, name), 0);
	cr_expect_eq(idx, 1);
	cr_expect_str_eq(name, "lo");
	idx = 0;
	cr_expect_eq(netem_resolve_ifindex(c, "", "127.0.0.1", &idx, name), 0);
	cr_expect_str_eq(name, "lo");
	cr_expect_eq(netem_resolve_ifindex(c, "", "127.0.0.0/8", &idx, name), 0);
	cr_expect_str_eq(name, "lo");
	cr_expect_eq(netem_resolve_ifindex(c, "okx-no-such0", NULL, &idx, name), -ENODEV);
	cr_expect_eq(netem_resolve_ifindex(c, "", "not-an-address", &idx, name), -EINVAL);
	cr_expect_eq(netem_resolve_ifindex(c, NULL, NULL, &idx, name), -EINVAL);
	cr_expect_eq(netem_check_iface(c, 1), 0, "lo has the default noqueue");
	cr_expect_eq(netem_check_iface(c, 0x7ffffff0), -ENODEV);
	netem_close(c);
	netem_close(NULL);
}
