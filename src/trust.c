/* SPDX-License-Identifier: MIT */
/* Policy trust: who may have written the policy a root daemon runs
 * (okx-faultd(8), SECURITY). Pure: the caller gives owner and mode. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

uid_t trust_sudo_uid(const char *s)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return TRUST_NO_SUDO;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v >= (unsigned long)TRUST_NO_SUDO || (uid_t)v != v)
		return TRUST_NO_SUDO;
	return (uid_t)v;
}

bool trust_private_group(uid_t owner, gid_t gid)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char pbuf[4096], gbuf[16384];

	if (getpwuid_r(owner, &pw, pbuf, sizeof(pbuf), &pwp) != 0 || !pwp || pw.pw_gid != gid)
		return false;
	if (getgrgid_r(gid, &gr, gbuf, sizeof(gbuf), &grp) != 0 || !grp || strcmp(gr.gr_name, pw.pw_name))
		return false;
	for (char **m = gr.gr_mem; m && *m; m++)
		if (strcmp(*m, pw.pw_name))
			return false;
	return true;
}

int trust_check(uid_t owner, mode_t mode, bool private_group, uid_t sudo_uid, char *why, size_t len)
{
	if (owner != 0 && (sudo_uid == TRUST_NO_SUDO || owner != sudo_uid)) {
		if (sudo_uid == TRUST_NO_SUDO)
			snprintf(why, len, "owned by uid %u, not root", (unsigned)owner);
		else
			snprintf(why, len, "owned by uid %u, neither root nor the sudo user (uid %u)", (unsigned)owner,
				 (unsigned)sudo_uid);
		return -EPERM;
	}
	if ((mode & S_IWOTH) || ((mode & S_IWGRP) && !private_group)) {
		snprintf(why, len, "writable by %s (mode %04o)", (mode & S_IWOTH) ? "others" : "its group",
			 (unsigned)(mode & 07777));
		return -EPERM;
	}
	if (len)
		why[0] = '\0';
	return 0;
}
