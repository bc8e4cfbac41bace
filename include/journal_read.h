/* SPDX-License-Identifier: MIT */
#ifndef OKX_JOURNAL_READ_H
#define OKX_JOURNAL_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expect.h"

/* Reading a drill journal (okx-faultd(8), JOURNAL) back: the fault windows, the arming and
 * the outcome. Times are int64 ns since the epoch (see timeparse.h). */

/* One fault window: fault_begin.ts .. fault_end.ts of the same index. */
struct jwindow {
	int64_t index;
	char *action;          /* "drop", "reject", "loss", "delay", ... */
	char *params;          /* policy syntax, "" when none */
	enum expect expect;    /* fault_begin.expect, else the action's default */
	int64_t latency_ms;    /* the latency= of params (a delay), else 0 */
	int64_t planned_ms;
	int64_t invoke_ns;     /* fault_begin.invoke_ts */
	int64_t begin_ns;      /* fault_begin.ts: live from here */
	int64_t end_ns;        /* fault_end.ts; open: the journal's last time stamp */
	bool open;             /* no fault_end: the daemon was killed mid-fault */
	double actual_ms;      /* open: -1 */
	bool hits_known;       /* false when open, or when the daemon could not
	                        * read the counter ("hits": {"unknown": true}) */
	uint64_t hit_packets;  /* 0 when not hits_known */
	uint64_t hit_bytes;
	char *reason;          /* "completed", "stop_file", ...; open: NULL */
	int line_begin, line_end; /* journal lines; line_end 0 when open */
};

struct jread {
	char *path;
	/* start */
	char *name, *policy, *policy_sha256, *host, *version, *git_commit;
	int64_t start_ns;
	/* armed */
	bool armed;
	int64_t armed_ns;
	uint64_t armed_flows, armed_packets, armed_bytes;
	char *trigger_src, *trigger_dst, *trigger_proto; /* NULL when absent */
	int64_t trigger_dport;                           /* -1 when absent */
	/* fault windows, in journal order */
	struct jwindow *windows;
	size_t n_windows;
	/* end; outcome NULL when the journal has no end event */
	char *outcome;
	int64_t exit_code;
	int64_t last_ns;  /* the latest "ts" of the journal */
	int lines;        /* lines read */
	bool truncated;   /* the last line was cut short (ignored) */
	/* non-fatal findings, "FILE:LINE: message" each */
	char **warnings;
	size_t n_warnings;
};

/* Parse a journal held in memory; `path` is used in messages only.
 * Returns 0 (j filled, warnings possibly set), -EINVAL with *error set to
 * "FILE:LINE: message" (or "FILE: message"), or -ENOMEM. *error is
 * malloc'ed or NULL. Release j with jread_free() in every case. */
int jread_buffer(struct jread *j, const char *path, const char *buf, size_t len, char **error);

/* Read and parse a journal file; -errno and "FILE: strerror" when the file
 * cannot be read. */
int jread_file(struct jread *j, const char *path, char **error);

void jread_free(struct jread *j); /* accepts NULL and zeroed */

/* Parse exactly one JSON value from p[0..n) (the rest must be white
 * space); NULL on error, with *errpos (if not NULL) the offset where
 * parsing failed. */
struct cJSON;
struct cJSON *json_parse_exact(const char *p, size_t n, size_t *errpos);

/* The largest journal or events file read (okx-faultctl(1), LIMITS): a
 * bound on memory, and an end to reading /dev/zero. */
#define INPUT_MAX (512u << 20)

/* Read a whole file (at most INPUT_MAX bytes, else -EFBIG) into a
 * NUL-terminated buffer. Returns 0 or -errno; on error *error (if not
 * NULL) is "PATH: reason" (malloc'ed, or NULL). */
int read_whole_file(const char *path, char **buf, size_t *len, char **error);

#endif
