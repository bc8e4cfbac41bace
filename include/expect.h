/* SPDX-License-Identifier: MIT */
#ifndef OKX_EXPECT_H
#define OKX_EXPECT_H

#include <stdbool.h>

/* What a fault should cause at the connector, the evidence okx-faultctl
 * looks for in its window (okx-faultctl(1), DIAGNOSIS): errors, slower
 * calls, or either. A policy states it per fault (expect=, see
 * okx-faultd.policy(5)); the daemon journals it in fault_begin. Shared by
 * the policy parser, the drill and okx-faultctl, so the defaults are said
 * once. */
enum expect { EXPECT_ERRORS, EXPECT_LATENCY, EXPECT_ANY };

const char *expect_name(enum expect e); /* "errors", "latency", "any" */

/* "errors", "latency" or "any" into *e; false for anything else. */
bool expect_parse(const char *s, enum expect *e);

/* The default of an action, by its policy name: drop, reject and dns cause
 * errors; delay slower calls (or errors once the latency passes the
 * client's timeout) and loss retransmissions (slower calls) or errors:
 * either. Any other name: errors. */
enum expect expect_default(const char *action);

#endif
