/* SPDX-License-Identifier: MIT */
/* The drill as an SVG timeline (SVG 1.1, no scripts, no external files). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "timeparse.h"

#define W 1200
#define X0 90.0
#define X1 1170.0
#define Y_BAND0 112
#define Y_BAND1 176
/* without calls; with calls the latency panel goes under the bands and
 * what follows moves down by LAT_H */
#define Y_EV0_ 218
#define Y_EV1_ 258
#define Y_AXIS_ 278
#define Y_LEGEND_ 348
#define Y_LAT0 208  /* the latency panel: its top ... */
#define LAT_PLOT 100 /* ... the plot's height */
#define LAT_H 130
#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define N_TYPE_COLORS 7

struct view {
	int64_t t0, t1;     /* drawn range */
	int y_ev0, y_ev1, y_axis, y_legend;
	bool latency;       /* the latency panel: calls with a latency */
	double lat_max;     /* its scale, ms */
	int64_t origin;     /* "+0s": the journal's start */
	const char *types[N_TYPE_COLORS]; /* error types in order of appearance */
	size_t n_types;
	bool other_types, untyped;
};

static const struct {
	const char *action, *color;
} action_colors[] = {
	{ "delay", "#1f77b4" }, { "dns", "#2ca02c" }, { "drop", "#d62728" }, { "loss", "#9467bd" },
	{ "reject", "#ff7f0e" },
};
static const char *const type_colors[N_TYPE_COLORS] = {
	"#222222", "#e377c2", "#8c564b", "#17becf", "#bcbd22", "#7570b3", "#e6ab02",
};
#define OTHER_COLOR "#7f7f7f"
#define UNTYPED_COLOR "#555555"
#define ARMED_COLOR "#009e73"
#define CALL_COLOR "#4a6fa5"
#define FAILED_COLOR "#c62828"

/* Length of a valid UTF-8 sequence at p, 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void svg_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;

		if (*p < 0x80) {
			switch (*p) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&apos;", f); break;
			default: fputc(*p < 0x20 && *p != '\t' ? '?' : *p, f); break;
			}
			p++;
			continue;
		}
		n = utf8_len(p);
		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

static const char *action_color(const char *action)
{
	for (size_t i = 0; i < sizeof(action_colors) / sizeof(action_colors[0]); i++)
		if (!strcmp(action, action_colors[i].action))
			return action_colors[i].color;
	return OTHER_COLOR;
}

static const char *type_color(const struct view *v, const char *type)
{
	if (!type)
		return UNTYPED_COLOR;
	for (size_t i = 0; i < v->n_types; i++)
		if (!strcmp(v->types[i], type))
			return type_colors[i];
	return OTHER_COLOR;
}

static double xpos(const struct view *v, int64_t t)
{
	return X0 + (double)(t - v->t0) * (X1 - X0) / (double)(v->t1 - v->t0);
}

/* The latency axis: 0 to a round number (1, 2 or 5 times a power of ten)
 * at or above the slowest call drawn. */
static double lat_scale(const struct view *v, const struct event_list *ev)
{
	double max = 0, step = 1;

	for (size_t i = 0; i < ev->n_calls; i++)
		if (ev->calls[i].ns >= v->t0 && ev->calls[i].ns <= v->t1 && ev->calls[i].latency_ms > max)
			max = ev->calls[i].latency_ms;
	for (;;) {
		if (max <= step)
			return step;
		if (max <= 2 * step)
			return 2 * step;
		if (max <= 5 * step)
			return 5 * step;
		step *= 10;
	}
}

