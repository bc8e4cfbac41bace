/* SPDX-License-Identifier: MIT */
/* Policy files, okx-faultd.policy(5). The parser is fed bytes (from a file
 * read whole into memory, at most FILE_LIMIT bytes, or a buffer), cuts
 * them into lines of at most LINE_LIMIT bytes, parses each "key = value"
 * line on its own, and runs the checks that involve several keys once the whole file
 * has been read. Every error is collected as "FILE:LINE: message". */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "expect.h"
#include "policy.h"
#include "safefile.h"
#include "trust.h"
#include "sha256.h"

#define LINE_LIMIT 4096
#define FILE_LIMIT (1024 * 1024)
#define COUNT_MAX 1000000000000ull
#define REPEAT_MAX 10000
#define NAME_MAX_LEN 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum key_id {
	K_ALLOW_BROAD, K_ARM_DELAY, K_ARM_MIN_BYTES, K_ARM_MIN_CALLS, K_ARM_MIN_FLOWS, K_ARM_MIN_PACKETS,
	K_ARM_TIMEOUT, K_ARM_WINDOW, K_CGROUP, K_DIRECTION, K_EXEMPT, K_EXEMPT_PORT, K_FAULT,
	K_INTERFACE, K_JOURNAL, K_NAME, K_NETNS, K_PORT, K_PROTOCOL, K_REPEAT, K_RESOLVE_EVERY, K_TARGET,
	K_TARGET_HOST, K_UID, K__COUNT
};

struct perror_entry {
	int line; /* 0: about the whole file */
	size_t seq;
	char *text;
};

struct parser {
	struct policy *p;
	const char *path;
	struct perror_entry *errs;
	size_t n_errs, cap_errs;
	bool oom, too_big;
	/* the current line: at most LINE_LIMIT bytes plus a CR, plus a NUL */
	char line[LINE_LIMIT + 2];
	size_t line_len, line_total, file_total;
	char line_last;
	int lineno;
	int seen[K__COUNT]; /* first line of each key, 0: not given */
	bool bad[K__COUNT]; /* some value of the key was rejected */
	size_t cap_targets, cap_target_lines, cap_hosts, cap_ports, cap_exempt, cap_exempt_ports, cap_faults;
	size_t cap_uids, cap_cgroups;
	int *target_lines;  /* line of p->targets[i] */
	int exempt_none_line, exempt_ports_line;
	bool unparsed; /* a line was rejected before its key was known */
};

struct keyword {
	const char *name;
	enum key_id id;
	bool repeatable;
	void (*parse)(struct parser *ps, char *value);
};

static void *reserve(struct parser *ps, void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *q;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	q = reallocarray(arr, ncap, elem);
	if (!q) {
		ps->oom = true;
		return NULL;
	}
	*cap = ncap;
	return q;
}

static void perr(struct parser *ps, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void perr(struct parser *ps, int line, const char *fmt, ...)
{
	char msg[LINE_LIMIT + 512];
	struct perror_entry *e;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!(e = reserve(ps, ps->errs, &ps->cap_errs, ps->n_errs, sizeof(*ps->errs))))
		return;
	ps->errs = e;
	e = &ps->errs[ps->n_errs];
	e->line = line;
	e->seq = ps->n_errs;
	if (line > 0)
		n = asprintf(&e->text, "%s:%d: %s\n", ps->path, line, msg);
	else
		n = asprintf(&e->text, "%s: %s\n", ps->path, msg);
	if (n < 0) {
		ps->oom = true;
		return;
	}
	ps->n_errs++;
}

/* line-level error for the current line; marks the key's value as rejected */
#define LERR(ps, key, ...)                              \
	do {                                            \
		(ps)->bad[key] = true;                  \
		perr((ps), (ps)->lineno, __VA_ARGS__);  \
	} while (0)

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *trim(char *s)
{
	char *e;

	while (is_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space(e[-1]))
		*--e = '\0';
	return s;
}

/* next word of s separated by spaces or tabs, NULL at the end */
static char *next_word(char **s)
{
	char *w = *s;

	while (is_space(*w))
		w++;
	if (!*w)
		return NULL;
	*s = w;
	while (**s && !is_space(**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

/* Unsigned decimal, digits only (no sign, no hex, no spaces), <= max. */
static bool parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!is_digit(*s))
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			return false;
	}
	*out = n;
	return true;
}

/* ---- tables ---- */

static const char *const action_names[] = {
	[ACT_DROP] = "drop", [ACT_REJECT] = "reject", [ACT_LOSS] = "loss", [ACT_DELAY] = "delay", [ACT_PAUSE] = "pause",
	[ACT_DNS] = "dns",
};
static const char *const dns_mode_names[] = { [DNS_REFUSE] = "refuse", [DNS_DROP] = "drop" };
static const char *const proto_names[] = { [PROTO_TCP] = "tcp", [PROTO_UDP] = "udp", [PROTO_ANY] = "any" };
static const char *const direction_names[] = { [DIR_BOTH] = "both", [DIR_EGRESS] = "egress", [DIR_INGRESS] = "ingress" };
static const char *const reject_names[] = {
	[REJ_DEFAULT] = "default", [REJ_TCP_RESET] = "tcp-reset", [REJ_ICMP_PORT] = "icmp-port",
	[REJ_ICMP_HOST] = "icmp-host", [REJ_ICMP_NET] = "icmp-net", [REJ_ICMP_ADMIN] = "icmp-admin",
};

