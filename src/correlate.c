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

/* The first event at or after t (lower) or after t (upper): events are
 * sorted by time. */
static size_t ev_bound(const struct event_list *ev, int64_t t, bool upper)
{
	size_t lo = 0, hi = ev->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ev->v[mid].ns < t || (upper && ev->v[mid].ns == t))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static bool begins_at(const int64_t *begins, size_t n, int64_t t)
{
	return bsearch(&t, begins, n, sizeof(*begins), cmp_i64) != NULL;
}

/* The events of window w: begin <= t <= end + grace. With no grace, an
 * event at the instant this window ends and another begins belongs to
 * the one that begins (include/correlate.h). */
static void match_window(struct corr_window *cw, const struct event_list *ev, int64_t grace_ns,
			 const int64_t *begins, size_t n_begins)
{
	const struct jwindow *w = cw->w;
	bool shut = !grace_ns && w->end_ns > w->begin_ns && begins_at(begins, n_begins, w->end_ns);
	size_t last = ev_bound(ev, w->end_ns + grace_ns, !shut);

	cw->first = ev_bound(ev, w->begin_ns, false);
	cw->n_errors = last > cw->first ? last - cw->first : 0;
	cw->first_delay_ns = cw->n_errors ? ev->v[cw->first].ns - w->begin_ns : -1;
	cw->diag = diagnose(w, cw->n_errors);
	cw->unrelated = cw->diag == DIAG_NO_TRAFFIC ? cw->n_errors : 0;
}

/* Events in no window and in more than one: each window covers a run of
 * the sorted events; a difference array adds the runs up in linear time. */
static int count_coverage(struct corr_report *r, const struct event_list *ev)
{
	int64_t *d = calloc(ev->n + 1, sizeof(*d)), c = 0;

	r->in_window = ev->n ? calloc(ev->n, 1) : NULL;
	if (!d || (ev->n && !r->in_window)) {
		free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (!r->w[i].n_errors)
			continue;
		d[r->w[i].first]++;
		d[r->w[i].first + r->w[i].n_errors]--;
	}
	for (size_t e = 0; e < ev->n; e++) {
		c += d[e];
		r->in_window[e] = c > 1 ? 2 : (uint8_t)c;
		r->outside += c == 0;
		r->shared += c > 1;
	}
	free(d);
	return 0;
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

static void gate(const struct jread *j, const struct event_list *ev, struct corr_report *r)
{
	char list[256];

	r->pass = false;
	if (!r->n) {
		snprintf(r->reason, sizeof(r->reason), "no fault window in the journal (outcome %s): nothing was tested",
			 j->outcome ? j->outcome : "unknown");
	} else if (events_count_only(ev)) {
		snprintf(r->reason, sizeof(r->reason),
			 "errors counted but not timestamped (error_count %lld, no error_events): cannot attribute "
			 "them to windows; the connector must record each error with its time",
			 (long long)ev->declared_count);
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
	int64_t *begins = NULL;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->grace_ns = grace_ns;
	r->n_events = ev->n;
	if (j->n_windows) {
		r->w = calloc(j->n_windows, sizeof(*r->w));
		begins = calloc(j->n_windows, sizeof(*begins));
		if (!r->w || !begins)
			goto cleanup;
	}
	r->n = j->n_windows;
	for (size_t i = 0; i < r->n; i++)
		begins[i] = j->windows[i].begin_ns;
	if (r->n)
		qsort(begins, r->n, sizeof(*begins), cmp_i64);
	for (size_t i = 0; i < r->n; i++) {
		struct corr_window *cw = &r->w[i];

		cw->w = &j->windows[i];
		match_window(cw, ev, grace_ns, begins, r->n);
		r->n_diag[cw->diag]++;
		r->unrelated += cw->unrelated;
	}
	if ((ret = count_coverage(r, ev)))
		goto cleanup;
	/* an ok window hit packets or its hits are unknown: diagnose() */
	r->evidence = r->n_diag[DIAG_OK];
	gate(j, ev, r);
cleanup:
	free(begins);
	return ret;
}

/* NULL (untyped) sorts after every name */
static int cmp_type(const char *a, const char *b)
{
	if (!a || !b)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

static int cmp_type_ptr(const void *a, const void *b)
{
	return cmp_type(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_count(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return cmp_type(x->type, y->type);
}

int corr_error_types(const struct event_list *ev, const struct corr_window *cw, struct type_count **out, size_t *n)
{
	const char **t;
	struct type_count *c;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!cw->n_errors)
		return 0;
	t = calloc(cw->n_errors, sizeof(*t));
	c = calloc(cw->n_errors, sizeof(*c));
	if (!t || !c) {
		free(t);
		free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cw->n_errors; i++)
		t[i] = ev->v[cw->first + i].type;
	qsort(t, cw->n_errors, sizeof(*t), cmp_type_ptr);
	for (size_t i = 0; i < cw->n_errors; i++) {
		if (!k || cmp_type(c[k - 1].type, t[i]))
			c[k++].type = t[i];
		c[k - 1].n++;
	}
	free(t);
	qsort(c, k, sizeof(*c), cmp_count);
	*out = c;
	*n = k;
	return 0;
}

void corr_report_free(struct corr_report *r)
{
	if (!r)
		return;
	free(r->w);
	free(r->in_window);
	memset(r, 0, sizeof(*r));
}
