/* SPDX-License-Identifier: MIT */
/* The arming arithmetic (include/arm.h): thresholds, the sliding window,
 * no I/O and no clock of its own, so scripted event sequences test it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"

#define NS_PER_MS 1000000ull

bool arm_immediate(const struct arm_need *n)
{
	return !n->flows && !n->calls && !n->packets && !n->bytes;
}

bool arm_needs_counters(const struct arm_need *n)
{
	return n->calls || n->packets || n->bytes;
}

int arm_init(struct arm *a, const struct arm_need *need)
{
	memset(a, 0, sizeof(*a));
	a->need = *need;
	if (need->window_ms && need->flows) {
		a->flow_ring = calloc(need->flows, sizeof(*a->flow_ring));
		if (!a->flow_ring)
			return -ENOMEM;
	}
	if (need->window_ms && arm_needs_counters(need)) {
		a->samp_cap = ARM_SAMPLE_CAP;
		a->samp_every_ns = ARM_SAMPLE_MS * NS_PER_MS;
		if (need->window_ms / ARM_SAMPLE_MS > ARM_SAMPLE_CAP / 2)
			a->samp_every_ns = need->window_ms * NS_PER_MS / (ARM_SAMPLE_CAP / 2);
		a->samples = calloc(a->samp_cap, sizeof(*a->samples));
		if (!a->samples) {
			arm_free(a);
			return -ENOMEM;
		}
	}
	return 0;
}

void arm_free(struct arm *a)
{
	free(a->flow_ring);
	free(a->samples);
	a->flow_ring = NULL;
	a->samples = NULL;
}

void arm_flow(struct arm *a, uint64_t now)
{
	a->total.flows++;
	if (!a->flow_ring)
		return;
	a->flow_ring[a->ring_pos] = now;
	a->ring_pos = (a->ring_pos + 1) % a->need.flows;
	if (a->ring_n < a->need.flows)
		a->ring_n++;
}

static void sample_push(struct arm *a, uint64_t now)
{
	if (!a->samples || (a->sampled && now - a->last_sample_ns < a->samp_every_ns))
		return;
	a->sampled = true;
	a->last_sample_ns = now;
	if (a->samp_n == a->samp_cap) {
		a->samp_head = (a->samp_head + 1) % a->samp_cap;
		a->samp_n--;
	}
	a->samples[(a->samp_head + a->samp_n) % a->samp_cap] =
		(struct arm_sample){ now, a->total.calls, a->total.packets, a->total.bytes };
	a->samp_n++;
}

void arm_counters(struct arm *a, uint64_t now, uint64_t calls, uint64_t packets, uint64_t bytes)
{
	if (calls > a->total.calls)
		a->total.calls = calls;
	if (packets > a->total.packets)
		a->total.packets = packets;
	if (bytes > a->total.bytes)
		a->total.bytes = bytes;
	sample_push(a, now);
}

static uint64_t flows_in_window(const struct arm *a, uint64_t now, uint64_t win)
{
	uint64_t n = 0;

	for (size_t i = 0; i < a->ring_n; i++)
		if (now - a->flow_ring[i] <= win)
			n++;
	return n;
}

void arm_window_counts(const struct arm *a, uint64_t now, struct arm_counts *out)
{
	uint64_t win = a->need.window_ms * NS_PER_MS;
	struct arm_sample base = { 0 };

	*out = a->total;
	if (!win)
		return;
	if (a->flow_ring)
		out->flows = flows_in_window(a, now, win);
	/* the newest sample at least a window old is the base; none: the
	 * watch began inside the window, and the totals are the count */
	for (size_t k = 0; k < a->samp_n; k++) {
		const struct arm_sample *s = &a->samples[(a->samp_head + k) % a->samp_cap];

		if (now - s->mono_ns < win)
			break;
		base = *s;
	}
	out->calls -= base.calls;
	out->packets -= base.packets;
	out->bytes -= base.bytes;
}

bool arm_met(const struct arm *a, uint64_t now)
{
	struct arm_counts c;

	arm_window_counts(a, now, &c);
	return c.flows >= a->need.flows && c.calls >= a->need.calls && c.packets >= a->need.packets &&
	       c.bytes >= a->need.bytes;
}

bool arm_keepalive_hint(const struct arm *a)
{
	const struct arm_counts *t = &a->total;

	if (!a->need.flows || t->flows >= a->need.flows || !t->calls)
		return false;
	return t->calls >= 2 * t->flows;
}
