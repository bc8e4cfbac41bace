/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"

/* A host's journal: armed at ARMED_AT, one drop window 03:41:05..03:41:15
 * that hit PK packets. */
#define JOURNAL(host, armed_at, pk)                                                                                   \
	"{\"event\":\"start\",\"ts\":\"2026-11-28T03:40:00Z\",\"mono_ns\":1,\"name\":\"fleet_drill\",\"host\":\"" host \
	"\",\"version\":\"0.1.0\",\"git_commit\":\"abc\",\"policy\":\"p\",\"targets\":[],\"ports\":[],"                   \
	"\"protocol\":\"tcp\",\"exempt\":[]}\n"                                                                         \
	"{\"event\":\"armed\",\"ts\":\"" armed_at "\",\"mono_ns\":2,\"flows\":3,\"packets\":42,\"bytes\":5120}\n"        \
	"{\"event\":\"fault_begin\",\"ts\":\"2026-11-28T03:41:05Z\",\"mono_ns\":3,\"index\":0,\"action\":\"drop\","     \
	"\"params\":\"\",\"planned_ms\":10000,\"invoke_ts\":\"2026-11-28T03:41:05Z\"}\n"                                \
	"{\"event\":\"fault_end\",\"ts\":\"2026-11-28T03:41:15Z\",\"mono_ns\":4,\"index\":0,\"actual_ms\":10000,"       \
	"\"hits\":{\"packets\":" #pk ",\"bytes\":" #pk "00},\"reason\":\"completed\"}\n"                                 \
	"{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:16Z\",\"mono_ns\":5,\"outcome\":\"completed\",\"exit_code\":0}\n"
#define EVENTS_ERROR "[{\"type\":\"timeout\",\"ts\":\"2026-11-28T03:41:06Z\"}]"
#define EVENTS_NONE "[]"

static char dir[] = "/tmp/okx-fleet-XXXXXX";
static char paths[8][64];
static size_t n_paths;
static struct fleet f;

static void init(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void fini(void)
{
	fleet_free(&f);
	for (size_t i = 0; i < n_paths; i++)
		unlink(paths[i]);
	rmdir(dir);
}

TestSuite(fleet, .init = init, .fini = fini);

/* A file in the test's folder holding text; its path. */
static const char *file(const char *name, const char *text)
{
	char *p = paths[n_paths++];
	FILE *o;

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	o = fopen(p, "w");
	cr_assert_not_null(o);
	fputs(text, o);
	cr_assert_eq(fclose(o), 0);
	return p;
}

static struct fleet_host *host(const char *name, const char *journal, const char *events, const char *absent)
{
	struct fleet_host *h;

	cr_assert_eq(fleet_add(&f, name), 0, "fleet_add %s", name);
	h = &f.h[f.n - 1];
	h->journal = journal;
	h->events = events;
	h->absent = absent;
	return h;
}

/* fleet_print's text */
static char *text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	cr_assert_not_null(m);
	fleet_print(&f, m);
	cr_assert_eq(fclose(m), 0);
	return buf;
}

Test(fleet, names)
{
	char long_name[FLEET_NAME_MAX + 2];

	cr_assert_eq(fleet_add(&f, "alpha"), 0);
	cr_assert_eq(fleet_add(&f, "alpha"), -EEXIST);
	cr_assert_eq(fleet_add(&f, ""), -EINVAL);
	cr_assert_eq(fleet_add(&f, "a\nb"), -EINVAL);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_assert_eq(fleet_add(&f, long_name), -EINVAL);
	long_name[FLEET_NAME_MAX] = '\0';
	cr_assert_eq(fleet_add(&f, long_name), 0);
	/* IPv6 literals and FQDNs are inventory names too */
	cr_assert_eq(fleet_add(&f, "2001:db8::1"), 0);
	cr_assert_eq(f.n, 3);
}

Test(fleet, check_names_the_host)
{
	char err[300];

	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "no host (--host NAME)");
	host("a", "j", NULL, "down");
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "host a: --journal and --absent both given"), "%s", err);
	f.h[0].absent = NULL;
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), 0);
	host("b", NULL, NULL, NULL);
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "host b: neither --journal nor --absent given");
	f.h[1].absent = "unreachable";
	f.h[1].events = "e";
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "host b: --events without --journal");
	f.h[1].events = NULL;
	f.h[1].no_events = "not collected";
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "host b: --no-events without --journal");
	f.h[0].events = "e";
	f.h[0].no_events = "lost";
	cr_assert_eq(fleet_check(&f, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "host a: --events and --no-events both given");
}

