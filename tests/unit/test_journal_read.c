/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_read.h"

#define T0 1795837260000000000LL /* 2026-11-28T03:41:00Z */
#define MS 1000000LL

#define START "{\"event\":\"start\",\"ts\":\"2026-11-28T03:40:00.000100Z\",\"mono_ns\":1,\"name\":\"d1\",\"host\":\"h\"," \
	      "\"version\":\"0.1.0\",\"git_commit\":\"abc\",\"policy\":\"p\",\"targets\":[],\"ports\":[],\"protocol\":\"tcp\",\"exempt\":[]}\n"
#define ARMED "{\"event\":\"armed\",\"ts\":\"2026-11-28T03:41:00Z\",\"mono_ns\":2,\"flows\":3,\"packets\":42,\"bytes\":5120," \
	      "\"first_flow_ts\":\"2026-11-28T03:40:41Z\",\"trigger\":{\"src\":\"10.0.0.2\",\"dst\":\"1.2.3.4\",\"dport\":443,\"proto\":\"tcp\"}}\n"
#define BEGIN(i, t, action, params) \
	"{\"event\":\"fault_begin\",\"ts\":\"" t "\",\"mono_ns\":3,\"index\":" #i ",\"action\":\"" action "\",\"params\":\"" params \
	"\",\"planned_ms\":10000,\"invoke_ts\":\"" t "\"}\n"
#define END(i, t, pk) \
	"{\"event\":\"fault_end\",\"ts\":\"" t "\",\"mono_ns\":4,\"index\":" #i ",\"invoke_ts\":\"" t "\",\"actual_ms\":10001," \
	"\"hits\":{\"packets\":" #pk ",\"bytes\":" #pk "00},\"reason\":\"completed\"}\n"
#define FINISH(outcome, code) \
	"{\"event\":\"end\",\"ts\":\"2026-11-28T03:42:00Z\",\"mono_ns\":5,\"outcome\":\"" outcome "\",\"exit_code\":" #code "}\n"

static struct jread j;
static char *err;

static void fini(void)
{
	jread_free(&j);
	free(err);
	err = NULL;
}

TestSuite(jread, .fini = fini);

static int parse(const char *text)
{
	jread_free(&j);
	free(err);
	err = NULL;
	return jread_buffer(&j, "J", text, strlen(text), &err);
}

static void expect_error(const char *text, const char *msg)
{
	cr_assert_eq(parse(text), -EINVAL, "accepted:\n%s", text);
	cr_assert(err && strstr(err, msg), "message '%s' lacks '%s'", err ? err : "(null)", msg);
}

static bool has_warning(const char *needle)
{
	for (size_t i = 0; i < j.n_warnings; i++)
		if (strstr(j.warnings[i], needle))
			return true;
	return false;
}

Test(jread, complete_journal)
{
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
				   END(0, "2026-11-28T03:41:15.5Z", 1234)
				   BEGIN(1, "2026-11-28T03:41:20Z", "delay", "latency=100ms jitter=10ms")
				   END(1, "2026-11-28T03:41:30Z", 0) FINISH("completed", 0)),
		     0, "%s", err);
	cr_assert_null(err);
	cr_assert_eq(j.n_warnings, 0);
	cr_assert_str_eq(j.name, "d1");
	cr_assert_str_eq(j.host, "h");
	cr_assert_eq(j.start_ns, T0 - 60000 * MS + 100000);
	cr_assert(j.armed);
	cr_assert_eq(j.armed_ns, T0);
	cr_assert_eq(j.armed_flows, 3);
	cr_assert_eq(j.armed_packets, 42);
	cr_assert_str_eq(j.trigger_dst, "1.2.3.4");
	cr_assert_eq(j.trigger_dport, 443);
	cr_assert_eq(j.n_windows, 2);
	cr_assert_eq(j.windows[0].index, 0);
	cr_assert_str_eq(j.windows[0].action, "drop");
	cr_assert_str_eq(j.windows[0].params, "");
	cr_assert_eq(j.windows[0].begin_ns, T0 + 5000 * MS);
	cr_assert_eq(j.windows[0].end_ns, T0 + 15500 * MS);
	cr_assert_not(j.windows[0].open);
	cr_assert_eq(j.windows[0].hit_packets, 1234);
	cr_assert_eq(j.windows[0].hit_bytes, 123400);
	cr_assert_float_eq(j.windows[0].actual_ms, 10001, 1e-9);
	cr_assert(j.windows[0].hits_known);
	cr_assert_eq(j.windows[0].planned_ms, 10000);
	cr_assert_str_eq(j.windows[0].reason, "completed");
	cr_assert_eq(j.windows[0].line_begin, 3);
	cr_assert_eq(j.windows[0].line_end, 4);
	cr_assert_str_eq(j.windows[1].params, "latency=100ms jitter=10ms");
	cr_assert_eq(j.windows[1].hit_packets, 0);
	cr_assert_str_eq(j.outcome, "completed");
	cr_assert_eq(j.exit_code, 0);
	cr_assert_eq(j.last_ns, T0 + 60000 * MS);
	cr_assert_not(j.truncated);
}

