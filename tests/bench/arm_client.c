/* SPDX-License-Identifier: MIT */
/*
 * arm_client — the client side of the arm-latency benchmark (tests/bench/arm.sh).
 *
 *   arm_client drills --daemon PATH --policy FILE --journal-dir DIR --count N
 *                     ADDR PORT [--out FILE]
 *       N drills, one after the other. Each: start PATH -j DIR/arm-I.jsonl FILE
 *       with its stderr on a pipe, wait for its "watching:" line (the
 *       conntrack subscription is up), check that `nft list table inet
 *       okx_faultd` succeeds, read CLOCK_REALTIME and connect() once
 *       (non-blocking) to ADDR PORT, wait for the daemon to exit 0 and read
 *       its journal back. One line per drill to --out (default stdout):
 *         I ARM_US DETECT_US COMMIT_US WINDOW_ERR_MS PLANNED_MS ACTUAL_MS
 *       ARM_US: connect() to fault_begin.ts; DETECT_US: connect() to
 *       fault_begin.invoke_ts (the daemon saw the flow and asked the
 *       kernel); COMMIT_US: invoke_ts to ts; WINDOW_ERR_MS:
 *       |fault_end.actual_ms - fault_begin.planned_ms|. Exit 1 as soon as a
 *       drill cannot run (its daemon log on stderr).
 *   arm_client connect ADDR PORT [--wait-ms N]
 *       prints CLOCK_REALTIME read just before connect() ("SEC.NSEC"),
 *       connects (non-blocking), waits up to N ms (default 200) for the
 *       handshake, closes.
 *   arm_client stats [--scale F]
 *       reads numbers (one a line) from stdin, prints "N MEDIAN P99 MIN MAX"
 *       (nearest-rank percentiles), each multiplied by F (default 1).
 *
 * Runs inside the benchmark's client namespace; the daemon inherits it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lab/labutil.h"

#include "journal_read.h"

extern char **environ;

#define DAEMON_LOG_MAX 16384
#define READY_TIMEOUT_MS 5000
#define EXIT_TIMEOUT_MS 10000
#define MAX_DRILLS 100000

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool parse_addr(const char *host, const char *port, struct sockaddr_in *sa)
{
	long p;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!parse_long(port, 1, 65535, &p) || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return false;
	sa->sin_port = htons((uint16_t)p);
	return true;
}

/* The daemon's stderr, kept for diagnostics. */
struct dlog {
	int fd;
	char buf[DAEMON_LOG_MAX];
	size_t len;
	bool eof;
};

/* Reads what is there (waiting up to timeout_ms for something).
 * Returns false on timeout or a stop signal. */
static bool dlog_read(struct dlog *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	char tmp[4096];
	ssize_t n;
	int r;

	if (stop_signal)
		return false;
	r = poll(&pfd, 1, timeout_ms);
	if (r <= 0)
		return false;
	n = read(l->fd, tmp, sizeof(tmp));
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return true;
		l->eof = true;
		return true;
	}
	if ((size_t)n > sizeof(l->buf) - 1 - l->len)
		n = (ssize_t)(sizeof(l->buf) - 1 - l->len);
	memcpy(l->buf + l->len, tmp, (size_t)n);
	l->len += (size_t)n;
	l->buf[l->len] = '\0';
	return true;
}

static pid_t start_daemon(const char *daemon, const char *journal, const char *policy, int *errfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* the daemon ends its faults on SIGTERM: never leave it behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (dup2(p[1], 2) < 0)
			_exit(127);
		execl(daemon, daemon, "-j", journal, policy, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*errfd = p[0];
	return pid;
}

/* `nft list table inet okx_faultd` in this namespace succeeds. */
static bool table_exists(void)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "nft", "list", "table", "inet", "okx_faultd", NULL };
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, "nft", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return false;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Waits for the daemon to exit (its stderr at EOF, then waitpid), up to
 * timeout_ms; kills it (SIGTERM, then SIGKILL) when it does not. Returns
 * its wait status, or -1 when it had to be killed. */
