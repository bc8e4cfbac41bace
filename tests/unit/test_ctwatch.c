/* SPDX-License-Identifier: MIT */
/* ct_parse_flow over messages built as the kernel's ctnetlink builds them
 * (ctnetlink_conntrack_event / ctnetlink_fill_info), and the scope decision
 * on the parsed tuple. No kernel needed. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctwatch.h"
#include "scope.h"

static uint32_t msgbuf[4096 / 4];

struct spec {
	int family;      /* nfgen_family */
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
	/* deviations */
	uint16_t msg_type;   /* 0: CT_NEW */
	bool no_orig;
	bool no_ports;
	bool only_src;
	bool v4_len16;       /* V4 address with 16 bytes */
	bool both_families;
	bool no_ip;
	bool dup_proto_num;
	bool extra_unknown;
	uint8_t tcp_state;   /* 0: SYN_SENT (as in the NEW event of a connect) */
	bool no_protoinfo;
	bool label;          /* CTA_LABELS with SCOPE_CT_LABEL */
	bool other_label;    /* CTA_LABELS with another bit only */
	bool short_labels;   /* CTA_LABELS of 4 bytes */
};

static void put_addr(struct nlmsghdr *nlh, int family, uint16_t type4, uint16_t type6, const char *s)
{
	uint8_t a[16];

	if (family == AF_INET) {
		cr_assert_eq(inet_pton(AF_INET, s, a), 1);
		mnl_attr_put(nlh, type4, 4, a);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, s, a), 1);
		mnl_attr_put(nlh, type6, 16, a);
	}
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t which, const struct spec *s, bool reply)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, which), *ip, *pr;
	const char *src = reply ? s->dst : s->src, *dst = reply ? s->src : s->dst;
	uint16_t sp = reply ? s->dport : s->sport, dp = reply ? s->sport : s->dport;

	if (!s->no_ip) {
		ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
		if (s->v4_len16) {
			uint8_t z[16] = { 198, 18, 0, 1 };

			mnl_attr_put(nlh, CTA_IP_V4_SRC, 16, z);
			mnl_attr_put(nlh, CTA_IP_V4_DST, 16, z);
		} else {
			put_addr(nlh, s->family, CTA_IP_V4_SRC, CTA_IP_V6_SRC, src);
			if (!s->only_src)
				put_addr(nlh, s->family, CTA_IP_V4_DST, CTA_IP_V6_DST, dst);
		}
		if (s->both_families) {
			uint8_t z[16] = { 0x20, 0x01, 0, 2 };

			mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, z);
			mnl_attr_put(nlh, CTA_IP_V6_DST, 16, z);
		}
		mnl_attr_nest_end(nlh, ip);
	}
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, s->proto);
	if (s->dup_proto_num)
		mnl_attr_put_u8(nlh, CTA_PROTO_NUM, s->proto);
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		mnl_attr_put_u16(nlh, s->proto == IPPROTO_ICMP ? CTA_PROTO_ICMP_ID : CTA_PROTO_ICMPV6_ID, htons(77));
		mnl_attr_put_u8(nlh, s->proto == IPPROTO_ICMP ? CTA_PROTO_ICMP_TYPE : CTA_PROTO_ICMPV6_TYPE, 8);
		mnl_attr_put_u8(nlh, s->proto == IPPROTO_ICMP ? CTA_PROTO_ICMP_CODE : CTA_PROTO_ICMPV6_CODE, 0);
	} else if (!s->no_ports) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sp));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dp));
	}
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_put_u16(nlh, CTA_TUPLE_ZONE, 0);
	mnl_attr_nest_end(nlh, t);
}

static struct nlmsghdr *build(const struct spec *s)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *pi, *tcp;

	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | (s->msg_type ? s->msg_type : IPCTNL_MSG_CT_NEW);
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)s->family;
	nfg->version = NFNETLINK_V0;
	if (!s->no_orig)
		put_tuple(nlh, CTA_TUPLE_ORIG, s, false);
	put_tuple(nlh, CTA_TUPLE_REPLY, s, true);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(8));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(120));
	if (s->proto == IPPROTO_TCP && !s->no_protoinfo) {
		/* as ctnetlink_dump_protoinfo() nests it */
		pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, s->tcp_state ? s->tcp_state : TCP_CONNTRACK_SYN_SENT);
		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, pi);
	}
	mnl_attr_put_u32(nlh, CTA_ID, htonl(0x12345678));
	if (s->label || s->other_label || s->short_labels) {
		/* as ctnetlink_dump_labels() puts it: the kernel's bytes */
		uint8_t bits[16], mask;
		size_t byte;

		scope_label_bytes(bits, &byte, &mask);
		if (s->other_label) {
			memset(bits, 0, sizeof(bits));
			bits[byte ? 0 : 15] = 0x01;
		}
		mnl_attr_put(nlh, CTA_LABELS, s->short_labels ? 4 : 16, bits);
	}
	mnl_attr_put_u32(nlh, CTA_USE, htonl(1));
	if (s->extra_unknown) {
		mnl_attr_put_u32(nlh, CTA_MAX + 5, 7);
		mnl_attr_put_u32(nlh, 0x7fff & ~NLA_F_NESTED, 7);
	}
	return nlh;
}

