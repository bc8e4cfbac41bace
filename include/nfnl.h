/* SPDX-License-Identifier: MIT */
#ifndef OKX_NFNL_H
#define OKX_NFNL_H

/* Netfilter netlink transport: one long-lived NETLINK_NETFILTER socket
 * (NETLINK_EXT_ACK and NETLINK_CAP_ACK on) that sends nf_tables batches and
 * reads every acknowledgement, plus a growable batch buffer that encoders
 * fill without a socket (so they are unit-testable).
 *
 * Wire format of a batch, all in one sendmsg():
 *   NFNL_MSG_BATCH_BEGIN (seq S, res_id NFNL_SUBSYS_NFTABLES)
 *   message 1 (seq S+1, NLM_F_ACK) ... message n (seq S+n, NLM_F_ACK)
 *   NFNL_MSG_BATCH_END (seq S+n+1)
 * The kernel runs the whole batch as one transaction and queues one
 * NLMSG_ERROR per message (error 0 = ack) before sendmsg() returns. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nlmsghdr;
struct nfnl;

struct nfnl_msg {
	uint32_t seq;
	uint16_t type;   /* NFT_MSG_* */
	int quiet_err[2]; /* errors the caller handles itself: not logged */
	int err;         /* after nfnl_batch_send(): 0 or -errno from the kernel */
	bool acked;      /* an acknowledgement (or error) was received */
	char what[56];   /* "NEWSET okx_faultd/dst4", for messages */
};

struct nfnl_batch {
	char *buf;
	size_t len, cap;
	uint32_t begin_seq;
	uint32_t seq;          /* next sequence number to hand out */
	struct nfnl_msg *msgs; /* one per message between BEGIN and END */
	size_t n_msgs, cap_msgs;
	bool ended;
	int batch_err;         /* an error the kernel reported against BEGIN */
};

/* Start a batch: writes BATCH_BEGIN with sequence number first_seq.
 * Returns 0 or -ENOMEM. */
int nfnl_batch_init(struct nfnl_batch *b, uint32_t first_seq);
void nfnl_batch_free(struct nfnl_batch *b); /* accepts NULL and zeroed */

/* Room for one message of at most max bytes at the end of the batch; the
 * encoder builds the message there (libnftnl writes without bounds
 * checks, so max must be an upper bound). Returns the address or NULL
 * (ENOMEM). The pointer is valid until the next reserve. */
char *nfnl_batch_reserve(struct nfnl_batch *b, size_t max);

/* The sequence number for the next message. */
uint32_t nfnl_batch_seq(struct nfnl_batch *b);

/* Account the message just built at the reserved address. what describes
 * it in error messages. Returns 0, -EINVAL (no message there, or larger
 * than reserved) or -ENOMEM. */
int nfnl_batch_add(struct nfnl_batch *b, size_t reserved, const char *what);

/* Do not log err when the kernel returns it for the last added message:
 * the caller handles it (e.g. -EEXIST on table creation). Up to two
 * errors per message; returns 0 or -ENOSPC. */
int nfnl_batch_quiet(struct nfnl_batch *b, int err);

/* Write BATCH_END. Returns 0 or -ENOMEM. */
int nfnl_batch_end(struct nfnl_batch *b);

/* The message of the batch with this sequence number, or NULL. */
struct nfnl_msg *nfnl_batch_msg(struct nfnl_batch *b, uint32_t seq);

/* Open and bind the socket, turn on extended acks and capped acks
 * (setsockopt checked), size the receive buffer for many acks.
 * Returns 0 or -errno. */
int nfnl_open(struct nfnl **out);
void nfnl_close(struct nfnl *n); /* accepts NULL */

uint32_t nfnl_portid(const struct nfnl *n);
/* Next free sequence number; nfnl_batch_send()/nfnl_request() advance it. */
uint32_t nfnl_seq(const struct nfnl *n);

/* Send an ended batch in one sendmsg (growing the send buffer as needed),
 * then drain every acknowledgement: each message's err/acked is filled,
 * each kernel error is logged with the message that caused it and the
 * kernel's extended-ack text (unless it is one of the message's quiet_err).
 * Returns 0 when every message was acknowledged without error, the first
 * error (-errno) otherwise, -EPROTO when acknowledgements are missing. */
int nfnl_batch_send(struct nfnl *n, struct nfnl_batch *b);

/* Called for each non-ack reply to a request. Returns 0 or -errno. */
typedef int (*nfnl_data_cb)(const struct nlmsghdr *nlh, void *data);

/* Send buf (one or more non-batch requests, each with NLM_F_ACK and
 * consecutive sequence numbers from nfnl_seq(n)), pass every reply to cb
 * and drain every ack. Returns 0 or the first error (-errno). */
int nfnl_request(struct nfnl *n, const void *buf, size_t len, unsigned n_req, nfnl_data_cb cb, void *data);

/* Receive one datagram on a netlink socket (recvmsg() flags, e.g.
 * MSG_DONTWAIT), believing only the kernel. Returns its length, or
 * -ESRCH when a process sent it (sender port id not 0; dropped), -EMSGSIZE
 * when it was longer than len (MSG_TRUNC: the rest is lost), or recvmsg's
 * -errno (-EAGAIN, -ENOBUFS, -EINTR ...). */
ssize_t nfnl_recv(int fd, void *buf, size_t len, int flags);

/* One NLMSG_ERROR message, decoded. */
struct nfnl_ack {
	uint32_t seq;
	int err;          /* 0 (an ack) or -errno */
	const char *kmsg; /* NETLINK_EXT_ACK text (points into the message), or NULL */
	uint32_t offs;    /* offset of the offending attribute, 0 = none */
};

/* Decode an NLMSG_ERROR whose nlmsg_len the caller has checked against the
 * datagram (mnl_nlmsg_ok). Returns 0, or -EPROTO when it is not an
 * NLMSG_ERROR, is too short for struct nlmsgerr or carries an error that
 * is not 0 or -errno. Malformed extended-ack attributes are ignored: they
 * never hide the error code. */
int nfnl_ack_parse(const struct nlmsghdr *nlh, struct nfnl_ack *ack);

#endif
