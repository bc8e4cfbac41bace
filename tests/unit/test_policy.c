/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy.h"

#define BASE "name = t\ntarget = 198.18.0.0/24\n"
#define BASE_FAULT BASE "fault = drop 1s\n"

static int parse(const char *text, struct policy *p, char **err)
{
	return policy_parse_buffer(p, "t.policy", text, strlen(text), err);
}

static char *print_to_string(const struct policy *p)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	cr_assert_not_null(f);
	policy_print(p, f);
	cr_assert_eq(fclose(f), 0);
	return s;
}

/* parse, print, parse the printed text, print again: the same text */
static char *normalize_checked(const char *text)
{
	struct policy p, q;
	char *err = NULL, *once, *twice;
	int r = parse(text, &p, &err);

	cr_assert_eq(r, 0, "policy rejected:\n%s\n%s", text, err ? err : "");
	once = print_to_string(&p);
	policy_free(&p);
	r = parse(once, &q, &err);
	cr_assert_eq(r, 0, "normalized policy rejected:\n%s\n%s", once, err ? err : "");
	twice = print_to_string(&q);
	policy_free(&q);
	cr_assert_str_eq(once, twice, "not a fixed point");
	free(twice);
	return once;
}

static void expect_errors(const char *text, const char *expected)
{
	struct policy p;
	char *err = NULL;
	int r = parse(text, &p, &err);

	cr_assert_eq(r, -EINVAL, "accepted (r=%d):\n%s", r, text);
	cr_assert_not_null(err);
	cr_assert_str_eq(err, expected, "policy:\n%s", text);
	free(err);
	policy_free(&p); /* zeroed on failure: must be harmless */
}

Test(policy, defaults)
{
	struct policy p;
	char *err = NULL;

	cr_assert_eq(parse(BASE_FAULT, &p, &err), 0);
	cr_assert_null(err);
	cr_assert_str_eq(p.path, "t.policy");
	cr_assert_str_eq(p.name, "t");
	cr_assert_eq(p.n_targets, 1);
	cr_assert_eq(p.targets[0].family, AF_INET);
	cr_assert_eq(p.targets[0].len, 24);
	cr_assert_eq(p.n_hosts, 0);
	cr_assert_eq(p.n_ports, 0);
	cr_assert_eq(p.protocol, PROTO_TCP);
	cr_assert_eq(p.n_exempt, 0);
	cr_assert_eq(p.n_exempt_ports, 1);
	cr_assert_eq(p.exempt_ports[0].lo, 22);
	cr_assert_eq(p.exempt_ports[0].hi, 22);
	cr_assert_eq(p.direction, DIR_BOTH);
	cr_assert_str_eq(p.interface, "");
	cr_assert_eq(p.arm_min_flows, 1);
	cr_assert_eq(p.arm_min_packets, 0);
	cr_assert_eq(p.arm_min_bytes, 0);
	cr_assert_eq(p.arm_window_ms, 0);
	cr_assert_eq(p.arm_delay_ms, 0);
	cr_assert_eq(p.arm_timeout_ms, 30 * 60 * 1000);
	cr_assert_eq(p.n_faults, 1);
	cr_assert_eq(p.faults[0].action, ACT_DROP);
	cr_assert_eq(p.faults[0].duration_ms, 1000);
	cr_assert_eq(p.faults[0].line, 3);
	cr_assert_eq(p.repeat, 1);
	cr_assert_null(p.journal);
	cr_assert_eq(p.allow_broad, false);
	cr_assert_eq(policy_n_steps(&p), 1);
	policy_free(&p);
	cr_assert_null(p.targets);
	policy_free(&p); /* twice: zeroed */
	policy_free(NULL);
}

Test(policy, every_field)
{
	static const char text[] = "name = all.keys-1\n"
				   "target = 198.18.0.0/24\n"
				   "target = 2001:2::/48\n"
				   "target_host = www.okx.com\n"
				   "port = 443\n"
				   "port = 9000-9100, 8443\n"
				   "protocol = udp\n"
				   "exempt = 198.18.0.3\n"
				   "exempt_port = 53\n"
				   "direction = egress\n"
				   "interface = veth-c\n"
				   "arm_min_flows = 3\n"
				   "arm_min_packets = 10\n"
				   "arm_min_bytes = 1500\n"
				   "arm_window = 5m\n"
				   "arm_delay = 5s\n"
				   "arm_timeout = 20m\n"
				   "fault = drop 90s\n"
				   "fault = reject 10s\n"
				   "fault = reject 10s with=icmp-admin\n"
				   "fault = loss 1m percent=12.5\n"
				   "fault = delay 2m latency=100ms jitter=10ms loss=1.5\n"
				   "fault = pause 30s\n"
				   "repeat = 3\n"
				   "journal = /tmp/j.jsonl\n"
				   "allow_broad = yes\n";
	struct policy p;
	char *err = NULL;

	cr_assert_eq(parse(text, &p, &err), 0, "%s", err ? err : "");
	cr_assert_str_eq(p.name, "all.keys-1");
	cr_assert_eq(p.n_targets, 2);
	cr_assert_eq(p.targets[1].family, AF_INET6);
	cr_assert_eq(p.targets[1].len, 48);
	cr_assert_eq(p.n_hosts, 1);
	cr_assert_str_eq(p.hosts[0].name, "www.okx.com");
	cr_assert_eq(p.hosts[0].line, 4);
	cr_assert_eq(p.n_ports, 3);
	cr_assert_eq(p.ports[0].lo, 443);
	cr_assert_eq(p.ports[1].lo, 8443);
	cr_assert_eq(p.ports[2].lo, 9000);
	cr_assert_eq(p.ports[2].hi, 9100);
	cr_assert_eq(p.protocol, PROTO_UDP);
	cr_assert_eq(p.n_exempt, 1);
	cr_assert_eq(p.n_exempt_ports, 1);
	cr_assert_eq(p.exempt_ports[0].lo, 53);
	cr_assert_eq(p.direction, DIR_EGRESS);
	cr_assert_str_eq(p.interface, "veth-c");
	cr_assert_eq(p.arm_min_flows, 3);
	cr_assert_eq(p.arm_min_packets, 10);
	cr_assert_eq(p.arm_min_bytes, 1500);
	cr_assert_eq(p.arm_window_ms, 300000);
	cr_assert_eq(p.arm_delay_ms, 5000);
	cr_assert_eq(p.arm_timeout_ms, 1200000);
	cr_assert_eq(p.n_faults, 6);
	cr_assert_eq(p.faults[0].action, ACT_DROP);
	cr_assert_eq(p.faults[0].duration_ms, 90000);
	cr_assert_eq(p.faults[1].action, ACT_REJECT);
	cr_assert_eq(p.faults[1].with, REJ_ICMP_PORT, "default with= for udp");
	cr_assert_eq(p.faults[2].with, REJ_ICMP_ADMIN);
	cr_assert_eq(p.faults[3].action, ACT_LOSS);
	cr_assert_eq(p.faults[3].percent, 12500);
	cr_assert_eq(p.faults[4].action, ACT_DELAY);
	cr_assert_eq(p.faults[4].latency_ms, 100);
	cr_assert_eq(p.faults[4].jitter_ms, 10);
	cr_assert_eq(p.faults[4].loss, 1500);
	cr_assert_eq(p.faults[5].action, ACT_PAUSE);
	cr_assert_eq(p.faults[5].line, 23);
	cr_assert_eq(p.repeat, 3);
	cr_assert_eq(policy_n_steps(&p), 18);
	cr_assert_str_eq(p.journal, "/tmp/j.jsonl");
	cr_assert(p.allow_broad);
	policy_free(&p);
}

Test(policy, reject_default_tcp)
{
	struct policy p;
	char *err = NULL;

	cr_assert_eq(parse(BASE "fault = reject 1s\n", &p, &err), 0);
	cr_assert_eq(p.faults[0].with, REJ_TCP_RESET);
	policy_free(&p);
	cr_assert_eq(parse(BASE "protocol = any\nfault = reject 1s\n", &p, &err), 0);
	cr_assert_eq(p.faults[0].with, REJ_ICMP_PORT);
	policy_free(&p);
}

/* expect=: each action's default, an override, and the normalized form,
 * which spells out only an override of the default (okx-faultd.policy(5)) */
