/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

#define T0 1795837260000000000LL /* 2026-11-28T03:41:00Z */
#define S 1000000000LL

static struct event_list l;
static char *err;

static void fini(void)
{
	events_free(&l);
	free(err);
	err = NULL;
}

TestSuite(events, .fini = fini);

static int parse(const char *text)
{
	free(err);
	err = NULL;
	events_free(&l);
	return events_buffer(&l, "ev.json", text, strlen(text), &err);
}

static void expect_error(const char *text, const char *msg)
{
	cr_assert_eq(parse(text), -EINVAL, "accepted: %s", text);
	cr_assert(err && strstr(err, msg), "for %s: message '%s' lacks '%s'", text, err ? err : "(null)", msg);
}

Test(events, array)
{
	cr_assert_eq(parse("[{\"ts\":\"2026-11-28T03:41:02Z\",\"type\":\"timeout\",\"message\":\"m\"},"
			   " {\"ts\":\"2026-11-28T03:41:01Z\"}]"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_ARRAY);
	cr_assert_eq(l.n, 2);
	/* sorted by time, file order kept in seq */
	cr_assert_eq(l.v[0].ns, T0 + 1 * S);
	cr_assert_null(l.v[0].type);
	cr_assert_eq(l.v[0].seq, 1);
	cr_assert_eq(l.v[1].ns, T0 + 2 * S);
	cr_assert_str_eq(l.v[1].type, "timeout");
	cr_assert_str_eq(l.v[1].text, "m");
	cr_assert_eq(l.declared_count, -1);
}

Test(events, empty_array_is_zero_events)
{
	cr_assert_eq(parse("[]\n"), 0, "%s", err);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(parse("{\"execution_fingerprint\":{\"error_count\":0,\"error_events\":[]}}"), 0, "%s", err);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.form, EVENTS_NESTED);
	cr_assert_eq(l.declared_count, 0);
}

Test(events, json_lines)
{
	cr_assert_eq(parse("{\"ts\":\"2026-11-28T03:41:00Z\",\"type\":\"a\"}\n\n"
			   "  \r\n{\"timestamp\":1795837261,\"type\":\"b\"}\r\n{\"time\":1795837262000}"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_LINES);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.v[0].line, 1);
	cr_assert_eq(l.v[1].line, 4);
	cr_assert_eq(l.v[1].ns, T0 + S);
	cr_assert_eq(l.v[2].line, 5);
	cr_assert_eq(l.v[2].ns, T0 + 2 * S);
}

Test(events, single_json_line)
{
	cr_assert_eq(parse("{\"ts\":\"2026-11-28T03:41:00Z\",\"type\":\"a\"}\n"), 0, "%s", err);
	cr_assert_eq(l.form, EVENTS_LINES);
	cr_assert_eq(l.n, 1);
}

Test(events, nested_at_any_depth)
{
	cr_assert_eq(parse("{\"execution_fingerprint\": {\"error_count\": 3, \"error_events\": ["
			   "{\"type\":\"timeout\",\"ts\":\"2026-11-28T03:41:00Z\"},"
			   "{\"type\":\"timeout\",\"ts\":\"2026-11-28T03:41:01Z\"}]}}"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_NESTED);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.declared_count, 3);

	/* deeper, inside arrays, several containers: all are used */
	cr_assert_eq(parse("{\"runs\":[{\"a\":{\"error_events\":[{\"ts\":\"2026-11-28T03:41:05Z\"}]}},"
			   "{\"error_events\":[{\"ts\":\"2026-11-28T03:41:04Z\"}], \"error_count\": 1}],"
			   "\"error_events\": null}"),
		     0, "%s", err);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.v[0].ns, T0 + 4 * S);
	cr_assert_eq(l.declared_count, 1);
}

