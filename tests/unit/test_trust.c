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
	uid_t sudo;
	int want;
	char why[80];
};

ParameterizedTestParameters(trust, table)
{
	static struct trust_case cases[] = {
		{ 0, S_IFREG | 0644, TRUST_NO_SUDO, 0, "" },
		{ 0, S_IFREG | 0600, 1000, 0, "" },
		{ 0, S_IFREG | 0755, TRUST_NO_SUDO, 0, "" },
		{ 1000, S_IFREG | 0644, 1000, 0, "" },
		{ 1000, S_IFIFO | 0600, 1000, 0, "" },
		{ 1000, S_IFREG | 0644, TRUST_NO_SUDO, -EPERM, "owned by uid 1000, not root" },
		{ 1001, S_IFREG | 0644, 1000, -EPERM, "owned by uid 1001, neither root nor the sudo user (uid 1000)" },
		{ 0, S_IFREG | 0664, TRUST_NO_SUDO, -EPERM, "writable by its group (mode 0664)" },
		{ 0, S_IFREG | 0646, TRUST_NO_SUDO, -EPERM, "writable by others (mode 0646)" },
		{ 0, S_IFREG | 0666, TRUST_NO_SUDO, -EPERM, "writable by others (mode 0666)" },
		{ 1000, S_IFREG | 0620, 1000, -EPERM, "writable by its group (mode 0620)" },
		{ 0, S_IFREG | 01602, TRUST_NO_SUDO, -EPERM, "writable by others (mode 1602)" },
	};
	return cr_make_param_array(struct trust_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct trust_case *c, trust, table)
{
	char why[128] = "x";

	cr_expect_eq(trust_check(c->owner, c->mode, c->sudo, why, sizeof(why)), c->want, "owner %u mode %o",
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

	cr_expect_eq(trust_check(5, 0644, TRUST_NO_SUDO, why, sizeof(why)), -EPERM);
	cr_expect_eq(strlen(why), 7);
}
