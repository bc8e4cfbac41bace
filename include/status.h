/* SPDX-License-Identifier: MIT */
#ifndef OKX_STATUS_H
#define OKX_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A running drill's status, as the daemon answers it on its control socket
 * (include/control.h) and okx-faultctl status and watch print it. One model,
 * one encoder (the daemon) and one decoder (okx-faultctl), kernel-free: the
 * JSON is the schema of okx-faultctl(1), STATUS JSON, version
 * STATUS_VERSION. Every reply of the socket is one JSON object on one line,
 * at most STATUS_LINE_MAX bytes with its newline.
 */

#define STATUS_VERSION 1
#define STATUS_LINE_MAX 8192
/* How many of the steps after the current one a status lists. */
#define STATUS_NEXT_MAX 5
#define STATUS_NAME_MAX 64
#define STATUS_PATH_MAX 4096
#define STATUS_TEXT_MAX 256

enum status_state { STATUS_WAITING, STATUS_ARM_DELAY, STATUS_FAULT, STATUS_PAUSE, STATUS_ENDING };

struct status_step {
	uint64_t index; /* 0-based, counting repeats, as in the journal */
	char action[16];
	char params[STATUS_TEXT_MAX]; /* policy syntax, "" when none */
	uint64_t planned_ms;
};

struct status_count {
	uint64_t seen, need; /* toward the targets (inside arm_window when set) / the threshold */
};

struct drill_status {
	char name[STATUS_NAME_MAX + 1];
	int64_t pid;
	enum status_state state;
	char journal[STATUS_PATH_MAX]; /* "" before the journal is open */
	int64_t started_ns;            /* UTC, ns since the epoch */
	uint64_t elapsed_ms;           /* since the start */

	/* arming */
	struct status_count flows, calls, packets, bytes;
	uint64_t arm_window_ms, arm_timeout_ms;
	bool waiting_left;      /* arm_left_ms is set (state waiting) */
	uint64_t arm_left_ms;   /* until arm_timeout */
	bool armed;
	int64_t armed_ns;
	bool has_trigger;       /* the flow that met the thresholds */
	char trigger_src[48], trigger_dst[48], trigger_proto[16];
	uint32_t trigger_dport;

	/* arm_delay (state arm_delay) */
	uint64_t delay_planned_ms, delay_left_ms;

	/* the current step (state fault or pause) */
	struct status_step step;
	uint64_t step_elapsed_ms;
	bool hits_known; /* fault: the live fault's kernel counter was read */
	uint64_t hits_packets, hits_bytes;

	uint64_t steps_total;
	struct status_step next[STATUS_NEXT_MAX];
	size_t n_next;

	/* state ending: the drill's end */
	char outcome[16];
	int exit_code;
	char reason[16];            /* why an aborted drill ended: stop_file, signal, stopped; "" */
	char by[STATUS_TEXT_MAX];   /* who stopped it (reason stopped); "" */
};

const char *status_state_name(enum status_state s);

/* The drill name a control socket is named after (okx-faultd.policy(5),
 * name): 1-64 characters from A-Z a-z 0-9 _ . - */
bool status_name_valid(const char *name);

/* One line of JSON for st, with its newline, into buf. Returns its length,
 * -ENOSPC when it does not fit, or -ENOMEM. */
int status_encode(const struct drill_status *st, char *buf, size_t len);

/* The other replies of the control socket, one line each:
 * {"version":1,"error":MSG} and {"version":1,"stopping":true,"by":BY}. */
int status_encode_error(const char *msg, char *buf, size_t len);
int status_encode_stopping(const char *by, char *buf, size_t len);

/* A reply read back. */
enum status_reply_kind { STATUS_REPLY_STATUS, STATUS_REPLY_STOPPING, STATUS_REPLY_ERROR };

struct status_reply {
	enum status_reply_kind kind;
	struct drill_status st;    /* STATUS_REPLY_STATUS */
	char text[STATUS_TEXT_MAX]; /* the error message, or who is stopping the drill */
};

/* Parse one reply line (without or with its newline). Returns false with a
 * message quoting what is wrong (err, errlen may be 0): not JSON, another
 * version, a member missing or of the wrong type. */
bool status_decode(const char *line, size_t len, struct status_reply *r, char *err, size_t errlen);

/* okx-faultctl status: a few labelled lines for a person. */
void status_print(const struct drill_status *st, FILE *f);

/* okx-faultctl watch: one line, without a newline, into buf (truncated to
 * fit). With `bar`, a 20-character bar of the current phase's time
 * (waiting: toward arm_timeout; arm_delay, fault, pause: of the planned
 * time) leads; the line of state ending is the drill's outcome. */
void status_line(const struct drill_status *st, bool bar, char *buf, size_t len);

/* How b differs from a, for watch's lines when its output is not a
 * terminal: another state or step (a phase), or other arming counts or
 * hits; the times alone are no change. */
enum status_change { STATUS_CHANGE_NONE, STATUS_CHANGE_COUNTS, STATUS_CHANGE_PHASE };
enum status_change status_changed(const struct drill_status *a, const struct drill_status *b);

/* watch, not on a terminal: is st worth a line after `shown`, the last
 * status given one (NULL: none yet)? A new phase is, at once; new counts
 * are when STATUS_WATCH_COUNTS_MS of the drill passed since that line. */
#define STATUS_WATCH_COUNTS_MS 5000
bool status_watch_due(const struct drill_status *shown, const struct drill_status *st);

#endif