const char *action_name(enum fault_action a)
{
	return (unsigned)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

const char *dns_mode_name(enum dns_mode m)
{
	return (unsigned)m < ARRAY_SIZE(dns_mode_names) ? dns_mode_names[m] : "?";
}

const char *proto_name(enum l4_proto p)
{
	return (unsigned)p < ARRAY_SIZE(proto_names) ? proto_names[p] : "?";
}

const char *direction_name(enum direction d)
{
	return (unsigned)d < ARRAY_SIZE(direction_names) ? direction_names[d] : "?";
}

const char *reject_with_name(enum reject_with w)
{
	return (unsigned)w < ARRAY_SIZE(reject_names) ? reject_names[w] : "?";
}

/* index of s in names[first..n), or -1; exact match only */
static int lookup(const char *const *names, size_t first, size_t n, const char *s)
{
	size_t i;

	for (i = first; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- values ---- */

static void dur_error(struct parser *ps, enum key_id key, const char *what, const char *tok, enum duration_err e,
		      bool zero_ok)
{
	switch (e) {
	case DUR_RANGE:
		LERR(ps, key, "%s '%s' out of range (%s1ms to 24h)", what, tok, zero_ok ? "0s, or " : "");
		break;
	case DUR_NO_UNIT:
		LERR(ps, key, "%s '%s' has no unit (ms, s, m or h)", what, tok);
		break;
	case DUR_BAD_UNIT:
		LERR(ps, key, "%s '%s' has an unknown unit (ms, s, m or h)", what, tok);
		break;
	default:
		LERR(ps, key, "invalid %s '%s' (an integer and a unit: ms, s, m or h)", what, tok);
		break;
	}
}

static bool get_duration(struct parser *ps, enum key_id key, const char *what, const char *tok, uint64_t *ms)
{
	enum duration_err e = duration_check(tok, ms);

	if (e != DUR_OK)
		dur_error(ps, key, what, tok, e, false);
	return e == DUR_OK;
}

static bool get_percent(struct parser *ps, enum key_id key, const char *what, const char *tok, uint32_t *pct)
{
	if (percent_parse(tok, pct))
		return true;
	LERR(ps, key, "invalid %s '%s' (a percentage 0-100, up to 3 decimals, optional %%)", what, tok);
	return false;
}

static bool get_prefix(struct parser *ps, enum key_id key, const char *what, const char *tok, struct prefix *pf)
{
	struct prefix sug;
	char buf[PREFIX_STRLEN];

	switch (prefix_parse(tok, pf, &sug)) {
	case PREFIX_OK:
		return true;
	case PREFIX_BAD_ADDR:
		LERR(ps, key, "%s '%s' is not an IPv4 or IPv6 address or CIDR", what, tok);
		break;
	case PREFIX_BAD_LEN:
		LERR(ps, key, "%s '%s' has an invalid prefix length (0-%d for IPv%c)", what, tok,
		     prefix_max_len(pf->family), pf->family == AF_INET ? '4' : '6');
		break;
	case PREFIX_HOST_BITS:
		LERR(ps, key, "%s '%s' has host bits set; did you mean '%s'?", what, tok,
		     prefix_format(&sug, buf, sizeof(buf)));
		break;
	}
	return false;
}

static void parse_name(struct parser *ps, char *v)
{
	size_t i, n = strlen(v);
	bool ok = n <= NAME_MAX_LEN;

	for (i = 0; ok && i < n; i++)
		ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || is_digit(v[i]) || v[i] == '_' ||
		     v[i] == '.' || v[i] == '-';
	if (!ok) {
		LERR(ps, K_NAME, "invalid name '%s' (1-64 characters from A-Z a-z 0-9 _ . -)", v);
		return;
	}
	memcpy(ps->p->name, v, n + 1);
}

static void parse_target(struct parser *ps, char *v)
{
	struct policy *p = ps->p;
	struct prefix pf;
	void *t;

	if (!get_prefix(ps, K_TARGET, "target", v, &pf))
		return;
	if (!(t = reserve(ps, p->targets, &ps->cap_targets, p->n_targets, sizeof(*p->targets))))
		return;
	p->targets = t;
	if (!(t = reserve(ps, ps->target_lines, &ps->cap_target_lines, p->n_targets, sizeof(*ps->target_lines))))
		return;
	ps->target_lines = t;
	ps->target_lines[p->n_targets] = ps->lineno;
	p->targets[p->n_targets++] = pf;
}

static void parse_exempt(struct parser *ps, char *v)
{
	struct policy *p = ps->p;
	struct prefix pf;
	void *t;

	if (!get_prefix(ps, K_EXEMPT, "exempt", v, &pf))
		return;
	if (!(t = reserve(ps, p->exempt, &ps->cap_exempt, p->n_exempt, sizeof(*p->exempt))))
		return;
	p->exempt = t;
	p->exempt[p->n_exempt++] = pf;
}

/* Why s is not a DNS host name (RFC 1123 letters, digits, hyphens), or NULL. */
static const char *hostname_problem(const char *s)
{
	size_t n = strlen(s), label = 0, i;
	bool numeric = true;

	if (n && s[n - 1] == '.')
		n--; /* one trailing dot: fully qualified */
	if (n == 0)
		return "empty";
	if (n > 253)
		return "longer than 253 characters";
	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0)
				return "empty label";
			if (s[i - 1] == '-')
				return "a label ends with '-'";
			if (i < n)
				numeric = true;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-'))
			return "only letters, digits, '-' and '.' are allowed";
		if (c == '-' && label == 0)
			return "a label starts with '-'";
		if (++label > 63)
			return "a label is longer than 63 characters";
		if (!is_digit(c))
			numeric = false;
	}
	if (numeric)
		return "the last label is all digits";
	return NULL;
}

static void parse_target_host(struct parser *ps, char *v)
{
	struct policy *p = ps->p;
	const char *why;
	uint8_t addr[16];
	char *name;
	void *t;

	if (inet_pton(AF_INET, v, addr) == 1 || inet_pton(AF_INET6, v, addr) == 1) {
		LERR(ps, K_TARGET_HOST, "target_host '%s' is an address; use 'target = %s'", v, v);
		return;
	}
	if ((why = hostname_problem(v))) {
		LERR(ps, K_TARGET_HOST, "invalid target_host '%s': %s", v, why);
		return;
	}
	if (!(t = reserve(ps, p->hosts, &ps->cap_hosts, p->n_hosts, sizeof(*p->hosts))))
		return;
	p->hosts = t;
	if (!(name = strdup(v))) {
		ps->oom = true;
		return;
	}
	p->hosts[p->n_hosts].name = name;
	p->hosts[p->n_hosts++].line = ps->lineno;
}

static bool parse_port_number(struct parser *ps, enum key_id key, const char *what, const char *s, uint16_t *port)
{
	uint64_t n;

	if (!parse_dec(s, 999999, &n) || n < 1 || n > 65535) {
		LERR(ps, key, "%s '%s' out of range (1-65535)", what, s);
		return false;
	}
	*port = (uint16_t)n;
	return true;
}

/* "N" or "N-M", digits only */
static bool port_item_syntax_ok(const char *s)
{
	size_t a = strspn(s, "0123456789"), b;

	if (a == 0)
		return false;
	if (s[a] == '\0')
		return true;
	if (s[a] != '-')
		return false;
	b = strspn(s + a + 1, "0123456789");
	return b > 0 && s[a + 1 + b] == '\0';
}

/* "a", "a-b" or a comma list of those; each bad item is reported. */
static void parse_port_list(struct parser *ps, enum key_id key, char *v, struct port_range **arr, size_t *n,
			    size_t *cap)
{
	const char *what = key == K_PORT ? "port" : "exempt_port";
	char *item, *rest = v, *dash;

	for (;;) {
		struct port_range r;
		char *comma = strchr(rest, ',');
		void *t;

		if (comma)
			*comma = '\0';
		item = trim(rest);
		rest = comma ? comma + 1 : NULL;
		if (!*item) {
			LERR(ps, key, "empty item in %s list", what);
			goto next;
		}
		if (strcmp(item, "none") == 0 && key == K_EXEMPT_PORT) {
			LERR(ps, key, "exempt_port 'none' cannot be combined with ports");
			goto next;
		}
		if (!port_item_syntax_ok(item)) {
			LERR(ps, key, "invalid %s '%s' (a number 1-65535, a range a-b, or a comma list of those)", what,
			     item);
			goto next;
		}
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (!parse_port_number(ps, key, what, item, &r.lo))
			goto next;
		r.hi = r.lo;
		if (dash && !parse_port_number(ps, key, what, dash + 1, &r.hi))
			goto next;
		if (r.lo > r.hi) {
			LERR(ps, key, "%s range '%u-%u' is reversed (did you mean '%u-%u'?)", what, r.lo, r.hi, r.hi,
			     r.lo);
			goto next;
		}
		if (!(t = reserve(ps, *arr, cap, *n, sizeof(**arr))))
			return;
		*arr = t;
		(*arr)[(*n)++] = r;
next:
		if (!rest)
			break;
	}
}

static void parse_port(struct parser *ps, char *v)
{
	parse_port_list(ps, K_PORT, v, &ps->p->ports, &ps->p->n_ports, &ps->cap_ports);
}

static void parse_exempt_port(struct parser *ps, char *v)
{
	struct policy *p = ps->p;

	if (strcmp(v, "none") == 0) {
		if (ps->exempt_ports_line)
			LERR(ps, K_EXEMPT_PORT, "exempt_port 'none' cannot be combined with ports (line %d)",
			     ps->exempt_ports_line);
		else if (!ps->exempt_none_line)
			ps->exempt_none_line = ps->lineno;
		return;
	}
	if (ps->exempt_none_line) {
		LERR(ps, K_EXEMPT_PORT, "exempt_port '%s' cannot be combined with 'none' (line %d)", v,
		     ps->exempt_none_line);
		return;
	}
	if (!ps->exempt_ports_line)
		ps->exempt_ports_line = ps->lineno;
	parse_port_list(ps, K_EXEMPT_PORT, v, &p->exempt_ports, &p->n_exempt_ports, &ps->cap_exempt_ports);
}

static void parse_protocol(struct parser *ps, char *v)
{
	int i = lookup(proto_names, 0, ARRAY_SIZE(proto_names), v);

	if (i < 0)
		LERR(ps, K_PROTOCOL, "invalid protocol '%s' (tcp, udp or any)", v);
	else
		ps->p->protocol = (enum l4_proto)i;
}

static void parse_direction(struct parser *ps, char *v)
{
	int i = lookup(direction_names, 0, ARRAY_SIZE(direction_names), v);

	if (i < 0)
		LERR(ps, K_DIRECTION, "invalid direction '%s' (egress, ingress or both)", v);
	else
		ps->p->direction = (enum direction)i;
}

static void parse_interface(struct parser *ps, char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n < IF_NAMESIZE && strcmp(v, ".") != 0 && strcmp(v, "..") != 0 &&
		  !strpbrk(v, "/: \t");

	if (!ok) {
		LERR(ps, K_INTERFACE, "invalid interface name '%s' (1-15 characters, no '/', ':' or white space)", v);
		return;
	}
	memcpy(ps->p->interface, v, n + 1);
}

static void parse_count(struct parser *ps, enum key_id key, const char *what, const char *v, uint64_t *out)
{
	if (!parse_dec(v, COUNT_MAX, out))
		LERR(ps, key, "invalid %s '%s' (a decimal integer 0-1000000000000)", what, v);
}

static void parse_arm_min_calls(struct parser *ps, char *v)
{
	parse_count(ps, K_ARM_MIN_CALLS, "arm_min_calls", v, &ps->p->arm_min_calls);
}

static void parse_arm_min_flows(struct parser *ps, char *v)
{
	parse_count(ps, K_ARM_MIN_FLOWS, "arm_min_flows", v, &ps->p->arm_min_flows);
}

static void parse_arm_min_packets(struct parser *ps, char *v)
{
	parse_count(ps, K_ARM_MIN_PACKETS, "arm_min_packets", v, &ps->p->arm_min_packets);
}

static void parse_arm_min_bytes(struct parser *ps, char *v)
{
	parse_count(ps, K_ARM_MIN_BYTES, "arm_min_bytes", v, &ps->p->arm_min_bytes);
}

static void parse_arm_window(struct parser *ps, char *v)
{
	get_duration(ps, K_ARM_WINDOW, "arm_window", v, &ps->p->arm_window_ms);
}

static void parse_arm_timeout(struct parser *ps, char *v)
{
	get_duration(ps, K_ARM_TIMEOUT, "arm_timeout", v, &ps->p->arm_timeout_ms);
}

/* arm_delay alone may be zero ("0s": fault as soon as armed) */
/* `0` (alone, or with a unit: 0s, 0ms) re-resolves never: names are
 * resolved once, at start */
static void parse_resolve_every(struct parser *ps, char *v)
{
	size_t zeros = strspn(v, "0");
	enum duration_err e;

	if (zeros > 0 && (!v[zeros] || !strcmp(v + zeros, "ms") || !strcmp(v + zeros, "s") ||
			  !strcmp(v + zeros, "m") || !strcmp(v + zeros, "h"))) {
		ps->p->resolve_every_ms = 0;
		return;
	}
	e = duration_check(v, &ps->p->resolve_every_ms);
	if (e != DUR_OK)
		dur_error(ps, K_RESOLVE_EVERY, "resolve_every", v, e, true);
}

static void parse_arm_delay(struct parser *ps, char *v)
{
	enum duration_err e = duration_check(v, &ps->p->arm_delay_ms);
	size_t zeros = strspn(v, "0");

	if (e == DUR_RANGE && zeros > 0 &&
	    (!strcmp(v + zeros, "ms") || !strcmp(v + zeros, "s") || !strcmp(v + zeros, "m") || !strcmp(v + zeros, "h"))) {
		ps->p->arm_delay_ms = 0;
		return;
	}
	if (e != DUR_OK)
		dur_error(ps, K_ARM_DELAY, "arm_delay", v, e, true);
}

static void parse_repeat(struct parser *ps, char *v)
{
	uint64_t n;

	if (!parse_dec(v, REPEAT_MAX, &n) || n < 1)
		LERR(ps, K_REPEAT, "invalid repeat '%s' (an integer 1-10000)", v);
	else
		ps->p->repeat = n;
}

static void parse_journal(struct parser *ps, char *v)
{
	char *j = strdup(v);

	if (!j) {
		ps->oom = true;
		return;
	}
	free(ps->p->journal);
	ps->p->journal = j;
}

static void parse_allow_broad(struct parser *ps, char *v)
{
	if (strcmp(v, "yes") == 0)
		ps->p->allow_broad = true;
	else if (strcmp(v, "no") == 0)
		ps->p->allow_broad = false;
	else
		LERR(ps, K_ALLOW_BROAD, "invalid allow_broad '%s' (yes or no)", v);
}

/* ---- scope: uid, cgroup, netns ---- */

/* Append a scope word; a value given twice is an error naming both lines. */
static void add_word(struct parser *ps, enum key_id key, const char *what, struct policy_word **arr, size_t *n,
		     size_t *cap, const char *v)
{
	char *copy;
	void *t;

	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*arr)[i].value, v)) {
			LERR(ps, key, "%s '%s' given twice (first on line %d)", what, v, (*arr)[i].line);
			return;
		}
	}
	if (!(t = reserve(ps, *arr, cap, *n, sizeof(**arr))))
		return;
	*arr = t;
	if (!(copy = strdup(v))) {
		ps->oom = true;
		return;
	}
	(*arr)[*n].value = copy;
	(*arr)[(*n)++].line = ps->lineno;
}

