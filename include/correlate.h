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
 * inclusive). Windows closer than the grace can share an event; it is then
 * counted in each. Events in no window are counted as "outside".
 *
 * Diagnosis of a window:
 *   ok             at least one error event inside
 *   telemetry_gap  no error, but the fault hit packets (hits.packets > 0)
 *   no_traffic     no error, and the fault hit no packets
 *   unknown        no error, and the hits are unknown: the window never
 *                  closed (no fault_end), or the daemon could not read the
 *                  counter
 *
 * The gate passes when no window is telemetry_gap or unknown and at least
 * one window that hit traffic (hits.packets > 0, or hits unknown) has errors.
 * So it fails on a journal without windows (arm timeout) and when no fault
 * hit any packet: such a drill proves nothing. */

enum diagnosis { DIAG_OK, DIAG_TELEMETRY_GAP, DIAG_NO_TRAFFIC, DIAG_UNKNOWN };

struct corr_window {
	const struct jwindow *w;
	size_t first;           /* index in the (sorted) event list of the first error inside */
	size_t n_errors;        /* errors inside: events first .. first + n_errors - 1 */
	int64_t first_delay_ns; /* first error - window begin; -1 when none */
	enum diagnosis diag;
};

struct corr_report {
	int64_t grace_ns;
	struct corr_window *w; /* one per journal window, journal order */
	size_t n;
	size_t n_events;
	size_t outside;        /* events in no window */
	size_t shared;         /* events in more than one window */
	size_t n_diag[4];      /* windows per diagnosis */
	size_t evidence;       /* ok windows that hit traffic */
	bool pass;
	char reason[512];      /* why the gate passed or failed, one line */
};

/* Fill r from a journal and a sorted event list. Returns 0 or -ENOMEM. */
int correlate(const struct jread *j, const struct event_list *ev, int64_t grace_ns, struct corr_report *r);

void corr_report_free(struct corr_report *r); /* accepts NULL and zeroed */

const char *diagnosis_name(enum diagnosis d); /* "ok", "telemetry_gap", ... */

#endif