static void view_init(struct view *v, const struct jread *j, const struct event_list *ev, const struct corr_report *r)
{
	int64_t t1 = j->last_ns, pad;

	memset(v, 0, sizeof(*v));
	v->origin = v->t0 = j->start_ns;
	for (size_t i = 0; i < j->n_windows; i++)
		if (j->windows[i].end_ns + r->grace_ns > t1)
			t1 = j->windows[i].end_ns + r->grace_ns;
	if (t1 <= v->t0)
		t1 = v->t0 + 1000000000LL;
	/* show errors near the drill too, but not hours of unrelated log */
	pad = (t1 - v->t0) / 2;
	for (size_t e = 0; e < ev->n; e++) {
		if (ev->v[e].ns < v->t0 && ev->v[e].ns >= j->start_ns - pad)
			v->t0 = ev->v[e].ns;
		if (ev->v[e].ns > t1 && ev->v[e].ns <= j->last_ns + pad)
			t1 = ev->v[e].ns;
	}
	pad = (t1 - v->t0) / 40;
	v->t0 -= pad;
	v->t1 = t1 + pad;
	v->latency = ev->calls_timed > 0;
	v->y_ev0 = Y_EV0_ + (v->latency ? LAT_H : 0);
	v->y_ev1 = Y_EV1_ + (v->latency ? LAT_H : 0);
	v->y_axis = Y_AXIS_ + (v->latency ? LAT_H : 0);
	v->y_legend = Y_LEGEND_ + (v->latency ? LAT_H : 0);
	v->lat_max = lat_scale(v, ev);
	for (size_t e = 0; e < ev->n; e++) {
		const char *type = ev->v[e].type;
		bool known = false;

		if (!type) {
			v->untyped = true;
			continue;
		}
		for (size_t i = 0; i < v->n_types && !known; i++)
			known = !strcmp(v->types[i], type);
		if (known)
			continue;
		if (v->n_types < N_TYPE_COLORS)
			v->types[v->n_types++] = type;
		else
			v->other_types = true;
	}
}

/* "+90s", "+1.5s", "+12m", "+1h30m" */
static void rel_label(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "+%.3gs", (double)ms / 1000.0);
	else if (ms < 600000 || ms % 60000)
		snprintf(buf, len, "+%llds", (long long)(ms / 1000));
	else if (ms < 3600000 * 2LL || ms % 3600000)
		snprintf(buf, len, "+%lldm", (long long)(ms / 60000));
	else
		snprintf(buf, len, "+%lldh", (long long)(ms / 3600000));
}

static void draw_axis(FILE *f, const struct view *v)
{
	static const int64_t steps_ms[] = { 1,      2,      5,       10,      20,      50,      100,      200,
					    500,    1000,   2000,    5000,    10000,   15000,   30000,    60000,
					    120000, 300000, 600000,  900000,  1800000, 3600000, 7200000,  10800000,
					    21600000, 43200000, 86400000 };
	int64_t span_ms = (v->t1 - v->t0) / 1000000, step = steps_ms[0], t;
	char when[TIME_STRLEN], label[32];
	size_t i;

	for (i = 0; i < sizeof(steps_ms) / sizeof(steps_ms[0]); i++) {
		step = steps_ms[i];
		if (span_ms / step <= 10)
			break;
	}
	fprintf(f, "<g id=\"axis\" font-size=\"11\" fill=\"#333\">\n");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", X0, v->y_axis, X1, v->y_axis);
	/* first tick at or after t0, on a multiple of step from the origin */
	t = v->origin + ((v->t0 - v->origin) / (step * 1000000)) * step * 1000000;
	for (; t <= v->t1; t += step * 1000000) {
		double x;

		if (t < v->t0)
			continue;
		x = xpos(v, t);
		rel_label((t - v->origin) / 1000000, label, sizeof(label));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", x, v->y_axis, x, v->y_axis + 5);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, Y_BAND0 - 24, x, v->y_axis);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, v->y_axis + 18,
			t == v->origin ? "0" : label);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%d\">t0 = %s (journal start, UTC); ticks every %s</text>\n", X0, v->y_axis + 38,
		time_format_rfc3339(v->origin, 3, when, sizeof(when)), (rel_label(step, label, sizeof(label)), label + 1));
	fprintf(f, "</g>\n");
}