static void expect_addr(const uint8_t *got, int family, const char *want)
{
	uint8_t a[16] = { 0 };

	cr_assert_eq(inet_pton(family, want, a), 1);
	cr_assert_arr_eq(got, a, family == AF_INET ? 4 : 16, "address differs from %s", want);
}

Test(ct_parse, v4_tcp)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 40001, .dport = 443 };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_assert_eq(f.family, AF_INET);
	cr_assert_eq(f.proto, IPPROTO_TCP);
	expect_addr(f.src, AF_INET, "198.18.0.1");
	expect_addr(f.dst, AF_INET, "198.18.0.2");
	cr_assert_eq(f.sport, 40001);
	cr_assert_eq(f.dport, 443);
	cr_assert_eq(f.tcp_state, TCP_CONNTRACK_SYN_SENT);
}

/* the state tells a connect (SYN seen) from a connection picked up mid-stream */
Test(ct_parse, tcp_state)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2",
			  .sport = 40001, .dport = 443, .tcp_state = TCP_CONNTRACK_ESTABLISHED };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_expect_eq(f.tcp_state, TCP_CONNTRACK_ESTABLISHED);
	s.no_protoinfo = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_expect_eq(f.tcp_state, 0, "no protoinfo: no state");
}

Test(ct_parse, v6_udp)
{
	struct spec s = { .family = AF_INET6, .proto = IPPROTO_UDP, .src = "2001:2::1", .dst = "2001:2::2", .sport = 5353, .dport = 53 };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_assert_eq(f.family, AF_INET6);
	cr_assert_eq(f.proto, IPPROTO_UDP);
	expect_addr(f.src, AF_INET6, "2001:2::1");
	expect_addr(f.dst, AF_INET6, "2001:2::2");
	cr_assert_eq(f.sport, 5353);
	cr_assert_eq(f.dport, 53);
}

Test(ct_parse, icmp_has_no_ports)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_ICMP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 0, .dport = 0 };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_assert_eq(f.proto, IPPROTO_ICMP);
	cr_assert_eq(f.sport, 0);
	cr_assert_eq(f.dport, 0);
}

Test(ct_parse, icmpv6)
{
	struct spec s = { .family = AF_INET6, .proto = IPPROTO_ICMPV6, .src = "2001:2::1", .dst = "2001:2::3", .sport = 0, .dport = 0 };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_assert_eq(f.proto, IPPROTO_ICMPV6);
	expect_addr(f.dst, AF_INET6, "2001:2::3");
}

Test(ct_parse, other_protocol_without_ports)
{
	struct spec s = { .family = AF_INET, .proto = 47 /* gre */, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 0, .dport = 0, .no_ports = true };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_assert_eq(f.proto, 47);
}

Test(ct_parse, dump_entry_with_unspec_family_header)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2 };
	struct nlmsghdr *nlh = build(&s);
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct ct_flow f;

	nfg->nfgen_family = AF_UNSPEC;
	cr_assert_eq(ct_parse_flow(nlh, &f), 0);
	cr_assert_eq(f.family, AF_INET);
}

Test(ct_parse, unknown_attributes_ignored)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2, .extra_unknown = true };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
}

Test(ct_parse, other_message_types)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2, .msg_type = IPCTNL_MSG_CT_DELETE };
	struct nlmsghdr *nlh;
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), -ENOENT);
	s.msg_type = 0;
	nlh = build(&s);
	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK_EXP << 8 | IPCTNL_MSG_EXP_NEW;
	cr_assert_eq(ct_parse_flow(nlh, &f), -ENOENT);
	nlh->nlmsg_type = NLMSG_DONE;
	cr_assert_eq(ct_parse_flow(nlh, &f), -ENOENT);
}

Test(ct_parse, no_ip_attributes)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2, .no_ip = true };
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL); /* no CTA_TUPLE_IP at all */
}

Test(ct_parse, malformed)
{
	struct spec base = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2 };
	struct spec s;
	struct ct_flow f;

	s = base;
	s.no_orig = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "no orig tuple");
	s = base;
	s.no_ports = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "tcp without ports");
	s = base;
	s.proto = IPPROTO_UDP;
	s.no_ports = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "udp without ports");
	s = base;
	s.only_src = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "half a tuple");
	s = base;
	s.v4_len16 = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "v4 address of 16 bytes");
	s = base;
	s.both_families = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "v4 and v6 in one tuple");
	s = base;
	s.dup_proto_num = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), -EINVAL, "attribute twice");
}

Test(ct_parse, family_mismatch)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2 };
	struct nlmsghdr *nlh = build(&s);
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct ct_flow f;

	nfg->nfgen_family = AF_INET6;
	cr_assert_eq(ct_parse_flow(nlh, &f), -EINVAL);
}

Test(ct_parse, too_short_for_nfgenmsg)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2 };
	struct nlmsghdr *nlh = build(&s);
	struct ct_flow f;

	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	cr_assert_eq(ct_parse_flow(nlh, &f), -EINVAL);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4; /* header only: no attributes */
	cr_assert_eq(ct_parse_flow(nlh, &f), -EINVAL);
}

