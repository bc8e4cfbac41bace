/* libFuzzer target: the policy parser, and the normalized printer's fixed
 * point (what policy_print writes must parse to the same text again). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static char *print(const struct policy *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	policy_print(p, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p, q;
	char *errors = NULL, *a, *b;
	size_t alen, blen;

	if (policy_parse_buffer(&p, "fuzz.policy", (const char *)data, size, &errors) < 0) {
		/* every failure explains itself */
		if (!errors || !*errors)
			abort();
		free(errors);
		return 0;
	}
	free(errors);
	errors = NULL;
	a = print(&p, &alen);
	if (policy_parse_buffer(&q, "normalized.policy", a, alen, &errors) < 0)
		abort(); /* the normalized form must be valid */
	b = print(&q, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort(); /* fixed point */
	free(errors);
	free(a);
	free(b);
	policy_free(&p);
	policy_free(&q);
	return 0;
}