Test(events, time_keys_in_order)
{
	/* ts wins over timestamp and time; null counts as absent */
	cr_assert_eq(parse("[{\"ts\":\"2026-11-28T03:41:01Z\",\"timestamp\":\"bad\",\"time\":\"bad\"},"
			   " {\"ts\":null,\"timestamp\":\"2026-11-28T03:41:02Z\",\"time\":\"bad\"},"
			   " {\"time\":\"2026-11-28T04:41:03+01:00\"}]"),
		     0, "%s", err);
	cr_assert_eq(l.v[0].ns, T0 + 1 * S);
	cr_assert_eq(l.v[1].ns, T0 + 2 * S);
	cr_assert_eq(l.v[2].ns, T0 + 3 * S);
}

Test(events, epoch_units)
{
	cr_assert_eq(parse("[{\"ts\":1795837260}, {\"ts\":1795837260000}, {\"ts\":1795837260000000},"
			   " {\"ts\":1795837260000000000}, {\"ts\":1795837260.5}]"),
		     0, "%s", err);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(l.v[i].ns, T0, "event %zu", i);
	cr_assert_eq(l.v[4].ns, T0 + S / 2);
}

Test(events, text_from_message_or_error)
{
	cr_assert_eq(parse("[{\"ts\":1795837260, \"message\":\"m\", \"error\":\"e\"},"
			   " {\"ts\":1795837261, \"error\":\"e\"},"
			   " {\"ts\":1795837262, \"error\":{\"code\":104}},"
			   " {\"ts\":1795837263, \"type\":7}]"),
		     0, "%s", err);
	cr_assert_str_eq(l.v[0].text, "m");
	cr_assert_str_eq(l.v[1].text, "e");
	cr_assert_str_eq(l.v[2].text, "{\"code\":104}");
	cr_assert_str_eq(l.v[3].type, "7");
	cr_assert_null(l.v[3].text);
}

Test(events, bad_inputs)
{
	expect_error("", "ev.json: empty file");
	expect_error("  \n\t\n", "ev.json: empty file");
	expect_error("2026-11-28T03:41:10Z timeout", "ev.json:1: not JSON at column 5: '2026-11-28T03:41:10Z timeout'");
	expect_error("[\n{\"ts\":1795837260},\n{\"ts\":1795837261\n]", "ev.json:4: not JSON");
	expect_error("{\"ts\":\"2026-11-28T03:41:00Z\"}\n{\"ts\": oops}\n", "ev.json:2: not JSON");
	expect_error("{\"ts\":\"2026-11-28T03:41:00Z\"}\n[1]\n", "ev.json:2: an event is not a JSON object");
	expect_error("\"hello\"", "ev.json: not a JSON array");
	expect_error("42", "ev.json: not a JSON array");
	expect_error("[1]", "ev.json: $[0]: an event is not a JSON object");
	expect_error("[{\"type\":\"timeout\"}]", "ev.json: $[0]: no time stamp (\"ts\", \"timestamp\" or \"time\")");
	expect_error("{\"ts\":\"2026-11-28T03:41:00Z\"}\n{\"when\":1}\n", "ev.json:2: no time stamp");
	expect_error("{\"x\":{\"error_events\":[{\"ts\":1795837260},{\"ts\":\"28/11/2026\"}]}}",
		     "ev.json: $.x.error_events[1]: \"ts\": bad time '28/11/2026'");
	expect_error("{\"x\":{\"error_events\":{\"ts\":1}}}", "ev.json: $.x.error_events is not an array");
	expect_error("{\"a\": 1}", "ev.json:1: no time stamp (\"ts\", \"timestamp\" or \"time\"), and no \"error_events\" or \"calls\" array");
	expect_error("[{\"ts\":true}]", "\"ts\" is neither an RFC 3339 string nor an epoch number");
	expect_error("[{\"ts\":-5}]", "negative");
	expect_error("[{\"ts\":\"2026-11-28T03:41:00\"}]", "missing time zone");
	expect_error("[{\"ts\":1}] trailing", "ev.json:1: not JSON");
}

