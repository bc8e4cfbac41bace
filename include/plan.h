/* SPDX-License-Identifier: MIT */
#ifndef OKX_PLAN_H
#define OKX_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * The drill's time plan, pure arithmetic (no clock is read here): every
 * step (fault or pause) ends at the first step's begin plus the planned
 * durations of the steps so far, never at the previous acknowledgement plus
 * a duration, so a late wake-up or a slow journal write does not push the
 * rest of the drill back (okx-faultd(8), TIMING). Times are CLOCK_MONOTONIC
 * nanoseconds.
 */
struct plan {
	uint64_t begin_ns;  /* when the current step began (its switch was asked) */
	uint64_t end_ns;    /* the current step's planned end */
	uint64_t shift_ns;  /* total shift of the plan after wake-ups too late to keep it */
	bool started;
};

/* The first step begins at now_ns and lasts dur_ms. */
void plan_start(struct plan *pl, uint64_t now_ns, uint64_t dur_ms);

/* The next step, of dur_ms, begins at now_ns (at or after the current
 * step's planned end). It ends at the current planned end + dur_ms; when
 * that is not at least 1 ms after now_ns (the daemon woke later than the
 * whole next step), the plan shifts by the lateness instead: the step gets
 * its full length from now_ns. Returns the shift added (0: plan kept). */
uint64_t plan_next(struct plan *pl, uint64_t now_ns, uint64_t dur_ms);

/* The kernel timeout of a fault switched on at now_ns for the current
 * step: what is left of the step, rounded up to whole ms, plus backstop_ms
 * (the kernel ends the fault by itself that long after the planned end
 * when the daemon cannot). */
uint64_t plan_timeout_ms(const struct plan *pl, uint64_t now_ns, uint64_t backstop_ms);

/* How late now_ns is past the current step's planned end, in ns (0 when
 * not late). */
uint64_t plan_late_ns(const struct plan *pl, uint64_t now_ns);

/* Did the kernel already end a fault acknowledged live at ack_ns with a
 * timeout of timeout_ms, when the daemon asks to end it at now_ns? The
 * element was inserted at or before ack_ns, so past ack_ns + timeout it has
 * certainly expired (nftables compares expirations in kernel ticks: the
 * fault stops matching within one tick of that instant). */
bool plan_kernel_expired(uint64_t ack_ns, uint64_t timeout_ms, uint64_t now_ns);

/* t + ns (normalized). */
struct timespec timespec_add_ns(struct timespec t, uint64_t ns);

#endif
