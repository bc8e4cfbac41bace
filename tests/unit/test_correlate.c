/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "correlate.h"

#define S 1000000000LL
#define MS 1000000LL
#define T0 (1795837260LL * S)
#define GRACE (5 * S)

/* A journal and an event list built by hand: correlation only reads them. */
static struct jwindow win[8];
static struct jread j;
static struct error_event evv[16];
static struct call_record cl[64];
static struct event_list ev;
static struct corr_report r;

static void init(void)
{
	memset(win, 0, sizeof(win));
	memset(&j, 0, sizeof(j));
	memset(evv, 0, sizeof(evv));
	memset(cl, 0, sizeof(cl));
	memset(&ev, 0, sizeof(ev));
	ev.calls = cl;
	ev.declared_count = -1;
	j.name = "drill";
	j.outcome = "completed";
	j.start_ns = T0;
	j.windows = win;
	ev.v = evv;
}

static void fini(void)
{
	corr_report_free(&r);
}

TestSuite(correlate, .init = init, .fini = fini);

/* seconds after T0 */
static void window(int64_t begin_ms, int64_t end_ms, uint64_t packets)
{
	struct jwindow *w = &win[j.n_windows];

	w->index = (int64_t)j.n_windows;
	w->action = "drop";
	w->params = "";
	w->begin_ns = T0 + begin_ms * MS;
	w->end_ns = T0 + end_ms * MS;
	w->hit_packets = packets;
	w->hits_known = true;
	w->reason = "completed";
	j.n_windows++;
	if (w->end_ns > j.last_ns)
		j.last_ns = w->end_ns;
}

/* events must be added in time order (the parser sorts them) */
static void event_ns(int64_t ns)
{
	evv[ev.n].ns = ns;
	evv[ev.n].seq = ev.n;
	ev.n++;
}

/* calls must be added in time order too; latency_ms < 0: none */
static void call(int64_t end_ms, double latency_ms, bool failed)
{
	cl[ev.n_calls].ns = T0 + end_ms * MS;
	cl[ev.n_calls].latency_ms = latency_ms;
	cl[ev.n_calls].failed = failed;
	cl[ev.n_calls].seq = ev.n_calls;
	ev.calls_timed += latency_ms >= 0;
	ev.calls_failed += failed;
	ev.n_calls++;
}

static void run(void)
{
	corr_report_free(&r);
	cr_assert_eq(correlate(&j, &ev, GRACE, &r), 0);
}

Test(correlate, edges_are_inclusive)
{
	window(10000, 20000, 5);
	event_ns(T0 + 10 * S - 1);          /* just before: outside */
	event_ns(T0 + 10 * S);              /* the begin itself */
	event_ns(T0 + 20 * S + GRACE);      /* end + grace itself */
	event_ns(T0 + 20 * S + GRACE + 1);  /* just after: outside */
	run();
	cr_assert_eq(r.w[0].n_errors, 2);
	cr_assert_eq(r.w[0].first, 1);
	cr_assert_eq(r.w[0].first_delay_ns, 0);
	cr_assert_eq(r.outside, 2);
	cr_assert_eq(r.shared, 0);
	cr_assert_eq(r.w[0].diag, DIAG_OK);
	cr_assert(r.pass, "%s", r.reason);
}

Test(correlate, grace_counts_late_errors)
{
	window(10000, 20000, 5);
	event_ns(T0 + 23 * S); /* a timeout noticed 3 s after the fault ended */
	run();
	cr_assert_eq(r.w[0].n_errors, 1);
	cr_assert_eq(r.w[0].first_delay_ns, 13 * S);
	corr_report_free(&r);
	cr_assert_eq(correlate(&j, &ev, 0, &r), 0);
	cr_assert_eq(r.w[0].n_errors, 0, "no grace: outside");
	cr_assert_eq(r.w[0].diag, DIAG_TELEMETRY_GAP);
	cr_assert_eq(r.outside, 1);
}

Test(correlate, delay_is_to_the_first_error)
{
	window(10000, 20000, 5);
	event_ns(T0 + 11500 * MS);
	event_ns(T0 + 12 * S);
	event_ns(T0 + 19 * S);
	run();
	cr_assert_eq(r.w[0].n_errors, 3);
	cr_assert_eq(r.w[0].first_delay_ns, 1500 * MS);
}

