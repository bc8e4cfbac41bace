/* SPDX-License-Identifier: MIT */
/*
 * nft_bench — the nftables engine's latencies, against nft(8) in the same run.
 *
 *   nft_bench [--cycles N] [--reps N] [--sizes N,N...]
 *
 * 1. switch latency, request to acknowledgement, over N cycles (default
 *    1000): fault on, fault off, and off+on in one batch; median and p99.
 *    Also one read of a live fault's counter (what a control socket status
 *    costs the drill's loop at most every CONTROL_HITS_EVERY_MS).
 *    Baseline: `nft add element` of the same switch element, one process
 *    per call (what a script would do).
 * 2. install time of a table with N target prefixes (default 10000 and
 *    100000; half IPv4 /32, half IPv6 /96, none adjacent), three ways,
 *    interleaved over --reps rounds (default 7), medians and ratios:
 *      engine  the daemon's single batch (nft_engine_install: plan, encode,
 *              send, every ack), and apart its user-space part (plan and
 *              encode into a batch that is never sent);
 *      floor   the least the kernel can be asked for: one batch holding a
 *              table, the two interval sets and their elements, encoded
 *              here directly with libmnl, with the same transport;
 *      nft -f  of the nft_render() text (without "flags owner").
 *
 * Runs only inside a network namespace other than init's (nft.sh makes a
 * throwaway one); it adds and deletes table inet okx_faultd there.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "bench_targets.h"
#include "log.h"
#include "nfnl.h"
#include "nft.h"
#include "nft_plan.h"

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	size_t k = (n * p + 99) / 100;

	return v[k ? k - 1 : 0];
}

/* Is this process in a namespace made by `ip netns add` (a file under
 * /run/netns)? /proc/1 may be unreadable, so look for ours positively. */
static bool in_named_netns(void)
{
	struct stat self, st;
	struct dirent *d;
	char path[512];
	bool found = false;
	DIR *dir;

	if (stat("/proc/self/ns/net", &self) < 0)
		return false;
	dir = opendir("/run/netns");
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		found = stat(path, &st) == 0 && st.st_ino == self.st_ino && st.st_dev == self.st_dev;
	}
	closedir(dir);
	return found;
}

static int run_cmd(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

struct bench_policy {
	struct policy p;
	struct fault faults[2];
	struct port_range port, xport;
	struct target_set ts;
};

static void policy_init(struct bench_policy *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->p.name, sizeof(b->p.name), "bench");
	b->faults[0] = (struct fault){ .action = ACT_DROP, .duration_ms = 1000 };
	b->faults[1] = (struct fault){ .action = ACT_DROP, .duration_ms = 1000 };
	b->port = (struct port_range){ 443, 443 };
	b->xport = (struct port_range){ 22, 22 };
	b->p.protocol = PROTO_TCP;
	b->p.direction = DIR_BOTH;
	b->p.ports = &b->port;
	b->p.n_ports = 1;
	b->p.exempt_ports = &b->xport;
	b->p.n_exempt_ports = 1;
	b->p.faults = b->faults;
	b->p.n_faults = 2;
}

static void report(const char *what, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("  %-34s median %8.1f us   p99 %8.1f us   (n=%zu)\n", what, (double)pct(v, n, 50) / 1e3,
	       (double)pct(v, n, 99) / 1e3, n);
}