static void draw_windows(FILE *f, const struct view *v, const struct corr_report *r)
{
	fprintf(f, "<g id=\"windows\" font-size=\"12\">\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct corr_window *cw = &r->w[i];
		const struct jwindow *w = cw->w;
		const char *color = action_color(w->action);
		double xb = xpos(v, w->begin_ns), xe = xpos(v, w->end_ns), xg = xpos(v, w->end_ns + r->grace_ns);
		double wd = xe - xb < 1.5 ? 1.5 : xe - xb;
		int ly = Y_BAND0 - 8 - (int)(i % 2) * 14;
		char when[TIME_STRLEN];

		fprintf(f, "<g>\n<title>fault %lld: %s", (long long)w->index, w->action);
		if (w->params[0]) {
			fputc(' ', f);
			svg_escape(f, w->params);
		}
		fprintf(f, " from %s", time_format_rfc3339(w->begin_ns, 6, when, sizeof(when)));
		fprintf(f, " to %s%s", time_format_rfc3339(w->end_ns, 6, when, sizeof(when)), w->open ? " (open: end unknown)" : "");
		if (w->hits_known)
			fprintf(f, "; %llu packets, %llu bytes", (unsigned long long)w->hit_packets,
				(unsigned long long)w->hit_bytes);
		else
			fprintf(f, "; hits unknown");
		fprintf(f, "; %zu errors</title>\n", cw->n_errors);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.15\" "
			   "stroke=\"%s\" stroke-dasharray=\"3,3\"/>\n",
			xe, Y_BAND0, xg - xe, Y_BAND1 - Y_BAND0, color, color);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\"%s/>\n",
			xb, Y_BAND0, wd, Y_BAND1 - Y_BAND0, color, w->open ? "0.35" : "0.7", color,
			w->open ? " stroke-dasharray=\"6,3\"" : "");
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n", xb, ly + 3, xb, Y_BAND0, color);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"#222\">#%lld ", xb + 2, ly, (long long)w->index);
		svg_escape(f, w->action);
		if (w->open)
			fprintf(f, " \xc2\xb7 open, hits unknown</text>\n");
		else if (!w->hits_known)
			fprintf(f, " \xc2\xb7 hits unknown</text>\n");
		else
			fprintf(f, " \xc2\xb7 %llu pkts</text>\n", (unsigned long long)w->hit_packets);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" font-weight=\"bold\" fill=\"%s\">%s",
			xb + 2, Y_BAND1 + 14,
			cw->diag == DIAG_OK ? "#1a7f37" : cw->diag == DIAG_NO_TRAFFIC ? "#777" : "#c62828",
			diagnosis_name(cw->diag));
		if (cw->n_errors)
			fprintf(f, " \xc2\xb7 %zu err \xc2\xb7 +%.1fs", cw->n_errors, (double)cw->first_delay_ns / 1e9);
		fprintf(f, "</text>\n</g>\n");
	}
	fprintf(f, "</g>\n");
}

static void draw_events(FILE *f, const struct view *v, const struct event_list *ev, const struct corr_report *r)
{
	size_t before = 0, after = 0;
	char when[TIME_STRLEN];

	fprintf(f, "<g id=\"errors\">\n");
	for (size_t e = 0; e < ev->n; e++) {
		const struct error_event *x = &ev->v[e];
		const char *color = type_color(v, x->type);
		double px;

		if (x->ns < v->t0) {
			before++;
			continue;
		}
		if (x->ns > v->t1) {
			after++;
			continue;
		}
		px = xpos(v, x->ns);
		fprintf(f, "<g opacity=\"%s\"><title>%s ", r->in_window[e] ? "1" : "0.45",
			time_format_rfc3339(x->ns, 6, when, sizeof(when)));
		svg_escape(f, x->type ? x->type : "(no type)");
		if (x->text) {
			fputs(": ", f);
			svg_escape(f, x->text);
		}
		fprintf(f, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>"
			   "<circle cx=\"%.1f\" cy=\"%d\" r=\"3\" fill=\"%s\"/></g>\n",
			px, v->y_ev0, px, v->y_ev1, color, px, v->y_ev0, color);
	}
	if (before)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#555\">\xe2\x97\x80 %zu earlier</text>\n", X0 + 2,
			v->y_ev1 + 12, before);
	if (after)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#555\" text-anchor=\"end\">%zu later \xe2\x96\xb6</text>\n",
			X1 - 2, v->y_ev1 + 12, after);
	fprintf(f, "</g>\n");
}

static double ypos_lat(const struct view *v, double ms)
{
	return Y_LAT0 + LAT_PLOT - ms * LAT_PLOT / v->lat_max;
}

/* A dot per call with a latency at its end time (failed calls red), at
 * most one per pixel of each kind; the baseline's median as a dashed line,
 * each window's median inside as a line over its span. */