Test(policy, expect_per_fault)
{
	static const struct {
		const char *line;
		enum expect want;
		const char *printed;
	} cases[] = {
		{ "fault = drop 1s", EXPECT_ERRORS, "fault = drop 1s\n" },
		{ "fault = reject 1s", EXPECT_ERRORS, "fault = reject 1s with=tcp-reset\n" },
		{ "fault = loss 1s percent=5", EXPECT_ANY, "fault = loss 1s percent=5\n" },
		{ "fault = delay 1s latency=300ms", EXPECT_ANY, "fault = delay 1s latency=300ms\n" },
		{ "fault = delay 1s expect=latency latency=300ms", EXPECT_LATENCY,
		  "fault = delay 1s latency=300ms expect=latency\n" },
		{ "fault = delay 1s latency=300ms expect=any", EXPECT_ANY, "fault = delay 1s latency=300ms\n" },
		{ "fault = drop 1s expect=any", EXPECT_ANY, "fault = drop 1s expect=any\n" },
		{ "fault = drop 1s expect=errors", EXPECT_ERRORS, "fault = drop 1s\n" },
		{ "fault = loss 1s percent=5 expect=errors", EXPECT_ERRORS, "fault = loss 1s percent=5 expect=errors\n" },
		{ "fault = reject 1s with=icmp-port expect=latency", EXPECT_LATENCY,
		  "fault = reject 1s with=icmp-port expect=latency\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy p;
		char text[256], *err = NULL, *out;

		snprintf(text, sizeof(text), BASE "%s\n", cases[i].line);
		cr_assert_eq(parse(text, &p, &err), 0, "%s: %s", cases[i].line, err ? err : "");
		cr_assert_eq(p.faults[0].expect, cases[i].want, "%s", cases[i].line);
		policy_free(&p);
		out = normalize_checked(text);
		cr_assert(strstr(out, cases[i].printed), "%s: printed\n%s", cases[i].line, out);
		free(out);
	}
	/* dns: errors */
	{
		struct policy p;
		char *err = NULL;

		cr_assert_eq(parse("name = t\ntarget_host = okx.example\nfault = dns 1s\nfault = dns 1s expect=latency\n",
				   &p, &err), 0, "%s", err ? err : "");
		cr_assert_eq(p.faults[0].expect, EXPECT_ERRORS);
		cr_assert_eq(p.faults[1].expect, EXPECT_LATENCY);
		policy_free(&p);
	}
	cr_assert_str_eq(expect_name(EXPECT_ERRORS), "errors");
	cr_assert_str_eq(expect_name(EXPECT_LATENCY), "latency");
	cr_assert_str_eq(expect_name(EXPECT_ANY), "any");
}

/* One key line added to BASE (or replacing the fault) and the line of the
 * normalized output that must show it. */
struct key_case {
	char line[160];
	char printed[160];
};

ParameterizedTestParameters(policy, keys)
{
	static struct key_case cases[] = {
		{ "allow_broad = yes\nfault = drop 1s", "allow_broad = yes\n" },
		{ "allow_broad = no\nfault = drop 1s", "allow_broad = no\n" },
		{ "arm_delay = 5s\nfault = drop 1s", "arm_delay = 5s\n" },
		{ "arm_delay = 0s\nfault = drop 1s", "arm_delay = 0s\n" },
		{ "arm_delay = 0ms\nfault = drop 1s", "arm_delay = 0s\n" },
		{ "arm_delay = 60000ms\nfault = drop 1s", "arm_delay = 1m\n" },
		{ "arm_min_bytes = 1000000000000\nfault = drop 1s", "arm_min_bytes = 1000000000000\n" },
		{ "arm_min_bytes = 0\nfault = drop 1s", "arm_min_bytes = 0\n" },
		{ "arm_min_flows = 0\nfault = drop 1s", "arm_min_flows = 0\n" },
		{ "arm_min_flows = 007\nfault = drop 1s", "arm_min_flows = 7\n" },
		{ "arm_min_packets = 42\nfault = drop 1s", "arm_min_packets = 42\n" },
		{ "arm_timeout = 20m\nfault = drop 1s", "arm_timeout = 20m\n" },
		{ "arm_timeout = 24h\nfault = drop 1s", "arm_timeout = 24h\n" },
		{ "arm_window = 120s\nfault = drop 1s", "arm_window = 2m\n" },
		{ "direction = egress\nfault = drop 1s", "direction = egress\n" },
		{ "direction = ingress\nfault = drop 1s", "direction = ingress\n" },
		{ "direction = both\nfault = drop 1s", "direction = both\n" },
		{ "exempt = 198.18.0.3/32\nfault = drop 1s", "exempt = 198.18.0.3\n" },
		{ "exempt = 2001:2:0:0::53\nfault = drop 1s", "exempt = 2001:2::53\n" },
		{ "exempt = 203.0.113.0/24\nfault = drop 1s", "exempt = 203.0.113.0/24\n" },
		{ "exempt_port = none\nfault = drop 1s", "exempt_port = none\n" },
		{ "exempt_port = 2222\nfault = drop 1s", "exempt_port = 2222\n" },
		{ "exempt_port = 22\nexempt_port = 9100-9200, 53\nfault = drop 1s", "exempt_port = 22,53,9100-9200\n" },
		{ "exempt_port = none\nexempt_port = none\nfault = drop 1s", "exempt_port = none\n" },
		{ "fault = drop 90s", "fault = drop 90s\n" },
		{ "fault = drop 1500ms", "fault = drop 1500ms\n" },
		{ "fault = reject 10s", "fault = reject 10s with=tcp-reset\n" },
		{ "fault = reject 10s with=tcp-reset", "fault = reject 10s with=tcp-reset\n" },
		{ "fault = reject 10s with=icmp-port", "fault = reject 10s with=icmp-port\n" },
		{ "fault = reject 10s with=icmp-host", "fault = reject 10s with=icmp-host\n" },
		{ "fault = reject 10s with=icmp-net", "fault = reject 10s with=icmp-net\n" },
		{ "fault = reject 10s with=icmp-admin", "fault = reject 10s with=icmp-admin\n" },
		{ "protocol = udp\nfault = reject 10s", "fault = reject 10s with=icmp-port\n" },
		{ "fault = loss 1m percent=30%", "fault = loss 1m percent=30\n" },
		{ "fault = loss 1m percent=0.500", "fault = loss 1m percent=0.5\n" },
		{ "fault = delay 1m latency=100ms", "fault = delay 1m latency=100ms\n" },
		{ "fault = delay 1m loss=1.5% jitter=10ms latency=1000ms", "fault = delay 1m latency=1s jitter=10ms loss=1.5\n" },
		{ "fault = delay 1m latency=10ms jitter=10ms", "fault = delay 1m latency=10ms jitter=10ms\n" },
		{ "fault = delay 1m latency=10ms loss=0", "fault = delay 1m latency=10ms\n" },
		{ "fault = pause 1s\nfault = drop 1s", "fault = pause 1s\nfault = drop 1s\n" },
		{ "fault=drop\t2m   # why", "fault = drop 2m\n" },
		{ "interface = eth0\nfault = drop 1s", "interface = eth0\n" },
		{ "interface = abcdefghijklmno\nfault = drop 1s", "interface = abcdefghijklmno\n" },
		{ "journal = /tmp/a#b c.jsonl\nfault = drop 1s", "journal = /tmp/a#b c.jsonl\n" },
		{ "journal = rel/j.jsonl # comment\nfault = drop 1s", "journal = rel/j.jsonl\n" },
		{ "port = 443\nfault = drop 1s", "port = 443\n" },
		{ "port = 8443,443\nfault = drop 1s", "port = 443,8443\n" },
		{ "port = 1000-2000\nport = 1500-3000,3001\nfault = drop 1s", "port = 1000-3001\n" },
		{ "port = 443-443\nfault = drop 1s", "port = 443\n" },
		{ "port = 65535\nport = 1\nfault = drop 1s", "port = 1,65535\n" },
		{ "protocol = tcp\nfault = drop 1s", "protocol = tcp\n" },
		{ "protocol = udp\nfault = drop 1s", "protocol = udp\n" },
		{ "protocol = any\nfault = drop 1s", "protocol = any\n" },
		{ "repeat = 10000\nfault = drop 1s", "repeat = 10000\n" },
		{ "target = 198.18.1.0/24\nfault = drop 1s", "target = 198.18.0.0/24\ntarget = 198.18.1.0/24\n" },
		{ "target = 2001:DB8::/32\nfault = drop 1s", "target = 2001:db8::/32\n" },
		{ "target = 10.0.0.0/8\nfault = drop 1s", "target = 10.0.0.0/8\n" },
		{ "target = 2001::/16\nfault = drop 1s", "target = 2001::/16\n" },
		{ "target = 0.0.0.0/0\nallow_broad = yes\nfault = drop 1s", "target = 0.0.0.0/0\n" },
		{ "target_host = www.okx.com\nfault = drop 1s", "target_host = www.okx.com\n" },
		{ "target_host = WS.OKX.com.\nfault = drop 1s", "target_host = WS.OKX.com.\n" },
		{ "target_host = xn--bcher-kva.example\nfault = drop 1s", "target_host = xn--bcher-kva.example\n" },
		{ "target_host = localhost\nfault = drop 1s", "target_host = localhost\n" },
		{ "uid = nobody\nfault = drop 1s", "uid = nobody\n" },
		{ "uid = 0\nfault = drop 1s", "uid = 0\n" },
		{ "uid = 4294967294\nfault = drop 1s", "uid = 4294967294\n" },
		{ "uid = svc-okx.conn$\nuid = _x\nfault = drop 1s", "uid = svc-okx.conn$\nuid = _x\n" },
		{ "uid = 65534\nuid = nobody\nfault = drop 1s", "uid = 65534\nuid = nobody\n" },
		{ "cgroup = system.slice/connector.service\nfault = drop 1s", "cgroup = system.slice/connector.service\n" },
		{ "cgroup = /system.slice/x.service/\nfault = drop 1s", "cgroup = system.slice/x.service\n" },
		{ "cgroup = //okx\ncgroup = a/b\nfault = drop 1s", "cgroup = okx\ncgroup = a/b\n" },
		{ "uid = nobody\ncgroup = okx\nfault = drop 1s", "uid = nobody\ncgroup = okx\n" },
		{ "uid = nobody\ndirection = egress\nfault = delay 1s latency=10ms", "uid = nobody\n" },
		{ "netns = okx-conn_1.a\nfault = drop 1s", "netns = okx-conn_1.a\n" },
		{ "netns = /proc/1234/ns/net\nfault = drop 1s", "netns = /proc/1234/ns/net\n" },
		{ "netns = /run/netns/x\nfault = dns 1s\ntarget_host = a.example", "netns = /run/netns/x\n" },
	};
	return cr_make_param_array(struct key_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct key_case *c, policy, keys)
{
	char text[512], *out;

	snprintf(text, sizeof(text), BASE "%s\n", c->line);
	out = normalize_checked(text);
	cr_assert_not_null(strstr(out, c->printed), "'%s' not in:\n%s", c->printed, out);
	free(out);
}

Test(policy, print_full)
{
	static const char expected[] = "name = t\n"
				       "target = 198.18.0.0/24\n"
				       "target_host = www.okx.com\n"
				       "port = 443\n"
				       "protocol = tcp\n"
				       "exempt = 198.18.0.3\n"
				       "exempt_port = 22\n"
				       "direction = both\n"
				       "interface = eth0\n"
				       "arm_min_flows = 3\n"
				       "arm_min_calls = 4\n"
				       "arm_min_packets = 0\n"
				       "arm_min_bytes = 0\n"
				       "arm_window = 10m\n"
				       "arm_delay = 5s\n"
				       "arm_timeout = 20m\n"
				       "resolve_every = 1m\n"
				       "fault = drop 90s\n"
				       "fault = reject 1s with=tcp-reset\n"
				       "repeat = 2\n"
				       "journal = /tmp/x.jsonl\n"
				       "allow_broad = no\n";
	/* the same keys in another order, with noise */
	char *out = normalize_checked("# header\n"
				      "allow_broad=no\n"
				      "repeat = 2\r\n"
				      "fault = drop 90s\n"
				      "\n"
				      "  journal = /tmp/x.jsonl  \n"
				      "arm_timeout = 20m\n"
				      "arm_delay = 5s\n"
				      "arm_window = 600s\n"
				      "arm_min_flows = 3\n"
				      "resolve_every = 60s\n"
				      "arm_min_calls = 4\n"
				      "interface = eth0\n"
				      "exempt = 198.18.0.3\n"
				      "port = 443\n"
				      "target_host = www.okx.com\n"
				      "fault = reject 1s\n"
				      "target = 198.18.0.0/24\n"
				      "name = t\n");

	cr_assert_str_eq(out, expected);
	free(out);
}

Test(policy, print_all_ports_omitted)
{
	char *out = normalize_checked(BASE_FAULT "port = 1-100,101-65535\n");

	cr_assert_null(strstr(out, "\nport = "), "%s", out);
	cr_assert_not_null(strstr(out, "exempt_port = 22\n"));
	free(out);
}

struct err_case {
	char text[320];
	char err[400];
};

#define E(line, msg) "t.policy:" #line ": " msg "\n"

ParameterizedTestParameters(policy, errors)
{
	static struct err_case cases[] = {
		/* structure */
		{ BASE_FAULT "tagret = 198.18.1.0/24\n", E(4, "unknown key 'tagret'") },
		{ BASE_FAULT "Port = 443\n", E(4, "unknown key 'Port' (keys are lower case: 'port')") },
		{ BASE_FAULT "prot = tcp\n", E(4, "unknown key 'prot'") },
		{ BASE_FAULT "target host = x.example\n", E(4, "unknown key 'target host'") },
		{ BASE_FAULT "port 443\n", E(4, "missing '=' in 'port 443' (expected 'key = value')") },
		{ BASE_FAULT "= 443\n", E(4, "missing key before '='") },
		{ BASE_FAULT "port =\n", E(4, "empty value for 'port'") },
		{ BASE_FAULT "port =   # nothing\n", E(4, "empty value for 'port'") },
		{ BASE_FAULT "name = u\n", E(4, "'name' given twice (first on line 1)") },
		{ "name = t\nprotocol = tcp\ntarget = 198.18.0.0/24\nprotocol = udp\nfault = drop 1s\n",
		  E(4, "'protocol' given twice (first on line 2)") },
		{ BASE_FAULT "arm_delay = 1s\narm_delay = 1s\n", E(5, "'arm_delay' given twice (first on line 4)") },
		{ BASE_FAULT "repeat = 0\nrepeat = 2\n",
		  E(4, "invalid repeat '0' (an integer 1-10000)") E(5, "'repeat' given twice (first on line 4)") },
		{ "", "t.policy: missing required key 'name'\nt.policy: missing required key 'target' or 'target_host'\n"
		      "t.policy: missing required key 'fault'\n" },
		{ "name = t\nfault = drop 1s\n", "t.policy: missing required key 'target' or 'target_host'\n" },
		{ "target = 198.18.0.2\nfault = drop 1s\n", "t.policy: missing required key 'name'\n" },
		{ BASE, "t.policy: missing required key 'fault'\n" },
		/* name */
		{ "name = a b\ntarget = 198.18.0.2\nfault = drop 1s\n",
		  E(1, "invalid name 'a b' (1-64 characters from A-Z a-z 0-9 _ . -)") },
		{ "name = a/b\ntarget = 198.18.0.2\nfault = drop 1s\n",
		  E(1, "invalid name 'a/b' (1-64 characters from A-Z a-z 0-9 _ . -)") },
		{ "name = a#b\ntarget = 198.18.0.2\nfault = drop 1s\n",
		  E(1, "invalid name 'a#b' (1-64 characters from A-Z a-z 0-9 _ . -)") },
		/* targets */
		{ BASE_FAULT "target = 198.18.0.1/24\n",
		  E(4, "target '198.18.0.1/24' has host bits set; did you mean '198.18.0.0/24'?") },
		{ BASE_FAULT "target = 2001:2::1/48\n",
		  E(4, "target '2001:2::1/48' has host bits set; did you mean '2001:2::/48'?") },
		{ BASE_FAULT "target = 2001:db8::/129\n",
		  E(4, "target '2001:db8::/129' has an invalid prefix length (0-128 for IPv6)") },
		{ BASE_FAULT "target = 198.18.0.0/33\n",
		  E(4, "target '198.18.0.0/33' has an invalid prefix length (0-32 for IPv4)") },
		{ BASE_FAULT "target = 198.18.0.300\n",
		  E(4, "target '198.18.0.300' is not an IPv4 or IPv6 address or CIDR") },
		{ BASE_FAULT "target = www.okx.com\n", E(4, "target 'www.okx.com' is not an IPv4 or IPv6 address or CIDR") },
		{ BASE_FAULT "target = 10.0.0.0/7\n",
		  E(4, "target '10.0.0.0/7' is wider than /8; set 'allow_broad = yes' to allow it") },
		{ BASE_FAULT "target = ::/0\nallow_broad = no\n",
		  E(4, "target '::/0' is wider than /16; set 'allow_broad = yes' to allow it") },
		{ BASE_FAULT "target = 0.0.0.0/0\nallow_broad = maybe\n", E(5, "invalid allow_broad 'maybe' (yes or no)") },
		{ BASE_FAULT "allow_broad = true\n", E(4, "invalid allow_broad 'true' (yes or no)") },
		{ BASE_FAULT "exempt = 198.18.0.3/24\n",
		  E(4, "exempt '198.18.0.3/24' has host bits set; did you mean '198.18.0.0/24'?") },
		{ BASE_FAULT "exempt = nope\n", E(4, "exempt 'nope' is not an IPv4 or IPv6 address or CIDR") },
		{ BASE_FAULT "target_host = under_score.example\n",
		  E(4, "invalid target_host 'under_score.example': only letters, digits, '-' and '.' are allowed") },
		{ BASE_FAULT "target_host = a-.example\n", E(4, "invalid target_host 'a-.example': a label ends with '-'") },
		{ BASE_FAULT "target_host = -a.example\n", E(4, "invalid target_host '-a.example': a label starts with '-'") },
		{ BASE_FAULT "target_host = a..example\n", E(4, "invalid target_host 'a..example': empty label") },
		{ BASE_FAULT "target_host = .\n", E(4, "invalid target_host '.': empty") },
		{ BASE_FAULT "target_host = 1.2.3.4.5\n", E(4, "invalid target_host '1.2.3.4.5': the last label is all digits") },
		{ BASE_FAULT "target_host = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n",
		  E(4, "invalid target_host 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example': "
		       "a label is longer than 63 characters") },
		{ BASE_FAULT "target_host = 2001:2::1\n", E(4, "target_host '2001:2::1' is an address; use 'target = 2001:2::1'") },
		/* ports */
		{ BASE_FAULT "port = 0\n", E(4, "port '0' out of range (1-65535)") },
		{ BASE_FAULT "port = 65536\n", E(4, "port '65536' out of range (1-65535)") },
		{ BASE_FAULT "port = 99999999999\n", E(4, "port '99999999999' out of range (1-65535)") },
		{ BASE_FAULT "port = 2000-1000\n", E(4, "port range '2000-1000' is reversed (did you mean '1000-2000'?)") },
		{ BASE_FAULT "port = 0-10\n", E(4, "port '0' out of range (1-65535)") },
		{ BASE_FAULT "port = https\n",
		  E(4, "invalid port 'https' (a number 1-65535, a range a-b, or a comma list of those)") },
		{ BASE_FAULT "port = 0x50\n",
		  E(4, "invalid port '0x50' (a number 1-65535, a range a-b, or a comma list of those)") },
		{ BASE_FAULT "port = 1 - 2\n",
		  E(4, "invalid port '1 - 2' (a number 1-65535, a range a-b, or a comma list of those)") },
		{ BASE_FAULT "port = 443,,80\n", E(4, "empty item in port list") },
		{ BASE_FAULT "port = 0,65536\n", E(4, "port '0' out of range (1-65535)") E(4, "port '65536' out of range (1-65535)") },
		{ BASE_FAULT "port = 22\n",
		  E(4, "every 'port' is also an 'exempt_port' (default 22); nothing would be faulted; set 'exempt_port = none' to fault it") },
		{ BASE_FAULT "port = 80\nexempt_port = 1-1000\n",
		  E(4, "every 'port' is also an 'exempt_port' (line 5); nothing would be faulted") },
		{ BASE_FAULT "exempt_port = 0\n", E(4, "exempt_port '0' out of range (1-65535)") },
		{ BASE_FAULT "exempt_port = none,22\n", E(4, "exempt_port 'none' cannot be combined with ports") },
		{ BASE_FAULT "exempt_port = none\nexempt_port = 22\n",
		  E(5, "exempt_port '22' cannot be combined with 'none' (line 4)") },
		{ BASE_FAULT "exempt_port = 22\nexempt_port = none\n",
		  E(5, "exempt_port 'none' cannot be combined with ports (line 4)") },
		{ BASE_FAULT "exempt_port = None\n",
		  E(4, "invalid exempt_port 'None' (a number 1-65535, a range a-b, or a comma list of those)") },
		/* enumerations */
		{ BASE_FAULT "protocol = icmp\n", E(4, "invalid protocol 'icmp' (tcp, udp or any)") },
		{ BASE_FAULT "protocol = TCP\n", E(4, "invalid protocol 'TCP' (tcp, udp or any)") },
		{ BASE_FAULT "direction = out\n", E(4, "invalid direction 'out' (egress, ingress or both)") },
		{ BASE_FAULT "interface = eth/0\n",
		  E(4, "invalid interface name 'eth/0' (1-15 characters, no '/', ':' or white space)") },
		{ BASE_FAULT "interface = eth0:1\n",
		  E(4, "invalid interface name 'eth0:1' (1-15 characters, no '/', ':' or white space)") },
		{ BASE_FAULT "interface = a b\n",
		  E(4, "invalid interface name 'a b' (1-15 characters, no '/', ':' or white space)") },
		{ BASE_FAULT "interface = abcdefghijklmnop\n",
		  E(4, "invalid interface name 'abcdefghijklmnop' (1-15 characters, no '/', ':' or white space)") },
		{ BASE_FAULT "interface = ..\n",
		  E(4, "invalid interface name '..' (1-15 characters, no '/', ':' or white space)") },
		/* counts */
		{ BASE_FAULT "arm_min_flows = -1\n", E(4, "invalid arm_min_flows '-1' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_flows = +1\n", E(4, "invalid arm_min_flows '+1' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_packets = 0x10\n",
		  E(4, "invalid arm_min_packets '0x10' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_bytes = 1000000000001\n",
		  E(4, "invalid arm_min_bytes '1000000000001' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_bytes = 18446744073709551616\n",
		  E(4, "invalid arm_min_bytes '18446744073709551616' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_bytes = 1e6\n", E(4, "invalid arm_min_bytes '1e6' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "arm_min_bytes = 1 000\n",
		  E(4, "invalid arm_min_bytes '1 000' (a decimal integer 0-1000000000000)") },
		{ BASE_FAULT "repeat = 10001\n", E(4, "invalid repeat '10001' (an integer 1-10000)") },
		{ BASE_FAULT "repeat = -1\n", E(4, "invalid repeat '-1' (an integer 1-10000)") },
		/* durations */
		{ BASE_FAULT "arm_window = 0s\n", E(4, "arm_window '0s' out of range (1ms to 24h)") },
		{ BASE_FAULT "arm_timeout = 25h\n", E(4, "arm_timeout '25h' out of range (1ms to 24h)") },
		{ BASE_FAULT "arm_delay = 25h\n", E(4, "arm_delay '25h' out of range (0s, or 1ms to 24h)") },
		{ BASE_FAULT "arm_delay = 10\n", E(4, "arm_delay '10' has no unit (ms, s, m or h)") },
		{ BASE_FAULT "arm_delay = 0\n", E(4, "arm_delay '0' has no unit (ms, s, m or h)") },
		{ BASE_FAULT "arm_delay = 1.5s\n", E(4, "invalid arm_delay '1.5s' (an integer and a unit: ms, s, m or h)") },
		{ BASE_FAULT "arm_delay = -1s\n", E(4, "invalid arm_delay '-1s' (an integer and a unit: ms, s, m or h)") },
		{ BASE_FAULT "arm_delay = 1 s\n", E(4, "invalid arm_delay '1 s' (an integer and a unit: ms, s, m or h)") },
		{ BASE_FAULT "arm_window = 5min\n", E(4, "arm_window '5min' has an unknown unit (ms, s, m or h)") },
		{ BASE "fault = drop 0s\n", E(3, "fault duration '0s' out of range (1ms to 24h)") },
		{ BASE "fault = drop 25h\n", E(3, "fault duration '25h' out of range (1ms to 24h)") },
		{ BASE "fault = drop 10\n", E(3, "fault duration '10' has no unit (ms, s, m or h)") },
		{ BASE "fault = drop 1.5s\n", E(3, "invalid fault duration '1.5s' (an integer and a unit: ms, s, m or h)") },
		{ BASE "fault = drop -1s\n", E(3, "invalid fault duration '-1s' (an integer and a unit: ms, s, m or h)") },
		{ BASE "fault = drop\n", E(3, "fault 'drop' needs a duration, e.g. 'drop 90s'") },
		/* faults */
		{ BASE "fault = blackhole 90s\n", E(3, "unknown action 'blackhole' (drop, reject, loss, delay, dns or pause)") },
		{ BASE "fault = Drop 90s\n", E(3, "unknown action 'Drop' (drop, reject, loss, delay, dns or pause)") },
		{ BASE "fault = drop 1s with=tcp-reset\n", E(3, "unknown option 'with' for 'drop' (expect)") },
		{ BASE_FAULT "fault = pause 1s x\n", E(4, "'pause' takes no options, got 'x'") },
		{ BASE "fault = reject 1s with=tcp-rst\n",
		  E(3, "invalid with 'tcp-rst' (tcp-reset, icmp-port, icmp-host, icmp-net or icmp-admin)") },
		{ BASE "fault = reject 1s with=default\n",
		  E(3, "invalid with 'default' (tcp-reset, icmp-port, icmp-host, icmp-net or icmp-admin)") },
		{ BASE "fault = reject 1s percent=5\n", E(3, "unknown option 'percent' for 'reject' (with or expect)") },
		{ BASE "fault = reject 1s with=icmp-port with=icmp-host\n", E(3, "option 'with' given twice") },
		{ BASE "fault = reject 1s with=\n", E(3, "empty value for option 'with'") },
		{ BASE "fault = loss 1s\n", E(3, "'loss' needs percent=P (e.g. percent=30)") },
		{ BASE "fault = loss 1s percent=101\n",
		  E(3, "invalid percent '101' (a percentage 0-100, up to 3 decimals, optional %)") },
		{ BASE "fault = loss 1s percent=1.2345\n",
		  E(3, "invalid percent '1.2345' (a percentage 0-100, up to 3 decimals, optional %)") },
		{ BASE "fault = loss 1s percent 30\n",
		  E(3, "missing '=' in fault option 'percent' (write name=value, no spaces)") },
		{ BASE "fault = loss 1s percent = 30\n",
		  E(3, "missing '=' in fault option 'percent' (write name=value, no spaces)") },
		{ BASE "fault = loss 1s prcent=30\n", E(3, "unknown option 'prcent' for 'loss' (percent or expect)") },
		{ BASE "fault = delay 1s\n", E(3, "'delay' needs latency=DURATION (e.g. latency=200ms)") },
		{ BASE "fault = delay 1s jitter=1ms\n", E(3, "'delay' needs latency=DURATION (e.g. latency=200ms)") },
		{ BASE "fault = delay 1s latency=10ms jitter=11ms\n", E(3, "jitter '11ms' exceeds latency '10ms'") },
		{ BASE "fault = delay 1s latency=10 \n", E(3, "latency '10' has no unit (ms, s, m or h)") },
		{ BASE "fault = delay 1s latency=0ms\n", E(3, "latency '0ms' out of range (1ms to 24h)") },
		{ BASE "fault = delay 1s latency=1ms jitter=0ms\n", E(3, "jitter '0ms' out of range (1ms to 24h)") },
		{ BASE "fault = delay 1s latency=1ms loss=200\n",
		  E(3, "invalid loss '200' (a percentage 0-100, up to 3 decimals, optional %)") },
		{ BASE "fault = delay 1s latency=1ms with=tcp-reset\n",
		  E(3, "unknown option 'with' for 'delay' (latency, jitter, loss or expect)") },
		{ BASE "fault = drop 1s expect=latncy\n", E(3, "invalid expect 'latncy' (errors, latency or any)") },
		{ BASE "fault = delay 1s latency=5ms expect=Latency\n",
		  E(3, "invalid expect 'Latency' (errors, latency or any)") },
		{ BASE "fault = drop 1s expect=\n", E(3, "empty value for option 'expect'") },
		{ BASE "fault = drop 1s expect=errors expect=any\n", E(3, "option 'expect' given twice") },
		{ BASE_FAULT "fault = pause 1s expect=errors\n", E(4, "'pause' takes no options, got 'expect=errors'") },
		{ BASE "fault = loss 1s expect=any\n", E(3, "'loss' needs percent=P (e.g. percent=30)") },
		{ BASE "fault = pause 1s\n", E(3, "the only fault is a 'pause'; nothing would be injected") },
		{ BASE "fault = pause 1s\nfault = pause 2s\nrepeat = 5\n",
		  E(3, "every fault is a 'pause' (lines 3-4); nothing would be injected") },
		{ BASE "protocol = udp\nfault = reject 1s with=tcp-reset\n",
		  E(4, "'with=tcp-reset' needs protocol tcp, but protocol is 'udp' (line 3)") },
		{ BASE "fault = reject 1s with=tcp-reset\nprotocol = any\n",
		  E(3, "'with=tcp-reset' needs protocol tcp, but protocol is 'any' (line 4)") },
		/* no cascades: a bad value does not also count as missing */
		{ "name = a b\ntarget = nope\nfault = pause\n",
		  E(1, "invalid name 'a b' (1-64 characters from A-Z a-z 0-9 _ . -)")
		  E(2, "target 'nope' is not an IPv4 or IPv6 address or CIDR")
		  E(3, "fault 'pause' needs a duration, e.g. 'pause 90s'") },
		{ BASE "protocol = sctp\nfault = reject 1s with=tcp-reset\n",
		  E(3, "invalid protocol 'sctp' (tcp, udp or any)") },
		/* limits: what the drill would refuse, with the line */
		{ BASE "fault = delay 1s latency=271s\n",
		  E(3, "delay latency '271s' is more than tc netem can encode (at most 270s)") },
		{ BASE "fault = delay 1s latency=270001ms\n",
		  E(3, "delay latency '270001ms' is more than tc netem can encode (at most 270s)") },
		{ BASE "fault = delay 1s latency=1h jitter=5m\n",
		  E(3, "delay latency '1h' is more than tc netem can encode (at most 270s)")
		  E(3, "delay jitter '5m' is more than tc netem can encode (at most 270s)") },
		{ BASE "exempt = 198.18.0.0/24\nfault = drop 1s\n",
		  E(3, "'exempt' covers every target (line 2); nothing would be faulted") },
		{ BASE "exempt = 0.0.0.0/0\nfault = drop 1s\n",
		  E(3, "'exempt' covers every target (line 2); nothing would be faulted") },
		{ BASE "exempt = 198.18.0.128/25\nexempt = 198.18.0.0/26\nexempt = 198.18.0.64/26\nfault = drop 1s\n",
		  E(3, "'exempt' covers every target (line 2); nothing would be faulted") },
		{ "name = t\ntarget = 2001:db8::/127\nexempt = 2001:db8::1\nexempt = 2001:db8::\nfault = drop 1s\n",
		  E(3, "'exempt' covers every target (line 2); nothing would be faulted") },
		{ "name = t\ntarget = 255.255.255.254/31\nexempt = 255.255.255.255\nexempt = 255.255.255.254\nfault = drop 1s\n",
		  E(3, "'exempt' covers every target (line 2); nothing would be faulted") },
		{ BASE "exempt_port = 1-65535\nfault = drop 1s\n",
		  E(3, "'exempt_port' covers every port (1-65535); nothing would be faulted") },
		{ BASE "exempt_port = 1-1000,1001-65535\nport = 1-65535\nfault = drop 1s\n",
		  E(3, "'exempt_port' covers every port (1-65535); nothing would be faulted") },
		{ BASE "arm_window = 1m\narm_min_flows = 1000000000000\nfault = drop 1s\n",
		  E(4, "arm_min_flows 1000000000000 with 'arm_window' (line 3): at most 100000 flows can be tracked in a window") },
		{ BASE "arm_min_flows = 100001\nfault = drop 1s\narm_window = 1s\n",
		  E(3, "arm_min_flows 100001 with 'arm_window' (line 5): at most 100000 flows can be tracked in a window") },
		/* scope */
		{ BASE_FAULT "uid = 1nobody\n", E(4, "invalid uid '1nobody': a number must be 0-4294967294") },
		{ BASE_FAULT "uid = 4294967295\n", E(4, "invalid uid '4294967295': a number must be 0-4294967294") },
		{ BASE_FAULT "uid = 007\n", E(4, "invalid uid '007': a number has no leading zeros") },
		{ BASE_FAULT "uid = -1\n", E(4, "invalid uid '-1': a user name starts with a letter or '_'") },
		{ BASE_FAULT "uid = a$b\n",
		  E(4, "invalid uid 'a$b': a user name has letters, digits, '_', '.', '-' and an optional final '$'") },
		{ BASE_FAULT "uid = abcdefghijabcdefghijabcdefghijabc\n",
		  E(4, "invalid uid 'abcdefghijabcdefghijabcdefghijabc': a user name has at most 32 characters") },
		{ BASE_FAULT "uid = nobody\nuid = nobody\n", E(5, "uid 'nobody' given twice (first on line 4)") },
		{ BASE_FAULT "cgroup = /\n",
		  E(4, "cgroup '/' is the root cgroup, which holds every socket; leave 'cgroup' out instead") },
		{ BASE_FAULT "cgroup = a//b\n", E(4, "invalid cgroup 'a//b': empty, '.' or '..' component") },
		{ BASE_FAULT "cgroup = a/../b\n", E(4, "invalid cgroup 'a/../b': empty, '.' or '..' component") },
		{ BASE_FAULT "cgroup = ./a\n", E(4, "invalid cgroup './a': empty, '.' or '..' component") },
		{ BASE_FAULT "cgroup = a b\n", E(4, "invalid cgroup 'a b': white space in the path") },
		{ BASE_FAULT "cgroup = a\ncgroup = /a/\n", E(5, "cgroup 'a' given twice (first on line 4)") },
		{ BASE_FAULT "netns = a/b\n",
		  E(4, "invalid netns 'a/b' (a name under /run/netns, or an absolute path such as /proc/PID/ns/net)") },
		{ BASE_FAULT "netns = ..\n",
		  E(4, "invalid netns '..' (a name under /run/netns, or an absolute path such as /proc/PID/ns/net)") },
		{ BASE_FAULT "netns = a\nnetns = b\n", E(5, "'netns' given twice (first on line 4)") },
		{ BASE_FAULT "uid = nobody\ndirection = ingress\n",
		  E(5, "'direction = ingress' cannot be scoped by 'uid' (line 4): received packets have no socket owner, "
		       "a uid or cgroup scope acts on egress only") },
		{ BASE "direction = ingress\ncgroup = okx\nfault = drop 1s\n",
		  E(3, "'direction = ingress' cannot be scoped by 'cgroup' (line 4): received packets have no socket owner, "
		       "a uid or cgroup scope acts on egress only") },
		{ BASE "target_host = a.example\nuid = 0\nfault = dns 1s\n",
		  E(5, "'dns' cannot be scoped by 'uid' (line 4): it also acts where queries are received or forwarded, "
		       "where packets have no socket owner; use 'netns' to drill one service's queries") },
	};
	return cr_make_param_array(struct err_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct err_case *c, policy, errors)
{
	expect_errors(c->text, c->err);
}

Test(policy, all_errors_in_line_order)
{
	expect_errors("# several errors\n"
		      "name = bad name\n"
		      "target = 198.18.0.1/24\n"
		      "target = 0.0.0.0/0\n"
		      "port = 0\n"
		      "protocol = udp\n"
		      "protocol = tcp\n"
		      "fault = reject 10s with=tcp-reset\n"
		      "fault = delay 1m\n"
		      "tagret = 198.18.0.0/24\n",
		      E(2, "invalid name 'bad name' (1-64 characters from A-Z a-z 0-9 _ . -)")
		      E(3, "target '198.18.0.1/24' has host bits set; did you mean '198.18.0.0/24'?")
		      E(4, "target '0.0.0.0/0' is wider than /8; set 'allow_broad = yes' to allow it")
		      E(5, "port '0' out of range (1-65535)")
		      E(7, "'protocol' given twice (first on line 6)")
		      E(8, "'with=tcp-reset' needs protocol tcp, but protocol is 'udp' (line 6)")
		      E(9, "'delay' needs latency=DURATION (e.g. latency=200ms)")
		      E(10, "unknown key 'tagret'"));
}

/* Limits accepted right at the edge, and the same sizes where they feed
 * nothing (no arm_window, a target_host the drill resolves). */
Test(policy, limits_at_the_edge)
{
	static const char *const ok[] = {
		BASE "fault = delay 1s latency=270s jitter=270s\n",
		BASE "arm_window = 1m\narm_min_flows = 100000\nfault = drop 1s\n",
		BASE "arm_min_flows = 1000000000000\nfault = drop 1s\n",
		BASE "exempt = 198.18.0.0/25\nexempt = 198.18.0.129/32\nexempt = 198.18.0.130/31\nfault = drop 1s\n",
		BASE "exempt = 198.18.0.0/24\ntarget = 198.18.1.0/24\nfault = drop 1s\n",
		BASE "exempt = 198.18.0.0/24\ntarget_host = example.invalid\nfault = drop 1s\n",
		BASE "exempt = 2001:db8::/32\nfault = drop 1s\n",
		BASE "exempt_port = 2-65535\nfault = drop 1s\n",
		BASE "exempt_port = 1-65534\nfault = drop 1s\n",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct policy p;
		char *err = NULL;

		cr_expect_eq(parse(ok[i], &p, &err), 0, "rejected:\n%s\n%s", ok[i], err ? err : "");
		free(err);
		policy_free(&p);
	}
}

static char *faults_policy(size_t n)
{
	size_t len = strlen(BASE) + n * 16 + 1;
	char *s = malloc(len), *w;

	cr_assert_not_null(s);
	w = s + sprintf(s, "%s", BASE);
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "fault = drop 1s\n");
	return s;
}

Test(policy, fault_count_cap)
{
	struct policy p;
	char *err = NULL, *text = faults_policy(POLICY_MAX_FAULTS);

	cr_assert_eq(parse(text, &p, &err), 0, "%s", err ? err : "");
	cr_expect_eq(p.n_faults, POLICY_MAX_FAULTS);
	policy_free(&p);
	free(text);
	text = faults_policy(POLICY_MAX_FAULTS + 500);
	/* the first fault line past the cap: 2 lines of BASE, then faults */
	expect_errors(text, "t.policy:1003: too many faults: 1500, at most 1000 fault lines\n");
	free(text);
}

Test(policy, comments)
{
	char *out = normalize_checked("#!comment\n"
				      "\t# indented comment\n"
				      "name=t # comment\n"
				      "target\t=\t198.18.0.0/24\t# after a tab\n"
				      "   \t  \n"
				      "journal = /var/tmp/a#1 #comment\n"
				      "fault=drop 1s #\n"
				      "#\n");

	cr_assert_not_null(strstr(out, "journal = /var/tmp/a#1\n"), "%s", out);
	free(out);
	/* '#' not after white space is part of the value */
	expect_errors("name = t#x\ntarget = 198.18.0.2\nfault = drop 1s\n",
		      E(1, "invalid name 't#x' (1-64 characters from A-Z a-z 0-9 _ . -)"));
}

Test(policy, crlf_like_lf)
{
	char *lf = normalize_checked("name = t\ntarget = 198.18.0.0/24\nport = 443\n\nfault = drop 30s # c\n");
	char *crlf = normalize_checked("name = t\r\ntarget = 198.18.0.0/24\r\nport = 443\r\n\r\nfault = drop 30s # c\r\n");

	cr_assert_str_eq(lf, crlf);
	free(lf);
	free(crlf);
	expect_errors("name = t\r\ntarget = 198.18.0.0/24\r\nport = 0\r\nfault = drop 1s\r\n",
		      E(3, "port '0' out of range (1-65535)"));
	/* a CR inside a line is a control character */
	expect_errors(BASE_FAULT "port = 4\r43\n", E(4, "control character 0x0d at column 9"));
}

Test(policy, no_final_newline)
{
	char *out = normalize_checked("name = t\ntarget = 198.18.0.2\nfault = drop 1s");

	cr_assert_not_null(strstr(out, "fault = drop 1s\n"));
	free(out);
}

static void expect_buffer_errors(const char *buf, size_t len, const char *expected)
{
	struct policy p;
	char *err = NULL;

	cr_assert_eq(policy_parse_buffer(&p, "t.policy", buf, len, &err), -EINVAL);
	cr_assert_str_eq(err, expected);
	free(err);
}

Test(policy, nul_byte)
{
	static const char text[] = "name = t\ntarget = 198.18.0.0/24\nport = 44\0003\nfault = drop 1s\n";

	expect_buffer_errors(text, sizeof(text) - 1, E(3, "NUL byte at column 10"));
}

Test(policy, bad_bytes_do_not_cascade)
{
	/* the fault line cannot be read: no "missing 'fault'" on top */
	static const char text[] = "name = t\ntarget = 198.18.0.0/24\nfault = drop 1s\0\n";

	expect_buffer_errors(text, sizeof(text) - 1, E(3, "NUL byte at column 16"));
}

Test(policy, utf8)
{
	char *out = normalize_checked(BASE_FAULT "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"
						 "journal = /tmp/caf\xc3\xa9.jsonl\n");

	cr_assert_not_null(strstr(out, "journal = /tmp/caf\xc3\xa9.jsonl\n"));
	free(out);
	expect_errors(BASE_FAULT "journal = /tmp/caf\xe9.jsonl\n", E(4, "invalid UTF-8 byte 0xe9 at column 19"));
	expect_errors(BASE_FAULT "# \xff\n", E(4, "invalid UTF-8 byte 0xff at column 3"));
	expect_errors(BASE_FAULT "# \xc0\xaf overlong\n", E(4, "invalid UTF-8 byte 0xc0 at column 3"));
	expect_errors(BASE_FAULT "# \xe0\x80\xaf overlong\n", E(4, "invalid UTF-8 byte 0xe0 at column 3"));
	expect_errors(BASE_FAULT "# \xed\xa0\x80 surrogate\n", E(4, "invalid UTF-8 byte 0xed at column 3"));
	expect_errors(BASE_FAULT "# \xf4\x90\x80\x80 too big\n", E(4, "invalid UTF-8 byte 0xf4 at column 3"));
	expect_errors(BASE_FAULT "# \xe2\x82\n", E(4, "invalid UTF-8 byte 0xe2 at column 3"));
	expect_errors(BASE_FAULT "# \x80\n", E(4, "invalid UTF-8 byte 0x80 at column 3"));
	expect_errors(BASE_FAULT "# \x7f\n", E(4, "control character 0x7f at column 3"));
	expect_errors(BASE_FAULT "# \x1b[0m\n", E(4, "control character 0x1b at column 3"));
}

/* "# xxx...": a comment line of exactly n bytes, plus the terminator */
static char *comment_line(size_t n, const char *end)
{
	char *s = malloc(n + strlen(end) + 1);

	cr_assert_not_null(s);
	memset(s, 'x', n);
	s[0] = '#';
	s[1] = ' ';
	strcpy(s + n, end);
	return s;
}

Test(policy, line_length_limit)
{
	char buf[8192], *line;
	struct policy p;
	char *err = NULL;

	line = comment_line(4096, "\n");
	snprintf(buf, sizeof(buf), BASE_FAULT "%s", line);
	cr_assert_eq(parse(buf, &p, &err), 0, "4096 bytes is allowed");
	policy_free(&p);
	free(line);

	line = comment_line(4096, "\r\n");
	snprintf(buf, sizeof(buf), BASE_FAULT "%s", line);
	cr_assert_eq(parse(buf, &p, &err), 0, "4096 bytes and a CR are allowed");
	policy_free(&p);
	free(line);

	line = comment_line(4096, "");
	snprintf(buf, sizeof(buf), BASE_FAULT "%s", line);
	cr_assert_eq(parse(buf, &p, &err), 0, "4096 bytes at the end without newline");
	policy_free(&p);
	free(line);

	line = comment_line(4097, "\n");
	snprintf(buf, sizeof(buf), BASE_FAULT "%sport = 0\n", line);
	expect_errors(buf, E(4, "line too long (4097 bytes, limit 4096)") E(5, "port '0' out of range (1-65535)"));
	free(line);

	line = comment_line(4097, "");
	snprintf(buf, sizeof(buf), BASE_FAULT "%s", line);
	expect_errors(buf, E(4, "line too long (4097 bytes, limit 4096)"));
	free(line);
}

Test(policy, line_of_100k)
{
	char *line = comment_line(100 * 1024, "\nport = 0\n");
	char *buf = malloc(strlen(line) + 64);

	cr_assert_not_null(buf);
	strcpy(buf, BASE_FAULT);
	strcat(buf, line);
	expect_errors(buf, E(4, "line too long (102400 bytes, limit 4096)") E(5, "port '0' out of range (1-65535)"));
	free(buf);
	free(line);
}

Test(policy, file_size_limit)
{
	size_t n = 1024 * 1024 + 1;
	char *buf = malloc(n);
	struct policy p;
	char *err = NULL;
	size_t i;

	cr_assert_not_null(buf);
	memcpy(buf, BASE_FAULT, strlen(BASE_FAULT));
	for (i = strlen(BASE_FAULT); i < n; i++)
		buf[i] = (i % 64 == 63) ? '\n' : ' ';
	expect_buffer_errors(buf, n, "t.policy: file too large (limit 1048576 bytes)\n");
	cr_assert_eq(policy_parse_buffer(&p, "t.policy", buf, n - 1, &err), 0, "exactly 1 MiB is fine");
	policy_free(&p);
	free(buf);
}

static char *write_temp(const char *data, size_t len)
{
	char *path = strdup("/tmp/test_policy.XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(close(fd), 0);
	return path;
}

Test(policy, load_file)
{
	static const char text[] = BASE_FAULT "port = 443\n";
	char *path = write_temp(text, sizeof(text) - 1);
	struct policy p;
	char *err = NULL;

	cr_assert_eq(policy_load(&p, path, &err), 0);
	cr_assert_null(err);
	cr_assert_str_eq(p.path, path);
	cr_assert_eq(p.n_ports, 1);
	policy_free(&p);
	unlink(path);
	free(path);
}

Test(policy, load_errors_name_the_file)
{
	static const char text[] = "name = t\nport = 0\n";
	char *path = write_temp(text, sizeof(text) - 1), expected[256];
	struct policy p;
	char *err = NULL;

	cr_assert_eq(policy_load(&p, path, &err), -EINVAL);
	snprintf(expected, sizeof(expected),
		 "%s:2: port '0' out of range (1-65535)\n%s: missing required key 'target' or 'target_host'\n"
		 "%s: missing required key 'fault'\n",
		 path, path, path);
	cr_assert_str_eq(err, expected);
	free(err);
	unlink(path);
	free(path);
}

Test(policy, load_unreadable)
{
	struct policy p;
	char *err = NULL;

	cr_assert_eq(policy_load(&p, "/nonexistent/x.policy", &err), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/x.policy: No such file or directory\n");
	free(err);
	policy_free(&p);
	cr_assert_eq(policy_load(&p, "/tmp", &err), -EISDIR);
	cr_assert_str_eq(err, "/tmp: Is a directory\n");
	free(err);
}

/* lines that straddle the reader's chunks, a CR and its LF in two chunks */
Test(policy, load_chunk_boundaries)
{
	size_t n = 3 * 16384 + 100, len = 0;
	char *buf = malloc(n + 256);
	struct policy p;
	char *err = NULL, *path;
	size_t shift;

	cr_assert_not_null(buf);
	for (shift = 0; shift < 40; shift++) {
		len = 0;
		len += (size_t)sprintf(buf + len, "name = t\r\n");
		while (len < 16384 - 20 - shift)
			len += (size_t)sprintf(buf + len, "#\r\n");
		len += (size_t)sprintf(buf + len, "target = 198.18.0.0/24\r\nport = 443\r\nfault = drop 1s\r\n");
		path = write_temp(buf, len);
		cr_assert_eq(policy_load(&p, path, &err), 0, "shift %zu: %s", shift, err ? err : "");
		cr_assert_eq(p.n_ports, 1);
		cr_assert_eq(p.faults[0].line, (int)(1 + (16384 - 20 - shift - 10 + 2) / 3 + 3), "shift %zu", shift);
		policy_free(&p);
		unlink(path);
		free(path);
	}
	free(buf);
}

Test(policy, load_long_line_file)
{
	size_t n = 200 * 1024;
	char *buf = malloc(n + 128), *path, expected[256];
	struct policy p;
	char *err = NULL;
	size_t len;

	cr_assert_not_null(buf);
	len = (size_t)sprintf(buf, BASE_FAULT "# ");
	memset(buf + len, 'y', n);
	len += n;
	len += (size_t)sprintf(buf + len, "\r\nport = 0\n");
	path = write_temp(buf, len);
	cr_assert_eq(policy_load(&p, path, &err), -EINVAL);
	snprintf(expected, sizeof(expected), "%s:4: line too long (%zu bytes, limit 4096)\n%s:5: port '0' out of range (1-65535)\n",
		 path, n + 2, path);
	cr_assert_str_eq(err, expected);
	free(err);
	unlink(path);
	free(path);
	free(buf);
}

Test(policy, fault_format_params)
{
	struct fault f = { 0 };
	char buf[128];

	f.action = ACT_DROP;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	f.action = ACT_PAUSE;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "");
	f.action = ACT_REJECT;
	f.with = REJ_TCP_RESET;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "with=tcp-reset");
	f.with = REJ_ICMP_ADMIN;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "with=icmp-admin");
	f.action = ACT_LOSS;
	f.percent = 30 * PCT_SCALE;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "percent=30");
	f.action = ACT_DELAY;
	f.latency_ms = 100;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "latency=100ms");
	f.jitter_ms = 10;
	f.loss = 1500;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "latency=100ms jitter=10ms loss=1.5");
	f.jitter_ms = 0;
	fault_format_params(&f, buf, sizeof(buf));
	cr_assert_str_eq(buf, "latency=100ms loss=1.5");
	f.jitter_ms = 10;
	fault_format_params(&f, buf, 20);
	cr_assert_str_eq(buf, "latency=100ms jitte", "truncated, still terminated");
}

Test(policy, names)
{
	cr_assert_str_eq(action_name(ACT_DROP), "drop");
	cr_assert_str_eq(action_name(ACT_REJECT), "reject");
	cr_assert_str_eq(action_name(ACT_LOSS), "loss");
	cr_assert_str_eq(action_name(ACT_DELAY), "delay");
	cr_assert_str_eq(action_name(ACT_PAUSE), "pause");
	cr_assert_str_eq(proto_name(PROTO_TCP), "tcp");
	cr_assert_str_eq(proto_name(PROTO_UDP), "udp");
	cr_assert_str_eq(proto_name(PROTO_ANY), "any");
	cr_assert_str_eq(direction_name(DIR_BOTH), "both");
	cr_assert_str_eq(direction_name(DIR_EGRESS), "egress");
	cr_assert_str_eq(direction_name(DIR_INGRESS), "ingress");
	cr_assert_str_eq(reject_with_name(REJ_TCP_RESET), "tcp-reset");
	cr_assert_str_eq(reject_with_name(REJ_ICMP_PORT), "icmp-port");
	cr_assert_str_eq(reject_with_name(REJ_ICMP_HOST), "icmp-host");
	cr_assert_str_eq(reject_with_name(REJ_ICMP_NET), "icmp-net");
	cr_assert_str_eq(reject_with_name(REJ_ICMP_ADMIN), "icmp-admin");
	cr_assert_str_eq(action_name((enum fault_action)99), "?");
}

/* every golden good file: the unit-level fixed point (run from the top) */
Test(policy, golden_good_fixed_point)
{
	static const char *const names[] = { "all_keys", "c2_3_degradation", "crlf", "comments", "ipv6",
					     "durations", "percents", "limits", "ports_merge", "delay_options" };
	char path[256], *text, *out;
	size_t i, len;
	FILE *f;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "tests/policies/good/%s.policy", names[i]);
		f = fopen(path, "r");
		if (!f)
			cr_assert_fail("%s is missing: run from the top of the tree (tests/run.sh does)", path);
		text = malloc(65536);
		cr_assert_not_null(text);
		len = fread(text, 1, 65535, f);
		text[len] = '\0';
		fclose(f);
		out = normalize_checked(text);
		free(out);
		free(text);
	}
}

/* Mutations of a valid policy: never a crash or a leak (ASan), and every
 * outcome is consistent: accepted policies print a fixed point, rejected
 * ones come with at least one "t.policy:" error line. */
Test(policy, mutations)
{
	static const char seed[] = "name = m\ntarget = 198.18.0.0/24\ntarget_host = www.okx.com\nport = 443,8000-8100\n"
				   "exempt = 198.18.0.3\nexempt_port = 22\narm_window = 5m\n"
				   "fault = delay 1m latency=100ms jitter=10ms loss=1.5\nfault = reject 1s with=icmp-net\n"
				   "fault = loss 1s percent=30\nrepeat = 2\n";
	static const char alphabet[] = "=#, -/.:\r\n\t0123456789abcdefhimnoprstwxyz%\xc3\xa9\xff";
	uint32_t rng = 12345;
	char buf[sizeof(seed) + 16];
	int i, k;

	for (i = 0; i < 3000; i++) {
		struct policy p;
		char *err = NULL;
		size_t len = sizeof(seed) - 1;
		int r;

		memcpy(buf, seed, len);
		for (k = 0; k < 1 + i % 4; k++) {
			size_t at;

			rng = rng * 1103515245u + 12345u;
			at = (rng >> 8) % len;
			rng = rng * 1103515245u + 12345u;
			buf[at] = alphabet[(rng >> 8) % (sizeof(alphabet) - 1)];
		}
		r = policy_parse_buffer(&p, "t.policy", buf, len, &err);
		if (r == 0) {
			char *out = print_to_string(&p), *again;

			cr_assert_null(err);
			policy_free(&p);
			cr_assert_eq(parse(out, &p, &err), 0, "printed policy rejected:\n%s\n%s", out, err);
			again = print_to_string(&p);
			cr_assert_str_eq(out, again);
			policy_free(&p);
			free(out);
			free(again);
		} else {
			cr_assert_eq(r, -EINVAL);
			cr_assert_not_null(err);
			cr_assert_eq(strncmp(err, "t.policy", 8), 0, "%s", err);
			cr_assert_eq(err[strlen(err) - 1], '\n');
			free(err);
		}
	}
}

Test(policy, shipped_policies)
{
	static const char *const names[] = { "c2_3_degradation", "reject_reset", "loss_udp", "delay_latency",
					     "flapping" };
	char path[256];
	struct policy p;
	char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "policies/%s.policy", names[i]);
		if (access(path, R_OK) != 0)
			cr_assert_fail("%s is missing: run from the top of the tree (tests/run.sh does)", path);
		cr_assert_eq(policy_load(&p, path, &err), 0, "%s", err ? err : "");
		cr_assert_str_eq(p.name, names[i]);
		policy_free(&p);
	}
}

