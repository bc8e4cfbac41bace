/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "timeparse.h"

#define T0 1795837260000000000LL /* 2026-11-28T03:41:00Z */

/* Criterion may run each test in a re-executed process (other addresses):
 * parameters hold their strings, not pointers. */
struct good {
	char s[48];
	int64_t ns;
};

ParameterizedTestParameters(rfc3339, good)
{
	static struct good cases[] = {
		{ "2026-11-28T03:41:00.017123Z", T0 + 17123000 },
		{ "2026-11-28T03:41:00Z", T0 },
		{ "2026-11-28t03:41:00z", T0 },
		{ "2026-11-28 03:41:00Z", T0 },
		{ "2026-11-28T09:11:00+05:30", T0 },
		{ "2026-11-27T19:41:00-08:00", T0 },
		{ "2026-11-28T03:41:00+00:00", T0 },
		{ "2026-11-28T03:41:00-00:00", T0 },
		/* 0..9 fractional digits */
		{ "2026-11-28T03:41:00.5Z", T0 + 500000000 },
		{ "2026-11-28T03:41:00.05Z", T0 + 50000000 },
		{ "2026-11-28T03:41:00.017Z", T0 + 17000000 },
		{ "2026-11-28T03:41:00.0171234Z", T0 + 17123400 },
		{ "2026-11-28T03:41:00.017123456Z", T0 + 17123456 },
		{ "2026-11-28T03:41:00.000000001Z", T0 + 1 },
		{ "2026-11-28T03:41:00.999999999Z", T0 + 999999999 },
		{ "2026-11-28T09:11:00.25+05:30", T0 + 250000000 },
		/* calendar edges */
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1969-12-31T23:59:59Z", -1000000000LL },
		{ "2024-02-29T00:00:00Z", 1709164800000000000LL },
		{ "2000-02-29T12:00:00Z", 951825600000000000LL },
		/* leap second: counted as the next day's first second, like POSIX */
		{ "2016-12-31T23:59:60Z", 1483228800000000000LL },
		{ "2016-12-31T23:59:60.5Z", 1483228800500000000LL },
		{ "2017-01-01T05:29:60+05:30", 1483228800000000000LL },
		/* the int64 range */
		{ "2262-04-11T23:47:16.854775807Z", INT64_MAX },
		{ "1677-09-21T00:12:44Z", -9223372036000000000LL },
	};
	return cr_make_param_array(struct good, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct good *c, rfc3339, good)
{
	char err[128] = "";
	int64_t ns = 42;

	cr_assert(time_parse_rfc3339(c->s, &ns, err, sizeof(err)), "%s: %s", c->s, err);
	cr_assert_eq(ns, c->ns, "%s: got %lld, want %lld", c->s, (long long)ns, (long long)c->ns);
}

struct bad {
	char s[48];
	char msg[48]; /* expected in the message */
};

ParameterizedTestParameters(rfc3339, bad)
{
	static struct bad cases[] = {
		{ "", "expected YYYY-MM-DD" },
		{ "2026-11-28", "expected 'T'" },
		{ "2026-11-28T03:41Z", "expected hh:mm:ss" },
		{ "2026-11-28T03:41:00", "missing time zone" },
		{ "2026-11-28T03:41:00.Z", "no digits after '.'" },
		{ "2026-11-28T03:41:00.0171234567Z", "more than 9 fractional digits" },
		{ "2026-11-28T03:41:00+0530", "bad UTC offset" },
		{ "2026-11-28T03:41:00+5:30", "bad UTC offset" },
		{ "2026-11-28T03:41:00+24:00", "offset out of range" },
		{ "2026-11-28T03:41:00+05:60", "offset out of range" },
		{ "2026-11-28T03:41:00Z ", "unexpected ' ' at the end" },
		{ "2026-11-28T03:41:00ZZ", "unexpected 'Z' at the end" },
		{ "2026-13-01T00:00:00Z", "month 13 out of range" },
		{ "2026-00-01T00:00:00Z", "month 00 out of range" },
		{ "2026-11-31T00:00:00Z", "day 31 out of range for 2026-11" },
		{ "2023-02-29T00:00:00Z", "day 29 out of range for 2023-02" },
		{ "1900-02-29T00:00:00Z", "day 29 out of range for 1900-02" },
		{ "2026-11-00T00:00:00Z", "day 00 out of range" },
		{ "2026-11-28T24:00:00Z", "time of day out of range" },
		{ "2026-11-28T23:60:00Z", "time of day out of range" },
		{ "2026-11-28T12:00:60Z", "second 60 out of range" },
		{ "2026-11-28T23:59:61Z", "second 61 out of range" },
		{ "26-11-28T03:41:00Z", "expected YYYY-MM-DD" },
		{ "2026/11/28T03:41:00Z", "expected YYYY-MM-DD" },
		{ "1795837260", "expected YYYY-MM-DD" },
		{ "2262-04-11T23:47:16.854775808Z", "out of range" },
		{ "1600-01-01T00:00:00Z", "out of range" },
		{ "9999-12-31T23:59:59Z", "out of range" },
	};
	return cr_make_param_array(struct bad, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad *c, rfc3339, bad)
{
	char err[160] = "";
	char quoted[80];
	int64_t ns = 42;

	cr_assert_not(time_parse_rfc3339(c->s, &ns, err, sizeof(err)), "%s parsed", c->s);
	cr_assert_eq(ns, 42, "output written on error");
	cr_assert(strstr(err, c->msg), "%s: message '%s' lacks '%s'", c->s, err, c->msg);
	snprintf(quoted, sizeof(quoted), "'%s'", c->s);
	cr_assert(strstr(err, quoted), "message '%s' does not quote the token", err);
}

Test(rfc3339, no_message_buffer)
{
	int64_t ns;

	cr_assert_not(time_parse_rfc3339("nope", &ns, NULL, 0));
}

struct epoch {
	double v;
	int64_t ns;
};

ParameterizedTestParameters(epoch, units)
{
	static struct epoch cases[] = {
		/* seconds below 1e11 */
		{ 1795837260.0, T0 },
		{ 1795837260.5, T0 + 500000000 },
		{ 0.0, 0 },
		{ 9000000000.0, 9000000000000000000LL }, /* year 2255 */
		/* milliseconds from 1e11 */
		{ 100000000000.0, 100000000000000000LL },
		{ 1795837260017.0, T0 + 17000000 },
		{ 1795837260017.5, T0 + 17500000 },
		/* microseconds from 1e14 */
		{ 100000000000000.0, 100000000000000000LL },
		{ 1795837260017123.0, T0 + 17123000 },
		/* nanoseconds from 1e17 */
		{ 100000000000000000.0, 100000000000000000LL },
		{ 1795837260017123072.0, 1795837260017123072LL }, /* exactly representable */
	};
	return cr_make_param_array(struct epoch, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct epoch *c, epoch, units)
{
	char err[128] = "";
	int64_t ns = 0;

	cr_assert(time_from_epoch(c->v, &ns, err, sizeof(err)), "%.17g: %s", c->v, err);
	cr_assert_eq(ns, c->ns, "%.17g: got %lld, want %lld", c->v, (long long)ns, (long long)c->ns);
}

Test(epoch, fractional_seconds_to_a_quarter_microsecond)
{
	int64_t ns = 0;

	cr_assert(time_from_epoch(1795837260.017123, &ns, NULL, 0));
	cr_assert(ns >= T0 + 17122750 && ns <= T0 + 17123250, "got %lld", (long long)(ns - T0));
}

Test(epoch, same_moment_in_every_unit)
{
	int64_t s, ms, us, ns;

	cr_assert(time_from_epoch(1795837260.0, &s, NULL, 0));
	cr_assert(time_from_epoch(1795837260000.0, &ms, NULL, 0));
	cr_assert(time_from_epoch(1795837260000000.0, &us, NULL, 0));
	cr_assert(time_from_epoch(1795837260000000000.0, &ns, NULL, 0));
	cr_assert(s == ms && ms == us && us == ns);
}

Test(epoch, bad)
{
	char err[128];
	int64_t ns = 42;

	cr_assert_not(time_from_epoch(-1.0, &ns, err, sizeof(err)));
	cr_assert(strstr(err, "negative"), "%s", err);
	cr_assert_not(time_from_epoch(1e11 - 1, &ns, err, sizeof(err)), "year 5138 in ns overflows");
	cr_assert(strstr(err, "out of range"), "%s", err);
	cr_assert_not(time_from_epoch(9.3e18, &ns, err, sizeof(err)));
	cr_assert(strstr(err, "out of range"), "%s", err);
	cr_assert_not(time_from_epoch(1e300, &ns, err, sizeof(err)));
	cr_assert_not(time_from_epoch(__builtin_inf(), &ns, err, sizeof(err)));
	cr_assert(strstr(err, "not a finite number"), "%s", err);
	cr_assert_not(time_from_epoch(__builtin_nan(""), &ns, err, sizeof(err)));
	cr_assert_eq(ns, 42);
}

Test(format, rfc3339)
{
	char buf[TIME_STRLEN];

	cr_assert_str_eq(time_format_rfc3339(T0 + 17123000, 6, buf, sizeof(buf)), "2026-11-28T03:41:00.017123Z");
	cr_assert_str_eq(time_format_rfc3339(T0 + 17123456, 9, buf, sizeof(buf)), "2026-11-28T03:41:00.017123456Z");
	cr_assert_str_eq(time_format_rfc3339(T0 + 17123456, 3, buf, sizeof(buf)), "2026-11-28T03:41:00.017Z");
	cr_assert_str_eq(time_format_rfc3339(T0, 0, buf, sizeof(buf)), "2026-11-28T03:41:00Z");
	cr_assert_str_eq(time_format_rfc3339(-1, 9, buf, sizeof(buf)), "1969-12-31T23:59:59.999999999Z");
	cr_assert_str_eq(time_format_rfc3339(951825600000000000LL, 0, buf, sizeof(buf)), "2000-02-29T12:00:00Z");
	cr_assert_str_eq(time_format_rfc3339(INT64_MAX, 9, buf, sizeof(buf)), "2262-04-11T23:47:16.854775807Z");
}

Test(format, round_trip_over_four_centuries)
{
	char buf[TIME_STRLEN], err[128];

	/* every ~13 days from 1700 to 2250, with a changing sub-second part */
	for (int64_t ns = -8520336000LL * 1000000000LL; ns < 8836000000LL * 1000000000LL;
	     ns += 1123456789LL * 1000000 + 987654321) {
		int64_t back;

		time_format_rfc3339(ns, 9, buf, sizeof(buf));
		cr_assert(time_parse_rfc3339(buf, &back, err, sizeof(err)), "%s: %s", buf, err);
		cr_assert_eq(back, ns, "%s", buf);
	}
}

Test(civil, days)
{
	int64_t y;
	unsigned m, d;

	cr_assert_eq(days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(days_from_civil(2000, 3, 1), 11017);
	cr_assert_eq(days_from_civil(1969, 12, 31), -1);
	civil_from_days(11016, &y, &m, &d);
	cr_assert(y == 2000 && m == 2 && d == 29);
	for (int64_t day = -200000; day < 200000; day += 7) {
		civil_from_days(day, &y, &m, &d);
		cr_assert_eq(days_from_civil(y, m, d), day);
	}
}

Test(timeparse, drill_range)
{
	char e[128];

	cr_expect(time_in_drill_range(0, "x", e, sizeof(e)));
	cr_expect(time_in_drill_range(DRILL_TIME_MAX_NS - 1, "x", e, sizeof(e)));
	cr_expect_not(time_in_drill_range(-1, "1969", e, sizeof(e)));
	cr_expect_str_eq(e, "time '1969' is outside 1970..2199");
	cr_expect_not(time_in_drill_range(DRILL_TIME_MAX_NS, "2200", e, sizeof(e)));
}
