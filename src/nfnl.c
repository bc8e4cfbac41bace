/* SPDX-License-Identifier: MIT */
/* Netfilter netlink transport: batches out, every acknowledgement in. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "log.h"
#include "nfnl.h"

/* The kernel queues every ack before sendmsg() returns; this only bounds
 * the wait when acks went missing (receive buffer overrun). */
#define ACK_WAIT_MS 2000
#define RCVBUF_BYTES (8u << 20)
#define BATCH_MSG_MAX 256 /* BEGIN/END with room to spare */
#define RECV_BUF 16384   /* one ack per datagram; MNL_SOCKET_BUFFER_SIZE is not constant */

struct nfnl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int sndbuf; /* as reported by SO_SNDBUF (the kernel doubles requests) */
};

static int batch_grow(struct nfnl_batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 16384;
	char *p;

	if (b->len + need <= b->cap)
		return 0;
	while (cap < b->len + need)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	/* libnftnl builds headers in place and expects zeroed padding */
	memset(p + b->cap, 0, cap - b->cap);
	b->buf = p;
	b->cap = cap;
	return 0;
}

int nfnl_batch_init(struct nfnl_batch *b, uint32_t first_seq)
{
	struct nlmsghdr *nlh;
	int ret;

	memset(b, 0, sizeof(*b));
	ret = batch_grow(b, BATCH_MSG_MAX);
	if (ret < 0)
		return ret;
	b->begin_seq = first_seq;
	b->seq = first_seq + 1;
	nlh = nftnl_batch_begin(b->buf, first_seq);
	b->len = nlh->nlmsg_len;
	return 0;
}

