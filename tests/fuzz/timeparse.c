/* libFuzzer target: RFC 3339 parsing; what parses must format and parse
 * back to the same instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], err[128], out[64];
	int64_t ns, back;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!time_parse_rfc3339(s, &ns, err, sizeof(err)))
		return 0;
	time_format_rfc3339(ns, 9, out, sizeof(out));
	if (!time_parse_rfc3339(out, &back, err, sizeof(err)) || back != ns)
		abort();
	return 0;
}
