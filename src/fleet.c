/* SPDX-License-Identifier: MIT */
/* One drill across several hosts: each host correlated on its own, the
 * hosts side by side, one verdict (okx-faultctl(1), FLEET). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fleet.h"
#include "jbuild.h"
#include "svg.h"
#include "timeparse.h"

#define FLEET_REPORT_VERSION 1

static const char *const verdict_names[FLEET_N_VERDICTS] = {
	[FLEET_PASS] = "pass",           [FLEET_FAIL] = "fail",           [FLEET_ABSENT] = "absent",
	[FLEET_BAD_INPUT] = "bad_input", [FLEET_NO_EVENTS] = "no_events",
};

const char *fleet_verdict_name(enum fleet_verdict v)
{
	return (unsigned)v < FLEET_N_VERDICTS ? verdict_names[v] : "?";
}

int fleet_add(struct fleet *f, const char *name)
{
	struct fleet_host *h;
	size_t len = strlen(name);

	if (!len || len > FLEET_NAME_MAX)
		return -EINVAL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->h[i].name, name))
			return -EEXIST;
	h = reallocarray(f->h, f->n + 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	f->h = h;
	memset(&f->h[f->n], 0, sizeof(f->h[f->n]));
	f->h[f->n++].name = name;
	return 0;
}

int fleet_check(const struct fleet *f, char *err, size_t len)
{
	if (!f->n) {
		snprintf(err, len, "no host (--host NAME)");
		return -EINVAL;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];

		if (h->journal && h->absent) {
			snprintf(err, len, "host %s: --journal and --absent both given (a host has a journal or a reason it has none)",
				 h->name);
			return -EINVAL;
		}
		if (!h->journal && !h->absent) {
			snprintf(err, len, "host %s: neither --journal nor --absent given", h->name);
			return -EINVAL;
		}
		if ((h->events || h->no_events) && !h->journal) {
			snprintf(err, len, "host %s: --%s without --journal", h->name, h->events ? "events" : "no-events");
			return -EINVAL;
		}
		if (h->events && h->no_events) {
			snprintf(err, len, "host %s: --events and --no-events both given", h->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* *dst = printf(fmt, ...); -ENOMEM when it cannot be allocated */
