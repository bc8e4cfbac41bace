/* SPDX-License-Identifier: MIT */
/*
 * netprobe — small timed network client/server for the integration tests
 * (bash has no reliable timed connect). IPv4 and IPv6 addresses everywhere
 * (numeric; "[v6]" brackets accepted).
 *
 *   netprobe tcp ADDR PORT [--timeout-ms N] [--echo]
 *       one connect: "ok MS" (exit 0) or "err ERRNO-NAME MS" (exit 1).
 *       ETIMEDOUT when our timeout expired; the kernel's error otherwise
 *       (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EACCES, EPERM...).
 *       --echo also sends a line and waits for it back (tcp-serve echoes):
 *       a cut on an established connection; "err EOF" when the peer closed.
 *   netprobe tcp-loop ADDR PORT --interval-ms N --count N [--timeout-ms N] [--echo]
 *       N attempts on a fixed schedule, one line each: "TS ok MS" or
 *       "TS err NAME MS" (TS: RFC 3339 UTC, microseconds, start of the
 *       attempt); exit 0 when all succeeded, 1 otherwise; totals on stderr.
 *   netprobe udp-send ADDR PORT --count N [--interval-us N] [--size N]
 *       sends N datagrams (default interval 100 us, 64 bytes); prints the
 *       number the kernel took, counting those a local netfilter rule
 *       dropped on output (sendto fails with EPERM: sent, and faulted; their
 *       number goes to stderr); exit 0 when all were sent, 1 otherwise.
 *   netprobe udp-sink ADDR PORT --seconds N [--expect N]
 *       counts datagrams for N seconds (or until N expected ones) and prints
 *       the count.
 *   netprobe tcp-serve ADDR PORT --seconds N
 *       accepts connections, echoes what they send (line echo), closes on
 *       EOF or after 10 s idle; prints "accepted N" at the end.
 *   netprobe flood-udp ADDR --flows N --rate N [--port BASE] [--sockets S] [--max-seconds N]
 *       N new UDP flows, each a distinct (source port, destination port)
 *       pair: S sockets (default 64) with their own source port, destination
 *       ports from BASE (default 10000) up; N per second. Prints
 *       "sent N failed N".
 *
 * Servers print "listening ADDR PORT" on stderr once bound. Everything stops
 * by itself; SIGINT/SIGTERM end a run early with the usual output. Exit 2 on
 * usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "labutil.h"

#define MAX_SERVE_CONNS 1024
#define SERVE_IDLE_MS 10000


struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	char host[INET6_ADDRSTRLEN + 16];
	char port[8];
};

/* Options shared by all subcommands; each accepts a subset. */
struct opts {
	long timeout_ms, interval_ms, interval_us, count, size, seconds, expect;
	long flows, rate, port_base, sockets, max_seconds;
	bool echo;
};

static bool parse_target(const char *host, const char *port, struct target *t)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;
	size_t hl = strlen(host);
	long p;

	if (hl >= sizeof(t->host) || !parse_long(port, 0, 65535, &p))
		return false;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memcpy(t->host, host + 1, hl - 2);
		t->host[hl - 2] = '\0';
	} else {
		memcpy(t->host, host, hl + 1);
	}
	snprintf(t->port, sizeof(t->port), "%ld", p);
	if (getaddrinfo(t->host, t->port, &hints, &res) != 0)
		return false;
	memcpy(&t->ss, res->ai_addr, res->ai_addrlen);
	t->len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static void set_port(struct target *t, uint16_t port)
{
	if (t->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&t->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&t->ss)->sin_port = htons(port);
}

/* One connect (and optional echo). Returns 0, a positive errno, or -1 for
 * "EOF" (peer closed before the echo) and -2 for a wrong echo. */
static int tcp_attempt(const struct target *t, const struct opts *o)
{
	uint64_t deadline = mono_ms() + (uint64_t)o->timeout_ms;
	int fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0, w;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto out;
		}
		w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0) {
			err = w == 0 ? ETIMEDOUT : -w;
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			err = errno;
		if (err)
			goto out;
	}
	if (!o->echo)
		goto out;

	char line[64], back[64];
	size_t got = 0;
	int len = snprintf(line, sizeof(line), "netprobe %d %llu\n", (int)getpid(),
			   (unsigned long long)mono_now_ns());

	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
		err = errno ? errno : EIO;
		goto out;
	}
	while (got < (size_t)len) {
		w = wait_fd(fd, POLLIN, deadline);
		if (w <= 0) {
			err = w == 0 ? ETIMEDOUT : -w;
			goto out;
		}
		ssize_t n = recv(fd, back + got, sizeof(back) - got, 0);

		if (n == 0) {
			err = -1;
			goto out;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err = errno;
			goto out;
		}
		got += (size_t)n;
	}
	if (got != (size_t)len || memcmp(line, back, got) != 0)
		err = -2;
