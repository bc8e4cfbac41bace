/* SPDX-License-Identifier: MIT */
/*
 * connector_sim — a trading-connector simulator for the incident lab.
 *
 *   connector_sim --url http://ADDR:PORT/PATH --out FILE.json
 *                 [--warmup DUR] [--rate-ms N] [--duration DUR] [--timeout-ms N]
 *                 [--keepalive | --fresh] [--no-net-errors]
 *                 [--resolve-each [--no-dns-errors]] [-v]
 *
 * It idles for the warm-up (the incident's 480 s, scaled down), then calls
 * the URL on a fixed schedule, one call every rate-ms for `duration` (the
 * calling phase, after the warm-up). A call that overruns its slot skips the
 * slots it missed, like a ticker. Each call has one deadline (timeout-ms)
 * covering connect, send and the whole answer.
 *
 * --fresh (default) opens a new connection per call and sends
 * "Connection: close"; --keepalive reuses one connection, drops it after any
 * error and silently replaces it when the server closed it while idle (as
 * pooled HTTP clients do).
 *
 * Failed calls become error events: connection_refused (the connection could
 * not be made: refused, unreachable, prohibited), connection_reset (reset or
 * closed before a full answer), timeout, http_error (status other than 200),
 * bad_response (200 without OKX's {"code":"0","data":[{"ts":...}]}).
 * --no-net-errors leaves out the first three, like the connector in the
 * incident: calls still count, and unrecorded_errors says how many were lost.
 *
 * --resolve-each looks HOST up again (getaddrinfo) for each new connection,
 * as HTTP clients do, instead of once at start: with --fresh for every
 * call, with --keepalive only for the first connection and one that
 * replaces a connection dropped after an error or closed by the server. A
 * kept-alive connection never looks the name up again, so a DNS failure
 * reaches a connector only when it opens a connection. A failed lookup is a
 * name_resolution_error event (the call makes no connection); the lookup
 * is bounded by the resolver's own timeout (resolv.conf), not timeout-ms.
 * --no-dns-errors leaves those out, like a connector that does not record
 * its DNS failures (unrecorded_errors counts them).
 *
 * At the end (or on SIGTERM/SIGINT) it writes
 *   {"execution_fingerprint": {"connector": "connector_sim", "calls": N,
 *    "ok": N, "error_count": N, "error_events": [{"type", "ts", "message"}],
 *    "unrecorded_errors": N, "url", "mode", "first_call_ts", "last_call_ts"},
 *    "calls": [{"ts", "latency_ms", "ok"}]}
 * (ts: RFC 3339 UTC with microseconds; a call's ts is when it ended, its
 * latency_ms how long it took: okx-faultctl(1), CALL RECORDS; at most
 * MAX_CALLS records, calls_not_stored counts the rest; with --no-net-errors
 * a call whose network error was not recorded has no "ok"), prints a
 * one-line summary on stdout and exits 0. Exit 2 on usage errors, 1 when
 * the file cannot be written.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "labutil.h"

#define MAX_EVENTS 100000
#define MAX_CALLS 100000
#define RESP_MAX 65536

enum ev_type { EV_REFUSED, EV_RESET, EV_TIMEOUT, EV_HTTP, EV_BAD, EV_DNS, EV__COUNT };

static const char *const ev_names[EV__COUNT] = {
	[EV_REFUSED] = "connection_refused",
	[EV_RESET] = "connection_reset",
	[EV_TIMEOUT] = "timeout",
	[EV_HTTP] = "http_error",
	[EV_BAD] = "bad_response",
	[EV_DNS] = "name_resolution_error",
};

struct event {
	enum ev_type type;
	struct timespec ts;
	char message[160];
};

struct opts {
	const char *url, *out;
	char host[256], port[8], path[1024];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t warmup_ms, duration_ms;
	long rate_ms, timeout_ms;
	bool keepalive, no_net_errors, verbose;
	bool resolve_each, no_dns_errors;
};

/* A call record: when it ended, how long it took; ok -1: not recorded */
struct call_rec {
	struct timespec ts;
	double latency_ms;
	signed char ok;
};

struct state {
	struct event *events;
	size_t nevents;
	struct call_rec *callv;
	size_t ncalls;
	unsigned long calls_not_stored;
	unsigned long calls, ok, error_count, unrecorded, truncated;
	unsigned long by_type[EV__COUNT];
	struct timespec first_call, last_call;
	int fd;			/* the kept-alive connection, or -1 */
};