Test(jread, counter_unknown_and_fractional_ms)
{
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
			   "{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:15Z\",\"mono_ns\":4,\"index\":0,"
			   "\"actual_ms\":10000.25,\"hits\":{\"packets\":0,\"bytes\":0,\"unknown\":true},\"reason\":\"completed\"}\n"
			   FINISH("completed", 0)),
		     0, "%s", err);
	cr_assert_not(j.windows[0].open);
	cr_assert_not(j.windows[0].hits_known);
	cr_assert_float_eq(j.windows[0].actual_ms, 10000.25, 1e-9);
	cr_assert(has_warning("J:4: fault 0: the daemon could not read its hit counter; hits unknown"));
	expect_error(START BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
		     "{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:15Z\",\"mono_ns\":4,\"index\":0,"
		     "\"actual_ms\":\"10\",\"hits\":{\"packets\":0}}\n",
		     "J:3: \"actual_ms\" is not a non-negative number");
}

Test(jread, arm_timeout)
{
	cr_assert_eq(parse(START FINISH("arm_timeout", 3)), 0, "%s", err);
	cr_assert_not(j.armed);
	cr_assert_eq(j.n_windows, 0);
	cr_assert_str_eq(j.outcome, "arm_timeout");
	cr_assert_eq(j.exit_code, 3);
}

Test(jread, truncated_last_line_and_open_window)
{
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
				   "{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:1"),
		     0, "%s", err);
	cr_assert(j.truncated);
	cr_assert_eq(j.n_windows, 1);
	cr_assert(j.windows[0].open);
	/* the open window ends at the journal's last time stamp: its own begin here */
	cr_assert_eq(j.windows[0].end_ns, T0 + 5000 * MS);
	cr_assert_float_eq(j.windows[0].actual_ms, -1, 1e-9);
	cr_assert_not(j.windows[0].hits_known);
	cr_assert_null(j.windows[0].reason);
	cr_assert_null(j.outcome);
	cr_assert(has_warning("J:4: last line is truncated"));
	cr_assert(has_warning("J:3: fault 0 (drop) has no fault_end: window still open"));
	cr_assert(has_warning("2026-11-28T03:41:05.000000Z as its end"));
	cr_assert(has_warning("J: no \"end\" event"));
}

Test(jread, open_window_ends_at_last_time_stamp)
{
	/* killed cleanly between lines: no truncation, but no fault_end either */
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:05Z", "drop", "") END(0, "2026-11-28T03:41:15Z", 1)
				   BEGIN(1, "2026-11-28T03:41:20Z", "reject", "with=tcp-reset")
				   "{\"event\":\"something_new\",\"ts\":\"2026-11-28T03:41:25Z\",\"mono_ns\":9}\n"),
		     0, "%s", err);
	cr_assert_not(j.truncated);
	cr_assert(j.windows[1].open);
	cr_assert_eq(j.windows[1].end_ns, T0 + 25000 * MS);
	cr_assert(has_warning("J:6: unknown event \"something_new\" ignored"));
}

