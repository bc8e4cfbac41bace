#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

struct vec {
	const char *in;
	size_t repeat;
	const char *hex;
};

static const struct vec vecs[] = {
	{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

Test(sha256, fips_vectors)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct sha256 s;
		uint8_t d[32];
		char hex[65];

		sha256_init(&s);
		for (size_t r = 0; r < vecs[i].repeat; r++)
			sha256_update(&s, vecs[i].in, strlen(vecs[i].in));
		sha256_final(&s, d);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", d[k]);
		cr_expect_str_eq(hex, vecs[i].hex, "vector %zu", i);
	}
}

Test(sha256, hex_helper_matches_streaming)
{
	char hex[65];

	sha256_hex("abc", 3, hex);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
