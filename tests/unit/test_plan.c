/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "plan.h"

#define MS 1000000ull
#define T0 (5000ull * MS)

/* 100 x (10 ms, 10 ms), each step asked 0.4 ms late: the last end is
 * T0 + 1990 ms, not T0 + 1990 ms + 199 x 0.4 ms. */
Test(plan, deadlines_follow_the_plan_not_the_wake_ups)
{
	struct plan pl;

	plan_start(&pl, T0, 10);
	for (int i = 1; i < 200; i++)
		cr_assert_eq(plan_next(&pl, pl.end_ns + 400000, 10), 0);
	cr_assert_eq(pl.end_ns, T0 + 2000 * MS);
	cr_assert_eq(pl.shift_ns, 0);
}

Test(plan, a_wake_up_later_than_the_next_step_shifts_the_plan)
{
	struct plan pl;

	plan_start(&pl, T0, 1000);
	/* 30 ms late into a 10 ms step: it gets its whole 10 ms from now */
	cr_assert_eq(plan_next(&pl, T0 + 1030 * MS, 10), 30 * MS);
	cr_assert_eq(pl.end_ns, T0 + 1040 * MS);
	cr_assert_eq(pl.begin_ns, T0 + 1030 * MS);
	/* later steps keep the shifted plan */
	cr_assert_eq(plan_next(&pl, T0 + 1040 * MS, 500), 0);
	cr_assert_eq(pl.end_ns, T0 + 1540 * MS);
	cr_assert_eq(pl.shift_ns, 30 * MS);
}

Test(plan, less_than_a_millisecond_left_shifts_too)
{
	struct plan pl;

	plan_start(&pl, T0, 100);
	cr_assert_eq(plan_next(&pl, T0 + 109 * MS + 500000, 10), 9 * MS + 500000);
	cr_assert_eq(pl.end_ns, T0 + 119 * MS + 500000);
	plan_start(&pl, T0, 100);
	/* exactly 1 ms left: kept */
	cr_assert_eq(plan_next(&pl, T0 + 109 * MS, 10), 0);
	cr_assert_eq(pl.end_ns, T0 + 110 * MS);
}

Test(plan, timeout_is_what_is_left_rounded_up_plus_the_backstop)
{
	struct plan pl;

	plan_start(&pl, T0, 1000);
	cr_assert_eq(plan_timeout_ms(&pl, T0, 250), 1250);
	cr_assert_eq(plan_timeout_ms(&pl, T0 + 1, 250), 1250);
	cr_assert_eq(plan_timeout_ms(&pl, T0 + MS, 250), 1249);
	cr_assert_eq(plan_timeout_ms(&pl, T0 + 999 * MS + 1, 250), 251);
	cr_assert_eq(plan_timeout_ms(&pl, T0 + 2000 * MS, 250), 250);
}

Test(plan, lateness)
{
	struct plan pl;

	plan_start(&pl, T0, 10);
	cr_assert_eq(plan_late_ns(&pl, T0), 0);
	cr_assert_eq(plan_late_ns(&pl, T0 + 10 * MS), 0);
	cr_assert_eq(plan_late_ns(&pl, T0 + 10 * MS + 7), 7);
}

Test(plan, kernel_expiry_only_after_the_whole_timeout)
{
	cr_assert_not(plan_kernel_expired(T0, 1250, T0 + 1250 * MS));
	cr_assert(plan_kernel_expired(T0, 1250, T0 + 1250 * MS + 1));
	cr_assert_not(plan_kernel_expired(T0, 1250, T0 + 1000 * MS));
}

Test(plan, timespec_add_carries_nanoseconds)
{
	struct timespec t = { .tv_sec = 10, .tv_nsec = 999999999 };

	t = timespec_add_ns(t, 1);
	cr_assert_eq(t.tv_sec, 11);
	cr_assert_eq(t.tv_nsec, 0);
	t = timespec_add_ns(t, 2500 * MS + 3);
	cr_assert_eq(t.tv_sec, 13);
	cr_assert_eq(t.tv_nsec, 500000003);
}
