/* SPDX-License-Identifier: MIT */
/* The netlink receive checks of the nfnl module: NLMSG_ERROR decoding over
 * messages built as the kernel's netlink_ack() builds them, well formed and
 * hostile (each parsed from a heap copy of exactly its length, so ASan
 * sees any read past it); nfnl_recv() refusing datagrams that are not the
 * kernel's and reporting truncation. No privileges needed: NETLINK_ROUTE
 * acks a NOOP for anyone, NETLINK_USERSOCK lets processes talk. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfnl.h"

static uint32_t msgbuf[1024];

/* An NLMSG_ERROR for a request of req_payload bytes (echoed unless
 * capped), with the extended-ack attributes when kmsg or offs is given. */
static struct nlmsghdr *put_err(int err, uint32_t seq, bool capped, size_t req_payload, const char *kmsg,
				uint32_t offs)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	e->msg.nlmsg_len = (uint32_t)(sizeof(struct nlmsghdr) + req_payload);
	e->msg.nlmsg_type = 0x0a00;
	e->msg.nlmsg_seq = seq;
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	else
		(void)mnl_nlmsg_put_extra_header(nlh, req_payload);
	if (kmsg || offs)
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (kmsg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, kmsg);
	if (offs)
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, offs);
	return nlh;
}

/* Parse a heap copy of exactly nlmsg_len bytes; the copy is left in *copy
 * because ack.kmsg points into it. */
static int parse_copy(const struct nlmsghdr *nlh, struct nfnl_ack *ack, void **copy)
{
	*copy = malloc(nlh->nlmsg_len);
	cr_assert_not_null(*copy);
	memcpy(*copy, nlh, nlh->nlmsg_len);
	return nfnl_ack_parse(*copy, ack);
}

Test(ack, plain_ack)
{
	struct nfnl_ack a;
	void *c;

	cr_assert_eq(parse_copy(put_err(0, 42, true, 100, NULL, 0), &a, &c), 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.seq, 42);
	cr_assert_null(a.kmsg);
	free(c);
}

Test(ack, capped_error_with_extended_ack)
{
	struct nfnl_ack a;
	void *c;

	cr_assert_eq(parse_copy(put_err(-ENOENT, 7, true, 5000, "No such table", 24), &a, &c), 0);
	cr_assert_eq(a.err, -ENOENT);
	cr_assert_str_eq(a.kmsg, "No such table");
	cr_assert_eq(a.offs, 24);
	free(c);
}

Test(ack, full_echo_then_extended_ack)
{
	struct nfnl_ack a;
	void *c;

	/* an unaligned request length: the attributes start after padding */
	cr_assert_eq(parse_copy(put_err(-EINVAL, 9, false, 37, "bad set", 0), &a, &c), 0);
	cr_assert_eq(a.err, -EINVAL);
	cr_assert_str_eq(a.kmsg, "bad set");
	free(c);
}

/* An echoed request length that the message cannot hold, or shorter than
 * a header (the subtraction would wrap, and the attributes be looked for
 * inside the echo, where the request can plant one): the error is kept,
 * the attributes are not searched for. */
Test(ack, echoed_length_out_of_bounds)
{
	static const uint32_t bad[] = { 0, 4, 13, 14, 15, 4096, 0xfffffffcu, 0xffffffffu };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nlmsghdr *nlh = put_err(-EPERM, 3, false, 12, "real", 0);
		struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
		struct nlattr *planted = mnl_nlmsg_get_payload_offset(nlh, sizeof(*e));
		struct nfnl_ack a;
		void *c;

		planted->nla_type = NLMSGERR_ATTR_MSG;
		planted->nla_len = MNL_ATTR_HDRLEN + 5;
		memcpy(mnl_attr_get_payload(planted), "evil", 5);
		cr_assert_eq(parse_copy(nlh, &a, &c), 0, "echoed length %u", bad[i]);
		cr_assert_str_eq(a.kmsg, "real", "the planted attribute is echo");
		free(c);

		e->msg.nlmsg_len = bad[i];
		cr_assert_eq(parse_copy(nlh, &a, &c), 0, "echoed length %u", bad[i]);
		cr_assert_eq(a.err, -EPERM);
		cr_assert_null(a.kmsg, "echoed length %u: %s", bad[i], a.kmsg);
		free(c);
	}
}

Test(ack, unterminated_message_ignored)
{
	struct nlmsghdr *nlh = put_err(-EEXIST, 5, true, 0, "table exists", 0);
	struct nlattr *at = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nlmsgerr));
	struct nfnl_ack a;
	void *c;

	memset(mnl_attr_get_payload(at), 'A', mnl_attr_get_payload_len(at)); /* no NUL */
	cr_assert_eq(parse_copy(nlh, &a, &c), 0);
	cr_assert_eq(a.err, -EEXIST);
	cr_assert_null(a.kmsg);
	free(c);
}

