/* SPDX-License-Identifier: MIT */
#ifndef OKX_PREFIX_H
#define OKX_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 network. addr is in network byte order; for AF_INET only
 * the first 4 bytes are used. Host bits below len are zero. */
struct prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len; /* 0..32 or 0..128 */
};

enum prefix_err {
	PREFIX_OK = 0,
	PREFIX_BAD_ADDR,    /* not an address */
	PREFIX_BAD_LEN,     /* prefix length missing, not a number, or out of range */
	PREFIX_HOST_BITS,   /* host bits set: *suggest holds the network */
};

/* Parse "ADDR" or "ADDR/LEN" (v4 or v6). A bare address is a /32 or /128.
 * On PREFIX_HOST_BITS, p is still filled and `suggest` (if not NULL) is set
 * to the network with host bits cleared. */
enum prefix_err prefix_parse(const char *s, struct prefix *p, struct prefix *suggest);

/* Format as "a.b.c.d/len" or "v6/len"; a host prefix (/32, /128) is
 * printed without "/len". buf must hold PREFIX_STRLEN bytes. */
#define PREFIX_STRLEN 64
char *prefix_format(const struct prefix *p, char *buf, size_t len);

bool prefix_contains(const struct prefix *net, const struct prefix *inner);
int prefix_max_len(int family); /* 32 or 128 */

/* Is every address of t inside the union of e[0..n) (those of t's family;
 * adjacent and overlapping prefixes join)? Returns 1, 0 or -ENOMEM. */
int prefix_union_covers(const struct prefix *t, const struct prefix *e, size_t n);

#endif
