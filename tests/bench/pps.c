/* SPDX-License-Identifier: MIT */
/*
 * pps — the pieces of tests/bench/pps.sh: the per-packet cost of the table
 * for traffic to an address that is not a target.
 *
 *   pps table N wait|live SCOPE        install the table through the engine
 *                                      with N target prefixes, print "ready",
 *                                      hold it until killed (the table is
 *                                      owned: it goes with the process)
 *   pps udp-recv ADDR PORT             count datagrams; print "pkts N secs S pps P"
 *   pps udp-send ADDR PORT SECS        18-byte datagrams by sendmmsg for SECS;
 *                                      print "sent N pps P cpu_ns_per_pkt C"
 *   pps tcp-recv ADDR PORT             one connection, read to EOF; print
 *                                      "bytes N secs S gbps G"
 *   pps tcp-send ADDR PORT SECS        write for SECS, then close
 *
 * Targets (N/2 IPv4 /32, the rest IPv6 /96, none adjacent) start at
 * 198.18.2.0 and 2001:2:0:100::/96: the traffic, on 198.18.0.0/24 or to
 * 198.18.20.1 (odd: between two targets), is never a target. The policy: a drop fault on both directions; SCOPE "any" puts
 * every packet in scope but for its address (the lookup decides), "tcpP" or
 * "udpP" scopes that protocol and port P, with port 22 exempt (tcp443: the
 * bench's UDP traffic is out of scope by protocol; udp443: by port;
 * udp9000: in scope but for its address).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_targets.h"
#include "log.h"
#include "nft.h"

#define PAYLOAD 18
#define BATCH 64
#define IDLE_MS 300      /* receiver: this long without data after some: done */
#define START_MS 30000   /* receiver: nothing at all for this long: error */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* this process's CPU time, user and system (softirq work done on its
 * way out, the veth's transmit and the peer's receive, included) */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int sockaddr_of(struct sockaddr_in *sa, const char *addr, const char *port)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)p);
	if (*end || p == 0 || p > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "pps: bad address %s:%s\n", addr, port);
		return -1;
	}
	return 0;
}

static int secs_of(const char *s, double *secs)
{
	char *end;

	*secs = strtod(s, &end);
	if (*end || !(*secs > 0 && *secs <= 3600)) {
		fprintf(stderr, "pps: bad duration %s\n", s);
		return -1;
	}
	return 0;
}

static void set_timeout(int fd, int opt, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0)
		perror("pps: setsockopt timeout");
}

/* ---- the table ------------------------------------------------------- */