Test(ct_parse, truncated_inside_the_tuple)
{
	struct spec s = { .family = AF_INET6, .proto = IPPROTO_TCP, .src = "2001:2::1", .dst = "2001:2::2", .sport = 1, .dport = 2 };
	struct nlmsghdr *nlh = build(&s);
	uint32_t full = nlh->nlmsg_len, cut;
	struct ct_flow f;

	/* every cut inside the orig tuple must fail cleanly, never read past */
	for (cut = MNL_NLMSG_HDRLEN + 4; cut < MNL_NLMSG_HDRLEN + 4 + 80; cut += 4) {
		nlh->nlmsg_len = cut;
		cr_assert_eq(ct_parse_flow(nlh, &f), -EINVAL, "cut at %u of %u", cut, full);
	}
}

Test(ct_parse, nested_length_overruns_parent)
{
	struct spec s = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 1, .dport = 2 };
	struct nlmsghdr *nlh = build(&s);
	struct nlattr *orig = (struct nlattr *)mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
	struct nlattr *ip = mnl_attr_get_payload(orig);
	struct ct_flow f;

	cr_assert_eq(mnl_attr_get_type(orig), CTA_TUPLE_ORIG);
	cr_assert_eq(mnl_attr_get_type(ip), CTA_TUPLE_IP);
	ip->nla_len = (uint16_t)(orig->nla_len + 8);
	cr_assert_eq(ct_parse_flow(nlh, &f), -EINVAL);
}

/* Random corruption: whatever the bytes, a defined answer and no bad read
 * (ASan watches). */
Test(ct_parse, mutations_never_crash)
{
	struct spec s = { .family = AF_INET6, .proto = IPPROTO_TCP, .src = "2001:2::1", .dst = "2001:2::2", .sport = 1, .dport = 2 };
	static uint32_t copy[sizeof(msgbuf) / 4];
	unsigned seed = 7, i;
	struct ct_flow f;

	for (i = 0; i < 20000; i++) {
		struct nlmsghdr *nlh = build(&s);
		uint32_t len = nlh->nlmsg_len, k, nflip = 1 + (unsigned)rand_r(&seed) % 4;
		uint8_t *b;
		int rc;

		/* the message sits at the end of an exact-size heap block so any
		 * read past nlmsg_len is caught */
		b = malloc(len);
		cr_assert_not_null(b);
		memcpy(b, nlh, len);
		for (k = 0; k < nflip; k++) {
			uint32_t at = MNL_NLMSG_HDRLEN + (uint32_t)rand_r(&seed) % (len - MNL_NLMSG_HDRLEN);

			b[at] = (uint8_t)rand_r(&seed);
		}
		memcpy(copy, b, len);
		free(b);
		b = malloc(len);
		cr_assert_not_null(b);
		memcpy(b, copy, len);
		rc = ct_parse_flow((const struct nlmsghdr *)(void *)b, &f);
		cr_assert(rc == 0 || rc == -EINVAL || rc == -ENOENT, "rc %d", rc);
		free(b);
	}
}

/* The scope decision the watch makes on each parsed flow. */
static struct policy pol;
static struct prefix tgt[2];
static struct port_range ports[1] = { { 443, 443 } };
static struct port_range xports[1] = { { 22, 22 } };
static struct target_set ts;

static void scope_setup(void)
{
	char *errors = NULL;

	memset(&pol, 0, sizeof(pol));
	memset(tgt, 0, sizeof(tgt));
	memset(&ts, 0, sizeof(ts));
	tgt[0].family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, "198.18.0.2", tgt[0].addr), 1);
	tgt[0].len = 32;
	tgt[1].family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, "2001:2::2", tgt[1].addr), 1);
	tgt[1].len = 128;
	pol.path = (char *)"t.policy";
	pol.targets = tgt;
	pol.n_targets = 2;
	pol.ports = ports;
	pol.n_ports = 1;
	pol.exempt_ports = xports;
	pol.n_exempt_ports = 1;
	pol.protocol = PROTO_TCP;
	cr_assert_eq(targets_resolve(&pol, &ts, &errors), 0);
	cr_assert_eq(targets_build(&ts, &pol, NULL, 0), 0);
}

static void scope_teardown(void) { target_set_free(&ts); }

static bool in_scope(const struct spec *s)
{
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(s), &f), 0);
	return target_scope_match(&pol, &ts, f.family, f.dst, f.proto, f.sport, f.dport);
}