Test(correlate, each_diagnosis)
{
	window(10000, 20000, 5);  /* ok */
	window(30000, 40000, 7);  /* telemetry gap */
	window(50000, 60000, 0);  /* no traffic */
	window(70000, 80000, 0);  /* an error without hits: no traffic, the error unrelated */
	event_ns(T0 + 15 * S);
	event_ns(T0 + 75 * S);
	run();
	cr_assert_eq(r.w[0].diag, DIAG_OK);
	cr_assert_eq(r.w[1].diag, DIAG_TELEMETRY_GAP);
	cr_assert_eq(r.w[2].diag, DIAG_NO_TRAFFIC);
	cr_assert_eq(r.w[3].diag, DIAG_NO_TRAFFIC);
	cr_assert_eq(r.w[3].n_errors, 1);
	cr_assert_eq(r.w[3].unrelated, 1);
	cr_assert_eq(r.w[0].unrelated, 0);
	cr_assert_eq(r.w[2].unrelated, 0);
	cr_assert_eq(r.w[1].first_delay_ns, -1);
	cr_assert_eq(r.n_diag[DIAG_OK], 1);
	cr_assert_eq(r.n_diag[DIAG_TELEMETRY_GAP], 1);
	cr_assert_eq(r.n_diag[DIAG_NO_TRAFFIC], 2);
	cr_assert_eq(r.unrelated, 1);
	cr_assert_eq(r.evidence, 1);
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "telemetry gap: window 1 hit packets but no error was recorded");
	cr_assert_str_eq(diagnosis_name(DIAG_OK), "ok");
	cr_assert_str_eq(diagnosis_name(DIAG_TELEMETRY_GAP), "telemetry_gap");
	cr_assert_str_eq(diagnosis_name(DIAG_NO_TRAFFIC), "no_traffic");
	cr_assert_str_eq(diagnosis_name(DIAG_UNKNOWN), "unknown");
}

Test(correlate, gate_passes_with_no_traffic_windows_alongside)
{
	window(10000, 20000, 5);
	window(30000, 40000, 0);
	event_ns(T0 + 12 * S);
	run();
	cr_assert(r.pass, "%s", r.reason);
	cr_assert_str_eq(r.reason, "every window that hit traffic recorded errors (1 of 2)");
}

Test(correlate, gate_lists_every_gap)
{
	window(10000, 20000, 5);
	window(30000, 40000, 6);
	window(50000, 60000, 7);
	event_ns(T0 + 32 * S);
	run();
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "telemetry gap: window 0, 2 hit packets but no error was recorded");
}

Test(correlate, gate_fails_without_windows)
{
	j.outcome = "arm_timeout";
	event_ns(T0 + 12 * S);
	run();
	cr_assert_eq(r.n, 0);
	cr_assert_eq(r.outside, 1);
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "no fault window in the journal (outcome arm_timeout): nothing was tested");
	j.outcome = NULL;
	run();
	cr_assert(strstr(r.reason, "(outcome unknown)"));
}

Test(correlate, gate_fails_when_nothing_hit_traffic)
{
	window(10000, 20000, 0);
	window(30000, 40000, 0);
	run();
	cr_assert_eq(r.n_diag[DIAG_NO_TRAFFIC], 2);
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason,
			 "no window hit traffic (0 packets): the faults missed the connector, the drill proves nothing");
	/* errors that happen to fall in a window that hit nothing prove nothing either */
	event_ns(T0 + 15 * S);
	run();
	cr_assert_eq(r.w[0].diag, DIAG_NO_TRAFFIC);
	cr_assert_eq(r.w[0].unrelated, 1);
	cr_assert_eq(r.evidence, 0);
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "no window hit traffic (0 packets): the faults missed the connector, the drill "
				   "proves nothing (1 error inside, not caused by faults that hit no packets)");
}

/* The case: a manual cut that hit nothing, and the next drill's
 * first error 3 s after it, inside its grace. The error is the next
 * window's, not the cut's. */
