/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <linux/capability.h>
#include <stdint.h>

#include "privs.h"

/* Suspend empties the effective set and keeps the permitted one; resume
 * makes the permitted set effective again (a no-op without capabilities). */
Test(privs, suspend_resume)
{
	uint64_t eff, prm, inh, eff2, prm2, inh2;

	cr_assert_eq(privs_get(&eff, &prm, &inh), 0);
	cr_assert_eq(privs_suspend(), 0);
	cr_assert_eq(privs_get(&eff2, &prm2, &inh2), 0);
	cr_expect_eq(eff2, 0);
	cr_expect_eq(prm2, prm);
	cr_expect_eq(inh2, inh);
	cr_expect_not(privs_have(CAP_NET_ADMIN));
	cr_assert_eq(privs_resume(), 0);
	cr_assert_eq(privs_get(&eff2, &prm2, &inh2), 0);
	cr_expect_eq(eff2, prm);
	cr_expect_eq(prm2, prm);
}

Test(privs, keep_mask)
{
	cr_expect_eq(PRIVS_KEEP_MASK, (uint64_t)CAP_TO_MASK(CAP_NET_ADMIN));
	cr_expect_not(privs_have(-1));
	cr_expect_not(privs_have(64));
}
