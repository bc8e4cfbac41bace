/* SPDX-License-Identifier: MIT */
/*
 * okx_sim — a simulated OKX REST endpoint for the incident lab.
 *
 *   okx_sim --listen ADDR:PORT [--listen [V6]:PORT ...] [--max-seconds N] [-v]
 *
 * HTTP/1.1 over plain TCP, one epoll loop, non-blocking sockets.
 * GET (or HEAD) /api/v5/public/time answers 200 with OKX's body
 *   {"code":"0","msg":"","data":[{"ts":"<ms since the epoch>"}]}
 * any other path 404, any other method 405, both with an OKX-style JSON error.
 * Keep-alive is the HTTP/1.1 default; "Connection: close" (or HTTP/1.0
 * without keep-alive) closes after the answer. Pipelined requests are served
 * in order. The program stops by itself after --max-seconds (default 600),
 * or on SIGINT/SIGTERM; exit 0. With -v, one line per connection on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "labutil.h"

#define MAX_LISTEN 16
#define MAX_CONNS 8192
#define INBUF_SIZE 16384
#define OUTBUF_MAX (1 << 20)
#define TIME_PATH "/api/v5/public/time"

/* Both kinds sit behind epoll_event.data.ptr; the first member tells them apart. */
struct conn {
	bool is_listener;
	int fd;
	char peer[72], local[72];
	char in[INBUF_SIZE];
	size_t in_len;
	size_t body_left;	/* request body bytes still to discard */
	char *out;
	size_t out_len, out_off, out_cap;
	bool close_after;	/* close once out is flushed */
	bool want_out;		/* EPOLLOUT registered */
	unsigned long requests;
	uint64_t opened_ms;
};

struct listener {
	bool is_listener;
	int fd;
	char name[72];
};

static bool verbose;

static void usage(FILE *f)
{
	fprintf(f, "usage: okx_sim --listen ADDR:PORT [--listen [V6ADDR]:PORT ...] "
		   "[--max-seconds N] [-v]\n");
}

/* "198.18.0.2:8443" or "[2001:2::2]:8443" */
static bool parse_hostport(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = arg;
	size_t hlen;
	long port;

	if (*arg == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || rb[1] != ':')
			return false;
		h = arg + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return false;
		hlen = (size_t)(colon - arg);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!parse_long(colon + 1, 0, 65535, &port))
		return false;

	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return true;
	}
	return false;
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(a4->sin_port));
	}
}

static int open_listener(const char *arg, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (!parse_hostport(arg, &ss, &len)) {
		fprintf(stderr, "okx_sim: bad --listen address '%s'\n", arg);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0)
		goto fail;
	l->is_listener = true;
	l->fd = fd;
	format_addr(&ss, l->name, sizeof(l->name));
	return 0;
fail:
	fprintf(stderr, "okx_sim: listen %s: %s\n", arg, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

static bool out_append(struct conn *c, const char *data, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *p;

		while (cap < c->out_len + n)
			cap *= 2;
		if (cap > OUTBUF_MAX)
			return false;
		p = realloc(c->out, cap);
		if (!p)
			return false;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return true;
}

static bool respond(struct conn *c, int status, const char *reason, const char *body,
		    bool head_only)
{
	char hdr[512], date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\n"
		     "Date: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n"
		     "Connection: %s\r\n"
		     "\r\n",
		     status, reason, date, strlen(body), c->close_after ? "close" : "keep-alive");
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return false;
	if (!out_append(c, hdr, (size_t)n))
		return false;
	return head_only || out_append(c, body, strlen(body));
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t nlen = strlen(name);

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return false;
	*value = line + nlen + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

/* Whether the comma list in [v, end) holds token (case-insensitive). */
static bool has_token(const char *v, const char *end, const char *token)
{
	size_t tlen = strlen(token);

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *e = comma ? comma : end;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		const char *t = e;
		while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - v) == tlen && strncasecmp(v, token, tlen) == 0)
			return true;
		v = comma ? comma + 1 : end;
	}
	return false;
}

/* Serves one complete request head of hlen bytes (ending in CRLFCRLF).
 * Returns false when the connection must be dropped without an answer. */