Test(correlate, next_faults_error_in_the_grace_of_a_window_that_hit_nothing)
{
	window(10000, 13000, 0);
	window(15000, 18000, 40);
	event_ns(T0 + 16 * S);
	run();
	cr_assert_eq(r.w[0].n_errors, 1);
	cr_assert_eq(r.w[0].diag, DIAG_NO_TRAFFIC);
	cr_assert_eq(r.w[0].unrelated, 1);
	cr_assert_eq(r.w[1].diag, DIAG_OK);
	cr_assert_eq(r.w[1].unrelated, 0);
	cr_assert_eq(r.shared, 1);
	cr_assert_eq(r.unrelated, 1);
	cr_assert_eq(r.evidence, 1);
	cr_assert(r.pass, "%s", r.reason);
	cr_assert_str_eq(r.reason, "every window that hit traffic recorded errors (1 of 2)");
}

/* hits {0, > 0, unknown (closed, counter unreadable), unknown (open)} x
 * errors inside {0, 1, 2}, one window [10 s, 20 s] and one error outside
 * it: the precedence table of okx-faultctl(1), DIAGNOSIS. */
enum hits { H_ZERO, H_SOME, H_UNREADABLE, H_OPEN };

struct combo {
	enum hits hits;
	size_t errors;
	enum diagnosis diag;
	size_t unrelated;
	bool pass;
	char reason[160]; /* parameters cross a process boundary: arrays, not pointers */
};

#define R_NO_TRAFFIC "no window hit traffic (0 packets): the faults missed the connector, the drill proves nothing"
#define R_UNKNOWN "window 0: hits unknown (no fault_end, or the counter could not be read) and no error recorded"
#define R_PASS "every window that hit traffic recorded errors (1 of 1)"

ParameterizedTestParameters(correlate, precedence)
{
	static struct combo cases[] = {
		{ H_ZERO, 0, DIAG_NO_TRAFFIC, 0, false, R_NO_TRAFFIC },
		{ H_ZERO, 1, DIAG_NO_TRAFFIC, 1, false,
		  R_NO_TRAFFIC " (1 error inside, not caused by faults that hit no packets)" },
		{ H_ZERO, 2, DIAG_NO_TRAFFIC, 2, false,
		  R_NO_TRAFFIC " (2 errors inside, not caused by faults that hit no packets)" },
		{ H_SOME, 0, DIAG_TELEMETRY_GAP, 0, false, "telemetry gap: window 0 hit packets but no error was recorded" },
		{ H_SOME, 1, DIAG_OK, 0, true, R_PASS },
		{ H_SOME, 2, DIAG_OK, 0, true, R_PASS },
		{ H_UNREADABLE, 0, DIAG_UNKNOWN, 0, false, R_UNKNOWN },
		{ H_UNREADABLE, 1, DIAG_OK, 0, true, R_PASS },
		{ H_UNREADABLE, 2, DIAG_OK, 0, true, R_PASS },
		{ H_OPEN, 0, DIAG_UNKNOWN, 0, false, R_UNKNOWN },
		{ H_OPEN, 1, DIAG_OK, 0, true, R_PASS },
		{ H_OPEN, 2, DIAG_OK, 0, true, R_PASS },
	};
	return cr_make_param_array(struct combo, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct combo *c, correlate, precedence)
{
	const char *hits[] = { "0", "> 0", "unreadable", "open" };

	window(10000, 20000, c->hits == H_SOME ? 9 : 0);
	if (c->hits == H_UNREADABLE || c->hits == H_OPEN)
		win[0].hits_known = false;
	if (c->hits == H_OPEN) {
		win[0].open = true;
		win[0].actual_ms = -1;
		win[0].reason = NULL;
	}
	event_ns(T0 + 9 * S); /* before the window: outside, whatever the case */
	for (size_t i = 0; i < c->errors; i++)
		event_ns(T0 + 12 * S + (int64_t)i * S);
	run();
	cr_assert_eq(r.w[0].n_errors, c->errors, "hits %s, %zu errors", hits[c->hits], c->errors);
	cr_assert_eq(r.w[0].first_delay_ns, c->errors ? 2 * S : -1, "hits %s, %zu errors", hits[c->hits], c->errors);
	cr_assert_eq(r.outside, 1);
	cr_assert_eq(r.w[0].diag, c->diag, "hits %s, %zu errors: %s, want %s", hits[c->hits], c->errors,
		     diagnosis_name(r.w[0].diag), diagnosis_name(c->diag));
	cr_assert_eq(diagnose(&win[0], c->errors > 0), c->diag, "diagnose(), hits %s, %zu errors", hits[c->hits],
		     c->errors);
	cr_assert_eq(r.n_diag[c->diag], 1);
	cr_assert_eq(r.w[0].unrelated, c->unrelated, "hits %s, %zu errors", hits[c->hits], c->errors);
	cr_assert_eq(r.unrelated, c->unrelated);
	cr_assert_eq(r.evidence, c->diag == DIAG_OK ? 1u : 0u);
	cr_assert_eq(r.pass, c->pass, "hits %s, %zu errors: %s", hits[c->hits], c->errors, r.reason);
	cr_assert_str_eq(r.reason, c->reason, "hits %s, %zu errors", hits[c->hits], c->errors);
}

Test(correlate, open_window)
{
	window(10000, 20000, 5);
	window(30000, 30000, 0);
	win[1].open = true;
	win[1].actual_ms = -1;
	win[1].hits_known = false;
	win[1].reason = NULL;
	event_ns(T0 + 12 * S);
	run();
	cr_assert_eq(r.w[1].diag, DIAG_UNKNOWN);
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason,
			 "window 1: hits unknown (no fault_end, or the counter could not be read) and no error recorded");
	/* an error inside the open window (its end is the last time stamp, plus grace) */
	event_ns(T0 + 34 * S);
	run();
	cr_assert_eq(r.w[1].diag, DIAG_OK);
	cr_assert_eq(r.evidence, 2);
	cr_assert(r.pass, "%s", r.reason);
}

