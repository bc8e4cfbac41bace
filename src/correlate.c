/* SPDX-License-Identifier: MIT */
/* Error events against fault windows, and the drill's gate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"

const char *diagnosis_name(enum diagnosis d)
{
	switch (d) {
	case DIAG_OK:
		return "ok";
	case DIAG_TELEMETRY_GAP:
		return "telemetry_gap";
	case DIAG_NO_TRAFFIC:
		return "no_traffic";
	case DIAG_UNKNOWN:
		return "unknown";
	}
	return "?";
}

static bool inside(const struct jwindow *w, int64_t grace_ns, int64_t t)
{
	return t >= w->begin_ns && t <= w->end_ns + grace_ns;
}

/* The precedence table of okx-faultctl(1), DIAGNOSIS: the counter first. A
 * fault that hit no packets cannot have caused an error, so errors inside
 * such a window (another fault's, or the connector's own) do not make it
 * ok. */
enum diagnosis diagnose(const struct jwindow *w, size_t n_errors)
{
	if (!w->hits_known)
		return n_errors ? DIAG_OK : DIAG_UNKNOWN;
	if (!w->hit_packets)
		return DIAG_NO_TRAFFIC;
	return n_errors ? DIAG_OK : DIAG_TELEMETRY_GAP;
}

static void match_window(struct corr_window *cw, const struct event_list *ev, int64_t grace_ns)
{
	const struct jwindow *w = cw->w;
	size_t i = 0;

	/* events are sorted: the ones inside are contiguous */
	while (i < ev->n && ev->v[i].ns < w->begin_ns)
		i++;
	cw->first = i;
	while (i < ev->n && inside(w, grace_ns, ev->v[i].ns))
		i++;
	cw->n_errors = i - cw->first;
	cw->first_delay_ns = cw->n_errors ? ev->v[cw->first].ns - w->begin_ns : -1;
	cw->diag = diagnose(w, cw->n_errors);
	cw->unrelated = cw->diag == DIAG_NO_TRAFFIC ? cw->n_errors : 0;
}

/* "0, 2, 5" : the indexes of the windows with diagnosis d */
static void list_windows(const struct corr_report *r, enum diagnosis d, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n && used < len; i++) {
		if (r->w[i].diag != d)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%lld", used ? ", " : "", (long long)r->w[i].w->index);
	}
}

static void gate(const struct jread *j, struct corr_report *r)
{
	char list[256];

	r->pass = false;
	if (!r->n) {
		snprintf(r->reason, sizeof(r->reason), "no fault window in the journal (outcome %s): nothing was tested",
			 j->outcome ? j->outcome : "unknown");
	} else if (r->n_diag[DIAG_TELEMETRY_GAP]) {
		list_windows(r, DIAG_TELEMETRY_GAP, list, sizeof(list));
		snprintf(r->reason, sizeof(r->reason),
			 "telemetry gap: window %s hit packets but no error was recorded", list);
	} else if (r->n_diag[DIAG_UNKNOWN]) {
		list_windows(r, DIAG_UNKNOWN, list, sizeof(list));
		snprintf(r->reason, sizeof(r->reason),
			 "window %s: hits unknown (no fault_end, or the counter could not be read) and no error recorded",
			 list);
	} else if (!r->evidence) {
		int len = snprintf(r->reason, sizeof(r->reason),
				   "no window hit traffic (0 packets): the faults missed the connector, "
				   "the drill proves nothing");

		if (r->unrelated && len > 0 && (size_t)len < sizeof(r->reason))
			snprintf(r->reason + len, sizeof(r->reason) - (size_t)len,
				 " (%zu error%s inside, not caused by faults that hit no packets)", r->unrelated,
				 r->unrelated == 1 ? "" : "s");
	} else {
		r->pass = true;
		snprintf(r->reason, sizeof(r->reason), "every window that hit traffic recorded errors (%zu of %zu)",
			 r->evidence, r->n);
	}
}

int correlate(const struct jread *j, const struct event_list *ev, int64_t grace_ns, struct corr_report *r)
{
	memset(r, 0, sizeof(*r));
	r->grace_ns = grace_ns;
	r->n_events = ev->n;
	if (j->n_windows) {
		r->w = calloc(j->n_windows, sizeof(*r->w));
		if (!r->w)
			return -ENOMEM;
	}
	r->n = j->n_windows;
	for (size_t i = 0; i < r->n; i++) {
		struct corr_window *cw = &r->w[i];

		cw->w = &j->windows[i];
		match_window(cw, ev, grace_ns);
		r->n_diag[cw->diag]++;
		r->unrelated += cw->unrelated;
	}
	for (size_t e = 0; e < ev->n; e++) {
		size_t in = 0;

		for (size_t i = 0; i < r->n; i++)
			in += inside(r->w[i].w, grace_ns, ev->v[e].ns);
		r->outside += !in;
		r->shared += in > 1;
	}
	/* an ok window hit packets or its hits are unknown: diagnose() */
	r->evidence = r->n_diag[DIAG_OK];
	gate(j, r);
	return 0;
}

void corr_report_free(struct corr_report *r)
{
	if (!r)
		return;
	free(r->w);
	memset(r, 0, sizeof(*r));
}