out:
	close(fd);
	return err;
}

static void print_attempt(const char *prefix, int err, uint64_t ms)
{
	if (err == 0)
		printf("%sok %llu\n", prefix, (unsigned long long)ms);
	else
		printf("%serr %s %llu\n", prefix,
		       err == -1 ? "EOF" : err == -2 ? "EBADECHO" : errno_name(err),
		       (unsigned long long)ms);
}

static int cmd_tcp(struct target *t, const struct opts *o)
{
	uint64_t start = mono_now_ns();
	int err = tcp_attempt(t, o);

	print_attempt("", err, (mono_now_ns() - start) / 1000000u);
	return err == 0 ? 0 : 1;
}

static int cmd_tcp_loop(struct target *t, const struct opts *o)
{
	uint64_t t0 = mono_now_ns();
	long ok = 0, n = 0;

	for (long i = 0; i < o->count; i++) {
		char ts[48], prefix[56];

		if (!sleep_until_ns(t0 + (uint64_t)i * (uint64_t)o->interval_ms * 1000000u))
			break;
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		rfc3339_us(&now, ts, sizeof(ts));
		snprintf(prefix, sizeof(prefix), "%s ", ts);

		uint64_t start = mono_now_ns();
		int err = tcp_attempt(t, o);

		if (stop_signal)
			break;
		print_attempt(prefix, err, (mono_now_ns() - start) / 1000000u);
		n++;
		ok += err == 0;
	}
	fprintf(stderr, "tcp-loop: %ld attempts, %ld ok, %ld failed\n", n, ok, n - ok);
	return ok == o->count ? 0 : 1;
}

