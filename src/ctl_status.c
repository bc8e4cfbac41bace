/* SPDX-License-Identifier: MIT */
/* okx-faultctl status, watch and stop (include/ctl_status.h,
 * okx-faultctl(1)). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "ctl_status.h"
#include "log.h"
#include "status.h"

#define EXIT_OK 0
#define EXIT_NOT_ASKED 1
#define EXIT_USAGE 2
/* a reply to status or stop */
#define REPLY_MS 5000
/* the daemon sends watchers a line every CONTROL_TICK_MS: this much
 * silence means it hangs */
#define WATCH_SILENCE_MS 10000
/* the end of a drill after a stop: faults are already off, the table and
 * the journal's end remain */
#define STOP_END_MS 10000
/* status without NAME asks at most this many sockets */
#define SCAN_MAX 1024
/* internal: no drill behind the name (no socket, or a stale one) */
#define NOT_RUNNING (-2)

struct ctl_opts {
	const char *dir;
	const char *name;
	bool json;
};

static void usage_of(const char *cmd, FILE *f)
{
	if (!strcmp(cmd, "status"))
		fputs("usage: okx-faultctl status [NAME] [--json] [--control-dir DIR]\n", f);
	else
		fprintf(f, "usage: okx-faultctl %s NAME [--control-dir DIR]\n", cmd);
}

/* Returns -1 to go on, or an exit code. */
static int parse(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "control-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	bool status = !strcmp(cmd, "status");
	int c;

	optind = 0; /* 0: getopt starts over (main parsed before) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			if (!status) {
				log_errx("%s: unknown option '--json'", cmd);
				usage_of(cmd, stderr);
				return EXIT_USAGE;
			}
			o->json = true;
			break;
		case 'D': o->dir = optarg; break;
		case 'h': usage_of(cmd, stdout); return EXIT_OK;
		case ':':
			log_errx("%s: option '%s' needs an argument", cmd, argv[optind - 1]);
			usage_of(cmd, stderr);
			return EXIT_USAGE;
		default:
			log_errx("%s: unknown option '%s'", cmd, argv[optind - 1]);
			usage_of(cmd, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (!status && argc - optind != 1)) {
		log_errx(argc - optind > 1 ? "%s: one NAME at most" : "%s: which drill? give its NAME", cmd);
		usage_of(cmd, stderr);
		return EXIT_USAGE;
	}
	o->name = optind < argc ? argv[optind] : NULL;
	if (o->name && !status_name_valid(o->name)) {
		log_errx("%s: invalid drill name '%s' (1-64 characters from A-Z a-z 0-9 _ . -)", cmd, o->name);
		return EXIT_USAGE;
	}
	o->dir = control_dir(o->dir);
	return -1;
}

/* ---- the connection ----------------------------------------------------- */

struct conn {
	int fd;
	size_t len, used; /* bytes in buf; of them, the line returned last */
	char buf[STATUS_LINE_MAX + 1];
};

/* Connect and send the request; errors said as the user needs them
 * (with `quiet`, not that the drill is not running). Returns 0, an exit
 * code, or NOT_RUNNING. */
static int ask(struct conn *k, const struct ctl_opts *o, const char *req, bool quiet)
{
	char line[16];
	int fd = control_connect(o->dir, o->name);

	k->len = k->used = 0;
	k->fd = -1;
	switch (fd) {
	case -ENOENT:
		if (!quiet)
			log_errx("drill %s is not running (no %s/%s.sock)", o->name, o->dir, o->name);
		return NOT_RUNNING;
	case -ECONNREFUSED:
		if (!quiet)
			log_errx("drill %s is not running (%s/%s.sock is the stale socket of a drill that is gone)",
				 o->name, o->dir, o->name);
		return NOT_RUNNING;
	case -EACCES:
	case -EPERM:
		log_errx("%s/%s.sock: permission denied (only root can ask a drill)", o->dir, o->name);
		return EXIT_NOT_ASKED;
	case -EAGAIN:
		log_errx("drill %s does not take the connection (its daemon is busy or stopped)", o->name);
		return EXIT_NOT_ASKED;
	default:
		if (fd >= 0)
			break;
		log_errx("%s/%s.sock: %s", o->dir, o->name, strerror(-fd));
		return EXIT_NOT_ASKED;
	}
	k->fd = fd;
	snprintf(line, sizeof(line), "%s\n", req);
	/* a daemon that refuses the connection (permission denied) closes it
	 * at once: its reply is read all the same */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line) && errno != EPIPE &&
	    errno != ECONNRESET) {
		log_errx("drill %s: sending the request: %s", o->name, strerror(errno));
		return EXIT_NOT_ASKED;
	}
	return EXIT_OK;
}

/* The next line (NUL-terminated, without its newline). Returns its
 * length, -ENODATA at the end of the stream, -ETIMEDOUT, -EMSGSIZE, or
 * -errno. */