Test(jread, last_line_without_newline_is_fine)
{
	const char *text = START FINISH("completed", 0);
	char *copy = strndup(text, strlen(text) - 1);

	cr_assert_eq(jread_buffer(&j, "J", copy, strlen(copy), &err), 0, "%s", err);
	cr_assert_not(j.truncated);
	cr_assert_str_eq(j.outcome, "completed");
	free(copy);
}

Test(jread, crlf_and_blank_lines)
{
	cr_assert_eq(parse("\n" START "\r\n\n" FINISH("completed", 0) "\n\n"), 0, "%s", err);
	cr_assert_str_eq(j.outcome, "completed");
}

Test(jread, errors_are_located)
{
	expect_error("", "J: empty journal");
	expect_error("\n\n", "J: empty journal");
	expect_error(START "{\"event\":\"armed\",\n" FINISH("completed", 0), "J:2: not JSON: '{\"event\":\"armed\",'");
	expect_error(START "[1,2]\n", "J:2: not a JSON object");
	expect_error(START "{\"ts\":\"2026-11-28T03:41:00Z\",\"mono_ns\":1}\n", "J:2: missing \"event\" string");
	expect_error(START "{\"event\":\"end\",\"mono_ns\":1,\"outcome\":\"completed\"}\n", "J:2: missing \"ts\"");
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:00\",\"mono_ns\":1,\"outcome\":\"x\"}\n",
		     "J:2: \"ts\": bad time '2026-11-28T03:41:00': missing time zone");
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:00Z\",\"outcome\":\"x\"}\n", "J:2: missing \"mono_ns\"");
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:00Z\",\"mono_ns\":-1,\"outcome\":\"x\"}\n",
		     "J:2: \"mono_ns\" is not a non-negative integer");
	expect_error(ARMED, "J:1: first event is \"armed\", expected \"start\"");
	expect_error(START START, "J:2: second \"start\" event");
	expect_error(START ARMED ARMED, "J:3: second \"armed\" event");
	expect_error(START END(0, "2026-11-28T03:41:05Z", 1), "J:2: fault_end index 0 has no fault_begin");
	expect_error(START BEGIN(0, "2026-11-28T03:41:05Z", "drop", "") BEGIN(0, "2026-11-28T03:41:06Z", "drop", ""),
		     "J:3: fault_begin index 0 repeats the one on line 2");
	expect_error(START BEGIN(0, "2026-11-28T03:41:05Z", "drop", "") END(0, "2026-11-28T03:41:04Z", 1),
		     "J:3: fault_end index 0 is earlier than its fault_begin (line 2)");
	expect_error(START BEGIN(0, "2026-11-28T03:41:05Z", "drop", "") END(0, "2026-11-28T03:41:06Z", 1)
			     END(0, "2026-11-28T03:41:07Z", 1),
		     "J:4: fault_end index 0 repeats the one on line 3");
	expect_error(START BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
		     "{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:06Z\",\"mono_ns\":4,\"index\":0}\n",
		     "J:3: missing \"hits\" object");
	expect_error(START "{\"event\":\"fault_begin\",\"ts\":\"2026-11-28T03:41:05Z\",\"mono_ns\":3,\"index\":1.5,\"action\":\"drop\"}\n",
		     "J:2: \"index\" is not a non-negative integer");
	expect_error(START "{\"event\":\"fault_begin\",\"ts\":\"2026-11-28T03:41:05Z\",\"mono_ns\":3,\"index\":0}\n",
		     "J:2: missing \"action\"");
	expect_error(START "{\"event\":\"fault_begin\",\"ts\":\"2026-11-28T03:41:05Z\",\"mono_ns\":3,\"index\":0,\"action\":7}\n",
		     "J:2: \"action\" is not a string");
	expect_error(START FINISH("completed", 0) ARMED, "J:3: event \"armed\" after \"end\"");
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:42:00Z\",\"mono_ns\":5}\n", "J:2: missing \"outcome\"");
	/* a bad line with its newline is not a truncated last line */
	expect_error(START "{\"event\":\"end\",\"ts\n", "J:2: not JSON");
	/* trailing garbage after the object */
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:42:00Z\",\"mono_ns\":5,\"outcome\":\"x\"} x\n",
		     "J:2: not JSON");
}