static int set_text(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_text(char **dst, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* Without events nothing can be judged: every window's diagnosis is
 * "unknown" (a window that hit packets is not a telemetry gap when the
 * errors were never collected). */
static void unjudge(struct corr_report *r)
{
	memset(r->n_diag, 0, sizeof(r->n_diag));
	for (size_t i = 0; i < r->n; i++)
		r->w[i].diag = DIAG_UNKNOWN;
	r->n_diag[DIAG_UNKNOWN] = r->n;
	r->pass = false;
}

static int host_run(struct fleet_host *h, int64_t grace_ns)
{
	static const struct event_list no_events = { .path = NULL, .declared_count = -1 };
	char *error = NULL;
	int ret;

	if (h->absent) {
		h->verdict = FLEET_ABSENT;
		return set_text(&h->reason, "%s", h->absent);
	}
	ret = jread_file(&h->j, h->journal, &error);
	if (ret == -ENOMEM)
		goto cleanup;
	if (ret < 0) {
		h->verdict = FLEET_BAD_INPUT;
		ret = set_text(&h->reason, "%s", error ? error : h->journal);
		goto cleanup;
	}
	h->have_journal = true;
	if (h->events) {
		ret = events_file(&h->ev, h->events, &error);
		if (ret == -ENOMEM)
			goto cleanup;
		if (ret < 0) {
			h->verdict = FLEET_BAD_INPUT;
			ret = set_text(&h->reason, "%s", error ? error : h->events);
			goto cleanup;
		}
	}
	ret = correlate(&h->j, h->events ? &h->ev : &no_events, grace_ns, &h->r);
	if (ret < 0)
		goto cleanup;
	h->correlated = true;
	if (!h->events) {
		unjudge(&h->r);
		h->verdict = FLEET_NO_EVENTS;
		ret = set_text(&h->reason, "no connector events%s%s: its %zu window%s not judged",
			       h->no_events ? ": " : " given", h->no_events ? h->no_events : "", h->r.n,
			       h->r.n == 1 ? " is" : "s are");
	} else {
		h->verdict = h->r.pass ? FLEET_PASS : FLEET_FAIL;
		ret = set_text(&h->reason, "%s", h->r.reason);
	}
cleanup:
	free(error);
	return ret;
}

int fleet_run(struct fleet *f)
{
	size_t failing = 0, used = 0, cap = 0;
	char *list = NULL;
	int ret;

	memset(f->n_verdict, 0, sizeof(f->n_verdict));
	for (size_t i = 0; i < f->n; i++) {
		ret = host_run(&f->h[i], f->grace_ns);
		if (ret < 0)
			return ret;
		f->n_verdict[f->h[i].verdict]++;
	}
	f->pass = f->n > 0 && f->n_verdict[FLEET_PASS] == f->n;
	if (f->pass)
		return set_text(&f->reason, "every host's windows pass (%zu host%s)", f->n, f->n == 1 ? "" : "s");
	/* "charlie (fail), delta (absent)" */
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];
		size_t need;
		char *grown;

		if (h->verdict == FLEET_PASS)
			continue;
		need = used + strlen(h->name) + strlen(fleet_verdict_name(h->verdict)) + 6;
		if (need > cap) {
			cap = need * 2;
			grown = realloc(list, cap);
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		used += (size_t)snprintf(list + used, cap - used, "%s%s (%s)", failing ? ", " : "", h->name,
					 fleet_verdict_name(h->verdict));
		failing++;
	}
	ret = set_text(&f->reason, "%zu of %zu host%s fail%s: %s", failing, f->n, f->n == 1 ? "" : "s",
		       failing == 1 ? "s" : "", list ? list : "");
	free(list);
	return ret;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		jread_free(&f->h[i].j);
		events_free(&f->h[i].ev);
		corr_report_free(&f->h[i].r);
		free(f->h[i].reason);
	}
	free(f->h);
	free(f->reason);
	memset(f, 0, sizeof(*f));
}

/* --- what the hosts share: the timeline on their own clocks --- */

/* The earliest and latest of one instant across the hosts that have it
 * (start, armed): which hosts, and how far apart. */
struct spread {
	size_t n;
	int64_t lo, hi;
	const char *lo_host, *hi_host;
};

static void spread_add(struct spread *s, int64_t t, const char *host)
{
	if (!s->n || t < s->lo) {
		s->lo = t;
		s->lo_host = host;
	}
	if (!s->n || t > s->hi) {
		s->hi = t;
		s->hi_host = host;
	}
	s->n++;
}

static void fleet_spreads(const struct fleet *f, struct spread *start, struct spread *armed)
{
	memset(start, 0, sizeof(*start));
	memset(armed, 0, sizeof(*armed));
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];

		if (!h->have_journal)
			continue;
		spread_add(start, h->j.start_ns, h->name);
		if (h->j.armed)
			spread_add(armed, h->j.armed_ns, h->name);
	}
}

/* --- text --- */

static uint64_t host_hits(const struct fleet_host *h, bool *known)
{
	uint64_t sum = 0;

	*known = true;
	for (size_t i = 0; i < h->j.n_windows; i++) {
		if (!h->j.windows[i].hits_known)
			*known = false;
		sum += h->j.windows[i].hit_packets;
	}
	return sum;
}

static size_t host_errors(const struct fleet_host *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->r.n; i++)
		n += h->r.w[i].n_errors;
	return n;
}

