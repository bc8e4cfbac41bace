/* SPDX-License-Identifier: MIT */
/* Capabilities: suspend for name resolution, drop for the drill
 * (okx-faultd(8), SECURITY). Raw capget/capset and prctl. */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Capability numbers are below 64 for as long as the kernel's 64-bit
 * (version 3) interface lasts. */
#define CAP_LIMIT 64

struct capsets {
	uint64_t eff, prm, inh;
};

static int caps_read(struct capsets *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d) < 0)
		return -errno;
	c->eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	c->prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	c->inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_write(const struct capsets *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	d[0].effective = (uint32_t)c->eff, d[1].effective = (uint32_t)(c->eff >> 32);
	d[0].permitted = (uint32_t)c->prm, d[1].permitted = (uint32_t)(c->prm >> 32);
	d[0].inheritable = (uint32_t)c->inh, d[1].inheritable = (uint32_t)(c->inh >> 32);
	return syscall(SYS_capset, &hdr, d) < 0 ? -errno : 0;
}

int privs_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct capsets c;
	int ret = caps_read(&c);

	if (ret < 0)
		return ret;
	*eff = c.eff, *prm = c.prm, *inh = c.inh;
	return 0;
}

bool privs_have(int cap)
{
	struct capsets c;

	if (cap < 0 || cap >= CAP_LIMIT || caps_read(&c) < 0)
		return false;
	return c.eff >> cap & 1;
}

int privs_suspend(void)
{
	struct capsets c;
	int ret = caps_read(&c);

	if (ret < 0 || !c.eff)
		return ret;
	c.eff = 0;
	return caps_write(&c);
}

int privs_resume(void)
{
	struct capsets c;
	int ret = caps_read(&c);

	if (ret < 0 || c.eff == c.prm)
		return ret;
	c.eff = c.prm;
	return caps_write(&c);
}

/* Drop from the bounding set what is still in it: no later execve could
 * give it back (none is made; this is for what a bug could do). */
static int drop_bounding(void)
{
	for (int cap = 0; cap < CAP_LIMIT; cap++) {
		int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL);

		if (in < 0)
			break; /* past the kernel's last capability */
		if (!in || (PRIVS_KEEP_MASK >> cap & 1))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) < 0) {
			int ret = -errno;

			log_warnx("dropping capability %d from the bounding set: %s", cap, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int privs_drop(void)
{
	struct capsets c;
	int ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		return -errno;
	ret = drop_bounding();
	if (ret < 0)
		return ret;
	/* EINVAL: a kernel before 4.3 has no ambient set to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL)
		return -errno;
	ret = caps_read(&c);
	if (ret < 0)
		return ret;
	c.eff = c.prm = c.prm & PRIVS_KEEP_MASK;
	c.inh = 0;
	ret = caps_write(&c);
	if (ret < 0)
		return ret;
	ret = caps_read(&c);
	if (ret < 0)
		return ret;
	if (c.eff != PRIVS_KEEP_MASK || c.prm != PRIVS_KEEP_MASK || c.inh)
		return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) != 1)
		return -EPERM;
	return 0;
}
