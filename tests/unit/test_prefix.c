/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sys/socket.h>

#include "prefix.h"

/* parameters cross a process boundary: strings are arrays, not pointers */
struct pfx_case {
	char in[72];
	enum prefix_err err;
	char out[48];     /* prefix_format() of the result (PREFIX_OK) */
	char suggest[48]; /* PREFIX_HOST_BITS: the network */
};

ParameterizedTestParameters(prefix, parse)
{
	static struct pfx_case cases[] = {
		{ "198.18.0.1", PREFIX_OK, "198.18.0.1", "" },
		{ "198.18.0.1/32", PREFIX_OK, "198.18.0.1", "" },
		{ "198.18.0.0/24", PREFIX_OK, "198.18.0.0/24", "" },
		{ "198.18.0.0/15", PREFIX_OK, "198.18.0.0/15", "" },
		{ "0.0.0.0/0", PREFIX_OK, "0.0.0.0/0", "" },
		{ "10.0.0.0/8", PREFIX_OK, "10.0.0.0/8", "" },
		{ "198.18.0.0/024", PREFIX_OK, "198.18.0.0/24", "" },
		{ "2001:db8::/32", PREFIX_OK, "2001:db8::/32", "" },
		{ "2001:DB8:0:0::/32", PREFIX_OK, "2001:db8::/32", "" },
		{ "2001:2::1", PREFIX_OK, "2001:2::1", "" },
		{ "2001:2::1/128", PREFIX_OK, "2001:2::1", "" },
		{ "::/0", PREFIX_OK, "::/0", "" },
		{ "::1", PREFIX_OK, "::1", "" },
		{ "::ffff:198.18.0.1", PREFIX_OK, "::ffff:198.18.0.1", "" },
		{ "198.18.0.1/24", PREFIX_HOST_BITS, "", "198.18.0.0/24" },
		{ "198.18.0.255/31", PREFIX_HOST_BITS, "", "198.18.0.254/31" },
		{ "2001:2::1/48", PREFIX_HOST_BITS, "", "2001:2::/48" },
		{ "1.2.3.4/0", PREFIX_HOST_BITS, "", "0.0.0.0/0" },
		{ "198.18.0.300", PREFIX_BAD_ADDR, "", "" },
		{ "198.18.0", PREFIX_BAD_ADDR, "", "" },
		{ "198.018.0.1", PREFIX_BAD_ADDR, "", "" },
		{ "example.com", PREFIX_BAD_ADDR, "", "" },
		{ "", PREFIX_BAD_ADDR, "", "" },
		{ "/24", PREFIX_BAD_ADDR, "", "" },
		{ " 198.18.0.1", PREFIX_BAD_ADDR, "", "" },
		{ "fe80::1%eth0", PREFIX_BAD_ADDR, "", "" },
		{ "2001:db8:::1", PREFIX_BAD_ADDR, "", "" },
		{ "aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa", PREFIX_BAD_ADDR, "", "" },
		{ "198.18.0.0/33", PREFIX_BAD_LEN, "", "" },
		{ "2001:db8::/129", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/-1", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/+8", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/8x", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/0024", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/24/1", PREFIX_BAD_LEN, "", "" },
		{ "198.18.0.0/ 24", PREFIX_BAD_LEN, "", "" },
	};
	return cr_make_param_array(struct pfx_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pfx_case *c, prefix, parse)
{
	struct prefix p, sug;
	char buf[PREFIX_STRLEN];

	memset(&sug, 0xaa, sizeof(sug));
	cr_assert_eq(prefix_parse(c->in, &p, &sug), c->err, "prefix_parse(\"%s\")", c->in);
	if (c->out[0])
		cr_assert_str_eq(prefix_format(&p, buf, sizeof(buf)), c->out);
	if (c->suggest[0]) {
		cr_assert_str_eq(prefix_format(&sug, buf, sizeof(buf)), c->suggest);
		cr_assert_eq(prefix_parse(c->in, &p, NULL), PREFIX_HOST_BITS); /* suggest is optional */
	}
}

Test(prefix, families_and_lengths)
{
	struct prefix p;

	cr_assert_eq(prefix_parse("198.18.0.0/15", &p, NULL), PREFIX_OK);
	cr_assert_eq(p.family, AF_INET);
	cr_assert_eq(p.len, 15);
	cr_assert_eq(p.addr[0], 198);
	cr_assert_eq(p.addr[1], 18);
	cr_assert_eq(prefix_parse("2001:2::", &p, NULL), PREFIX_OK);
	cr_assert_eq(p.family, AF_INET6);
	cr_assert_eq(p.len, 128);
	cr_assert_eq(prefix_max_len(AF_INET), 32);
	cr_assert_eq(prefix_max_len(AF_INET6), 128);
}

struct contains_case {
	char net[48], inner[48];
	bool in;
};

ParameterizedTestParameters(prefix, contains)
{
	static struct contains_case cases[] = {
		{ "198.18.0.0/24", "198.18.0.3", true },
		{ "198.18.0.0/24", "198.18.0.0/24", true },
		{ "198.18.0.0/24", "198.18.0.128/25", true },
		{ "198.18.0.0/24", "198.18.0.0/23", false },
		{ "198.18.0.0/24", "198.18.1.3", false },
		{ "198.18.0.0/15", "198.19.255.255", true },
		{ "198.18.0.0/15", "198.20.0.0", false },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "0.0.0.0/0", "2001:2::1", false },
		{ "2001:2::/48", "2001:2:0:10::53", true },
		{ "2001:2::/48", "2001:3::1", false },
		{ "2001:2::/31", "2001:3::1", true },
		{ "2001:2::/47", "2001:3::1", false },
		{ "::/0", "198.18.0.1", false },
		{ "198.18.0.1", "198.18.0.1", true },
		{ "198.18.0.1", "198.18.0.2", false },
	};
	return cr_make_param_array(struct contains_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct contains_case *c, prefix, contains)
{
	struct prefix net, inner;

	cr_assert_eq(prefix_parse(c->net, &net, NULL), PREFIX_OK);
	cr_assert_eq(prefix_parse(c->inner, &inner, NULL), PREFIX_OK);
	cr_assert_eq(prefix_contains(&net, &inner), c->in, "%s in %s", c->inner, c->net);
}

Test(prefix, format_truncates_safely)
{
	struct prefix p;
	char buf[8];

	cr_assert_eq(prefix_parse("198.18.0.0/24", &p, NULL), PREFIX_OK);
	cr_assert_str_eq(prefix_format(&p, buf, sizeof(buf)), "198.18.");
}

static struct prefix pfx(const char *s)
{
	struct prefix p;

	cr_assert_eq(prefix_parse(s, &p, NULL), PREFIX_OK, "%s", s);
	return p;
}

/* coverage by a union: joined across adjacent and overlapping prefixes,
 * in any order, one family at a time, up to the last address */
Test(prefix, union_covers)
{
	struct prefix t = pfx("198.18.0.0/24"), t6 = pfx("2001:db8::/64"), top = pfx("255.255.255.0/24");
	struct prefix e[] = { pfx("198.18.0.192/26"), pfx("2001:db8::/63"), pfx("198.18.0.0/25"),
			      pfx("198.18.0.100/30"), pfx("198.18.0.128/26") };
	struct prefix gap[] = { pfx("198.18.0.0/25"), pfx("198.18.0.129/32"), pfx("198.18.0.130/31"),
				pfx("198.18.0.132/30"), pfx("198.18.0.136/29"), pfx("198.18.0.144/28"),
				pfx("198.18.0.160/27"), pfx("198.18.0.192/26") };
	struct prefix hi[] = { pfx("255.255.255.128/25"), pfx("255.255.255.0/25") };

	cr_expect_eq(prefix_union_covers(&t, e, 5), 1);
	cr_expect_eq(prefix_union_covers(&t, e, 4), 0, "198.18.0.128/26 missing");
	cr_expect_eq(prefix_union_covers(&t6, e, 5), 1, "a wider v6 prefix");
	cr_expect_eq(prefix_union_covers(&t, gap, 8), 0, "198.18.0.128 is not exempt");
	cr_expect_eq(prefix_union_covers(&t, gap, 0), 0);
	cr_expect_eq(prefix_union_covers(&top, hi, 2), 1, "up to 255.255.255.255");
	cr_expect_eq(prefix_union_covers(&top, hi, 1), 0);
}
