/* SPDX-License-Identifier: MIT */
/*
 * nft_probe — drive the nftables fault engine from integration tests,
 * before (and apart from) the daemon's drill loop.
 *
 *   nft_probe POLICY [--prio I:PRIO]... CMD...
 *
 * Loads POLICY (targets resolved, local addresses excluded), then:
 *   render            print nft_render() output and exit (no kernel access)
 *   render-no-owner   the same without "flags owner"
 * or installs the table ("installed pid PID") and runs the commands in order:
 *   on I MS           fault I on, element timeout MS      -> "on I"
 *   off I             fault I off                         -> "off I"
 *   switch ON MS OFF  both in one batch                   -> "switch ON OFF"
 *   sleep MS
 *   counter I         -> "counter I pkts N bytes N"
 *   watch             -> "watch pkts N bytes N new N"
 *   remove            delete the table                    -> "removed"
 *   add PREFIX        a target added at run time (targets_add, as
 *                     resolve_every does) -> "added N" (new ranges)
 * Each line is flushed at once so a script can wait for it. --prio sets
 * the skb priority of delay fault I (hex TC handle, e.g. fa17:2 = 0xfa170002).
 * Exit 0, 1 on a failed command, 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nft.h"
#include "policy.h"
#include "prefix.h"
#include "targets.h"

static int usage(void)
{
	fprintf(stderr, "usage: nft_probe POLICY [--prio I:MAJ:MIN]... render|render-no-owner|CMD...\n");
	return 2;
}

static int num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || end == s || *end || *out > max) ? -EINVAL : 0;
}

static void sleep_ms(unsigned long long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int parse_prio(const char *s, uint32_t *prio, size_t n)
{
	unsigned idx, maj, min;
	int used = 0;

	if (sscanf(s, "%u:%x:%x%n", &idx, &maj, &min, &used) != 3 || s[used] || idx >= n || maj > 0xffff ||
	    min > 0xffff)
		return -EINVAL;
	prio[idx] = maj << 16 | min;
	return 0;
}

struct probe {
	struct nft_engine *e;
	struct policy *p;
	struct target_set *ts;
	const struct prefix *local;
	size_t n_local;
};

static int add_target(const struct probe *pr, const char *s)
{
	struct target_set delta = { 0 };
	struct prefix a;
	int ret;

	if (prefix_parse(s, &a, NULL) != PREFIX_OK)
		return -EINVAL;
	ret = targets_add(pr->ts, pr->p, pr->local, pr->n_local, &a, 1, &delta);
	if (ret == 0)
		ret = nft_engine_add_targets(pr->e, &delta);
	if (ret == 0)
		printf("added %zu\n", delta.n_v4 + delta.n_v6);
	target_set_free(&delta);
	return ret;
}

static int run(const struct probe *pr, int argc, char **argv)
{
	struct nft_engine *e = pr->e;
	unsigned long long a, b, c;
	uint64_t x, y;
	int i, ret = 0;

	for (i = 0; i < argc && ret == 0; i++) {
		const char *cmd = argv[i];
		int left = argc - i - 1;

		if (!strcmp(cmd, "on") && left >= 2 && !num(argv[i + 1], 1u << 20, &a) && !num(argv[i + 2], ~0ull, &b)) {
			ret = nft_engine_switch(e, (int)a, b, -1);
			if (ret == 0)
				printf("on %llu\n", a);
			i += 2;
		} else if (!strcmp(cmd, "off") && left >= 1 && !num(argv[i + 1], 1u << 20, &a)) {
			ret = nft_engine_switch(e, -1, 0, (int)a);
			if (ret == 0)
				printf("off %llu\n", a);
			i += 1;
		} else if (!strcmp(cmd, "switch") && left >= 3 && !num(argv[i + 1], 1u << 20, &a) &&
			   !num(argv[i + 2], ~0ull, &b) && !num(argv[i + 3], 1u << 20, &c)) {
			ret = nft_engine_switch(e, (int)a, b, (int)c);
			if (ret == 0)
				printf("switch %llu %llu\n", a, c);
			i += 3;
		} else if (!strcmp(cmd, "sleep") && left >= 1 && !num(argv[i + 1], 86400000ull, &a)) {
			sleep_ms(a);
			i += 1;
		} else if (!strcmp(cmd, "counter") && left >= 1 && !num(argv[i + 1], 1u << 20, &a)) {
			ret = nft_engine_fault_counter(e, (int)a, &x, &y);
			if (ret == 0)
				printf("counter %llu pkts %llu bytes %llu\n", a, (unsigned long long)x,
				       (unsigned long long)y);
			i += 1;
		} else if (!strcmp(cmd, "watch")) {
			struct nft_watch w;

			ret = nft_engine_watch_counters(e, &w);
			if (ret == 0)
				printf("watch pkts %llu bytes %llu new %llu calls %llu\n", (unsigned long long)w.pkts,
				       (unsigned long long)w.bytes, (unsigned long long)w.new_flows,
				       (unsigned long long)w.calls);
		} else if (!strcmp(cmd, "add") && left >= 1) {
			ret = add_target(pr, argv[i + 1]);
			i += 1;
		} else if (!strcmp(cmd, "remove")) {
			ret = nft_engine_remove(e);
			if (ret == 0)
				printf("removed\n");
		} else {
			fprintf(stderr, "nft_probe: bad command at '%s'\n", cmd);
			return 2;
		}
		fflush(stdout);
		if (ret < 0)
			fprintf(stderr, "nft_probe: %s: %s\n", cmd, strerror(-ret));
	}
	return ret < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct policy p = { 0 };
	struct target_set ts = { 0 };
	struct prefix *local = NULL;
	size_t n_local = 0;
	struct nft_engine *e = NULL;
	uint32_t *prio = NULL;
	char *errors = NULL;
	int i = 2, rc = 1, ret;

	log_init("nft_probe", LOG_LVL_DEBUG);
	if (argc < 3)
		return usage();
	if (policy_load(&p, argv[1], &errors) < 0) {
		fprintf(stderr, "%s", errors ? errors : "policy error\n");
		free(errors);
		return 2;
	}
	prio = calloc(p.n_faults + 1, sizeof(*prio));
	if (!prio)
		goto out;
	for (; i + 1 < argc && !strcmp(argv[i], "--prio"); i += 2) {
		if (parse_prio(argv[i + 1], prio, p.n_faults) < 0) {
			rc = usage();
			goto out;
		}
	}
	if (i >= argc) {
		rc = usage();
		goto out;
	}
	if (targets_resolve(&p, &ts, &errors) < 0 || targets_local_addrs(&local, &n_local) < 0 ||
	    targets_build(&ts, &p, local, n_local) < 0) {
		fprintf(stderr, "nft_probe: targets: %s\n", errors ? errors : "error");
		goto out;
	}
	if (!strcmp(argv[i], "render") || !strcmp(argv[i], "render-no-owner")) {
		nft_render_opts(stdout, &p, &ts, prio, strcmp(argv[i], "render") ? NFT_RENDER_NO_OWNER : 0);
		rc = 0;
		goto out;
	}
	ret = nft_engine_open(&e);
	if (ret == 0)
		ret = nft_engine_install(e, &p, &ts, prio);
	if (ret < 0) {
		fprintf(stderr, "nft_probe: install: %s\n", strerror(-ret));
		goto out;
	}
	printf("installed pid %ld\n", (long)getpid());
	fflush(stdout);
	struct probe pr = { e, &p, &ts, local, n_local };

	rc = run(&pr, argc - i, argv + i);
out:
	nft_engine_close(e);
	free(prio);
	free(local);
	free(errors);
	target_set_free(&ts);
	policy_free(&p);
	return rc;
}
