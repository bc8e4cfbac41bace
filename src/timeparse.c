/* SPDX-License-Identifier: MIT */
/* RFC 3339 and epoch-number times, policy-style durations. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timeparse.h"

#define NS_PER_S 1000000000LL

static bool fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Count in 400-year eras starting on March 1st, so the leap day is
	 * the last day of a "year" and month lengths follow a fixed pattern. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* exactly n decimal digits */
static bool take_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool take_char(const char **p, const char *set)
{
	if (**p && strchr(set, **p)) {
		(*p)++;
		return true;
	}
	return false;
}

/* minute of the UTC day: leap seconds are inserted at 23:59:60 UTC */
static int utc_minute(unsigned hh, unsigned mm, int sign, unsigned oh, unsigned om)
{
	int m = (int)(hh * 60 + mm) - sign * (int)(oh * 60 + om);

	return (m % 1440 + 1440) % 1440;
}

bool time_parse_rfc3339(const char *s, int64_t *ns, char *err, size_t errlen)
{
	const char *p = s;
	unsigned year, mon, day, hh, mm, ss, oh = 0, om = 0;
	int64_t frac = 0, secs, days, total;
	int fdigits = 0, sign = 0;

	if (!take_digits(&p, 4, &year) || !take_char(&p, "-") || !take_digits(&p, 2, &mon) ||
	    !take_char(&p, "-") || !take_digits(&p, 2, &day))
		return fail(err, errlen, "bad time '%s': expected YYYY-MM-DD at the start", s);
	if (!take_char(&p, "Tt "))
		return fail(err, errlen, "bad time '%s': expected 'T' after the date", s);
	if (!take_digits(&p, 2, &hh) || !take_char(&p, ":") || !take_digits(&p, 2, &mm) ||
	    !take_char(&p, ":") || !take_digits(&p, 2, &ss))
		return fail(err, errlen, "bad time '%s': expected hh:mm:ss after the date", s);
	if (take_char(&p, ".")) {
		while (*p >= '0' && *p <= '9') {
			if (++fdigits > 9)
				return fail(err, errlen, "bad time '%s': more than 9 fractional digits", s);
			frac = frac * 10 + (*p++ - '0');
		}
		if (fdigits == 0)
			return fail(err, errlen, "bad time '%s': no digits after '.'", s);
		for (int i = fdigits; i < 9; i++)
			frac *= 10;
	}
	if (take_char(&p, "Zz")) {
		sign = 0;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!take_digits(&p, 2, &oh) || !take_char(&p, ":") || !take_digits(&p, 2, &om))
			return fail(err, errlen, "bad time '%s': bad UTC offset, expected +hh:mm or -hh:mm", s);
		if (oh > 23 || om > 59)
			return fail(err, errlen, "bad time '%s': UTC offset out of range", s);
	} else {
		return fail(err, errlen, "bad time '%s': missing time zone ('Z' or +hh:mm)", s);
	}
	if (*p)
		return fail(err, errlen, "bad time '%s': unexpected '%s' at the end", s, p);
	if (mon < 1 || mon > 12)
		return fail(err, errlen, "bad time '%s': month %02u out of range", s, mon);
	if (day < 1 || day > month_days(year, mon))
		return fail(err, errlen, "bad time '%s': day %02u out of range for %04u-%02u", s, day, year, mon);
	if (hh > 23 || mm > 59)
		return fail(err, errlen, "bad time '%s': time of day out of range", s);
	if (ss > 60 || (ss == 60 && utc_minute(hh, mm, sign, oh, om) != 23 * 60 + 59))
		return fail(err, errlen, "bad time '%s': second %02u out of range", s, ss);

	days = days_from_civil(year, mon, day);
	secs = days * 86400 + hh * 3600 + mm * 60 + ss;
	secs -= sign * (int64_t)(oh * 3600 + om * 60);
	if (__builtin_mul_overflow(secs, NS_PER_S, &total) || __builtin_add_overflow(total, frac, &total))
		return fail(err, errlen, "bad time '%s': out of range (1677..2262)", s);
	*ns = total;
	return true;
}

bool time_from_epoch(double v, int64_t *ns, char *err, size_t errlen)
{
	static const struct {
		double below;
		int64_t mult;
	} units[] = { { 1e11, NS_PER_S }, { 1e14, 1000000 }, { 1e17, 1000 }, { INFINITY, 1 } };
	double ip, fp;
	int64_t whole, total;
	size_t i;

	if (!isfinite(v))
		return fail(err, errlen, "bad epoch time: not a finite number");
	if (v < 0)
		return fail(err, errlen, "bad epoch time %.17g: negative", v);
	for (i = 0; v >= units[i].below; i++)
		;
	fp = modf(v, &ip);
	/* 2^63 is exactly representable: anything at or above it overflows */
	if (ip >= 9223372036854775808.0)
		return fail(err, errlen, "bad epoch time %.17g: out of range", v);
	whole = (int64_t)ip;
	if (__builtin_mul_overflow(whole, units[i].mult, &total) ||
	    __builtin_add_overflow(total, llround(fp * (double)units[i].mult), &total))
		return fail(err, errlen, "bad epoch time %.17g: out of range", v);
	*ns = total;
	return true;
}

char *time_format_rfc3339(int64_t ns, int digits, char *buf, size_t len)
{
	int64_t secs = ns / NS_PER_S, sub = ns % NS_PER_S, days, tod, y;
	unsigned m, d;
	int n;

	if (sub < 0) {
		sub += NS_PER_S;
		secs--;
	}
	days = secs / 86400;
	tod = secs % 86400;
	if (tod < 0) {
		tod += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d, (int)(tod / 3600),
		     (int)(tod / 60 % 60), (int)(tod % 60));
	if (n < 0 || (size_t)n >= len)
		return buf;
	if (digits > 9)
		digits = 9;
	if (digits > 0) {
		char frac[10];

		snprintf(frac, sizeof(frac), "%09lld", (long long)sub);
		frac[digits] = '\0';
		n += snprintf(buf + n, len - (size_t)n, ".%s", frac);
		if ((size_t)n >= len)
			return buf;
	}
	snprintf(buf + n, len - (size_t)n, "Z");
	return buf;
}

bool time_in_drill_range(int64_t ns, const char *what, char *err, size_t errlen)
{
	if (ns >= DRILL_TIME_MIN_NS && ns < DRILL_TIME_MAX_NS)
		return true;
	snprintf(err, errlen, "time '%s' is outside 1970..2199", what);
	return false;
}