Test(correlate, counter_unknown)
{
	/* closed, but the daemon could not read the counter */
	window(10000, 20000, 0);
	win[0].hits_known = false;
	run();
	cr_assert_eq(r.w[0].diag, DIAG_UNKNOWN);
	cr_assert_not(r.pass);
	event_ns(T0 + 12 * S);
	run();
	cr_assert_eq(r.w[0].diag, DIAG_OK);
	cr_assert_eq(r.evidence, 1);
	cr_assert(r.pass, "%s", r.reason);
}

Test(correlate, shared_event_counts_in_both_windows)
{
	/* back-to-back faults: an error right after the switch is in both */
	window(10000, 20000, 5);
	window(20001, 30000, 5);
	event_ns(T0 + 22 * S);
	run();
	cr_assert_eq(r.w[0].n_errors, 1);
	cr_assert_eq(r.w[1].n_errors, 1);
	cr_assert_eq(r.outside, 0);
	cr_assert_eq(r.shared, 1);
	cr_assert(r.pass);
}

Test(correlate, no_events_at_all)
{
	window(10000, 20000, 5);
	run();
	cr_assert_eq(r.n_events, 0);
	cr_assert_eq(r.w[0].diag, DIAG_TELEMETRY_GAP);
	cr_assert_not(r.pass);
	corr_report_free(&r);
	corr_report_free(NULL);
}

Test(correlate, no_grace_boundary_belongs_to_the_window_that_begins)
{
	/* back to back: window 0 ends at the instant window 1 begins */
	window(10000, 20000, 5);
	window(20000, 30000, 5);
	event_ns(T0 + 20 * S);
	event_ns(T0 + 30 * S); /* the last window's end: inclusive, no window begins there */
	corr_report_free(&r);
	cr_assert_eq(correlate(&j, &ev, 0, &r), 0);
	cr_assert_eq(r.w[0].n_errors, 0);
	cr_assert_eq(r.w[1].n_errors, 2);
	cr_assert_eq(r.w[1].first, 0);
	cr_assert_eq(r.shared, 0);
	cr_assert_eq(r.outside, 0);
	cr_assert_eq(r.in_window[0], 1);
	cr_assert_eq(r.in_window[1], 1);
}

Test(correlate, in_window_marks_each_event)
{
	window(10000, 20000, 5);
	window(21000, 30000, 5);
	event_ns(T0 + 5 * S);  /* before: none */
	event_ns(T0 + 15 * S); /* window 0 only */
	event_ns(T0 + 22 * S); /* window 1, and window 0's grace */
	event_ns(T0 + 40 * S); /* after every grace */
	run();
	cr_assert_eq(r.in_window[0], 0);
	cr_assert_eq(r.in_window[1], 1);
	cr_assert_eq(r.in_window[2], 2);
	cr_assert_eq(r.in_window[3], 0);
	cr_assert_eq(r.outside, 2);
	cr_assert_eq(r.shared, 1);
}