static int reap_daemon(pid_t pid, struct dlog *l, int timeout_ms)
{
	int64_t deadline = (int64_t)mono_ms() + timeout_ms;
	int st;

	while (!l->eof && !stop_signal) {
		int64_t left = deadline - (int64_t)mono_ms();

		if (left <= 0 || !dlog_read(l, (int)left))
			break;
	}
	if (!l->eof) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
			usleep(10000);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

struct drill_result {
	int64_t arm_ns, detect_ns, commit_ns;
	int64_t planned_ms;
	double actual_ms;
};

static int check_journal(const char *path, int64_t t0, struct drill_result *r)
{
	struct jread j = { 0 };
	char *error = NULL;
	int ret = jread_file(&j, path, &error);

	if (ret < 0) {
		fprintf(stderr, "arm_client: %s\n", error ? error : strerror(-ret));
		goto out;
	}
	ret = -1;
	if (!j.outcome || strcmp(j.outcome, "completed") != 0 || j.n_windows != 1 || j.windows[0].open) {
		fprintf(stderr, "arm_client: %s: outcome %s, %zu windows (want completed, 1 closed)\n", path,
			j.outcome ? j.outcome : "(none)", j.n_windows);
		goto out;
	}
	r->arm_ns = j.windows[0].begin_ns - t0;
	r->detect_ns = j.windows[0].invoke_ns - t0;
	r->commit_ns = j.windows[0].begin_ns - j.windows[0].invoke_ns;
	r->planned_ms = j.windows[0].planned_ms;
	r->actual_ms = j.windows[0].actual_ms;
	ret = 0;
out:
	free(error);
	jread_free(&j);
	return ret;
}

static void print_daemon_log(const struct dlog *l)
{
	fprintf(stderr, "--- daemon stderr ---\n%s--- end ---\n", l->buf);
}

/* One drill; 0 or -1 (message on stderr). */
static int one_drill(const char *daemon, const char *policy, const char *journal, const struct sockaddr_in *sa,
		     struct drill_result *r)
{
	static struct dlog l;
	int64_t deadline, t0;
	pid_t pid;
	int fd = -1, st, ret = -1;

	unlink(journal);
	memset(&l, 0, sizeof(l));
	pid = start_daemon(daemon, journal, policy, &l.fd);
	if (pid < 0) {
		fprintf(stderr, "arm_client: starting %s: %s\n", daemon, strerror(errno));
		return -1;
	}
	deadline = (int64_t)mono_ms() + READY_TIMEOUT_MS;
	while (!strstr(l.buf, ": watching:") && !l.eof) {
		int64_t left = deadline - (int64_t)mono_ms();

		if (left <= 0 || !dlog_read(&l, (int)left))
			break;
	}
	if (!strstr(l.buf, ": watching:")) {
		fprintf(stderr, "arm_client: the daemon never logged \"watching:\"\n");
		goto kill;
	}
	if (!table_exists()) {
		fprintf(stderr, "arm_client: table inet okx_faultd absent after \"watching:\"\n");
		goto kill;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "arm_client: socket: %s\n", strerror(errno));
		goto kill;
	}
	t0 = clock_ns(CLOCK_REALTIME);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "arm_client: connect: %s\n", strerror(errno));
		goto kill;
	}
	st = reap_daemon(pid, &l, EXIT_TIMEOUT_MS);
	pid = -1;
	close(fd);
	fd = -1;
	if (stop_signal)
		goto out; /* interrupted: the daemon was stopped, nothing to report */
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "arm_client: the daemon %s %d\n",
			st == -1 ? "had to be killed; status" : WIFEXITED(st) ? "exited" : "died of signal",
			st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		print_daemon_log(&l);
		goto out;
	}
	ret = check_journal(journal, t0, r);
	if (ret < 0)
		print_daemon_log(&l);
	goto out;
kill:
	if (!stop_signal)
		print_daemon_log(&l);
	if (pid > 0)
		reap_daemon(pid, &l, 0);
out:
	if (fd >= 0)
		close(fd);
	close(l.fd);
	unlink(journal);
	return ret;
}