/* Outcome of one call: ok, or an error of a type with a message. */
struct result {
	bool ok;
	bool aborted;		/* interrupted by SIGTERM/SIGINT: not a call */
	enum ev_type type;
	char message[160];
};


/* "1500ms", "20s", "2m", "1h"; a bare number is seconds. At most 24 h. */
static bool parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "", 1000 }, { "h", 3600000 }, { "m", 60000 }, { "ms", 1 }, { "s", 1000 },
	};
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0 || *s == '-' || *s == '+')
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if ((uint64_t)v > 86400000u / units[i].mult)
				return false;
			*ms = (uint64_t)v * units[i].mult;
			return true;
		}
	}
	return false;
}

/* http://HOST[:PORT][/PATH]; HOST is a name, an IPv4 address or [IPv6]. */
static bool parse_url(struct opts *o)
{
	const char *p = o->url, *hend, *pstart;
	size_t hlen;

	if (strncmp(p, "http://", 7) != 0)
		return false;
	p += 7;
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (!rb)
			return false;
		hlen = (size_t)(rb - p - 1);
		if (hlen >= sizeof(o->host))
			return false;
		memcpy(o->host, p + 1, hlen);
		hend = rb + 1;
	} else {
		hend = p + strcspn(p, ":/");
		hlen = (size_t)(hend - p);
		if (hlen >= sizeof(o->host))
			return false;
		memcpy(o->host, p, hlen);
	}
	o->host[hlen] = '\0';
	if (hlen == 0)
		return false;
	pstart = strchr(hend, '/');
	if (!pstart)
		pstart = hend + strlen(hend);
	if (*hend == ':') {
		size_t plen = (size_t)(pstart - hend - 1);
		long port;

		if (plen == 0 || plen >= sizeof(o->port))
			return false;
		memcpy(o->port, hend + 1, plen);
		o->port[plen] = '\0';
		if (!parse_long(o->port, 1, 65535, &port))
			return false;
	} else if (hend == pstart) {
		snprintf(o->port, sizeof(o->port), "80");
	} else {
		return false;
	}
	if (strlen(pstart) >= sizeof(o->path))
		return false;
	snprintf(o->path, sizeof(o->path), "%s", *pstart ? pstart : "/");
	return true;
}