static void print_hosts(const struct fleet *f, FILE *out)
{
	int wn = 4;

	for (size_t i = 0; i < f->n; i++)
		if ((int)strlen(f->h[i].name) > wn)
			wn = (int)strlen(f->h[i].name);
	fprintf(out, "%-*s  %-9s  %-27s  %7s  %10s  %6s  %s\n", wn, "HOST", "VERDICT", "ARMED", "WINDOWS", "HIT PKTS",
		"ERRORS", "REASON");
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];
		char armed[TIME_STRLEN] = "-", nw[24] = "-", hits[24] = "-", errs[24] = "-";
		bool known;

		if (h->have_journal) {
			uint64_t sum = host_hits(h, &known);

			if (h->j.armed)
				time_format_rfc3339(h->j.armed_ns, 6, armed, sizeof(armed));
			else
				snprintf(armed, sizeof(armed), "never");
			snprintf(nw, sizeof(nw), "%zu", h->j.n_windows);
			snprintf(hits, sizeof(hits), "%llu%s", (unsigned long long)sum, known ? "" : "+?");
		}
		if (h->correlated && h->events)
			snprintf(errs, sizeof(errs), "%zu", host_errors(h));
		fprintf(out, "%-*s  %-9s  %-27s  %7s  %10s  %6s  %s\n", wn, h->name, fleet_verdict_name(h->verdict), armed,
			nw, hits, errs, h->reason ? h->reason : "");
	}
}

static void print_host_windows(const struct fleet_host *h, FILE *out)
{
	char b[TIME_STRLEN], e[TIME_STRLEN];

	fprintf(out, "\n%s: %s", h->name, fleet_verdict_name(h->verdict));
	if (!h->have_journal) {
		fprintf(out, ": %s\n", h->reason ? h->reason : "");
		return;
	}
	fprintf(out, ", drill %s", h->j.name ? h->j.name : "?");
	if (h->j.host)
		fprintf(out, " on %s", h->j.host);
	fprintf(out, ", outcome %s", h->j.outcome ? h->j.outcome : "unknown (no end event)");
	if (h->j.outcome && h->j.exit_code >= 0)
		fprintf(out, " (exit %lld)", (long long)h->j.exit_code);
	fprintf(out, "\n  journal %s\n", h->journal);
	if (h->correlated && h->events)
		fprintf(out, "  events  %s (%zu error events, %zu outside every window)\n", h->events, h->ev.n,
			h->r.outside);
	for (size_t i = 0; i < h->j.n_warnings; i++)
		fprintf(out, "  warning %s\n", h->j.warnings[i]);
	if (!h->correlated)
		return;
	if (!h->r.n) {
		fprintf(out, "  (no fault windows)\n");
		return;
	}
	fprintf(out, "  %3s  %-7s  %-27s  %-27s  %10s  %6s  %11s  %s\n", "#", "ACTION", "BEGIN", "END", "PACKETS",
		"ERRORS", "FIRST ERROR", "DIAGNOSIS");
	for (size_t i = 0; i < h->r.n; i++) {
		const struct corr_window *cw = &h->r.w[i];
		const struct jwindow *w = cw->w;
		char pk[24] = "?", ne[24] = "-", first[32] = "-";

		if (w->hits_known)
			snprintf(pk, sizeof(pk), "%llu", (unsigned long long)w->hit_packets);
		if (h->events)
			snprintf(ne, sizeof(ne), "%zu", cw->n_errors);
		if (cw->n_errors)
			snprintf(first, sizeof(first), "+%.3fs", (double)cw->first_delay_ns / 1e9);
		fprintf(out, "  %3lld  %-7s  %-27s  %-27s  %10s  %6s  %11s  %s\n", (long long)w->index, w->action,
			time_format_rfc3339(w->begin_ns, 6, b, sizeof(b)), time_format_rfc3339(w->end_ns, 6, e, sizeof(e)),
			pk, ne, first, h->events ? diagnosis_name(cw->diag) : "-");
	}
}

static void print_spread(FILE *out, const char *what, const struct spread *s)
{
	char lo[TIME_STRLEN], hi[TIME_STRLEN];

	if (!s->n) {
		fprintf(out, "  %-7s no host\n", what);
		return;
	}
	time_format_rfc3339(s->lo, 6, lo, sizeof(lo));
	if (s->n == 1) {
		fprintf(out, "  %-7s %s (%s)\n", what, lo, s->lo_host);
		return;
	}
	fprintf(out, "  %-7s %s (%s) to %s (%s): %.3f s apart, %zu hosts\n", what, lo, s->lo_host,
		time_format_rfc3339(s->hi, 6, hi, sizeof(hi)), s->hi_host, (double)(s->hi - s->lo) / 1e9, s->n);
}

