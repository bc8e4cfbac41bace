/* SPDX-License-Identifier: MIT */
#ifndef OKX_CLOCK_H
#define OKX_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One moment read from both clocks: `real` for the journal's UTC time
 * stamps, `mono` for durations and timers (CLOCK_MONOTONIC). */
struct stamp {
	struct timespec real;
	struct timespec mono;
};

#define RFC3339_LEN 32 /* "2026-11-28T03:41:00.017123Z" + NUL, with room */

void stamp_now(struct stamp *s);
uint64_t timespec_ns(const struct timespec *t);
uint64_t mono_now_ns(void);
/* UTC RFC 3339 with microseconds and "Z". Returns buf. */
char *rfc3339_us(const struct timespec *t, char *buf, size_t len);
/* "20261128T034100Z", for default journal names. */
char *utc_compact(const struct timespec *t, char *buf, size_t len);
/* Milliseconds between two monotonic readings, as a double (b - a). */
double mono_diff_ms(const struct timespec *a, const struct timespec *b);

#endif
