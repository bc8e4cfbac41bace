/* SPDX-License-Identifier: MIT */
#ifndef OKX_EVENTS_H
#define OKX_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The connector's error events, as given to `okx-faultctl correlate
 * --events`. Accepted containers:
 *   - a JSON array of event objects;
 *   - JSON Lines, one event object per line (blank lines skipped);
 *   - an object holding "error_events" arrays at any depth (objects and
 *     arrays are searched; every "error_events" array found is used, a
 *     found array is not searched further), e.g.
 *     {"execution_fingerprint": {"error_count": 3, "error_events": [...]}};
 *   - an object with "error_count" members (any depth) but no
 *     "error_events": count-only telemetry, zero events and the counts'
 *     sum in declared_count (events_count_only()).
 * An event's time is the first present (non-null) member of "ts",
 * "timestamp", "time": an RFC 3339 string or an epoch number (unit by
 * magnitude, see time_from_epoch()). "type" is optional; "message", else
 * "error" (a string, or any JSON value printed compactly) is kept as text. */

enum events_form { EVENTS_ARRAY, EVENTS_LINES, EVENTS_NESTED };

struct error_event {
	int64_t ns;
	char *type;  /* NULL when absent */
	char *text;  /* NULL when absent */
	size_t seq;  /* 0-based position in the file */
	int line;    /* JSON Lines: the line; 0 otherwise */
};

struct event_list {
	char *path;
	enum events_form form;
	struct error_event *v; /* sorted by time, then file order */
	size_t n;
	/* EVENTS_NESTED: the sum of numeric "error_count" members found next
	 * to "error_events" arrays, -1 when there is none */
	int64_t declared_count;
};

/* Parse events held in memory; `path` is used in messages only. Returns 0,
 * -EINVAL with *error set to a located message ("FILE:LINE: ..." or
 * "FILE: $.path[i]: ..."), or -ENOMEM. Release l with events_free() in
 * every case. An empty container ("[]") is valid: zero events. */
int events_buffer(struct event_list *l, const char *path, const char *buf, size_t len, char **error);

/* The same for a file; -errno and "FILE: strerror" when it cannot be read. */
int events_file(struct event_list *l, const char *path, char **error);

void events_free(struct event_list *l); /* accepts NULL and zeroed */

/* Errors were counted but none has a time stamp: nothing can be
 * attributed to a window (okx-faultctl(1), ERROR EVENTS). */
static inline bool events_count_only(const struct event_list *l)
{
	return l->n == 0 && l->declared_count > 0;
}

#endif