Test(ct_scope, decisions, .init = scope_setup, .fini = scope_teardown)
{
	struct spec t4 = { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = "198.18.0.2", .sport = 40000, .dport = 443 };
	struct spec t6 = { .family = AF_INET6, .proto = IPPROTO_TCP, .src = "2001:2::1", .dst = "2001:2::2", .sport = 40000, .dport = 443 };
	struct spec s;

	cr_assert(in_scope(&t4));
	cr_assert(in_scope(&t6));
	s = t4;
	s.dst = "198.18.0.3";
	cr_assert_not(in_scope(&s), "non-target address");
	s = t6;
	s.dst = "2001:2::3";
	cr_assert_not(in_scope(&s), "non-target v6 address");
	s = t4;
	s.dport = 80;
	cr_assert_not(in_scope(&s), "other port");
	s = t4;
	s.proto = IPPROTO_UDP;
	cr_assert_not(in_scope(&s), "udp, policy says tcp");
	s = t4;
	s.sport = 22;
	cr_assert_not(in_scope(&s), "exempt source port");
	s = t4;
	s.src = "198.18.0.2";
	s.dst = "198.18.0.1";
	s.sport = 443;
	s.dport = 40000;
	cr_assert_not(in_scope(&s), "a connection from the target is not a call to it");
}

/* The in-kernel prefilter, run by the kernel on an AF_UNIX datagram
 * socketpair (SO_ATTACH_FILTER works the same there): a message passes
 * when it arrives. */
static int sv[2] = { -1, -1 };
static bool label_filter; /* attach() builds the owner scope's filter */

static void filter_setup(void)
{
	scope_setup();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void filter_teardown(void)
{
	label_filter = false;
	close(sv[0]);
	close(sv[1]);
	scope_teardown();
}

static void attach_info(const struct target_set *t, struct ctwatch_filter_info *fi)
{
	static struct sock_filter prog[CTWATCH_BPF_MAX];
	struct sock_fprog fp;
	int n = ctwatch_build_filter(t, label_filter, prog, CTWATCH_BPF_MAX, fi);

	cr_assert_gt(n, 0);
	cr_assert_leq(n, CTWATCH_BPF_MAX);
	fp.len = (unsigned short)n;
	fp.filter = prog;
	cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)), 0, "%s", strerror(errno));
}

static void attach(const struct target_set *t)
{
	attach_info(t, NULL);
}

static bool passes_len(const struct nlmsghdr *nlh, size_t len)
{
	static uint32_t rbuf[4096 / 4];
	ssize_t n;

	cr_assert_eq(send(sv[0], nlh, len, 0), (ssize_t)len);
	n = recv(sv[1], rbuf, sizeof(rbuf), MSG_DONTWAIT);
	if (n < 0)
		cr_assert(errno == EAGAIN, "%s", strerror(errno));
	else
		cr_assert_eq(n, (ssize_t)len, "trimmed by the filter");
	return n >= 0;
}

static bool passes(const struct spec *s)
{
	const struct nlmsghdr *nlh = build(s);

	return passes_len(nlh, nlh->nlmsg_len);
}

#define V4(d) { .family = AF_INET, .proto = IPPROTO_TCP, .src = "198.18.0.1", .dst = d, .sport = 40000, .dport = 443 }
#define V6(d) { .family = AF_INET6, .proto = IPPROTO_TCP, .src = "2001:2::1", .dst = d, .sport = 40000, .dport = 443 }

Test(ct_filter, targets_pass_others_dropped, .init = filter_setup, .fini = filter_teardown)
{
	struct spec a = V4("198.18.0.2"), b = V4("198.18.0.3"), c = V4("198.18.0.1"), d = V4("0.0.0.0"),
		    e = V4("255.255.255.255");
	struct spec f = V6("2001:2::2"), g = V6("2001:2::3"), h = V6("2001:3::2"), i = V6("fe80::1");

	attach(&ts);
	cr_assert(passes(&a));
	cr_assert_not(passes(&b));
	cr_assert_not(passes(&c));
	cr_assert_not(passes(&d));
	cr_assert_not(passes(&e));
	cr_assert(passes(&f));
	cr_assert(passes(&g), "IPv6 is filtered by the first 32 bits only");
	cr_assert_not(passes(&h));
	cr_assert_not(passes(&i));
	a.proto = IPPROTO_UDP; /* the filter looks at addresses only */
	cr_assert(passes(&a));
}

Test(ct_filter, anything_unexpected_passes, .init = filter_setup, .fini = filter_teardown)
{
	struct spec s = V4("198.18.0.3");
	struct nlmsghdr *nlh;

	attach(&ts);
	s.msg_type = IPCTNL_MSG_CT_DELETE;
	cr_assert(passes(&s), "another message type");
	s.msg_type = 0;
	s.no_orig = true;
	cr_assert(passes(&s), "reply tuple first");
	s.no_orig = false;
	s.v4_len16 = true;
	cr_assert(passes(&s), "odd address length");
	s.v4_len16 = false;
	s.no_ip = true;
	cr_assert(passes(&s), "no ip nest");
	s.no_ip = false;
	nlh = build(&s);
	nlh->nlmsg_len = 40;
	cr_assert(passes_len(nlh, 40), "short message");
	cr_assert_not(passes(&s), "sanity: the intact event is dropped");
	nlh = build(&s);
	nlh->nlmsg_type = NLMSG_ERROR;
	cr_assert(passes_len(nlh, nlh->nlmsg_len), "not an event");
}

Test(ct_filter, empty_set_drops_every_event, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set none = { 0 };
	struct spec a = V4("198.18.0.2"), b = V6("2001:2::2");

	attach(&none);
	cr_assert_not(passes(&a));
	cr_assert_not(passes(&b));
}

