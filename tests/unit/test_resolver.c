/* SPDX-License-Identifier: MIT */
/* The resolver thread (src/resolver.c) with a lookup function of the
 * test's own: rounds, and the hold a dns fault puts on them. A "gate"
 * lookup blocks until the test opens it, so a hold can begin (and end)
 * while a lookup is under way, deterministically. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int entered, lookups; /* gate lookups begun; lookups of any name made */
static bool gate_open;
static int lookup_policy = -1; /* the scheduling policy the last lookup ran under */

static void gate_reset(void)
{
	pthread_mutex_lock(&mu);
	entered = lookups = 0;
	gate_open = false;
	pthread_mutex_unlock(&mu);
}

static void gate_wait_entered(int n)
{
	pthread_mutex_lock(&mu);
	while (entered < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void gate_let_go(void)
{
	pthread_mutex_lock(&mu);
	gate_open = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int made(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = lookups;
	pthread_mutex_unlock(&mu);
	return n;
}

/* ok.test and gate.test: 198.18.0.2; gate.test waits for the gate;
 * gone.test: no address (what a dns fault makes of a name) */
static int fake_lookup(const char *name, struct prefix **out, size_t *n, int *gai_rc)
{
	struct sched_param sp;

	pthread_mutex_lock(&mu);
	lookups++;
	cr_assert_eq(pthread_getschedparam(pthread_self(), &lookup_policy, &sp), 0);
	if (!strcmp(name, "gate.test")) {
		entered++;
		pthread_cond_broadcast(&cv);
		while (!gate_open)
			pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
	*out = NULL;
	*n = 0;
	if (!strcmp(name, "gone.test")) {
		*gai_rc = EAI_NONAME;
		return 0;
	}
	*out = calloc(1, sizeof(**out));
	cr_assert_not_null(*out);
	(*out)->family = AF_INET;
	(*out)->len = 32;
	memcpy((*out)->addr, (const uint8_t[]){ 198, 18, 0, 2 }, 4);
	*n = 1;
	return 0;
}

static struct host_name hosts[3];
static struct policy pol;

static struct resolver *open_names(const char *a, const char *b, const char *c)
{
	const char *names[] = { a, b, c };
	struct resolver *r = NULL;

	memset(&pol, 0, sizeof(pol));
	pol.hosts = hosts;
	for (size_t i = 0; i < 3 && names[i]; i++)
		hosts[pol.n_hosts++] = (struct host_name){ .name = (char *)names[i], .line = (int)i + 1 };
	gate_reset();
	cr_assert_eq(resolver_open_with(&r, &pol, fake_lookup), 0);
	return r;
}

/* The round's answers once its end is signalled (at most 5 s). */
static const struct resolver_answer *collect(struct resolver *r)
{
	struct pollfd pfd = { .fd = resolver_fd(r), .events = POLLIN };
	const struct resolver_answer *ans = NULL;

	cr_assert_eq(poll(&pfd, 1, 5000), 1, "the round did not end");
	cr_assert_eq(resolver_collect(r, &ans), (int)pol.n_hosts);
	return ans;
}

Test(resolver, a_round_answers_every_name)
{
	struct resolver *r = open_names("ok.test", "gone.test", NULL);
	const struct resolver_answer *ans;

	cr_assert_eq(resolver_start(r), 0);
	ans = collect(r);
	cr_assert_str_eq(ans[0].name, "ok.test");
	cr_assert_eq(ans[0].err, 0);
	cr_assert_eq(ans[0].n_addrs, 1);
	cr_assert(!ans[0].held && !ans[0].skipped);
	cr_assert_str_eq(ans[1].name, "gone.test");
	cr_assert_eq(ans[1].err, EAI_NONAME);
	cr_assert(!ans[1].held && !ans[1].skipped, "a failure outside a hold counts");
	resolver_close(r);
}

Test(resolver, no_round_starts_while_held_and_rounds_resume_after)
{
	struct resolver *r = open_names("ok.test", NULL, NULL);
	const struct resolver_answer *ans;

	resolver_hold(r, true);
	cr_assert(resolver_held(r));
	cr_assert_eq(resolver_start(r), -EAGAIN);
	cr_assert_eq(resolver_collect(r, &ans), -EAGAIN, "no round to collect");
	cr_assert_eq(made(), 0, "a lookup was made while held");
	resolver_hold(r, false);
	cr_assert(!resolver_held(r));
	cr_assert_eq(resolver_start(r), 0);
	ans = collect(r);
	cr_assert_eq(ans[0].err, 0);
	cr_assert(!ans[0].held && !ans[0].skipped);
	cr_assert_eq(made(), 1);
	resolver_close(r);
}

Test(resolver, hold_and_release_are_idempotent)
{
	struct resolver *r = open_names("ok.test", NULL, NULL);

	/* consecutive dns faults hold twice; one release ends the hold */
	resolver_hold(r, true);
	resolver_hold(r, true);
	cr_assert(resolver_held(r));
	resolver_hold(r, false);
	cr_assert(!resolver_held(r));
	resolver_hold(r, false);
	cr_assert(!resolver_held(r));
	cr_assert_eq(resolver_start(r), 0);
	collect(r);
	resolver_close(r);
	resolver_hold(NULL, true);
	cr_assert(!resolver_held(NULL));
}

/* A hold that begins under a lookup: that lookup's answer is marked held
 * (its failure would not count) and the names after it are not looked up. */
Test(resolver, a_hold_under_a_lookup_marks_it_and_skips_the_rest)
{
	struct resolver *r = open_names("gate.test", "ok.test", "gone.test");
	const struct resolver_answer *ans;

	cr_assert_eq(resolver_start(r), 0);
	gate_wait_entered(1);
	resolver_hold(r, true); /* does not wait for the lookup under way */
	cr_assert_eq(resolver_start(r), -EBUSY);
	gate_let_go();
	ans = collect(r);
	cr_assert(ans[0].held, "the lookup under way at the hold is not marked");
	cr_assert(!ans[0].skipped);
	cr_assert_eq(ans[0].n_addrs, 1, "an answer got all the same is kept");
	cr_assert(ans[1].skipped && ans[2].skipped, "names were looked up while held");
	cr_assert_eq(ans[1].n_addrs, 0);
	cr_assert_eq(made(), 1);

	resolver_hold(r, false);
	cr_assert_eq(resolver_start(r), 0);
	gate_let_go();
	ans = collect(r);
	for (int i = 0; i < 3; i++)
		cr_assert(!ans[i].held && !ans[i].skipped, "answer %d marked after the release", i);
	cr_assert_eq(ans[2].err, EAI_NONAME);
	cr_assert_eq(made(), 4);
	resolver_close(r);
}

/* A whole hold (a short dns fault) inside one slow lookup is seen too. */
Test(resolver, a_hold_begun_and_ended_under_a_lookup_marks_it)
{
	struct resolver *r = open_names("gate.test", NULL, NULL);
	const struct resolver_answer *ans;

	cr_assert_eq(resolver_start(r), 0);
	gate_wait_entered(1);
	resolver_hold(r, true);
	resolver_hold(r, false);
	gate_let_go();
	ans = collect(r);
	cr_assert(ans[0].held);
	resolver_close(r);
}

/* resolver_close waits for a round still under way (the drill's end). */
Test(resolver, close_waits_for_a_running_round)
{
	struct resolver *r = open_names("gate.test", NULL, NULL);

	cr_assert_eq(resolver_start(r), 0);
	gate_wait_entered(1);
	gate_let_go();
	resolver_close(r);
	cr_assert_eq(made(), 1);
}

/* The thread does not inherit the caller's scheduling (the daemon's
 * SCHED_FIFO): SCHED_BATCH here, which needs no privilege, stands for it. */
Test(resolver, lookups_run_under_normal_scheduling)
{
	struct sched_param sp = { .sched_priority = 0 };
	struct resolver *r = open_names("ok.test", NULL, NULL);

	cr_assert_eq(pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp), 0);
	cr_assert_eq(resolver_start(r), 0);
	collect(r);
	cr_assert_eq(lookup_policy, SCHED_OTHER, "the lookup ran under policy %d", lookup_policy);
	resolver_close(r);
}
