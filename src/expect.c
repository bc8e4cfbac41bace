/* SPDX-License-Identifier: MIT */
/* The evidence each fault should leave at the connector (expect.h). */
#include <string.h>

#include "expect.h"

static const char *const names[] = {
	[EXPECT_ERRORS] = "errors",
	[EXPECT_LATENCY] = "latency",
	[EXPECT_ANY] = "any",
};

const char *expect_name(enum expect e)
{
	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

bool expect_parse(const char *s, enum expect *e)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*e = (enum expect)i;
			return true;
		}
	}
	return false;
}

enum expect expect_default(const char *action)
{
	if (!strcmp(action, "delay") || !strcmp(action, "loss"))
		return EXPECT_ANY;
	return EXPECT_ERRORS;
}
