/* SPDX-License-Identifier: MIT */
/* The policy's scope keys resolved on this host: uid names, cgroup ids,
 * the network namespace (include/scope.h, okx-faultd.policy(5), SCOPE). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "errbuf.h"
#include "journal.h"
#include "safefile.h"
#include "scope.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
/* linux/nsfs.h: NS_GET_NSTYPE (kernel 4.11) */
#define SCOPE_NS_GET_NSTYPE _IO(0xb7, 0x3)
#define MOUNTINFO_LIMIT (4u << 20)

void scope_init(struct scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->netns_fd = -1;
	sc->netns_pidfd = -1;
}

void scope_free(struct scope *sc)
{
	if (!sc)
		return;
	free(sc->uids);
	free(sc->cgroups);
	free(sc->cgroot);
	free(sc->netns_path);
	if (sc->netns_fd >= 0)
		close(sc->netns_fd);
	if (sc->netns_pidfd >= 0)
		close(sc->netns_pidfd);
	scope_init(sc);
}

/* ---- mountinfo ---------------------------------------------------------- */

uint32_t scope_path_depth(const char *path)
{
	uint32_t n = 0;

	for (const char *c = path; *c;) {
		size_t len;

		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		if (len)
			n++;
		c += len;
	}
	return n;
}

/* A mountinfo field, its octal escapes (\040 for a space, \134 for '\')
 * undone. Returns false when it does not fit. */
static bool unescape(const char *s, size_t n, char *out, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
		    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
			i += 3;
		}
		if (k + 1 >= len)
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return true;
}

/* The n-th space-separated field of a line (0-based): start and length. */
static bool field(const char *line, size_t line_len, int n, const char **start, size_t *len)
{
	const char *p = line, *end = line + line_len;

	for (int i = 0; p < end; i++) {
		const char *q = memchr(p, ' ', (size_t)(end - p));

		if (!q)
			q = end;
		if (i == n) {
			*start = p;
			*len = (size_t)(q - p);
			return true;
		}
		p = q + 1;
	}
	return false;
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS" */
int scope_find_cgroup2(const char *mountinfo, char *mnt, size_t len, uint32_t *root_depth)
{
	bool found = false;

	for (const char *line = mountinfo; *line;) {
		const char *nl = strchr(line, '\n'), *sep, *root, *point;
		size_t n = nl ? (size_t)(nl - line) : strlen(line), rlen, plen;
		char rootbuf[PATH_MAX];

		sep = memmem(line, n, " - ", 3);
		if (sep && n - (size_t)(sep - line) >= 11 && !memcmp(sep + 3, "cgroup2 ", 8) &&
		    field(line, n, 3, &root, &rlen) && field(line, n, 4, &point, &plen) &&
		    unescape(root, rlen, rootbuf, sizeof(rootbuf))) {
			uint32_t depth = scope_path_depth(rootbuf);

			/* the first mount, or one of the whole hierarchy over a subtree */
			if (!found || (depth == 0 && *root_depth != 0)) {
				if (!unescape(point, plen, mnt, len))
					return -ENAMETOOLONG;
				*root_depth = depth;
				found = true;
			}
		}
		line += n + (nl ? 1 : 0);
	}
	return found ? 0 : -ENOENT;
}

/* ---- uids and cgroups ---------------------------------------------------- */

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int resolve_uids(struct scope *sc, const struct policy *p, char **errors)
{
	size_t k = 0;
	int ret = 0, err;

	sc->uids = calloc(p->n_uids + 1, sizeof(*sc->uids));
	if (!sc->uids)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_uids; i++) {
		const char *v = p->uids[i].value;
		struct passwd *pw;

		if (v[0] >= '0' && v[0] <= '9') {
			sc->uids[k++] = (uint32_t)strtoul(v, NULL, 10); /* checked by the parser */
			continue;
		}
		errno = 0;
		pw = getpwnam(v);
		if (pw) {
			sc->uids[k++] = (uint32_t)pw->pw_uid;
			continue;
		}
		/* getpwnam(3): 0, ENOENT, ESRCH, EBADF or EPERM mean "not found" */
		err = errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM ? 0 : errno;
		if (errbuf_append(errors, "%s:%d: unknown user '%s'%s%s\n", p->path, p->uids[i].line, v,
				  err ? ": " : "", err ? strerror(err) : "") < 0)
			return -ENOMEM;
		ret = -EINVAL;
	}
	qsort(sc->uids, k, sizeof(*sc->uids), uid_cmp);
	sc->n_uids = 0;
	for (size_t i = 0; i < k; i++)
		if (!sc->n_uids || sc->uids[sc->n_uids - 1] != sc->uids[i])
			sc->uids[sc->n_uids++] = sc->uids[i];
	return ret;
}