static bool serve_request(struct conn *c, const char *req, size_t hlen)
{
	char method[16], path[1024], version[16];
	const char *line_end = memmem(req, hlen, "\r\n", 2);
	bool http11, keep, close_req = false, keep_req = false;
	long clen = 0;

	if (!line_end || (size_t)(line_end - req) >= 1100)
		goto bad;
	{
		char first[1100];
		size_t l = (size_t)(line_end - req);

		memcpy(first, req, l);
		first[l] = '\0';
		if (sscanf(first, "%15s %1023s %15s", method, path, version) != 3)
			goto bad;
	}
	if (strncmp(version, "HTTP/1.", 7) != 0)
		goto bad;
	http11 = strcmp(version, "HTTP/1.0") != 0;

	for (const char *p = line_end + 2; p < req + hlen - 2;) {
		const char *e = memmem(p, (size_t)(req + hlen - p), "\r\n", 2);
		const char *v;

		if (!e || e == p)
			break;
		if (header_is(p, (size_t)(e - p), "Connection", &v)) {
			close_req |= has_token(v, e, "close");
			keep_req |= has_token(v, e, "keep-alive");
		} else if (header_is(p, (size_t)(e - p), "Content-Length", &v)) {
			char num[24];
			size_t nl = (size_t)(e - v);

			if (nl == 0 || nl >= sizeof(num))
				goto bad;
			memcpy(num, v, nl);
			num[nl] = '\0';
			if (!parse_long(num, 0, 1L << 30, &clen))
				goto bad;
		} else if (header_is(p, (size_t)(e - p), "Transfer-Encoding", &v)) {
			/* No chunked bodies here: a GET endpoint has no use for them. */
			goto bad;
		}
		p = e + 2;
	}
	keep = http11 ? !close_req : keep_req && !close_req;
	c->close_after = !keep;
	c->body_left = (size_t)clen;
	c->requests++;

	char *q = strchr(path, '?');
	if (q)
		*q = '\0';
	bool head = strcmp(method, "HEAD") == 0;

	if (strcmp(path, TIME_PATH) != 0)
		return respond(c, 404, "Not Found",
			       "{\"code\":\"404\",\"msg\":\"Not Found\",\"data\":[]}", head);
	if (!head && strcmp(method, "GET") != 0)
		return respond(c, 405, "Method Not Allowed",
			       "{\"code\":\"405\",\"msg\":\"Method Not Allowed\",\"data\":[]}",
			       false);

	char body[128];
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(body, sizeof(body), "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"ts\":\"%lld\"}]}",
		 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	return respond(c, 200, "OK", body, head);
bad:
	c->close_after = true;
	return respond(c, 400, "Bad Request",
		       "{\"code\":\"400\",\"msg\":\"Bad Request\",\"data\":[]}", false);
}

/* Consumes whole requests from c->in. Returns false to drop the connection. */
static bool process_input(struct conn *c)
{
	size_t off = 0;

	while (off < c->in_len && !c->close_after) {
		if (c->body_left) {
			size_t n = c->in_len - off < c->body_left ? c->in_len - off : c->body_left;

			off += n;
			c->body_left -= n;
			continue;
		}
		const char *end = memmem(c->in + off, c->in_len - off, "\r\n\r\n", 4);

		if (!end)
			break;
		size_t hlen = (size_t)(end + 4 - (c->in + off));

		if (!serve_request(c, c->in + off, hlen))
			return false;
		off += hlen;
	}
	if (c->close_after) {
		c->in_len = 0;
		return true;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in_len == sizeof(c->in)) {
		/* A request head that does not fit: answer 431 and close. */
		c->close_after = true;
		c->in_len = 0;
		return respond(c, 431, "Request Header Fields Too Large",
			       "{\"code\":\"431\",\"msg\":\"Request Header Fields Too Large\","
			       "\"data\":[]}", false);
	}
	return true;
}

static void conn_close(int ep, struct conn *c, const char *why)
{
	if (verbose)
		fprintf(stderr, "okx_sim: conn %s -> %s requests=%lu duration_ms=%llu close=%s\n",
			c->peer, c->local, c->requests, (unsigned long long)(mono_ms() - c->opened_ms), why);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Returns 1 when everything is flushed, 0 when blocked, -errno on error. */
static int flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 1;
}

static bool set_out_interest(int ep, struct conn *c, bool want)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u),
				  .data.ptr = c };

	if (c->want_out == want)
		return true;
	c->want_out = want;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