static int cmd_udp_send(struct target *t, const struct opts *o)
{
	int fd = socket(t->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char buf[65536] = { 0 };
	long sent = 0, failed = 0, nf_dropped = 0, last_err = 0;
	uint64_t t0 = mono_now_ns();

	if (fd < 0) {
		fprintf(stderr, "netprobe: socket: %s\n", strerror(errno));
		return 1;
	}
	for (long i = 0; i < o->count; i++) {
		if (i && !sleep_until_ns(t0 + (uint64_t)i * (uint64_t)o->interval_us * 1000u))
			break;
		snprintf(buf, sizeof(buf), "netprobe %ld", i);
		/* unconnected: ICMP errors from earlier datagrams do not fail later sends */
		if (sendto(fd, buf, (size_t)o->size, 0, (const struct sockaddr *)&t->ss, t->len) >= 0) {
			sent++;
		} else if (errno == EPERM) {
			/* A local netfilter drop: the datagram was sent and faulted. */
			sent++;
			nf_dropped++;
		} else {
			failed++;
			last_err = errno;
		}
	}
	close(fd);
	if (nf_dropped)
		fprintf(stderr, "udp-send: %ld dropped on output by netfilter (EPERM)\n", nf_dropped);
	if (failed)
		fprintf(stderr, "udp-send: %ld not sent (last: %s)\n", failed, errno_name((int)last_err));
	printf("%ld\n", sent);
	return sent == o->count ? 0 : 1;
}

static int bind_socket(const struct target *t, int type)
{
	int fd = socket(t->ss.ss_family, type | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (t->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&t->ss, t->len) < 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 512) < 0)
		goto fail;
	fprintf(stderr, "listening %s %s\n", t->host, t->port);
	return fd;
fail:
	fprintf(stderr, "netprobe: bind %s %s: %s\n", t->host, t->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int cmd_udp_sink(struct target *t, const struct opts *o)
{
	int fd = bind_socket(t, SOCK_DGRAM), bufsize = 8 << 20;
	uint64_t deadline = mono_ms() + (uint64_t)o->seconds * 1000u;
	long count = 0;
	char buf[65536];

	if (fd < 0)
		return 1;
	/* A burst must not overflow the default receive buffer: counts must be exact. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize)) < 0)
		fprintf(stderr, "netprobe: SO_RCVBUF: %s\n", strerror(errno));
	while (!o->expect || count < o->expect) {
		int w = wait_fd(fd, POLLIN, deadline);

		if (w <= 0)
			break;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			count++;
	}
	close(fd);
	printf("%ld\n", count);
	return 0;
}

struct serve_conn {
	int fd;
	uint64_t last_ms;
};

/* Echoes what is readable; false when the connection is finished. */
static bool serve_echo(struct serve_conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->last_ms = mono_ms();
		/* Echo lines are tiny; a full send buffer means a broken client. */
		if (send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			return false;
	}
}

static int cmd_tcp_serve(struct target *t, const struct opts *o)
{
	static struct pollfd pfds[MAX_SERVE_CONNS + 1];
	static struct serve_conn conns[MAX_SERVE_CONNS];
	int lfd = bind_socket(t, SOCK_STREAM);
	uint64_t deadline = mono_ms() + (uint64_t)o->seconds * 1000u;
	size_t nc = 0;
	long accepted = 0;

	if (lfd < 0)
		return 1;
	while (!stop_signal) {
		uint64_t now = mono_ms();

		if (now >= deadline)
			break;
		pfds[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < nc; i++)
			pfds[i + 1] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		int n = poll(pfds, nc + 1, deadline - now > 500 ? 500 : (int)(deadline - now));

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "netprobe: poll: %s\n", strerror(errno));
			break;
		}
		now = mono_ms();
		/* Walk backwards: closing swaps the last connection into slot i. */
		for (size_t i = nc; i-- > 0;) {
			bool keep = now - conns[i].last_ms < SERVE_IDLE_MS;

			if (keep && n > 0 && pfds[i + 1].revents)
				keep = serve_echo(&conns[i]);
			if (!keep) {
				close(conns[i].fd);
				conns[i] = conns[--nc];
			}
		}
		if (n > 0 && (pfds[0].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				continue;
			accepted++;
			if (nc == MAX_SERVE_CONNS) {
				close(fd);
				continue;
			}
			conns[nc++] = (struct serve_conn){ .fd = fd, .last_ms = now };
		}
	}
	for (size_t i = 0; i < nc; i++)
		close(conns[i].fd);
	close(lfd);
	printf("accepted %ld\n", accepted);
	return 0;
}

static int cmd_flood_udp(struct target *t, const struct opts *o)
{
	long nsock = o->sockets < o->flows ? o->sockets : o->flows;
	long ports = 65536 - o->port_base;
	int *fds = calloc((size_t)nsock, sizeof(*fds));
	long sent = 0, failed = 0, last_err = 0, i = 0;
	uint64_t t0 = mono_now_ns(), end = t0 + (uint64_t)o->max_seconds * 1000000000u;
	int ret = 1;

	if (!fds)
		return 1;
	if (o->flows > nsock * ports) {
		fprintf(stderr, "netprobe: %ld flows need more than %ld sockets x %ld ports\n",
			o->flows, nsock, ports);
		goto out;
	}
	for (long s = 0; s < nsock; s++)
		fds[s] = -1;
	for (long s = 0; s < nsock; s++) {
		fds[s] = socket(t->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fds[s] < 0) {
			fprintf(stderr, "netprobe: socket: %s\n", strerror(errno));
			goto out;
		}
	}
	while (i < o->flows && !stop_signal) {
		uint64_t now = mono_now_ns();
		long due = (long)((now - t0) / 1000u * (uint64_t)o->rate / 1000000u) + 1;

		if (now >= end)
			break;
		if (due > o->flows)
			due = o->flows;
		for (; i < due; i++) {
			/* flow i: source socket i % S, destination port BASE + i / S */
			set_port(t, (uint16_t)(o->port_base + i / nsock));
			if (sendto(fds[i % nsock], "f", 1, 0, (const struct sockaddr *)&t->ss, t->len) < 0) {
				failed++;
				last_err = errno;
			} else {
				sent++;
			}
		}
		if (i < o->flows)
			sleep_until_ns(t0 + (uint64_t)i * 1000000000u / (uint64_t)o->rate);
	}
	if (failed)
		fprintf(stderr, "flood-udp: %ld failed (last: %s)\n", failed, errno_name((int)last_err));
	printf("sent %ld failed %ld\n", sent, failed);
	ret = 0;
out:
	for (long s = 0; s < nsock; s++)
		if (fds[s] >= 0)
			close(fds[s]);
	free(fds);
	return ret;
}

enum { O_TIMEOUT, O_INTERVAL_MS, O_INTERVAL_US, O_COUNT, O_SIZE, O_SECONDS, O_EXPECT,
       O_FLOWS, O_RATE, O_PORT, O_SOCKETS, O_MAX_SECONDS, O_ECHO };

struct opt_def {
	const char *name;
	long min, max;
	size_t off;
};

/* O_ECHO is a flag and has no value. */
static const struct opt_def opt_defs[] = {
	[O_COUNT] = { "--count", 1, 100000000, offsetof(struct opts, count) },
	[O_ECHO] = { "--echo", 0, 0, 0 },
	[O_EXPECT] = { "--expect", 1, 100000000, offsetof(struct opts, expect) },
	[O_FLOWS] = { "--flows", 1, 100000000, offsetof(struct opts, flows) },
	[O_INTERVAL_MS] = { "--interval-ms", 0, 3600000, offsetof(struct opts, interval_ms) },
	[O_INTERVAL_US] = { "--interval-us", 0, 60000000, offsetof(struct opts, interval_us) },
	[O_MAX_SECONDS] = { "--max-seconds", 1, 86400, offsetof(struct opts, max_seconds) },
	[O_PORT] = { "--port", 1, 65535, offsetof(struct opts, port_base) },
	[O_RATE] = { "--rate", 1, 10000000, offsetof(struct opts, rate) },
	[O_SECONDS] = { "--seconds", 1, 86400, offsetof(struct opts, seconds) },
	[O_SIZE] = { "--size", 1, 65000, offsetof(struct opts, size) },
	[O_SOCKETS] = { "--sockets", 1, 4096, offsetof(struct opts, sockets) },
	[O_TIMEOUT] = { "--timeout-ms", 1, 600000, offsetof(struct opts, timeout_ms) },
};

struct command {
	const char *name;
	int npos;		/* positional arguments: ADDR [PORT] */
	unsigned allowed;	/* bit per O_* */
	unsigned required;
	int (*run)(struct target *t, const struct opts *o);
};

#define B(x) (1u << (x))
static const struct command commands[] = {
	{ "flood-udp", 1, B(O_FLOWS) | B(O_RATE) | B(O_PORT) | B(O_SOCKETS) | B(O_MAX_SECONDS),
	  B(O_FLOWS) | B(O_RATE), cmd_flood_udp },
	{ "tcp", 2, B(O_TIMEOUT) | B(O_ECHO), 0, cmd_tcp },
	{ "tcp-loop", 2, B(O_TIMEOUT) | B(O_ECHO) | B(O_INTERVAL_MS) | B(O_COUNT),
	  B(O_INTERVAL_MS) | B(O_COUNT), cmd_tcp_loop },
	{ "tcp-serve", 2, B(O_SECONDS), B(O_SECONDS), cmd_tcp_serve },
	{ "udp-send", 2, B(O_COUNT) | B(O_INTERVAL_US) | B(O_SIZE), B(O_COUNT), cmd_udp_send },
	{ "udp-sink", 2, B(O_SECONDS) | B(O_EXPECT), B(O_SECONDS), cmd_udp_sink },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netprobe tcp ADDR PORT [--timeout-ms N] [--echo]\n"
		"       netprobe tcp-loop ADDR PORT --interval-ms N --count N [--timeout-ms N] [--echo]\n"
		"       netprobe udp-send ADDR PORT --count N [--interval-us N] [--size N]\n"
		"       netprobe udp-sink ADDR PORT --seconds N [--expect N]\n"
		"       netprobe tcp-serve ADDR PORT --seconds N\n"
		"       netprobe flood-udp ADDR --flows N --rate N [--port BASE] [--sockets S]"
		" [--max-seconds N]\n");
}

static int parse_opts(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	unsigned seen = 0;

	for (int i = 0; i < argc; i++) {
		int k = -1;

		for (size_t j = 0; j < sizeof(opt_defs) / sizeof(opt_defs[0]); j++)
			if (opt_defs[j].name && strcmp(argv[i], opt_defs[j].name) == 0)
				k = (int)j;
		if (k < 0 || !(cmd->allowed & B(k))) {
			fprintf(stderr, "netprobe %s: unknown option '%s'\n", cmd->name, argv[i]);
			return -EINVAL;
		}
		seen |= B(k);
		if (k == O_ECHO) {
			o->echo = true;
			continue;
		}
		long *dst = (long *)(void *)((char *)o + opt_defs[k].off);

		if (i + 1 >= argc || !parse_long(argv[i + 1], opt_defs[k].min, opt_defs[k].max, dst)) {
			fprintf(stderr, "netprobe %s: %s wants an integer in %ld..%ld\n", cmd->name,
				argv[i], opt_defs[k].min, opt_defs[k].max);
			return -EINVAL;
		}
		i++;
	}
	for (int k = 0; k <= O_ECHO; k++) {
		if ((cmd->required & B(k)) && !(seen & B(k))) {
			fprintf(stderr, "netprobe %s: %s is required\n", cmd->name, opt_defs[k].name);
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 1000, .interval_us = 100, .size = 64, .port_base = 10000,
			  .sockets = 64, .max_seconds = 300 };
	const struct command *cmd = NULL;
	struct target t;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd || argc < 2 + cmd->npos) {
		usage(stderr);
		return 2;
	}
	if (!parse_target(argv[2], cmd->npos == 2 ? argv[3] : "0", &t)) {
		fprintf(stderr, "netprobe %s: bad address or port '%s%s%s'\n", cmd->name, argv[2],
			cmd->npos == 2 ? " " : "", cmd->npos == 2 ? argv[3] : "");
		return 2;
	}
	if (parse_opts(cmd, argc - 2 - cmd->npos, argv + 2 + cmd->npos, &o) < 0)
		return 2;

	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmd->run(&t, &o);
}