/* A user name as useradd and systemd accept it (a letter or '_' first,
 * then letters, digits, '_', '.', '-', an optional final '$'), at most 32
 * bytes; or a number, 0 to 4294967294 (-1 is no user), without leading
 * zeros. */
static const char *uid_problem(const char *v)
{
	size_t n = strlen(v), i;
	uint64_t num;

	if (is_digit(v[0])) {
		if (!parse_dec(v, 4294967294ull, &num))
			return "a number must be 0-4294967294";
		if (v[0] == '0' && v[1])
			return "a number has no leading zeros";
		return NULL;
	}
	if (n > 32)
		return "a user name has at most 32 characters";
	if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z') || v[0] == '_'))
		return "a user name starts with a letter or '_'";
	for (i = 1; i < n; i++) {
		char c = v[i];

		if (c == '$' && i == n - 1)
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '.' ||
		      c == '-'))
			return "a user name has letters, digits, '_', '.', '-' and an optional final '$'";
	}
	return NULL;
}

static void parse_uid(struct parser *ps, char *v)
{
	const char *why = uid_problem(v);

	if (why) {
		LERR(ps, K_UID, "invalid uid '%s': %s", v, why);
		return;
	}
	add_word(ps, K_UID, "uid", &ps->p->uids, &ps->p->n_uids, &ps->cap_uids, v);
}

