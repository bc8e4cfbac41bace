/* netem_probe: drives the netem module from integration tests until the
 * drill loop does.
 *
 *   netem_probe check IFNAME
 *   netem_probe install [--no-leaf] IFNAME SPEC...
 *   netem_probe render IFNAME SPEC...
 *   netem_probe stats IFNAME INDEX             prints "packets N bytes M"
 *   netem_probe remove IFNAME
 *   netem_probe cleanup                        prints "removed N"
 *   netem_probe resolve IFNAME|"" [TARGET]     prints "IFINDEX IFNAME"
 *   netem_probe priority INDEX                 prints the class id, e.g. "fa17:3"
 *
 * SPEC is one fault in p->faults order: "drop", "pause" or
 * "delay:LATENCY_MS[:JITTER_MS[:LOSS]]" with LOSS in thousandths of a
 * percent (1500 = 1.5 %). Exit status: 0, the errno of a failure
 * (EBUSY = 16, ...), or 125 for bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netem.h"
#include "policy.h"

#define USAGE 125

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || end == s || *end || *s == '-') ? -EINVAL : 0;
}

static int parse_spec(const char *s, struct fault *f)
{
	char buf[128], *tok, *save = NULL;
	uint64_t v[3] = { 0, 0, 0 };
	int n = 0;

	memset(f, 0, sizeof(*f));
	f->duration_ms = 1000;
	f->line = 1;
	if (strcmp(s, "drop") == 0) {
		f->action = ACT_DROP;
		return 0;
	}
	if (strcmp(s, "pause") == 0) {
		f->action = ACT_PAUSE;
		return 0;
	}
	if (strncmp(s, "delay:", 6) != 0 || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s + 6);
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (n == 3 || parse_u64(tok, &v[n]) < 0)
			return -EINVAL;
		n++;
	}
	if (n == 0 || v[2] > PCT_MAX)
		return -EINVAL;
	f->action = ACT_DELAY;
	f->latency_ms = v[0];
	f->jitter_ms = v[1];
	f->loss = (uint32_t)v[2];
	return 0;
}

static int load_specs(struct policy *p, char **specs, int n)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->path = "probe";
	p->faults = calloc((size_t)n + 1, sizeof(*p->faults));
	if (!p->faults)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (parse_spec(specs[i], &p->faults[i]) < 0) {
			fprintf(stderr, "netem_probe: bad fault spec \"%s\"\n", specs[i]);
			return -EINVAL;
		}
		p->faults[i].line = i + 1;
	}
	p->n_faults = (size_t)n;
	return 0;
}

static int ifindex_of(struct netem_ctx *c, const char *name, int *idx)
{
	char out[IF_NAMESIZE];

	return netem_resolve_ifindex(c, name, NULL, idx, out);
}

static int cmd_install(struct netem_ctx *c, int argc, char **argv)
{
	unsigned flags = 0;
	struct policy p;
	int idx, err;

	if (argc > 0 && strcmp(argv[0], "--no-leaf") == 0) {
		flags = NETEM_NO_LEAF;
		argc--, argv++;
	}
	if (argc < 2)
		return -USAGE;
	err = ifindex_of(c, argv[0], &idx);
	if (err)
		return err;
	err = load_specs(&p, argv + 1, argc - 1);
	if (!err)
		err = netem_install_flags(c, idx, &p, flags);
	free(p.faults);
	return err;
}

static int cmd_render(int argc, char **argv)
{
	struct policy p;
	int err;

	if (argc < 1)
		return -USAGE;
	err = load_specs(&p, argv + 1, argc - 1);
	if (!err)
		netem_render(stdout, argv[0], &p);
	free(p.faults);
	return err;
}

static int cmd_stats(struct netem_ctx *c, int argc, char **argv)
{
	uint64_t pkts, bytes, i;
	int idx, err;

	if (argc != 2 || parse_u64(argv[1], &i) < 0 || i > 0xffff)
		return -USAGE;
	err = ifindex_of(c, argv[0], &idx);
	if (err)
		return err;
	err = netem_class_stats(c, idx, (int)i, &pkts, &bytes);
	if (!err)
		printf("packets %" PRIu64 " bytes %" PRIu64 "\n", pkts, bytes);
	return err;
}

static int cmd_resolve(struct netem_ctx *c, int argc, char **argv)
{
	char out[IF_NAMESIZE];
	int idx, err;

	if (argc < 1 || argc > 2)
		return -USAGE;
	err = netem_resolve_ifindex(c, argv[0], argc == 2 ? argv[1] : NULL, &idx, out);
	if (!err)
		printf("%d %s\n", idx, out);
	return err;
}

static int run(struct netem_ctx *c, const char *cmd, int argc, char **argv)
{
	int idx, err, n;
	uint64_t i;

	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "remove") == 0) {
		if (argc != 1)
			return -USAGE;
		err = ifindex_of(c, argv[0], &idx);
		if (err)
			return err;
		return cmd[0] == 'c' ? netem_check_iface(c, idx) : netem_remove(c, idx);
	}
	if (strcmp(cmd, "install") == 0)
		return cmd_install(c, argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(c, argc, argv);
	if (strcmp(cmd, "resolve") == 0)
		return cmd_resolve(c, argc, argv);
	if (strcmp(cmd, "cleanup") == 0) {
		if (argc != 0)
			return -USAGE;
		err = netem_cleanup_all(c, &n);
		printf("removed %d\n", n);
		return err;
	}
	if (strcmp(cmd, "priority") == 0) {
		if (argc != 1 || parse_u64(argv[0], &i) < 0 || i >= 0xffff)
			return -USAGE;
		printf("%x:%x\n", netem_fault_priority((int)i) >> 16, netem_fault_priority((int)i) & 0xffff);
		return 0;
	}
	return -USAGE;
}

int main(int argc, char **argv)
{
	struct netem_ctx *c = NULL;
	const char *cmd;
	int err;

	log_init("netem_probe", LOG_LVL_DEBUG);
	if (argc < 2)
		goto usage;
	cmd = argv[1];
	if (strcmp(cmd, "render") == 0)
		err = cmd_render(argc - 2, argv + 2);
	else if ((err = netem_open(&c)) == 0)
		err = run(c, cmd, argc - 2, argv + 2);
	netem_close(c);
	if (err == -USAGE)
		goto usage;
	if (err)
		fprintf(stderr, "netem_probe %s: %s\n", cmd, strerror(-err));
	return err < 0 ? -err : 0;
usage:
	fprintf(stderr, "usage: netem_probe check|install|render|stats|remove|cleanup|resolve|priority ...\n");
	return USAGE;
}
