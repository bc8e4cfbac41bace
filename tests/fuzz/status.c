/* libFuzzer target: a control socket reply read back (status_decode) and a
 * request line (control_parse_request). A status that reads encodes, and
 * reads back to the same text: encoding is a fixed point after one round. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct status_reply r, r2;
	static char a[STATUS_LINE_MAX], b[STATUS_LINE_MAX], err[256];
	enum control_req req;
	int n, m;

	(void)control_parse_request((const char *)data, size, &req, err, sizeof(err));
	if (!status_decode((const char *)data, size, &r, err, sizeof(err)) || r.kind != STATUS_REPLY_STATUS)
		return 0;
	n = status_encode(&r.st, a, sizeof(a));
	if (n == -ENOSPC)
		return 0; /* numbers written shorter than we write them */
	if (n < 0 || !status_decode(a, (size_t)n, &r2, err, sizeof(err)))
		abort();
	m = status_encode(&r2.st, b, sizeof(b));
	if (m != n || memcmp(a, b, (size_t)n))
		abort();
	status_line(&r.st, true, err, sizeof(err));
	return 0;
}