Test(jread, file)
{
	char path[] = "/tmp/okx-jread-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(START FINISH("aborted", 4), f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(jread_file(&j, path, &err), 0, "%s", err);
	cr_assert_str_eq(j.outcome, "aborted");
	cr_assert_str_eq(j.path, path);
	cr_assert_eq(unlink(path), 0);
	jread_free(&j);
	cr_assert_eq(jread_file(&j, path, &err), -ENOENT);
	cr_assert(strstr(err, ": No such file or directory"));
	jread_free(NULL);
}

/* found by the fuzzer: a year-1708 begin and a 2026 end overflowed the
 * window's length in int64 nanoseconds */
Test(jread, times_outside_1970_2199_are_errors)
{
	expect_error(START BEGIN(1, "1708-11-28T03:42:45.020000Z", "reject", "") END(1, "2026-12-28T03:43:15Z", 3),
		     "outside 1970..2199");
	expect_error(START BEGIN(1, "2026-11-28T03:42:45Z", "drop", "") END(1, "2262-01-01T00:00:00Z", 3),
		     "outside 1970..2199");
	cr_assert_eq(parse(START BEGIN(1, "2026-11-28T03:42:45Z", "drop", "") END(1, "2026-11-28T03:42:55Z", 3)), 0, "%s",
		     err ? err : "");
}

/* Counters are exact 64-bit integers, read from the text: above 2^53 a
 * double would round them, and the daemon can write up to 2^64 - 1. */
Test(jread, counters_are_exact_64_bit)
{
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:05Z", "drop", "")
			   "{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:15Z\",\"mono_ns\":18446744073709551615,"
			   "\"index\":0,\"actual_ms\":10000,\"hits\":{\"packets\":9007199254740993,"
			   "\"bytes\" : 18446744073709551615},\"reason\":\"completed\"}\n" FINISH("completed", 0)),
		     0, "%s", err);
	cr_assert_eq(j.windows[0].hit_packets, 9007199254740993ull);
	cr_assert_eq(j.windows[0].hit_bytes, 18446744073709551615ull);
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:42:00Z\",\"mono_ns\":18446744073709551616,"
			   "\"outcome\":\"completed\"}\n",
		     "J:2: \"mono_ns\" is not a non-negative integer");
	expect_error(START "{\"event\":\"end\",\"ts\":\"2026-11-28T03:42:00Z\",\"mono_ns\":1.8e19,"
			   "\"outcome\":\"completed\"}\n",
		     "J:2: \"mono_ns\": cannot read");
}

/* Many windows: found by index in constant time (a quadratic reader took
 * 13.7 s for 100,000). Here 200,000 windows in one buffer. */
Test(jread, many_windows_read_in_linear_time)
{
	size_t n = 200000, cap = n * 320 + 4096, len = 0;
	char *buf = malloc(cap);

	cr_assert(buf);
	len += (size_t)snprintf(buf + len, cap - len, "%s", START);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"{\"event\":\"fault_begin\",\"ts\":\"2026-11-28T03:41:05Z\",\"mono_ns\":3,\"index\":%zu,"
					"\"action\":\"drop\"}\n{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:05Z\","
					"\"mono_ns\":3,\"index\":%zu,\"hits\":{\"packets\":%zu}}\n",
					n - 1 - i, n - 1 - i, i);
	jread_free(&j);
	cr_assert_eq(jread_buffer(&j, "J", buf, len, &err), 0, "%s", err);
	free(buf);
	cr_assert_eq(j.n_windows, n);
	cr_assert_eq(j.windows[0].index, (int64_t)n - 1);
	cr_assert_eq(j.windows[n - 1].hit_packets, n - 1);
	cr_assert_not(j.windows[n / 2].open);
}

Test(jread, targets_added_is_known)
{
	cr_assert_eq(parse(START ARMED
			   "{\"event\":\"targets_added\",\"ts\":\"2026-11-28T03:41:02Z\",\"mono_ns\":9,"
			   "\"name\":\"www.okx.com\",\"addresses\":[\"198.18.0.3/32\"]}\n"
			   BEGIN(0, "2026-11-28T03:41:05Z", "drop", "") END(0, "2026-11-28T03:41:15Z", 1)
			   FINISH("completed", 0)),
		     0, "%s", err);
	cr_assert_eq(j.n_warnings, 0, "%s", j.n_warnings ? j.warnings[0] : "");
	cr_assert_eq(j.n_windows, 1);
}