static int next_line(struct conn *k, int timeout_ms, char **line)
{
	memmove(k->buf, k->buf + k->used, k->len - k->used);
	k->len -= k->used;
	k->used = 0;
	for (;;) {
		char *nl = memchr(k->buf, '\n', k->len);
		struct pollfd p = { .fd = k->fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (nl) {
			*nl = '\0';
			*line = k->buf;
			k->used = (size_t)(nl - k->buf) + 1;
			return (int)(nl - k->buf);
		}
		if (k->len >= STATUS_LINE_MAX)
			return -EMSGSIZE;
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(k->fd, k->buf + k->len, STATUS_LINE_MAX - k->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		k->len += (size_t)n;
	}
}

/* Read and decode the next reply. Returns 0 or -errno (said, but with
 * `quiet` the end of the stream). */
static int reply(struct conn *k, const char *name, int timeout_ms, bool quiet, struct status_reply *r, char **text)
{
	char err[200], *line = NULL;
	int n = next_line(k, timeout_ms, &line);

	if (n == -ENODATA && quiet)
		return n;
	if (n == -ETIMEDOUT)
		log_errx("drill %s: no answer within %d s", name, timeout_ms / 1000);
	else if (n == -ENODATA)
		log_errx("drill %s: the daemon closed the connection", name);
	else if (n < 0)
		log_errx("drill %s: reading the answer: %s", name, strerror(-n));
	if (n < 0)
		return n;
	if (!status_decode(line, (size_t)n, r, err, sizeof(err))) {
		log_errx("drill %s: bad answer: %s", name, err);
		return -EPROTO;
	}
	if (text)
		*text = line;
	return 0;
}

static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

/* ---- status ------------------------------------------------------------- */

/* Ask one drill; a status line goes into *json (malloc'ed) or is printed.
 * Returns an exit code or NOT_RUNNING. */
static int status_one(const struct ctl_opts *o, bool quiet, char **json)
{
	struct conn *k = malloc(sizeof(*k));
	struct status_reply *r = malloc(sizeof(*r));
	char *line = NULL;
	int code = EXIT_NOT_ASKED;

	if (!k || !r) {
		log_errx("out of memory");
		goto cleanup;
	}
	code = ask(k, o, "status", quiet);
	if (code != EXIT_OK)
		goto cleanup;
	code = EXIT_NOT_ASKED;
	if (reply(k, o->name, REPLY_MS, false, r, &line) < 0)
		goto cleanup;
	if (r->kind != STATUS_REPLY_STATUS) {
		log_errx("drill %s: %s", o->name, r->kind == STATUS_REPLY_ERROR ? r->text : "unexpected answer");
		goto cleanup;
	}
	if (json) {
		*json = strdup(line);
		if (!*json) {
			log_errx("out of memory");
			goto cleanup;
		}
	} else {
		status_print(&r->st, stdout);
	}
	code = EXIT_OK;
cleanup:
	if (k)
		conn_close(k);
	free(k);
	free(r);
	return code;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The drill names of the sockets in dir, sorted (none when dir does not
 * exist). Returns 0, or -1 with the error said. */
static int scan(const char *dir, char ***names, size_t *n)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	*names = NULL;
	*n = 0;
	if (!dp && errno == ENOENT)
		return 0;
	if (!dp) {
		if (errno == EACCES)
			log_errx("%s: permission denied (only root can ask a drill)", dir);
		else
			log_errx("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) && *n < SCAN_MAX) {
		size_t len = strlen(e->d_name);
		struct stat st;
		char **nn;


		if (len <= 5 || strcmp(e->d_name + len - 5, ".sock"))
			continue;
		if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		e->d_name[len - 5] = '\0';
		if (!status_name_valid(e->d_name))
			continue;
		nn = realloc(*names, (*n + 1) * sizeof(**names));
		if (!nn || !(nn[*n] = strdup(e->d_name))) {
			*names = nn ? nn : *names;
			closedir(dp);
			log_errx("out of memory");
			return -1;
		}
		*names = nn;
		(*n)++;
	}
	closedir(dp);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

static int status_all(struct ctl_opts *o)
{
	char **names, **lines = NULL;
	size_t n, shown = 0;
	int code = EXIT_OK;

	if (scan(o->dir, &names, &n) < 0)
		return EXIT_NOT_ASKED;
	if (o->json && n && !(lines = calloc(n, sizeof(*lines)))) {
		log_errx("out of memory");
		code = EXIT_NOT_ASKED;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		int c;

		o->name = names[i];
		if (!o->json && shown)
			putchar('\n');
		c = status_one(o, true, o->json ? &lines[shown] : NULL);
		/* a stale socket (or one just removed) is a drill that is gone:
		 * not an error here */
		if (c == EXIT_OK)
			shown++;
		else if (c != NOT_RUNNING)
			code = c;
	}
	if (o->json) {
		printf("{\"version\":%d,\"drills\":[", STATUS_VERSION);
		for (size_t i = 0; i < shown; i++)
			printf("%s\n%s", i ? "," : "", lines[i]);
		fputs(shown ? "\n]}\n" : "]}\n", stdout);
	} else if (!shown) {
		puts("no drill is running");
	}
cleanup:
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		if (lines)
			free(lines[i]);
	}
	free(names);
	free(lines);
	return code;
}

int ctl_status(int argc, char **argv)
{
	struct ctl_opts o = { 0 };
	char *json = NULL;
	int code = parse(argc, argv, &o);

	if (code >= 0)
		return code;
	if (!o.name)
		return status_all(&o);
	code = status_one(&o, false, o.json ? &json : NULL);
	if (json)
		puts(json);
	free(json);
	return code == NOT_RUNNING ? EXIT_NOT_ASKED : code;
}

/* ---- watch -------------------------------------------------------------- */

static size_t term_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* One status on the terminal (the line redrawn) or, for a file or pipe,
 * a line when status_watch_due(). prev: the last status shown (NULL:
 * none). Returns whether st was shown. */
static bool show(const struct drill_status *st, const struct drill_status *prev, bool tty)
{
	char line[512];
	size_t w;

	if (tty) {
		status_line(st, true, line, sizeof(line));
		w = term_width() - 1;
		if (strlen(line) > w)
			line[w] = '\0';
		printf("\r\033[K%s", line);
	} else if (status_watch_due(prev, st)) {
		status_line(st, false, line, sizeof(line));
		printf("+%" PRIu64 ".%03" PRIu64 "s %s\n", st->elapsed_ms / 1000, st->elapsed_ms % 1000, line);
	} else {
		return false;
	}
	fflush(stdout);
	return true;
}

/* Follow the drill to its end. Returns its exit code or CTL_WATCH_LOST. */
static int follow(struct conn *k, const char *name, bool tty, int first_ms, struct status_reply *r,
		  struct drill_status *prev)
{
	char journal[STATUS_PATH_MAX] = "";
	bool have = false;
	int timeout = first_ms;

	for (;;) {
		if (reply(k, name, timeout, false, r, NULL) < 0)
			break;
		timeout = WATCH_SILENCE_MS;
		if (r->kind == STATUS_REPLY_ERROR) {
			log_errx("drill %s: %s", name, r->text);
			return CTL_WATCH_LOST;
		}
		if (r->kind != STATUS_REPLY_STATUS)
			continue;
		if (r->st.journal[0])
			snprintf(journal, sizeof(journal), "%s", r->st.journal);
		if (r->st.state == STATUS_ENDING) {
			char line[512];

			status_line(&r->st, false, line, sizeof(line));
			printf("%s%s\n", tty && have ? "\r\033[K" : "", line);
			return r->st.exit_code;
		}
		if (show(&r->st, have ? prev : NULL, tty)) {
			*prev = r->st;
			have = true;
		}
	}
	if (tty && have)
		putchar('\n');
	log_errx("drill %s: watched to no end%s%s", name, journal[0] ? "; see its journal " : "", journal);
	return CTL_WATCH_LOST;
}

int ctl_watch(int argc, char **argv)
{
	struct ctl_opts o = { 0 };
	struct conn *k = NULL;
	struct status_reply *r = NULL;
	struct drill_status *prev = NULL;
	int code = parse(argc, argv, &o);

	if (code >= 0)
		return code;
	k = malloc(sizeof(*k));
	r = malloc(sizeof(*r));
	prev = malloc(sizeof(*prev));
	code = CTL_WATCH_LOST;
	if (!k || !r || !prev) {
		log_errx("out of memory");
		goto cleanup;
	}
	if (ask(k, &o, "watch", false) == EXIT_OK)
		code = follow(k, o.name, isatty(STDOUT_FILENO), REPLY_MS, r, prev);
cleanup:
	if (k)
		conn_close(k);
	free(k);
	free(r);
	free(prev);
	return code;
}

/* ---- stop --------------------------------------------------------------- */

int ctl_stop(int argc, char **argv)
{
	struct ctl_opts o = { 0 };
	struct conn *k = NULL;
	struct status_reply *r = NULL;
	char line[512];
	int code = parse(argc, argv, &o);

	if (code >= 0)
		return code;
	k = malloc(sizeof(*k));
	r = malloc(sizeof(*r));
	code = EXIT_NOT_ASKED;
	if (!k || !r) {
		log_errx("out of memory");
		goto cleanup;
	}
	if (ask(k, &o, "stop", false) != EXIT_OK || reply(k, o.name, REPLY_MS, false, r, NULL) < 0)
		goto cleanup;
	if (r->kind != STATUS_REPLY_STOPPING) {
		log_errx("drill %s: %s", o.name, r->kind == STATUS_REPLY_ERROR ? r->text : "unexpected answer");
		goto cleanup;
	}
	/* the daemon answers once the live fault is off and its window journaled */
	printf("drill %s: stopping (%s)\n", o.name, r->text);
	fflush(stdout);
	code = EXIT_OK;
	while (reply(k, o.name, STOP_END_MS, true, r, NULL) == 0) {
		if (r->kind == STATUS_REPLY_STATUS && r->st.state == STATUS_ENDING) {
			status_line(&r->st, false, line, sizeof(line));
			puts(line);
			break;
		}
	}
cleanup:
	if (k)
		conn_close(k);
	free(k);
	free(r);
	return code;
}