static int bench_switch(size_t cycles)
{
	struct bench_policy bp;
	struct nft_engine *e = NULL;
	uint64_t *on = calloc(cycles, 8), *off = calloc(cycles, 8), *swap = calloc(cycles, 8), t0, t1;
	uint64_t *ctr = calloc(cycles, 8), pk, by, med_on = 1, med_off = 1;
	size_t i, n_nft = cycles < 100 ? cycles : 100;
	char path[] = "/tmp/nft_bench.XXXXXX";
	FILE *f = NULL;
	int fd, ret = -ENOMEM;

	policy_init(&bp);
	if (!on || !off || !swap || !ctr || bench_targets(&bp.ts, 2, 0xc6120000u, 0) < 0)
		goto out;
	ret = nft_engine_open(&e);
	if (ret == 0)
		ret = nft_engine_install(e, &bp.p, &bp.ts, NULL);
	for (i = 0; ret == 0 && i < cycles; i++) {
		t0 = now_ns();
		ret = nft_engine_switch(e, 0, 60000, -1);
		t1 = now_ns();
		on[i] = t1 - t0;
		t0 = now_ns();
		if (ret == 0)
			ret = nft_engine_fault_counter(e, 0, &pk, &by);
		ctr[i] = now_ns() - t0;
		t1 = now_ns();
		if (ret == 0)
			ret = nft_engine_switch(e, 1, 60000, 0);
		swap[i] = now_ns() - t1;
		t0 = now_ns();
		if (ret == 0)
			ret = nft_engine_switch(e, -1, 0, 1);
		off[i] = now_ns() - t0;
	}
	if (ret < 0) {
		fprintf(stderr, "nft_bench: switch: %s\n", strerror(-ret));
		goto out;
	}
	printf("switch latency, request to ack, %zu cycles (engine):\n", cycles);
	report("fault on", on, cycles);
	report("fault off", off, cycles);
	med_on = pct(on, cycles, 50);
	med_off = pct(off, cycles, 50);
	report("off + next on, one batch", swap, cycles);
	report("counter read (status hits)", ctr, cycles);
	nft_engine_close(e);
	e = NULL;

	/* baseline: the same element through nft(8), a process per call */
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		goto out;
	}
	nft_render_opts(f, &bp.p, &bp.ts, NULL, NFT_RENDER_NO_OWNER);
	if (fclose(f) != 0) {
		f = NULL;
		ret = -EIO;
		goto out;
	}
	f = NULL;
	{
		char *load[] = { "nft", "-f", path, NULL };
		char *add[] = { "nft", "add", "element", "inet", "okx_faultd", "on0", "{ ipv4 timeout 60s, ipv6 timeout 60s }", NULL };
		char *del[] = { "nft", "delete", "element", "inet", "okx_faultd", "on0", "{ ipv4, ipv6 }", NULL };
		char *drop[] = { "nft", "delete", "table", "inet", "okx_faultd", NULL };

		ret = run_cmd(load) < 0 ? -EIO : 0;
		for (i = 0; ret == 0 && i < n_nft; i++) {
			t0 = now_ns();
			ret = run_cmd(add) < 0 ? -EIO : 0;
			on[i] = now_ns() - t0;
			t0 = now_ns();
			if (ret == 0)
				ret = run_cmd(del) < 0 ? -EIO : 0;
			off[i] = now_ns() - t0;
		}
		if (run_cmd(drop) < 0 && ret == 0)
			ret = -EIO;
	}
	if (ret < 0) {
		fprintf(stderr, "nft_bench: nft baseline failed\n");
		goto out;
	}
	printf("baseline: nft add/delete element, one process per call:\n");
	report("nft add element", on, n_nft);
	report("nft delete element", off, n_nft);
	printf("  nft/engine, medians: on %.0fx   off %.0fx\n", (double)pct(on, n_nft, 50) / (double)med_on,
	       (double)pct(off, n_nft, 50) / (double)med_off);
out:
	if (f)
		fclose(f);
	unlink(path);
	nft_engine_close(e);
	free(on);
	free(off);
	free(swap);
	free(ctr);
	free(bp.ts.v4);
	free(bp.ts.v6);
	return ret;
}

/* ---- the floor: a table, two interval sets and their elements --------- */

#define FLOOR_TABLE "okx_faultd_floor"
#define FLOOR_NEST_MAX 60000 /* elements per message: under the 64 KiB nest */

static struct nlmsghdr *floor_msg(struct nfnl_batch *b, size_t max, uint16_t type)
{
	char *buf = nfnl_batch_reserve(b, max);

	if (!buf)
		return NULL;
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, nfnl_batch_seq(b));
}

static void floor_elem(struct nlmsghdr *nlh, const uint8_t *key, size_t len, bool end)
{
	struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(nlh, k);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, el);
}

/* The elements of sorted, disjoint ranges in an interval set, as the
 * kernel wants them: an end element at 0 when the first range does not
 * start there, then per range its start and (unless it runs to the top)
 * an end element one past it, ascending, as many per message as fit. */