static int resolve(struct opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	int rc = getaddrinfo(o->host, o->port, &hints, &res);

	if (rc != 0) {
		fprintf(stderr, "connector_sim: %s: %s\n", o->host, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void set_result(struct result *r, enum ev_type type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_result(struct result *r, enum ev_type type, const char *fmt, ...)
{
	va_list ap;

	r->ok = false;
	r->type = type;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* A socket error as a connector would report it. */
static void set_errno_result(struct result *r, const char *op, int err)
{
	enum ev_type t;

	switch (err) {
	case ETIMEDOUT:
		t = EV_TIMEOUT;
		break;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		t = EV_RESET;
		break;
	default:		/* ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EACCES, EPERM... */
		t = EV_REFUSED;
		break;
	}
	set_result(r, t, "%s: %s (%s)", op, strerror(err), errno_name(err));
}

static int do_connect(const struct opts *o, const struct sockaddr_storage *addr, socklen_t addrlen,
		      uint64_t deadline, struct result *r)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0, one = 1;
	socklen_t elen = sizeof(err);

	if (fd < 0) {
		set_errno_result(r, "socket", errno);
		return -1;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		set_errno_result(r, "setsockopt", errno);
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)addr, addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		set_errno_result(r, "connect", errno);
		goto fail;
	}
	int w = wait_fd(fd, POLLOUT, deadline);

	if (w == -EINTR) {
		r->aborted = true;
		goto fail;
	}
	if (w == 0) {
		set_result(r, EV_TIMEOUT, "connect to %s:%s timed out after %ld ms", o->host,
			   o->port, o->timeout_ms);
		goto fail;
	}
	if (w < 0) {
		set_errno_result(r, "poll", -w);
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err) {
		set_errno_result(r, "connect", err);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static const char *gai_name(int rc)
{
	switch (rc) {
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_NODATA: return "EAI_NODATA";
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	default: return "EAI_OTHER";
	}
}

/* --resolve-each: HOST looked up for a new connection; its first address. */
static bool lookup_again(const struct opts *o, struct sockaddr_storage *addr, socklen_t *addrlen,
			 struct result *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	int rc = getaddrinfo(o->host, o->port, &hints, &res);

	if (rc != 0) {
		set_result(r, EV_DNS, "getaddrinfo %s: %s (%s)", o->host,
			   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc), gai_name(rc));
		return false;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static bool send_all(int fd, const char *buf, size_t len, uint64_t deadline,
		     const struct opts *o, struct result *r)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			set_errno_result(r, "send", errno);
			return false;
		}
		int w = wait_fd(fd, POLLOUT, deadline);

		if (w == -EINTR) {
			r->aborted = true;
			return false;
		}
		if (w == 0) {
			set_result(r, EV_TIMEOUT, "send timed out after %ld ms", o->timeout_ms);
			return false;
		}
		if (w < 0) {
			set_errno_result(r, "poll", -w);
			return false;
		}
	}
	return true;
}

struct response {
	char buf[RESP_MAX + 1];
	size_t len;
	int status;
	size_t head_len;	/* through CRLFCRLF */
	long content_length;	/* -1: until EOF */
	bool conn_close;
};

/* Parses the status line and headers once they are complete. */
static bool parse_head(struct response *resp)
{
	char *end = memmem(resp->buf, resp->len, "\r\n\r\n", 4);
	long status;

	if (!end)
		return false;
	resp->head_len = (size_t)(end + 4 - resp->buf);
	resp->content_length = -1;
	if (resp->len < 12 || strncmp(resp->buf, "HTTP/1.", 7) != 0 || resp->buf[8] != ' ')
		return true;	/* status stays 0: bad_response */
	char code[4] = { resp->buf[9], resp->buf[10], resp->buf[11], '\0' };

	if (!parse_long(code, 100, 599, &status))
		return true;
	resp->status = (int)status;
	/* memmem, not strstr: a NUL in the head must not hide its end */
	for (char *p = (char *)memmem(resp->buf, resp->head_len, "\r\n", 2) + 2; p < end;) {
		char *e = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);

		*e = '\0';
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			char *v = p + 15;

			while (*v == ' ')
				v++;
			if (!parse_long(v, 0, RESP_MAX, &resp->content_length))
				resp->status = 0;
		} else if (strncasecmp(p, "Connection:", 11) == 0 && strcasestr(p + 11, "close")) {
			resp->conn_close = true;
		}
		*e = '\r';
		p = e + 2;
	}
	return true;
}

/* Reads one answer. Returns true when a complete answer is in resp. */
static bool read_response(int fd, struct response *resp, uint64_t deadline,
			  const struct opts *o, struct result *r)
{
	for (;;) {
		if (resp->head_len && resp->content_length >= 0 &&
		    resp->len >= resp->head_len + (size_t)resp->content_length)
			return true;
		if (resp->len == RESP_MAX) {
			set_result(r, EV_BAD, "answer larger than %d bytes", RESP_MAX);
			return false;
		}
		ssize_t n = recv(fd, resp->buf + resp->len, RESP_MAX - resp->len, 0);

		if (n > 0) {
			resp->len += (size_t)n;
			resp->buf[resp->len] = '\0';
			if (!resp->head_len && parse_head(resp) && resp->status == 0) {
				set_result(r, EV_BAD, "malformed status line or headers");
				return false;
			}
			continue;
		}
		if (n == 0) {
			if (resp->head_len && resp->content_length < 0)
				return true;
			if (resp->len == 0)
				set_result(r, EV_RESET, "connection closed by the server before any answer");
			else
				set_result(r, EV_BAD, "connection closed in the middle of the answer "
					   "(%zu bytes)", resp->len);
			return false;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			set_errno_result(r, "recv", errno);
			return false;
		}
		int w = wait_fd(fd, POLLIN, deadline);

		if (w == -EINTR) {
			r->aborted = true;
			return false;
		}
		if (w == 0) {
			set_result(r, EV_TIMEOUT, "read timed out after %ld ms (%zu bytes received)",
				   o->timeout_ms, resp->len);
			return false;
		}
		if (w < 0) {
			set_errno_result(r, "poll", -w);
			return false;
		}
	}
}

/* The body OKX sends: {"code":"0","msg":"","data":[{"ts":"<digits>"}]} */
static bool body_is_okx_time(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	bool good = false;

	if (!root)
		return false;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const cJSON *first = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : NULL;
	const cJSON *ts = first ? cJSON_GetObjectItemCaseSensitive(first, "ts") : NULL;

	if (cJSON_IsString(code) && strcmp(code->valuestring, "0") == 0 && cJSON_IsString(ts) &&
	    ts->valuestring[0] && strspn(ts->valuestring, "0123456789") == strlen(ts->valuestring))
		good = true;
	cJSON_Delete(root);
	return good;
}

static void judge_response(const struct response *resp, struct result *r)
{
	const char *body = resp->buf + resp->head_len;
	size_t blen = resp->len - resp->head_len;

	if (resp->content_length >= 0)
		blen = (size_t)resp->content_length;
	if (resp->status != 200) {
		int show = blen > 100 ? 100 : (int)blen;

		set_result(r, EV_HTTP, "HTTP %d: %.*s", resp->status, show, body);
		return;
	}
	if (!body_is_okx_time(body, blen)) {
		int show = blen > 100 ? 100 : (int)blen;

		set_result(r, EV_BAD, "unexpected body: %.*s", show, body);
		return;
	}
	r->ok = true;
}

/* A kept-alive connection the server closed (or reset) while idle is
 * replaced without an error, as urllib3 and aiohttp do. */
static void drop_if_stale(struct state *st)
{
	char c;

	if (st->fd < 0)
		return;
	ssize_t n = recv(st->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	close(st->fd);
	st->fd = -1;
}

static void do_call(const struct opts *o, struct state *st, struct response *resp,
		    struct result *r)
{
	uint64_t deadline = mono_ms() + (uint64_t)o->timeout_ms;
	struct sockaddr_storage addr = o->addr;
	socklen_t addrlen = o->addrlen;
	char req[1536];
	int fd, n;

	memset(r, 0, sizeof(*r));
	if (o->keepalive)
		drop_if_stale(st);
	fd = st->fd;
	if (fd < 0 && o->resolve_each && !lookup_again(o, &addr, &addrlen, r))
		return;
	if (fd < 0 && (fd = do_connect(o, &addr, addrlen, deadline, r)) < 0)
		return;
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s%s%s:%s\r\n"
		     "User-Agent: connector_sim\r\n"
		     "Accept: application/json\r\n"
		     "Connection: %s\r\n"
		     "\r\n",
		     o->path, strchr(o->host, ':') ? "[" : "", o->host,
		     strchr(o->host, ':') ? "]" : "", o->port, o->keepalive ? "keep-alive" : "close");
	resp->len = resp->head_len = 0;
	resp->status = 0;
	resp->conn_close = false;
	resp->buf[0] = '\0';
	if (n > 0 && (size_t)n < sizeof(req) && send_all(fd, req, (size_t)n, deadline, o, r) &&
	    read_response(fd, resp, deadline, o, r))
		judge_response(resp, r);
	if (o->keepalive && !r->aborted && (r->ok || r->type == EV_HTTP) && !resp->conn_close) {
		st->fd = fd;
		return;
	}
	close(fd);
	st->fd = -1;
}

/* --no-net-errors, --no-dns-errors: counted, not recorded */
static bool unrecorded(const struct opts *o, enum ev_type t)
{
	return (o->no_net_errors && t <= EV_TIMEOUT) || (o->no_dns_errors && t == EV_DNS);
}

static void record(const struct opts *o, struct state *st, const struct result *r)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (o->verbose) {
		char ts[48];

		rfc3339_us(&now, ts, sizeof(ts));
		fprintf(stderr, "connector_sim: %s %s: %s%s\n", ts, ev_names[r->type], r->message,
			unrecorded(o, r->type) ? " (not recorded)" : "");
	}
	st->by_type[r->type]++;
	if (unrecorded(o, r->type)) {
		st->unrecorded++;
		return;
	}
	st->error_count++;
	if (st->nevents == MAX_EVENTS) {
		st->truncated++;
		return;
	}
	struct event *e = &st->events[st->nevents++];

	e->type = r->type;
	e->ts = now;
	snprintf(e->message, sizeof(e->message), "%s", r->message);
}

