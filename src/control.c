/* SPDX-License-Identifier: MIT */
/* The drill's control socket: see include/control.h and okx-faultd(8),
 * CONTROL SOCKET. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "log.h"
#include "safefile.h"

#define BACKLOG 16
/* the kernel's share of a client's unread replies (the rest waits in
 * struct client, CONTROL_OUT_MAX) */
#define CLIENT_SNDBUF 32768
/* Events handled per call: the rest wait for the next call (the set is
 * level-triggered), after the drill's own events, so a deadline that
 * fires meanwhile waits for a few clients at most, not for all of them. */
#define CONTROL_EVENTS_MAX 4
/* refused connections are logged at most once a second */
#define REFUSED_LOG_NS 1000000000ull

struct client {
	int fd;
	uid_t uid;
	pid_t pid;
	uint64_t since_ns;      /* connected at (monotonic) */
	uint32_t events;        /* what the event set asks for it */
	size_t in_len, out_len;
	bool answered;          /* its request is handled: nothing more is read */
	bool watching;          /* sent a status every tick, on each change, and at the end */
	bool closing;           /* closed once its replies are written */
	bool sent;              /* a watcher: the state and step it was sent last */
	enum status_state sent_state;
	uint64_t sent_step;
	char in[CONTROL_REQ_MAX];
	char out[CONTROL_OUT_MAX];
};

struct control {
	const struct control_ops *ops;
	void *data;
	char *dir, *path, *file; /* DIR, DIR/NAME.sock for messages, NAME.sock inside dirfd */
	char name[STATUS_NAME_MAX + 1];
	int dirfd, lfd, ep, tfd;
	dev_t dev;
	ino_t ino;         /* our socket: only that is ever removed */
	bool unlinked, ticking, accept_paused;
	size_t n_clients, n_watchers;
	/* one status per round, shared by every client of the round */
	bool line_valid;
	int line_len;
	enum status_state line_state;
	uint64_t line_step;
	char line[STATUS_LINE_MAX];
	uint64_t refused_log_ns, refused_quiet;
	struct client cl[CONTROL_MAX_CLIENTS];
};

const char *control_dir(const char *dir)
{
	const char *env;

	if (dir)
		return dir;
	env = secure_getenv(CONTROL_DIR_ENV);
	return env && *env ? env : CONTROL_DIR;
}

bool control_parse_request(const char *line, size_t len, enum control_req *req, char *err, size_t errlen)
{
	static const struct {
		const char *word;
		enum control_req req;
	} words[] = {
		/* sorted */
		{ "status", CONTROL_REQ_STATUS },
		{ "stop", CONTROL_REQ_STOP },
		{ "watch", CONTROL_REQ_WATCH },
	};
	char shown[CONTROL_REQ_MAX];
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) == len && !memcmp(words[i].word, line, len)) {
			*req = words[i].req;
			return true;
		}
	}
	/* quote it printable and short */
	for (i = 0; i < len && i < sizeof(shown) - 1; i++)
		shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	shown[i] = '\0';
	if (errlen)
		snprintf(err, errlen, "unknown request '%s' (status, watch or stop)", shown);
	return false;
}

bool control_peer_allowed(uid_t peer, uid_t self)
{
	return peer == 0 || peer == self;
}

/* The address of file in the directory open as dirfd (path: its name,
 * for a system without /proc): through /proc/self/fd, so the socket is
 * bound or reached in exactly the directory that was walked and checked,
 * whatever happens to the path meanwhile, and a long directory name fits
 * sun_path. */
static int addr_at(int dirfd, const char *dir, const char *file, struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (access("/proc/self/fd", X_OK) == 0)
		n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, file);
	else
		n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

/* ---- clients ------------------------------------------------------------ */

static int ep_set(struct control *c, struct client *cl, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = cl };

	if (cl->events == events)
		return 0;
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, cl->fd, &ev) < 0)
		return -errno;
	cl->events = events;
	return 0;
}

