/* SPDX-License-Identifier: MIT */
/* okx-faultctl: read a drill journal back and correlate it with the
 * connector's error events and call records (okx-faultctl(1)). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "correlate.h"
#include "ctl_status.h"
#include "duration.h"
#include "events.h"
#include "expect.h"
#include "fleet.h"
#include "jbuild.h"
#include "journal_read.h"
#include "log.h"
#include "safefile.h"
#include "sha256.h"
#include "svg.h"
#include "timeparse.h"

#define EXIT_PASS 0
#define EXIT_GATE_FAIL 1
#define EXIT_BAD_INPUT 2
#define EXIT_NOT_INTACT 1 /* verify */
#define REPORT_VERSION 1
#define DEFAULT_GRACE_MS 5000

/* --- a plain text table, columns sized to their widest cell --- */

#define MAX_COLS 12

struct table {
	size_t cols, rows;
	char **cell; /* rows * cols, malloc'ed strings */
	unsigned right; /* bit i: column i right-aligned */
};

static int table_row(struct table *t, ...)
{
	char **nc;
	va_list ap;
	int ret = 0;

	/* room for the next power of two of rows: full when rows is one */
	if (!(t->rows & (t->rows - 1))) {
		nc = reallocarray(t->cell, (t->rows ? t->rows * 2 : 1) * t->cols, sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		t->cell = nc;
	}
	va_start(ap, t);
	for (size_t c = 0; c < t->cols; c++) {
		const char *s = va_arg(ap, const char *);

		t->cell[t->rows * t->cols + c] = strdup(s ? s : "");
		if (!t->cell[t->rows * t->cols + c])
			ret = -ENOMEM;
	}
	va_end(ap);
	t->rows++;
	return ret;
}

static void table_print(const struct table *t, FILE *f)
{
	size_t width[MAX_COLS] = { 0 };

	for (size_t i = 0; i < t->rows * t->cols; i++) {
		size_t n = t->cell[i] ? strlen(t->cell[i]) : 0;

		if (n > width[i % t->cols])
			width[i % t->cols] = n;
	}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cell[r * t->cols + c] ? t->cell[r * t->cols + c] : "";
			bool last = c + 1 == t->cols;

			if (t->right & (1u << c))
				fprintf(f, "%*s%s", (int)width[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)width[c], s);
		}
		fputc('\n', f);
	}
}

static void table_free(struct table *t)
{
	if (!t || !t->cell)
		return;
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
}

/* --- shared report pieces --- */

static const char *fmt_time(int64_t ns, char *buf)
{
	return time_format_rfc3339(ns, 6, buf, TIME_STRLEN);
}

static void print_warnings(const struct jread *j)
{
	for (size_t i = 0; i < j->n_warnings; i++)
		log_warnx("%s", j->warnings[i]);
}

static void print_armed(const struct jread *j, FILE *f)
{
	char when[TIME_STRLEN];

	if (!j->armed) {
		fprintf(f, "armed    never\n");
		return;
	}
	fprintf(f, "armed    %s", fmt_time(j->armed_ns, when));
	if (j->trigger_dst) {
		fprintf(f, " on flow %s -> %s", j->trigger_src ? j->trigger_src : "?", j->trigger_dst);
		if (j->trigger_dport >= 0)
			fprintf(f, ":%lld", (long long)j->trigger_dport);
		if (j->trigger_proto)
			fprintf(f, "/%s", j->trigger_proto);
	}
	fprintf(f, " (%llu flows, %llu packets, %llu bytes seen)\n", (unsigned long long)j->armed_flows,
		(unsigned long long)j->armed_packets, (unsigned long long)j->armed_bytes);
}

static void print_outcome(const struct jread *j, FILE *f)
{
	static const struct {
		const char *outcome, *meaning;
	} meanings[] = {
		{ "aborted", "stopped by the stop file, a signal or okx-faultctl stop; faults removed, windows closed" },
		{ "arm_timeout", "the drill never armed: no traffic to the targets, nothing was injected" },
		{ "completed", "every fault ran" },
		{ "error", "runtime failure; faults removed" },
	};
	const char *meaning = "";

	if (!j->outcome) {
		fprintf(f, "outcome  unknown: no end event (the daemon was killed?)%s\n",
			j->truncated ? "; last line truncated" : "");
		return;
	}
	for (size_t i = 0; i < sizeof(meanings) / sizeof(meanings[0]); i++)
		if (!strcmp(meanings[i].outcome, j->outcome))
			meaning = meanings[i].meaning;
	fprintf(f, "outcome  %s", j->outcome);
	if (j->exit_code >= 0)
		fprintf(f, " (exit %lld)", (long long)j->exit_code);
	fprintf(f, "%s%s\n", meaning[0] ? ": " : "", meaning);
}

static void print_drill(const struct jread *j, FILE *f)
{
	char when[TIME_STRLEN];

	fprintf(f, "drill    %s", j->name);
	if (j->version)
		fprintf(f, " (okx-faultd %s%s%s)", j->version, j->git_commit ? " " : "", j->git_commit ? j->git_commit : "");
	if (j->host)
		fprintf(f, " on %s", j->host);
	fprintf(f, "\njournal  %s\nstarted  %s\n", j->path, fmt_time(j->start_ns, when));
}

static int load_journal(struct jread *j, const char *path)
{
	char *error = NULL;
	int ret = jread_file(j, path, &error);

	if (ret < 0)
		log_errx("%s", error ? error : "out of memory");
	else
		print_warnings(j);
	free(error);
	return ret;
}

/* --- okx-faultctl windows JOURNAL --- */

static void hits_text(const struct jwindow *w, char pk[24], char by[24])
{
	if (!w->hits_known) {
		snprintf(pk, 24, "?");
		snprintf(by, 24, "?");
		return;
	}
	snprintf(pk, 24, "%llu", (unsigned long long)w->hit_packets);
	snprintf(by, 24, "%llu", (unsigned long long)w->hit_bytes);
}

