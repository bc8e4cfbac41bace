/* SPDX-License-Identifier: MIT */
#ifndef OKX_LOG_H
#define OKX_LOG_H

#include <stdarg.h>

/* Levels in increasing verbosity. The default is LOG_LVL_INFO; -q lowers it
 * to LOG_LVL_WARN, -v raises it to LOG_LVL_DEBUG. */
enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Optional capture hook for tests: when set, every emitted line is also
 * passed here (without the program prefix and newline). */
typedef void (*log_capture_fn)(enum log_level level, const char *line, void *data);
void log_set_capture(log_capture_fn fn, void *data);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* with strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