static int draw_latency(FILE *f, const struct view *v, const struct event_list *ev, const struct corr_report *r)
{
	size_t cols = (size_t)(X1 - X0) + 2, rows = LAT_PLOT + 2;
	uint8_t *seen;
	char label[32];

	if (!v->latency)
		return 0;
	seen = calloc(cols * rows, 1);
	if (!seen)
		return -ENOMEM;
	fprintf(f, "<g id=\"latency\" font-size=\"11\" fill=\"#444\">\n");
	for (int k = 0; k <= 2; k++) {
		double ms = v->lat_max * k / 2, y = ypos_lat(v, ms);

		snprintf(label, sizeof(label), "%g ms", ms);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", X0, y, X1, y,
			k ? "#eee" : "#999");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", X0 - 4, y + 4, label);
	}
	for (size_t i = 0; i < ev->n_calls; i++) {
		const struct call_record *c = &ev->calls[i];
		double x, y;
		size_t cell;

		if (c->latency_ms < 0 || c->ns < v->t0 || c->ns > v->t1)
			continue;
		x = xpos(v, c->ns);
		y = ypos_lat(v, c->latency_ms);
		cell = ((size_t)(x - X0) * rows + (size_t)(y - Y_LAT0)) % (cols * rows);
		if (seen[cell] & (c->failed ? 2 : 1))
			continue;
		seen[cell] |= c->failed ? 2 : 1;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"%s\"/>\n", x, y,
			c->failed ? FAILED_COLOR : CALL_COLOR);
	}
	free(seen);
	if (r->base.n)
		fprintf(f, "<g><title>calls outside every window: p50 %.1f ms, p95 %.1f ms (%zu calls)</title>"
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"4,3\"/></g>\n",
			r->base.p50, r->base.p95, r->base.n, X0, ypos_lat(v, r->base.p50), X1, ypos_lat(v, r->base.p50));
	for (size_t i = 0; i < r->n; i++) {
		const struct corr_window *cw = &r->w[i];
		double xb = xpos(v, cw->w->begin_ns), xe = xpos(v, cw->w->end_ns), y;

		if (!cw->lat.n)
			continue;
		y = ypos_lat(v, cw->lat.p50);
		fprintf(f, "<g><title>fault %lld: p50 %.1f ms, p95 %.1f ms inside (%zu calls)%s</title>"
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/></g>\n",
			(long long)cw->w->index, cw->lat.p50, cw->lat.p95, cw->lat.n, cw->slower ? ": slower" : "", xb, y,
			xe < xb + 3 ? xb + 3 : xe, y, action_color(cw->w->action));
	}
	fprintf(f, "</g>\n");
	return 0;
}

static void draw_armed(FILE *f, const struct view *v, const struct jread *j)
{
	char when[TIME_STRLEN];
	double x;

	if (!j->armed)
		return;
	x = xpos(v, j->armed_ns);
	fprintf(f, "<g id=\"armed\" font-size=\"11\" fill=\"%s\">\n", ARMED_COLOR);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
		   "stroke-dasharray=\"5,3\"/>\n",
		x, Y_BAND0 - 40, x, v->y_axis, ARMED_COLOR);
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">armed %s", x + (x > W / 2 ? -4 : 4), Y_BAND0 - 32,
		x > W / 2 ? "end" : "start", time_format_rfc3339(j->armed_ns, 3, when, sizeof(when)));
	if (j->trigger_dst) {
		fputs(" by ", f);
		svg_escape(f, j->trigger_src ? j->trigger_src : "?");
		fputs(" \xe2\x86\x92 ", f);
		svg_escape(f, j->trigger_dst);
		if (j->trigger_dport >= 0)
			fprintf(f, ":%lld", (long long)j->trigger_dport);
	}
	fprintf(f, "</text>\n</g>\n");
}

struct legend {
	FILE *f;
	double x;
	int y;
};

/* style: extra attributes of the swatch; NULL draws a dashed line instead */
static void legend_item(struct legend *l, const char *color, const char *label, const char *style)
{
	double w = 30 + 6.2 * (double)strlen(label);

	if (l->x + w > W - 10) {
		l->x = X0;
		l->y += 20;
	}
	if (style)
		fprintf(l->f, "<rect x=\"%.1f\" y=\"%d\" width=\"16\" height=\"10\" fill=\"%s\" %s/>", l->x, l->y - 9,
			color, style);
	else
		fprintf(l->f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
			      "stroke-dasharray=\"5,3\"/>",
			l->x, l->y - 4, l->x + 16, l->y - 4, color);
	fprintf(l->f, "<text x=\"%.1f\" y=\"%d\">", l->x + 20, l->y);
	svg_escape(l->f, label);
	fprintf(l->f, "</text>\n");
	l->x += w;
}

