/* SPDX-License-Identifier: MIT */
#ifndef OKX_JOURNAL_H
#define OKX_JOURNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

/* The drill journal (okx-faultd(8), JOURNAL): JSON Lines, one object per
 * event, each line built whole in memory and written with one write(2)
 * before the call returns, so a live fault is in the file before the
 * daemon can lose it; a syncer thread fsync(2)s the lines right after, off
 * the drill's switching path. A line is in the file whole or not at all. */
struct journal;

/* Mode of a journal file (directories: SAFEFILE_DIR_MODE, 0750). */
#define JOURNAL_FILE_MODE 0640
/* Where journals go when neither -j nor the policy names one. */
#define JOURNAL_DIR "/var/lib/okx-faultd"

/* Can PATH become a journal? Nothing is created. 0, or the errors of
 * journal_open() (with `unique`, an existing PATH is fine). */
int journal_check_path(const char *path, bool unique);

/* Create PATH as a new journal: never an existing file (-EEXIST, a
 * symlink or a FIFO included), no symlink followed anywhere in the path
 * (-ELOOP), missing parents created 0750, the file 0640. With `unique`,
 * an existing PATH is not an error: "-2", "-3", ... (up to "-999") go
 * before the ".jsonl" until a name is free (the default path's stamp has
 * one-second resolution). Returns 0 or -errno. */
int journal_open(struct journal **out, const char *path, bool unique);

/* A message for a journal_open() error: why the path was refused. */
const char *journal_strerror(int err);

/* Write one event. The line starts with "event", "ts" (at->real, RFC 3339
 * microseconds) and "mono_ns" (at->mono), followed by the members of
 * `fields` in order. `fields` (may be NULL) is consumed. Bytes of strings
 * that are not valid UTF-8 are written as \ufffd, so every line is valid
 * JSON in UTF-8. Returns 0 or -errno; on any failure the journal is cut
 * back to its last whole line and every later write fails with the same
 * error (journal_failed()). */
int journal_write(struct journal *j, const char *event, const struct stamp *at, cJSON *fields);

/* 0 while every write and fsync succeeded, else the first failure's
 * -errno. */
int journal_failed(const struct journal *j);

/* Wait until every line written is fsync()ed. Returns journal_failed(). */
int journal_sync(struct journal *j);

const char *journal_path(const struct journal *j);
void journal_close(struct journal *j); /* accepts NULL */

/* JOURNAL_DIR "/NAME-YYYYMMDDTHHMMSSZ.jsonl" (malloc'ed, NULL on ENOMEM) */
char *journal_default_path(const char *name, const struct timespec *now);

/* Helpers to add RFC 3339 stamps to a cJSON object. */
cJSON *json_add_time(cJSON *obj, const char *key, const struct timespec *real);
/* An exact unsigned 64-bit integer member (cJSON numbers are doubles). */
cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v);

#endif
