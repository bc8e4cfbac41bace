/* SPDX-License-Identifier: MIT */
#ifndef OKX_TIMEPARSE_H
#define OKX_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Times are int64 nanoseconds since 1970-01-01T00:00:00Z, leap seconds not
 * counted (POSIX time). That covers 1677-09-21 .. 2262-04-11; anything
 * outside is rejected as out of range.
 *
 * Parsers return true on success; on failure they return false and write a
 * one-line message that quotes the offending token into err (errlen bytes,
 * may be 0). */

#define TIME_STRLEN 40 /* "2026-11-28T03:41:00.017123456Z" + NUL, with room */

/* RFC 3339 date-time: YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.frac]('Z'|'z'|+hh:mm|-hh:mm).
 * 0..9 fractional digits (more is an error: nothing finer than a
 * nanosecond is kept, and silently dropping digits hides bad input). A leap
 * second (ss = 60) is accepted only where one can be, at 23:59:60 UTC
 * (05:29:60+05:30), and counts as the first second of the next day, as
 * POSIX time does. */
bool time_parse_rfc3339(const char *s, int64_t *ns, char *err, size_t errlen);

/* An epoch time given as a JSON number. The unit is chosen by magnitude:
 *   v < 1e11  seconds       (up to year 5138)
 *   v < 1e14  milliseconds  (from 1973-03-03)
 *   v < 1e17  microseconds  (from 1973-03-03)
 *   otherwise nanoseconds   (from 1973-03-03)
 * Fractions are kept down to what a double holds (about 0.25 us for
 * seconds in this century). Negative, non-finite or out-of-range values are
 * errors. */
bool time_from_epoch(double v, int64_t *ns, char *err, size_t errlen);

/* Drill journals and connector events are read only within 1970..2200:
 * then every difference of two instants, and an instant plus any grace,
 * stays far inside int64 nanoseconds (a fuzzer found the overflow that
 * years such as 1708 and 2026 together cause). False, with a message
 * quoting `what`, outside that range. */
#define DRILL_TIME_MIN_NS 0LL                      /* 1970-01-01T00:00:00Z */
#define DRILL_TIME_MAX_NS 7258118400000000000LL    /* 2200-01-01T00:00:00Z */
bool time_in_drill_range(int64_t ns, const char *what, char *err, size_t errlen);

/* Format ns as UTC RFC 3339 with `digits` (0..9) fractional digits and "Z".
 * Returns buf. */
char *time_format_rfc3339(int64_t ns, int digits, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