Test(events, byte_order_mark)
{
	cr_assert_eq(parse("\xef\xbb\xbf[{\"ts\":1795837260}]"), 0, "%s", err);
	cr_assert_eq(l.n, 1);
}

Test(events, not_nul_terminated)
{
	static const char buf[] = "[{\"ts\":1795837260}]XXXX";

	cr_assert_eq(events_buffer(&l, "ev.json", buf, sizeof(buf) - 5, &err), 0, "%s", err);
	cr_assert_eq(l.n, 1);
}

Test(events, file_errors)
{
	free(err);
	cr_assert_eq(events_file(&l, "/nonexistent/ev.json", &err), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/ev.json: No such file or directory");
	events_free(&l);
	events_free(NULL);
}

Test(events, times_outside_1970_2199_are_errors)
{
	expect_error("[{\"ts\":\"1969-12-31T23:59:59Z\"}]", "outside 1970..2199");
	expect_error("[{\"ts\":\"2250-01-01T00:00:00Z\"}]", "outside 1970..2199");
	cr_assert_eq(parse("[{\"ts\":\"1970-01-01T00:00:00Z\"}]"), 0, "%s", err ? err : "");
}

/* error_count without error_events: counted, not timestamped */
Test(events, count_only_telemetry)
{
	cr_assert_eq(parse("{\"execution_fingerprint\":{\"error_count\":5,\"latency_stats_ms\":{\"p50\":42}},"
			   "\"retries\":[{\"error_count\":2}]}"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_NESTED);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.declared_count, 7);
	cr_assert(events_count_only(&l));
	cr_assert_eq(parse("{\"execution_fingerprint\":{\"error_count\":0}}"), 0, "%s", err);
	cr_assert_eq(l.declared_count, 0);
	cr_assert_not(events_count_only(&l));
}

/* --- call records --- */

Test(events, calls_nested_at_any_depth)
{
	/* a numeric "calls" (a count) is an ordinary member; the "calls" array
	 * at the top is the records; error_events are the errors */
	cr_assert_eq(parse("{\"execution_fingerprint\":{\"calls\":3,\"error_count\":1,\"error_events\":["
			   "{\"type\":\"timeout\",\"ts\":\"2026-11-28T03:41:02Z\"}]},"
			   "\"calls\":[{\"ts\":\"2026-11-28T03:41:02Z\",\"latency_ms\":1000,\"ok\":false},"
			   "{\"ts\":\"2026-11-28T03:41:00Z\",\"latency_ms\":4.5,\"ok\":true},"
			   "{\"ts\":\"2026-11-28T03:41:01Z\"}]}"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_NESTED);
	cr_assert_eq(l.n_calls, 3);
	cr_assert_eq(l.calls_timed, 2);
	cr_assert_eq(l.calls_failed, 1);
	cr_assert_eq(l.n, 1, "the failed call is not counted again");
	cr_assert_not(l.errors_from_calls);
	cr_assert_eq(l.declared_count, 1);
	/* sorted by time */
	cr_assert_eq(l.calls[0].ns, T0);
	cr_assert_eq(l.calls[0].latency_ms, 4.5);
	cr_assert_not(l.calls[0].failed);
	cr_assert_eq(l.calls[1].latency_ms, -1);
	cr_assert_eq(l.calls[2].ns, T0 + 2 * S);
	cr_assert(l.calls[2].failed);

	/* deeper, no error_events: the failed calls are the errors */
	cr_assert_eq(parse("{\"runs\":[{\"log\":{\"calls\":[{\"time\":1795837261,\"latency_ms\":3,\"error\":\"Timeout\","
			   "\"type\":\"Timeout\"},{\"time\":1795837260,\"latency_ms\":2,\"error\":null}]}}],"
			   "\"error_count\":1}"),
		     0, "%s", err);
	cr_assert_eq(l.n_calls, 2);
	cr_assert_eq(l.n, 1);
	cr_assert(l.errors_from_calls);
	cr_assert_eq(l.v[0].ns, T0 + S);
	cr_assert_str_eq(l.v[0].type, "Timeout");
	cr_assert_str_eq(l.v[0].text, "Timeout");
	cr_assert_eq(l.declared_count, 1);
	cr_assert_not(events_count_only(&l));
}

Test(events, calls_in_lines_and_arrays)
{
	/* JSON Lines: latency_ms or ok makes a call record */
	cr_assert_eq(parse("{\"ts\":\"2026-11-28T03:41:00Z\",\"latency_ms\":5}\n"
			   "{\"ts\":\"2026-11-28T03:41:01Z\",\"ok\":false,\"type\":\"ConnectionError\",\"error\":\"refused\"}\n"
			   "{\"ts\":\"2026-11-28T03:41:02Z\",\"latency_ms\":1000,\"error\":true}\n"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_LINES);
	cr_assert_eq(l.n_calls, 3);
	cr_assert_eq(l.calls[1].line, 2);
	cr_assert_eq(l.calls_failed, 2);
	cr_assert_eq(l.n, 2, "no error events of its own: the failed calls are the errors");
	cr_assert(l.errors_from_calls);
	cr_assert_str_eq(l.v[0].type, "ConnectionError");
	cr_assert_str_eq(l.v[0].text, "refused");
	cr_assert_eq(l.v[0].line, 2);
	cr_assert_null(l.v[1].type);
	cr_assert_str_eq(l.v[1].text, "true");

	/* an array mixing error events and calls: the error events are the errors */
	cr_assert_eq(parse("[{\"ts\":1795837260,\"type\":\"timeout\"},"
			   " {\"ts\":1795837261,\"latency_ms\":1000,\"ok\":false},"
			   " {\"ts\":1795837262,\"ok\":true,\"error\":\"\"}]"),
		     0, "%s", err);
	cr_assert_eq(l.form, EVENTS_ARRAY);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.v[0].type, "timeout");
	cr_assert_eq(l.n_calls, 2);
	cr_assert_eq(l.calls_failed, 1);
	cr_assert_not(l.errors_from_calls);
	cr_assert_eq(l.calls[0].seq, 1);

	/* a single line that is a call */
	cr_assert_eq(parse("{\"ts\":1795837260,\"latency_ms\":0}"), 0, "%s", err);
	cr_assert_eq(l.n_calls, 1);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.calls[0].latency_ms, 0);
}

Test(events, bad_call_records)
{
	expect_error("[{\"ts\":1795837260,\"latency_ms\":\"5ms\"}]",
		     "ev.json: $[0]: \"latency_ms\" is not a number of milliseconds from 0 to 86400000 (a day)");
	expect_error("{\"ts\":1795837260,\"latency_ms\":-1}\n", "ev.json:1: \"latency_ms\" is not a number");
	expect_error("{\"ts\":1795837260,\"latency_ms\":86400001}\n", "ev.json:1: \"latency_ms\" is not a number");
	expect_error("{\"ts\":1795837260,\"ok\":1}\n", "ev.json:1: \"ok\" is neither true nor false");
	expect_error("{\"ts\":1795837260,\"ok\":true,\"error\":\"Timeout\"}\n",
		     "ev.json:1: \"ok\" is true but \"error\" is set");
	expect_error("{\"calls\":[{\"ts\":1795837260},{\"latency_ms\":3}]}",
		     "ev.json: $.calls[1]: no time stamp (\"ts\", \"timestamp\" or \"time\")");
	expect_error("{\"calls\":[{\"ts\":1795837260},7]}", "ev.json: $.calls[1]: a call record is not a JSON object");
}

/* an error_count with calls is not count-only: the calls have times */
Test(events, count_with_calls)
{
	cr_assert_eq(parse("{\"error_count\":4,\"calls\":[{\"ts\":1795837260,\"latency_ms\":3,\"ok\":true}]}"), 0,
		     "%s", err);
	cr_assert_eq(l.declared_count, 4);
	cr_assert_eq(l.n, 0);
	cr_assert_not(events_count_only(&l));
}
