/* SPDX-License-Identifier: MIT */
/* target_host re-resolution off the event loop (include/resolver.h).
 *
 * getaddrinfo blocks (a slow or dead DNS server: seconds), and the loop
 * must end faults on time, so a round runs in a thread. The thread only
 * touches the answers array, which the loop does not read until the
 * thread has written one byte to the pipe; the loop then joins it. Signals
 * stay blocked in the thread: it inherits the loop's mask, which the
 * signalfd needs.
 *
 * The hold (a dns fault live) is a counter, odd while held, written by the
 * loop only and read by the thread around each lookup: the loop never
 * waits on the thread to switch a fault. A lookup that sees the counter
 * odd is not made; one that sees it change under it overlapped a hold,
 * even one that began and ended during the lookup.
 *
 * The thread runs under normal scheduling whatever the loop's (SCHED_FIFO,
 * okx-faultd(8)): at the same real-time priority its CPU work (parsing
 * files, loading NSS modules) would run to its end before the loop woke for
 * a deadline on a busy or single CPU. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver.h"
#include "targets.h"

struct resolver {
	const struct policy *p;
	resolver_lookup_fn lookup;
	struct resolver_answer *ans;
	atomic_uint hold; /* odd while held */
	pthread_t thread;
	bool running;
	int pipe[2]; /* [0] read by the loop, [1] written by the thread */
};

static void answers_clear(struct resolver *r)
{
	for (size_t i = 0; i < r->p->n_hosts; i++) {
		free(r->ans[i].addrs);
		r->ans[i] = (struct resolver_answer){ .name = r->p->hosts[i].name };
	}
}

static void *round_main(void *arg)
{
	struct resolver *r = arg;
	char done = 1;

	for (size_t i = 0; i < r->p->n_hosts; i++) {
		struct resolver_answer *a = &r->ans[i];
		unsigned int seq = atomic_load(&r->hold);
		int rc = 0, ret;

		if (seq & 1) {
			a->skipped = true;
			continue;
		}
		ret = r->lookup(a->name, &a->addrs, &a->n_addrs, &rc);
		a->err = ret < 0 ? ret : a->n_addrs ? 0 : rc ? rc : EAI_NODATA;
		if (a->err == EAI_SYSTEM)
			a->err = -errno;
		a->held = atomic_load(&r->hold) != seq;
	}
	/* a full pipe cannot happen: one byte per round, read before the next */
	while (write(r->pipe[1], &done, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

int resolver_open(struct resolver **out, const struct policy *p)
{
	return resolver_open_with(out, p, targets_lookup);
}

int resolver_open_with(struct resolver **out, const struct policy *p, resolver_lookup_fn lookup)
{
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->p = p;
	r->lookup = lookup;
	atomic_init(&r->hold, 0);
	r->ans = calloc(p->n_hosts + 1, sizeof(*r->ans));
	if (!r->ans || pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int ret = r->ans ? -errno : -ENOMEM;

		free(r->ans);
		free(r);
		return ret;
	}
	answers_clear(r);
	*out = r;
	return 0;
}

int resolver_fd(const struct resolver *r)
{
	return r->pipe[0];
}

int resolver_start(struct resolver *r)
{
	struct sched_param sp = { .sched_priority = 0 };
	pthread_attr_t attr;
	int ret;

	if (r->running)
		return -EBUSY;
	if (resolver_held(r))
		return -EAGAIN;
	answers_clear(r);
	ret = pthread_attr_init(&attr);
	if (ret)
		return -ret;
	ret = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	if (!ret)
		ret = pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
	if (!ret)
		ret = pthread_attr_setschedparam(&attr, &sp);
	if (!ret)
		ret = pthread_create(&r->thread, &attr, round_main, r);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	r->running = true;
	return 0;
}

int resolver_collect(struct resolver *r, const struct resolver_answer **answers)
{
	char c;

	if (!r->running || read(r->pipe[0], &c, 1) != 1)
		return -EAGAIN;
	pthread_join(r->thread, NULL);
	r->running = false;
	*answers = r->ans;
	return (int)r->p->n_hosts;
}

void resolver_hold(struct resolver *r, bool hold)
{
	/* the loop is the only writer: a plain load is enough to decide */
	if (r && (bool)(atomic_load(&r->hold) & 1) != hold)
		atomic_fetch_add(&r->hold, 1);
}

bool resolver_held(const struct resolver *r)
{
	return r && (atomic_load(&r->hold) & 1);
}

void resolver_close(struct resolver *r)
{
	if (!r)
		return;
	if (r->running)
		pthread_join(r->thread, NULL);
	answers_clear(r);
	free(r->ans);
	close(r->pipe[0]);
	close(r->pipe[1]);
	free(r);
}
