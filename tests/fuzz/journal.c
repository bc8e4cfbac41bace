/* libFuzzer target: the journal reader (okx-faultctl). */
#include <stdint.h>
#include <stdlib.h>

#include "journal_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jread j = { 0 };
	char *error = NULL;

	if (jread_buffer(&j, "fuzz.jsonl", (const char *)data, size, &error) < 0 && (!error || !*error))
		abort();
	free(error);
	jread_free(&j);
	return 0;
}