/* Returns true when the connection was closed (and freed). */
static bool handle_conn(int ep, struct conn *c, uint32_t events)
{
	const char *why = NULL;
	bool peer_eof = false;

	if (events & EPOLLIN) {
		for (;;) {
			ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				why = errno == ECONNRESET ? "reset" : "recv-error";
				goto out;
			}
			if (n == 0) {
				/* A half-close still gets the answers to what it sent. */
				peer_eof = true;
				break;
			}
			c->in_len += (size_t)n;
			if (!process_input(c)) {
				why = "oom";
				goto out;
			}
			if (c->close_after || c->in_len == sizeof(c->in))
				break;
		}
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		why = "error";
		goto out;
	}

	int r = flush_out(c);

	if (r < 0) {
		why = r == -ECONNRESET || r == -EPIPE ? "reset" : "send-error";
		goto out;
	}
	if (r == 1 && (c->close_after || peer_eof)) {
		why = peer_eof ? "peer" : "server";
		goto out;
	}
	if (peer_eof) {
		/* Only the answers are left to send: stop polling the EOF. */
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

		c->close_after = true;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			why = "epoll";
		goto out;
	}
	if (!set_out_interest(ep, c, r == 0))
		why = "epoll";
out:
	if (why)
		conn_close(ep, c, why);
	return why != NULL;
}

static void accept_all(int ep, struct listener *l, unsigned *nconns)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "okx_sim: accept on %s: %s\n", l->name, strerror(errno));
			return;
		}
		if (*nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		int one = 1;

		if (!c) {
			close(fd);
			continue;
		}
		/* Small answers must not wait for Nagle on keep-alive connections. */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 && verbose)
			fprintf(stderr, "okx_sim: TCP_NODELAY: %s\n", strerror(errno));
		c->fd = fd;
		c->opened_ms = mono_ms();
		format_addr(&ss, c->peer, sizeof(c->peer));
		snprintf(c->local, sizeof(c->local), "%s", l->name);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		(*nconns)++;
	}
}

int main(int argc, char **argv)
{
	struct listener ls[MAX_LISTEN];
	unsigned nl = 0, nconns = 0;
	long max_seconds = 600;
	int ep = -1, ret = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--listen") && i + 1 < argc) {
			if (nl == MAX_LISTEN) {
				fprintf(stderr, "okx_sim: at most %d --listen\n", MAX_LISTEN);
				goto out;
			}
			if (open_listener(argv[++i], &ls[nl]) < 0)
				goto out;
			nl++;
		} else if (!strcmp(a, "--max-seconds") && i + 1 < argc) {
			if (!parse_long(argv[++i], 1, 86400, &max_seconds)) {
				fprintf(stderr, "okx_sim: bad --max-seconds '%s'\n", argv[i]);
				ret = 2;
				goto out;
			}
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			ret = 0;
			goto out;
		} else {
			usage(stderr);
			ret = 2;
			goto out;
		}
	}
	if (nl == 0) {
		usage(stderr);
		ret = 2;
		goto out;
	}

	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		goto out;
	for (unsigned i = 0; i < nl; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ls[i] };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, ls[i].fd, &ev) < 0)
			goto out;
		if (verbose)
			fprintf(stderr, "okx_sim: listening on %s\n", ls[i].name);
	}

	uint64_t deadline = mono_ms() + (uint64_t)max_seconds * 1000u;

	while (!stop_signal) {
		struct epoll_event evs[256];
		uint64_t now = mono_ms();

		if (now >= deadline)
			break;
		int timeout = deadline - now > 1000 ? 1000 : (int)(deadline - now);
		int n = epoll_wait(ep, evs, 256, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "okx_sim: epoll_wait: %s\n", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (*(bool *)p)
				accept_all(ep, p, &nconns);
			else if (handle_conn(ep, p, evs[i].events))
				nconns--;
		}
	}
	if (verbose)
		fprintf(stderr, "okx_sim: stopping (%s)\n", stop_signal ? "signal" : "max-seconds");
	ret = 0;
out:
	for (unsigned i = 0; i < nl; i++)
		close(ls[i].fd);
	if (ep >= 0)
		close(ep);
	return ret;
}
