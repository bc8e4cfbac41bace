/* SPDX-License-Identifier: MIT */
#ifndef OKX_FLEET_H
#define OKX_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate.h"
#include "events.h"
#include "journal_read.h"

/* One drill across several hosts (`okx-faultctl fleet`, okx-faultctl(1),
 * FLEET): each host's journal correlated with its connector's events, the
 * hosts side by side, and one verdict for the fleet.
 *
 * A host's verdict:
 *   pass       its journal and events pass the gate of correlate.h
 *   fail       they do not (the gate's reason: telemetry gap, no window, ...)
 *   absent     no journal: the caller says why (unreachable, failed to start)
 *   bad_input  its journal or events cannot be read or parsed
 *   no_events  a journal but no connector events (the caller may say why):
 *              its windows are shown, nothing is judged
 * The fleet passes when it has a host and every host passes. */

enum fleet_verdict { FLEET_PASS, FLEET_FAIL, FLEET_ABSENT, FLEET_BAD_INPUT, FLEET_NO_EVENTS };
#define FLEET_N_VERDICTS 5

/* The longest host name (an inventory name) */
#define FLEET_NAME_MAX 255

struct fleet_host {
	/* given (the caller's strings, not copied) */
	const char *name;
	const char *journal, *events; /* paths; NULL when not given */
	const char *absent;           /* why there is no journal; NULL otherwise */
	const char *no_events;        /* why a journal has no events; NULL otherwise */
	/* filled by fleet_run() */
	struct jread j;               /* when the journal was read */
	struct event_list ev;         /* when the events were read */
	struct corr_report r;         /* when correlated */
	bool have_journal, correlated;
	enum fleet_verdict verdict;
	char *reason;                 /* one line, malloc'ed */
};

struct fleet {
	struct fleet_host *h;
	size_t n;
	int64_t grace_ns;
	/* filled by fleet_run() */
	bool pass;
	size_t n_verdict[FLEET_N_VERDICTS];
	char *reason;                 /* one line, malloc'ed */
};

/* Append a host named name. Returns 0, -EINVAL (empty, longer than
 * FLEET_NAME_MAX, or with a control character), -EEXIST (a host of that
 * name exists) or -ENOMEM. */
int fleet_add(struct fleet *f, const char *name);

/* Every host has a journal or a reason it has none, not both; events, or a
 * reason there are none, only with a journal, not both; there is at least
 * one host. Returns 0, or -EINVAL with a message in err naming the host. */
int fleet_check(const struct fleet *f, char *err, size_t len);

/* Read, correlate and judge every host, then the fleet. A host whose files
 * cannot be read gets bad_input with the reader's message; the others are
 * judged all the same. Returns 0 or -ENOMEM. */
int fleet_run(struct fleet *f);

void fleet_free(struct fleet *f); /* accepts NULL and zeroed */

const char *fleet_verdict_name(enum fleet_verdict v); /* "pass", "absent", ... */

/* The text report: one row per host, each host's windows, the fleet's
 * timeline (the hosts' clocks) and the verdict line "verdict  PASS: ...". */
void fleet_print(const struct fleet *f, FILE *out);

/* The --json report (okx-faultctl(1), FLEET). Returns 0 or -ENOMEM. */
int fleet_json(const struct fleet *f, FILE *out);

/* The hosts as lanes of one SVG timeline (svg.h). Returns 0 or -errno. */
int fleet_svg_file(const struct fleet *f, const char *path);

#endif