Test(fleet, every_host_judged_and_named)
{
	const char *ok = file("ok.jsonl", JOURNAL("h1", "2026-11-28T03:41:00Z", 40));
	const char *gap = file("gap.jsonl", JOURNAL("h2", "2026-11-28T03:41:00.5Z", 38));
	const char *err = file("err.json", EVENTS_ERROR), *none = file("none.json", EVENTS_NONE);
	const char *bad = file("bad.jsonl", "{\"event\":\"start\"\n");
	char *out;

	host("alpha", ok, err, NULL);
	host("charlie", gap, none, NULL);
	host("delta", NULL, NULL, "unreachable: ssh: connect to host 198.18.0.14 port 22: Connection refused");
	host("echo", ok, NULL, NULL);
	host("fox", bad, err, NULL);
	host("golf", ok, "/nonexistent/events.json", NULL);
	host("hotel", ok, NULL, NULL)->no_events = "/var/log/c.json did not appear on the host within 60 s";
	f.grace_ns = 5000000000LL;
	cr_assert_eq(fleet_run(&f), 0);
	cr_assert_eq(f.h[0].verdict, FLEET_PASS);
	cr_assert_eq(f.h[1].verdict, FLEET_FAIL);
	cr_assert(strstr(f.h[1].reason, "telemetry gap: window 0 hit packets"), "%s", f.h[1].reason);
	cr_assert_eq(f.h[2].verdict, FLEET_ABSENT);
	cr_assert_str_eq(f.h[2].reason, "unreachable: ssh: connect to host 198.18.0.14 port 22: Connection refused");
	cr_assert_eq(f.h[3].verdict, FLEET_NO_EVENTS);
	/* without events nothing is judged: not a telemetry gap */
	cr_assert_eq(f.h[3].r.w[0].diag, DIAG_UNKNOWN);
	cr_assert_eq(f.h[4].verdict, FLEET_BAD_INPUT);
	cr_assert(strstr(f.h[4].reason, "bad.jsonl:1:"), "%s", f.h[4].reason);
	cr_assert_eq(f.h[5].verdict, FLEET_BAD_INPUT);
	cr_assert(strstr(f.h[5].reason, "/nonexistent/events.json: No such file or directory"), "%s", f.h[5].reason);
	cr_assert_eq(f.h[6].verdict, FLEET_NO_EVENTS);
	cr_assert_str_eq(f.h[6].reason, "no connector events: /var/log/c.json did not appear on the host within 60 s: its 1 "
					"window is not judged");
	cr_assert_str_eq(f.h[3].reason, "no connector events given: its 1 window is not judged");
	cr_assert_not(f.pass);
	cr_assert_eq(f.n_verdict[FLEET_PASS], 1);
	cr_assert_eq(f.n_verdict[FLEET_BAD_INPUT], 2);
	cr_assert_str_eq(f.reason, "6 of 7 hosts fail: charlie (fail), delta (absent), echo (no_events), fox (bad_input), "
				   "golf (bad_input), hotel (no_events)");

	out = text();
	cr_assert(strstr(out, "fleet    7 hosts: 1 pass, 1 fail, 1 absent, 2 bad_input, 2 no_events; grace 5000ms\n"), "%s",
		  out);
	cr_assert(strstr(out, "\ndelta    absent     -"), "%s", out);
	cr_assert(strstr(out, "\ncharlie: fail, drill fleet_drill on h2, outcome completed (exit 0)\n"), "%s", out);
	cr_assert(strstr(out, "telemetry_gap\n"), "%s", out);
	/* the hosts' clocks side by side: who armed first, how far apart */
	cr_assert(strstr(out, "armed   2026-11-28T03:41:00.000000Z (alpha) to 2026-11-28T03:41:00.500000Z (charlie): "
			      "0.500 s apart, 5 hosts\n"),
		  "%s", out);
	cr_assert(strstr(out, "\nverdict  FAIL: 6 of 7 hosts fail: charlie (fail), delta (absent), "), "%s", out);
	free(out);
}

Test(fleet, passes_when_every_host_passes)
{
	const char *j1 = file("a.jsonl", JOURNAL("h1", "2026-11-28T03:41:00Z", 40));
	const char *j2 = file("b.jsonl", JOURNAL("h2", "2026-11-28T03:41:01Z", 41));
	const char *e = file("e.json", EVENTS_ERROR);
	char *out;

	host("alpha", j1, e, NULL);
	host("bravo", j2, e, NULL);
	cr_assert_eq(fleet_run(&f), 0);
	cr_assert(f.pass);
	cr_assert_str_eq(f.reason, "every host's windows pass (2 hosts)");
	out = text();
	cr_assert(strstr(out, "\nverdict  PASS: every host's windows pass (2 hosts)\n"), "%s", out);
	free(out);
}

