/* SPDX-License-Identifier: MIT */
/* Located error messages gathered into one string (include/errbuf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

int errbuf_append(char **errors, const char *fmt, ...)
{
	size_t old = *errors ? strlen(*errors) : 0;
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	s = realloc(*errors, old + (size_t)n + 1);
	if (!s)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(s + old, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*errors = s;
	return 0;
}
