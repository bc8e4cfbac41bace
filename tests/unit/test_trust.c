/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

struct trust_case {
	uid_t owner;
	mode_t mode;
	bool private_group;
	uid_t sudo;
	int want;
	char why[80];
};

ParameterizedTestParameters(trust, table)
{
	static struct trust_case cases[] = {
		{ 0, S_IFREG | 0644, false, TRUST_NO_SUDO, 0, "" },
		{ 0, S_IFREG | 0600, false, 1000, 0, "" },
		{ 0, S_IFREG | 0755, false, TRUST_NO_SUDO, 0, "" },
		{ 1000, S_IFREG | 0644, false, 1000, 0, "" },
		{ 1000, S_IFIFO | 0600, false, 1000, 0, "" },
		{ 1000, S_IFREG | 0644, false, TRUST_NO_SUDO, -EPERM, "owned by uid 1000, not root" },
		{ 1001, S_IFREG | 0644, false, 1000, -EPERM, "owned by uid 1001, neither root nor the sudo user (uid 1000)" },
		{ 0, S_IFREG | 0664, false, TRUST_NO_SUDO, -EPERM, "writable by its group (mode 0664)" },
		{ 0, S_IFREG | 0646, false, TRUST_NO_SUDO, -EPERM, "writable by others (mode 0646)" },
		{ 0, S_IFREG | 0666, false, TRUST_NO_SUDO, -EPERM, "writable by others (mode 0666)" },
		{ 1000, S_IFREG | 0620, false, 1000, -EPERM, "writable by its group (mode 0620)" },
		{ 0, S_IFREG | 01602, false, TRUST_NO_SUDO, -EPERM, "writable by others (mode 1602)" },
		/* a user private group (Debian's umask 002 checkouts) */
		{ 1000, S_IFREG | 0664, true, 1000, 0, "" },
		{ 1000, S_IFREG | 0620, true, 1000, 0, "" },
		{ 1000, S_IFREG | 0666, true, 1000, -EPERM, "writable by others (mode 0666)" },
		{ 1001, S_IFREG | 0664, true, 1000, -EPERM, "owned by uid 1001, neither root nor the sudo user (uid 1000)" },
	};
	return cr_make_param_array(struct trust_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct trust_case *c, trust, table)
{
	char why[128] = "x";

	cr_expect_eq(trust_check(c->owner, c->mode, c->private_group, c->sudo, why, sizeof(why)), c->want, "owner %u mode %o",
		     (unsigned)c->owner, (unsigned)c->mode);
	cr_expect_str_eq(why, c->why);
}

Test(trust, sudo_uid)
{
	cr_expect_eq(trust_sudo_uid(NULL), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid(""), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("1000"), 1000);
	cr_expect_eq(trust_sudo_uid("0"), TRUST_NO_SUDO, "root needs no sudo exception");
	cr_expect_eq(trust_sudo_uid("-1"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("+5"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid(" 5"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("5x"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("4294967295"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("99999999999999999999"), TRUST_NO_SUDO);
	cr_expect_eq(trust_sudo_uid("4294967294"), 4294967294u);
}

Test(trust, short_buffer)
{
	char why[8];

	cr_expect_eq(trust_check(5, 0644, false, TRUST_NO_SUDO, why, sizeof(why)), -EPERM);
	cr_expect_eq(strlen(why), 7);
}

/* the lookups: root's primary group is "root" (no members on Debian);
 * nobody's is "nogroup", not a private group */
Test(trust, private_group_lookup)
{
	cr_expect(trust_private_group(0, 0), "root:root is root's private group");
	cr_expect_not(trust_private_group(0, 65534), "nogroup is not root's group");
	cr_expect_not(trust_private_group(65534, 65534), "nogroup is not named like nobody");
	cr_expect_not(trust_private_group(4000000000u, 0), "an unknown user has no private group");
}