static void add_call(const struct opts *o, struct state *st, const struct result *r, double ms,
		     const struct timespec *end)
{
	struct call_rec *c;

	if (st->ncalls == MAX_CALLS) {
		st->calls_not_stored++;
		return;
	}
	c = &st->callv[st->ncalls++];
	c->ts = *end;
	c->latency_ms = ms;
	c->ok = r->ok ? 1 : o->no_net_errors && r->type <= EV_TIMEOUT ? -1 : 0;
}

static void run(const struct opts *o, struct state *st)
{
	static struct response resp;
	uint64_t t0, k = 0;

	if (!sleep_until_ns((mono_ms() + o->warmup_ms) * 1000000u))
		return;
	t0 = mono_ms();
	for (;;) {
		uint64_t slot = k * (uint64_t)o->rate_ms;
		struct result r;

		if (slot >= o->duration_ms || !sleep_until_ns((t0 + slot) * 1000000u))
			return;
		struct timespec m0, m1;

		clock_gettime(CLOCK_MONOTONIC, &m0);
		do_call(o, st, &resp, &r);
		if (r.aborted)
			return;
		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, st->calls ? &st->last_call : &st->first_call);
		add_call(o, st, &r, (double)(m1.tv_sec - m0.tv_sec) * 1e3 + (double)(m1.tv_nsec - m0.tv_nsec) / 1e6,
			 st->calls ? &st->last_call : &st->first_call);
		if (!st->calls)
			st->last_call = st->first_call;
		st->calls++;
		if (r.ok)
			st->ok++;
		else
			record(o, st, &r);
		/* Next slot: the first one not already in the past. */
		uint64_t elapsed = mono_ms() - t0;
		uint64_t next = (elapsed + (uint64_t)o->rate_ms - 1) / (uint64_t)o->rate_ms;

		k = next > k + 1 ? next : k + 1;
	}
}