Test(ack, attribute_longer_than_message)
{
	struct nlmsghdr *nlh = put_err(-EBUSY, 5, true, 0, "busy", 0);
	struct nlattr *at = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nlmsgerr));
	struct nfnl_ack a;
	void *c;

	at->nla_len = 200;
	cr_assert_eq(parse_copy(nlh, &a, &c), 0);
	cr_assert_eq(a.err, -EBUSY);
	cr_assert_null(a.kmsg);
	free(c);
}

Test(ack, refused)
{
	struct nlmsghdr *nlh;
	struct nfnl_ack a;
	void *c;

	nlh = put_err(0, 1, true, 0, NULL, 0);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr) - 1;
	cr_assert_eq(parse_copy(nlh, &a, &c), -EPROTO, "shorter than struct nlmsgerr");
	free(c);
	nlh = put_err(0, 1, true, 0, NULL, 0);
	nlh->nlmsg_type = NLMSG_DONE;
	cr_assert_eq(parse_copy(nlh, &a, &c), -EPROTO, "not an NLMSG_ERROR");
	free(c);
	cr_assert_eq(parse_copy(put_err(EPERM, 1, true, 0, NULL, 0), &a, &c), -EPROTO, "positive error");
	free(c);
	cr_assert_eq(parse_copy(put_err(-5000, 1, true, 0, NULL, 0), &a, &c), -EPROTO, "error beyond errno");
	free(c);
}

/* ---- nfnl_recv ---- */

static int nl_socket(int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);

	cr_assert_geq(fd, 0, "netlink socket %d: %s", proto, strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static uint32_t nl_portid(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return sa.nl_pid;
}

/* NETLINK_ROUTE acknowledges an NLMSG_NOOP request with NLM_F_ACK */
static void send_noop(int fd, uint32_t seq)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr req = { .nlmsg_len = sizeof(req), .nlmsg_type = NLMSG_NOOP,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = seq };

	cr_assert_eq(sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)), (ssize_t)sizeof(req));
}

Test(recv, kernel_ack_accepted)
{
	int fd = nl_socket(NETLINK_ROUTE);
	struct nfnl_ack a;
	ssize_t n;

	send_noop(fd, 77);
	n = nfnl_recv(fd, msgbuf, sizeof(msgbuf), 0);
	cr_assert_gt(n, 0, "nfnl_recv: %zd", n);
	cr_assert(mnl_nlmsg_ok((struct nlmsghdr *)msgbuf, (int)n));
	cr_assert_eq(nfnl_ack_parse((struct nlmsghdr *)msgbuf, &a), 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.seq, 77);
	cr_assert_eq(nfnl_recv(fd, msgbuf, sizeof(msgbuf), MSG_DONTWAIT), -EAGAIN);
	close(fd);
}

Test(recv, truncated_datagram_reported)
{
	int fd = nl_socket(NETLINK_ROUTE);

	send_noop(fd, 78);
	/* the ack is 36 bytes: 16 do not hold it */
	cr_assert_eq(nfnl_recv(fd, msgbuf, 16, 0), -EMSGSIZE);
	cr_assert_eq(nfnl_recv(fd, msgbuf, sizeof(msgbuf), MSG_DONTWAIT), -EAGAIN, "the rest is gone");
	close(fd);
}

Test(recv, process_sender_refused)
{
	int a = nl_socket(NETLINK_USERSOCK), b = nl_socket(NETLINK_USERSOCK);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = nl_portid(b) };
	struct nlmsghdr fake = { .nlmsg_len = sizeof(struct nlmsghdr) + sizeof(struct nlmsgerr),
				 .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 1 };
	char m[sizeof(struct nlmsghdr) + sizeof(struct nlmsgerr)] = { 0 };

	memcpy(m, &fake, sizeof(fake));
	cr_assert_eq(sendto(a, m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(m), "%s",
		     strerror(errno));
	cr_assert_eq(nfnl_recv(b, msgbuf, sizeof(msgbuf), 0), -ESRCH);
	close(a);
	close(b);
}

Test(recv, not_netlink_refused)
{
	int sv[2];
	char m[20] = { 0 };

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(send(sv[0], m, sizeof(m), 0), (ssize_t)sizeof(m));
	cr_assert_eq(nfnl_recv(sv[1], msgbuf, sizeof(msgbuf), 0), -ESRCH);
	close(sv[0]);
	close(sv[1]);
}