/* Windows out of time order (a hand-made journal): membership is by time,
 * whatever the order. */
Test(correlate, windows_in_any_order)
{
	window(30000, 40000, 5);
	window(10000, 20000, 5);
	event_ns(T0 + 12 * S);
	event_ns(T0 + 33 * S);
	corr_report_free(&r);
	cr_assert_eq(correlate(&j, &ev, 0, &r), 0);
	cr_assert_eq(r.w[0].n_errors, 1);
	cr_assert_eq(r.w[0].first, 1);
	cr_assert_eq(r.w[1].n_errors, 1);
	cr_assert_eq(r.w[1].first, 0);
	cr_assert_eq(r.outside, 0);
}

Test(correlate, error_types_per_window)
{
	static char *types[] = { "Timeout", NULL, "ConnectionError", "Timeout", "Timeout", NULL };
	struct type_count *c;
	size_t n;

	window(10000, 20000, 5);
	for (int i = 0; i < 6; i++) {
		event_ns(T0 + (11 + i) * S);
		evv[i].type = types[i];
	}
	run();
	cr_assert_eq(corr_error_types(&ev, &r.w[0], &c, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(c[0].type, "Timeout");
	cr_assert_eq(c[0].n, 3);
	cr_assert_null(c[1].type, "the untyped ones, by count");
	cr_assert_eq(c[1].n, 2);
	cr_assert_str_eq(c[2].type, "ConnectionError");
	cr_assert_eq(c[2].n, 1);
	free(c);
}

/* --- expected evidence: errors, slower calls, or either --- */

Test(correlate, percentile_nearest_rank)
{
	static const double v[] = { 1, 2, 3, 4 }, one[] = { 7 };
	double twenty[20];

	cr_assert_eq(corr_percentile(v, 4, 50), 2);
	cr_assert_eq(corr_percentile(v, 4, 95), 4);
	cr_assert_eq(corr_percentile(v, 4, 100), 4);
	cr_assert_eq(corr_percentile(v, 4, 25), 1);
	cr_assert_eq(corr_percentile(one, 1, 50), 7);
	cr_assert_eq(corr_percentile(one, 1, 95), 7);
	for (int i = 0; i < 20; i++)
		twenty[i] = i + 1;
	cr_assert_eq(corr_percentile(twenty, 20, 95), 19, "rank ceil(0.95 * 20) = 19");
	cr_assert_eq(corr_percentile(twenty, 20, 50), 10);
}

enum kind { DROP, DELAY, LOSS };

/* One window [10 s, 20 s] of a kind, with its expect; baseline calls of
 * 5 ms outside it (t = 1..9 s), n calls inside that took `lat` ms, errors
 * inside. */
struct ev_case {
	char name[64];
	enum kind kind;
	enum expect expect;
	int hits;          /* packets; -1 unknown */
	bool baseline;     /* calls outside */
	int n;             /* calls inside */
	double lat;        /* their latency; < 0: none */
	bool failed;       /* they failed (with no error events: the errors) */
	int errors;        /* error events inside */
	bool errors_seen, slower;
	enum diagnosis diag;
};

ParameterizedTestParameters(correlate, expected_evidence)
{
	static struct ev_case cases[] = {
		{ "delay, calls slowed", DELAY, EXPECT_ANY, 9, true, 5, 612, false, 0, false, true, DIAG_OK },
		{ "delay, flat latency", DELAY, EXPECT_ANY, 9, true, 5, 6, false, 0, false, false, DIAG_TELEMETRY_GAP },
		{ "delay, p50 exactly base + L/2", DELAY, EXPECT_ANY, 9, true, 5, 155, false, 0, false, true, DIAG_OK },
		{ "delay, p50 just under", DELAY, EXPECT_ANY, 9, true, 5, 154.9, false, 0, false, false,
		  DIAG_TELEMETRY_GAP },
		{ "delay past the timeout: errors", DELAY, EXPECT_ANY, 9, true, 5, 1000, true, 5, true, true, DIAG_OK },
		{ "delay, errors, no latencies", DELAY, EXPECT_ANY, 9, true, 0, -1, false, 3, true, false, DIAG_OK },
		{ "delay, no calls, no errors", DELAY, EXPECT_ANY, 9, true, 0, -1, false, 0, false, false,
		  DIAG_TELEMETRY_GAP },
		{ "delay, calls without latency", DELAY, EXPECT_ANY, 9, true, 5, -1, false, 0, false, false,
		  DIAG_TELEMETRY_GAP },
		{ "delay, no baseline: against 0", DELAY, EXPECT_ANY, 9, false, 3, 151, false, 0, false, true, DIAG_OK },
		{ "loss, errors", LOSS, EXPECT_ANY, 9, true, 0, -1, false, 2, true, false, DIAG_OK },
		{ "loss, slower p95", LOSS, EXPECT_ANY, 9, true, 4, 205, false, 0, false, true, DIAG_OK },
		{ "loss, neither", LOSS, EXPECT_ANY, 9, true, 4, 204, false, 0, false, false, DIAG_TELEMETRY_GAP },
		{ "drop, only slow calls", DROP, EXPECT_ERRORS, 9, true, 5, 1000, false, 0, false, true,
		  DIAG_TELEMETRY_GAP },
		{ "drop, errors", DROP, EXPECT_ERRORS, 9, true, 5, 1000, true, 5, true, true, DIAG_OK },
		{ "expect=latency: errors are not enough", DELAY, EXPECT_LATENCY, 9, true, 5, 6, true, 5, true, false,
		  DIAG_TELEMETRY_GAP },
		{ "expect=latency: slower", DELAY, EXPECT_LATENCY, 9, true, 5, 700, false, 0, false, true, DIAG_OK },
		{ "expect=errors on a delay: slower is not enough", DELAY, EXPECT_ERRORS, 9, true, 5, 700, false, 0,
		  false, true, DIAG_TELEMETRY_GAP },
		{ "expect=any on a drop: slower", DROP, EXPECT_ANY, 9, true, 5, 700, false, 0, false, true, DIAG_OK },
		{ "no hits: slower calls are not the fault's", DELAY, EXPECT_ANY, 0, true, 5, 700, false, 0, false,
		  true, DIAG_NO_TRAFFIC },
		{ "hits unknown, slower", DELAY, EXPECT_ANY, -1, true, 5, 700, false, 0, false, true, DIAG_OK },
		{ "hits unknown, flat", DELAY, EXPECT_ANY, -1, true, 5, 6, false, 0, false, false, DIAG_UNKNOWN },
	};
	return cr_make_param_array(struct ev_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ev_case *c, correlate, expected_evidence)
{
	static const char *const actions[] = { "drop", "delay", "loss" };
	struct jwindow *w;

	window(10000, 20000, c->hits > 0 ? (uint64_t)c->hits : 0);
	w = &win[0];
	w->action = (char *)actions[c->kind];
	w->expect = c->expect;
	w->latency_ms = c->kind == DELAY ? 300 : 0;
	w->hits_known = c->hits >= 0;
	for (int i = 1; c->baseline && i <= 9; i++)
		call(i * 1000, 5, false);
	for (int i = 0; i < c->n; i++)
		call(11000 + i * 1000, c->lat, c->failed);
	for (int i = 0; i < c->errors; i++)
		event_ns(T0 + 11 * S + i * S);
	run();
	cr_assert_eq(r.w[0].n_calls, (size_t)c->n, "%s", c->name);
	cr_assert_eq(r.w[0].errors_seen, c->errors_seen, "%s", c->name);
	cr_assert_eq(r.w[0].slower, c->slower, "%s: p50 %g p95 %g, base %g", c->name, r.w[0].lat.p50, r.w[0].lat.p95,
		     r.base.p50);
	cr_assert_eq(r.w[0].diag, c->diag, "%s: %s, want %s", c->name, diagnosis_name(r.w[0].diag),
		     diagnosis_name(c->diag));
	cr_assert_eq(r.calls_outside, c->baseline ? 9u : 0u, "%s", c->name);
	cr_assert_eq(r.base.n, c->baseline ? 9u : 0u, "%s", c->name);
	cr_assert_eq(r.w[0].by_p95, c->kind != DELAY, "%s", c->name);
	cr_assert_eq(r.w[0].need_ms, c->kind == DELAY ? 150.0 : SLOWER_MIN_MS, "%s", c->name);
	cr_assert_eq(r.pass, c->diag == DIAG_OK, "%s: %s", c->name, r.reason);
}

/* A call belongs to a window when it ended in [begin, end + grace] and
 * began by the end; a call without latency by its end alone. */
Test(correlate, call_membership)
{
	window(10000, 20000, 5);
	call(9999, 5, false);    /* ended just before: outside */
	call(10000, 500, false); /* ended at the begin: inside (began before it) */
	call(20400, 500, false); /* began 19.9 s, ended in the grace: inside */
	call(20600, 500, false); /* began 20.1 s, after the end: outside */
	call(24000, -1, false);  /* no latency, in the grace: inside */
	call(25001, -1, false);  /* after the grace: outside */
	run();
	cr_assert_eq(r.w[0].n_calls, 3);
	cr_assert_eq(r.w[0].lat.n, 2);
	cr_assert_eq(r.calls_outside, 3);
	cr_assert_eq(r.base.n, 2, "the two outside with a latency");
	cr_assert_eq(r.call_in_window[0], 0);
	cr_assert_eq(r.call_in_window[1], 1);
	cr_assert_eq(r.call_in_window[2], 1);
	cr_assert_eq(r.call_in_window[3], 0);
	cr_assert_eq(r.call_in_window[4], 1);
	cr_assert_eq(r.call_in_window[5], 0);
	/* no grace: the call that ended after the end is outside */
	corr_report_free(&r);
	cr_assert_eq(correlate(&j, &ev, 0, &r), 0);
	cr_assert_eq(r.w[0].n_calls, 1);
}

/* Every call with a latency: the scan past the end stops at the longest
 * one, and what it finds is the same. */
Test(correlate, call_scan_reach)
{
	window(10000, 20000, 5);
	window(21000, 22000, 5);
	call(15000, 100, false);
	call(20050, 100, false);  /* began 19.95 s: window 0 */
	call(21500, 3000, false); /* began 18.5 s: both windows */
	call(23000, 10, false);   /* window 1's grace, began after its end: outside */
	run();
	cr_assert_eq(r.w[0].n_calls, 3);
	cr_assert_eq(r.w[1].n_calls, 1);
	cr_assert_eq(r.call_in_window[2], 2);
	cr_assert_eq(r.calls_outside, 1);
	cr_assert_eq(r.base.p50, 10);
}

Test(correlate, gate_reasons_by_expectation)
{
	window(10000, 20000, 5);  /* drop: errors */
	window(30000, 40000, 5);  /* delay: any */
	window(50000, 60000, 5);  /* delay expect=latency */
	window(70000, 80000, 5);  /* drop, errors inside: ok */
	win[1].action = win[2].action = "delay";
	win[1].latency_ms = win[2].latency_ms = 300;
	win[1].expect = EXPECT_ANY;
	win[2].expect = EXPECT_LATENCY;
	event_ns(T0 + 75 * S);
	run();
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "telemetry gap: window 0 hit packets but no error was recorded; window 2 hit "
				   "packets but no slower calls were recorded; window 1 hit packets but no error "
				   "and no slower calls were recorded");
	/* slowed calls in both delay windows, an error in the drop */
	ev.n = 0;
	event_ns(T0 + 12 * S);
	event_ns(T0 + 75 * S);
	call(5000, 4, false);
	call(35000, 650, false);
	call(55000, 640, false);
	run();
	cr_assert(r.pass, "%s", r.reason);
	cr_assert_str_eq(r.reason, "every window that hit traffic recorded what its fault should cause (4 of 4)");
	/* hits unknown and nothing */
	win[2].hits_known = false;
	ev.n_calls = 2;
	run();
	cr_assert_str_eq(r.reason, "window 2: hits unknown (no fault_end, or the counter could not be read) and no "
				   "slower calls recorded");
}

/* Count-only telemetry: an error_count, nothing with a time stamp */
Test(correlate, count_only)
{
	window(10000, 20000, 5);
	ev.declared_count = 5;
	cr_assert(events_count_only(&ev));
	run();
	cr_assert_not(r.pass);
	cr_assert_str_eq(r.reason, "errors counted but not timestamped (error_count 5, no error_events): cannot "
				   "attribute them to windows; the connector must record each error with its time");
	/* call records have times: not count-only; the calls here are not slower */
	call(15000, 5, false);
	cr_assert_not(events_count_only(&ev));
	run();
	cr_assert_str_eq(r.reason, "telemetry gap: window 0 hit packets but no error was recorded");
}
