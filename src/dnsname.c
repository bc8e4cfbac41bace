/* SPDX-License-Identifier: MIT */
/* DNS wire-format names for the dns fault (include/dnsname.h). */
#include <errno.h>
#include <string.h>

#include "dnsname.h"

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int dns_wire_name(const char *name, uint8_t *out, size_t cap)
{
	size_t n = strlen(name), i, label = 0, len = 1;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0)
		return -EINVAL;
	if (n + 2 > DNS_WIRE_MAX)
		return -EINVAL;
	if (cap < n + 2)
		return -ENOSPC;
	/* out[label] is the length byte of the label being written */
	for (i = 0; i <= n; i++) {
		if (i == n || name[i] == '.') {
			size_t k = len - label - 1;

			if (k == 0 || k > 63)
				return -EINVAL;
			out[label] = (uint8_t)k;
			label = len++;
			continue;
		}
		out[len++] = (uint8_t)lower(name[i]);
	}
	out[label] = 0;
	return (int)len;
}

int dns_name_matched(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), i;

	if (cap)
		out[0] = '\0';
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0)
		return -EINVAL;
	if (cap <= n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		out[i] = lower(name[i]);
	out[n] = '\0';
	return 0;
}