Test(fleet, one_absent_host_fails_the_fleet)
{
	host("alpha", NULL, NULL, "okx-faultd exited 2: p: refused");
	cr_assert_eq(fleet_run(&f), 0);
	cr_assert_not(f.pass);
	cr_assert_str_eq(f.reason, "1 of 1 host fails: alpha (absent)");
}

Test(fleet, json_report)
{
	const char *j1 = file("a.jsonl", JOURNAL("h1", "2026-11-28T03:41:00Z", 40));
	const char *e = file("e.json", EVENTS_ERROR), *none = file("n.json", EVENTS_NONE);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	cJSON *root, *hosts, *h, *w, *gate;

	host("alpha", j1, e, NULL);
	host("bravo", j1, none, NULL);
	host("delta", NULL, NULL, "unreachable");
	cr_assert_eq(fleet_run(&f), 0);
	cr_assert_not_null(m);
	cr_assert_eq(fleet_json(&f, m), 0);
	cr_assert_eq(fclose(m), 0);
	root = cJSON_Parse(buf);
	cr_assert_not_null(root, "%s", buf);
	cr_assert_eq(cJSON_GetObjectItem(root, "version")->valuedouble, 1);
	cr_assert_str_eq(cJSON_GetObjectItem(root, "kind")->valuestring, "fleet");
	hosts = cJSON_GetObjectItem(root, "hosts");
	cr_assert_eq(cJSON_GetArraySize(hosts), 3);
	h = cJSON_GetArrayItem(hosts, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(h, "verdict")->valuestring, "pass");
	cr_assert_str_eq(cJSON_GetObjectItem(h, "armed")->valuestring, "2026-11-28T03:41:00.000000Z");
	w = cJSON_GetArrayItem(cJSON_GetObjectItem(h, "windows"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(w, "diagnosis")->valuestring, "ok");
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(w, "hits"), "packets")->valuedouble, 40);
	cr_assert_eq(cJSON_GetObjectItem(w, "errors")->valuedouble, 1);
	h = cJSON_GetArrayItem(hosts, 1);
	cr_assert_str_eq(cJSON_GetObjectItem(h, "verdict")->valuestring, "fail");
	h = cJSON_GetArrayItem(hosts, 2);
	cr_assert_str_eq(cJSON_GetObjectItem(h, "verdict")->valuestring, "absent");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(h, "journal")));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(h, "windows")), 0);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "armed"), "spread_ms")->valuedouble, 0);
	gate = cJSON_GetObjectItem(root, "gate");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(gate, "pass")));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(gate, "failing_hosts")), 2);
	cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(gate, "failing_hosts"), 0)->valuestring, "bravo");
	cJSON_Delete(root);
	free(buf);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

Test(fleet, svg_one_lane_per_host)
{
	const char *j1 = file("a.jsonl", JOURNAL("h1", "2026-11-28T03:41:00Z", 40));
	const char *e = file("e.json", EVENTS_ERROR);
	const char *svg = file("fleet.svg", "");
	char *buf = NULL;
	size_t len = 0;
	FILE *in;

	host("alpha", j1, e, NULL);
	host("b&<c>", j1, NULL, NULL);
	host("delta", NULL, NULL, "unreachable: \"no route\"");
	host("echo", NULL, NULL, "okx-faultd --check refused the policy: drill.policy:5: unknown key 'colour'; "
				 "drill.policy:6: unknown key 'flavour'; drill.policy:7: unknown key 'odour'; "
				 "zzzz end of the reason");
	cr_assert_eq(fleet_run(&f), 0);
	cr_assert_eq(fleet_svg_file(&f, svg), 0);
	in = fopen(svg, "r");
	cr_assert_not_null(in);
	cr_assert_eq(getdelim(&buf, &len, '\0', in) > 0, true);
	fclose(in);
	cr_assert_eq(count(buf, "class=\"lane\""), 4);
	cr_assert_eq(count(buf, "<g id=\"axis\""), 2, "an axis per host with a journal");
	cr_assert(strstr(buf, "b&amp;&lt;c&gt;"));
	cr_assert(strstr(buf, "unreachable: &quot;no route&quot;"));
	/* a reason too long for the width is cut, whole in the lane's title */
	cr_assert(strstr(buf, "\xe2\x80\xa6</tspan>"), "the long reason is not cut");
	cr_assert(strstr(buf, "zzzz end of the reason</title>"));
	cr_assert(strstr(buf, "fleet drill, 4 hosts <tspan fill=\"#c62828\">FAIL</tspan>"));
	cr_assert(strstr(buf, "</svg>\n"));
	free(buf);
	cr_assert_eq(fleet_svg_file(&f, "/nonexistent/dir/fleet.svg"), -ENOENT);
}
