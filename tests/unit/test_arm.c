/* SPDX-License-Identifier: MIT */
/* The arming arithmetic with scripted event sequences: no kernel, no clock. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "arm.h"

#define MS 1000000ull

/* One scripted step: at t_ms, a flow ('f'), counters ('c': cumulative
 * calls, packets, bytes) or a check ('?': must `met` be true). */
struct step {
	char what;
	uint64_t t_ms;
	uint64_t calls, packets, bytes;
	bool met;
};

#define F(t) { 'f', t, 0, 0, 0, false }
#define C(t, c, p, b) { 'c', t, c, p, b, false }
#define Q(t, m) { '?', t, 0, 0, 0, m }

struct script {
	char name[48];
	struct arm_need need;
	struct step steps[16];
	int n;
};

ParameterizedTestParameters(arm, script)
{
	static struct script s[] = {
		{ "flows: armed at the Nth flow", { .flows = 3 },
		  { F(1), Q(1, false), F(2), Q(2, false), F(3), Q(3, true) }, 6 },
		{ "calls: keep-alive, no flow", { .calls = 3 },
		  { C(1, 1, 5, 500), Q(1, false), C(2, 2, 9, 900), Q(2, false), C(3, 3, 12, 1200),
		    Q(3, true) }, 6 },
		{ "calls and flows: both needed", { .flows = 1, .calls = 3 },
		  { C(1, 45, 100, 9000), Q(1, false), F(2), Q(2, true) }, 4 },
		{ "packets and bytes", { .packets = 10, .bytes = 1000 },
		  { C(1, 0, 10, 999), Q(1, false), C(2, 0, 10, 1000), Q(2, true) }, 4 },
		{ "window: flows too far apart", { .flows = 2, .window_ms = 100 },
		  { F(0), F(150), Q(150, false), F(200), Q(200, true),
		    Q(400, false) }, 6 },
		{ "window: calls too far apart", { .calls = 3, .window_ms = 100 },
		  { C(0, 0, 0, 0), C(10, 1, 1, 1), C(20, 2, 2, 2), C(150, 2, 2, 2),
		    C(160, 3, 3, 3), Q(160, false), C(170, 4, 4, 4), C(180, 5, 5, 5),
		    Q(180, true) }, 9 },
		{ "counters never go back", { .calls = 2 },
		  { C(1, 2, 2, 2), C(2, 0, 0, 0), Q(2, true) }, 3 },
	};

	return cr_make_param_array(struct script, s, sizeof(s) / sizeof(s[0]));
}

ParameterizedTest(struct script *s, arm, script)
{
	struct arm a;

	cr_assert_eq(arm_init(&a, &s->need), 0);
	for (int i = 0; i < s->n; i++) {
		const struct step *st = &s->steps[i];
		uint64_t now = st->t_ms * MS + 1000 * MS; /* monotonic time is not 0 */

		if (st->what == 'f')
			arm_flow(&a, now);
		else if (st->what == 'c')
			arm_counters(&a, now, st->calls, st->packets, st->bytes);
		else
			cr_expect_eq(arm_met(&a, now), st->met, "%s: step %d at %llu ms", s->name, i,
				     (unsigned long long)st->t_ms);
	}
	arm_free(&a);
}

Test(arm, immediate_and_counters)
{
	cr_expect(arm_immediate(&(struct arm_need){ 0 }));
	cr_expect_not(arm_immediate(&(struct arm_need){ .calls = 1 }));
	cr_expect_not(arm_needs_counters(&(struct arm_need){ .flows = 3 }));
	cr_expect(arm_needs_counters(&(struct arm_need){ .calls = 3 }));
	cr_expect(arm_needs_counters(&(struct arm_need){ .bytes = 3 }));
}

Test(arm, window_counts_report_the_window)
{
	struct arm a;
	struct arm_counts c;

	cr_assert_eq(arm_init(&a, &(struct arm_need){ .flows = 2, .calls = 5, .window_ms = 100 }), 0);
	arm_counters(&a, 1000 * MS, 10, 20, 2000);
	arm_flow(&a, 1010 * MS);
	arm_counters(&a, 1200 * MS, 14, 30, 3000);
	arm_flow(&a, 1250 * MS);
	arm_window_counts(&a, 1250 * MS, &c);
	cr_expect_eq(c.calls, 4);
	cr_expect_eq(c.packets, 10);
	cr_expect_eq(c.bytes, 1000);
	cr_expect_eq(c.flows, 1);
	cr_expect_eq(a.total.flows, 2);
	cr_expect_eq(a.total.calls, 14);
	arm_free(&a);
}

Test(arm, long_window_samples_coarser)
{
	struct arm a;

	cr_assert_eq(arm_init(&a, &(struct arm_need){ .packets = 1, .window_ms = 3600000 }), 0);
	cr_expect_gt(a.samp_every_ns, ARM_SAMPLE_MS * MS);
	for (uint64_t t = 0; t < 2 * ARM_SAMPLE_CAP; t++)
		arm_counters(&a, (1 + t) * a.samp_every_ns, t, t, t);
	cr_expect_eq(a.samp_n, ARM_SAMPLE_CAP);
	arm_free(&a);
}

struct hint_case {
	uint64_t need_flows, flows, calls;
	bool hint;
};

ParameterizedTestParameters(arm, keepalive_hint)
{
	static struct hint_case c[] = {
		{ 3, 1, 45, true },  /* one kept-alive flow carrying 45 requests */
		{ 3, 0, 4, true },   /* calls on a connection opened before the drill */
		{ 3, 2, 3, false },  /* about a call per flow: a connection per call */
		{ 3, 3, 45, false }, /* flows met */
		{ 0, 1, 45, false }, /* no flows wanted */
		{ 3, 1, 0, false },  /* no calls */
	};

	return cr_make_param_array(struct hint_case, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct hint_case *h, arm, keepalive_hint)
{
	struct arm a;

	cr_assert_eq(arm_init(&a, &(struct arm_need){ .flows = h->need_flows }), 0);
	for (uint64_t i = 0; i < h->flows; i++)
		arm_flow(&a, (i + 1) * MS);
	arm_counters(&a, 100 * MS, h->calls, h->calls, h->calls);
	cr_expect_eq(arm_keepalive_hint(&a), h->hint, "flows %llu calls %llu", (unsigned long long)h->flows,
		     (unsigned long long)h->calls);
	arm_free(&a);
}

Test(arm, free_accepts_zeroed)
{
	struct arm a = { 0 };

	arm_free(&a);
	arm_free(&a);
}
