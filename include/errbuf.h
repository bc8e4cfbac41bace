/* SPDX-License-Identifier: MIT */
#ifndef OKX_ERRBUF_H
#define OKX_ERRBUF_H

/* Located error messages gathered into one malloc'ed string, as the policy
 * checks that resolve names, users, cgroups and namespaces report them
 * ("FILE:LINE: ...\n" each; okx-faultd(8), DIAGNOSTICS). */

/* Append a printf-formatted message to *errors (NULL: start one). Returns 0,
 * -EINVAL for a format that cannot be printed, or -ENOMEM (*errors is then
 * unchanged). */
int errbuf_append(char **errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
