/* SPDX-License-Identifier: MIT */
#ifndef OKX_POLICY_H
#define OKX_POLICY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "expect.h"
#include "prefix.h"

enum l4_proto { PROTO_TCP, PROTO_UDP, PROTO_ANY };
enum direction { DIR_BOTH, DIR_EGRESS, DIR_INGRESS };
enum fault_action { ACT_DROP, ACT_REJECT, ACT_LOSS, ACT_DELAY, ACT_PAUSE, ACT_DNS };
/* dns: refuse answers a query with an ICMP port unreachable (UDP) or a TCP
 * reset (TCP); drop lets the resolver time out. */
enum dns_mode { DNS_REFUSE, DNS_DROP };
/* REJ_DEFAULT is resolved while parsing: tcp-reset for protocol tcp,
 * icmp-port otherwise. After a successful parse it never appears. */
enum reject_with { REJ_DEFAULT, REJ_TCP_RESET, REJ_ICMP_PORT, REJ_ICMP_HOST, REJ_ICMP_NET, REJ_ICMP_ADMIN };

/* Percentages are kept as an integer in thousandths of a percent
 * (30 % = 30000, 0.5 % = 500, 100 % = 100000): exact, and what the nft
 * "numgen random mod 100000 < P" expression needs. */
#define PCT_SCALE 1000u
#define PCT_MAX (100u * PCT_SCALE)

/* Caps on what a policy may ask for (okx-faultd.policy(5), LIMITS): what
 * the kernel interfaces can carry, and sizes that feed allocations. */
/* tc netem carries latency and jitter as 32-bit counts of 64 ns psched
 * ticks: at most 274.877 s; a round 270 s is allowed. */
#define POLICY_MAX_DELAY_MS 270000u
/* fault lines: each is a set, a counter and its rules in the one install
 * batch, every message acknowledged; 6,000 overran the netlink receive
 * buffer (ENOBUFS), 4,000 installed in about a second. */
#define POLICY_MAX_FAULTS 1000u
/* arm_min_flows with arm_window: the time of each of the last
 * arm_min_flows flows is kept (8 bytes each). */
#define POLICY_MAX_WINDOW_FLOWS 100000u
/* uid and cgroup lines: each is a set element (a cgroup level also a set
 * and a rule of its own). */
#define POLICY_MAX_SCOPE 64u
/* cgroup paths: the kernel's socket expression keeps the level in 8 bits */
#define POLICY_MAX_CGROUP_DEPTH 255u

struct port_range {
	uint16_t lo, hi; /* inclusive, 1..65535, lo <= hi */
};

struct fault {
	enum fault_action action;
	uint64_t duration_ms;   /* 1 .. 24 h */
	enum reject_with with;  /* ACT_REJECT */
	uint32_t percent;       /* ACT_LOSS: PCT units, required */
	uint64_t latency_ms;    /* ACT_DELAY: required */
	uint64_t jitter_ms;     /* ACT_DELAY: 0 = none */
	uint32_t loss;          /* ACT_DELAY: PCT units, 0 = none */
	enum dns_mode mode;     /* ACT_DNS */
	enum expect expect;     /* expect=, else the action's default (expect.h) */
	int line;               /* policy line, for messages */
};

struct host_name {
	char *name;
	int line;
};

/* A value of a scope key with its line: uid (a user name or a number, as
 * given) or cgroup (a path below the cgroup2 root, normalized: no leading
 * or trailing '/', no empty, '.' or '..' component). Resolved when the
 * drill starts (src/scope.c). */
struct policy_word {
	char *value;
	int line;
};

