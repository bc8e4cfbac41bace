/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 networks: parsing, formatting, containment. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

int prefix_max_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool prefix_has_host_bits(const struct prefix *p)
{
	int max = prefix_max_len(p->family), i;

	for (i = p->len; i < max; i++)
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

static void prefix_clear_host_bits(struct prefix *p)
{
	int max = prefix_max_len(p->family), i;

	for (i = p->len; i < max; i++)
		p->addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static bool parse_len(const char *s, int max, uint8_t *len)
{
	int n = 0, digits = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 3)
			return false;
		n = n * 10 + (*s - '0');
	}
	if (*s != '\0' || !digits || n > max)
		return false;
	*len = (uint8_t)n;
	return true;
}

enum prefix_err prefix_parse(const char *s, struct prefix *p, struct prefix *suggest)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(addr))
		return PREFIX_BAD_ADDR;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return PREFIX_BAD_ADDR;
	p->len = (uint8_t)prefix_max_len(p->family);
	if (slash && !parse_len(slash + 1, prefix_max_len(p->family), &p->len))
		return PREFIX_BAD_LEN;
	if (prefix_has_host_bits(p)) {
		if (suggest) {
			*suggest = *p;
			prefix_clear_host_bits(suggest);
		}
		return PREFIX_HOST_BITS;
	}
	return PREFIX_OK;
}

char *prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr))) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (p->len == prefix_max_len(p->family))
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, "%s/%u", addr, p->len);
	return buf;
}

bool prefix_contains(const struct prefix *net, const struct prefix *inner)
{
	int i;

	if (net->family != inner->family || net->len > inner->len)
		return false;
	for (i = 0; i < net->len / 8; i++)
		if (net->addr[i] != inner->addr[i])
			return false;
	if (net->len % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - net->len % 8));
		if ((net->addr[i] ^ inner->addr[i]) & mask)
			return false;
	}
	return true;
}