void fleet_print(const struct fleet *f, FILE *out)
{
	struct spread start, armed;
	bool first = true;

	fprintf(out, "fleet    %zu host%s:", f->n, f->n == 1 ? "" : "s");
	for (int v = 0; v < FLEET_N_VERDICTS; v++) {
		if (!f->n_verdict[v])
			continue;
		fprintf(out, "%s %zu %s", first ? "" : ",", f->n_verdict[v], fleet_verdict_name((enum fleet_verdict)v));
		first = false;
	}
	fprintf(out, "; grace %lldms\n\n", (long long)(f->grace_ns / 1000000));
	print_hosts(f, out);
	for (size_t i = 0; i < f->n; i++)
		print_host_windows(&f->h[i], out);
	fleet_spreads(f, &start, &armed);
	fprintf(out, "\ntimeline each host's own clock: the hosts' clocks must be synchronised (chrony)\n");
	print_spread(out, "started", &start);
	print_spread(out, "armed", &armed);
	fprintf(out, "verdict  %s: %s\n", f->pass ? "PASS" : "FAIL", f->reason ? f->reason : "");
}

/* --- JSON --- */

/* a time, or null when the host has none */
static void jb_time_or_null(struct jb *b, cJSON *o, const char *k, bool have, int64_t ns)
{
	if (have)
		jb_time(b, o, k, ns);
	else
		jb_str(b, o, k, NULL);
}

static void json_host_windows(struct jb *b, cJSON *a, const struct fleet_host *h)
{
	for (size_t i = 0; i < h->r.n; i++) {
		const struct corr_window *cw = &h->r.w[i];
		const struct jwindow *w = cw->w;
		cJSON *o = jb_check(b, cJSON_CreateObject()), *hits;

		if (!o || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			b->oom = true;
			return;
		}
		jb_num(b, o, "index", (double)w->index);
		jb_str(b, o, "action", w->action);
		jb_str(b, o, "params", w->params);
		jb_time_or_null(b, o, "begin", true, w->begin_ns);
		jb_time_or_null(b, o, "end", true, w->end_ns);
		jb_check(b, cJSON_AddBoolToObject(o, "open", w->open));
		if (!w->hits_known) {
			jb_check(b, cJSON_AddNullToObject(o, "hits"));
		} else if ((hits = jb_check(b, cJSON_AddObjectToObject(o, "hits")))) {
			jb_u64(b, hits, "packets", w->hit_packets);
			jb_u64(b, hits, "bytes", w->hit_bytes);
		}
		if (h->events)
			jb_num(b, o, "errors", (double)cw->n_errors);
		else
			jb_check(b, cJSON_AddNullToObject(o, "errors"));
		if (cw->n_errors)
			jb_num(b, o, "first_error_delay_ms", (double)(cw->first_delay_ns / 1000) / 1000.0);
		else
			jb_check(b, cJSON_AddNullToObject(o, "first_error_delay_ms"));
		jb_str(b, o, "diagnosis", h->events ? diagnosis_name(cw->diag) : NULL);
	}
}

static void json_host(struct jb *b, cJSON *o, const struct fleet_host *h)
{
	const struct jread *j = &h->j;
	cJSON *a;

	jb_str(b, o, "name", h->name);
	jb_str(b, o, "verdict", fleet_verdict_name(h->verdict));
	jb_str(b, o, "reason", h->reason);
	jb_str(b, o, "journal", h->journal);
	jb_str(b, o, "events", h->events);
	jb_str(b, o, "drill", h->have_journal ? j->name : NULL);
	jb_str(b, o, "host", h->have_journal ? j->host : NULL);
	jb_time_or_null(b, o, "start", h->have_journal, j->start_ns);
	jb_time_or_null(b, o, "armed", h->have_journal && j->armed, j->armed_ns);
	jb_str(b, o, "outcome", h->have_journal ? j->outcome : NULL);
	if (h->correlated && h->events) {
		jb_num(b, o, "error_events", (double)h->ev.n);
		jb_num(b, o, "errors_outside", (double)h->r.outside);
	} else {
		jb_check(b, cJSON_AddNullToObject(o, "error_events"));
		jb_check(b, cJSON_AddNullToObject(o, "errors_outside"));
	}
	if ((a = jb_check(b, cJSON_AddArrayToObject(o, "windows"))))
		json_host_windows(b, a, h);
	if ((a = jb_check(b, cJSON_AddArrayToObject(o, "warnings"))))
		for (size_t i = 0; h->have_journal && i < j->n_warnings; i++) {
			cJSON *s = jb_check(b, cJSON_CreateString(j->warnings[i]));

			if (s && !cJSON_AddItemToArray(a, s)) {
				cJSON_Delete(s);
				b->oom = true;
			}
		}
}

