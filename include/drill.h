/* SPDX-License-Identifier: MIT */
#ifndef OKX_DRILL_H
#define OKX_DRILL_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

/* Exit codes: okx-faultd(8), EXIT STATUS. */
enum {
	EXIT_DRILL_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_ARM_TIMEOUT = 3,
	EXIT_ABORTED = 4,
};

struct drill_opts {
	const char *journal;   /* overrides the policy's journal; NULL: policy or default */
	const char *stop_file; /* NULL: none */
	const char *control_dir; /* NULL: control_dir(NULL) (include/control.h) */
};

/* Run a whole drill: resolve, watch, arm, inject, journal, clean up.
 * Returns the process exit code (okx-faultd(8), EXIT STATUS). */
int drill_run(const struct policy *p, const struct drill_opts *o);

/* Print what drill_run would install (nft ruleset, then "# tc ..." lines)
 * and change nothing. Returns an exit code (0, or 2 when a target_host
 * does not resolve). */
int drill_dry_run(const struct policy *p, FILE *out);

/* Remove tc state a killed okx-faultd left in this namespace. */
int drill_cleanup(void);

#endif
