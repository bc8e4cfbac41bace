/* SPDX-License-Identifier: MIT */
/*
 * ct_probe — run the arming watch (ctwatch) alone, for the integration test
 * and for measurements.
 *
 *   ct_probe [--rcvbuf BYTES] [--stall-ms N] [--seconds N] [--ranges N] [--no-filter] POLICY
 *
 * Loads POLICY, resolves and builds the targets like the daemon, opens a
 * ctwatch (baseline dump), prints "ready baseline=N rcvbuf=N open_us=N"
 * (open_us: ctwatch_open, subscription and baseline dump), then one line per
 * counted flow:
 *     flow tcp 198.18.0.1:40312 -> 198.18.0.2:8080
 * and on SIGINT/SIGTERM or after --seconds, after a last drain:
 *     stats events=N counted=N overflows=N recovered=N baseline=N cpu_us=N
 * (cpu_us: user+system time of the process after "ready").
 *
 * Testing options: --rcvbuf shrinks the event socket's receive buffer (the
 * kernel doubles the value); --stall-ms sleeps that long after "ready"
 * before the first read, so that a flood overflows the buffer for sure.
 *
 * Measuring options: --ranges N adds N synthetic IPv4 target ranges of 1
 * to 16 addresses in 10.0.0.0/8 (fixed seed, gaps of 1 to 200 addresses)
 * to the policy's, which must lie outside 10.0.0.0/8: a policy file holds
 * about 35,000 targets at most, this reaches 100,000 and more. --no-filter
 * detaches the event socket's filter after the open: every NEW event
 * reaches the process, as before the filter coarsened large sets (it used
 * to attach none past 1,000 ranges).
 * Exit 0, 1 on runtime errors, 2 on usage or policy errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "ctwatch.h"
#include "log.h"
#include "policy.h"
#include "targets.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *proto_str(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		snprintf(buf, len, "proto-%u", p);
		return buf;
	}
}

static void print_flow(const struct ct_flow *f, void *data)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[16];
	const char *l = f->family == AF_INET6 ? "[" : "", *r = f->family == AF_INET6 ? "]" : "";

	(void)data;
	if (!inet_ntop(f->family, f->src, s, sizeof(s)) || !inet_ntop(f->family, f->dst, d, sizeof(d)))
		return;
	printf("flow %s %s%s%s:%u -> %s%s%s:%u\n", proto_str(f->proto, pb, sizeof(pb)), l, s, r, f->sport, l, d, r,
	       f->dport);
	fflush(stdout);
}

static bool parse_num(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static int usage(void)
{
	fprintf(stderr, "usage: ct_probe [--rcvbuf BYTES] [--stall-ms N] [--seconds N] [--ranges N] [--no-filter] POLICY\n");
	return 2;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int cmp_range(const void *a, const void *b)
{
	const struct addr_range *x = a, *y = b;

	return memcmp(x->lo, y->lo, 4);
}

/* ts->v4 plus n synthetic ranges in 10.0.0.0/8, sorted; -EINVAL when they
 * overlap the policy's or do not fit in 10.0.0.0/8 */
static int add_ranges(struct target_set *ts, size_t n)
{
	struct addr_range *v4 = calloc(ts->n_v4 + n, sizeof(*v4));
	uint64_t at = 0x0a000000u;
	unsigned seed = 18;
	size_t i;

	if (!v4)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint32_t len = 1 + (uint32_t)rand_r(&seed) % 16, lo, hi;

		if (at + len - 1 > 0x0affffffu) {
			free(v4);
			return -EINVAL;
		}
		lo = htonl((uint32_t)at);
		hi = htonl((uint32_t)(at + len - 1));
		v4[i].family = AF_INET;
		memcpy(v4[i].lo, &lo, 4);
		memcpy(v4[i].hi, &hi, 4);
		at += len + 1 + (uint32_t)rand_r(&seed) % 200;
	}
	memcpy(v4 + n, ts->v4, ts->n_v4 * sizeof(*v4));
	qsort(v4, ts->n_v4 + n, sizeof(*v4), cmp_range);
	for (i = 1; i < ts->n_v4 + n; i++) {
		if (memcmp(v4[i].lo, v4[i - 1].hi, 4) <= 0) {
			free(v4);
			return -EINVAL;
		}
	}
	free(ts->v4);
	ts->v4 = v4;
	ts->n_v4 += n;
	return 0;
}

