/* SPDX-License-Identifier: MIT */
#ifndef OKX_CORRELATE_H
#define OKX_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "journal_read.h"

/* Matching the connector's error events and call records against the fault
 * windows, and judging each window by the evidence its fault should leave
 * (okx-faultctl(1), CORRELATION and DIAGNOSIS).
 *
 * An error event belongs to a window when begin <= t <= end + grace (both
 * edges inclusive), except that with no grace an event at the very instant
 * one window ends and another begins belongs to the one that begins: a
 * boundary belongs to one window. Windows closer than a (positive) grace
 * can share an event; it is then counted in each. Events in no window are
 * counted as "outside". Pauses are not windows (the daemon journals no
 * fault_begin for them): an error during a pause is in the previous
 * window's grace, or outside.
 *
 * A call record (its time is when it ended) belongs to a window by the same
 * rule, and, when it has a latency, only if it began (t - latency) no later
 * than the window's end: a call made after the fault was over met no fault.
 * Calls in no window are "outside": the baseline.
 *
 * What each fault should cause, its window's expect (expect.h): errors
 * (drop, reject, dns), slower calls, or either (delay, loss). A policy may
 * say otherwise (expect=). Slower calls: the calls inside with a latency,
 * against the calls outside (baseline 0 when there is none):
 *   - a fault with an injected latency L (a delay): median (p50) inside
 *     >= median outside + L / 2;
 *   - any other: p95 inside >= p95 outside + SLOWER_MIN_MS (what one lost
 *     TCP segment costs at least: Linux's minimum retransmission timeout).
 * Percentiles are exact, nearest rank: the p-th of n sorted values is the
 * one of rank ceil(p * n / 100).
 *
 * Diagnosis of a window, the kernel's hit counter first:
 *
 *   hits           expected evidence inside   diagnosis
 *   0              any                        no_traffic, its errors "unrelated":
 *                                             a fault that hit nothing caused none
 *   > 0            there                      ok
 *   > 0            missing                    telemetry_gap
 *   unknown        there                      ok
 *   unknown        missing                    unknown
 *
 * Hits are unknown when the window never closed (no fault_end) or the daemon
 * could not read the counter; the evidence inside is then taken as the
 * fault's.
 *
 * The gate passes when no window is telemetry_gap or unknown and at least
 * one window is ok (an ok window hit packets, or its hits are unknown). So
 * it fails on a journal without windows (arm timeout) and when no fault hit
 * any packet, whatever fell inside: such a drill proves nothing. It fails
 * too on count-only telemetry (events_count_only()): errors were counted
 * but cannot be placed in any window.
 *
 * Time: events and calls are sorted; each window finds its errors by binary
 * search, and looks at the calls that ended in [begin, end + grace] (at most
 * end + the longest latency, when every call has one). */

enum diagnosis { DIAG_OK, DIAG_TELEMETRY_GAP, DIAG_NO_TRAFFIC, DIAG_UNKNOWN };

#define SLOWER_MIN_MS 200.0

/* Latencies of a set of calls; n == 0: none (p50, p95 then 0). */
struct latency_stats {
	size_t n;
	double p50, p95;
};

struct corr_window {
	const struct jwindow *w;
	size_t first;           /* index in the (sorted) event list of the first error inside */
	size_t n_errors;        /* errors inside: events first .. first + n_errors - 1 */
	int64_t first_delay_ns; /* first error - window begin; -1 when none */
	size_t unrelated;       /* errors inside a window that hit no packets: n_errors
	                         * when no_traffic, else 0 */
	size_t n_calls;         /* call records inside */
	size_t calls_failed;    /* of those, failed */
	struct latency_stats lat; /* of the calls inside with a latency */
	bool by_p95;            /* slower means its p95 (no injected latency), else its p50 */
	double need_ms;         /* slower: inside >= baseline + need_ms */
	bool errors_seen;       /* evidence: errors inside */
	bool slower;            /* evidence: slower calls inside */
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
	size_t calls_outside;  /* call records in no window */
	struct latency_stats base; /* their latencies: the baseline */
	uint8_t *call_in_window; /* per call record, as in_window; NULL when none */
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

/* The table above: a window's diagnosis from its hits and whether the
 * evidence its fault should leave is inside it. */
enum diagnosis diagnose(const struct jwindow *w, bool evidence);

/* The p-th percentile (0 < p <= 100) of n >= 1 sorted values, nearest
 * rank. */
double corr_percentile(const double *sorted, size_t n, unsigned p);

#endif