static int windows_table(const struct jread *j, FILE *f)
{
	struct table t = { .cols = 9, .right = 1u << 0 | 1u << 5 | 1u << 6 | 1u << 7 };
	int ret;

	ret = table_row(&t, "#", "ACTION", "PARAMS", "BEGIN", "END", "ACTUAL/PLANNED MS", "PACKETS", "BYTES", "REASON");
	for (size_t i = 0; i < j->n_windows && !ret; i++) {
		const struct jwindow *w = &j->windows[i];
		char idx[24], b[TIME_STRLEN], e[TIME_STRLEN + 8], ms[48], pk[24], by[24];

		snprintf(idx, sizeof(idx), "%lld", (long long)w->index);
		fmt_time(w->begin_ns, b);
		fmt_time(w->end_ns, e);
		if (w->open) {
			strcat(e, " (open)");
			snprintf(ms, sizeof(ms), ">=%lld/%lld", (long long)((w->end_ns - w->begin_ns) / 1000000),
				 (long long)w->planned_ms);
			snprintf(pk, sizeof(pk), "?");
			snprintf(by, sizeof(by), "?");
		} else {
			snprintf(ms, sizeof(ms), "%.3f/%lld", w->actual_ms, (long long)w->planned_ms);
			hits_text(w, pk, by);
		}
		ret = table_row(&t, idx, w->action, w->params[0] ? w->params : "-", b, e, ms, pk, by,
				w->open ? "open" : w->reason ? w->reason : "-");
	}
	if (!ret)
		table_print(&t, f);
	table_free(&t);
	return ret;
}

static int cmd_windows(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct jread j;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: okx-faultctl windows JOURNAL\n");
			return EXIT_PASS;
		}
		return EXIT_BAD_INPUT;
	}
	if (argc - optind != 1) {
		log_errx("usage: okx-faultctl windows JOURNAL");
		return EXIT_BAD_INPUT;
	}
	ret = load_journal(&j, argv[optind]);
	if (ret < 0) {
		jread_free(&j);
		return EXIT_BAD_INPUT;
	}
	print_drill(&j, stdout);
	putchar('\n');
	if (j.n_windows)
		ret = windows_table(&j, stdout);
	else
		printf("(no fault windows)\n");
	putchar('\n');
	for (size_t i = 0; i < j.n_windows; i++)
		if (j.windows[i].open)
			printf("window %lld is open: no fault_end (daemon killed?); its end is taken as the journal's last time stamp\n",
			       (long long)j.windows[i].index);
	print_armed(&j, stdout);
	print_outcome(&j, stdout);
	jread_free(&j);
	if (ret < 0) {
		log_errx("out of memory");
		return EXIT_BAD_INPUT;
	}
	return EXIT_PASS;
}

/* --- okx-faultctl correlate --- */

struct correlate_opts {
	const char *journal, *events, *svg;
	int64_t grace_ms;
	bool json;
};

static const char *correlate_usage =
	"usage: okx-faultctl correlate --journal JOURNAL --events EVENTS [--grace DUR] [--json] [--svg FILE]\n";

/* A policy duration (duration.h), or zero ("0s": no grace at all). */
static bool parse_grace(const char *s, int64_t *ms)
{
	uint64_t v = 0;

	switch (duration_check(s, &v)) {
	case DUR_OK:
		*ms = (int64_t)v;
		return true;
	case DUR_RANGE:
		if (strspn(s, "0") && strspn(s, "0") == strspn(s, "0123456789")) {
			*ms = 0;
			return true;
		}
		log_errx("--grace: bad duration '%s': longer than 24h", s);
		return false;
	case DUR_NO_UNIT:
		log_errx("--grace: bad duration '%s': missing unit (ms, s, m, h)", s);
		return false;
	case DUR_BAD_UNIT:
		log_errx("--grace: bad duration '%s': unknown unit '%s' (ms, s, m, h)", s, s + strspn(s, "0123456789"));
		return false;
	default:
		log_errx("--grace: bad duration '%s': expected an integer and a unit (ms, s, m, h)", s);
		return false;
	}
}