static cJSON *add_ts(cJSON *obj, const char *key, const struct timespec *ts)
{
	char buf[48];

	if (!ts->tv_sec)
		return cJSON_AddNullToObject(obj, key);
	rfc3339_us(ts, buf, sizeof(buf));
	return cJSON_AddStringToObject(obj, key, buf);
}

/* "calls": [{"ts", "latency_ms", "ok"}], next to the fingerprint */
static int add_calls(cJSON *root, const struct state *st)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "calls");

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < st->ncalls; i++) {
		cJSON *c = cJSON_CreateObject();
		char ts[48];

		if (!c || !cJSON_AddItemToArray(arr, c))
			return -ENOMEM;
		rfc3339_us(&st->callv[i].ts, ts, sizeof(ts));
		if (!cJSON_AddStringToObject(c, "ts", ts) ||
		    !cJSON_AddNumberToObject(c, "latency_ms", round(st->callv[i].latency_ms * 1000) / 1000) ||
		    (st->callv[i].ok >= 0 && !cJSON_AddBoolToObject(c, "ok", st->callv[i].ok)))
			return -ENOMEM;
	}
	return 0;
}

static int write_output(const struct opts *o, const struct state *st)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *fp = cJSON_AddObjectToObject(root, "execution_fingerprint");
	char *text = NULL, tmp[4096];
	FILE *f = NULL;
	int ret = -ENOMEM;

	if (!fp)
		goto out;
	cJSON_AddStringToObject(fp, "connector", "connector_sim");
	cJSON_AddNumberToObject(fp, "calls", (double)st->calls);
	cJSON_AddNumberToObject(fp, "ok", (double)st->ok);
	cJSON_AddNumberToObject(fp, "error_count", (double)st->error_count);
	cJSON *arr = cJSON_AddArrayToObject(fp, "error_events");

	if (!arr)
		goto out;
	for (size_t i = 0; i < st->nevents; i++) {
		cJSON *e = cJSON_CreateObject();
		char ts[48];

		if (!e || !cJSON_AddItemToArray(arr, e))
			goto out;
		rfc3339_us(&st->events[i].ts, ts, sizeof(ts));
		cJSON_AddStringToObject(e, "type", ev_names[st->events[i].type]);
		cJSON_AddStringToObject(e, "ts", ts);
		cJSON_AddStringToObject(e, "message", st->events[i].message);
	}
	cJSON_AddNumberToObject(fp, "unrecorded_errors", (double)st->unrecorded);
	if (st->truncated)
		cJSON_AddNumberToObject(fp, "events_not_stored", (double)st->truncated);
	cJSON_AddStringToObject(fp, "url", o->url);
	cJSON_AddStringToObject(fp, "mode", o->keepalive ? "keepalive" : "fresh");
	add_ts(fp, "first_call_ts", &st->first_call);
	add_ts(fp, "last_call_ts", &st->last_call);
	if (st->calls_not_stored)
		cJSON_AddNumberToObject(fp, "calls_not_stored", (double)st->calls_not_stored);
	if (add_calls(root, st) < 0)
		goto out;
	text = cJSON_Print(root);
	if (!text)
		goto out;

	/* Write aside and rename, so a reader never sees half a file. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", o->out) >= sizeof(tmp)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		ret = -errno;
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		ret = -errno;
		goto out;
	}
	f = NULL;
	if (rename(tmp, o->out) < 0) {
		ret = -errno;
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (ret < 0)
		fprintf(stderr, "connector_sim: writing %s: %s\n", o->out, strerror(-ret));
	free(text);
	cJSON_Delete(root);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: connector_sim --url http://ADDR:PORT/PATH --out FILE.json\n"
		"                     [--warmup DUR] [--rate-ms N] [--duration DUR] [--timeout-ms N]\n"
		"                     [--keepalive|--fresh] [--no-net-errors]\n"
		"                     [--resolve-each [--no-dns-errors]] [-v]\n"
		"  DUR: N[ms|s|m|h] (bare N = seconds); defaults: warmup 0, rate-ms 1000,\n"
		"  duration 10s (calling phase, after the warm-up), timeout-ms 2000\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	o->rate_ms = 1000;
	o->timeout_ms = 2000;
	o->duration_ms = 10000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool good = true;

		if (!strcmp(a, "--keepalive")) {
			o->keepalive = true;
			continue;
		} else if (!strcmp(a, "--fresh")) {
			o->keepalive = false;
			continue;
		} else if (!strcmp(a, "--no-net-errors")) {
			o->no_net_errors = true;
			continue;
		} else if (!strcmp(a, "--resolve-each")) {
			o->resolve_each = true;
			continue;
		} else if (!strcmp(a, "--no-dns-errors")) {
			o->no_dns_errors = true;
			continue;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!v) {
			fprintf(stderr, "connector_sim: unknown option or missing value: %s\n", a);
			return -EINVAL;
		}
		if (!strcmp(a, "--url"))
			o->url = v;
		else if (!strcmp(a, "--out"))
			o->out = v;
		else if (!strcmp(a, "--warmup"))
			good = parse_duration(v, &o->warmup_ms);
		else if (!strcmp(a, "--duration"))
			good = parse_duration(v, &o->duration_ms);
		else if (!strcmp(a, "--rate-ms"))
			good = parse_long(v, 1, 3600000, &o->rate_ms);
		else if (!strcmp(a, "--timeout-ms"))
			good = parse_long(v, 1, 600000, &o->timeout_ms);
		else {
			fprintf(stderr, "connector_sim: unknown option %s\n", a);
			return -EINVAL;
		}
		if (!good) {
			fprintf(stderr, "connector_sim: bad value for %s: '%s'\n", a, v);
			return -EINVAL;
		}
		i++;
	}
	if (!o->url || !o->out) {
		fprintf(stderr, "connector_sim: --url and --out are required\n");
		return -EINVAL;
	}
	if (!parse_url(o)) {
		fprintf(stderr, "connector_sim: bad --url '%s' (want http://HOST:PORT/PATH)\n", o->url);
		return -EINVAL;
	}
	if (o->no_dns_errors && !o->resolve_each) {
		fprintf(stderr, "connector_sim: --no-dns-errors needs --resolve-each (no lookup fails otherwise)\n");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct state st = { .fd = -1 };
	int rc = parse_args(argc, argv, &o);

	if (rc != 0) {
		if (rc < 0)
			usage(stderr);
		return rc > 0 ? 0 : 2;
	}
	if (resolve(&o) < 0)
		return 2;
	st.events = calloc(MAX_EVENTS, sizeof(*st.events));
	st.callv = calloc(MAX_CALLS, sizeof(*st.callv));
	if (!st.events || !st.callv) {
		free(st.events);
		free(st.callv);
		fprintf(stderr, "connector_sim: out of memory\n");
		return 1;
	}

	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0) {
		fprintf(stderr, "connector_sim: sigaction: %s\n", strerror(errno));
		free(st.events);
		free(st.callv);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	run(&o, &st);
	if (st.fd >= 0)
		close(st.fd);
	rc = write_output(&o, &st);
	printf("connector_sim: calls=%lu ok=%lu error_count=%lu unrecorded=%lu "
	       "(refused=%lu reset=%lu timeout=%lu http_error=%lu bad_response=%lu dns=%lu)%s out=%s\n",
	       st.calls, st.ok, st.error_count, st.unrecorded, st.by_type[EV_REFUSED],
	       st.by_type[EV_RESET], st.by_type[EV_TIMEOUT], st.by_type[EV_HTTP], st.by_type[EV_BAD],
	       st.by_type[EV_DNS],
	       stop_signal ? " stopped-by-signal" : "", o.out);
	free(st.events);
	free(st.callv);
	return rc < 0 ? 1 : 0;
}