static void drop(struct control *c, struct client *cl, const char *why)
{
	if (why)
		log_info("control: closing the connection of pid %d (uid %u): %s", (int)cl->pid, (unsigned)cl->uid,
			 why);
	(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	if (cl->watching)
		c->n_watchers--;
	c->n_clients--;
	cl->fd = -1;
}

/* Write what is pending, as much as the socket takes now. */
static void flush(struct control *c, struct client *cl)
{
	while (cl->out_len) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* EPIPE, ECONNRESET: the client went away */
			drop(c, cl, NULL);
			return;
		}
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
	}
	if (!cl->out_len && cl->closing) {
		drop(c, cl, NULL);
		return;
	}
	if (ep_set(c, cl, (cl->out_len ? EPOLLOUT : 0) | (cl->answered ? 0 : EPOLLIN)) < 0)
		drop(c, cl, "cannot watch its socket");
}

/* Queue one reply line; a client that has not read CONTROL_OUT_MAX bytes
 * of replies is dropped: it can never hold the drill back. */
static void queue(struct control *c, struct client *cl, const char *text, size_t len)
{
	if (cl->fd < 0)
		return;
	if (len > sizeof(cl->out) - cl->out_len) {
		drop(c, cl, "it does not read its replies");
		return;
	}
	memcpy(cl->out + cl->out_len, text, len);
	cl->out_len += len;
	flush(c, cl);
}

static void queue_error(struct control *c, struct client *cl, const char *msg)
{
	char buf[512];
	int n = status_encode_error(msg, buf, sizeof(buf));

	cl->answered = cl->closing = true;
	if (n > 0)
		queue(c, cl, buf, (size_t)n);
	else
		drop(c, cl, NULL);
}

/* The status of this round, encoded once. */
static void current(struct control *c)
{
	struct drill_status st;

	if (c->line_valid)
		return;
	memset(&st, 0, sizeof(st));
	c->ops->status(c->data, &st, true);
	c->line_len = status_encode(&st, c->line, sizeof(c->line));
	if (c->line_len < 0) {
		log_warnx("control: encoding the status: %s", strerror(-c->line_len));
		c->line_len = status_encode_error("the status could not be encoded", c->line, sizeof(c->line));
	}
	c->line_state = st.state;
	c->line_step = st.step.index;
	c->line_valid = c->line_len > 0;
}

static void send_current(struct control *c, struct client *cl)
{
	current(c);
	if (!c->line_valid) {
		drop(c, cl, "no status");
		return;
	}
	cl->sent = true;
	cl->sent_state = c->line_state;
	cl->sent_step = c->line_step;
	queue(c, cl, c->line, (size_t)c->line_len);
}

static void request(struct control *c, struct client *cl, enum control_req req)
{
	char by[64], ack[256];
	int n;

	cl->answered = true;
	switch (req) {
	case CONTROL_REQ_STATUS:
		cl->closing = true;
		send_current(c, cl);
		return;
	case CONTROL_REQ_WATCH:
		cl->watching = true;
		c->n_watchers++;
		send_current(c, cl);
		return;
	case CONTROL_REQ_STOP:
		snprintf(by, sizeof(by), "control socket uid=%u pid=%d", (unsigned)cl->uid, (int)cl->pid);
		log_info("control: stop asked by uid %u pid %d", (unsigned)cl->uid, (int)cl->pid);
		c->ops->stop(c->data, by);
		c->line_valid = false; /* the drill changed */
		cl->watching = true;   /* it is sent the drill's end */
		c->n_watchers++;
		n = status_encode_stopping(by, ack, sizeof(ack));
		if (n > 0)
			queue(c, cl, ack, (size_t)n);
		return;
	}
}

static void client_read(struct control *c, struct client *cl)
{
	enum control_req req;
	char err[160];
	char *nl;
	ssize_t n;

	if (cl->answered)
		return;
	n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c, cl, NULL); /* gone before its request */
		return;
	}
	cl->in_len += (size_t)n;
	nl = memchr(cl->in, '\n', cl->in_len);
	if (!nl) {
		if (cl->in_len == sizeof(cl->in)) {
			snprintf(err, sizeof(err), "request longer than %d bytes", CONTROL_REQ_MAX - 1);
			queue_error(c, cl, err);
		}
		return;
	}
	if (!control_parse_request(cl->in, (size_t)(nl - cl->in), &req, err, sizeof(err))) {
		queue_error(c, cl, err);
		return;
	}
	request(c, cl, req);
}