struct policy {
	char *path;               /* as given on the command line */
	char name[65];
	struct prefix *targets;   /* literal target= values, file order */
	size_t n_targets;
	struct host_name *hosts;  /* target_host= values, file order */
	size_t n_hosts;
	struct port_range *ports; /* empty: all ports */
	size_t n_ports;
	enum l4_proto protocol;
	struct prefix *exempt;
	size_t n_exempt;
	struct port_range *exempt_ports; /* default {22,22}; "none" empties it */
	size_t n_exempt_ports;
	enum direction direction;
	char interface[IF_NAMESIZE]; /* "" : route to the first target */
	struct policy_word *uids;    /* uid= : only sockets of these users; file order */
	size_t n_uids;
	struct policy_word *cgroups; /* cgroup= : only sockets created in these cgroups or below */
	size_t n_cgroups;
	char *netns;                 /* netns= as given: a name under /run/netns or an absolute path; NULL: none */
	int netns_line;
	uint64_t arm_min_flows;   /* default 1; 0 when arm_min_calls is given alone */
	uint64_t arm_min_calls;   /* default 0 */
	uint64_t arm_min_packets; /* default 0 */
	uint64_t arm_min_bytes;   /* default 0 */
	uint64_t arm_window_ms;   /* 0 : unbounded */
	uint64_t arm_delay_ms;    /* default 0 */
	uint64_t arm_timeout_ms;  /* default 30 min */
	uint64_t resolve_every_ms; /* target_host re-resolved this often; default 30 s, 0: once */
	struct fault *faults;     /* file order */
	size_t n_faults;
	uint64_t repeat;          /* default 1 */
	char *journal;            /* NULL : default path */
	bool allow_broad;
	char sha256[65];          /* hex SHA-256 of the bytes parsed */
};

/* Parse a policy file, read once and whole (a regular file or an anonymous
 * pipe such as a shell's `<(...)`, at most 1 MiB; the open never blocks,
 * so a FIFO is refused, not waited on); p->sha256 is the digest of exactly
 * the bytes parsed. Every error is appended to *errors as a line
 * "FILE:LINE: message\n" (all of them, not only the first); the caller
 * prints them. Returns 0 on success, -EINVAL when the policy has errors
 * (errors is then non-empty), or -errno when the file cannot be read
 * (errors holds "FILE: strerror"); a FIFO, device or socket is -EINVAL
 * with "FILE: not a regular file (a FIFO): ...". *errors is malloc'ed or NULL; free it.
 * On success p is filled and must be released with policy_free(). */
int policy_load(struct policy *p, const char *path, char **errors);

/* policy_load() for a daemon running as root (okx-faultd(8), SECURITY):
 * the file (or pipe) must also be owned by root or sudo_uid (TRUST_NO_SUDO:
 * root only) and writable by neither group nor others (trust.h).
 * Otherwise -EPERM and "FILE: refused: REASON; ..." in *errors, nothing
 * parsed. */
int policy_load_trusted(struct policy *p, const char *path, uid_t sudo_uid, char **errors);

/* The same over a buffer already in memory (p->sha256 its digest); `path`
 * is only used for messages. `len` may include NUL bytes (they are errors). */
int policy_parse_buffer(struct policy *p, const char *path, const char *buf, size_t len, char **errors);

/* Print the normalized policy: one canonical "key = value" line per key in
 * a fixed order, defaults spelled out, so that parsing the output and
 * printing it again gives the same text. */
void policy_print(const struct policy *p, FILE *out);

void policy_free(struct policy *p); /* accepts a zeroed or NULL policy */

/* Small helpers shared with other modules (and unit-tested). */
const char *action_name(enum fault_action a);
const char *proto_name(enum l4_proto p);
const char *direction_name(enum direction d);
const char *reject_with_name(enum reject_with w); /* "tcp-reset", "icmp-port", ... */
const char *dns_mode_name(enum dns_mode m);        /* "refuse", "drop" */

/* Format a fault's options in policy syntax ("with=tcp-reset",
 * "latency=100ms jitter=10ms loss=1.5") into buf; "" when none. expect= is
 * not among them: the journal has it as a member of its own, and
 * policy_print() adds it when it is not the action's default. */
void fault_format_params(const struct fault *f, char *buf, size_t len);

/* Total number of fault executions: n_faults * repeat (pauses included). */
size_t policy_n_steps(const struct policy *p);

/* Is the drill scoped by socket owner (uid or cgroup keys)? Such a drill
 * acts on egress only: packets received or forwarded have no socket. */
bool policy_owner_scoped(const struct policy *p);

/* What --check and the drill's start say about the policy's scope
 * (okx-faultd.policy(5), SCOPE), or NULL when there is nothing to say. */
const char *policy_scope_note(const struct policy *p);

/* The path of the netns= value: a name is /run/netns/NAME. Returns the
 * length written (snprintf), or -1 when the policy has no netns. */
int policy_netns_path(const struct policy *p, char *buf, size_t len);

#endif
