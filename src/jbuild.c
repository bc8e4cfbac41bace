/* SPDX-License-Identifier: MIT */
/* okx-faultctl's JSON builder over cJSON (include/jbuild.h). */
#include <stdio.h>

#include "jbuild.h"
#include "timeparse.h"

cJSON *jb_check(struct jb *b, cJSON *it)
{
	if (!it)
		b->oom = true;
	return it;
}

void jb_append(struct jb *b, cJSON *arr, cJSON *item)
{
	if (!item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		b->oom = true;
	}
}

void jb_add(struct jb *b, cJSON *obj, const char *key, cJSON *item)
{
	if (!item || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		b->oom = true;
	}
}

void jb_str(struct jb *b, cJSON *o, const char *k, const char *v)
{
	jb_check(b, v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k));
}

void jb_num(struct jb *b, cJSON *o, const char *k, double v)
{
	jb_check(b, cJSON_AddNumberToObject(o, k, v));
}

void jb_u64(struct jb *b, cJSON *o, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	jb_check(b, cJSON_AddRawToObject(o, k, buf));
}

void jb_time(struct jb *b, cJSON *o, const char *k, int64_t ns)
{
	char buf[TIME_STRLEN];

	jb_str(b, o, k, time_format_rfc3339(ns, 6, buf, sizeof(buf)));
}
