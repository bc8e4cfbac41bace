/* SPDX-License-Identifier: MIT */
#ifndef OKX_SHA256_H
#define OKX_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* FIPS 180-4 SHA-256, for the journal's policy_sha256 (no crypto library
 * is linked for one digest). */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Hex digest of a whole buffer into hex[65]. */
void sha256_hex(const void *data, size_t len, char hex[65]);
/* Hex digest of a file; 0 or -errno. */
int sha256_file_hex(const char *path, char hex[65]);

#endif