Test(ct_filter, randomized_v4_exact, .init = filter_setup, .fini = filter_teardown)
{
	static char dst[64];
	struct target_set r = { 0 };
	struct addr_range rg[8];
	unsigned seed = 99, k;

	/* sorted ranges (as targets_build makes them), with edges at the
	 * bottom and top of the space and around the sign bit */
	const uint32_t edges[8][2] = { { 0, 0 },
				       { 0x0a000000u, 0x0affffffu },
				       { 0x7fffffffu, 0x80000000u },
				       { 0xc6120000u, 0xc61200ffu },
				       { 0xc6120102u, 0xc6120102u },
				       { 0xc6120200u, 0xc612ffffu },
				       { 0xe0000000u, 0xe0000001u },
				       { 0xfffffff0u, 0xffffffffu } };
	for (k = 0; k < 8; k++) {
		uint32_t lo = htonl(edges[k][0]), hi = htonl(edges[k][1]);

		memset(&rg[k], 0, sizeof(rg[k]));
		rg[k].family = AF_INET;
		memcpy(rg[k].lo, &lo, 4);
		memcpy(rg[k].hi, &hi, 4);
	}
	r.v4 = rg;
	r.n_v4 = 8;
	attach(&r);
	for (k = 0; k < 3000; k++) {
		uint32_t a = k < 16 ? edges[k / 2][k % 2] + (k & 1 ? 1 : (uint32_t)-1)
				    : (uint32_t)rand_r(&seed) << 16 ^ (uint32_t)rand_r(&seed);
		uint32_t be = htonl(a);
		struct spec s = V4(dst);

		if (k % 3 == 0) /* near a range */
			a = edges[rand_r(&seed) % 8][rand_r(&seed) % 2] + (uint32_t)(rand_r(&seed) % 5) - 2;
		be = htonl(a);
		cr_assert_not_null(inet_ntop(AF_INET, &be, dst, sizeof(dst)));
		cr_assert_eq(passes(&s), target_set_contains(&r, AF_INET, &be), "%s", dst);
	}
}

/* ---- many ranges: a binary search, coarsened past the budget ---------- */

static void v4_range(struct addr_range *r, uint32_t lo, uint32_t hi)
{
	uint32_t l = htonl(lo), h = htonl(hi);

	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	memcpy(r->lo, &l, 4);
	memcpy(r->hi, &h, 4);
}

static void v6_range(struct addr_range *r, uint32_t w0, uint32_t tail_lo, uint32_t tail_hi)
{
	uint32_t a = htonl(w0), l = htonl(tail_lo), h = htonl(tail_hi);

	memset(r, 0, sizeof(*r));
	r->family = AF_INET6;
	memcpy(r->lo, &a, 4);
	memcpy(r->hi, &a, 4);
	memcpy(r->lo + 12, &l, 4);
	memcpy(r->hi + 12, &h, 4);
}

static uint32_t rnd32(unsigned *seed)
{
	return (uint32_t)rand_r(seed) << 16 ^ (uint32_t)rand_r(seed);
}

/* n sorted, disjoint IPv4 ranges of 1 to 16 addresses starting at base,
 * gaps of 1 to maxgap addresses (fixed seed) */
static void gen_v4(struct addr_range *r, size_t n, uint32_t base, uint32_t maxgap, unsigned seed)
{
	uint64_t at = base;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t len = 1 + (uint32_t)rand_r(&seed) % 16;

		cr_assert_leq(at + len - 1, UINT32_MAX, "range %zu past the end of the space", i);
		v4_range(&r[i], (uint32_t)at, (uint32_t)(at + len - 1));
		at += len + 1 + (uint32_t)rand_r(&seed) % maxgap;
	}
}

static bool passes_v4(uint32_t a)
{
	static char dst[INET_ADDRSTRLEN];
	struct spec s = V4(dst);
	uint32_t be = htonl(a);

	cr_assert_not_null(inet_ntop(AF_INET, &be, dst, sizeof(dst)));
	return passes(&s);
}

static bool passes_v6(const uint8_t *a)
{
	static char dst[INET6_ADDRSTRLEN];
	struct spec s = V6(dst);

	cr_assert_not_null(inet_ntop(AF_INET6, a, dst, sizeof(dst)));
	return passes(&s);
}

static uint32_t word_at(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return ntohl(v);
}

/* every range's edges and a point inside pass */
static void expect_v4_targets_pass(const struct addr_range *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t lo = word_at(r[i].lo), hi = word_at(r[i].hi);

		cr_assert(passes_v4(lo), "range %zu: its first address dropped", i);
		cr_assert(passes_v4(hi), "range %zu: its last address dropped", i);
		if (hi - lo > 1)
			cr_assert(passes_v4(lo + (hi - lo) / 2), "range %zu: inside dropped", i);
	}
}

#define MANY 100000
static struct addr_range many4[MANY + 2], many6[MANY + 2];