static int find_cgroot(struct scope *sc, const char *mountinfo, uint32_t *root_depth)
{
	char *text = NULL, mnt[PATH_MAX];
	size_t len = 0;
	struct statfs sf;
	mode_t type;
	int ret = safefile_read(mountinfo, MOUNTINFO_LIMIT, &text, &len, &type);

	if (ret < 0)
		return ret;
	ret = strlen(text) == len ? scope_find_cgroup2(text, mnt, sizeof(mnt), root_depth) : -EINVAL;
	free(text);
	if (ret < 0)
		return ret;
	if (statfs(mnt, &sf) < 0)
		return -errno;
	if (sf.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOENT; /* listed, but something else is mounted over it */
	sc->cgroot = strdup(mnt);
	return sc->cgroot ? 0 : -ENOMEM;
}

static int resolve_cgroups(struct scope *sc, const struct policy *p, const char *mountinfo, char **errors)
{
	uint32_t root_depth = 0;
	int ret;

	sc->cgroups = calloc(p->n_cgroups, sizeof(*sc->cgroups));
	if (!sc->cgroups)
		return -ENOMEM;
	sc->n_cgroups = p->n_cgroups;
	ret = find_cgroot(sc, mountinfo, &root_depth);
	if (ret < 0) {
		const char *why = ret == -ENOENT ? "no cgroup2 file system is mounted" : strerror(-ret);

		if (errbuf_append(errors, "%s:%d: cgroup '%s': %s (%s)\n", p->path, p->cgroups[0].line,
				  p->cgroups[0].value, why, mountinfo) < 0)
			return -ENOMEM;
		return ret == -ENOMEM ? ret : -EINVAL;
	}
	for (size_t i = 0; i < p->n_cgroups; i++) {
		struct scope_cgroup *c = &sc->cgroups[i];

		c->path = p->cgroups[i].value;
		c->line = p->cgroups[i].line;
		c->level = root_depth + scope_path_depth(c->path);
		if (c->level > POLICY_MAX_CGROUP_DEPTH) {
			if (errbuf_append(errors, "%s:%d: cgroup '%s' is %u levels deep, at most %u\n", p->path, c->line,
					  c->path, c->level, POLICY_MAX_CGROUP_DEPTH) < 0)
				return -ENOMEM;
			ret = -EINVAL;
			continue;
		}
		if (scope_cgroup_stat(sc, c, &c->id) < 0) {
			if (errbuf_append(errors, "%s:%d: cgroup '%s' not found under %s (the cgroup2 mount): %s\n",
					  p->path, c->line, c->path, sc->cgroot, strerror(errno)) < 0)
				return -ENOMEM;
			ret = -EINVAL;
			continue;
		}
		c->present = true;
		c->ids[c->n_ids++] = c->id;
	}
	return ret;
}

int scope_cgroup_stat(const struct scope *sc, const struct scope_cgroup *c, uint64_t *id)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s", sc->cgroot, c->path);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -errno;
	}
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -errno;
	}
	*id = (uint64_t)st.st_ino;
	return 0;
}

int scope_resolve_owner(struct scope *sc, const struct policy *p, const char *mountinfo, char **errors)
{
	int ret = 0, r;

	if (p->n_uids) {
		r = resolve_uids(sc, p, errors);
		if (r == -ENOMEM)
			return r;
		ret = r;
	}
	if (p->n_cgroups) {
		r = resolve_cgroups(sc, p, mountinfo, errors);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			ret = r;
	}
	return ret;
}

/* ---- netns ---------------------------------------------------------------- */