static int draw_legend(FILE *f, const struct view *v)
{
	struct legend l = { f, X0, v->y_legend };
	char label[96];

	fprintf(f, "<g id=\"legend\" font-size=\"11\" fill=\"#222\">\n");
	fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">legend</text>\n", l.y);
	for (size_t i = 0; i < sizeof(action_colors) / sizeof(action_colors[0]); i++)
		legend_item(&l, action_colors[i].color, action_colors[i].action, "fill-opacity=\"0.7\"");
	legend_item(&l, "#999", "grace after a fault", "fill-opacity=\"0.15\" stroke=\"#999\" stroke-dasharray=\"3,3\"");
	legend_item(&l, ARMED_COLOR, "armed", NULL);
	for (size_t i = 0; i < v->n_types; i++) {
		snprintf(label, sizeof(label), "error: %s", v->types[i]);
		legend_item(&l, type_colors[i], label, "");
	}
	if (v->other_types)
		legend_item(&l, OTHER_COLOR, "error: other types", "");
	if (v->untyped)
		legend_item(&l, UNTYPED_COLOR, "error: no type", "");
	legend_item(&l, "#555", "faded: outside every window", "fill-opacity=\"0.45\"");
	if (v->latency) {
		legend_item(&l, CALL_COLOR, "call: latency at its end", "");
		legend_item(&l, FAILED_COLOR, "failed call", "");
		legend_item(&l, "#555", "p50 of the calls outside every window", NULL);
		legend_item(&l, "#999", "p50 inside a window (fault colour)", "");
	}
	fprintf(f, "</g>\n");
	return l.y;
}

static void draw_header(FILE *f, const struct view *v, const struct jread *j, const struct event_list *ev,
			const struct corr_report *r)
{
	char when[TIME_STRLEN];

	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
	fprintf(f, "<text x=\"10\" y=\"28\" font-size=\"20\" font-weight=\"bold\" fill=\"#222\">drill ");
	svg_escape(f, j->name ? j->name : "?");
	fprintf(f, " <tspan fill=\"%s\">%s</tspan></text>\n", r->pass ? "#1a7f37" : "#c62828", r->pass ? "PASS" : "FAIL");
	fprintf(f, "<text x=\"10\" y=\"48\" font-size=\"13\" fill=\"#444\">");
	svg_escape(f, r->reason);
	fprintf(f, "</text>\n<text x=\"10\" y=\"66\" font-size=\"11\" fill=\"#666\">start %s",
		time_format_rfc3339(j->start_ns, 3, when, sizeof(when)));
	if (j->host) {
		fputs(" on ", f);
		svg_escape(f, j->host);
	}
	fputs(" \xc2\xb7 outcome ", f);
	svg_escape(f, j->outcome ? j->outcome : "unknown (no end event)");
	fprintf(f, " \xc2\xb7 %zu windows \xc2\xb7 %zu error events, %zu outside every window \xc2\xb7 grace %.3gs</text>\n",
		r->n, ev->n, r->outside, (double)r->grace_ns / 1e9);
	fprintf(f, "<g font-size=\"12\" font-weight=\"bold\" fill=\"#444\"><text x=\"10\" y=\"%d\">faults</text>"
		   "<text x=\"10\" y=\"%d\">errors</text>",
		(Y_BAND0 + Y_BAND1) / 2 + 4, (v->y_ev0 + v->y_ev1) / 2 + 4);
	if (v->latency)
		fprintf(f, "<text x=\"10\" y=\"%d\">latency</text>", Y_LAT0 + LAT_PLOT / 4 + 4);
	fprintf(f, "</g>\n");
}

/* The drawing is made into memory (m, over *body) first, since its height
 * is known only at the end; close m and write the document of height h to
 * f: "okx-faultd KIND[ NAME]: PASS|FAIL" as its title, then the drawing.
 * Frees *body in every case. */
static int svg_document(FILE *f, FILE *m, char **body, size_t *blen, int h, const char *kind, const char *name,
			bool pass)
{
	if (fclose(m) != 0) {
		free(*body);
		return -ENOMEM;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"%s\">\n",
		W, h, W, h, FONT);
	fprintf(f, "<title>okx-faultd %s", kind);
	if (name) {
		fputc(' ', f);
		svg_escape(f, name);
	}
	fprintf(f, ": %s</title>\n", pass ? "PASS" : "FAIL");
	fwrite(*body, 1, *blen, f);
	fprintf(f, "</svg>\n");
	free(*body);
	return ferror(f) ? -EIO : 0;
}