/* arm_min_calls alone: flows are not required; resolve_every 0: once */
Test(policy, arm_min_calls_and_resolve_every)
{
	char *out = normalize_checked(BASE_FAULT "arm_min_calls = 3\nresolve_every = 0\n");

	cr_expect_not_null(strstr(out, "arm_min_flows = 0\narm_min_calls = 3\n"), "%s", out);
	cr_expect_not_null(strstr(out, "resolve_every = 0s\n"), "%s", out);
	free(out);
	out = normalize_checked(BASE_FAULT "arm_min_calls = 3\narm_min_flows = 2\n");
	cr_expect_not_null(strstr(out, "arm_min_flows = 2\narm_min_calls = 3\n"), "%s", out);
	cr_expect_null(strstr(out, "resolve_every"), "default, no target_host: not printed\n%s", out);
	free(out);
}

/* uid and cgroup keys up to the cap, then the first line past it */
Test(policy, scope_caps)
{
	char *text = malloc(64 * 1024), *w;
	struct policy p;
	char *err = NULL;

	cr_assert_not_null(text);
	w = text + sprintf(text, "%s", BASE_FAULT);
	for (unsigned i = 0; i < POLICY_MAX_SCOPE; i++)
		w += sprintf(w, "uid = %u\ncgroup = c%u\n", i, i);
	cr_assert_eq(parse(text, &p, &err), 0, "%s", err ? err : "");
	cr_expect_eq(p.n_uids, POLICY_MAX_SCOPE);
	cr_expect_eq(p.n_cgroups, POLICY_MAX_SCOPE);
	cr_expect_eq(p.uids[3].line, 3 + 1 + 2 * 3);
	cr_expect(policy_owner_scoped(&p));
	cr_expect_not_null(policy_scope_note(&p));
	policy_free(&p);
	sprintf(w, "uid = 1000000\ncgroup = x\n");
	expect_errors(text, "t.policy:132: too many uid lines: 65, at most 64\n"
			    "t.policy:133: too many cgroup lines: 65, at most 64\n");
	free(text);
}