/* ---- the listening socket and the tick ----------------------------------- */

static int tick_set(struct control *c, bool on)
{
	struct itimerspec its = { 0 };

	if (on == c->ticking)
		return 0;
	if (on) {
		its.it_value.tv_nsec = CONTROL_TICK_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(c->tfd, 0, &its, NULL) < 0)
		return -errno;
	c->ticking = on;
	return 0;
}

static void refuse(struct control *c, int fd, uid_t uid, pid_t pid, const char *msg)
{
	char buf[256];
	int n = status_encode_error(msg, buf, sizeof(buf));
	uint64_t now = mono_now_ns();

	/* best effort: a refused client gets one try at its reply */
	if (n > 0 && send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: refusing pid %d: %s", (int)pid, strerror(errno));
	close(fd);
	if (now - c->refused_log_ns < REFUSED_LOG_NS) {
		c->refused_quiet++;
		return;
	}
	log_warnx("control: refused a connection of uid %u pid %d: %s%s", (unsigned)uid, (int)pid, msg,
		  c->refused_quiet ? " (and more, not logged)" : "");
	c->refused_log_ns = now;
	c->refused_quiet = 0;
}

static void add_client(struct control *c, int fd, const struct ucred *cr)
{
	struct client *cl = NULL;
	struct epoll_event ev = { .events = EPOLLIN };

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
		if (c->cl[i].fd < 0)
			cl = &c->cl[i];
	if (!cl) {
		refuse(c, fd, cr->uid, cr->pid, "too many connections");
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ CLIENT_SNDBUF }, sizeof(int)) < 0)
		log_debug("control: SO_SNDBUF: %s", strerror(errno));
	ev.data.ptr = cl;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warnx("control: cannot watch a connection: %s", strerror(errno));
		close(fd);
		return;
	}
	memset(cl, 0, offsetof(struct client, in));
	cl->fd = fd;
	cl->uid = cr->uid;
	cl->pid = cr->pid;
	cl->events = EPOLLIN;
	cl->since_ns = mono_now_ns();
	c->n_clients++;
}

/* Accept what is waiting, at most CONTROL_EVENTS_MAX at a time. */
static void accept_clients(struct control *c)
{
	for (int round = 0; round < CONTROL_EVENTS_MAX; round++) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0) {
			/* out of descriptors or memory: stop listening until the
			 * next tick rather than wake up for it again and again */
			log_warnx("control: accepting a connection: %s", strerror(errno));
			if (epoll_ctl(c->ep, EPOLL_CTL_DEL, c->lfd, NULL) == 0)
				c->accept_paused = true;
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			log_warnx("control: SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (!control_peer_allowed(cr.uid, geteuid()))
			refuse(c, fd, cr.uid, cr.pid, "permission denied");
		else
			add_client(c, fd, &cr);
	}
}

/* Send this round's status to every watcher (with `st`, only to those
 * last sent another state or step). */
static void push_watchers(struct control *c, const struct drill_status *st)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->cl[i];

		if (cl->fd < 0 || !cl->watching)
			continue;
		if (st && cl->sent && cl->sent_state == st->state && cl->sent_step == st->step.index)
			continue;
		send_current(c, cl);
	}
}

static void on_tick(struct control *c)
{
	uint64_t n, now = mono_now_ns();
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (read(c->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("control: reading the tick: %s", strerror(errno));
	if (c->accept_paused && epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) == 0)
		c->accept_paused = false;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->cl[i];

		if (cl->fd >= 0 && !cl->answered && now - cl->since_ns >= CONTROL_IDLE_MS * 1000000ull) {
			log_debug("control: pid %d sent no request within %d ms: closing", (int)cl->pid, CONTROL_IDLE_MS);
			queue_error(c, cl, "no request within the time allowed");
		}
	}
	if (c->n_watchers)
		push_watchers(c, NULL);
}

