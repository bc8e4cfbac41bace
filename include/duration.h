/* SPDX-License-Identifier: MIT */
#ifndef OKX_DURATION_H
#define OKX_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_MS (24ull * 3600 * 1000)
#define DURATION_STRLEN 32 /* enough for any duration_format() output */
#define PERCENT_STRLEN 16  /* enough for any percent_format() output */

enum duration_err {
	DUR_OK = 0,
	DUR_SYNTAX,   /* not "INTEGER UNIT" (sign, decimals, spaces, empty) */
	DUR_NO_UNIT,  /* a bare integer */
	DUR_BAD_UNIT, /* an integer followed by something other than ms|s|m|h */
	DUR_RANGE,    /* syntactically fine but outside 1 ms .. 24 h */
};

/* "INTEGER UNIT", unit ms|s|m|h, no sign, no decimals, no spaces, from 1 ms
 * to 24 h. duration_check() says why a string is rejected; *ms is set only
 * on DUR_OK. A zero duration ("0s") gives DUR_RANGE with *ms untouched. */
enum duration_err duration_check(const char *s, uint64_t *ms);
bool duration_parse(const char *s, uint64_t *ms);

/* Canonical form: the largest unit that divides ms exactly (120000 -> "2m",
 * 90000 -> "90s", 1500 -> "1500ms"); 0 -> "0s". */
void duration_format(uint64_t ms, char *buf, size_t len);

/* "0".."100" with up to 3 decimals and an optional trailing '%'; the result
 * is in thousandths of a percent (PCT_SCALE in policy.h). */
bool percent_parse(const char *s, uint32_t *pct);

/* Minimal form: 30000 -> "30", 500 -> "0.5", 12345 -> "12.345". */
void percent_format(uint32_t pct, char *buf, size_t len);

#endif