static int floor_set(struct nfnl_batch *b, const char *name, uint32_t id, uint32_t dt, const struct addr_range *r,
		     size_t n, size_t len)
{
	size_t per = FLOOR_NEST_MAX / (4 + 4 + 4 + len + 8), msg_max = 1024 + per * (20 + len + 8);
	size_t total = 2 * n + 1, i = 0, k;
	static const uint8_t zero[16];
	struct nlmsghdr *nlh = floor_msg(b, 1024, NFT_MSG_NEWSET);
	int ret;

	if (!nlh)
		return -ENOMEM;
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, FLOOR_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(dt));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl((uint32_t)len));
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(id));
	ret = nfnl_batch_add(b, 1024, "floor set");
	/* element j of the sequence: 0 the leading end, then 2r+1 the start
	 * of range r, 2r+2 its end */
	if (n && !memcmp(r[0].lo, zero, len))
		i = 1;
	while (ret == 0 && i < total) {
		struct nlattr *list;

		nlh = floor_msg(b, msg_max, NFT_MSG_NEWSETELEM);
		if (!nlh)
			return -ENOMEM;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, FLOOR_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (k = 0; k < per && i < total; i++) {
			uint8_t next[16];

			if (i == 0) {
				floor_elem(nlh, zero, len, true);
			} else if (i % 2) {
				floor_elem(nlh, r[(i - 1) / 2].lo, len, false);
			} else {
				memcpy(next, r[(i - 1) / 2].hi, 16);
				if (!nft_addr_inc(next, (int)len))
					floor_elem(nlh, next, len, true);
				else
					continue;
			}
			k++;
		}
		mnl_attr_nest_end(nlh, list);
		ret = nfnl_batch_add(b, msg_max, "floor elements");
	}
	return ret;
}

static int floor_table(struct nfnl_batch *b, uint16_t type)
{
	struct nlmsghdr *nlh = floor_msg(b, 256, type);

	if (!nlh)
		return -ENOMEM;
	if (type == NFT_MSG_DELTABLE)
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, FLOOR_TABLE);
	return nfnl_batch_add(b, 256, "floor table");
}

/* One timed install of the floor (encode and send), then its removal. */
static int floor_install(struct nfnl *nl, const struct target_set *ts, uint64_t *ns)
{
	struct nfnl_batch b;
	uint64_t t0 = now_ns();
	int ret = nfnl_batch_init(&b, nfnl_seq(nl));

	if (ret == 0)
		ret = floor_table(&b, NFT_MSG_NEWTABLE);
	if (ret == 0)
		ret = floor_set(&b, "dst4", 1, 7 /* ipv4_addr */, ts->v4, ts->n_v4, 4);
	if (ret == 0)
		ret = floor_set(&b, "dst6", 2, 8 /* ipv6_addr */, ts->v6, ts->n_v6, 16);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	if (ret == 0)
		ret = nfnl_batch_send(nl, &b);
	*ns = now_ns() - t0;
	nfnl_batch_free(&b);
	if (ret == 0)
		ret = nfnl_batch_init(&b, nfnl_seq(nl));
	if (ret == 0) {
		ret = floor_table(&b, NFT_MSG_DELTABLE);
		if (ret == 0)
			ret = nfnl_batch_end(&b);
		if (ret == 0)
			ret = nfnl_batch_send(nl, &b);
		nfnl_batch_free(&b);
	}
	return ret;
}

/* One timed install by the engine (what the daemon does), then removal. */
static int engine_install(const struct policy *p, const struct target_set *ts, uint64_t *ns)
{
	struct nft_engine *e = NULL;
	uint64_t t0;
	int ret = nft_engine_open(&e);

	t0 = now_ns();
	if (ret == 0)
		ret = nft_engine_install(e, p, ts, NULL);
	*ns = now_ns() - t0;
	if (ret == 0)
		ret = nft_engine_remove(e);
	nft_engine_close(e);
	return ret;
}

/* The engine's user-space part alone: plan and encode, never sent. */
static int engine_encode(const struct policy *p, const struct target_set *ts, uint64_t *ns)
{
	struct nfnl_batch b;
	uint64_t t0 = now_ns();
	int ret = nfnl_batch_init(&b, 1);

	if (ret == 0)
		ret = nft_build_install(&b, p, ts, NULL);
	if (ret == 0)
		ret = nfnl_batch_end(&b);
	*ns = now_ns() - t0;
	nfnl_batch_free(&b);
	return ret;
}

static double med_ms(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)pct(v, n, 50) / 1e6;
}

/* engine, floor and nft -f of the same prefixes, interleaved round by
 * round so that a busy moment of the machine hits all three alike */