/* "/proc/PID/ns/net": the PID, else 0 */
static pid_t proc_pid(const char *path)
{
	const char *d;
	size_t n;

	if (strncmp(path, "/proc/", 6))
		return 0;
	d = path + 6;
	n = strspn(d, "0123456789");
	if (!n || n > 9 || strcmp(d + n, "/ns/net"))
		return 0;
	return (pid_t)strtol(d, NULL, 10);
}

static const char *ns_check(int fd)
{
	struct statfs sf;
	int type;

	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC)
		return "not a namespace (no nsfs file)";
	type = ioctl(fd, SCOPE_NS_GET_NSTYPE);
	if (type < 0)
		return "the kernel cannot tell the namespace's type (NS_GET_NSTYPE)";
	if (type != CLONE_NEWNET)
		return "not a network namespace";
	return NULL;
}

int scope_open_netns(struct scope *sc, const struct policy *p, char **errors)
{
	char path[PATH_MAX];
	const char *why = NULL;
	struct stat st;
	pid_t pid;
	int n = policy_netns_path(p, path, sizeof(path)), err = 0;

	if (n < 0)
		return 0;
	sc->netns_line = p->netns_line;
	if ((size_t)n >= sizeof(path))
		err = ENAMETOOLONG;
	pid = err ? 0 : proc_pid(path);
	/* the process first: if it is alive once the namespace is open, the
	 * namespace is the one it had, not a later process's with its PID */
	if (pid > 0 && (sc->netns_pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0 && errno != ENOSYS)
		err = errno; /* ENOSYS (before 5.3): the watch looks at the path instead */
	if (!err && (sc->netns_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err = errno;
	if (!err && !(why = ns_check(sc->netns_fd)) && fstat(sc->netns_fd, &st) < 0)
		err = errno;
	if (err || why) {
		if (errbuf_append(errors, "%s:%d: netns '%s': %s\n", p->path, p->netns_line, path,
				  why ? why : strerror(err)) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	sc->netns_ino = (uint64_t)st.st_ino;
	sc->netns_dev = (uint64_t)st.st_dev;
	sc->netns_path = strdup(path);
	return sc->netns_path ? 0 : -ENOMEM;
}

int scope_enter_netns(const struct scope *sc)
{
	if (sc->netns_fd < 0)
		return 0;
	return setns(sc->netns_fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* ---- journal ------------------------------------------------------------ */

static cJSON *u64_item(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_CreateRaw(buf);
}

cJSON *scope_json(const struct scope *sc)
{
	cJSON *o = cJSON_CreateObject(), *a;

	if (!o)
		return NULL;
	a = cJSON_AddArrayToObject(o, "uids");
	for (size_t i = 0; a && i < sc->n_uids; i++)
		cJSON_AddItemToArray(a, u64_item(sc->uids[i]));
	a = cJSON_AddArrayToObject(o, "cgroups");
	for (size_t i = 0; a && i < sc->n_cgroups; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "path", sc->cgroups[i].path);
		cJSON_AddNumberToObject(c, "level", sc->cgroups[i].level);
		json_add_u64(c, "id", sc->cgroups[i].id);
		cJSON_AddItemToArray(a, c);
	}
	if (sc->netns_fd >= 0) {
		cJSON *n = cJSON_AddObjectToObject(o, "netns");

		cJSON_AddStringToObject(n, "path", sc->netns_path);
		json_add_u64(n, "inode", sc->netns_ino);
	} else {
		cJSON_AddNullToObject(o, "netns");
	}
	return o;
}

void scope_label_bytes(uint8_t out[16], size_t *byte, uint8_t *mask)
{
	/* the kernel keeps labels as an array of unsigned long and tests bit
	 * N as bit N % BITS_PER_LONG of word N / BITS_PER_LONG: build the
	 * same words, then look where the bit landed */
	unsigned long words[16 / sizeof(unsigned long)] = { 0 };
	const size_t bits = 8 * sizeof(unsigned long);

	words[SCOPE_CT_LABEL / bits] = 1UL << (SCOPE_CT_LABEL % bits);
	memcpy(out, words, 16);
	for (size_t i = 0; i < 16; i++) {
		if (out[i]) {
			*byte = i;
			*mask = out[i];
		}
	}
}
