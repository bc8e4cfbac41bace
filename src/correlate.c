/* SPDX-License-Identifier: MIT */
/* Error events and call records against fault windows, and the drill's
 * gate (include/correlate.h). */
#include <errno.h>
#include <math.h>
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
 * fault that hit no packets cannot have caused anything, so what falls
 * inside such a window (another fault's errors, or the connector's own)
 * does not make it ok. */
enum diagnosis diagnose(const struct jwindow *w, bool evidence)
{
	if (!w->hits_known)
		return evidence ? DIAG_OK : DIAG_UNKNOWN;
	if (!w->hit_packets)
		return DIAG_NO_TRAFFIC;
	return evidence ? DIAG_OK : DIAG_TELEMETRY_GAP;
}

double corr_percentile(const double *sorted, size_t n, unsigned p)
{
	size_t rank = (p * n + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* v[0..n) sorted in place */
static void stats_of(double *v, size_t n, struct latency_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	s->n = n;
	s->p50 = corr_percentile(v, n, 50);
	s->p95 = corr_percentile(v, n, 95);
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
static void match_window(struct corr_window *cw, const struct event_list *ev, int64_t grace_ns, bool shut)
{
	const struct jwindow *w = cw->w;
	size_t last = ev_bound(ev, w->end_ns + grace_ns, !shut);

	cw->first = ev_bound(ev, w->begin_ns, false);
	cw->n_errors = last > cw->first ? last - cw->first : 0;
	cw->first_delay_ns = cw->n_errors ? ev->v[cw->first].ns - w->begin_ns : -1;
	cw->errors_seen = cw->n_errors > 0;
}

/* The first call at or after t (lower) or after t (upper). */
static size_t call_bound(const struct event_list *ev, int64_t t, bool upper)
{
	size_t lo = 0, hi = ev->n_calls;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ev->calls[mid].ns < t || (upper && ev->calls[mid].ns == t))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The calls of window w (include/correlate.h): they ended in its span and
 * grace, and began before its end. reach_ns bounds the scan past the end:
 * the grace, or the longest latency when every call has one. Their
 * latencies go to scratch, and marks[] counts the windows of each call. */
static void match_calls(struct corr_window *cw, const struct event_list *ev, int64_t reach_ns, bool shut,
			double *scratch, uint8_t *marks)
{
	const struct jwindow *w = cw->w;
	size_t lo = call_bound(ev, w->begin_ns, false), hi = call_bound(ev, w->end_ns + reach_ns, !shut), k = 0;

	for (size_t i = lo; i < hi; i++) {
		const struct call_record *c = &ev->calls[i];

		if (c->latency_ms >= 0 && (double)(c->ns - w->end_ns) > c->latency_ms * 1e6)
			continue;
		cw->n_calls++;
		cw->calls_failed += c->failed;
		if (c->latency_ms >= 0)
			scratch[k++] = c->latency_ms;
		if (marks[i] < 2)
			marks[i]++;
	}
	stats_of(scratch, k, &cw->lat);
}

/* Slower calls inside than outside, by the rule of include/correlate.h. */
static void judge_latency(struct corr_window *cw, const struct latency_stats *base)
{
	cw->by_p95 = cw->w->latency_ms <= 0;
	cw->need_ms = cw->by_p95 ? SLOWER_MIN_MS : (double)cw->w->latency_ms / 2;
	if (!cw->lat.n)
		return;
	if (cw->by_p95)
		cw->slower = cw->lat.p95 >= base->p95 + cw->need_ms;
	else
		cw->slower = cw->lat.p50 >= base->p50 + cw->need_ms;
}

static bool has_evidence(const struct corr_window *cw)
{
	switch (cw->w->expect) {
	case EXPECT_ERRORS:
		return cw->errors_seen;
	case EXPECT_LATENCY:
		return cw->slower;
	case EXPECT_ANY:
		return cw->errors_seen || cw->slower;
	}
	return false;
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

/* "0, 2, 5" : the indexes of the windows with diagnosis d and expectation e */
static size_t list_windows(const struct corr_report *r, enum diagnosis d, enum expect e, char *buf, size_t len)
{
	size_t used = 0, n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n && used < len; i++) {
		if (r->w[i].diag != d || r->w[i].w->expect != e)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%lld", used ? ", " : "", (long long)r->w[i].w->index);
		n++;
	}
	return n;
}

/* what is missing in a window that expected e ("was" for telemetry gaps,
 * whose reason reads as a sentence) */
static const char *missing(enum expect e, bool was)
{
	switch (e) {
	case EXPECT_ERRORS:
		return was ? "no error was recorded" : "no error recorded";
	case EXPECT_LATENCY:
		return was ? "no slower calls were recorded" : "no slower calls recorded";
	case EXPECT_ANY:
		return was ? "no error and no slower calls were recorded" : "no error and no slower calls recorded";
	}
	return "?";
}

/* "PREFIX window 0, 2 hit packets but no error was recorded; window 3 hit
 * packets but ...": the windows of diagnosis d, by expectation */
static void say_missing(struct corr_report *r, enum diagnosis d, const char *prefix, const char *middle)
{
	static const enum expect order[] = { EXPECT_ERRORS, EXPECT_LATENCY, EXPECT_ANY };
	size_t used = (size_t)snprintf(r->reason, sizeof(r->reason), "%s", prefix), groups = 0;
	char list[256];

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && used < sizeof(r->reason); k++) {
		if (!list_windows(r, d, order[k], list, sizeof(list)))
			continue;
		used += (size_t)snprintf(r->reason + used, sizeof(r->reason) - used, "%swindow %s%s%s",
					 groups++ ? "; " : "", list, middle, missing(order[k], d == DIAG_TELEMETRY_GAP));
	}
}

static void gate(const struct jread *j, const struct event_list *ev, struct corr_report *r)
{
	bool by_errors = true;

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
		say_missing(r, DIAG_TELEMETRY_GAP, "telemetry gap: ", " hit packets but ");
	} else if (r->n_diag[DIAG_UNKNOWN]) {
		say_missing(r, DIAG_UNKNOWN, "",
			    ": hits unknown (no fault_end, or the counter could not be read) and ");
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
		for (size_t i = 0; i < r->n; i++)
			by_errors &= r->w[i].diag != DIAG_OK || r->w[i].errors_seen;
		snprintf(r->reason, sizeof(r->reason), "every window that hit traffic recorded %s (%zu of %zu)",
			 by_errors ? "errors" : "what its fault should cause", r->evidence, r->n);
	}
}

/* The calls: each window's, then the baseline of those in none. */
static int correlate_calls(struct corr_report *r, const struct event_list *ev, const bool *shut)
{
	int64_t reach = r->grace_ns;
	double *scratch = NULL, max_ms = 0;
	size_t k = 0;

	if (!ev->n_calls)
		return 0;
	scratch = calloc(ev->n_calls, sizeof(*scratch));
	r->call_in_window = calloc(ev->n_calls, 1);
	if (!scratch || !r->call_in_window) {
		free(scratch);
		return -ENOMEM;
	}
	/* a call that began by the end ended by the end + its latency */
	for (size_t i = 0; i < ev->n_calls; i++)
		max_ms = ev->calls[i].latency_ms > max_ms ? ev->calls[i].latency_ms : max_ms;
	if (ev->calls_timed == ev->n_calls && max_ms * 1e6 < (double)reach)
		reach = (int64_t)ceil(max_ms * 1e6);
	for (size_t i = 0; i < r->n; i++)
		match_calls(&r->w[i], ev, reach, shut[i], scratch, r->call_in_window);
	for (size_t i = 0; i < ev->n_calls; i++) {
		r->calls_outside += !r->call_in_window[i];
		if (!r->call_in_window[i] && ev->calls[i].latency_ms >= 0)
			scratch[k++] = ev->calls[i].latency_ms;
	}
	stats_of(scratch, k, &r->base);
	free(scratch);
	return 0;
}

int correlate(const struct jread *j, const struct event_list *ev, int64_t grace_ns, struct corr_report *r)
{
	int64_t *begins = NULL;
	bool *shut = NULL;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->grace_ns = grace_ns;
	r->n_events = ev->n;
	if (j->n_windows) {
		r->w = calloc(j->n_windows, sizeof(*r->w));
		begins = calloc(j->n_windows, sizeof(*begins));
		shut = calloc(j->n_windows, sizeof(*shut));
		if (!r->w || !begins || !shut)
			goto cleanup;
	}
	r->n = j->n_windows;
	for (size_t i = 0; i < r->n; i++)
		begins[i] = j->windows[i].begin_ns;
	if (r->n)
		qsort(begins, r->n, sizeof(*begins), cmp_i64);
	for (size_t i = 0; i < r->n; i++) {
		const struct jwindow *w = &j->windows[i];

		/* with no grace, the instant another window begins is that window's */
		shut[i] = !grace_ns && w->end_ns > w->begin_ns && begins_at(begins, r->n, w->end_ns);
		r->w[i].w = w;
		match_window(&r->w[i], ev, grace_ns, shut[i]);
	}
	if ((ret = correlate_calls(r, ev, shut)) || (ret = count_coverage(r, ev)))
		goto cleanup;
	for (size_t i = 0; i < r->n; i++) {
		struct corr_window *cw = &r->w[i];

		judge_latency(cw, &r->base);
		cw->diag = diagnose(cw->w, has_evidence(cw));
		cw->unrelated = cw->diag == DIAG_NO_TRAFFIC ? cw->n_errors : 0;
		r->n_diag[cw->diag]++;
		r->unrelated += cw->unrelated;
	}
	/* an ok window hit packets or its hits are unknown: diagnose() */
	r->evidence = r->n_diag[DIAG_OK];
	gate(j, ev, r);
cleanup:
	free(begins);
	free(shut);
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
	free(r->call_in_window);
	memset(r, 0, sizeof(*r));
}