int svg_write(FILE *f, const struct jread *j, const struct event_list *ev, const struct corr_report *r)
{
	struct view v;
	char *body = NULL;
	size_t blen = 0;
	FILE *m;
	int h;

	view_init(&v, j, ev, r);
	/* the legend wraps as needed: draw into memory first, then size the image */
	m = open_memstream(&body, &blen);
	if (!m)
		return -ENOMEM;
	draw_header(m, &v, j, ev, r);
	draw_axis(m, &v);
	draw_windows(m, &v, r);
	if (draw_latency(m, &v, ev, r) < 0) {
		fclose(m);
		free(body);
		return -ENOMEM;
	}
	draw_events(m, &v, ev, r);
	draw_armed(m, &v, j);
	if (!r->n)
		fprintf(m, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" fill=\"#c62828\" text-anchor=\"middle\">"
			   "no fault window</text>\n",
			(X0 + X1) / 2, (Y_BAND0 + Y_BAND1) / 2);
	h = draw_legend(m, &v) + 16;
	return svg_document(f, m, &body, &blen, h, "drill", j->name ? j->name : "?", r->pass);
}

int svg_write_file(const char *path, const struct jread *j, const struct event_list *ev, const struct corr_report *r)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -errno;
	ret = svg_write(f, j, ev, r);
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	return ret;
}

/* --- a fleet: one lane per host on one time axis --- */

/* A lane is svg_write()'s drawing from LANE_TOP to LANE_TOP + LANE_H (plus
 * LAT_H with the latency panel), moved down into place; a host without a
 * journal gets a short one. */
#define LANE_TOP 44
#define LANE_H 290
#define LANE_H_EMPTY 56
#define LANES_Y0 80

/* svg_escape() of at most max bytes of s, cut on a character boundary and
 * ended with an ellipsis when cut. */
static void svg_escape_cut(FILE *f, const char *s, size_t max)
{
	size_t len = strlen(s);
	char *cut;

	if (len <= max) {
		svg_escape(f, s);
		return;
	}
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	cut = strndup(s, max);
	svg_escape(f, cut ? cut : "");
	fputs("\xe2\x80\xa6", f);
	free(cut);
}

/* One view for all lanes: the union of their ranges and error types; the
 * latency panel's legend when a lane has one. */
static void lanes_view(struct view *v, const struct svg_lane *lanes, size_t n)
{
	bool any = false;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		struct view lv;

		if (!lanes[i].j)
			continue;
		view_init(&lv, lanes[i].j, lanes[i].ev, lanes[i].r);
		if (!any) {
			*v = lv;
			any = true;
			continue;
		}
		v->t0 = lv.t0 < v->t0 ? lv.t0 : v->t0;
		v->t1 = lv.t1 > v->t1 ? lv.t1 : v->t1;
		v->origin = lv.origin < v->origin ? lv.origin : v->origin;
		for (size_t k = 0; k < lv.n_types; k++) {
			bool known = false;

			for (size_t m = 0; m < v->n_types && !known; m++)
				known = !strcmp(v->types[m], lv.types[k]);
			if (known)
				continue;
			if (v->n_types < N_TYPE_COLORS)
				v->types[v->n_types++] = lv.types[k];
			else
				v->other_types = true;
		}
		v->other_types |= lv.other_types;
		v->untyped |= lv.untyped;
		if (lv.latency) {
			v->latency = true;
			v->y_legend = lv.y_legend;
		}
	}
	if (!any) {
		v->t1 = 1000000000LL;
		v->y_legend = Y_LEGEND_;
	}
}

/* The lane's own view: its latency panel and scale, on the fleet's time
 * axis and colours. */
static void lane_view(struct view *lv, const struct view *v, const struct svg_lane *l)
{
	view_init(lv, l->j, l->ev, l->r);
	lv->t0 = v->t0;
	lv->t1 = v->t1;
	lv->origin = v->origin;
	memcpy(lv->types, v->types, sizeof(lv->types));
	lv->n_types = v->n_types;
	lv->other_types = v->other_types;
	lv->untyped = v->untyped;
	lv->lat_max = lat_scale(lv, l->ev);
}