/* cgroup: a path below the cgroup2 root, with or without the leading '/';
 * kept without it (and without a trailing '/'), the form the kernel's
 * level counts from. */
static void parse_cgroup(struct parser *ps, char *v)
{
	char *path = v, *c;
	size_t depth = 0, n;

	while (*path == '/')
		path++;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		path[--n] = '\0';
	if (!n) {
		LERR(ps, K_CGROUP, "cgroup '%s' is the root cgroup, which holds every socket; leave 'cgroup' out instead", v);
		return;
	}
	if (strpbrk(path, " \t")) {
		LERR(ps, K_CGROUP, "invalid cgroup '%s': white space in the path", v);
		return;
	}
	for (c = path; c; c = strchr(c, '/')) {
		const char *comp = c == path ? c : ++c;
		size_t len = strcspn(comp, "/");

		if (!len || (len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.')) {
			LERR(ps, K_CGROUP, "invalid cgroup '%s': empty, '.' or '..' component", v);
			return;
		}
		if (++depth > POLICY_MAX_CGROUP_DEPTH) {
			LERR(ps, K_CGROUP, "invalid cgroup '%s': deeper than %u levels", v, POLICY_MAX_CGROUP_DEPTH);
			return;
		}
	}
	add_word(ps, K_CGROUP, "cgroup", &ps->p->cgroups, &ps->p->n_cgroups, &ps->cap_cgroups, path);
}

/* netns: a name under /run/netns (as `ip netns` makes them) or an absolute
 * path (/proc/PID/ns/net, a bind mount of one). */
static void parse_netns(struct parser *ps, char *v)
{
	size_t n = strlen(v);
	bool name = v[0] != '/';
	char *copy;

	if (strpbrk(v, " \t") || (name && (strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))) ||
	    n > (name ? 255u : 4095u)) {
		LERR(ps, K_NETNS,
		     "invalid netns '%s' (a name under /run/netns, or an absolute path such as /proc/PID/ns/net)", v);
		return;
	}
	if (!(copy = strdup(v))) {
		ps->oom = true;
		return;
	}
	ps->p->netns = copy;
	ps->p->netns_line = ps->lineno;
}

/* ---- fault = ACTION DURATION [opt=value ...] ---- */

enum fault_opt { O_WITH, O_PERCENT, O_LATENCY, O_JITTER, O_LOSS, O_MODE, O_EXPECT, O__COUNT };
static const char *const opt_names[] = {
	[O_WITH] = "with", [O_PERCENT] = "percent", [O_LATENCY] = "latency", [O_JITTER] = "jitter", [O_LOSS] = "loss",
	[O_MODE] = "mode", [O_EXPECT] = "expect",
};
/* options each action accepts, and how to say so */
static const struct {
	unsigned opts;
	const char *expect;
} action_opts[] = {
	[ACT_DROP] = { 1u << O_EXPECT, "expect" },
	[ACT_REJECT] = { 1u << O_WITH | 1u << O_EXPECT, "with or expect" },
	[ACT_LOSS] = { 1u << O_PERCENT | 1u << O_EXPECT, "percent or expect" },
	[ACT_DELAY] = { 1u << O_LATENCY | 1u << O_JITTER | 1u << O_LOSS | 1u << O_EXPECT,
			"latency, jitter, loss or expect" },
	[ACT_PAUSE] = { 0, NULL },
	[ACT_DNS] = { 1u << O_MODE | 1u << O_EXPECT, "mode or expect" },
};

static bool parse_fault_opt(struct parser *ps, struct fault *f, enum fault_opt o, const char *v)
{
	int i;

	switch (o) {
	case O_WITH:
		i = lookup(reject_names, REJ_TCP_RESET, ARRAY_SIZE(reject_names), v);
		if (i < 0) {
			LERR(ps, K_FAULT, "invalid with '%s' (tcp-reset, icmp-port, icmp-host, icmp-net or icmp-admin)",
			     v);
			return false;
		}
		f->with = (enum reject_with)i;
		return true;
	case O_PERCENT:
		return get_percent(ps, K_FAULT, "percent", v, &f->percent);
	case O_LOSS:
		return get_percent(ps, K_FAULT, "loss", v, &f->loss);
	case O_LATENCY:
		return get_duration(ps, K_FAULT, "latency", v, &f->latency_ms);
	case O_JITTER:
		return get_duration(ps, K_FAULT, "jitter", v, &f->jitter_ms);
	case O_MODE:
		i = lookup(dns_mode_names, 0, ARRAY_SIZE(dns_mode_names), v);
		if (i < 0) {
			LERR(ps, K_FAULT, "invalid mode '%s' (refuse or drop)", v);
			return false;
		}
		f->mode = (enum dns_mode)i;
		return true;
	case O_EXPECT:
		if (!expect_parse(v, &f->expect)) {
			LERR(ps, K_FAULT, "invalid expect '%s' (errors, latency or any)", v);
			return false;
		}
		return true;
	default:
		return false;
	}
}

enum fopt_result { FOPT_OK, FOPT_BAD, FOPT_UNKNOWN, FOPT_STOP };

/* One "name=value" word of a fault; val[] keeps each option's value text. */
static enum fopt_result fault_option(struct parser *ps, struct fault *f, char *w, const char **val)
{
	const char *an = action_name(f->action);
	unsigned allowed = action_opts[f->action].opts;
	char *eq = strchr(w, '=');
	int o;

	if (!allowed) {
		LERR(ps, K_FAULT, "'%s' takes no options, got '%s'", an, w);
		return FOPT_STOP;
	}
	if (!eq) {
		/* the words after it are probably the rest of "opt = value" */
		LERR(ps, K_FAULT, "missing '=' in fault option '%s' (write name=value, no spaces)", w);
		return FOPT_STOP;
	}
	*eq = '\0';
	o = lookup(opt_names, 0, ARRAY_SIZE(opt_names), w);
	if (o < 0 || !(allowed & (1u << o))) {
		LERR(ps, K_FAULT, "unknown option '%s' for '%s' (%s)", w, an, action_opts[f->action].expect);
		return FOPT_UNKNOWN;
	}
	if (val[o]) {
		LERR(ps, K_FAULT, "option '%s' given twice", w);
		return FOPT_BAD;
	}
	val[o] = eq + 1;
	if (!eq[1]) {
		LERR(ps, K_FAULT, "empty value for option '%s'", w);
		return FOPT_BAD;
	}
	return parse_fault_opt(ps, f, (enum fault_opt)o, eq + 1) ? FOPT_OK : FOPT_BAD;
}

/* required options and the checks between options of one fault */
static bool fault_complete(struct parser *ps, const struct fault *f, const char **val, bool opts_ok)
{
	bool ok = true;

	if (f->action == ACT_LOSS && !val[O_PERCENT]) {
		LERR(ps, K_FAULT, "'loss' needs percent=P (e.g. percent=30)");
		ok = false;
	}
	if (f->action == ACT_DELAY && !val[O_LATENCY]) {
		LERR(ps, K_FAULT, "'delay' needs latency=DURATION (e.g. latency=200ms)");
		ok = false;
	}
	if (opts_ok && val[O_JITTER] && val[O_LATENCY] && f->jitter_ms > f->latency_ms) {
		LERR(ps, K_FAULT, "jitter '%s' exceeds latency '%s'", val[O_JITTER], val[O_LATENCY]);
		ok = false;
	}
	return ok;
}