static int bench_install(size_t n, size_t reps)
{
	struct bench_policy bp;
	uint64_t *eng = calloc(reps, 8), *enc = calloc(reps, 8), *flo = calloc(reps, 8), *nft = calloc(reps, 8), t0;
	char path[] = "/tmp/nft_bench.XXXXXX";
	char *load[] = { "nft", "-f", path, NULL };
	char *drop[] = { "nft", "delete", "table", "inet", "okx_faultd", NULL };
	struct nfnl *nl = NULL;
	FILE *f = NULL;
	const char *what = "setup";
	double e, c, fl, x;
	size_t i;
	int fd = -1, ret = -ENOMEM;

	policy_init(&bp);
	if (!eng || !enc || !flo || !nft || bench_targets(&bp.ts, n, 0xc6120000u, 0) < 0)
		goto out;
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		goto out;
	}
	nft_render_opts(f, &bp.p, &bp.ts, NULL, NFT_RENDER_NO_OWNER);
	ret = fclose(f) == 0 ? 0 : -EIO;
	f = NULL;
	if (ret == 0)
		ret = nfnl_open(&nl);
	/* the order rotates round by round: the kernel frees a deleted
	 * table's elements after the transaction, partly while the next
	 * install runs, and no way should always follow the same one */
	for (i = 0; ret == 0 && i < 3 * reps; i++) {
		size_t r = i / 3;

		switch ((i + r) % 3) {
		case 0:
			what = "engine";
			ret = engine_install(&bp.p, &bp.ts, &eng[r]);
			if (ret == 0) {
				what = "encode";
				ret = engine_encode(&bp.p, &bp.ts, &enc[r]);
			}
			break;
		case 1:
			what = "floor";
			ret = floor_install(nl, &bp.ts, &flo[r]);
			break;
		default:
			what = "nft -f";
			t0 = now_ns();
			ret = run_cmd(load) < 0 ? -EIO : 0;
			nft[r] = now_ns() - t0;
			if (ret == 0)
				ret = run_cmd(drop) < 0 ? -EIO : 0;
		}
	}
	if (ret < 0) {
		fprintf(stderr, "nft_bench: install of %zu prefixes, %s: %s\n", n, what, strerror(-ret));
		goto out;
	}
	e = med_ms(eng, reps), c = med_ms(enc, reps), fl = med_ms(flo, reps), x = med_ms(nft, reps);
	printf("  %6zu prefixes: engine %7.1f ms (user space %5.1f)   floor %7.1f ms   nft -f %7.1f ms\n"
	       "                   engine/floor %4.2fx   nft/engine %4.2fx   nft/floor %4.2fx   (medians of %zu)\n",
	       n, e, c, fl, x, e / fl, x / e, x / fl, reps);
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		unlink(path);
	nfnl_close(nl);
	free(eng);
	free(enc);
	free(flo);
	free(nft);
	free(bp.ts.v4);
	free(bp.ts.v6);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long cycles = 1000, reps = 7;
	size_t sizes[8] = { 10000, 100000 }, n_sizes = 2, i;
	int a, rc = 0;

	log_init("nft_bench", LOG_LVL_WARN);
	for (a = 1; a + 1 < argc; a += 2) {
		char *end;

		if (!strcmp(argv[a], "--cycles"))
			cycles = strtoul(argv[a + 1], &end, 10);
		else if (!strcmp(argv[a], "--reps"))
			reps = strtoul(argv[a + 1], &end, 10);
		else if (!strcmp(argv[a], "--sizes")) {
			char *s = argv[a + 1];

			for (n_sizes = 0; n_sizes < 8 && *s; n_sizes++) {
				sizes[n_sizes] = strtoul(s, &end, 10);
				if (end == s)
					break;
				s = *end == ',' ? end + 1 : end;
			}
			end = s;
		} else
			break;
		if (*end)
			break;
	}
	if (a < argc || cycles == 0 || reps == 0) {
		fprintf(stderr, "usage: nft_bench [--cycles N] [--reps N] [--sizes N,N...]\n");
		return 2;
	}
	if (!in_named_netns()) {
		fprintf(stderr, "nft_bench: run me in a throwaway network namespace (tests/bench/nft.sh)\n");
		return 1;
	}
	if (bench_switch(cycles) < 0)
		rc = 1;
	printf("install, one transaction: engine, floor (table + interval sets + elements only), nft -f:\n");
	for (i = 0; i < n_sizes; i++)
		if (bench_install(sizes[i], reps) < 0)
			rc = 1;
	return rc;
}