/* Returns -1 to go on, or an exit code. */
static int correlate_parse(int argc, char **argv, struct correlate_opts *o)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' }, { "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },         { "journal", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },         { "svg", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->grace_ms = DEFAULT_GRACE_MS;
	optind = 0;
	while ((c = getopt_long(argc, argv, "e:g:hj:", opts, NULL)) != -1) {
		switch (c) {
		case 'e': o->events = optarg; break;
		case 'j': o->journal = optarg; break;
		case 'J': o->json = true; break;
		case 's': o->svg = optarg; break;
		case 'g':
			if (!parse_grace(optarg, &o->grace_ms))
				return EXIT_BAD_INPUT;
			break;
		case 'h': fputs(correlate_usage, stdout); return EXIT_PASS;
		default: fputs(correlate_usage, stderr); return EXIT_BAD_INPUT;
		}
	}
	if (optind < argc) {
		log_errx("correlate: unexpected argument '%s'", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	if (!o->journal || !o->events) {
		log_errx("correlate: --journal and --events are required");
		fputs(correlate_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	return -1;
}

static const char *form_name(enum events_form f)
{
	return f == EVENTS_ARRAY ? "array" : f == EVENTS_LINES ? "lines" : "nested";
}

/* "window 0: error types: Timeout 3, ConnectionError 1, (no type) 2" */
static void print_types(const struct event_list *ev, const struct corr_window *cw, FILE *f)
{
	struct type_count *c;
	size_t n;

	if (corr_error_types(ev, cw, &c, &n) < 0 || !n)
		return;
	fprintf(f, "window %lld: error types:", (long long)cw->w->index);
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%s %s %zu", k ? "," : "", c[k].type ? c[k].type : "(no type)", c[k].n);
	fputc('\n', f);
	free(c);
}

/* "612.0" or "-" */
static void ms_text(char *buf, size_t len, const struct latency_stats *s, bool p95)
{
	if (!s->n)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", p95 ? s->p95 : s->p50);
}

static void print_table(const struct event_list *ev, const struct corr_report *r, FILE *f)
{
	bool calls = ev->n_calls > 0;
	struct table t = { .cols = calls ? 10 : 8,
			   .right = 1u << 0 | 1u << 4 | 1u << 5 | 1u << 6 | (calls ? 1u << 7 | 1u << 8 : 0) };
	int ret;

	if (calls)
		ret = table_row(&t, "#", "ACTION", "BEGIN", "END", "PACKETS", "ERRORS", "FIRST ERROR", "CALLS",
				"P50 MS IN/OUT", "DIAGNOSIS");
	else
		ret = table_row(&t, "#", "ACTION", "BEGIN", "END", "PACKETS", "ERRORS", "FIRST ERROR", "DIAGNOSIS");
	for (size_t i = 0; i < r->n && !ret; i++) {
		const struct corr_window *cw = &r->w[i];
		const struct jwindow *w = cw->w;
		char idx[24], b[TIME_STRLEN], e[TIME_STRLEN + 8], pk[24], by[24], n[24], d[32], nc[24], in[24],
			out[24], p50[56];

		snprintf(idx, sizeof(idx), "%lld", (long long)w->index);
		fmt_time(w->begin_ns, b);
		fmt_time(w->end_ns, e);
		if (w->open)
			strcat(e, " (open)");
		hits_text(w, pk, by);
		snprintf(n, sizeof(n), "%zu", cw->n_errors);
		if (cw->n_errors)
			snprintf(d, sizeof(d), "+%.3fs", (double)cw->first_delay_ns / 1e9);
		else
			snprintf(d, sizeof(d), "-");
		if (!calls) {
			ret = table_row(&t, idx, w->action, b, e, pk, n, d, diagnosis_name(cw->diag));
			continue;
		}
		snprintf(nc, sizeof(nc), "%zu", cw->n_calls);
		ms_text(in, sizeof(in), &cw->lat, false);
		ms_text(out, sizeof(out), &r->base, false);
		snprintf(p50, sizeof(p50), "%s/%s", in, out);
		ret = table_row(&t, idx, w->action, b, e, pk, n, d, nc, p50, diagnosis_name(cw->diag));
	}
	if (r->n && !ret)
		table_print(&t, f);
	else if (!r->n)
		fprintf(f, "(no fault windows)\n");
	table_free(&t);
}

/* "window 2: 4 calls inside (0 failed), latency p50 612.0 ms, p95 640.0 ms
 * vs p50 3.1 ms, p95 5.2 ms outside: slower (p50 +608.9 ms, at least +150
 * ms needed: half the injected 300ms)" */
static void print_calls(const struct corr_report *r, const struct corr_window *cw, FILE *f)
{
	const struct jwindow *w = cw->w;
	double in, out;

	fprintf(f, "window %lld: %zu call%s inside (%zu failed)", (long long)w->index, cw->n_calls,
		cw->n_calls == 1 ? "" : "s", cw->calls_failed);
	if (!cw->lat.n) {
		fprintf(f, ", none with a latency%s\n",
			w->expect == EXPECT_ERRORS ? "" : ": slower calls cannot be judged");
		return;
	}
	fprintf(f, ", latency p50 %.1f ms, p95 %.1f ms", cw->lat.p50, cw->lat.p95);
	if (r->base.n)
		fprintf(f, " vs p50 %.1f ms, p95 %.1f ms outside", r->base.p50, r->base.p95);
	else
		fprintf(f, " (no call outside every window: baseline 0)");
	if (w->expect == EXPECT_ERRORS) {
		fprintf(f, "; the %s expects errors\n", w->action);
		return;
	}
	in = cw->by_p95 ? cw->lat.p95 : cw->lat.p50;
	out = cw->by_p95 ? r->base.p95 : r->base.p50;
	fprintf(f, ": %s (%s %+.1f ms, at least +%.0f ms needed: ", cw->slower ? "slower" : "not slower",
		cw->by_p95 ? "p95" : "p50", in - out, cw->need_ms);
	if (cw->by_p95)
		fprintf(f, "no injected latency)\n");
	else
		fprintf(f, "half the injected %lldms)\n", (long long)w->latency_ms);
}

static const char *evidence_text(const struct corr_window *cw)
{
	switch (cw->w->expect) {
	case EXPECT_ERRORS:
		return "no error recorded";
	case EXPECT_LATENCY:
		return "no slower calls recorded";
	case EXPECT_ANY:
		return "no error and no slower calls recorded";
	}
	return "?";
}

static void print_window_notes(const struct event_list *ev, const struct corr_report *r, FILE *f)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct corr_window *cw = &r->w[i];
		long long idx = (long long)cw->w->index;

		print_types(ev, cw, f);
		if (ev->n_calls)
			print_calls(r, cw, f);
		if (cw->diag == DIAG_TELEMETRY_GAP)
			fprintf(f, "window %lld: telemetry gap: the %s hit %llu packets, %s within the grace%s\n", idx,
				cw->w->action, (unsigned long long)cw->w->hit_packets, evidence_text(cw),
				cw->w->expect != EXPECT_ERRORS && !ev->n_calls ? " (no call records: latency not judged)" : "");
		else if (cw->diag == DIAG_NO_TRAFFIC && cw->unrelated)
			fprintf(f, "window %lld: no traffic: the %s hit 0 packets; %zu error%s inside, not caused by this "
				   "fault: it hit no packets\n",
				idx, cw->w->action, cw->unrelated, cw->unrelated == 1 ? "" : "s");
		else if (cw->diag == DIAG_NO_TRAFFIC)
			fprintf(f, "window %lld: no traffic: the %s hit 0 packets (the connector made no calls then)\n", idx,
				cw->w->action);
		else if (cw->diag == DIAG_UNKNOWN && cw->w->open)
			fprintf(f, "window %lld: open (no fault_end): end taken as the journal's last time stamp, hits unknown\n",
				idx);
		else if (cw->diag == DIAG_UNKNOWN)
			fprintf(f, "window %lld: the daemon could not read its hit counter: hits unknown\n", idx);
		else if (cw->diag == DIAG_OK && !cw->errors_seen)
			fprintf(f, "window %lld: ok by latency: the %s slowed the calls, no error recorded\n", idx,
				cw->w->action);
	}
}

static void print_correlation(const struct jread *j, const struct event_list *ev, const struct corr_report *r, FILE *f)
{
	print_drill(j, f);
	fprintf(f, "events   %s (%zu error events, %s form), grace %lldms\n", ev->path, ev->n, form_name(ev->form),
		(long long)(r->grace_ns / 1000000));
	if (ev->n_calls) {
		fprintf(f, "calls    %zu call records (%zu with a latency, %zu failed), %zu outside every window", ev->n_calls,
			ev->calls_timed, ev->calls_failed, r->calls_outside);
		if (r->base.n)
			fprintf(f, ": p50 %.1f ms, p95 %.1f ms", r->base.p50, r->base.p95);
		fputc('\n', f);
	}
	print_armed(j, f);
	fputc('\n', f);
	print_table(ev, r, f);
	fputc('\n', f);
	print_window_notes(ev, r, f);
	fprintf(f, "errors outside every window: %zu of %zu\n", r->outside, ev->n);
	if (ev->errors_from_calls)
		fprintf(f, "errors: the %zu failed call records (the file has no error events of its own)\n", ev->n);
	else if (ev->calls_failed)
		fprintf(f, "note: %zu failed call records are not counted as errors: the file has error events of its "
			   "own\n",
			ev->calls_failed);
	if (r->shared)
		fprintf(f, "note: %zu error events fall in more than one window (faults closer than the grace) and are "
			   "counted in each; a smaller --grace separates them\n",
			r->shared);
	if (events_count_only(ev))
		fprintf(f, "errors counted but not timestamped: cannot attribute to windows (error_count %lld, no "
			   "timestamped error events)\n",
			(long long)ev->declared_count);
	else if (ev->declared_count >= 0 && (size_t)ev->declared_count != ev->n)
		fprintf(f, "note: error_count says %lld, but %zu error events were found\n", (long long)ev->declared_count,
			ev->n);
	print_outcome(j, f);
	fprintf(f, "verdict  %s: %s\n", r->pass ? "PASS" : "FAIL", r->reason);
}

static cJSON *json_journal(struct jb *b, const struct jread *j)
{
	cJSON *o = jb_check(b, cJSON_CreateObject()), *a, *t, *w;

	if (!o)
		return NULL;
	jb_str(b, o, "path", j->path);
	jb_str(b, o, "name", j->name);
	jb_str(b, o, "host", j->host);
	jb_str(b, o, "policy", j->policy);
	jb_str(b, o, "okx_faultd_version", j->version);
	jb_str(b, o, "git_commit", j->git_commit);
	jb_time(b, o, "start", j->start_ns);
	jb_time(b, o, "last_ts", j->last_ns);
	if (j->armed && (a = jb_check(b, cJSON_AddObjectToObject(o, "armed")))) {
		jb_time(b, a, "ts", j->armed_ns);
		jb_u64(b, a, "flows", j->armed_flows);
		jb_u64(b, a, "packets", j->armed_packets);
		jb_u64(b, a, "bytes", j->armed_bytes);
		if (j->trigger_dst && (t = jb_check(b, cJSON_AddObjectToObject(a, "trigger")))) {
			jb_str(b, t, "src", j->trigger_src);
			jb_str(b, t, "dst", j->trigger_dst);
			if (j->trigger_dport >= 0)
				jb_num(b, t, "dport", (double)j->trigger_dport);
			else
				jb_check(b, cJSON_AddNullToObject(t, "dport"));
			jb_str(b, t, "proto", j->trigger_proto);
		}
	} else if (!j->armed) {
		jb_check(b, cJSON_AddNullToObject(o, "armed"));
	}
	jb_str(b, o, "outcome", j->outcome);
	if (j->outcome && j->exit_code >= 0)
		jb_num(b, o, "exit_code", (double)j->exit_code);
	else
		jb_check(b, cJSON_AddNullToObject(o, "exit_code"));
	jb_check(b, cJSON_AddBoolToObject(o, "complete", j->outcome && !j->truncated));
	jb_check(b, cJSON_AddBoolToObject(o, "truncated", j->truncated));
	if ((w = jb_check(b, cJSON_AddArrayToObject(o, "warnings"))))
		for (size_t i = 0; i < j->n_warnings; i++)
			jb_append(b, w, cJSON_CreateString(j->warnings[i]));
	return o;
}

/* [{"type": "Timeout", "count": 3}, ...], most frequent first */
static cJSON *json_types(struct jb *b, const struct event_list *ev, const struct corr_window *cw)
{
	cJSON *a = jb_check(b, cJSON_CreateArray());
	struct type_count *c;
	size_t n;

	if (!a)
		return NULL;
	if (corr_error_types(ev, cw, &c, &n) < 0) {
		b->oom = true;
		return a;
	}
	for (size_t k = 0; k < n; k++) {
		cJSON *e = jb_check(b, cJSON_CreateObject());

		if (!e)
			break;
		jb_str(b, e, "type", c[k].type);
		jb_num(b, e, "count", (double)c[k].n);
		jb_append(b, a, e);
	}
	free(c);
	return a;
}

/* {"calls", "p50_ms", "p95_ms"}, or null when no call has a latency */
static cJSON *json_latency(struct jb *b, const struct latency_stats *s)
{
	cJSON *o;

	if (!s->n)
		return jb_check(b, cJSON_CreateNull());
	if (!(o = jb_check(b, cJSON_CreateObject())))
		return NULL;
	jb_num(b, o, "calls", (double)s->n);
	jb_num(b, o, "p50_ms", s->p50);
	jb_num(b, o, "p95_ms", s->p95);
	return o;
}

static cJSON *json_window(struct jb *b, const struct corr_window *cw, const struct event_list *ev)
{
	const struct jwindow *w = cw->w;
	cJSON *o = jb_check(b, cJSON_CreateObject()), *h, *list, *sub;

	if (!o)
		return NULL;
	jb_num(b, o, "index", (double)w->index);
	jb_str(b, o, "action", w->action);
	jb_str(b, o, "params", w->params);
	jb_time(b, o, "begin", w->begin_ns);
	jb_time(b, o, "end", w->end_ns);
	jb_check(b, cJSON_AddBoolToObject(o, "open", w->open));
	jb_num(b, o, "planned_ms", (double)w->planned_ms);
	if (w->open)
		jb_check(b, cJSON_AddNullToObject(o, "actual_ms"));
	else
		jb_num(b, o, "actual_ms", w->actual_ms);
	if (!w->hits_known) {
		jb_check(b, cJSON_AddNullToObject(o, "hits"));
	} else {
		if ((h = jb_check(b, cJSON_AddObjectToObject(o, "hits")))) {
			jb_u64(b, h, "packets", w->hit_packets);
			jb_u64(b, h, "bytes", w->hit_bytes);
		}
	}
	jb_str(b, o, "reason", w->reason);
	jb_num(b, o, "errors", (double)cw->n_errors);
	jb_num(b, o, "unrelated_errors", (double)cw->unrelated);
	if (cw->n_errors)
		jb_num(b, o, "first_error_delay_ms", (double)(cw->first_delay_ns / 1000) / 1000.0);
	else
		jb_check(b, cJSON_AddNullToObject(o, "first_error_delay_ms"));
	jb_str(b, o, "expect", expect_name(w->expect));
	if (w->latency_ms > 0)
		jb_num(b, o, "injected_latency_ms", (double)w->latency_ms);
	else
		jb_check(b, cJSON_AddNullToObject(o, "injected_latency_ms"));
	jb_num(b, o, "calls", (double)cw->n_calls);
	jb_num(b, o, "calls_failed", (double)cw->calls_failed);
	jb_add(b, o, "latency", json_latency(b, &cw->lat));
	if ((sub = jb_check(b, cJSON_AddObjectToObject(o, "slower_rule")))) {
		jb_str(b, sub, "percentile", cw->by_p95 ? "p95" : "p50");
		jb_num(b, sub, "min_increase_ms", cw->need_ms);
	}
	if ((sub = jb_check(b, cJSON_AddObjectToObject(o, "evidence")))) {
		jb_check(b, cJSON_AddBoolToObject(sub, "errors", cw->errors_seen));
		jb_check(b, cJSON_AddBoolToObject(sub, "slower_calls", cw->slower));
	}
	jb_str(b, o, "diagnosis", diagnosis_name(cw->diag));
	jb_add(b, o, "error_types", json_types(b, ev, cw));
	if ((list = jb_check(b, cJSON_AddArrayToObject(o, "error_events")))) {
		for (size_t i = cw->first; i < cw->first + cw->n_errors; i++) {
			cJSON *e = jb_check(b, cJSON_CreateObject());
			char when[TIME_STRLEN];

			if (!e)
				break;
			jb_str(b, e, "ts", time_format_rfc3339(ev->v[i].ns, 9, when, sizeof(when)));
			jb_str(b, e, "type", ev->v[i].type);
			jb_str(b, e, "message", ev->v[i].text);
			jb_num(b, e, "delay_ms", (double)((ev->v[i].ns - w->begin_ns) / 1000) / 1000.0);
			jb_append(b, list, e);
		}
	}
	return o;
}

/* The --json report; its schema is documented in okx-faultctl(1). */
/* Everything but the windows, with "windows": [] where they go. */
static char *json_frame(const struct jread *j, const struct event_list *ev, const struct corr_report *r)
{
	struct jb b = { false };
	cJSON *root = jb_check(&b, cJSON_CreateObject()), *e, *g, *c;
	char *text = NULL;

	if (!root)
		return NULL;
	jb_num(&b, root, "version", REPORT_VERSION);
	jb_add(&b, root, "journal", json_journal(&b, j));
	if ((e = jb_check(&b, cJSON_AddObjectToObject(root, "events")))) {
		jb_str(&b, e, "path", ev->path);
		jb_str(&b, e, "form", form_name(ev->form));
		jb_num(&b, e, "count", (double)ev->n);
		if (ev->declared_count >= 0)
			jb_num(&b, e, "declared_count", (double)ev->declared_count);
		else
			jb_check(&b, cJSON_AddNullToObject(e, "declared_count"));
		jb_check(&b, cJSON_AddBoolToObject(e, "count_only", events_count_only(ev)));
	}
	if ((c = jb_check(&b, cJSON_AddObjectToObject(root, "calls")))) {
		jb_num(&b, c, "count", (double)ev->n_calls);
		jb_num(&b, c, "with_latency", (double)ev->calls_timed);
		jb_num(&b, c, "failed", (double)ev->calls_failed);
		jb_check(&b, cJSON_AddBoolToObject(c, "errors_from_calls", ev->errors_from_calls));
		jb_num(&b, c, "outside", (double)r->calls_outside);
		jb_add(&b, c, "outside_latency", json_latency(&b, &r->base));
	}
	jb_num(&b, root, "grace_ms", (double)(r->grace_ns / 1000000));
	jb_check(&b, cJSON_AddArrayToObject(root, "windows"));
	jb_num(&b, root, "errors_outside", (double)r->outside);
	jb_num(&b, root, "errors_shared", (double)r->shared);
	if ((g = jb_check(&b, cJSON_AddObjectToObject(root, "gate")))) {
		jb_check(&b, cJSON_AddBoolToObject(g, "pass", r->pass));
		jb_str(&b, g, "reason", r->reason);
	}
	if (!b.oom)
		text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

/* The report, one window at a time into the frame's "windows" array: the
 * memory it takes does not grow with the number of windows
 * (okx-faultctl(1), LIMITS). Returns 0 or -ENOMEM. */
static int json_report(FILE *f, const struct jread *j, const struct event_list *ev, const struct corr_report *r)
{
	static const char slot[] = "\"windows\":\t[]";
	char *frame = json_frame(j, ev, r), *at;
	int ret = -ENOMEM;

	if (!frame || !(at = strstr(frame, slot)))
		goto cleanup;
	fwrite(frame, 1, (size_t)(at - frame) + sizeof(slot) - 2, f);
	for (size_t i = 0; i < r->n; i++) {
		struct jb b = { false };
		cJSON *o = json_window(&b, &r->w[i], ev);
		char *text = o && !b.oom ? cJSON_PrintUnformatted(o) : NULL;

		cJSON_Delete(o);
		if (!text)
			goto cleanup;
		fprintf(f, "%s\n\t\t%s", i ? "," : "", text);
		free(text);
	}
	fprintf(f, "%s%s\n", r->n ? "\n\t" : "", at + sizeof(slot) - 2);
	ret = 0;
cleanup:
	free(frame);
	return ret;
}

/* Is `out` one of the inputs (the same file, whatever the path says)? It
 * would be overwritten before, or while, it is read. */
static bool output_is_input(const char *out, const char *const *in, size_t n)
{
	struct stat so, si;

	if (stat(out, &so) < 0 || !S_ISREG(so.st_mode))
		return false;
	for (size_t i = 0; i < n; i++)
		if (stat(in[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
			return true;
	return false;
}

/* The inputs' bytes, as read (a bundle archives what was correlated). */
struct drill_raw {
	char *journal, *events;
	size_t journal_len, events_len;
};

/* Read the journal and the events, each once, parse and correlate them.
 * raw (may be NULL) keeps the bytes read. Returns 0, or -1 once the error
 * is logged; j, ev and r are to be freed in either case. */
static int drill_load(const char *journal, const char *events, int64_t grace_ms, struct jread *j,
		      struct event_list *ev, struct corr_report *r, struct drill_raw *raw)
{
	struct drill_raw mine = { 0 };
	char *error = NULL;
	int ret;

	if (!raw)
		raw = &mine;
	if ((ret = read_whole_file(journal, &raw->journal, &raw->journal_len, &error)) < 0 ||
	    (ret = jread_buffer(j, journal, raw->journal, raw->journal_len, &error)) < 0)
		goto cleanup;
	print_warnings(j);
	if ((ret = read_whole_file(events, &raw->events, &raw->events_len, &error)) < 0 ||
	    (ret = events_buffer(ev, events, raw->events, raw->events_len, &error)) < 0)
		goto cleanup;
	if ((ret = correlate(j, ev, grace_ms * 1000000, r)) < 0)
		goto cleanup;
cleanup:
	if (ret < 0)
		log_errx("%s", error ? error : "out of memory");
	free(error);
	free(mine.journal);
	free(mine.events);
	return ret < 0 ? -1 : 0;
}

static int cmd_correlate(int argc, char **argv)
{
	struct correlate_opts o = { 0 };
	struct jread j = { 0 };
	struct event_list ev = { 0 };
	struct corr_report r = { 0 };
	int ret, code;

	code = correlate_parse(argc, argv, &o);
	if (code >= 0)
		return code;
	code = EXIT_BAD_INPUT;
	if (o.svg && output_is_input(o.svg, (const char *const[]){ o.journal, o.events }, 2)) {
		log_errx("--svg %s: that is an input file (the journal or the events); refusing to overwrite it", o.svg);
		goto cleanup;
	}
	if (drill_load(o.journal, o.events, o.grace_ms, &j, &ev, &r, NULL) < 0)
		goto cleanup;
	if (o.svg && (ret = svg_write_file(o.svg, &j, &ev, &r)) < 0) {
		log_errx("%s: %s", o.svg, strerror(-ret));
		goto cleanup;
	}
	if (o.json) {
		if (json_report(stdout, &j, &ev, &r) < 0) {
			log_errx("out of memory");
			goto cleanup;
		}
	} else {
		print_correlation(&j, &ev, &r, stdout);
	}
	code = r.pass ? EXIT_PASS : EXIT_GATE_FAIL;
cleanup:
	corr_report_free(&r);
	events_free(&ev);
	jread_free(&j);
	return code;
}

/* --- okx-faultctl bundle, verify (bundle.h) --- */

static const char *bundle_usage =
	"usage: okx-faultctl bundle --journal JOURNAL --events EVENTS [--grace DUR] -o BUNDLE\n";

/* A report rendered into memory: 0, or -ENOMEM/-EIO. */
struct rendered {
	char *text;
	size_t len;
};

static int render(struct rendered *out, int kind, const struct jread *j, const struct event_list *ev,
		  const struct corr_report *r)
{
	FILE *f = open_memstream(&out->text, &out->len);
	int ret = 0;

	if (!f)
		return -ENOMEM;
	if (kind == 't')
		print_correlation(j, ev, r, f);
	else if (kind == 'j')
		ret = json_report(f, j, ev, r);
	else
		ret = svg_write(f, j, ev, r);
	if (ferror(f) && !ret)
		ret = -ENOMEM;
	if (fclose(f) != 0 && !ret)
		ret = -ENOMEM;
	return ret;
}

static int cmd_bundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' }, { "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },         { "journal", required_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 },
	};
	const char *journal = NULL, *events = NULL, *out = NULL;
	int64_t grace_ms = DEFAULT_GRACE_MS;
	struct jread j = { 0 };
	struct event_list ev = { 0 };
	struct corr_report r = { 0 };
	struct drill_raw raw = { 0 };
	struct rendered txt = { 0 }, json = { 0 }, svg = { 0 };
	struct bundle_member m[5];
	struct bundle_info info;
	struct timespec now;
	char *error = NULL, hex[65];
	int c, ret, code = EXIT_BAD_INPUT;

	optind = 0;
	while ((c = getopt_long(argc, argv, "e:g:hj:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'e': events = optarg; break;
		case 'j': journal = optarg; break;
		case 'o': out = optarg; break;
		case 'g':
			if (!parse_grace(optarg, &grace_ms))
				return EXIT_BAD_INPUT;
			break;
		case 'h': fputs(bundle_usage, stdout); return EXIT_PASS;
		default: fputs(bundle_usage, stderr); return EXIT_BAD_INPUT;
		}
	}
	if (optind < argc) {
		log_errx("bundle: unexpected argument '%s'", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	if (!journal || !events || !out) {
		log_errx("bundle: --journal, --events and -o are required");
		fputs(bundle_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	/* refused before the inputs are read; bundle_write() creates it with
	 * O_EXCL|O_NOFOLLOW all the same */
	if (output_is_input(out, (const char *const[]){ journal, events }, 2)) {
		log_errx("-o %s: that is an input file (the journal or the events); refusing to overwrite it", out);
		return EXIT_BAD_INPUT;
	}
	if ((ret = safefile_check_new(out, false)) < 0) {
		log_errx("-o %s: %s", out, ret == -EEXIST ? "exists; refusing to overwrite it" : strerror(-ret));
		return EXIT_BAD_INPUT;
	}
	if (drill_load(journal, events, grace_ms, &j, &ev, &r, &raw) < 0)
		goto cleanup;
	if (render(&txt, 't', &j, &ev, &r) < 0 || render(&json, 'j', &j, &ev, &r) < 0 ||
	    render(&svg, 's', &j, &ev, &r) < 0) {
		log_errx("rendering the reports: out of memory");
		goto cleanup;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	m[0] = (struct bundle_member){ BUNDLE_JOURNAL, raw.journal, raw.journal_len };
	m[1] = (struct bundle_member){ ev.form == EVENTS_LINES ? "events.jsonl" : "events.json", raw.events,
				       raw.events_len };
	m[2] = (struct bundle_member){ BUNDLE_REPORT_TXT, txt.text, txt.len };
	m[3] = (struct bundle_member){ BUNDLE_REPORT_JSON, json.text, json.len };
	m[4] = (struct bundle_member){ BUNDLE_SVG, svg.text, svg.len };
	info = (struct bundle_info){
		.created_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
		.drill = j.name,
		.faultd_version = j.version,
		.faultd_commit = j.git_commit,
		.policy = j.policy,
		.policy_sha256 = j.policy_sha256,
		.journal_src = journal,
		.events_src = events,
		.grace_ms = grace_ms,
		.pass = r.pass,
		.reason = r.reason,
	};
	if (bundle_write(out, &info, m, sizeof(m) / sizeof(m[0]), &error) < 0) {
		log_errx("%s", error ? error : "out of memory");
		goto cleanup;
	}
	if ((ret = sha256_file_hex(out, hex)) < 0) {
		log_errx("%s: reading it back: %s", out, strerror(-ret));
		goto cleanup;
	}
	printf("bundle   %s: %zu members and %s\nsha256   %s\n", out, sizeof(m) / sizeof(m[0]), BUNDLE_MANIFEST, hex);
	printf("drill    %s (okx-faultd %s, git %s), policy sha256 %s\n", j.name, j.version ? j.version : "?",
	       j.git_commit ? j.git_commit : "?", j.policy_sha256 ? j.policy_sha256 : "?");
	printf("verdict  %s: %s\n", r.pass ? "PASS" : "FAIL", r.reason);
	code = EXIT_PASS;
cleanup:
	free(error);
	free(txt.text);
	free(json.text);
	free(svg.text);
	free(raw.journal);
	free(raw.events);
	corr_report_free(&r);
	events_free(&ev);
	jread_free(&j);
	return code;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	char *problems = NULL, *line, *save = NULL;
	size_t n = 0;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: okx-faultctl verify BUNDLE\n");
			return EXIT_PASS;
		}
		return EXIT_BAD_INPUT;
	}
	if (argc - optind != 1) {
		log_errx("usage: okx-faultctl verify BUNDLE");
		return EXIT_BAD_INPUT;
	}
	ret = bundle_verify(argv[optind], stdout, &problems);
	if (!ret)
		return EXIT_PASS;
	/* what was checked so far first, then why the bundle fails */
	fflush(stdout);
	for (line = strtok_r(problems, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		log_errx("%s", line);
	if (!problems)
		log_errx("%s: out of memory", argv[optind]);
	if (ret == -EBADMSG)
		log_errx("%s: NOT intact: %zu problem%s", argv[optind], n, n == 1 ? "" : "s");
	free(problems);
	return ret == -EBADMSG ? EXIT_NOT_INTACT : EXIT_BAD_INPUT;
}

/* --- okx-faultctl fleet --- */

static const char *fleet_usage =
	"usage: okx-faultctl fleet [--grace DUR] [--json] [--svg FILE]\n"
	"                          --host NAME (--journal JOURNAL [--events EVENTS | --no-events REASON]\n"
	"                                       | --absent REASON) ...\n";

/* A host's files and reason follow its --host. Returns -1 to go on, or an
 * exit code. */
static int fleet_parse(int argc, char **argv, struct fleet *f, const char **svg, bool *json)
{
	static const struct option opts[] = {
		{ "absent", required_argument, NULL, 'a' }, { "events", required_argument, NULL, 'e' },
		{ "grace", required_argument, NULL, 'g' },  { "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, 'H' },   { "journal", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },         { "no-events", required_argument, NULL, 'n' },
		{ "svg", required_argument, NULL, 's' },    { NULL, 0, NULL, 0 },
	};
	const char **slot, *what;
	int64_t grace_ms = DEFAULT_GRACE_MS;
	char err[FLEET_NAME_MAX + 128];
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "a:e:g:hH:j:", opts, NULL)) != -1) {
		switch (c) {
		case 'J': *json = true; continue;
		case 's': *svg = optarg; continue;
		case 'g':
			if (!parse_grace(optarg, &grace_ms))
				return EXIT_BAD_INPUT;
			continue;
		case 'h': fputs(fleet_usage, stdout); return EXIT_PASS;
		case 'H':
			ret = fleet_add(f, optarg);
			if (ret == -ENOMEM) {
				log_errx("out of memory");
				return EXIT_BAD_INPUT;
			}
			if (ret < 0) {
				log_errx("fleet: --host '%s': %s", optarg,
					 ret == -EEXIST ? "given twice" : "a name of 1 to 255 printable characters is needed");
				return EXIT_BAD_INPUT;
			}
			continue;
		case 'j': what = "--journal"; break;
		case 'e': what = "--events"; break;
		case 'a': what = "--absent"; break;
		case 'n': what = "--no-events"; break;
		default: fputs(fleet_usage, stderr); return EXIT_BAD_INPUT;
		}
		if (!f->n) {
			log_errx("fleet: %s %s before any --host", what, optarg);
			return EXIT_BAD_INPUT;
		}
		slot = c == 'j' ? &f->h[f->n - 1].journal
		     : c == 'e' ? &f->h[f->n - 1].events
		     : c == 'n' ? &f->h[f->n - 1].no_events
				: &f->h[f->n - 1].absent;
		if (*slot) {
			log_errx("fleet: host %s: %s given twice", f->h[f->n - 1].name, what);
			return EXIT_BAD_INPUT;
		}
		*slot = optarg;
	}
	if (optind < argc) {
		log_errx("fleet: unexpected argument '%s'", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	if (fleet_check(f, err, sizeof(err)) < 0) {
		log_errx("fleet: %s", err);
		fputs(fleet_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	f->grace_ns = grace_ms * 1000000;
	return -1;
}

/* Exit 0 when every host passes, 1 when one does not (a host whose files
 * cannot be read is a failing host, named), 2 on a usage error. */
static int cmd_fleet(int argc, char **argv)
{
	struct fleet f = { 0 };
	const char *svg = NULL, **inputs = NULL;
	bool json = false;
	size_t n_in = 0;
	int code, ret;

	code = fleet_parse(argc, argv, &f, &svg, &json);
	if (code >= 0)
		goto cleanup;
	code = EXIT_BAD_INPUT;
	inputs = calloc(2 * f.n, sizeof(*inputs));
	if (!inputs) {
		log_errx("out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < f.n; i++) {
		if (f.h[i].journal)
			inputs[n_in++] = f.h[i].journal;
		if (f.h[i].events)
			inputs[n_in++] = f.h[i].events;
	}
	if (svg && output_is_input(svg, inputs, n_in)) {
		log_errx("--svg %s: that is an input file (a journal or events); refusing to overwrite it", svg);
		goto cleanup;
	}
	if (fleet_run(&f) < 0) {
		log_errx("out of memory");
		goto cleanup;
	}
	if (svg && (ret = fleet_svg_file(&f, svg)) < 0) {
		log_errx("%s: %s", svg, strerror(-ret));
		goto cleanup;
	}
	if (json) {
		if (fleet_json(&f, stdout) < 0) {
			log_errx("out of memory");
			goto cleanup;
		}
	} else {
		fleet_print(&f, stdout);
	}
	code = f.pass ? EXIT_PASS : EXIT_GATE_FAIL;
cleanup:
	free(inputs);
	fleet_free(&f);
	return code;
}

/* --- main --- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	/* sorted */
	{ "bundle", cmd_bundle },
	{ "correlate", cmd_correlate },
	{ "fleet", cmd_fleet },
	{ "status", ctl_status },
	{ "stop", ctl_stop },
	{ "verify", cmd_verify },
	{ "watch", ctl_watch },
	{ "windows", cmd_windows },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: okx-faultctl windows JOURNAL\n"
		   "       okx-faultctl correlate --journal JOURNAL --events EVENTS [--grace DUR] [--json] [--svg FILE]\n"
		   "       okx-faultctl bundle --journal JOURNAL --events EVENTS [--grace DUR] -o BUNDLE\n"
		   "       okx-faultctl verify BUNDLE\n"
		   "       okx-faultctl fleet [--grace DUR] [--json] [--svg FILE]\n"
		   "                          --host NAME (--journal JOURNAL [--events EVENTS | --no-events REASON]\n"
		   "                                       | --absent REASON) ...\n"
		   "       okx-faultctl status [NAME] [--json] [--control-dir DIR]\n"
		   "       okx-faultctl watch NAME [--control-dir DIR]\n"
		   "       okx-faultctl stop NAME [--control-dir DIR]\n"
		   "       okx-faultctl -h | --help | -V | --version\n"
		   "\n"
		   "  windows     table of the fault windows of a drill journal\n"
		   "  correlate   match the connector's error events and call records against the windows,\n"
		   "              judge each by what its fault should cause; exit 0 when the gate passes,\n"
		   "              1 when it fails, 2 on bad input\n"
		   "  bundle      correlate and write the drill's evidence (journal, events, reports,\n"
		   "              timeline, MANIFEST.json with their SHA-256) into one tar.gz; exit 0 when\n"
		   "              written, whatever the verdict, 2 on bad input\n"
		   "  verify      check a bundle against its manifest; exit 0 intact, 1 not, 2 unreadable\n"
		   "  fleet       one drill across hosts: each host correlated, side by side, one verdict;\n"
		   "              exit 0 when every host passes, 1 otherwise, 2 on a usage error\n"
		   "  status      where a running drill is (no NAME: every running drill)\n"
		   "  watch       follow a running drill to its end; exit with the drill's exit code\n"
		   "  stop        end a running drill as its stop file would\n"
		   "See okx-faultctl(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	int c, code;

	log_init("okx-faultctl", LOG_LVL_INFO);
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_PASS;
		case 'V':
			printf("okx-faultctl %s (git %s)\n", OKX_VERSION, OKX_GIT_COMMIT);
			return EXIT_PASS;
		default:
			usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		code = commands[i].fn(argc - optind, argv + optind);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			log_warn("writing the output");
			code = EXIT_BAD_INPUT;
		}
		return code;
	}
	if (!strcmp(argv[optind], "help")) {
		usage(stdout);
		return EXIT_PASS;
	}
	log_errx("unknown command '%s'", argv[optind]);
	usage(stderr);
	return EXIT_BAD_INPUT;
}