static void parse_fault(struct parser *ps, char *v)
{
	struct policy *p = ps->p;
	struct fault f = { .line = ps->lineno };
	const char *val[O__COUNT] = { NULL };
	char *an, *w, *rest = v;
	bool dur_ok, opts_ok = true, unknown = false;
	int a;
	void *t;

	an = next_word(&rest);
	a = lookup(action_names, 0, ARRAY_SIZE(action_names), an);
	if (a < 0) {
		LERR(ps, K_FAULT, "unknown action '%s' (drop, reject, loss, delay, dns or pause)", an);
		return;
	}
	f.action = (enum fault_action)a;
	f.expect = expect_default(an);
	if (!(w = next_word(&rest))) {
		LERR(ps, K_FAULT, "fault '%s' needs a duration, e.g. '%s 90s'", an, an);
		return;
	}
	dur_ok = get_duration(ps, K_FAULT, "fault duration", w, &f.duration_ms);
	while ((w = next_word(&rest))) {
		enum fopt_result r = fault_option(ps, &f, w, val);

		if (r == FOPT_STOP)
			return;
		unknown |= r == FOPT_UNKNOWN;
		opts_ok &= r == FOPT_OK;
	}
	/* a misspelt option may be the required one: say only that */
	if (unknown)
		return;
	if (!fault_complete(ps, &f, val, opts_ok) || !dur_ok || !opts_ok)
		return;
	if (!(t = reserve(ps, p->faults, &ps->cap_faults, p->n_faults, sizeof(*p->faults))))
		return;
	p->faults = t;
	p->faults[p->n_faults++] = f;
}

/* Sorted by name: looked up with bsearch, exact match only. */
static const struct keyword keywords[] = {
	{ "allow_broad", K_ALLOW_BROAD, false, parse_allow_broad },
	{ "arm_delay", K_ARM_DELAY, false, parse_arm_delay },
	{ "arm_min_bytes", K_ARM_MIN_BYTES, false, parse_arm_min_bytes },
	{ "arm_min_calls", K_ARM_MIN_CALLS, false, parse_arm_min_calls },
	{ "arm_min_flows", K_ARM_MIN_FLOWS, false, parse_arm_min_flows },
	{ "arm_min_packets", K_ARM_MIN_PACKETS, false, parse_arm_min_packets },
	{ "arm_timeout", K_ARM_TIMEOUT, false, parse_arm_timeout },
	{ "arm_window", K_ARM_WINDOW, false, parse_arm_window },
	{ "cgroup", K_CGROUP, true, parse_cgroup },
	{ "direction", K_DIRECTION, false, parse_direction },
	{ "exempt", K_EXEMPT, true, parse_exempt },
	{ "exempt_port", K_EXEMPT_PORT, true, parse_exempt_port },
	{ "fault", K_FAULT, true, parse_fault },
	{ "interface", K_INTERFACE, false, parse_interface },
	{ "journal", K_JOURNAL, false, parse_journal },
	{ "name", K_NAME, false, parse_name },
	{ "netns", K_NETNS, false, parse_netns },
	{ "port", K_PORT, true, parse_port },
	{ "protocol", K_PROTOCOL, false, parse_protocol },
	{ "repeat", K_REPEAT, false, parse_repeat },
	{ "resolve_every", K_RESOLVE_EVERY, false, parse_resolve_every },
	{ "target", K_TARGET, true, parse_target },
	{ "target_host", K_TARGET_HOST, true, parse_target_host },
	{ "uid", K_UID, true, parse_uid },
};

static int keyword_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct keyword *)elem)->name);
}

static const struct keyword *keyword_find(const char *name)
{
	return bsearch(name, keywords, ARRAY_SIZE(keywords), sizeof(keywords[0]), keyword_cmp);
}

/* ---- lines ---- */

/* Offset of the first byte that is not valid UTF-8, or len. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t k, n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return i;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len)
				return i;
			if (s[i + k] < (k == 1 ? lo : 0x80) || s[i + k] > (k == 1 ? hi : 0xbf))
				return i;
		}
		i += n + 1;
	}
	return len;
}

/* Checks on the raw bytes of a line; true when the line may be parsed. */
static bool line_bytes_ok(struct parser *ps, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	size_t i;

	if (nul) {
		perr(ps, ps->lineno, "NUL byte at column %zu", (size_t)(nul - s) + 1);
		return false;
	}
	i = utf8_invalid_at((const unsigned char *)s, len);
	if (i < len) {
		perr(ps, ps->lineno, "invalid UTF-8 byte 0x%02x at column %zu", (unsigned char)s[i], i + 1);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			perr(ps, ps->lineno, "control character 0x%02x at column %zu", c, i + 1);
			return false;
		}
	}
	return true;
}

static void parse_line(struct parser *ps, char *s, size_t len)
{
	const struct keyword *kw;
	char *key, *value, *eq;
	size_t i;

	if (!line_bytes_ok(ps, s, len)) {
		ps->unparsed = true;
		return;
	}
	s[len] = '\0';
	/* '#' starts a comment at line start or after white space only, so
	 * that a '#' inside a value (a path, say) is kept */
	for (i = 0; i < len; i++) {
		if (s[i] == '#' && (i == 0 || is_space(s[i - 1]))) {
			s[i] = '\0';
			break;
		}
	}
	s = trim(s);
	if (!*s)
		return;
	eq = strchr(s, '=');
	if (!eq) {
		perr(ps, ps->lineno, "missing '=' in '%s' (expected 'key = value')", s);
		ps->unparsed = true;
		return;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!*key) {
		perr(ps, ps->lineno, "missing key before '='");
		ps->unparsed = true;
		return;
	}
	kw = keyword_find(key);
	if (!kw) {
		char lower[LINE_LIMIT + 1];

		for (i = 0; key[i]; i++)
			lower[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
		lower[i] = '\0';
		if (keyword_find(lower))
			perr(ps, ps->lineno, "unknown key '%s' (keys are lower case: '%s')", key, lower);
		else
			perr(ps, ps->lineno, "unknown key '%s'", key);
		return;
	}
	if (ps->seen[kw->id] && !kw->repeatable) {
		perr(ps, ps->lineno, "'%s' given twice (first on line %d)", kw->name, ps->seen[kw->id]);
		return;
	}
	if (!ps->seen[kw->id])
		ps->seen[kw->id] = ps->lineno;
	if (!*value) {
		LERR(ps, kw->id, "empty value for '%s'", kw->name);
		return;
	}
	kw->parse(ps, value);
}

static void end_line(struct parser *ps)
{
	/* a CRLF line ends like an LF line */
	size_t content = ps->line_total - (ps->line_total && ps->line_last == '\r');

	ps->lineno++;
	if (content > LINE_LIMIT) {
		perr(ps, ps->lineno, "line too long (%zu bytes, limit %d)", content, LINE_LIMIT);
		ps->unparsed = true;
	} else
		parse_line(ps, ps->line, content);
	ps->line_len = ps->line_total = 0;
	ps->line_last = '\0';
}

/* Cut data into lines; only the first LINE_LIMIT + 1 bytes of a line are
 * kept, the rest of an overlong line is only counted. */
static void feed(struct parser *ps, const char *data, size_t n)
{
	if (ps->too_big)
		return;
	if (n > FILE_LIMIT - ps->file_total) {
		ps->too_big = true;
		return;
	}
	ps->file_total += n;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t chunk = nl ? (size_t)(nl - data) : n;
		size_t room = LINE_LIMIT + 1 - ps->line_len;
		size_t take = chunk < room ? chunk : room;

		memcpy(ps->line + ps->line_len, data, take);
		ps->line_len += take;
		ps->line_total += chunk;
		if (chunk)
			ps->line_last = data[chunk - 1];
		if (!nl)
			return;
		end_line(ps);
		data += chunk + 1;
		n -= chunk + 1;
	}
}

