/* SPDX-License-Identifier: MIT */
#ifndef OKX_CONTROL_H
#define OKX_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "status.h"

/*
 * The drill's control socket (okx-faultd(8), CONTROL SOCKET): a Unix
 * stream socket DIR/NAME.sock, mode 0600, answered from the drill's own
 * event loop and never blocking it. Each connection is checked with
 * SO_PEERCRED (root or the daemon's own user only) and sends one request
 * line, "status", "watch" or "stop"; every reply is one line of JSON
 * (include/status.h).
 *
 * Bounds, so that a slow or hostile client cannot delay a fault's switch:
 * every socket is non-blocking; at most CONTROL_MAX_CLIENTS connections
 * (more are told so and closed); a request must come whole within
 * CONTROL_IDLE_MS and fit CONTROL_REQ_MAX bytes; what a client has not
 * read stays in a buffer of CONTROL_OUT_MAX bytes and a client that falls
 * further behind is dropped; a call handles a few events (the drill's own
 * come first) and encodes one status, whatever the number of clients.
 */

#define CONTROL_DIR "/run/okx-faultd"
#define CONTROL_DIR_ENV "OKX_FAULTD_CONTROL_DIR"
#define CONTROL_DIR_MODE 0750
#define CONTROL_SOCK_MODE 0600
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_REQ_MAX 64
#define CONTROL_OUT_MAX 16384
#define CONTROL_IDLE_MS 2000
/* watchers get a status this often, and at once on each change of state
 * or step */
#define CONTROL_TICK_MS 250
/* a status reads the live fault's kernel counter at most this often */
#define CONTROL_HITS_EVERY_MS 100

enum control_req { CONTROL_REQ_STATUS, CONTROL_REQ_WATCH, CONTROL_REQ_STOP };

struct control_ops {
	/* Fill st (zeroed) with the drill's status now; with `hits`, the
	 * live fault's counter too (the drill reads it at most every
	 * CONTROL_HITS_EVERY_MS). */
	void (*status)(void *data, struct drill_status *st, bool hits);
	/* End the drill as the stop file does. by: "control socket uid=U
	 * pid=P", for the journal. */
	void (*stop)(void *data, const char *by);
};

struct control;

/* The control directory: dir when not NULL, else $OKX_FAULTD_CONTROL_DIR
 * (secure_getenv), else CONTROL_DIR. */
const char *control_dir(const char *dir);

/* One request line, without its newline: exactly "status", "watch" or
 * "stop". False with a message quoting it otherwise. */
bool control_parse_request(const char *line, size_t len, enum control_req *req, char *err, size_t errlen);

/* May a peer with this uid use the socket of a daemon running as `self`? */
bool control_peer_allowed(uid_t peer, uid_t self);

/* Before anything is touched: DIR is made (CONTROL_DIR_MODE) when
 * missing, and must be a directory reached without a symlink, owned by
 * this user and writable by no one else; at DIR/NAME.sock there may be
 * nothing or a socket of this user. Nothing listens yet. Errors are
 * logged. Returns 0, -ELOOP or -ENOTDIR (a symlink or a file on the path),
 * -EPERM (DIR or the socket not ours alone), -EEXIST (something other than
 * a socket at the path), -EINVAL (a bad name) or -errno. */
int control_open(struct control **out, const char *dir, const char *name, const struct control_ops *ops,
		 void *data);

/* Once the drill's table proves that no other drill runs in this network
 * namespace, and before the privileges are dropped: create DIR/NAME.sock
 * and listen. A socket already there is replaced only when it is proven
 * stale (a connect is refused: its drill is gone); the check and the bind
 * hold an flock on DIR, so two drills starting together cannot both take
 * the name. Errors are logged. Returns 0, -EADDRINUSE (a live drill of
 * this name answers, from another network namespace), or the errors of
 * control_open() and -errno. */
int control_listen(struct control *c);

/* The one descriptor to poll for input (from control_open() on). */
int control_fd(const struct control *c);
const char *control_path(const struct control *c);

/* Input on control_fd(): accept, read requests, answer, write what is
 * pending, push watchers on the tick. Bounded work, never blocks.
 * Returns 0 or -errno (the event set failed). */
int control_handle(struct control *c);

/* Call after the drill changed: when the state or the step differs from
 * what the watchers were last sent, they are sent a status now. Costs a
 * status fill (no system call but clock reads) when nothing changed, and
 * nothing at all without watchers. Accepts NULL. */
void control_changed(struct control *c);

/* The drill ended (its status says state ending, outcome, exit code):
 * watchers are sent that last status, every connection is closed and the
 * socket removed. Accepts NULL. */
void control_end(struct control *c);

/* Close everything and remove the socket if it is still ours. Accepts
 * NULL. */
void control_close(struct control *c);

/* Client side (okx-faultctl): connect to DIR/NAME.sock. Returns the
 * descriptor (blocking, close-on-exec), or -EINVAL (a bad name), -ENOENT
 * (no socket: the drill does not run), -ECONNREFUSED (a stale socket: its
 * drill is gone), -EACCES, -ENOTSOCK, or -errno. */
int control_connect(const char *dir, const char *name);

#endif