void nfnl_batch_free(struct nfnl_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

char *nfnl_batch_reserve(struct nfnl_batch *b, size_t max)
{
	if (b->ended || batch_grow(b, MNL_ALIGN(max) + BATCH_MSG_MAX) < 0)
		return NULL;
	memset(b->buf + b->len, 0, MNL_ALIGN(max));
	return b->buf + b->len;
}

uint32_t nfnl_batch_seq(struct nfnl_batch *b)
{
	return b->seq;
}

int nfnl_batch_add(struct nfnl_batch *b, size_t reserved, const char *what)
{
	struct nlmsghdr nlh;
	struct nfnl_msg *m;

	if (b->ended)
		return -EINVAL;
	/* a copy: b->buf is a char buffer, not declared as headers */
	memcpy(&nlh, b->buf + b->len, sizeof(nlh));
	if (nlh.nlmsg_len < sizeof(nlh) || nlh.nlmsg_len > reserved || nlh.nlmsg_seq != b->seq)
		return -EINVAL;
	if (b->n_msgs == b->cap_msgs) {
		size_t cap = b->cap_msgs ? 2 * b->cap_msgs : 32;
		struct nfnl_msg *p = realloc(b->msgs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		b->msgs = p;
		b->cap_msgs = cap;
	}
	m = &b->msgs[b->n_msgs++];
	memset(m, 0, sizeof(*m));
	m->seq = nlh.nlmsg_seq;
	m->type = nlh.nlmsg_type & 0xff;
	snprintf(m->what, sizeof(m->what), "%s", what);
	b->len += MNL_ALIGN(nlh.nlmsg_len);
	b->seq++;
	return 0;
}

int nfnl_batch_quiet(struct nfnl_batch *b, int err)
{
	struct nfnl_msg *m;
	size_t i;

	if (!b->n_msgs)
		return -EINVAL;
	m = &b->msgs[b->n_msgs - 1];
	for (i = 0; i < 2; i++) {
		if (!m->quiet_err[i]) {
			m->quiet_err[i] = err;
			return 0;
		}
	}
	return -ENOSPC;
}

int nfnl_batch_end(struct nfnl_batch *b)
{
	struct nlmsghdr *nlh;

	if (b->ended)
		return -EINVAL;
	if (batch_grow(b, BATCH_MSG_MAX) < 0)
		return -ENOMEM;
	nlh = nftnl_batch_end(b->buf + b->len, b->seq++);
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	b->ended = true;
	return 0;
}

struct nfnl_msg *nfnl_batch_msg(struct nfnl_batch *b, uint32_t seq)
{
	uint32_t d;

	/* messages carry consecutive sequence numbers (unsigned difference:
	 * correct across wrap-around) */
	if (!b->n_msgs)
		return NULL;
	d = seq - b->msgs[0].seq;
	return d < b->n_msgs ? &b->msgs[d] : NULL;
}

static int set_opt(struct nfnl *n, int level, int opt, int val, const char *name)
{
	if (setsockopt(mnl_socket_get_fd(n->nl), level, opt, &val, sizeof(val)) < 0) {
		int err = -errno;

		log_warn("netlink: setsockopt %s", name);
		return err;
	}
	return 0;
}

static int get_sndbuf(struct nfnl *n)
{
	socklen_t len = sizeof(n->sndbuf);

	if (getsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_SNDBUF, &n->sndbuf, &len) < 0) {
		int err = -errno;

		log_warn("netlink: getsockopt SO_SNDBUF");
		return err;
	}
	return 0;
}

int nfnl_open(struct nfnl **out)
{
	struct nfnl *n;
	int ret;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl) {
		ret = -errno;
		log_warn("netlink: cannot open NETLINK_NETFILTER socket");
		goto fail;
	}
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		log_warn("netlink: bind");
		goto fail;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	ret = set_opt(n, SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
	if (ret < 0)
		goto fail;
	/* errors echo only the header of the failed message, not 64 KiB of
	 * set elements */
	ret = set_opt(n, SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
	if (ret < 0)
		goto fail;
	/* a large batch gets one ack per message, all queued at once */
	if (set_opt(n, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES, "SO_RCVBUFFORCE") < 0) {
		ret = set_opt(n, SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES, "SO_RCVBUF");
		if (ret < 0)
			goto fail;
	}
	ret = get_sndbuf(n);
	if (ret < 0)
		goto fail;
	n->seq = (uint32_t)time(NULL);
	*out = n;
	return 0;
fail:
	nfnl_close(n);
	return ret;
}

void nfnl_close(struct nfnl *n)
{
	if (!n)
		return;
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
}

uint32_t nfnl_portid(const struct nfnl *n)
{
	return n->portid;
}

uint32_t nfnl_seq(const struct nfnl *n)
{
	return n->seq;
}

static int ensure_sndbuf(struct nfnl *n, size_t len)
{
	int ret;

	/* the kernel refuses a message larger than sk_sndbuf - 32 */
	if (len + 4096 <= (size_t)n->sndbuf)
		return 0;
	if (len > (size_t)(INT32_MAX / 2))
		return -EMSGSIZE;
	if (set_opt(n, SOL_SOCKET, SO_SNDBUFFORCE, (int)len + 4096, "SO_SNDBUFFORCE") < 0) {
		ret = set_opt(n, SOL_SOCKET, SO_SNDBUF, (int)len + 4096, "SO_SNDBUF");
		if (ret < 0)
			return ret;
	}
	ret = get_sndbuf(n);
	if (ret < 0)
		return ret;
	return len + 32 <= (size_t)n->sndbuf ? 0 : -EMSGSIZE;
}

static int send_all(struct nfnl *n, const void *buf, size_t len)
{
	/* netlink to the kernel is all or nothing: the message was processed
	 * iff sendto() returned its length */
	while (mnl_socket_sendto(n->nl, buf, len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int ext_ack_cb(const struct nlattr *a, void *data)
{
	struct nfnl_ack *ack = data;

	switch (mnl_attr_get_type(a)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			ack->kmsg = mnl_attr_get_str(a);
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			ack->offs = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR payload: struct nlmsgerr (error, then the request's header),
 * the rest of the request unless NLM_F_CAPPED (NETLINK_CAP_ACK), then with
 * NLM_F_ACK_TLVS the extended-ack attributes (NETLINK_EXT_ACK). */
int nfnl_ack_parse(const struct nlmsghdr *nlh, struct nfnl_ack *ack)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	memset(ack, 0, sizeof(*ack));
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EPROTO;
	if (e->error > 0 || e->error < -4095)
		return -EPROTO;
	ack->seq = nlh->nlmsg_seq;
	ack->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		/* the echoed request must fit in this message, header and all */
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr) ||
		    e->msg.nlmsg_len - sizeof(struct nlmsghdr) > nlh->nlmsg_len - mnl_nlmsg_size(off))
			return 0;
		off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	}
	if (mnl_nlmsg_size(off) >= nlh->nlmsg_len)
		return 0;
	/* a malformed extended ack does not hide the error */
	(void)mnl_attr_parse(nlh, (unsigned)off, ext_ack_cb, ack);
	return 0;
}

static void log_kernel_error(const char *what, const struct nfnl_ack *ack, bool first)
{
	char detail[300] = "";

	if (ack->kmsg)
		snprintf(detail, sizeof(detail), " (kernel: %s)", ack->kmsg);
	else if (ack->offs)
		snprintf(detail, sizeof(detail), " (kernel: bad attribute at offset %u)", ack->offs);
	if (first)
		log_warnx("nftables: %s: %s%s", what, strerror(-ack->err), detail);
	else
		log_debug("nftables: %s: %s%s (after the first error)", what, strerror(-ack->err), detail);
}

static int batch_ack(struct nfnl_batch *b, const struct nfnl_ack *ack, int *first_err)
{
	struct nfnl_msg *m = nfnl_batch_msg(b, ack->seq);

	if (!m) {
		if (ack->seq == b->begin_seq && ack->err) {
			/* commit failed as a whole: reported against BEGIN */
			b->batch_err = ack->err;
			log_kernel_error("batch", ack, *first_err == 0);
			if (!*first_err)
				*first_err = ack->err;
			return 0;
		}
		log_debug("netlink: ack for unknown sequence %u", ack->seq);
		return 0;
	}
	if (m->acked)
		log_debug("netlink: second ack for %s", m->what);
	m->acked = true;
	m->err = ack->err;
	if (ack->err) {
		if (ack->err != m->quiet_err[0] && ack->err != m->quiet_err[1])
			log_kernel_error(m->what, ack, *first_err == 0);
		if (!*first_err)
			*first_err = ack->err;
	}
	return 0;
}

ssize_t nfnl_recv(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl sa = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = recvmsg(fd, &msg, flags);

	if (r < 0)
		return -errno;
	/* a process with CAP_NET_ADMIN may unicast to our port id: only
	 * port id 0 is the kernel */
	if (msg.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
		return -ESRCH;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return r;
}

/* Read one datagram from the kernel; 0 when nothing is queued (after
 * waiting wait_ms). */
static ssize_t recv_one(struct nfnl *n, char *buf, size_t len, int wait_ms)
{
	int fd = mnl_socket_get_fd(n->nl);
	ssize_t r;

	for (;;) {
		if (wait_ms > 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int pr = poll(&pfd, 1, wait_ms);

			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return -errno;
			if (pr == 0)
				return 0;
		}
		r = nfnl_recv(fd, buf, len, MSG_DONTWAIT);
		if (r > 0)
			return r;
		if (r == 0)
			return -EPROTO;
		if (r == -EINTR)
			continue;
		if (r == -ESRCH) {
			log_debug("netlink: datagram from a process, not the kernel, dropped");
			continue;
		}
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			return 0;
		return r;
	}
}

static bool batch_all_acked(const struct nfnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->n_msgs; i++)
		if (!b->msgs[i].acked)
			return false;
	return true;
}

int nfnl_batch_send(struct nfnl *n, struct nfnl_batch *b)
{
	char buf[RECV_BUF] __attribute__((aligned(8)));
	int first_err = 0, ret = 0;
	int lost = 0; /* -ENOBUFS or -EMSGSIZE: acks were lost */

	if (!b->ended)
		return -EINVAL;
	ret = ensure_sndbuf(n, b->len);
	if (ret < 0) {
		log_warnx("netlink: batch of %zu bytes: %s", b->len, strerror(-ret));
		return ret;
	}
	n->seq = b->seq;
	ret = send_all(n, b->buf, b->len);
	if (ret < 0) {
		log_warnx("netlink: send batch of %zu messages: %s", b->n_msgs, strerror(-ret));
		return ret;
	}
	for (;;) {
		bool done = first_err || lost || batch_all_acked(b);
		ssize_t r = recv_one(n, buf, sizeof(buf), done ? 0 : ACK_WAIT_MS);
		const struct nlmsghdr *nlh;
		int len;

		if (r == -ENOBUFS) {
			/* acks were dropped: the batch still ran, but we cannot
			 * tell how each message fared */
			log_warnx("netlink: receive buffer overrun while reading acks");
			lost = (int)r;
			continue;
		}
		if (r == -EMSGSIZE) {
			/* the rest of the datagram, and the acks in it, are gone */
			log_warnx("netlink: truncated datagram while reading acks");
			lost = (int)r;
			continue;
		}
		if (r < 0) {
			log_warnx("netlink: receive acks: %s", strerror((int)-r));
			return (int)r;
		}
		if (r == 0)
			break;
		len = (int)r;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			struct nfnl_ack ack;

			if (nlh->nlmsg_type != NLMSG_ERROR) {
				log_debug("netlink: unexpected message type %u in batch reply", nlh->nlmsg_type);
				continue;
			}
			if (nfnl_ack_parse(nlh, &ack) < 0)
				return -EPROTO;
			batch_ack(b, &ack, &first_err);
		}
	}
	if (first_err)
		return first_err;
	if (lost)
		return lost;
	if (!batch_all_acked(b)) {
		log_warnx("netlink: the kernel did not acknowledge every message of the batch");
		return -EPROTO;
	}
	return 0;
}

int nfnl_request(struct nfnl *n, const void *req, size_t req_len, unsigned n_req, nfnl_data_cb cb, void *data)
{
	char buf[RECV_BUF] __attribute__((aligned(8)));
	uint32_t first = n->seq;
	unsigned acked = 0;
	int first_err = 0;

	n->seq += n_req;
	first_err = send_all(n, req, req_len);
	if (first_err < 0) {
		log_warnx("netlink: send request: %s", strerror(-first_err));
		return first_err;
	}
	while (acked < n_req) {
		ssize_t r = recv_one(n, buf, sizeof(buf), ACK_WAIT_MS);
		const struct nlmsghdr *nlh;
		int len;

		if (r < 0) {
			log_warnx("netlink: receive reply: %s", strerror((int)-r));
			return (int)r;
		}
		if (r == 0) {
			log_warnx("netlink: no reply from the kernel");
			return -ETIMEDOUT;
		}
		len = (int)r;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			struct nfnl_ack ack;
			int ret;

			if (nlh->nlmsg_seq - first >= n_req) {
				log_debug("netlink: reply for unknown sequence %u", nlh->nlmsg_seq);
				continue;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR) {
				ret = cb ? cb(nlh, data) : 0;
				if (ret < 0 && !first_err)
					first_err = ret;
				continue;
			}
			if (nfnl_ack_parse(nlh, &ack) < 0)
				return -EPROTO;
			acked++;
			if (ack.err && !first_err) {
				first_err = ack.err;
				log_kernel_error("request", &ack, true);
			}
		}
	}
	return first_err;
}