static int cmd_drills(int argc, char **argv)
{
	const char *daemon = NULL, *policy = NULL, *dir = NULL, *out = NULL, *pos[2];
	long count = 0;
	int npos = 0;
	struct sockaddr_in sa;
	char journal[4096];
	FILE *f = stdout;

	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--daemon") && v)
			daemon = v, i++;
		else if (!strcmp(argv[i], "--policy") && v)
			policy = v, i++;
		else if (!strcmp(argv[i], "--journal-dir") && v)
			dir = v, i++;
		else if (!strcmp(argv[i], "--out") && v)
			out = v, i++;
		else if (!strcmp(argv[i], "--count") && v && parse_long(v, 1, MAX_DRILLS, &count))
			i++;
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else
			goto usage;
	}
	if (!daemon || !policy || !dir || !count || npos != 2 || !parse_addr(pos[0], pos[1], &sa))
		goto usage;
	if (out && !(f = fopen(out, "w"))) {
		fprintf(stderr, "arm_client: %s: %s\n", out, strerror(errno));
		return 1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	for (long i = 0; i < count && !stop_signal; i++) {
		struct drill_result r;

		snprintf(journal, sizeof(journal), "%s/arm-%ld.jsonl", dir, i);
		if (one_drill(daemon, policy, journal, &sa, &r) < 0) {
			if (!stop_signal)
				fprintf(stderr, "arm_client: drill %ld failed\n", i);
			if (f != stdout)
				fclose(f);
			return 1;
		}
		fprintf(f, "%ld %.3f %.3f %.3f %.6f %lld %.6f\n", i, (double)r.arm_ns / 1e3, (double)r.detect_ns / 1e3,
			(double)r.commit_ns / 1e3, fabs(r.actual_ms - (double)r.planned_ms), (long long)r.planned_ms,
			r.actual_ms);
	}
	if (f != stdout)
		fclose(f);
	return stop_signal ? 1 : 0;
usage:
	fprintf(stderr, "usage: arm_client drills --daemon PATH --policy FILE --journal-dir DIR --count N"
			" ADDR PORT [--out FILE]\n");
	return 2;
}

static int cmd_connect(int argc, char **argv)
{
	struct sockaddr_in sa;
	long wait_ms = 200;
	int fd;
	int64_t t0;

	if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--wait-ms") && parse_long(argv[3], 0, 60000, &wait_ms)))
		goto usage;
	if (!parse_addr(argv[0], argv[1], &sa))
		goto usage;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "arm_client: socket: %s\n", strerror(errno));
		return 1;
	}
	t0 = clock_ns(CLOCK_REALTIME);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		fprintf(stderr, "arm_client: connect: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	printf("%lld.%09lld\n", (long long)(t0 / 1000000000), (long long)(t0 % 1000000000));
	fflush(stdout);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	poll(&pfd, 1, (int)wait_ms);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: arm_client connect ADDR PORT [--wait-ms N]\n");
	return 2;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, size_t n, unsigned p)
{
	size_t k = (n * p + 99) / 100;

	return v[k ? k - 1 : 0];
}

static int cmd_stats(int argc, char **argv)
{
	double scale = 1, *v = NULL, x;
	size_t n = 0, cap = 0;
	char line[256], *end;

	if (argc == 2 && !strcmp(argv[0], "--scale")) {
		scale = strtod(argv[1], &end);
		if (*end || !isfinite(scale))
			goto usage;
	} else if (argc) {
		goto usage;
	}
	while (fgets(line, sizeof(line), stdin)) {
		x = strtod(line, &end);
		if (end == line)
			continue;
		if (n == cap) {
			double *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				return 1;
			}
			v = nv;
			cap = cap ? cap * 2 : 256;
		}
		v[n++] = x * scale;
	}
	if (!n) {
		fprintf(stderr, "arm_client stats: no numbers\n");
		free(v);
		return 1;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%zu %.6f %.6f %.6f %.6f\n", n, pct(v, n, 50), pct(v, n, 99), v[0], v[n - 1]);
	free(v);
	return 0;
usage:
	fprintf(stderr, "usage: arm_client stats [--scale F]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "drills"))
		return cmd_drills(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "connect"))
		return cmd_connect(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	fprintf(stderr, "usage: arm_client drills|connect|stats ... (see the source's header)\n");
	return 2;
}