int control_handle(struct control *c)
{
	struct epoll_event evs[CONTROL_EVENTS_MAX];
	int n = epoll_wait(c->ep, evs, CONTROL_EVENTS_MAX, 0);
	bool pending = false;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	c->line_valid = false;
	for (int i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;
		struct client *cl = p;

		if (!p) {
			pending = true; /* after the clients: no slot changes hands mid-round */
		} else if (p == c) {
			on_tick(c);
		} else if (cl->fd >= 0) {
			if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN))
				drop(c, cl, NULL);
			else if (evs[i].events & EPOLLIN)
				client_read(c, cl);
			if (cl->fd >= 0 && evs[i].events & EPOLLOUT)
				flush(c, cl);
		}
	}
	if (pending)
		accept_clients(c);
	return tick_set(c, c->n_clients > 0 || c->accept_paused);
}

void control_changed(struct control *c)
{
	struct drill_status st;

	if (!c || !c->n_watchers)
		return;
	memset(&st, 0, sizeof(st));
	c->ops->status(c->data, &st, false);
	/* the end is sent by control_end(), once the journal has it */
	if (st.state == STATUS_ENDING)
		return;
	c->line_valid = false;
	push_watchers(c, &st);
}

/* ---- the socket's life --------------------------------------------------- */

/* Is the socket at the path still the one we bound? */
static void remove_ours(struct control *c)
{
	struct stat st;

	if (c->unlinked || c->dirfd < 0 || !c->ino)
		return;
	c->unlinked = true;
	if (fstatat(c->dirfd, c->file, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != c->dev || st.st_ino != c->ino)
		return;
	if (unlinkat(c->dirfd, c->file, 0) < 0)
		log_warnx("control socket %s: cannot remove it: %s", c->path, strerror(errno));
}

void control_end(struct control *c)
{
	if (!c)
		return;
	/* first: no new client can find a drill that has ended */
	remove_ours(c);
	c->line_valid = false;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->cl[i];

		if (cl->fd < 0)
			continue;
		if (cl->watching)
			send_current(c, cl);
		if (cl->fd >= 0)
			drop(c, cl, NULL); /* what the socket took is still delivered */
	}
}

void control_close(struct control *c)
{
	if (!c)
		return;
	remove_ours(c);
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			drop(c, &c->cl[i], NULL);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->ep >= 0)
		close(c->ep);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	free(c->path);
	free(c->file);
	free(c);
}

/* The directory must be ours alone: anyone else who could write it could
 * replace the drill's socket with their own. */