/* fault_begin.expect, else the action's default; a delay's latency from its
 * params */
Test(jread, expect_and_injected_latency)
{
#define BEGIN_X(i, t, action, params, expect) \
	"{\"event\":\"fault_begin\",\"ts\":\"" t "\",\"mono_ns\":3,\"index\":" #i ",\"action\":\"" action "\",\"params\":\"" params \
	"\",\"expect\":" expect ",\"planned_ms\":10000,\"invoke_ts\":\"" t "\"}\n"
	cr_assert_eq(parse(START ARMED BEGIN(0, "2026-11-28T03:41:01Z", "drop", "")
			   END(0, "2026-11-28T03:41:02Z", 1)
			   BEGIN(1, "2026-11-28T03:41:03Z", "delay", "latency=300ms jitter=10ms")
			   END(1, "2026-11-28T03:41:04Z", 1)
			   BEGIN_X(2, "2026-11-28T03:41:05Z", "delay", "jitter=1s latency=2s loss=1", "\"latency\"")
			   END(2, "2026-11-28T03:41:06Z", 1)
			   BEGIN_X(3, "2026-11-28T03:41:07Z", "drop", "", "\"any\"")
			   END(3, "2026-11-28T03:41:08Z", 1)
			   BEGIN(4, "2026-11-28T03:41:09Z", "loss", "percent=30")
			   END(4, "2026-11-28T03:41:10Z", 1) FINISH("completed", 0)),
		     0, "%s", err);
	cr_assert_eq(j.n_windows, 5);
	cr_assert_eq(j.windows[0].expect, EXPECT_ERRORS);
	cr_assert_eq(j.windows[0].latency_ms, 0);
	cr_assert_eq(j.windows[1].expect, EXPECT_ANY);
	cr_assert_eq(j.windows[1].latency_ms, 300);
	cr_assert_eq(j.windows[2].expect, EXPECT_LATENCY);
	cr_assert_eq(j.windows[2].latency_ms, 2000);
	cr_assert_eq(j.windows[3].expect, EXPECT_ANY);
	cr_assert_eq(j.windows[4].expect, EXPECT_ANY);
	cr_assert_eq(j.windows[4].latency_ms, 0);
	expect_error(START ARMED BEGIN_X(0, "2026-11-28T03:41:01Z", "drop", "", "\"slower\""),
		     "J:3: \"expect\" is not \"errors\", \"latency\" or \"any\"");
	expect_error(START ARMED BEGIN_X(0, "2026-11-28T03:41:01Z", "drop", "", "1"), "J:3: \"expect\" is not");
	expect_error(START ARMED BEGIN(0, "2026-11-28T03:41:01Z", "delay", "latency=fast"),
		     "J:3: \"params\": bad latency 'fast'");
#undef BEGIN_X
}

/* The drill's identity in the start event, as a bundle's manifest records
 * it (okx-faultctl(1), BUNDLE): policy_sha256 is optional, a string. */
Test(jread, start_identity)
{
	cr_assert_eq(parse("{\"event\":\"start\",\"ts\":\"2026-11-28T03:40:00Z\",\"mono_ns\":1,\"name\":\"d1\","
			   "\"version\":\"0.1.0\",\"git_commit\":\"abc\",\"policy\":\"p\",\"policy_sha256\":\"00ff\"}\n"),
		     0, "%s", err);
	cr_expect_str_eq(j.version, "0.1.0");
	cr_expect_str_eq(j.git_commit, "abc");
	cr_expect_str_eq(j.policy, "p");
	cr_expect_str_eq(j.policy_sha256, "00ff");
	cr_assert_eq(parse(START), 0, "%s", err);
	cr_expect_null(j.policy_sha256);
	expect_error("{\"event\":\"start\",\"ts\":\"2026-11-28T03:40:00Z\",\"mono_ns\":1,\"name\":\"d1\","
		     "\"policy_sha256\":1}\n",
		     "J:1: \"policy_sha256\" is not a string");
}