/* ---- whole file ---- */

static int port_range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi < y->hi ? -1 : x->hi > y->hi);
}

/* sort and merge overlapping or adjacent ranges: the canonical form, and
 * what an nftables interval set accepts */
static void port_ranges_normalize(struct port_range *r, size_t *n)
{
	size_t i, out = 0;

	if (!*n)
		return;
	qsort(r, *n, sizeof(*r), port_range_cmp);
	for (i = 1; i < *n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	*n = out + 1;
}

static bool port_covered(const struct port_range *r, size_t n, const struct port_range *x)
{
	size_t i;

	/* r is normalized: disjoint and not adjacent, so one range must hold x */
	for (i = 0; i < n; i++)
		if (r[i].lo <= x->lo && x->hi <= r[i].hi)
			return true;
	return false;
}

static void check_targets(struct parser *ps)
{
	const struct policy *p = ps->p;
	char buf[PREFIX_STRLEN];
	size_t i;

	if (p->allow_broad || ps->bad[K_ALLOW_BROAD] || !ps->target_lines)
		return;
	for (i = 0; i < p->n_targets; i++) {
		const struct prefix *t = &p->targets[i];
		int min = t->family == AF_INET ? 8 : 16;

		if (t->len < min)
			perr(ps, ps->target_lines[i], "target '%s' is wider than /%d; set 'allow_broad = yes' to allow it",
			     prefix_format(t, buf, sizeof(buf)), min);
	}
}

static void check_faults(struct parser *ps)
{
	struct policy *p = ps->p;
	size_t i, pauses = 0;

	for (i = 0; i < p->n_faults; i++) {
		struct fault *f = &p->faults[i];

		if (f->action == ACT_PAUSE)
			pauses++;
		if (f->action == ACT_DNS && !p->n_hosts && !ps->bad[K_TARGET_HOST] && !ps->unparsed)
			perr(ps, f->line, "'dns' needs a 'target_host': it fails the queries for those names");
		if (f->action != ACT_REJECT)
			continue;
		if (f->with == REJ_DEFAULT)
			f->with = p->protocol == PROTO_TCP ? REJ_TCP_RESET : REJ_ICMP_PORT;
		else if (f->with == REJ_TCP_RESET && p->protocol != PROTO_TCP && !ps->bad[K_PROTOCOL])
			perr(ps, f->line, "'with=tcp-reset' needs protocol tcp, but protocol is '%s' (line %d)",
			     proto_name(p->protocol), ps->seen[K_PROTOCOL]);
	}
	if (p->n_faults && pauses == p->n_faults && !ps->bad[K_FAULT] && !ps->unparsed) {
		if (p->n_faults == 1)
			perr(ps, p->faults[0].line, "the only fault is a 'pause'; nothing would be injected");
		else
			perr(ps, p->faults[0].line,
			     "every fault is a 'pause' (lines %d-%d); nothing would be injected",
			     p->faults[0].line, p->faults[p->n_faults - 1].line);
	}
}

static void check_ports(struct parser *ps)
{
	struct policy *p = ps->p;
	size_t i;

	if (!ps->seen[K_EXEMPT_PORT]) {
		void *t = reserve(ps, p->exempt_ports, &ps->cap_exempt_ports, 0, sizeof(*p->exempt_ports));

		if (!t)
			return;
		p->exempt_ports = t;
		p->exempt_ports[0] = (struct port_range){ 22, 22 };
		p->n_exempt_ports = 1;
	}
	port_ranges_normalize(p->ports, &p->n_ports);
	if (p->n_ports == 1 && p->ports[0].lo == 1 && p->ports[0].hi == 65535)
		p->n_ports = 0; /* all ports: the same as no port key */
	port_ranges_normalize(p->exempt_ports, &p->n_exempt_ports);
	if (!p->n_exempt_ports || ps->bad[K_PORT] || ps->bad[K_EXEMPT_PORT])
		return;
	if (!p->n_ports) {
		struct port_range all = { 1, 65535 };

		if (port_covered(p->exempt_ports, p->n_exempt_ports, &all))
			perr(ps, ps->seen[K_EXEMPT_PORT], "'exempt_port' covers every port (1-65535); nothing would be faulted");
		return;
	}
	for (i = 0; i < p->n_ports; i++)
		if (!port_covered(p->exempt_ports, p->n_exempt_ports, &p->ports[i]))
			return;
	if (ps->seen[K_EXEMPT_PORT])
		perr(ps, ps->seen[K_PORT], "every 'port' is also an 'exempt_port' (line %d); nothing would be faulted",
		     ps->seen[K_EXEMPT_PORT]);
	else
		perr(ps, ps->seen[K_PORT],
		     "every 'port' is also an 'exempt_port' (default 22); nothing would be faulted; "
		     "set 'exempt_port = none' to fault it");
}

/* Exempt ranges that cover every literal target leave nothing to fault
 * (with target_host the drill decides, once the names are resolved). */
static void check_exempt_targets(struct parser *ps)
{
	const struct policy *p = ps->p;

	if (!p->n_targets || !p->n_exempt || ps->seen[K_TARGET_HOST] || ps->bad[K_TARGET] || ps->bad[K_EXEMPT])
		return;
	for (size_t i = 0; i < p->n_targets; i++) {
		int r = prefix_union_covers(&p->targets[i], p->exempt, p->n_exempt);

		if (r < 0)
			ps->oom = true;
		if (r != 1)
			return;
	}
	perr(ps, ps->seen[K_EXEMPT], "'exempt' covers every target (line %d); nothing would be faulted",
	     ps->seen[K_TARGET]);
}

static void check_delay_limits(struct parser *ps, const struct fault *f)
{
	char a[DURATION_STRLEN], m[DURATION_STRLEN];

	duration_format(POLICY_MAX_DELAY_MS, m, sizeof(m));
	if (f->latency_ms > POLICY_MAX_DELAY_MS) {
		duration_format(f->latency_ms, a, sizeof(a));
		perr(ps, f->line, "delay latency '%s' is more than tc netem can encode (at most %s)", a, m);
	}
	if (f->jitter_ms > POLICY_MAX_DELAY_MS) {
		duration_format(f->jitter_ms, a, sizeof(a));
		perr(ps, f->line, "delay jitter '%s' is more than tc netem can encode (at most %s)", a, m);
	}
}

/* What the drill would refuse for its size, said here with the line
 * (okx-faultd.policy(5), LIMITS). */
static void check_limits(struct parser *ps)
{
	const struct policy *p = ps->p;

	for (size_t i = 0; i < p->n_faults; i++)
		if (p->faults[i].action == ACT_DELAY)
			check_delay_limits(ps, &p->faults[i]);
	if (p->n_faults > POLICY_MAX_FAULTS)
		perr(ps, p->faults[POLICY_MAX_FAULTS].line, "too many faults: %zu, at most %u fault lines", p->n_faults,
		     POLICY_MAX_FAULTS);
	if (p->arm_window_ms && p->arm_min_flows > POLICY_MAX_WINDOW_FLOWS && !ps->bad[K_ARM_MIN_FLOWS])
		perr(ps, ps->seen[K_ARM_MIN_FLOWS],
		     "arm_min_flows %" PRIu64 " with 'arm_window' (line %d): at most %u flows can be tracked in a window",
		     p->arm_min_flows, ps->seen[K_ARM_WINDOW], POLICY_MAX_WINDOW_FLOWS);
	check_exempt_targets(ps);
}

/* A uid or cgroup scope matches the socket that sends a packet: packets
 * received or forwarded have none (okx-faultd.policy(5), SCOPE). */
static void check_scope(struct parser *ps)
{
	const struct policy *p = ps->p;
	const char *key = p->n_uids ? "uid" : "cgroup";
	int line = p->n_uids ? p->uids[0].line : p->n_cgroups ? p->cgroups[0].line : 0;

	if (p->n_uids > POLICY_MAX_SCOPE)
		perr(ps, p->uids[POLICY_MAX_SCOPE].line, "too many uid lines: %zu, at most %u", p->n_uids,
		     POLICY_MAX_SCOPE);
	if (p->n_cgroups > POLICY_MAX_SCOPE)
		perr(ps, p->cgroups[POLICY_MAX_SCOPE].line, "too many cgroup lines: %zu, at most %u", p->n_cgroups,
		     POLICY_MAX_SCOPE);
	if (!line)
		return;
	if (p->direction == DIR_INGRESS && !ps->bad[K_DIRECTION])
		perr(ps, ps->seen[K_DIRECTION],
		     "'direction = ingress' cannot be scoped by '%s' (line %d): received packets have no socket owner, "
		     "a uid or cgroup scope acts on egress only",
		     key, line);
	for (size_t i = 0; i < p->n_faults; i++)
		if (p->faults[i].action == ACT_DNS)
			perr(ps, p->faults[i].line,
			     "'dns' cannot be scoped by '%s' (line %d): it also acts where queries are received or "
			     "forwarded, where packets have no socket owner; use 'netns' to drill one service's queries",
			     key, line);
}

/* A connector that keeps one connection open (keep-alive, websocket)
 * opens no new flow: with arm_min_calls given, flows are not required
 * unless arm_min_flows says so too (okx-faultd.policy(5)). */
static void check_arm_defaults(struct parser *ps)
{
	if (ps->seen[K_ARM_MIN_CALLS] && !ps->seen[K_ARM_MIN_FLOWS])
		ps->p->arm_min_flows = 0;
}

static void check_required(struct parser *ps)
{
	if (ps->unparsed)
		return; /* the key may be on a line that could not be read */
	if (!ps->seen[K_NAME])
		perr(ps, 0, "missing required key 'name'");
	if (!ps->seen[K_TARGET] && !ps->seen[K_TARGET_HOST])
		perr(ps, 0, "missing required key 'target' or 'target_host'");
	if (!ps->seen[K_FAULT])
		perr(ps, 0, "missing required key 'fault'");
}

static void parser_init(struct parser *ps, struct policy *p, const char *path)
{
	memset(ps, 0, sizeof(*ps));
	memset(p, 0, sizeof(*p));
	ps->p = p;
	ps->path = path;
	p->protocol = PROTO_TCP;
	p->direction = DIR_BOTH;
	p->arm_min_flows = 1;
	p->arm_timeout_ms = 30 * 60 * 1000;
	p->resolve_every_ms = 30 * 1000;
	p->repeat = 1;
	if (!(p->path = strdup(path)))
		ps->oom = true;
}

static void errors_clear(struct parser *ps)
{
	size_t i;

	for (i = 0; i < ps->n_errs; i++)
		free(ps->errs[i].text);
	ps->n_errs = 0;
}

static int perror_cmp(const void *a, const void *b)
{
	const struct perror_entry *x = a, *y = b;
	unsigned lx = (unsigned)x->line - 1, ly = (unsigned)y->line - 1; /* line 0 sorts last */

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All errors in line order (those about the whole file last), one string. */
static char *errors_join(struct parser *ps)
{
	size_t i, len = 0;
	char *s;

	qsort(ps->errs, ps->n_errs, sizeof(*ps->errs), perror_cmp);
	for (i = 0; i < ps->n_errs; i++)
		len += strlen(ps->errs[i].text);
	if (!(s = malloc(len + 1)))
		return NULL;
	len = 0;
	for (i = 0; i < ps->n_errs; i++) {
		size_t n = strlen(ps->errs[i].text);

		memcpy(s + len, ps->errs[i].text, n);
		len += n;
	}
	s[len] = '\0';
	return s;
}

/* Hands the error text to *errors and the result to the caller; on any
 * error the policy is released (and zeroed). */
static int parser_finish(struct parser *ps, int r, char **errors)
{
	if (r == 0 && ps->too_big) {
		errors_clear(ps);
		perr(ps, 0, "file too large (limit %d bytes)", FILE_LIMIT);
	} else if (r == 0) {
		if (ps->line_total)
			end_line(ps); /* last line without a newline */
		check_ports(ps);
		check_targets(ps);
		check_faults(ps);
		check_limits(ps);
		check_scope(ps);
		check_arm_defaults(ps);
		check_required(ps);
	}
	free(ps->target_lines);
	if (r == 0 && ps->oom)
		r = -ENOMEM;
	if (r == 0 && ps->n_errs)
		r = -EINVAL;
	if (r) {
		policy_free(ps->p);
		*errors = errors_join(ps);
		if (!*errors)
			r = -ENOMEM;
	}
	errors_clear(ps);
	free(ps->errs);
	return r;
}

int policy_parse_buffer(struct policy *p, const char *path, const char *buf, size_t len, char **errors)
{
	struct parser ps;
	int r;

	*errors = NULL;
	parser_init(&ps, p, path);
	feed(&ps, buf, len);
	r = parser_finish(&ps, 0, errors);
	if (r == 0)
		sha256_hex(buf, len, p->sha256);
	return r;
}

/* The file is read once, whole, and the same bytes are parsed and hashed
 * (the journal's policy_sha256 is then what ran, even from a pipe). The
 * trust check looks at the owner and mode of the descriptor read, so the
 * bytes parsed are the bytes checked. */
static int load(struct policy *p, const char *path, bool trusted_only, uid_t sudo_uid, char **errors)
{
	struct parser ps;
	struct stat st;
	char *buf = NULL, why[128] = "";
	size_t len = 0;
	int r = safefile_read_stat(path, FILE_LIMIT, &buf, &len, &st);

	*errors = NULL;
	if (r == 0 && (!trusted_only ||
		       trust_check(st.st_uid, st.st_mode, (st.st_mode & S_IWGRP) && trust_private_group(st.st_uid, st.st_gid),
				   sudo_uid, why, sizeof(why)) == 0)) {
		r = policy_parse_buffer(p, path, buf, len, errors);
		free(buf);
		return r;
	}
	free(buf);
	parser_init(&ps, p, path);
	if (r == 0) {
		perr(&ps, 0, "refused: %s; a policy run as root must be owned by root%s and writable by no one else",
		     why, sudo_uid == TRUST_NO_SUDO ? "" : " or the sudo user");
		r = -EPERM;
	} else if (r == -EFBIG) {
		r = 0;
		ps.too_big = true; /* parser_finish() words it */
	} else if (r == -EINVAL) {
		perr(&ps, 0, "not a regular file (a %s): a policy must be a file or a pipe",
		     safefile_type_name(st.st_mode & S_IFMT));
	} else {
		perr(&ps, 0, "%s", strerror(-r));
	}
	return parser_finish(&ps, r, errors);
}

int policy_load(struct policy *p, const char *path, char **errors)
{
	return load(p, path, false, TRUST_NO_SUDO, errors);
}

int policy_load_trusted(struct policy *p, const char *path, uid_t sudo_uid, char **errors)
{
	return load(p, path, true, sudo_uid, errors);
}

void policy_free(struct policy *p)
{
	size_t i;

	if (!p)
		return;
	free(p->path);
	free(p->targets);
	for (i = 0; i < p->n_hosts; i++)
		free(p->hosts[i].name);
	free(p->hosts);
	free(p->ports);
	free(p->exempt);
	free(p->exempt_ports);
	free(p->faults);
	free(p->journal);
	for (i = 0; i < p->n_uids; i++)
		free(p->uids[i].value);
	free(p->uids);
	for (i = 0; i < p->n_cgroups; i++)
		free(p->cgroups[i].value);
	free(p->cgroups);
	free(p->netns);
	memset(p, 0, sizeof(*p));
}

size_t policy_n_steps(const struct policy *p)
{
	return p->n_faults * (size_t)p->repeat;
}

bool policy_owner_scoped(const struct policy *p)
{
	return p->n_uids || p->n_cgroups;
}

const char *policy_scope_note(const struct policy *p)
{
	if (!policy_owner_scoped(p))
		return NULL;
	return "scoped by socket owner (uid, cgroup): faults act on egress only, on packets sent by the sockets in "
	       "scope (received and forwarded packets have no socket owner)";
}

int policy_netns_path(const struct policy *p, char *buf, size_t len)
{
	if (!p->netns)
		return -1;
	if (p->netns[0] == '/')
		return snprintf(buf, len, "%s", p->netns);
	return snprintf(buf, len, "/run/netns/%s", p->netns);
}

/* ---- printing ---- */

void fault_format_params(const struct fault *f, char *buf, size_t len)
{
	char a[DURATION_STRLEN], b[DURATION_STRLEN], c[PERCENT_STRLEN];
	int n;

	if (!len)
		return;
	buf[0] = '\0';
	switch (f->action) {
	case ACT_REJECT:
		if (f->with != REJ_DEFAULT)
			snprintf(buf, len, "with=%s", reject_with_name(f->with));
		break;
	case ACT_DNS:
		snprintf(buf, len, "mode=%s", dns_mode_name(f->mode));
		break;
	case ACT_LOSS:
		percent_format(f->percent, c, sizeof(c));
		snprintf(buf, len, "percent=%s", c);
		break;
	case ACT_DELAY:
		duration_format(f->latency_ms, a, sizeof(a));
		n = snprintf(buf, len, "latency=%s", a);
		if (f->jitter_ms && n >= 0 && (size_t)n < len) {
			duration_format(f->jitter_ms, b, sizeof(b));
			n += snprintf(buf + n, len - (size_t)n, " jitter=%s", b);
		}
		if (f->loss && n >= 0 && (size_t)n < len) {
			percent_format(f->loss, c, sizeof(c));
			snprintf(buf + n, len - (size_t)n, " loss=%s", c);
		}
		break;
	default:
		break;
	}
}

static void print_ports(FILE *out, const char *key, const struct port_range *r, size_t n)
{
	size_t i;

	fprintf(out, "%s = ", key);
	for (i = 0; i < n; i++) {
		fprintf(out, "%s%u", i ? "," : "", r[i].lo);
		if (r[i].hi != r[i].lo)
			fprintf(out, "-%u", r[i].hi);
	}
	if (!n)
		fputs("none", out);
	fputc('\n', out);
}

static void print_duration(FILE *out, const char *key, uint64_t ms)
{
	char buf[DURATION_STRLEN];

	duration_format(ms, buf, sizeof(buf));
	fprintf(out, "%s = %s\n", key, buf);
}

void policy_print(const struct policy *p, FILE *out)
{
	char buf[PREFIX_STRLEN], params[128], dur[DURATION_STRLEN];
	size_t i;

	fprintf(out, "name = %s\n", p->name);
	for (i = 0; i < p->n_targets; i++)
		fprintf(out, "target = %s\n", prefix_format(&p->targets[i], buf, sizeof(buf)));
	for (i = 0; i < p->n_hosts; i++)
		fprintf(out, "target_host = %s\n", p->hosts[i].name);
	if (p->n_ports)
		print_ports(out, "port", p->ports, p->n_ports);
	fprintf(out, "protocol = %s\n", proto_name(p->protocol));
	for (i = 0; i < p->n_exempt; i++)
		fprintf(out, "exempt = %s\n", prefix_format(&p->exempt[i], buf, sizeof(buf)));
	print_ports(out, "exempt_port", p->exempt_ports, p->n_exempt_ports);
	fprintf(out, "direction = %s\n", direction_name(p->direction));
	if (p->interface[0])
		fprintf(out, "interface = %s\n", p->interface);
	for (i = 0; i < p->n_uids; i++)
		fprintf(out, "uid = %s\n", p->uids[i].value);
	for (i = 0; i < p->n_cgroups; i++)
		fprintf(out, "cgroup = %s\n", p->cgroups[i].value);
	if (p->netns)
		fprintf(out, "netns = %s\n", p->netns);
	fprintf(out, "arm_min_flows = %llu\n", (unsigned long long)p->arm_min_flows);
	if (p->arm_min_calls)
		fprintf(out, "arm_min_calls = %llu\n", (unsigned long long)p->arm_min_calls);
	fprintf(out, "arm_min_packets = %llu\n", (unsigned long long)p->arm_min_packets);
	fprintf(out, "arm_min_bytes = %llu\n", (unsigned long long)p->arm_min_bytes);
	if (p->arm_window_ms)
		print_duration(out, "arm_window", p->arm_window_ms);
	print_duration(out, "arm_delay", p->arm_delay_ms);
	print_duration(out, "arm_timeout", p->arm_timeout_ms);
	if (p->n_hosts || p->resolve_every_ms != 30 * 1000)
		print_duration(out, "resolve_every", p->resolve_every_ms);
	for (i = 0; i < p->n_faults; i++) {
		const struct fault *f = &p->faults[i];

		duration_format(f->duration_ms, dur, sizeof(dur));
		fault_format_params(f, params, sizeof(params));
		fprintf(out, "fault = %s %s%s%s", action_name(f->action), dur, params[0] ? " " : "", params);
		if (f->action != ACT_PAUSE && f->expect != expect_default(action_name(f->action)))
			fprintf(out, " expect=%s", expect_name(f->expect));
		fputc('\n', out);
	}
	fprintf(out, "repeat = %llu\n", (unsigned long long)p->repeat);
	if (p->journal)
		fprintf(out, "journal = %s\n", p->journal);
	fprintf(out, "allow_broad = %s\n", p->allow_broad ? "yes" : "no");
}
