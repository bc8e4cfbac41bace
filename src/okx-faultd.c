/* SPDX-License-Identifier: MIT */
#include <stdio.h>
int main(void)
{
	printf("okx-faultd %s (%s)\n", OKX_VERSION, OKX_GIT_COMMIT);
	return 0;
}
