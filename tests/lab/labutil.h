/* SPDX-License-Identifier: MIT */
/* Helpers shared by the lab and benchmark programs (header-only: each lab
 * program is one file linked with the project library). */
#ifndef OKX_LABUTIL_H
#define OKX_LABUTIL_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Set by on_signal(); every wait loop checks it so programs stop promptly. */
static volatile sig_atomic_t stop_signal;

static inline void on_signal(int sig)
{
	stop_signal = sig;
}

static inline uint64_t mono_ms(void)
{
	return mono_now_ns() / 1000000u;
}

/* A decimal integer in [min, max], the whole string. */
static inline bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static inline const char *errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

/* Sleep until the monotonic instant ns; false when a stop signal came. */
static inline bool sleep_until_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };

	while (!stop_signal) {
		int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (rc == 0)
			return !stop_signal;
		if (rc != EINTR)
			return false;
	}
	return false;
}

/* Wait for `events` on fd until the monotonic deadline (ms). Returns the
 * revents (> 0), 0 on timeout, -EINTR on a stop signal, -errno on error. */
static inline int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t now = mono_ms();
		int n;

		if (stop_signal)
			return -EINTR;
		if (now >= deadline)
			return 0;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			return pfd.revents;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

#endif
