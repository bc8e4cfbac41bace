#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "safefile.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/okxj.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(journal, .init = setup, .fini = teardown);

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(journal, rfc3339_microseconds)
{
	struct timespec t = { .tv_sec = 1795837260, .tv_nsec = 17123999 };
	char buf[RFC3339_LEN];

	cr_expect_str_eq(rfc3339_us(&t, buf, sizeof(buf)), "2026-11-28T03:41:00.017123Z");
	t.tv_sec = 0, t.tv_nsec = 0;
	cr_expect_str_eq(rfc3339_us(&t, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
}

Test(journal, creates_parents_and_writes_ordered_lines)
{
	char path[128];
	struct journal *j = NULL;
	struct stamp at = { .real = { 1795837260, 17123000 }, .mono = { 12345, 678 } };
	cJSON *f = cJSON_CreateObject();
	char *text, *nl;
	cJSON *line;

	snprintf(path, sizeof(path), "%s/a/b/drill.jsonl", dir);
	cr_assert_eq(journal_open(&j, path, false), 0);
	cJSON_AddStringToObject(f, "outcome", "completed");
	json_add_u64(f, "big", 18446744073709551615ull);
	cr_assert_eq(journal_write(j, "end", &at, f), 0);
	cr_assert_eq(journal_write(j, "start", &at, NULL), 0);
	journal_close(j);

	text = slurp(path);
	nl = strchr(text, '\n');
	cr_assert_not_null(nl);
	*nl = '\0';
	/* key order: event, ts, mono_ns, then the fields */
	cr_expect_str_eq(text, "{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:00.017123Z\",\"mono_ns\":12345000000678,"
			       "\"outcome\":\"completed\",\"big\":18446744073709551615}");
	line = cJSON_Parse(nl + 1);
	cr_assert_not_null(line);
	cr_expect_str_eq(cJSON_GetObjectItem(line, "event")->valuestring, "start");
	cJSON_Delete(line);
	free(text);
}

Test(journal, unwritable_path_is_an_error)
{
	struct journal *j = NULL;
	char path[128];

	/* a regular file where a directory is needed */
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub/j.jsonl", dir);
	cr_expect_lt(journal_open(&j, path, false), 0);
	cr_expect_null(j);
}

Test(journal, default_path)
{
	struct timespec t = { .tv_sec = 1795837260 };
	char *p = journal_default_path("c2_3_degradation", &t);

	cr_expect_str_eq(p, "/var/lib/okx-faultd/c2_3_degradation-20261128T034100Z.jsonl");
	free(p);
}

/* ---- file safety (okx-faultd(8), SECURITY) ---- */

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

static const struct stamp at0 = { .real = { 1795837260, 17123000 }, .mono = { 1, 0 } };

Test(journal, existing_file_refused_untouched)
{
	struct journal *j = NULL;
	char path[128], *text;

	snprintf(path, sizeof(path), "%s/j.jsonl", dir);
	put(path, "theirs\n", 0666);
	cr_expect_eq(journal_check_path(path, false), -EEXIST);
	cr_expect_eq(journal_open(&j, path, false), -EEXIST);
	cr_expect_null(j);
	text = slurp(path);
	cr_expect_str_eq(text, "theirs\n");
	free(text);
}

Test(journal, symlink_refused_target_untouched)
{
	struct journal *j = NULL;
	char path[128], target[128], dangling[128], *text;
	struct stat st;

	snprintf(target, sizeof(target), "%s/root-only", dir);
	put(target, "secret\n", 0600);
	snprintf(path, sizeof(path), "%s/j.jsonl", dir);
	cr_assert_eq(symlink(target, path), 0);
	cr_expect_eq(journal_check_path(path, false), -EEXIST);
	cr_expect_eq(journal_open(&j, path, false), -EEXIST);
	text = slurp(target);
	cr_expect_str_eq(text, "secret\n");
	free(text);
	/* a dangling link is not followed to create its target either */
	snprintf(dangling, sizeof(dangling), "%s/d.jsonl", dir);
	snprintf(target, sizeof(target), "%s/created-through-link", dir);
	cr_assert_eq(symlink(target, dangling), 0);
	cr_expect_eq(journal_open(&j, dangling, false), -EEXIST);
	cr_expect_eq(lstat(target, &st), -1);
}

Test(journal, symlinked_parent_refused_nothing_created)
{
	struct journal *j = NULL;
	char real[128], link[128], path[160], deep[160];
	struct stat st;

	snprintf(real, sizeof(real), "%s/rootonly", dir);
	cr_assert_eq(mkdir(real, 0700), 0);
	snprintf(link, sizeof(link), "%s/sub", dir);
	cr_assert_eq(symlink(real, link), 0);
	snprintf(path, sizeof(path), "%s/sub/deep/x.jsonl", dir);
	cr_expect_eq(journal_check_path(path, false), -ELOOP);
	cr_expect_eq(journal_check_path(path, true), -ELOOP);
	cr_expect_eq(journal_open(&j, path, false), -ELOOP);
	cr_expect_null(j);
	snprintf(deep, sizeof(deep), "%s/deep", real);
	cr_expect_eq(lstat(deep, &st), -1, "a directory was created behind the link");
	/* and the link as the last directory */
	snprintf(path, sizeof(path), "%s/sub/x.jsonl", dir);
	cr_expect_eq(journal_open(&j, path, false), -ELOOP);
	snprintf(deep, sizeof(deep), "%s/x.jsonl", real);
	cr_expect_eq(lstat(deep, &st), -1);
	/* a file where a directory should be */
	snprintf(path, sizeof(path), "%s/rootonly/f", dir);
	put(path, "", 0600);
	snprintf(path, sizeof(path), "%s/rootonly/f/x.jsonl", dir);
	cr_expect_eq(journal_check_path(path, false), -ENOTDIR);
	cr_expect_eq(journal_open(&j, path, false), -ENOTDIR);
	cr_expect_str_eq(journal_strerror(-ELOOP),
			 "a directory on the path is a symbolic link (journal paths are never followed through symlinks)");
}

Test(journal, check_creates_nothing)
{
	char path[128], sub[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/new/dirs/j.jsonl", dir);
	cr_expect_eq(journal_check_path(path, false), 0);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	cr_expect_eq(lstat(sub, &st), -1);
	cr_expect_eq(journal_check_path(dir, false), -EEXIST);
	snprintf(path, sizeof(path), "%s/", dir);
	cr_expect_eq(journal_check_path(path, false), -EISDIR);
}

Test(journal, modes_whatever_the_umask)
{
	static const mode_t masks[] = { 0, 022, 077 };

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct journal *j = NULL;
		char path[160], a[128];
		struct stat st;

		umask(masks[i]);
		snprintf(a, sizeof(a), "%s/m%zu", dir, i);
		snprintf(path, sizeof(path), "%s/b/j.jsonl", a);
		cr_assert_eq(journal_open(&j, path, false), 0);
		cr_assert_eq(stat(a, &st), 0);
		cr_expect_eq(st.st_mode & 07777, 0750, "umask %03o: dir %03o", masks[i], st.st_mode & 07777);
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "/b");
		cr_assert_eq(stat(a, &st), 0);
		cr_expect_eq(st.st_mode & 07777, 0750);
		cr_assert_eq(lstat(path, &st), 0);
		cr_expect(S_ISREG(st.st_mode));
		cr_expect_eq(st.st_mode & 07777, 0640, "umask %03o: file %03o", masks[i], st.st_mode & 07777);
		cr_expect_eq(st.st_uid, geteuid());
		journal_close(j);
	}
	umask(022);
}

Test(journal, fifo_refused_without_blocking)
{
	struct journal *j = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/j.fifo", dir);
	cr_assert_eq(mkfifo(path, 0666), 0);
	cr_expect_eq(journal_check_path(path, false), -EEXIST);
	cr_expect_eq(journal_open(&j, path, false), -EEXIST);
}

Test(journal, default_path_gets_a_free_name)
{
	struct journal *j = NULL, *k = NULL;
	char path[128], want[140], *text;

	snprintf(path, sizeof(path), "%s/drill-20261128T034100Z.jsonl", dir);
	put(path, "other drill\n", 0640);
	cr_expect_eq(journal_check_path(path, true), 0);
	cr_assert_eq(journal_open(&j, path, true), 0);
	snprintf(want, sizeof(want), "%s/drill-20261128T034100Z-2.jsonl", dir);
	cr_expect_str_eq(journal_path(j), want);
	cr_assert_eq(journal_open(&k, path, true), 0);
	snprintf(want, sizeof(want), "%s/drill-20261128T034100Z-3.jsonl", dir);
	cr_expect_str_eq(journal_path(k), want);
	cr_expect_eq(journal_write(j, "start", &at0, NULL), 0);
	journal_close(j);
	journal_close(k);
	text = slurp(path);
	cr_expect_str_eq(text, "other drill\n");
	free(text);
}

Test(journal, non_utf8_bytes_escaped)
{
	struct journal *j = NULL;
	char path[128], *text;
	cJSON *f = cJSON_CreateObject(), *line;

	snprintf(path, sizeof(path), "%s/j.jsonl", dir);
	cr_assert_eq(journal_open(&j, path, false), 0);
	/* a stray byte, valid e-acute and euro sign, a UTF-16 surrogate, an
	 * overlong slash, a cut-short sequence at the end */
	cJSON_AddStringToObject(f, "policy", "/p\xff/\xc3\xa9\xe2\x82\xac\xed\xa0\x80\xc0\xaf\xe2\x82");
	cr_assert_eq(journal_write(j, "start", &at0, f), 0);
	journal_close(j);
	text = slurp(path);
	cr_expect_not_null(strstr(text, "\"policy\":\"/p\\ufffd/\xc3\xa9\xe2\x82\xac\\ufffd\\ufffd\\ufffd"
					"\\ufffd\\ufffd\\ufffd\\ufffd\"}\n"),
			   "%s", text);
	line = cJSON_Parse(text);
	cr_assert_not_null(line);
	cr_expect_str_eq(cJSON_GetObjectItem(line, "policy")->valuestring,
			 "/p\xef\xbf\xbd/\xc3\xa9\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	cJSON_Delete(line);
	free(text);
}

/* A write cut short by the file size limit (as by a full disk): the
 * partial line is cut back, the error sticks, nothing more is written. */
Test(journal, failed_write_leaves_no_partial_line)
{
	struct journal *j = NULL;
	char path[128];
	struct stat st;
	struct rlimit rl;
	cJSON *f = cJSON_CreateObject();
	off_t whole;

	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%s/j.jsonl", dir);
	cr_assert_eq(journal_open(&j, path, false), 0);
	cr_assert_eq(journal_write(j, "start", &at0, NULL), 0);
	cr_assert_eq(stat(path, &st), 0);
	whole = st.st_size;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = (rlim_t)whole + 10; /* the hard limit stays: no privilege needed */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cJSON_AddStringToObject(f, "reason", "completed, with a line longer than ten bytes");
	cr_expect_eq(journal_write(j, "fault_end", &at0, f), -EFBIG);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, whole, "partial line left: %lld bytes, %lld whole", (long long)st.st_size,
		     (long long)whole);
	cr_expect_eq(journal_failed(j), -EFBIG);
	/* with room again a line is still refused: the journal has a hole */
	rl.rlim_cur = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_expect_eq(journal_write(j, "end", &at0, NULL), -EFBIG);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, whole);
	journal_close(j);
}
