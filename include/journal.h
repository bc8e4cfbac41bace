/* SPDX-License-Identifier: MIT */
#ifndef OKX_JOURNAL_H
#define OKX_JOURNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "clock.h"

/* The drill journal (SPEC §5): JSON Lines, one object per event, each line
 * written with a single write(2) and fsync(2)ed before the call returns, so
 * a live fault is on disk before the daemon can lose it. */
struct journal;

/* Open (create, append) PATH, creating missing parent directories (0750).
 * Returns 0 or -errno. */
int journal_open(struct journal **out, const char *path);

/* Write one event. The line starts with "event", "ts" (at->real, RFC 3339
 * microseconds) and "mono_ns" (at->mono), followed by the members of
 * `fields` in order. `fields` (may be NULL) is consumed. Returns 0 or
 * -errno (the journal is then unusable). */
int journal_write(struct journal *j, const char *event, const struct stamp *at, cJSON *fields);

const char *journal_path(const struct journal *j);
void journal_close(struct journal *j); /* accepts NULL */

/* "/var/lib/okx-faultd/NAME-YYYYMMDDTHHMMSSZ.jsonl" (malloc'ed, NULL on ENOMEM) */
char *journal_default_path(const char *name, const struct timespec *now);

/* Helpers to add RFC 3339 stamps to a cJSON object. */
cJSON *json_add_time(cJSON *obj, const char *key, const struct timespec *real);
/* An exact unsigned 64-bit integer member (cJSON numbers are doubles). */
cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v);

#endif