/* Draws lane idx with its top at y. Returns its height, or -ENOMEM. */
static int draw_lane(FILE *f, const struct view *v, const struct svg_lane *l, size_t idx, int y)
{
	const char *reason = l->reason ? l->reason : "";
	/* the reason on one line, cut to what the width holds; whole in the
	 * lane's title (a tooltip) */
	int room = (int)((W - 20 - 9.5 * (double)(strlen(l->name) + strlen(l->verdict) + 2)) / 6.6), h = LANE_H_EMPTY;
	struct view lv;

	fprintf(f, "<g id=\"lane-%zu\" class=\"lane\" transform=\"translate(0,%d)\">\n<title>", idx, y - LANE_TOP);
	svg_escape(f, l->name);
	fprintf(f, ": %s: ", l->verdict);
	svg_escape(f, reason);
	fprintf(f, "</title>\n<text x=\"10\" y=\"%d\" font-size=\"15\" font-weight=\"bold\" fill=\"#222\">",
		LANE_TOP + 14);
	svg_escape(f, l->name);
	fprintf(f, " <tspan fill=\"%s\">%s</tspan> <tspan font-size=\"12\" font-weight=\"normal\" fill=\"#444\">",
		l->pass ? "#1a7f37" : "#c62828", l->verdict);
	svg_escape_cut(f, reason, room < 20 ? 20 : (size_t)room);
	fprintf(f, "</tspan></text>\n");
	if (l->j) {
		lane_view(&lv, v, l);
		h = LANE_H + (lv.latency ? LAT_H : 0);
		fprintf(f, "<g font-size=\"12\" font-weight=\"bold\" fill=\"#444\"><text x=\"10\" y=\"%d\">faults</text>"
			   "<text x=\"10\" y=\"%d\">errors</text>",
			(Y_BAND0 + Y_BAND1) / 2 + 4, (lv.y_ev0 + lv.y_ev1) / 2 + 4);
		if (lv.latency)
			fprintf(f, "<text x=\"10\" y=\"%d\">latency</text>", Y_LAT0 + LAT_PLOT / 4 + 4);
		fprintf(f, "</g>\n");
		draw_axis(f, &lv);
		draw_windows(f, &lv, l->r);
		if (draw_latency(f, &lv, l->ev, l->r) < 0)
			return -ENOMEM;
		draw_events(f, &lv, l->ev, l->r);
		draw_armed(f, &lv, l->j);
		if (!l->r->n)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" fill=\"#c62828\" text-anchor=\"middle\">"
				   "no fault window</text>\n",
				(X0 + X1) / 2, (Y_BAND0 + Y_BAND1) / 2);
	}
	fprintf(f, "<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>\n</g>\n", LANE_TOP + h - 4, W - 10,
		LANE_TOP + h - 4);
	return h;
}

int svg_write_lanes(FILE *f, const struct svg_lane *lanes, size_t n, bool pass, const char *reason)
{
	struct view v;
	char *body = NULL;
	size_t blen = 0;
	FILE *m;
	int y = LANES_Y0, h;

	lanes_view(&v, lanes, n);
	m = open_memstream(&body, &blen);
	if (!m)
		return -ENOMEM;
	fprintf(m, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
	fprintf(m, "<text x=\"10\" y=\"28\" font-size=\"20\" font-weight=\"bold\" fill=\"#222\">fleet drill, %zu host%s "
		   "<tspan fill=\"%s\">%s</tspan></text>\n",
		n, n == 1 ? "" : "s", pass ? "#1a7f37" : "#c62828", pass ? "PASS" : "FAIL");
	fprintf(m, "<text x=\"10\" y=\"48\" font-size=\"13\" fill=\"#444\">");
	svg_escape(m, reason ? reason : "");
	fprintf(m, "</text>\n<text x=\"10\" y=\"66\" font-size=\"11\" fill=\"#666\">one lane per host, one time axis: "
		   "each host's own clock (the hosts' clocks must be synchronised)</text>\n");
	for (size_t i = 0; i < n; i++) {
		h = draw_lane(m, &v, &lanes[i], i, y);
		if (h < 0) {
			fclose(m);
			free(body);
			return h;
		}
		y += h;
	}
	fprintf(m, "<g transform=\"translate(0,%d)\">\n", y + 20 - v.y_legend);
	h = y + 20 - v.y_legend + draw_legend(m, &v) + 16;
	fprintf(m, "</g>\n");
	return svg_document(f, m, &body, &blen, h, "fleet drill", NULL, pass);
}

int svg_write_lanes_file(const char *path, const struct svg_lane *lanes, size_t n, bool pass, const char *reason)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -errno;
	ret = svg_write_lanes(f, lanes, n, pass, reason);
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	return ret;
}
