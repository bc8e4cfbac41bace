/* SPDX-License-Identifier: MIT */
/* Diagnostics to stderr, one line each, "okx-faultd: message". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *prog = "okx-faultd";
static enum log_level cur = LOG_LVL_INFO;
static log_capture_fn capture;
static void *capture_data;

void log_init(const char *progname, enum log_level level)
{
	if (progname)
		prog = progname;
	cur = level;
}

void log_set_level(enum log_level level) { cur = level; }
enum log_level log_get_level(void) { return cur; }

void log_set_capture(log_capture_fn fn, void *data)
{
	capture = fn;
	capture_data = data;
}

static void vlog(enum log_level level, int err, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void vlog(enum log_level level, int err, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level > cur && !capture)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (err && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(err));
	if (capture)
		capture(level, line, capture_data);
	if (level <= cur)
		fprintf(stderr, "%s: %s\n", prog, line);
}

#define LOG_FN(name, level, with_errno)                                 \
	void name(const char *fmt, ...)                                 \
	{                                                               \
		int saved = errno;                                      \
		va_list ap;                                             \
		va_start(ap, fmt);                                      \
		vlog(level, with_errno ? saved : 0, fmt, ap);           \
		va_end(ap);                                             \
		errno = saved;                                          \
	}

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_errx, LOG_LVL_ERR, 0)