Test(policy, scope_deep_cgroup)
{
	char text[2048], *w = text + sprintf(text, "%scgroup = ", BASE_FAULT);
	struct policy p;
	char *err = NULL;

	for (unsigned i = 0; i < POLICY_MAX_CGROUP_DEPTH; i++)
		w += sprintf(w, "%sa", i ? "/" : "");
	sprintf(w, "\n");
	cr_assert_eq(parse(text, &p, &err), 0, "%s", err ? err : "");
	policy_free(&p);
	sprintf(w, "/a\n");
	cr_assert_eq(parse(text, &p, &err), -EINVAL);
	cr_expect_not_null(strstr(err, "deeper than 255 levels"), "%s", err);
	free(err);
}

Test(policy, scope_netns_path_and_note)
{
	struct policy p;
	char *err = NULL, buf[64];

	cr_assert_eq(parse(BASE_FAULT "netns = okx\n", &p, &err), 0);
	cr_expect_eq(p.netns_line, 4);
	cr_expect_eq(policy_netns_path(&p, buf, sizeof(buf)), (int)strlen("/run/netns/okx"));
	cr_expect_str_eq(buf, "/run/netns/okx");
	cr_expect_not(policy_owner_scoped(&p), "a namespace is not a socket-owner scope");
	cr_expect_null(policy_scope_note(&p));
	policy_free(&p);
	cr_assert_eq(parse(BASE_FAULT "netns = /proc/77/ns/net\n", &p, &err), 0);
	policy_netns_path(&p, buf, sizeof(buf));
	cr_expect_str_eq(buf, "/proc/77/ns/net");
	policy_free(&p);
	cr_assert_eq(parse(BASE_FAULT, &p, &err), 0);
	cr_expect_eq(policy_netns_path(&p, buf, sizeof(buf)), -1);
	policy_free(&p);
}