static int check_dir(const struct control *c, const char *dir)
{
	struct stat st;

	if (fstat(c->dirfd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid()) {
		log_errx("control socket: directory %s belongs to uid %u, not %u: another user could replace the "
			 "drill's socket", dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 022) {
		log_errx("control socket: directory %s is writable by %s (mode %04o): another user could replace the "
			 "drill's socket", dir, st.st_mode & 002 ? "every user" : "its group", st.st_mode & 07777);
		return -EPERM;
	}
	return 0;
}

/* Something at the path that is not a socket of ours is never replaced. */
static int check_path(const struct control *c)
{
	struct stat st;

	if (fstatat(c->dirfd, c->file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_errx("control socket %s: a %s is there: refusing to replace it", c->path,
			 safefile_type_name(st.st_mode));
		return -EEXIST;
	}
	if (st.st_uid != geteuid()) {
		log_errx("control socket %s: belongs to uid %u: refusing to replace it", c->path, (unsigned)st.st_uid);
		return -EPERM;
	}
	return 1;
}

/* With DIR locked: a socket at the path is removed only when it is ours
 * and its drill is gone (a connect is refused). */
static int clear_stale(struct control *c)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret = check_path(c);

	if (ret <= 0)
		return ret;
	ret = addr_at(c->dirfd, c->dir, c->file, &sa, &len);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
	close(fd);
	if (ret == 0 || ret == -EAGAIN || ret == -EINPROGRESS) {
		log_errx("another okx-faultd runs drill %s (its control socket %s answers)", c->name, c->path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED) {
		log_errx("control socket %s: cannot tell whether its drill runs: %s", c->path, strerror(-ret));
		return ret;
	}
	if (unlinkat(c->dirfd, c->file, 0) < 0)
		return -errno;
	log_info("control socket %s: removed the stale socket of a drill that is gone", c->path);
	return 0;
}

static int bind_listen(struct control *c)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct stat st;
	mode_t old;
	int ret;

	ret = addr_at(c->dirfd, c->dir, c->file, &sa, &len);
	if (ret < 0)
		return ret;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		return -errno;
	/* single-threaded here: the umask only covers this bind */
	old = umask(0777 & ~CONTROL_SOCK_MODE);
	ret = bind(c->lfd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
	umask(old);
	if (ret < 0)
		return ret;
	if (fstatat(c->dirfd, c->file, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if ((st.st_mode & 07777) != CONTROL_SOCK_MODE && fchmodat(c->dirfd, c->file, CONTROL_SOCK_MODE, 0) < 0)
		return -errno;
	return listen(c->lfd, BACKLOG) < 0 ? -errno : 0;
}

int control_listen(struct control *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ret;

	if (c->lfd >= 0)
		return -EBUSY;
	if (flock(c->dirfd, LOCK_EX) < 0)
		return -errno;
	ret = clear_stale(c);
	if (ret == 0) {
		ret = bind_listen(c);
		if (ret < 0)
			log_errx("control socket %s: %s", c->path, strerror(-ret));
	}
	if (flock(c->dirfd, LOCK_UN) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) < 0)
		ret = -errno;
	if (ret == 0)
		log_info("control socket: %s", c->path);
	return ret;
}

static int open_dir(struct control *c)
{
	int ret, fd = safefile_open_dir(c->dir, CONTROL_DIR_MODE);

	if (fd < 0) {
		log_errx("control socket: directory %s: %s", c->dir,
			 fd == -ELOOP ? "a symbolic link is on its path" : strerror(-fd));
		return fd;
	}
	c->dirfd = fd;
	ret = check_dir(c, c->dir);
	return ret < 0 ? ret : check_path(c);
}

int control_open(struct control **out, const char *dir, const char *name, const struct control_ops *ops,
		 void *data)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct control *c;
	int ret;

	*out = NULL;
	if (!status_name_valid(name))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ops = ops;
	c->data = data;
	c->dirfd = c->lfd = c->ep = c->tfd = -1;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (!(c->dir = strdup(dir)) || asprintf(&c->file, "%s.sock", name) < 0 ||
	    asprintf(&c->path, "%s/%s", dir, c->file) < 0) {
		c->file = c->path = NULL;
		control_close(c);
		return -ENOMEM;
	}
	ret = open_dir(c);
	if (ret >= 0 && ((c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
			 (c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0))
		ret = -errno;
	ev.data.ptr = c;
	if (ret >= 0 && epoll_ctl(c->ep, EPOLL_CTL_ADD, c->tfd, &ev) < 0)
		ret = -errno;
	if (ret < 0) {
		control_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

int control_fd(const struct control *c)
{
	return c->ep;
}

const char *control_path(const struct control *c)
{
	return c->path;
}

/* ---- client ------------------------------------------------------------- */

int control_connect(const char *dir, const char *name)
{
	/* a daemon whose backlog is full is waited for this long */
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un sa;
	socklen_t len;
	struct stat st;
	char file[STATUS_NAME_MAX + 8];
	int dirfd, fd = -1, ret;

	if (!status_name_valid(name))
		return -EINVAL;
	snprintf(file, sizeof(file), "%s.sock", name);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		goto cleanup;
	}
	ret = !S_ISSOCK(st.st_mode) ? -ENOTSOCK : addr_at(dirfd, dir, file, &sa, &len);
	if (ret < 0)
		goto cleanup;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, len) < 0) {
		ret = -errno;
		goto cleanup;
	}
	ret = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return ret;
}
