/* SPDX-License-Identifier: MIT */
/* Durations and percentages as written in policy files. */
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "policy.h"

static const struct {
	const char *name;
	uint64_t ms;
} units[] = {
	/* largest first: duration_format() picks the first that divides */
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum duration_err duration_check(const char *s, uint64_t *ms)
{
	uint64_t n = 0, mult = 0;
	bool big = false;
	size_t i;

	if (!is_digit(*s))
		return DUR_SYNTAX;
	for (; is_digit(*s); s++) {
		/* anything above 24 h in ms is out of range whatever the unit */
		if (n > DURATION_MAX_MS)
			big = true;
		else
			n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '\0')
		return DUR_NO_UNIT;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].name) == 0)
			mult = units[i].ms;
	if (!mult) {
		/* "1.5s", "1 s", "1e3s" are syntax errors; "10x" a bad unit */
		for (; *s; s++)
			if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
				return DUR_SYNTAX;
		return DUR_BAD_UNIT;
	}
	if (big || n == 0 || n > DURATION_MAX_MS / mult)
		return DUR_RANGE;
	*ms = n * mult;
	return DUR_OK;
}

bool duration_parse(const char *s, uint64_t *ms)
{
	return duration_check(s, ms) == DUR_OK;
}

void duration_format(uint64_t ms, char *buf, size_t len)
{
	size_t i;

	if (!len)
		return;
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].name);
			return;
		}
	}
}

bool percent_parse(const char *s, uint32_t *pct)
{
	uint32_t whole = 0, frac = 0, scale = PCT_SCALE;
	int digits = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		whole = whole * 10 + (uint32_t)(*s - '0');
		if (whole > 100)
			return false;
	}
	if (*s == '.') {
		s++;
		for (; is_digit(*s); s++) {
			if (++digits > 3)
				return false;
			scale /= 10;
			frac += (uint32_t)(*s - '0') * scale;
		}
		if (!digits)
			return false;
	}
	if (*s == '%')
		s++;
	if (*s != '\0')
		return false;
	if (whole * PCT_SCALE + frac > PCT_MAX)
		return false;
	*pct = whole * PCT_SCALE + frac;
	return true;
}

void percent_format(uint32_t pct, char *buf, size_t len)
{
	uint32_t frac = pct % PCT_SCALE;
	int digits = 3;

	if (!len)
		return;
	if (!frac) {
		snprintf(buf, len, "%u", pct / PCT_SCALE);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%u.%0*u", pct / PCT_SCALE, digits, frac);
}
