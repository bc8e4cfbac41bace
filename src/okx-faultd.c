/* SPDX-License-Identifier: MIT */
/* okx-faultd: command line (okx-faultd(8)). The only place that calls exit. */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "control.h"
#include "drill.h"
#include "log.h"
#include "policy.h"
#include "privs.h"
#include "trust.h"

static void usage(FILE *out)
{
	fputs("usage: okx-faultd [options] POLICY\n"
	      "  -c, --check           validate POLICY, print \"POLICY: OK\" (with -v: the normalized policy)\n"
	      "  -n, --dry-run         print the nftables ruleset and tc commands the drill would install\n"
	      "  -j, --journal PATH    journal path (overrides the policy)\n"
	      "  -s, --stop-file PATH  abort the drill when PATH appears\n"
	      "      --control-dir DIR the drill's control socket DIR/NAME.sock (default " CONTROL_DIR ")\n"
	      "  -v, --verbose         more output (debug log; with --check, the normalized policy)\n"
	      "  -q, --quiet           warnings and errors only\n"
	      "  -V, --version         version and git commit\n"
	      "  -h, --help            this text\n"
	      "       okx-faultd --cleanup   remove tc state a killed okx-faultd left behind\n",
	      out);
}

/* Faults must end within a millisecond of their plan even on a loaded
 * host: no timer slack, and a modest real-time priority (the loop only
 * ever blocks in epoll, so it cannot starve the machine). Under the
 * shipped unit systemd sets it (CPUSchedulingPolicy=fifo) and the daemon
 * needs no CAP_SYS_NICE; run by hand as root it takes it here, before
 * the capabilities are dropped (okx-faultd(8), SECURITY). */
static void tune_timing(void)
{
	struct sched_param sp = { .sched_priority = 10 };
	int pol = sched_getscheduler(0);

	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
		log_debug("timer slack unchanged: %s", strerror(errno));
	if (pol >= 0)
		pol &= ~SCHED_RESET_ON_FORK;
	if (pol == SCHED_FIFO || pol == SCHED_RR) {
		log_debug("real-time scheduling already set (%s)", pol == SCHED_FIFO ? "SCHED_FIFO" : "SCHED_RR");
		return;
	}
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) < 0)
		log_info("SCHED_FIFO not available (%s): normal scheduling, fault ends may be late on a busy host",
			 strerror(errno));
}

enum mode { MODE_RUN, MODE_CHECK, MODE_DRY, MODE_CLEANUP };

struct args {
	enum mode mode;
	int verbose, quiet;
	struct drill_opts drill;
	const char *policy;
};

/* Parse the command line. Returns -1 to go on, or an exit code (for -V,
 * -h and usage errors, which are reported here). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },       { "dry-run", no_argument, NULL, 'n' },
		{ "journal", required_argument, NULL, 'j' }, { "stop-file", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },     { "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },     { "help", no_argument, NULL, 'h' },
		{ "cleanup", no_argument, NULL, 'C' },     { "control-dir", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int c, modes = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":cnj:s:vqVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->mode = MODE_CHECK, modes++; break;
		case 'n': a->mode = MODE_DRY, modes++; break;
		case 'C': a->mode = MODE_CLEANUP, modes++; break;
		case 'j': a->drill.journal = optarg; break;
		case 's': a->drill.stop_file = optarg; break;
		case 'D': a->drill.control_dir = optarg; break;
		case 'v': a->verbose++; break;
		case 'q': a->quiet++; break;
		case 'V':
			printf("okx-faultd %s (git %s)\n", OKX_VERSION, OKX_GIT_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "okx-faultd: option '%s' needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "okx-faultd: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (modes > 1) {
		fputs("okx-faultd: --check, --dry-run and --cleanup exclude each other\n", stderr);
		return EXIT_USAGE;
	}
	if (a->mode == MODE_CLEANUP) {
		if (optind == argc)
			return -1;
		fputs("okx-faultd: --cleanup takes no POLICY\n", stderr);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fputs(optind == argc ? "okx-faultd: no POLICY given\n" : "okx-faultd: exactly one POLICY expected\n",
		      stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	a->policy = argv[optind];
	return -1;
}

static int need_root(void)
{
	if (privs_have(CAP_NET_ADMIN))
		return 0;
	fputs("okx-faultd: must run as root (CAP_NET_ADMIN)\n", stderr);
	return EXIT_RUNTIME;
}

static int check(const struct policy *p, const char *path, bool verbose)
{
	const char *note = policy_scope_note(p);

	/* on stderr: stdout is "POLICY: OK" or the normalized policy */
	if (note)
		fprintf(stderr, "%s: note: %s\n", path, note);
	if (verbose) {
		policy_print(p, stdout);
		fprintf(stderr, "%s: OK\n", path);
	} else {
		printf("%s: OK\n", path);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .mode = MODE_RUN };
	struct policy p;
	char *errors = NULL;
	int ret;

	/* A closed stderr (okx-faultd ... 2>&1 | head -1) or a file size limit
	 * must not kill a drill mid-fault: the write fails (EPIPE, EFBIG)
	 * instead, and a failed journal write ends the drill properly. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	log_init("okx-faultd", LOG_LVL_INFO);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	log_set_level(a.quiet ? LOG_LVL_WARN
			      : (a.verbose && a.mode != MODE_CHECK) ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (a.mode == MODE_CLEANUP) {
		ret = need_root();
		return ret ? ret : drill_cleanup();
	}
	/* run as root, the policy must be trusted (okx-faultd(8), SECURITY):
	 * in every mode, so --check refuses what the drill would */
	if (geteuid() == 0)
		ret = policy_load_trusted(&p, a.policy, trust_sudo_uid(secure_getenv("SUDO_UID")), &errors);
	else
		ret = policy_load(&p, a.policy, &errors);
	if (ret < 0) {
		fputs(errors ? errors : "okx-faultd: cannot load policy\n", stderr);
		free(errors);
		return EXIT_USAGE;
	}
	free(errors);
	switch (a.mode) {
	case MODE_CHECK:
		ret = check(&p, a.policy, a.verbose);
		break;
	case MODE_DRY:
		ret = drill_dry_run(&p, stdout);
		break;
	default:
		ret = need_root();
		if (!ret) {
			tune_timing();
			ret = drill_run(&p, &a.drill);
		}
		break;
	}
	policy_free(&p);
	return ret;
}
