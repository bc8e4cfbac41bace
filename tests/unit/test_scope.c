/* SPDX-License-Identifier: MIT */
/* The scope keys resolved (src/scope.c) and followed (src/scope_watch.c):
 * the cgroup2 mount found in mountinfo text, cgroup levels, the connection
 * label's bytes, uid names, namespaces opened and checked, the journal's
 * scope, and the watch driven over a directory tree standing in for the
 * cgroup2 mount. No kernel feature beyond files, inotify and nsfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"
#include "scope.h"
#include "scope_watch.h"

/* the text of a cJSON object, the object freed */
static char *text_of(cJSON *o)
{
	char *s;

	cr_assert_not_null(o);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---- mountinfo ---- */

static const char hybrid[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";

Test(scope, cgroup2_mount_hybrid_and_unified)
{
	char mnt[PATH_MAX];
	uint32_t depth = 99;

	cr_assert_eq(scope_find_cgroup2(hybrid, mnt, sizeof(mnt), &depth), 0);
	cr_expect_str_eq(mnt, "/sys/fs/cgroup/unified");
	cr_expect_eq(depth, 0);
	cr_assert_eq(scope_find_cgroup2("29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
					mnt, sizeof(mnt), &depth), 0);
	cr_expect_str_eq(mnt, "/sys/fs/cgroup");
}

Test(scope, cgroup2_mount_escapes_subtrees_and_none)
{
	char mnt[PATH_MAX];
	uint32_t depth = 0;

	/* a subtree bound first, the whole hierarchy later: the whole one */
	cr_assert_eq(scope_find_cgroup2("50 1 0:38 /a/b /srv/cg rw - cgroup2 cgroup2 rw\n"
					"51 1 0:38 / /mnt/cg\\040two rw - cgroup2 none rw\n",
					mnt, sizeof(mnt), &depth), 0);
	cr_expect_str_eq(mnt, "/mnt/cg two");
	cr_expect_eq(depth, 0);
	/* only a subtree: its root's depth adds to every level */
	cr_assert_eq(scope_find_cgroup2("50 1 0:38 /a/b /srv/cg rw - cgroup2 cgroup2 rw", mnt, sizeof(mnt), &depth), 0);
	cr_expect_str_eq(mnt, "/srv/cg");
	cr_expect_eq(depth, 2);
	cr_expect_eq(scope_find_cgroup2("1 0 0:1 / / rw - ext4 /dev/root rw\n", mnt, sizeof(mnt), &depth), -ENOENT);
	cr_expect_eq(scope_find_cgroup2("", mnt, sizeof(mnt), &depth), -ENOENT);
	cr_expect_eq(scope_find_cgroup2("1 0 0:1 / /cgroup2 rw - cgroup cgroup rw\n", mnt, sizeof(mnt), &depth), -ENOENT,
		     "cgroup v1 is not cgroup2");
	cr_expect_eq(scope_find_cgroup2(hybrid, mnt, 8, &depth), -ENAMETOOLONG);
}

Test(scope, path_depth)
{
	cr_expect_eq(scope_path_depth(""), 0);
	cr_expect_eq(scope_path_depth("/"), 0);
	cr_expect_eq(scope_path_depth("okx"), 1);
	cr_expect_eq(scope_path_depth("/system.slice/connector.service"), 2);
	cr_expect_eq(scope_path_depth("a//b/c/"), 3);
}

/* the label bit as the kernel's test_bit(SCOPE_CT_LABEL) reads it */
Test(scope, label_bytes)
{
	uint8_t b[16];
	unsigned long words[16 / sizeof(unsigned long)];
	size_t byte = 99, set = 0;
	uint8_t mask = 0;

	scope_label_bytes(b, &byte, &mask);
	for (size_t i = 0; i < 16; i++)
		for (int k = 0; k < 8; k++)
			set += b[i] >> k & 1;
	cr_expect_eq(set, 1, "one bit");
	cr_assert_lt(byte, 16);
	cr_expect_eq(b[byte], mask);
	memcpy(words, b, 16);
	cr_expect(words[SCOPE_CT_LABEL / (8 * sizeof(long))] >> (SCOPE_CT_LABEL % (8 * sizeof(long))) & 1);
}

/* ---- resolution ---- */

static int parse(const char *text, struct policy *p)
{
	char *err = NULL;
	int r = policy_parse_buffer(p, "t.policy", text, strlen(text), &err);

	cr_assert_eq(r, 0, "%s", err ? err : "");
	return r;
}

Test(scope, uids_resolved_sorted_distinct)
{
	struct policy p;
	struct scope sc;
	char *err = NULL;

	parse("name = t\ntarget = 198.18.0.2\nuid = root\nuid = 65534\nuid = 0\nuid = 7\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_resolve_owner(&sc, &p, "/proc/self/mountinfo", &err), 0, "%s", err ? err : "");
	cr_assert_eq(sc.n_uids, 3);
	cr_expect_eq(sc.uids[0], 0);
	cr_expect_eq(sc.uids[1], 7);
	cr_expect_eq(sc.uids[2], 65534);
	cr_expect_eq(sc.n_cgroups, 0);
	scope_free(&sc);
	policy_free(&p);
}

Test(scope, unknown_user_and_missing_cgroup2_are_located)
{
	char mi[] = "/tmp/okx-scope-mi.XXXXXX";
	struct policy p;
	struct scope sc;
	char *err = NULL;
	int fd = mkstemp(mi);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, hybrid, 60), 60, "a mountinfo without cgroup2");
	close(fd);
	parse("name = t\ntarget = 198.18.0.2\nuid = okx-no-such-user-x\ncgroup = okx\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_resolve_owner(&sc, &p, mi, &err), -EINVAL);
	cr_assert_not_null(err);
	cr_expect_not_null(strstr(err, "t.policy:3: unknown user 'okx-no-such-user-x'\n"), "%s", err);
	cr_expect_not_null(strstr(err, "t.policy:4: cgroup 'okx': no cgroup2 file system is mounted ("), "%s", err);
	free(err);
	err = NULL;
	scope_free(&sc);
	/* a mountinfo naming a cgroup2 mount that is not one */
	fd = open(mi, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	dprintf(fd, "1 0 0:1 / /tmp rw - cgroup2 cgroup2 rw\n");
	close(fd);
	scope_init(&sc);
	cr_assert_eq(scope_resolve_owner(&sc, &p, mi, &err), -EINVAL);
	cr_expect_not_null(strstr(err, "t.policy:4: cgroup 'okx': no cgroup2 file system is mounted"), "%s", err);
	free(err);
	scope_free(&sc);
	policy_free(&p);
	unlink(mi);
}

Test(scope, netns_opened_and_checked)
{
	char file[] = "/tmp/okx-scope-ns.XXXXXX", text[256], pidpath[64];
	struct policy p;
	struct scope sc;
	struct stat st;
	char *err = NULL;
	int fd = mkstemp(file);

	cr_assert_geq(fd, 0);
	close(fd);
	/* our own namespace, by path and by our PID (then held by a pidfd) */
	parse("name = t\ntarget = 198.18.0.2\nnetns = /proc/self/ns/net\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), 0, "%s", err ? err : "");
	cr_assert_geq(sc.netns_fd, 0);
	cr_expect_eq(sc.netns_pidfd, -1);
	cr_assert_eq(stat("/proc/self/ns/net", &st), 0);
	cr_expect_eq(sc.netns_ino, (uint64_t)st.st_ino);
	cr_expect_eq(sc.netns_line, 3);
	scope_free(&sc);
	policy_free(&p);
	snprintf(pidpath, sizeof(pidpath), "/proc/%d/ns/net", (int)getpid());
	snprintf(text, sizeof(text), "name = t\ntarget = 198.18.0.2\nnetns = %s\nfault = drop 1s\n", pidpath);
	parse(text, &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), 0, "%s", err ? err : "");
	cr_expect_geq(sc.netns_pidfd, 0, "the process is held");
	cr_expect_str_eq(sc.netns_path, pidpath);
	scope_free(&sc);
	policy_free(&p);
	/* not a network namespace, not a namespace, nothing */
	parse("name = t\ntarget = 198.18.0.2\nnetns = /proc/self/ns/uts\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), -EINVAL);
	cr_expect_str_eq(err, "t.policy:3: netns '/proc/self/ns/uts': not a network namespace\n");
	free(err);
	err = NULL;
	scope_free(&sc);
	policy_free(&p);
	snprintf(text, sizeof(text), "name = t\ntarget = 198.18.0.2\nnetns = %s\nfault = drop 1s\n", file);
	parse(text, &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), -EINVAL);
	cr_expect_not_null(strstr(err, "': not a namespace (no nsfs file)\n"), "%s", err);
	free(err);
	err = NULL;
	scope_free(&sc);
	policy_free(&p);
	parse("name = t\ntarget = 198.18.0.2\nnetns = /x\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), -EINVAL, "a short path (no /proc/PID)");
	cr_expect_str_eq(err, "t.policy:3: netns '/x': No such file or directory\n");
	free(err);
	err = NULL;
	scope_free(&sc);
	policy_free(&p);
	parse("name = t\ntarget = 198.18.0.2\nnetns = okx-no-such-ns-x\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), -EINVAL);
	cr_expect_str_eq(err, "t.policy:3: netns '/run/netns/okx-no-such-ns-x': No such file or directory\n");
	free(err);
	err = NULL;
	scope_free(&sc);
	cr_expect_eq(sc.netns_fd, -1, "freed and reset");
	policy_free(&p);
	/* no netns: nothing opened, entering is a no-op */
	parse("name = t\ntarget = 198.18.0.2\nfault = drop 1s\n", &p);
	scope_init(&sc);
	cr_expect_eq(scope_open_netns(&sc, &p, &err), 0);
	cr_expect_eq(scope_enter_netns(&sc), 0);
	cr_expect_null(err);
	policy_free(&p);
	unlink(file);
}

Test(scope, journal_json)
{
	struct scope_cgroup cg = { .path = "system.slice/x.service", .level = 2, .id = 18446744073709551615ull };
	uint32_t uids[2] = { 0, 65534 };
	struct scope sc;
	char *s;

	scope_init(&sc);
	s = text_of(scope_json(&sc));
	cr_expect_str_eq(s, "{\"uids\":[],\"cgroups\":[],\"netns\":null}");
	free(s);
	sc.uids = uids;
	sc.n_uids = 2;
	sc.cgroups = &cg;
	sc.n_cgroups = 1;
	sc.netns_fd = 0;
	sc.netns_path = "/run/netns/okx";
	sc.netns_ino = 4026532391ull;
	s = text_of(scope_json(&sc));
	cr_expect_str_eq(s, "{\"uids\":[0,65534],\"cgroups\":[{\"path\":\"system.slice/x.service\",\"level\":2,"
			    "\"id\":18446744073709551615}],\"netns\":{\"path\":\"/run/netns/okx\",\"inode\":4026532391}}");
	free(s);
}

/* ---- following changes ---- */

Test(scope_watch, cgroup_update_decisions)
{
	struct scope_cgroup c = { .path = "okx", .level = 1, .id = 10, .present = true, .ids = { 10 }, .n_ids = 1 };
	struct scope_change ch;

	cr_expect_not(scope_cgroup_update(&c, true, 10, &ch), "unchanged");
	cr_assert(scope_cgroup_update(&c, false, 0, &ch));
	cr_expect_eq(ch.kind, SCOPE_CGROUP_REMOVED);
	cr_expect_eq(ch.id, 10);
	cr_expect_not(scope_cgroup_update(&c, false, 0, &ch), "said once");
	cr_assert(scope_cgroup_update(&c, true, 11, &ch));
	cr_expect_eq(ch.kind, SCOPE_CGROUP_RECREATED);
	cr_expect_eq(ch.id, 11);
	cr_expect_eq(ch.previous_id, 10);
	cr_expect_eq(ch.add_id, 11);
	cr_expect_eq(ch.del_id, 0);
	cr_expect_eq(c.n_ids, 2, "the old id stays");
	/* replaced without a removal seen in between */
	cr_assert(scope_cgroup_update(&c, true, 12, &ch));
	cr_expect_eq(ch.previous_id, 11);
	/* back under an id the set has: nothing to add */
	cr_assert(scope_cgroup_update(&c, true, 10, &ch));
	cr_expect_eq(ch.add_id, 0);
	cr_expect_eq(c.n_ids, 3);
	/* a full history: the oldest gives way */
	for (uint64_t id = 13; c.n_ids < SCOPE_CGROUP_IDS; id++)
		cr_assert(scope_cgroup_update(&c, true, id, &ch));
	cr_assert(scope_cgroup_update(&c, true, 100, &ch));
	cr_expect_eq(ch.add_id, 100);
	cr_expect_eq(ch.del_id, 10);
	cr_expect_eq(c.n_ids, SCOPE_CGROUP_IDS);
	cr_expect_eq(c.ids[SCOPE_CGROUP_IDS - 1], 100);
	cr_expect_eq(c.ids[0], 11);
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (uint64_t)st.st_ino;
}

/* A directory tree stands in for the cgroup2 mount: rmdir and mkdir are
 * seen through inotify on the parents, the ids are the inodes. */
Test(scope_watch, directories_removed_and_made_again)
{
	char root[] = "/tmp/okx-scope-cg.XXXXXX", path[PATH_MAX], path2[PATH_MAX];
	struct scope_cgroup cg[2] = { { .path = "a/b", .level = 2 }, { .path = "c", .level = 1 } };
	struct scope_change ch[3];
	struct scope sc;
	struct scope_watch *w = NULL;
	uint64_t first;
	char *s;

	cr_assert_not_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/a", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path2, sizeof(path2), "%s/c", root);
	cr_assert_eq(mkdir(path2, 0755), 0);
	scope_init(&sc);
	sc.cgroot = root;
	sc.cgroups = cg;
	sc.n_cgroups = 2;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(scope_cgroup_stat(&sc, &cg[i], &cg[i].id), 0);
		cg[i].present = true;
		cg[i].ids[cg[i].n_ids++] = cg[i].id;
	}
	first = cg[0].id;
	cr_assert_eq(scope_watch_open(&w, &sc), 0);
	cr_assert_not_null(w);
	cr_expect_eq(scope_watch_check(w, ch), 0, "nothing changed");
	cr_assert_eq(rmdir(path), 0);
	cr_assert_eq(scope_watch_check(w, ch), 1);
	cr_expect_eq(ch[0].kind, SCOPE_CGROUP_REMOVED);
	cr_expect_eq(ch[0].cgroup, 0);
	s = text_of(scope_change_json(&sc, &ch[0]));
	cr_expect_not_null(strstr(s, "\"cgroup\":\"a/b\",\"state\":\"removed\",\"id\":"), "%s", s);
	free(s);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(scope_watch_check(w, ch), 1);
	cr_expect_eq(ch[0].kind, SCOPE_CGROUP_RECREATED);
	cr_expect_eq(ch[0].id, ino_of(path));
	cr_expect_eq(ch[0].previous_id, first);
	/* a file system may give the new directory the old inode: then the
	 * set has it already */
	cr_expect_eq(ch[0].add_id, ch[0].id == first ? 0 : ch[0].id);
	s = text_of(scope_change_json(&sc, &ch[0]));
	cr_expect_not_null(strstr(s, "\"state\":\"recreated\""), "%s", s);
	cr_expect_not_null(strstr(s, "\"previous_id\":"), "%s", s);
	free(s);
	/* both at once, the parent of one included */
	cr_assert_eq(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/a", root);
	cr_assert_eq(rmdir(path), 0);
	cr_assert_eq(rmdir(path2), 0);
	cr_assert_eq(scope_watch_check(w, ch), 2);
	cr_expect_eq(ch[0].kind, SCOPE_CGROUP_REMOVED);
	cr_expect_eq(ch[1].kind, SCOPE_CGROUP_REMOVED);
	cr_expect_eq(ch[1].cgroup, 1);
	scope_watch_close(w);
	cr_assert_eq(rmdir(root), 0);
}

/* The watch's descriptor turns readable for a directory made or removed,
 * without waiting for its timer. */
Test(scope_watch, inotify_wakes_the_loop)
{
	char root[] = "/tmp/okx-scope-cg.XXXXXX", path[PATH_MAX];
	struct scope_cgroup cg = { .path = "x", .level = 1 };
	struct scope_change ch[2];
	struct scope sc;
	struct scope_watch *w = NULL;
	fd_set rd;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };

	cr_assert_not_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/x", root);
	scope_init(&sc);
	sc.cgroot = root;
	sc.cgroups = &cg;
	sc.n_cgroups = 1;
	cr_assert_eq(scope_watch_open(&w, &sc), 0);
	cr_expect_eq(scope_watch_check(w, ch), 0, "absent from the start: nothing to say");
	cr_assert_eq(mkdir(path, 0755), 0);
	FD_ZERO(&rd);
	FD_SET(scope_watch_fd(w), &rd);
	cr_assert_eq(select(scope_watch_fd(w) + 1, &rd, NULL, NULL, &tv), 1, "woken well before the 1 s timer");
	cr_assert_eq(scope_watch_check(w, ch), 1);
	cr_expect_eq(ch[0].kind, SCOPE_CGROUP_RECREATED);
	scope_watch_close(w);
	cr_assert_eq(rmdir(path), 0);
	cr_assert_eq(rmdir(root), 0);
}

/* netns given by a path: the path gone, or naming something else, ends
 * it; said once. */
Test(scope_watch, netns_path_gone)
{
	char file[] = "/tmp/okx-scope-nsp.XXXXXX";
	struct scope_change ch[1];
	struct scope sc;
	struct scope_watch *w = NULL;
	int fd = mkstemp(file);
	char *s;

	cr_assert_geq(fd, 0);
	scope_init(&sc);
	sc.netns_fd = fd;
	sc.netns_path = file;
	sc.netns_ino = ino_of(file);
	{
		struct stat st;

		cr_assert_eq(stat(file, &st), 0);
		sc.netns_dev = (uint64_t)st.st_dev;
	}
	cr_assert_eq(scope_watch_open(&w, &sc), 0);
	cr_assert_not_null(w);
	cr_expect_eq(scope_watch_check(w, ch), 0);
	cr_assert_eq(unlink(file), 0);
	cr_assert_eq(scope_watch_check(w, ch), 1);
	cr_expect_eq(ch[0].kind, SCOPE_NETNS_GONE);
	cr_expect_not_null(strstr(ch[0].why, "No such file or directory"), "%s", ch[0].why);
	s = text_of(scope_change_json(&sc, &ch[0]));
	cr_expect_not_null(strstr(s, "\"state\":\"gone\""), "%s", s);
	cr_expect_not_null(strstr(s, "\"reason\":"), "%s", s);
	free(s);
	cr_expect_eq(scope_watch_check(w, ch), 0, "said once");
	scope_watch_close(w);
	close(fd);
}

/* netns by /proc/PID/ns/net: the process's exit ends it */
Test(scope_watch, netns_process_exit)
{
	char text[256];
	struct policy p;
	struct scope sc;
	struct scope_watch *w = NULL;
	struct scope_change ch[1];
	char *err = NULL;
	int pfd[2];
	pid_t pid;

	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char c;

		close(pfd[1]);
		(void)read(pfd[0], &c, 1); /* until the parent lets go */
		_exit(0);
	}
	close(pfd[0]);
	snprintf(text, sizeof(text), "name = t\ntarget = 198.18.0.2\nnetns = /proc/%d/ns/net\nfault = drop 1s\n", (int)pid);
	parse(text, &p);
	scope_init(&sc);
	cr_assert_eq(scope_open_netns(&sc, &p, &err), 0, "%s", err ? err : "");
	cr_assert_eq(scope_watch_open(&w, &sc), 0);
	cr_expect_eq(scope_watch_check(w, ch), 0);
	close(pfd[1]);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(scope_watch_check(w, ch), 1);
	cr_expect_eq(ch[0].kind, SCOPE_NETNS_GONE);
	cr_expect_str_eq(ch[0].why, "its process exited");
	scope_watch_close(w);
	scope_free(&sc);
	policy_free(&p);
}