static void json_spread(struct jb *b, cJSON *root, const char *key, const struct spread *s)
{
	cJSON *o = jb_check(b, cJSON_AddObjectToObject(root, key));

	if (!o)
		return;
	jb_time_or_null(b, o, "first", s->n > 0, s->lo);
	jb_str(b, o, "first_host", s->n ? s->lo_host : NULL);
	jb_time_or_null(b, o, "last", s->n > 0, s->hi);
	jb_str(b, o, "last_host", s->n ? s->hi_host : NULL);
	if (s->n)
		jb_num(b, o, "spread_ms", (double)((s->hi - s->lo) / 1000) / 1000.0);
	else
		jb_check(b, cJSON_AddNullToObject(o, "spread_ms"));
}

int fleet_json(const struct fleet *f, FILE *out)
{
	struct jb b = { false };
	cJSON *root = jb_check(&b, cJSON_CreateObject()), *hosts, *gate, *list;
	struct spread start, armed;
	char *text = NULL;

	if (!root)
		return -ENOMEM;
	jb_num(&b, root, "version", FLEET_REPORT_VERSION);
	jb_str(&b, root, "kind", "fleet");
	jb_num(&b, root, "grace_ms", (double)(f->grace_ns / 1000000));
	if ((hosts = jb_check(&b, cJSON_AddArrayToObject(root, "hosts"))))
		for (size_t i = 0; i < f->n && !b.oom; i++) {
			cJSON *o = jb_check(&b, cJSON_CreateObject());

			if (o && !cJSON_AddItemToArray(hosts, o)) {
				cJSON_Delete(o);
				b.oom = true;
			} else if (o) {
				json_host(&b, o, &f->h[i]);
			}
		}
	fleet_spreads(f, &start, &armed);
	json_spread(&b, root, "started", &start);
	json_spread(&b, root, "armed", &armed);
	if ((gate = jb_check(&b, cJSON_AddObjectToObject(root, "gate")))) {
		jb_check(&b, cJSON_AddBoolToObject(gate, "pass", f->pass));
		jb_str(&b, gate, "reason", f->reason);
		if ((list = jb_check(&b, cJSON_AddArrayToObject(gate, "failing_hosts"))))
			for (size_t i = 0; i < f->n; i++) {
				cJSON *s;

				if (f->h[i].verdict == FLEET_PASS)
					continue;
				s = jb_check(&b, cJSON_CreateString(f->h[i].name));
				if (s && !cJSON_AddItemToArray(list, s)) {
					cJSON_Delete(s);
					b.oom = true;
				}
			}
	}
	if (!b.oom)
		text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}

/* --- SVG --- */

int fleet_svg_file(const struct fleet *f, const char *path)
{
	struct svg_lane *lanes = calloc(f->n ? f->n : 1, sizeof(*lanes));
	int ret;

	if (!lanes)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->h[i];

		lanes[i].name = h->name;
		lanes[i].verdict = fleet_verdict_name(h->verdict);
		lanes[i].pass = h->verdict == FLEET_PASS;
		lanes[i].reason = h->reason;
		if (h->correlated) {
			lanes[i].j = &h->j;
			lanes[i].ev = &h->ev;
			lanes[i].r = &h->r;
		}
	}
	ret = svg_write_lanes_file(path, lanes, f->n, f->pass, f->reason);
	free(lanes);
	return ret;
}
