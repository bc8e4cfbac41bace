/* SPDX-License-Identifier: MIT */
#ifndef OKX_CORRELATE_H
#define OKX_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "journal_read.h"

/* Matching the connector's error events against the fault windows.
 *
 * An event belongs to a window when begin <= t <= end + grace (both edges
 * inclusive), except that with no grace an event at the very instant one
 * window ends and another begins belongs to the one that begins: a
 * boundary belongs to one window. Windows closer than a (positive) grace
 * can share an event; it is then counted in each. Events in no window are counted as "outside". Pauses are
 * not windows (the daemon journals no fault_begin for them): an error during
 * a pause is in the previous window's grace, or outside.
 *
 * Diagnosis of a window, the kernel's hit counter first (okx-faultctl(1),
 * DIAGNOSIS):
 *
 *   hits           errors inside   diagnosis
 *   0              none            no_traffic
 *   0              some            no_traffic, the errors "unrelated": a
 *                                  fault that hit nothing caused none of them
 *   > 0            some            ok
 *   > 0            none            telemetry_gap
 *   unknown        some            ok
 *   unknown        none            unknown
 *
 * Hits are unknown when the window never closed (no fault_end) or the daemon
 * could not read the counter; errors inside are then taken as the fault's.
 *
 * The gate passes when no window is telemetry_gap or unknown and at least
 * one window is ok (an ok window hit packets, or its hits are unknown). So
 * it fails on a journal without windows (arm timeout) and when no fault hit
 * any packet, whatever errors fell inside: such a drill proves nothing.
 * It fails too on count-only telemetry (events_count_only()): errors were
 * counted but cannot be placed in any window. */

enum diagnosis { DIAG_OK, DIAG_TELEMETRY_GAP, DIAG_NO_TRAFFIC, DIAG_UNKNOWN };

struct corr_window {
	const struct jwindow *w;
	size_t first;           /* index in the (sorted) event list of the first error inside */
	size_t n_errors;        /* errors inside: events first .. first + n_errors - 1 */
	int64_t first_delay_ns; /* first error - window begin; -1 when none */
	size_t unrelated;       /* errors inside a window that hit no packets: n_errors
	                         * when no_traffic, else 0 */
	enum diagnosis diag;
};

struct corr_report {
	int64_t grace_ns;
	struct corr_window *w; /* one per journal window, journal order */
	size_t n;
	size_t n_events;
	uint8_t *in_window;    /* per event (the list's order): 0 in no window, 1 in
	                        * one, 2 in more; NULL when there are no events */
	size_t outside;        /* events in no window */
	size_t shared;         /* events in more than one window */
	size_t n_diag[4];      /* windows per diagnosis */
	size_t unrelated;      /* sum of the windows' unrelated (an event shared by two
	                        * windows counts in each) */
	size_t evidence;       /* ok windows: they hit traffic, or hits unknown */
	bool pass;
	char reason[512];      /* why the gate passed or failed, one line */
};

/* Fill r from a journal and a sorted event list. Returns 0 or -ENOMEM. */
int correlate(const struct jread *j, const struct event_list *ev, int64_t grace_ns, struct corr_report *r);

void corr_report_free(struct corr_report *r); /* accepts NULL and zeroed */

const char *diagnosis_name(enum diagnosis d); /* "ok", "telemetry_gap", ... */

/* Error types inside a window and how many of each, so a reader sees drop
 * -> Timeout, reject -> refused. type is NULL for events without one. */
struct type_count {
	const char *type;
	size_t n;
};

/* The window's error types, most frequent first (ties by name, untyped
 * last), in a malloc'ed array (NULL when the window has no errors).
 * Returns 0 or -ENOMEM. */
int corr_error_types(const struct event_list *ev, const struct corr_window *cw, struct type_count **out,
		     size_t *n);

/* The table above: a window's diagnosis from its hits and the number of
 * error events inside it. */
enum diagnosis diagnose(const struct jwindow *w, size_t n_errors);

#endif
