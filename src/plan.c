/* SPDX-License-Identifier: MIT */
/* The drill's time plan: include/plan.h. */
#include "plan.h"

#define NS_PER_MS 1000000ull

void plan_start(struct plan *pl, uint64_t now_ns, uint64_t dur_ms)
{
	pl->begin_ns = now_ns;
	pl->end_ns = now_ns + dur_ms * NS_PER_MS;
	pl->shift_ns = 0;
	pl->started = true;
}

uint64_t plan_next(struct plan *pl, uint64_t now_ns, uint64_t dur_ms)
{
	uint64_t end = pl->end_ns + dur_ms * NS_PER_MS, shift = 0;

	if (end < now_ns + NS_PER_MS) {
		shift = now_ns - pl->end_ns;
		end = now_ns + dur_ms * NS_PER_MS;
		pl->shift_ns += shift;
	}
	pl->begin_ns = now_ns;
	pl->end_ns = end;
	return shift;
}

uint64_t plan_timeout_ms(const struct plan *pl, uint64_t now_ns, uint64_t backstop_ms)
{
	uint64_t left = pl->end_ns > now_ns ? pl->end_ns - now_ns : 0;

	return (left + NS_PER_MS - 1) / NS_PER_MS + backstop_ms;
}

uint64_t plan_late_ns(const struct plan *pl, uint64_t now_ns)
{
	return now_ns > pl->end_ns ? now_ns - pl->end_ns : 0;
}

bool plan_kernel_expired(uint64_t ack_ns, uint64_t timeout_ms, uint64_t now_ns)
{
	return now_ns > ack_ns + timeout_ms * NS_PER_MS;
}

struct timespec timespec_add_ns(struct timespec t, uint64_t ns)
{
	uint64_t nsec = (uint64_t)t.tv_nsec + ns % 1000000000ull;

	t.tv_sec += (time_t)(ns / 1000000000ull + nsec / 1000000000ull);
	t.tv_nsec = (long)(nsec % 1000000000ull);
	return t;
}
