/* libFuzzer target: the connector's error events (array, JSON Lines,
 * error_events at any depth). */
#include <stdint.h>
#include <stdlib.h>

#include "events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_list l = { 0 };
	char *error = NULL;

	if (events_buffer(&l, "fuzz.json", (const char *)data, size, &error) < 0 && (!error || !*error))
		abort(); /* every rejection is explained */
	free(error);
	events_free(&l);
	return 0;
}
