/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "duration.h"
#include "policy.h"

/* parameters cross a process boundary: strings are arrays, not pointers */
struct dur_case {
	char in[40];
	enum duration_err err;
	uint64_t ms;
};

ParameterizedTestParameters(duration, check)
{
	static struct dur_case cases[] = {
		{ "1ms", DUR_OK, 1 },
		{ "1500ms", DUR_OK, 1500 },
		{ "90s", DUR_OK, 90000 },
		{ "2m", DUR_OK, 120000 },
		{ "1h", DUR_OK, 3600000 },
		{ "24h", DUR_OK, 86400000 },
		{ "1440m", DUR_OK, 86400000 },
		{ "86400s", DUR_OK, 86400000 },
		{ "86400000ms", DUR_OK, 86400000 },
		{ "007s", DUR_OK, 7000 },
		{ "0s", DUR_RANGE, 0 },
		{ "0ms", DUR_RANGE, 0 },
		{ "25h", DUR_RANGE, 0 },
		{ "86400001ms", DUR_RANGE, 0 },
		{ "1441m", DUR_RANGE, 0 },
		{ "99999999999999999999999999h", DUR_RANGE, 0 },
		{ "10", DUR_NO_UNIT, 0 },
		{ "0", DUR_NO_UNIT, 0 },
		{ "10sec", DUR_BAD_UNIT, 0 },
		{ "1d", DUR_BAD_UNIT, 0 },
		{ "5S", DUR_BAD_UNIT, 0 },
		{ "5MS", DUR_BAD_UNIT, 0 },
		{ "1.5s", DUR_SYNTAX, 0 },
		{ "-1s", DUR_SYNTAX, 0 },
		{ "+1s", DUR_SYNTAX, 0 },
		{ "1 s", DUR_SYNTAX, 0 },
		{ " 1s", DUR_SYNTAX, 0 },
		{ "1s ", DUR_SYNTAX, 0 },
		{ "s", DUR_SYNTAX, 0 },
		{ "", DUR_SYNTAX, 0 },
		{ "1e3ms", DUR_SYNTAX, 0 },
		{ "0x10s", DUR_SYNTAX, 0 },
		{ "1s1", DUR_SYNTAX, 0 },
	};
	return cr_make_param_array(struct dur_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dur_case *c, duration, check)
{
	uint64_t ms = 12345;

	cr_assert_eq(duration_check(c->in, &ms), c->err, "duration_check(\"%s\")", c->in);
	cr_assert_eq(duration_parse(c->in, &ms), c->err == DUR_OK, "duration_parse(\"%s\")", c->in);
	if (c->err == DUR_OK)
		cr_assert_eq(ms, c->ms, "duration \"%s\" -> %llu", c->in, (unsigned long long)ms);
	else
		cr_assert_eq(ms, 12345, "*ms changed on error for \"%s\"", c->in);
}

struct fmt_case {
	uint64_t ms;
	char out[24];
};

ParameterizedTestParameters(duration, format)
{
	static struct fmt_case cases[] = {
		{ 0, "0s" },        { 1, "1ms" },       { 999, "999ms" },     { 1000, "1s" },
		{ 1500, "1500ms" }, { 59000, "59s" },   { 60000, "1m" },      { 90000, "90s" },
		{ 120000, "2m" },   { 3600000, "1h" },  { 5400000, "90m" },   { 86400000, "24h" },
		{ 86399999, "86399999ms" },
	};
	return cr_make_param_array(struct fmt_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fmt_case *c, duration, format)
{
	char buf[DURATION_STRLEN];

	duration_format(c->ms, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->out);
}

Test(duration, format_parse_roundtrip)
{
	static const uint64_t samples[] = { 1, 7, 1000, 1001, 60000, 61000, 3600000, 3660000, 86400000 };
	char buf[DURATION_STRLEN];
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		duration_format(samples[i], buf, sizeof(buf));
		cr_assert(duration_parse(buf, &ms), "\"%s\" does not parse", buf);
		cr_assert_eq(ms, samples[i]);
	}
	for (ms = 1; ms <= 200000; ms += 997) {
		uint64_t back;

		duration_format(ms, buf, sizeof(buf));
		cr_assert(duration_parse(buf, &back) && back == ms, "%llu -> \"%s\"", (unsigned long long)ms, buf);
	}
}

Test(duration, format_small_buffer)
{
	char buf[3] = "xx";

	duration_format(1500, buf, sizeof(buf));
	cr_assert_str_eq(buf, "15");
	duration_format(1500, buf, 0); /* must not write */
	cr_assert_str_eq(buf, "15");
}

struct pct_case {
	char in[32];
	bool ok;
	uint32_t pct;
};

ParameterizedTestParameters(percent, parse)
{
	static struct pct_case cases[] = {
		{ "0", true, 0 },
		{ "30", true, 30000 },
		{ "30%", true, 30000 },
		{ "0.5", true, 500 },
		{ "0.001", true, 1 },
		{ "12.345", true, 12345 },
		{ "7.10", true, 7100 },
		{ "100", true, 100000 },
		{ "100.0", true, 100000 },
		{ "100.000%", true, 100000 },
		{ "0100", true, 100000 },
		{ "101", false, 0 },
		{ "100.001", false, 0 },
		{ "1000", false, 0 },
		{ "1.2345", false, 0 },
		{ "-1", false, 0 },
		{ "+1", false, 0 },
		{ ".5", false, 0 },
		{ "5.", false, 0 },
		{ "5%%", false, 0 },
		{ "%", false, 0 },
		{ "", false, 0 },
		{ "5 %", false, 0 },
		{ " 5", false, 0 },
		{ "1e1", false, 0 },
		{ "50%x", false, 0 },
		{ "99999999999999999999", false, 0 },
	};
	return cr_make_param_array(struct pct_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pct_case *c, percent, parse)
{
	uint32_t pct = 4242;

	cr_assert_eq(percent_parse(c->in, &pct), c->ok, "percent_parse(\"%s\")", c->in);
	cr_assert_eq(pct, c->ok ? c->pct : 4242u, "percent \"%s\" -> %u", c->in, pct);
}

struct pfmt_case {
	uint32_t pct;
	char out[16];
};

ParameterizedTestParameters(percent, format)
{
	static struct pfmt_case cases[] = {
		{ 0, "0" },       { 30000, "30" },    { 500, "0.5" },    { 12345, "12.345" }, { 1, "0.001" },
		{ 10, "0.01" },   { 7100, "7.1" },    { 100000, "100" }, { 99999, "99.999" }, { 1050, "1.05" },
	};
	return cr_make_param_array(struct pfmt_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pfmt_case *c, percent, format)
{
	char buf[PERCENT_STRLEN];

	percent_format(c->pct, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->out);
}

Test(percent, roundtrip_all)
{
	char buf[PERCENT_STRLEN];
	uint32_t v, back;

	for (v = 0; v <= PCT_MAX; v++) {
		percent_format(v, buf, sizeof(buf));
		cr_assert(percent_parse(buf, &back) && back == v, "%u -> \"%s\"", v, buf);
	}
}