Test(ct_filter, many_v4_ranges_coarsened, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	unsigned seed = 18;
	size_t k;

	/* 100,000 ranges in 10.0.0.0/8 */
	gen_v4(many4, MANY, 0x0a000000u, 64, 1);
	cr_assert_lt(word_at(many4[MANY - 1].hi), 0x0b000000u);
	r.v4 = many4;
	r.n_v4 = MANY;
	attach_info(&r, &fi);
	cr_assert(fi.coarsened);
	cr_assert_eq(fi.targets_v4, MANY);
	cr_assert_eq(fi.held_v4, CTWATCH_FILTER_RANGES, "the whole budget to the only family");
	cr_assert_eq(fi.held_v6, 0);
	cr_assert_gt(fi.extra_v4, 0);
	cr_assert_lt(fi.extra_v4, 0x01000000u, "all inside 10.0.0.0/8");
	expect_v4_targets_pass(many4, MANY);
	/* far outside: below, above, the lab's non-target */
	cr_assert_not(passes_v4(0x09ffffffu));
	cr_assert_not(passes_v4(0x00000000u));
	cr_assert_not(passes_v4(0xc6120003u));
	cr_assert_not(passes_v4(0xffffffffu));
	cr_assert_not(passes_v4(word_at(many4[MANY - 1].hi) + 1 + 64), "past the last range and its gap");
	/* random addresses: a target is never dropped; a drop is never a target */
	for (k = 0; k < 20000; k++) {
		uint32_t a = k % 2 ? 0x0a000000u + rnd32(&seed) % 0x800000u : rnd32(&seed), be = htonl(a);
		bool in = target_set_contains(&r, AF_INET, &be);

		if (in)
			cr_assert(passes_v4(a), "target %08x dropped", a);
		else if (word_at(many4[0].lo) > a || a > word_at(many4[MANY - 1].hi))
			cr_assert_not(passes_v4(a), "%08x outside every coarsened range passed", a);
	}
}

/* All gaps equal: the ties are broken and exactly the budget is held */
Test(ct_filter, many_v4_equal_gaps, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	size_t i;

	for (i = 0; i < MANY; i++)
		v4_range(&many4[i], 0xc6120000u + 2 * (uint32_t)i, 0xc6120000u + 2 * (uint32_t)i);
	r.v4 = many4;
	r.n_v4 = MANY;
	attach_info(&r, &fi);
	cr_assert_eq(fi.held_v4, CTWATCH_FILTER_RANGES);
	cr_assert_eq(fi.extra_v4, MANY - CTWATCH_FILTER_RANGES, "one address per merged gap");
	expect_v4_targets_pass(many4, MANY);
	cr_assert_not(passes_v4(0xc6120000u - 1));
	cr_assert_not(passes_v4(0xc6120000u + 2 * MANY));
}

/* One range more than the budget: only the smallest gap is merged */
Test(ct_filter, one_over_budget_merges_the_smallest_gap, .init = filter_setup, .fini = filter_teardown)
{
	const size_t n = CTWATCH_FILTER_RANGES + 1, narrow = 500;
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	uint32_t at = 0x64400000u; /* 100.64.0.0 */
	size_t i;

	for (i = 0; i < n; i++) {
		v4_range(&many4[i], at, at);
		at += i == narrow ? 2 : 3; /* gaps of 2, one of 1 */
	}
	r.v4 = many4;
	r.n_v4 = n;
	attach_info(&r, &fi);
	cr_assert(fi.coarsened);
	cr_assert_eq(fi.held_v4, CTWATCH_FILTER_RANGES);
	cr_assert_eq(fi.extra_v4, 1);
	for (i = 0; i + 1 < n; i++) {
		uint32_t hi = word_at(many4[i].hi);

		cr_assert(passes_v4(hi));
		cr_assert_eq(passes_v4(hi + 1), i == narrow, "gap after range %zu", i);
	}
}

/* Within the budget the IPv4 verdict is exact: random ranges, random and
 * edge addresses, against the set's own membership test */
Test(ct_filter, randomized_exact_within_budget, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	unsigned seed = 4242;
	size_t k, n = CTWATCH_FILTER_RANGES;

	gen_v4(many4, n, 0x01000000u, 7000000, 2);
	cr_assert_gt(word_at(many4[n - 1].hi), 0x80000000u, "spread over the space");
	r.v4 = many4;
	r.n_v4 = n;
	attach_info(&r, &fi);
	cr_assert_not(fi.coarsened);
	cr_assert_eq(fi.extra_v4, 0);
	for (k = 0; k < 30000; k++) {
		uint32_t a, be;

		if (k % 2) {
			const struct addr_range *g = &many4[rand_r(&seed) % n];

			a = word_at(rand_r(&seed) % 2 ? g->lo : g->hi) + (uint32_t)(rand_r(&seed) % 5) - 2;
		} else {
			a = rnd32(&seed);
		}
		be = htonl(a);
		cr_assert_eq(passes_v4(a), target_set_contains(&r, AF_INET, &be), "%08x", a);
	}
}

