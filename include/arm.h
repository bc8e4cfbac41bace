/* SPDX-License-Identifier: MIT */
#ifndef OKX_ARM_H
#define OKX_ARM_H

/* The arming arithmetic, without I/O: when have the connector's flows,
 * calls, packets and bytes toward the targets met the policy's thresholds
 * (all of them; inside arm_window when one is set)? The caller feeds it
 * what the kernel reports, with monotonic times in ns:
 *  - arm_flow() once per new flow (conntrack events);
 *  - arm_counters() with the cumulative watch counters (calls, packets,
 *    bytes), read from a table installed at start, so they start at 0 and
 *    never count anything from before the drill.
 * README, "Arming", and okx-faultd.policy(5) say what each threshold
 * counts. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arm_need {
	uint64_t flows, calls, packets, bytes;
	uint64_t window_ms; /* 0: unbounded */
};

struct arm_counts {
	uint64_t flows, calls, packets, bytes;
};

struct arm_sample {
	uint64_t mono_ns, calls, packets, bytes;
};

struct arm {
	struct arm_need need;
	struct arm_counts total; /* since the start of the watch */
	uint64_t *flow_ring;     /* times of the last need.flows flows (window only) */
	size_t ring_n, ring_pos;
	struct arm_sample *samples; /* counter samples (window only), oldest first */
	size_t samp_n, samp_head, samp_cap;
	uint64_t samp_every_ns, last_sample_ns;
	bool sampled;
};

/* Samples of the counters kept for a window: one every ARM_SAMPLE_MS,
 * coarser for windows longer than ARM_SAMPLE_CAP / 2 samples. */
#define ARM_SAMPLE_MS 10
#define ARM_SAMPLE_CAP 8192

/* Returns 0 or -ENOMEM. */
int arm_init(struct arm *a, const struct arm_need *need);
void arm_free(struct arm *a); /* accepts a zeroed struct */

/* Nothing to wait for: every threshold is 0. */
bool arm_immediate(const struct arm_need *need);
/* Does the watch need the kernel's counters (calls, packets, bytes)? */
bool arm_needs_counters(const struct arm_need *need);

void arm_flow(struct arm *a, uint64_t now_ns);
/* Cumulative counters; a value below the previous one is ignored. */
void arm_counters(struct arm *a, uint64_t now_ns, uint64_t calls, uint64_t packets, uint64_t bytes);

/* What counts toward the thresholds at now_ns: the totals, or without a
 * window the totals minus the newest sample at or before now - window
 * (flows: the flows inside the window). */
void arm_window_counts(const struct arm *a, uint64_t now_ns, struct arm_counts *out);
bool arm_met(const struct arm *a, uint64_t now_ns);

/* The waiting log's hint: flows are wanted and missing, yet the calls
 * outnumber the flows (at least two per flow, or calls on connections
 * opened before the drill): a keep-alive or websocket client, which
 * arm_min_calls arms on. */
bool arm_keepalive_hint(const struct arm *a);

#endif
