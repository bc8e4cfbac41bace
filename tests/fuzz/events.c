/* libFuzzer target: the connector's error events and call records (array,
 * JSON Lines, error_events and calls at any depth), and what a parse
 * promises: both lists sorted, the counts consistent. */
#include <stdint.h>
#include <stdlib.h>

#include "events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_list l = { 0 };
	char *error = NULL;

	size_t failed = 0, timed = 0;
	int ret = events_buffer(&l, "fuzz.json", (const char *)data, size, &error);

	if (ret < 0 && (!error || !*error))
		abort(); /* every rejection is explained */
	for (size_t i = 0; ret == 0 && i < l.n_calls; i++) {
		if (i && l.calls[i].ns < l.calls[i - 1].ns)
			abort();
		failed += l.calls[i].failed;
		timed += l.calls[i].latency_ms >= 0;
	}
	for (size_t i = 1; ret == 0 && i < l.n; i++)
		if (l.v[i].ns < l.v[i - 1].ns)
			abort();
	if (ret == 0 && (failed != l.calls_failed || timed != l.calls_timed || (l.errors_from_calls && l.n != failed)))
		abort();
	free(error);
	events_free(&l);
	return 0;
}