/* Past the budget: never a target dropped, random sets of random sizes */
Test(ct_filter, randomized_superset_past_budget, .init = filter_setup, .fini = filter_teardown)
{
	static const size_t sizes[] = { 961, 2000, 30000 };
	unsigned seed = 77;
	size_t z, k;

	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct target_set r = { 0 };
		struct ctwatch_filter_info fi;
		size_t n = sizes[z];

		gen_v4(many4, n, 0x00000100u * (uint32_t)z, 0xffffffffu / (uint32_t)n / 2, (unsigned)z);
		r.v4 = many4;
		r.n_v4 = n;
		attach_info(&r, &fi);
		cr_assert_eq(fi.held_v4, CTWATCH_FILTER_RANGES);
		for (k = 0; k < 5000; k++) {
			const struct addr_range *g = &many4[rand_r(&seed) % n];
			uint32_t a = k % 2 ? word_at(g->lo) : word_at(g->hi), be = htonl(a);

			cr_assert(target_set_contains(&r, AF_INET, &be));
			cr_assert(passes_v4(a), "%zu ranges: target %08x dropped", n, a);
			a = rnd32(&seed);
			be = htonl(a);
			if (target_set_contains(&r, AF_INET, &be))
				cr_assert(passes_v4(a), "%zu ranges: target %08x dropped", n, a);
		}
		close(sv[0]);
		close(sv[1]);
		cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	}
}

Test(ct_filter, many_v6_ranges_coarsened, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	uint8_t a[16];
	size_t i;

	/* 100,000 ranges, 2 per first word: 50,000 distinct /32s in 2001::/16 */
	for (i = 0; i < MANY; i++)
		v6_range(&many6[i], 0x20010000u + 3 * (uint32_t)(i / 2), (uint32_t)(i % 2) * 1000, (uint32_t)(i % 2) * 1000 + 9);
	r.v6 = many6;
	r.n_v6 = MANY;
	attach_info(&r, &fi);
	cr_assert(fi.coarsened);
	cr_assert_eq(fi.targets_v6, MANY);
	cr_assert_eq(fi.words_v6, MANY / 2);
	cr_assert_eq(fi.held_v6, CTWATCH_FILTER_RANGES);
	cr_assert_eq(fi.extra_v6, 2 * (MANY / 2 - CTWATCH_FILTER_RANGES), "/32 prefixes in merged gaps");
	for (i = 0; i < MANY; i++) {
		memcpy(a, many6[i].lo, 16);
		cr_assert(passes_v6(a), "v6 range %zu: first address dropped", i);
		memcpy(a, many6[i].hi, 16);
		cr_assert(passes_v6(a), "v6 range %zu: last address dropped", i);
	}
	cr_assert_eq(inet_pton(AF_INET6, "2001:2::1", a), 1);
	cr_assert_not(passes_v6(a), "below the first range");
	cr_assert_eq(inet_pton(AF_INET6, "fe80::1", a), 1);
	cr_assert_not(passes_v6(a));
	cr_assert_eq(inet_pton(AF_INET6, "::", a), 1);
	cr_assert_not(passes_v6(a));
	cr_assert_eq(inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a), 1);
	cr_assert_not(passes_v6(a));
}

/* Both families past the budget: it is shared, the program still fits,
 * IPv4 and IPv6 targets all pass */
Test(ct_filter, many_both_families, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	size_t i;

	gen_v4(many4, MANY, 0x0a000000u, 64, 3);
	for (i = 0; i < MANY; i++)
		v6_range(&many6[i], 0x20010000u + 2 * (uint32_t)i, 0, 0xffffffffu);
	r.v4 = many4;
	r.n_v4 = MANY;
	r.v6 = many6;
	r.n_v6 = MANY;
	label_filter = true; /* the longest header */
	attach_info(&r, &fi);
	cr_assert_eq(fi.held_v4 + fi.held_v6, CTWATCH_FILTER_RANGES);
	cr_assert_eq(fi.held_v4, CTWATCH_FILTER_RANGES - CTWATCH_FILTER_RANGES / 2);
	for (i = 0; i < MANY; i += 7) {
		struct spec s4 = V4(""), s6 = V6("");
		char d4[INET_ADDRSTRLEN], d6[INET6_ADDRSTRLEN];

		cr_assert_not_null(inet_ntop(AF_INET, many4[i].hi, d4, sizeof(d4)));
		cr_assert_not_null(inet_ntop(AF_INET6, many6[i].hi, d6, sizeof(d6)));
		s4.dst = d4;
		s6.dst = d6;
		s4.label = s6.label = true;
		cr_assert(passes(&s4), "%s", d4);
		cr_assert(passes(&s6), "%s", d6);
		s4.label = false;
		cr_assert_not(passes(&s4), "the label check stays: %s", d4);
	}
}

/* Edge cases: 1 and 2 ranges, ranges touching 0.0.0.0 and 255.255.255.255,
 * with and without coarsening */
