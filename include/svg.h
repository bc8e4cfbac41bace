/* SPDX-License-Identifier: MIT */
#ifndef OKX_SVG_H
#define OKX_SVG_H

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

/* Print s XML-escaped (for text and attribute values). */
void svg_escape(FILE *f, const char *s);

#endif