static int cmd_table(const char *count, const char *state, const char *scope)
{
	struct fault faults[2] = {
		{ .action = ACT_DROP, .duration_ms = 1000 },
		{ .action = ACT_DROP, .duration_ms = 1000 },
	};
	struct port_range port = { 443, 443 }, xport = { 22, 22 };
	struct target_set ts = { 0 };
	struct nft_engine *e = NULL;
	struct policy p;
	bool live = !strcmp(state, "live"), any = !strcmp(scope, "any");
	char *end, *pend = NULL;
	unsigned long n = strtoul(count, &end, 10), pn = 0;
	int ret;

	if (!any && (!strncmp(scope, "tcp", 3) || !strncmp(scope, "udp", 3)))
		pn = strtoul(scope + 3, &pend, 10);
	if (*end || n == 0 || (!live && strcmp(state, "wait")) || (!any && (!pend || *pend || pn == 0 || pn > 65535))) {
		fprintf(stderr, "usage: pps table N wait|live any|tcpPORT|udpPORT\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "pps");
	p.direction = DIR_BOTH;
	p.faults = faults;
	p.n_faults = 2;
	p.protocol = PROTO_ANY;
	if (!any) {
		p.protocol = scope[0] == 't' ? PROTO_TCP : PROTO_UDP;
		port.lo = port.hi = (uint16_t)pn;
		p.ports = &port;
		p.n_ports = 1;
		p.exempt_ports = &xport;
		p.n_exempt_ports = 1;
	}
	ret = bench_targets(&ts, n, 0xc6120200u, 0x100);
	if (ret == 0)
		ret = nft_engine_open(&e);
	if (ret == 0)
		ret = nft_engine_install(e, &p, &ts, NULL);
	/* fault 0 live on the targets for an hour: the bench kills us first */
	if (ret == 0 && live)
		ret = nft_engine_switch(e, 0, 3600 * 1000, -1);
	free(ts.v4);
	free(ts.v6);
	if (ret < 0) {
		fprintf(stderr, "pps: table of %lu prefixes: %s\n", n, strerror(-ret));
		nft_engine_close(e);
		return 1;
	}
	printf("ready\n");
	if (fflush(stdout) != 0)
		return 1;
	for (;;)
		pause();
}

/* ---- UDP ------------------------------------------------------------- */

static int cmd_udp_recv(const char *addr, const char *port)
{
	static char buf[BATCH][64];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa;
	int fd, rcvbuf = 8 << 20, i;
	unsigned long long pkts = 0;
	double first = 0, last = 0;

	if (sockaddr_of(&sa, addr, port) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("pps: udp-recv");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		perror("pps: SO_RCVBUFFORCE");
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	fprintf(stderr, "listening\n");
	set_timeout(fd, SO_RCVTIMEO, START_MS);
	for (;;) {
		int n = recvmmsg(fd, mm, BATCH, 0, NULL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("pps: recvmmsg");
			return 1;
		}
		last = now_s();
		if (!pkts) {
			first = last;
			set_timeout(fd, SO_RCVTIMEO, IDLE_MS);
			pkts = 1, n--; /* the clock starts at the first datagram */
		}
		pkts += (unsigned)n;
	}
	if (pkts < 2 || last <= first) {
		fprintf(stderr, "pps: udp-recv: no traffic\n");
		return 1;
	}
	printf("pkts %llu secs %.3f pps %.0f\n", pkts - 1, last - first, (double)(pkts - 1) / (last - first));
	return 0;
}

static int cmd_udp_send(const char *addr, const char *port, const char *secs_s)
{
	static char buf[PAYLOAD];
	struct mmsghdr mm[BATCH];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct sockaddr_in sa;
	unsigned long long sent = 0;
	double secs, t0, t, c0;
	int fd, i;

	if (sockaddr_of(&sa, addr, port) < 0 || secs_of(secs_s, &secs) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("pps: udp-send");
		return 1;
	}
	for (i = 0; i < BATCH; i++)
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	c0 = cpu_s();
	t0 = t = now_s();
	while (t - t0 < secs) {
		int n = sendmmsg(fd, mm, BATCH, 0);

		/* a full queue (ENOBUFS) is back-pressure, not a failure */
		if (n < 0 && errno != ENOBUFS && errno != EINTR && errno != ECONNREFUSED) {
			perror("pps: sendmmsg");
			return 1;
		}
		if (n > 0)
			sent += (unsigned)n;
		t = now_s();
	}
	if (!sent) {
		fprintf(stderr, "pps: udp-send: nothing sent\n");
		return 1;
	}
	printf("sent %llu pps %.0f cpu_ns_per_pkt %.1f\n", sent, (double)sent / (t - t0), (cpu_s() - c0) * 1e9 / (double)sent);
	return 0;
}

/* ---- TCP ------------------------------------------------------------- */

static int cmd_tcp_recv(const char *addr, const char *port)
{
	static char buf[1 << 17];
	struct sockaddr_in sa;
	unsigned long long bytes = 0;
	double t0 = 0, t1;
	int lfd, fd, one = 1;
	ssize_t n;

	if (sockaddr_of(&sa, addr, port) < 0)
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("pps: tcp-recv");
		return 1;
	}
	fprintf(stderr, "listening\n");
	set_timeout(lfd, SO_RCVTIMEO, START_MS);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("pps: accept");
		return 1;
	}
	set_timeout(fd, SO_RCVTIMEO, START_MS);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!bytes)
			t0 = now_s();
		bytes += (size_t)n;
	}
	t1 = now_s();
	if (n < 0 || bytes == 0 || t1 <= t0) {
		fprintf(stderr, "pps: tcp-recv: %s\n", n < 0 ? strerror(errno) : "no data");
		return 1;
	}
	printf("bytes %llu secs %.3f gbps %.3f\n", bytes, t1 - t0, (double)bytes * 8 / (t1 - t0) / 1e9);
	return 0;
}

static int cmd_tcp_send(const char *addr, const char *port, const char *secs_s)
{
	static char buf[1 << 17];
	struct sockaddr_in sa;
	double secs, t0;
	int fd;

	if (sockaddr_of(&sa, addr, port) < 0 || secs_of(secs_s, &secs) < 0)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("pps: tcp-send");
		return 1;
	}
	t0 = now_s();
	while (now_s() - t0 < secs) {
		if (write(fd, buf, sizeof(buf)) < 0 && errno != EINTR) {
			perror("pps: write");
			return 1;
		}
	}
	if (close(fd) < 0) {
		perror("pps: close");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	log_init("pps", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && !strcmp(argv[1], "table"))
		return cmd_table(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "udp-recv"))
		return cmd_udp_recv(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "udp-send"))
		return cmd_udp_send(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "tcp-recv"))
		return cmd_tcp_recv(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "tcp-send"))
		return cmd_tcp_send(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: pps table N wait|live SCOPE | udp-recv ADDR PORT | udp-send ADDR PORT SECS |\n"
			"           tcp-recv ADDR PORT | tcp-send ADDR PORT SECS\n");
	return 2;
}
