/* SPDX-License-Identifier: MIT */
#ifndef OKX_SVG_H
#define OKX_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "correlate.h"
#include "events.h"
#include "journal_read.h"

/* Draw a drill as a self-contained SVG timeline: the fault windows as bands
 * coloured by action (with their grace as a paler tail), the error events
 * as ticks coloured by type, the call records' latencies (when given) as
 * dots in a panel under the bands, with the median outside every window
 * and each window's median inside, the arming moment, a time axis relative to the
 * journal's start, a legend, and the verdict in the title. All text is
 * XML-escaped (invalid UTF-8 and control characters become '?'). */

/* Returns 0, or -EIO when writing to f failed. */
int svg_write(FILE *f, const struct jread *j, const struct event_list *ev, const struct corr_report *r);

/* Write to PATH (created or truncated). Returns 0 or -errno. */
int svg_write_file(const char *path, const struct jread *j, const struct event_list *ev,
		   const struct corr_report *r);

/* One lane of a fleet's timeline (okx-faultctl fleet): a host's drill, or
 * a host without one (j NULL) and why. */
struct svg_lane {
	const char *name;             /* the host */
	const char *verdict;          /* "pass", "fail", "absent", ... */
	bool pass;
	const char *reason;           /* one line */
	const struct jread *j;        /* NULL: nothing to draw but the reason */
	const struct event_list *ev;  /* with j */
	const struct corr_report *r;  /* with j */
};

/* The lanes one under another on one time axis (the hosts' own clocks),
 * the fleet's verdict in the title. Returns 0, -ENOMEM, or -EIO when
 * writing to f failed. */
int svg_write_lanes(FILE *f, const struct svg_lane *lanes, size_t n, bool pass, const char *reason);

/* The same to PATH (created or truncated). Returns 0 or -errno. */
int svg_write_lanes_file(const char *path, const struct svg_lane *lanes, size_t n, bool pass, const char *reason);

/* Print s XML-escaped (for text and attribute values). */
void svg_escape(FILE *f, const char *s);

#endif
