/* SPDX-License-Identifier: MIT */
#ifndef OKX_EVENTS_H
#define OKX_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The connector's error events and call records, as given to
 * `okx-faultctl correlate --events` (okx-faultctl(1), ERROR EVENTS and CALL
 * RECORDS). Accepted containers:
 *   - a JSON array of objects;
 *   - JSON Lines, one object per line (blank lines skipped);
 *   - an object holding "error_events" and "calls" arrays at any depth
 *     (objects and arrays are searched; every such array found is used, a
 *     found array is not searched further; a "calls" that is not an array,
 *     a count say, is an ordinary member), e.g.
 *     {"execution_fingerprint": {"error_count": 3, "error_events": [...]},
 *      "calls": [...]};
 *   - an object with "error_count" members (any depth) but no
 *     "error_events" and no "calls": count-only telemetry, zero events and
 *     the counts' sum in declared_count (events_count_only()).
 * In an array or JSON Lines, an object with a (non-null) "latency_ms" or
 * "ok" is a call record, any other an error event; every element of a
 * "calls" array is a call record, of an "error_events" array an error event.
 * Time (both kinds): the first present (non-null) member of "ts",
 * "timestamp", "time": an RFC 3339 string or an epoch number (unit by
 * magnitude, see time_from_epoch()). An error event's "type" is optional;
 * "message", else "error" (a string, or any JSON value printed compactly)
 * is kept as text.
 *
 * A call record's time is when the call ended (its outcome was known, as an
 * error's); "latency_ms" (optional) how long it took, so it began at
 * ts - latency_ms; "ok" (optional) true or false; "error" (optional) set and
 * not false or "" means it failed, and contradicts "ok": true. A failed call
 * is also an error event (with the call's "type" and text) when the file
 * has no error events of its own (no "error_events" array, no error-event
 * object in an array or JSON Lines): errors are counted once, from the
 * error events when there are any. */
enum events_form { EVENTS_ARRAY, EVENTS_LINES, EVENTS_NESTED };

struct error_event {
	int64_t ns;
	char *type;  /* NULL when absent */
	char *text;  /* NULL when absent */
	size_t seq;  /* 0-based position in the file (events and calls) */
	int line;    /* JSON Lines: the line; 0 otherwise */
	bool from_call; /* a failed call record's */
};

/* The largest latency_ms accepted: a day, as a policy duration. */
#define CALL_LATENCY_MAX_MS 86400000.0

struct call_record {
	int64_t ns;        /* when the call ended */
	double latency_ms; /* -1 when absent */
	bool failed;       /* "ok": false, or "error" set */
	size_t seq;
	int line;
};

struct event_list {
	char *path;
	enum events_form form;
	struct error_event *v; /* sorted by time, then file order */
	size_t n;
	/* EVENTS_NESTED: the sum of numeric "error_count" members found next
	 * to "error_events" arrays (or anywhere, when there is no
	 * "error_events" array), -1 when there is none */
	int64_t declared_count;
	struct call_record *calls; /* sorted by time, then file order */
	size_t n_calls;
	size_t calls_failed;       /* of n_calls */
	size_t calls_timed;        /* of n_calls: with latency_ms */
	bool errors_from_calls;    /* the error events are the failed calls */
	size_t seq;                /* objects read */
};

/* Parse events held in memory; `path` is used in messages only. Returns 0,
 * -EINVAL with *error set to a located message ("FILE:LINE: ..." or
 * "FILE: $.path[i]: ..."), or -ENOMEM. Release l with events_free() in
 * every case. An empty container ("[]") is valid: zero events. */
int events_buffer(struct event_list *l, const char *path, const char *buf, size_t len, char **error);

/* The same for a file; -errno and "FILE: strerror" when it cannot be read. */
int events_file(struct event_list *l, const char *path, char **error);

void events_free(struct event_list *l); /* accepts NULL and zeroed */

/* Errors were counted but nothing has a time stamp (no error event, no
 * call record): nothing can be attributed to a window (okx-faultctl(1),
 * ERROR EVENTS). */
static inline bool events_count_only(const struct event_list *l)
{
	return l->n == 0 && l->n_calls == 0 && l->declared_count > 0;
}

#endif
