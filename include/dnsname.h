/* SPDX-License-Identifier: MIT */
#ifndef OKX_DNSNAME_H
#define OKX_DNSNAME_H

/* Host names as they appear in a DNS query's question section (RFC 1035
 * 3.1): each label as a length byte and its bytes, ended by the root's
 * zero byte, so "www.okx.com" is \x03www\x03okx\x03com\x00. */

#include <stddef.h>
#include <stdint.h>

/* Longest wire name: 253 characters, with the first length byte and the
 * root byte 255 bytes. */
#define DNS_WIRE_MAX 255

/* Encode name (one optional trailing dot) into out, in lower case: the
 * form a resolver sends, and what the dns fault matches. Returns the
 * length (2..255), -EINVAL for an empty name, an empty label or a label
 * over 63 bytes, or -ENOSPC when cap is too small. */
int dns_wire_name(const char *name, uint8_t *out, size_t cap);

/* The name as matched: lower case, no trailing dot. Returns 0, -EINVAL or
 * -ENOSPC (cap too small, out then holds "" when cap > 0). */
int dns_name_matched(const char *name, char *out, size_t cap);

#endif