Test(ct_filter, edges, .init = filter_setup, .fini = filter_teardown)
{
	struct target_set r = { 0 };
	struct ctwatch_filter_info fi;
	size_t i;

	v4_range(&many4[0], 0, 0);
	r.v4 = many4;
	r.n_v4 = 1;
	attach(&r);
	cr_assert(passes_v4(0));
	cr_assert_not(passes_v4(1));
	cr_assert_not(passes_v4(0xffffffffu));

	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	v4_range(&many4[0], 0, 0x0000ffffu);
	v4_range(&many4[1], 0xffffff00u, 0xffffffffu);
	r.n_v4 = 2;
	attach(&r);
	cr_assert(passes_v4(0));
	cr_assert(passes_v4(0xffffu));
	cr_assert_not(passes_v4(0x10000u));
	cr_assert_not(passes_v4(0x80000000u));
	cr_assert_not(passes_v4(0xfffffeffu));
	cr_assert(passes_v4(0xffffff00u));
	cr_assert(passes_v4(0xffffffffu));

	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	/* the whole space in one range */
	v4_range(&many4[0], 0, 0xffffffffu);
	r.n_v4 = 1;
	attach(&r);
	cr_assert(passes_v4(0));
	cr_assert(passes_v4(0x7fffffffu));
	cr_assert(passes_v4(0xffffffffu));

	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	/* coarsened, with the first range at 0.0.0.0 and the last ending at
	 * 255.255.255.255: wide gaps near both ends are kept */
	v4_range(&many4[0], 0, 0);
	gen_v4(many4 + 1, MANY, 0x0a000000u, 64, 4);
	v4_range(&many4[MANY + 1], 0xffffffffu, 0xffffffffu);
	r.n_v4 = MANY + 2;
	attach_info(&r, &fi);
	cr_assert(fi.coarsened);
	cr_assert(passes_v4(0));
	cr_assert(passes_v4(0xffffffffu));
	cr_assert_not(passes_v4(1));
	cr_assert_not(passes_v4(0xfffffffeu));
	cr_assert_not(passes_v4(0xc6120003u));
	for (i = 1; i <= MANY; i += 97)
		cr_assert(passes_v4(word_at(many4[i].lo)));
}

/* The program's length: the tree, JA trampolines included, stays within
 * BPF_MAXINSNS for every size and split; max too small is -E2BIG */
Test(ct_filter, sizes)
{
	static struct sock_filter prog[CTWATCH_BPF_MAX];
	static const size_t counts[] = { 0, 1, 2, 255, 480, 481, 959, 960, 961, 5000, MANY };
	struct target_set big = { 0 };
	size_t i, j;
	int n, last = 0;

	gen_v4(many4, MANY, 0x0a000000u, 64, 5);
	for (i = 0; i < MANY; i++)
		v6_range(&many6[i], 0x20010000u + 2 * (uint32_t)i, 0, 0);
	big.v4 = many4;
	big.v6 = many6;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		for (j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
			struct ctwatch_filter_info fi;

			big.n_v4 = counts[i];
			big.n_v6 = counts[j];
			n = ctwatch_build_filter(&big, true, prog, CTWATCH_BPF_MAX, &fi);
			cr_assert_gt(n, 0, "%zu + %zu ranges", counts[i], counts[j]);
			cr_assert_leq(n, CTWATCH_BPF_MAX, "%zu + %zu ranges: %d instructions", counts[i], counts[j], n);
			cr_assert_leq(fi.held_v4 + fi.held_v6, CTWATCH_FILTER_RANGES);
			cr_assert_eq(fi.coarsened, counts[i] + counts[j] > CTWATCH_FILTER_RANGES);
			if (n > last)
				last = n;
		}
	}
	cr_log_info("longest program: %d instructions", last);
	big.n_v4 = MANY;
	big.n_v6 = 0;
	cr_assert_eq(ctwatch_build_filter(&big, false, prog, 10, NULL), -E2BIG);
}

/* A uid or cgroup scope: a NEW event passes only with the scope's label
 * (the table sets it on connections of sockets in scope), still only to
 * a target; anything that is not a NEW event passes as before. */
Test(ct_filter, label_required_with_an_owner_scope, .init = filter_setup, .fini = filter_teardown)
{
	struct spec a = V4("198.18.0.2"), b = V4("198.18.0.3"), c = V6("2001:2::2");

	label_filter = true;
	attach(&ts);
	cr_assert_not(passes(&a), "no labels: not from a socket in scope");
	a.label = true;
	cr_assert(passes(&a));
	b.label = true;
	cr_assert_not(passes(&b), "labelled, but not toward a target");
	c.label = true;
	cr_assert(passes(&c));
	c.label = false;
	c.other_label = true;
	cr_assert_not(passes(&c), "someone else's label");
	c.other_label = false;
	c.short_labels = true;
	cr_assert_not(passes(&c), "labels shorter than the bit's byte");
	a.msg_type = IPCTNL_MSG_CT_DELETE;
	a.label = false;
	cr_assert(passes(&a), "another message type");
}

Test(ct_parse, labels)
{
	struct spec s = V4("198.18.0.2");
	struct ct_flow f;

	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_expect_not(f.label);
	s.label = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_expect(f.label);
	s.label = false;
	s.other_label = true;
	cr_assert_eq(ct_parse_flow(build(&s), &f), 0);
	cr_expect_not(f.label);
	s.other_label = false;
	s.short_labels = true;
	cr_expect_eq(ct_parse_flow(build(&s), &f), -EINVAL, "labels of the wrong length");
}
