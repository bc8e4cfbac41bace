/* SPDX-License-Identifier: MIT */
#ifndef OKX_JBUILD_H
#define OKX_JBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Building okx-faultctl's JSON reports (okx-faultctl(1), JSON REPORT and
 * FLEET) with cJSON. cJSON_Add* return NULL on allocation failure; one
 * check at the end (cJSON_Print of a partial tree) would hide it, so each
 * helper records a failure in the builder and the caller checks b.oom
 * once the tree is built. */
struct jb {
	bool oom;
};

cJSON *jb_check(struct jb *b, cJSON *it); /* it, recording NULL as a failure */
/* Append item (may be NULL) to arr / add it to obj under key, taking
 * ownership either way. */
void jb_append(struct jb *b, cJSON *arr, cJSON *item);
void jb_add(struct jb *b, cJSON *obj, const char *key, cJSON *item);
void jb_str(struct jb *b, cJSON *o, const char *k, const char *v); /* v NULL: null */
void jb_num(struct jb *b, cJSON *o, const char *k, double v);
/* An exact unsigned 64-bit integer (a counter): cJSON numbers are doubles. */
void jb_u64(struct jb *b, cJSON *o, const char *k, uint64_t v);
void jb_time(struct jb *b, cJSON *o, const char *k, int64_t ns); /* RFC 3339, microseconds, UTC */

#endif