static int run(const struct policy *p, long rcvbuf, long stall_ms, long seconds, long ranges, bool no_filter)
{
	struct target_set ts = { 0 };
	struct ctwatch *w = NULL;
	struct ctwatch_stats st;
	struct prefix *local = NULL;
	size_t n_local = 0;
	char *errors = NULL;
	int64_t deadline, t0, cpu0;
	int ret;

	ret = targets_resolve(p, &ts, &errors);
	if (ret < 0) {
		fprintf(stderr, "%s", errors ? errors : "cannot resolve targets\n");
		ret = 2;
		goto cleanup;
	}
	if (targets_local_addrs(&local, &n_local) < 0 || targets_build(&ts, p, local, n_local) < 0) {
		log_errx("building the target ranges failed");
		ret = 1;
		goto cleanup;
	}
	if (ranges && add_ranges(&ts, (size_t)ranges) < 0) {
		log_errx("--ranges %ld: do not fit in 10.0.0.0/8 next to the policy's targets", ranges);
		ret = 2;
		goto cleanup;
	}
	t0 = now_us();
	ret = ctwatch_open(&w, p, &ts);
	if (ret < 0) {
		log_errx("ctwatch_open: %s", strerror(-ret));
		ret = 1;
		goto cleanup;
	}
	if (rcvbuf) {
		ret = ctwatch_set_rcvbuf(w, (int)rcvbuf);
		if (ret < 0) {
			log_errx("rcvbuf: %s", strerror(-ret));
			ret = 1;
			goto cleanup;
		}
	}
	if (no_filter) {
		int zero = 0;

		if (setsockopt(ctwatch_fd(w), SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) < 0) {
			log_warn("SO_DETACH_FILTER");
			ret = 1;
			goto cleanup;
		}
	}
	t0 = now_us() - t0;
	ctwatch_get_stats(w, &st);
	printf("ready baseline=%llu rcvbuf=%d open_us=%lld\n", (unsigned long long)st.baseline, st.rcvbuf,
	       (long long)t0);
	cpu0 = cpu_us();
	fflush(stdout);
	if (stall_ms) {
		struct timespec t = { stall_ms / 1000, (stall_ms % 1000) * 1000000 };

		while (nanosleep(&t, &t) < 0 && errno == EINTR && !stop)
			;
	}
	deadline = seconds ? now_us() + seconds * 1000000 : INT64_MAX;
	while (!stop && now_us() < deadline) {
		struct pollfd pfd = { .fd = ctwatch_fd(w), .events = POLLIN };
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			log_warn("poll");
			ret = 1;
			goto cleanup;
		}
		if (n > 0) {
			ret = ctwatch_read(w, print_flow, NULL);
			if (ret < 0) {
				log_errx("ctwatch_read: %s", strerror(-ret));
				ret = 1;
				goto cleanup;
			}
		}
	}
	ret = ctwatch_read(w, print_flow, NULL);
	if (ret < 0) {
		log_errx("ctwatch_read: %s", strerror(-ret));
		ret = 1;
		goto cleanup;
	}
	ctwatch_get_stats(w, &st);
	printf("stats events=%llu counted=%llu overflows=%llu recovered=%llu baseline=%llu cpu_us=%lld\n",
	       (unsigned long long)st.events, (unsigned long long)st.in_scope, (unsigned long long)st.overflows,
	       (unsigned long long)st.recovered, (unsigned long long)st.baseline, (long long)(cpu_us() - cpu0));
	fflush(stdout);
	ret = 0;
cleanup:
	ctwatch_close(w);
	free(local);
	free(errors);
	target_set_free(&ts);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	long rcvbuf = 0, stall_ms = 0, seconds = 0, ranges = 0;
	bool no_filter = false;
	struct policy p = { 0 };
	const char *path = NULL;
	char *errors = NULL;
	int i, ret;

	log_init("ct_probe", LOG_LVL_INFO);
	for (i = 1; i < argc; i++) {
		long *dst = NULL, max = 0;

		if (!strcmp(argv[i], "--rcvbuf")) {
			dst = &rcvbuf;
			max = INT_MAX / 2;
		} else if (!strcmp(argv[i], "--stall-ms")) {
			dst = &stall_ms;
			max = 600000;
		} else if (!strcmp(argv[i], "--seconds")) {
			dst = &seconds;
			max = 86400;
		} else if (!strcmp(argv[i], "--ranges")) {
			dst = &ranges;
			max = 1000000;
		} else if (!strcmp(argv[i], "--no-filter")) {
			no_filter = true;
			continue;
		} else if (argv[i][0] == '-' || path) {
			return usage();
		} else {
			path = argv[i];
			continue;
		}
		if (i + 1 >= argc || !parse_num(argv[++i], max, dst))
			return usage();
	}
	if (!path)
		return usage();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		log_warn("sigaction");
		return 1;
	}
	ret = policy_load(&p, path, &errors);
	if (ret < 0) {
		fprintf(stderr, "%s", errors ? errors : "cannot load policy\n");
		free(errors);
		policy_free(&p);
		return 2;
	}
	free(errors);
	ret = run(&p, rcvbuf, stall_ms, seconds, ranges, no_filter);
	policy_free(&p);
	return ret;
}
