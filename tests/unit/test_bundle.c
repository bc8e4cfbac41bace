/* The drill's evidence bundle (okx-faultctl(1), BUNDLE): written from the
 * tests/data fixtures, read back and verified; then tampered copies, each
 * refused with its reason. The tampered archives are written here with
 * libarchive, member by member. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle.h"
#include "journal_read.h"

static char dir[64], good[128];
static char *jbuf, *ebuf;
static size_t jlen, elen;
static struct jread j;

#define MAX_ENTS 24

struct ent {
	char name[256];
	char *data;
	size_t len;
	unsigned type;   /* AE_IFREG, AE_IFLNK, AE_IFDIR, AE_IFCHR; 0: hard link */
	char link[64];
};

static struct ent ents[MAX_ENTS];
static size_t n_ents;

static void read_fixture(const char *name, char **buf, size_t *len)
{
	const char *top = getenv("TOP");
	char path[512], *error = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	cr_assert_eq(read_whole_file(path, buf, len, &error), 0, "%s", error ? error : path);
}

static void members(struct bundle_member m[5])
{
	static const char txt[] = "drill    e2e_ctl\nverdict  PASS: test\n";
	static const char json[] = "{\"version\": 1}\n";
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n";

	m[0] = (struct bundle_member){ BUNDLE_JOURNAL, jbuf, jlen };
	m[1] = (struct bundle_member){ "events.json", ebuf, elen };
	m[2] = (struct bundle_member){ BUNDLE_REPORT_TXT, txt, sizeof(txt) - 1 };
	m[3] = (struct bundle_member){ BUNDLE_REPORT_JSON, json, sizeof(json) - 1 };
	m[4] = (struct bundle_member){ BUNDLE_SVG, svg, sizeof(svg) - 1 };
}

static struct bundle_info info(void)
{
	return (struct bundle_info){
		.created_ns = 1764650000000000000LL,
		.drill = j.name,
		.faultd_version = j.version,
		.faultd_commit = j.git_commit,
		.policy = j.policy,
		.policy_sha256 = j.policy_sha256,
		.journal_src = "tests/data/lab_drill.jsonl",
		.events_src = "tests/data/lab_drill_events.json",
		.grace_ms = 5000,
		.pass = true,
		.reason = "test",
	};
}

static void read_archive(const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	cr_assert_not_null(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	cr_assert_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	n_ents = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct ent *t = &ents[n_ents++];

		cr_assert_leq(n_ents, MAX_ENTS);
		snprintf(t->name, sizeof(t->name), "%s", archive_entry_pathname(e));
		t->type = AE_IFREG;
		t->len = (size_t)archive_entry_size(e);
		t->data = malloc(t->len + 1);
		cr_assert_not_null(t->data);
		cr_assert_eq(archive_read_data(a, t->data, t->len), (la_ssize_t)t->len);
	}
	archive_read_free(a);
}

static void write_archive(const char *path)
{
	struct archive *a = archive_write_new();

	cr_assert_not_null(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n_ents; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct ent *t = &ents[i];

		archive_entry_set_pathname(e, t->name);
		archive_entry_set_perm(e, 0644);
		if (t->type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->link);
		} else {
			archive_entry_set_filetype(e, t->type);
		}
		if (t->type == AE_IFLNK)
			archive_entry_set_symlink(e, t->link);
		if (t->type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		archive_entry_set_size(e, t->type == AE_IFREG ? (la_int64_t)t->len : 0);
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
		if (t->type == AE_IFREG && t->len)
			cr_assert_eq(archive_write_data(a, t->data, t->len), (la_ssize_t)t->len);
		archive_entry_free(e);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static struct ent *ent(const char *name)
{
	for (size_t i = 0; i < n_ents; i++)
		if (!strcmp(ents[i].name, name))
			return &ents[i];
	cr_assert_fail("no member %s", name);
	return NULL;
}

static struct ent *add(const char *name, unsigned type, const char *data, const char *link)
{
	struct ent *t = &ents[n_ents++];

	cr_assert_leq(n_ents, MAX_ENTS);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->type = type;
	t->data = strdup(data ? data : "");
	t->len = strlen(t->data);
	snprintf(t->link, sizeof(t->link), "%s", link ? link : "");
	return t;
}

static void drop(const char *name)
{
	struct ent *t = ent(name);

	free(t->data);
	*t = ents[--n_ents];
}

static void setup(void)
{
	struct bundle_member m[5];
	struct bundle_info in;
	char *error = NULL;

	strcpy(dir, "/tmp/okxb.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	read_fixture("lab_drill.jsonl", &jbuf, &jlen);
	read_fixture("lab_drill_events.json", &ebuf, &elen);
	cr_assert_eq(jread_buffer(&j, "lab_drill.jsonl", jbuf, jlen, &error), 0, "%s", error);
	snprintf(good, sizeof(good), "%s/good.tar.gz", dir);
	members(m);
	in = info();
	cr_assert_eq(bundle_write(good, &in, m, 5, &error), 0, "%s", error);
	read_archive(good);
}

static void teardown(void)
{
	char cmd[128];

	for (size_t i = 0; i < n_ents; i++)
		free(ents[i].data);
	n_ents = 0;
	jread_free(&j);
	free(jbuf);
	free(ebuf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(bundle, .init = setup, .fini = teardown, .timeout = 30);

/* verify PATH: its return, what it printed and the problems */
static int verify(const char *path, char **out, char **problems)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int ret;

	cr_assert_not_null(f);
	ret = bundle_verify(path, f, problems);
	fclose(f);
	return ret;
}

/* Write the tampered entries, verify: -EBADMSG with `want` in the problems. */
static void refused(const char *want)
{
	char path[128], *out = NULL, *problems = NULL;

	snprintf(path, sizeof(path), "%s/tampered.tar.gz", dir);
	(void)unlink(path);
	write_archive(path);
	cr_assert_eq(verify(path, &out, &problems), -EBADMSG, "verified:\n%s", out);
	cr_assert_not_null(problems);
	cr_expect(strstr(problems, want), "problems lack \"%s\":\n%s", want, problems);
	cr_expect(!strstr(out, "intact"), "%s", out);
	free(out);
	free(problems);
}

Test(bundle, written_read_back_and_verified)
{
	struct stat st;
	char copy[128], *out = NULL, *problems = NULL;
	static const char *const order[] = { BUNDLE_MANIFEST, BUNDLE_JOURNAL, "events.json", BUNDLE_REPORT_TXT,
					     BUNDLE_REPORT_JSON, BUNDLE_SVG };

	cr_assert_eq(stat(good, &st), 0);
	cr_expect_eq(st.st_mode & 07777, BUNDLE_FILE_MODE);
	/* the manifest first, then the members as given, their bytes intact */
	cr_assert_eq(n_ents, 6);
	for (size_t i = 0; i < 6; i++)
		cr_expect_str_eq(ents[i].name, order[i]);
	cr_expect_eq(ent(BUNDLE_JOURNAL)->len, jlen);
	cr_expect_eq(memcmp(ent(BUNDLE_JOURNAL)->data, jbuf, jlen), 0);
	cr_expect_eq(memcmp(ent("events.json")->data, ebuf, elen), 0);
	ent(BUNDLE_MANIFEST)->data[ent(BUNDLE_MANIFEST)->len] = '\0';
	cr_expect(strstr(ent(BUNDLE_MANIFEST)->data, "\"format\":\t\"okx-faultd-bundle\""));
	cr_expect(strstr(ent(BUNDLE_MANIFEST)->data, "\"git_commit\":\t\"e4bd69c9be75-dirty\""));
	cr_expect(strstr(ent(BUNDLE_MANIFEST)->data,
			 "\"policy_sha256\":\t\"63069d5b5cbe9af2012831ce4c748b1674b92ccfb24599d4517e5cd06e38bd23\""));
	cr_expect(strstr(ent(BUNDLE_MANIFEST)->data, "\"created\":\t\"2025-12-02T04:33:20.000000Z\""));

	cr_assert_eq(verify(good, &out, &problems), 0, "%s", problems);
	cr_expect_null(problems);
	cr_expect(strstr(out, "journal.jsonl        1980 bytes  sha256 "
			      "6e08403e5a94800b5c183d93fd4af9a6971e3fbe7522be42210afe28a4d130fe  ok\n"),
		  "%s", out);
	cr_expect(strstr(out, "drill e2e_ctl: okx-faultd 0.1.0 (git e4bd69c9be75-dirty), policy sha256 "
			      "63069d5b5cbe9af2012831ce4c748b1674b92ccfb24599d4517e5cd06e38bd23: as in the "
			      "journal's start event\n"),
		  "%s", out);
	cr_expect(strstr(out, "good.tar.gz: intact: 6 members, each as listed in MANIFEST.json\n"), "%s", out);
	free(out);

	/* a copy rewritten member by member, unchanged, verifies too */
	snprintf(copy, sizeof(copy), "%s/copy.tar.gz", dir);
	write_archive(copy);
	cr_expect_eq(verify(copy, &out, &problems), 0, "%s", problems);
	free(out);
	free(problems);
}

Test(bundle, refuses_an_existing_file_or_link)
{
	struct bundle_member m[5];
	struct bundle_info in = info();
	char path[128], *error = NULL, *out = NULL, *problems = NULL;
	struct stat st;

	members(m);
	cr_assert_eq(bundle_write(good, &in, m, 5, &error), -EEXIST);
	cr_expect(strstr(error, "good.tar.gz: exists; refusing to overwrite it"), "%s", error);
	free(error);
	cr_expect_eq(verify(good, &out, &problems), 0, "%s", problems); /* untouched */
	free(out);
	/* a symlink, dangling: not followed, nothing created behind it */
	snprintf(path, sizeof(path), "%s/link.tar.gz", dir);
	cr_assert_eq(symlink("target.tar.gz", path), 0);
	cr_assert_eq(bundle_write(path, &in, m, 5, &error), -EEXIST);
	free(error);
	snprintf(path, sizeof(path), "%s/target.tar.gz", dir);
	cr_expect_eq(lstat(path, &st), -1);
}

Test(bundle, refuses_bad_member_names)
{
	struct bundle_member m[5];
	struct bundle_info in = info();
	char path[128], *error = NULL;

	snprintf(path, sizeof(path), "%s/bad.tar.gz", dir);
	members(m);
	m[2].name = "../report.txt";
	cr_expect_eq(bundle_write(path, &in, m, 5, &error), -EINVAL);
	cr_expect(strstr(error, "member '../report.txt': a path with '..'"), "%s", error);
	free(error);
	m[2].name = BUNDLE_JOURNAL;
	cr_expect_eq(bundle_write(path, &in, m, 5, &error), -EINVAL);
	cr_expect(strstr(error, "a name given twice"), "%s", error);
	free(error);
	m[2].name = BUNDLE_MANIFEST;
	cr_expect_eq(bundle_write(path, &in, m, 5, &error), -EINVAL);
	free(error);
	cr_expect_eq(access(path, F_OK), -1); /* nothing created */
}

/* A write that fails (here: past RLIMIT_FSIZE, EFBIG) is an error and
 * leaves no partial file. */
Test(bundle, failed_write_removes_the_file)
{
	struct bundle_member m[5];
	struct bundle_info in = info();
	struct rlimit rl = { 16384, 16384 };
	char path[128], *error = NULL, *noise;
	size_t n = 1 << 20;

	noise = malloc(n);
	cr_assert_not_null(noise);
	for (size_t i = 0; i < n; i++) /* incompressible */
		noise[i] = (char)(((i * 2654435761u) >> 13) ^ (i >> 7));
	members(m);
	m[4] = (struct bundle_member){ BUNDLE_SVG, noise, n };
	snprintf(path, sizeof(path), "%s/big.tar.gz", dir);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_expect_lt(bundle_write(path, &in, m, 5, &error), 0);
	cr_expect(error && strstr(error, "big.tar.gz: writing the archive: "), "%s", error);
	cr_expect_eq(access(path, F_OK), -1, "the partial file is left");
	free(error);
	free(noise);
}

Test(bundle, refuses_a_changed_byte)
{
	ent(BUNDLE_REPORT_TXT)->data[0] ^= 1;
	refused("tampered.tar.gz: member 'report.txt': sha256 ");
	refused(", the manifest says ");
}

Test(bundle, refuses_a_changed_size)
{
	struct ent *t = ent(BUNDLE_JOURNAL);

	t->len--;
	refused("member 'journal.jsonl': 1979 bytes, the manifest says 1980");
}

Test(bundle, refuses_an_extra_member)
{
	add("notes.txt", AE_IFREG, "added later\n", NULL);
	refused("member 'notes.txt' is not in MANIFEST.json");
}

Test(bundle, refuses_a_missing_member)
{
	drop(BUNDLE_SVG);
	refused("member 'timeline.svg' is missing (listed in MANIFEST.json)");
}

Test(bundle, refuses_a_missing_manifest)
{
	drop(BUNDLE_MANIFEST);
	refused("no MANIFEST.json: not an okx-faultd bundle");
}

Test(bundle, refuses_a_duplicate_member)
{
	add(BUNDLE_REPORT_TXT, AE_IFREG, "a second report\n", NULL);
	refused("member 'report.txt' appears twice");
}

Test(bundle, refuses_a_symlink_member)
{
	drop(BUNDLE_REPORT_TXT);
	add(BUNDLE_REPORT_TXT, AE_IFLNK, NULL, "/etc/passwd");
	refused("member 'report.txt' is a symbolic link (to '/etc/passwd'); members are regular files");
}

Test(bundle, refuses_a_hard_link_member)
{
	drop(BUNDLE_REPORT_TXT);
	add(BUNDLE_REPORT_TXT, 0, NULL, BUNDLE_JOURNAL);
	refused("member 'report.txt' is a hard link (to 'journal.jsonl')");
}

Test(bundle, refuses_a_device_or_directory)
{
	add("null", AE_IFCHR, NULL, NULL);
	add("d", AE_IFDIR, NULL, NULL);
	refused("member 'null' is a character device; members are regular files");
	refused("member 'd/' is a directory; members are regular files");
}

Test(bundle, refuses_dotdot_and_absolute_paths)
{
	add("../journal.jsonl", AE_IFREG, "x\n", NULL);
	add("/tmp/journal.jsonl", AE_IFREG, "x\n", NULL);
	add("sub/journal.jsonl", AE_IFREG, "x\n", NULL);
	add("a\nb", AE_IFREG, "x\n", NULL);
	refused("member '../journal.jsonl': a path with '..'");
	refused("member '/tmp/journal.jsonl': an absolute path");
	refused("member 'sub/journal.jsonl': a path with a directory");
	refused("member 'a?b': a name with a control character");
}

Test(bundle, refuses_too_many_members)
{
	char name[16];

	for (int i = 0; n_ents < MAX_ENTS; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		add(name, AE_IFREG, "x", NULL);
	}
	refused("more than 16 members; not read further");
}

Test(bundle, refuses_an_oversized_manifest)
{
	struct ent *t = ent(BUNDLE_MANIFEST);

	t->len = BUNDLE_MANIFEST_MAX + 1;
	t->data = realloc(t->data, t->len);
	cr_assert_not_null(t->data);
	memset(t->data, ' ', t->len);
	refused("member 'MANIFEST.json': 1048577 bytes, larger than the limit of 1 MiB");
}

/* A member declared larger than 1 GiB is refused unread (its data, 1 GiB
 * and a byte of zeros, compresses to about a megabyte). */
Test(bundle, refuses_an_oversized_member, .timeout = 120)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char path[128], *out = NULL, *problems = NULL, *zeros = calloc(1, 1 << 20);
	uint64_t left = BUNDLE_MEMBER_MAX + 1;

	cr_assert(a && e && zeros);
	snprintf(path, sizeof(path), "%s/tampered.tar.gz", dir);
	archive_write_add_filter_gzip(a);
	archive_write_set_filter_option(a, "gzip", "compression-level", "1");
	archive_write_set_format_pax_restricted(a);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(e, BUNDLE_SVG);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)left);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	while (left) {
		size_t n = left < (1 << 20) ? (size_t)left : 1 << 20;

		cr_assert_eq(archive_write_data(a, zeros, n), (la_ssize_t)n);
		left -= n;
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	free(zeros);
	cr_assert_eq(verify(path, &out, &problems), -EBADMSG, "%s", out);
	cr_expect(strstr(problems, "member 'timeline.svg': 1073741825 bytes, larger than the limit of 1024 MiB"), "%s",
		  problems);
	free(out);
	free(problems);
}

/* the manifest edited: a member's hash, a format, the drill's identity */
static void edit_manifest(const char *from, const char *to)
{
	struct ent *t = ent(BUNDLE_MANIFEST);
	char *at, *nd;

	t->data[t->len] = '\0';
	at = strstr(t->data, from);
	cr_assert_not_null(at, "no %s in the manifest", from);
	nd = malloc(t->len - strlen(from) + strlen(to) + 1);
	cr_assert_not_null(nd);
	sprintf(nd, "%.*s%s%s", (int)(at - t->data), t->data, to, at + strlen(from));
	free(t->data);
	t->data = nd;
	t->len = strlen(nd);
}

Test(bundle, refuses_an_edited_manifest_hash)
{
	edit_manifest("6e08403e5a94800b5c183d93fd4af9a6971e3fbe7522be42210afe28a4d130fe",
		      "7e08403e5a94800b5c183d93fd4af9a6971e3fbe7522be42210afe28a4d130fe");
	refused("member 'journal.jsonl': sha256 6e08403e5a94800b5c183d93fd4af9a6971e3fbe7522be42210afe28a4d130fe, "
		"the manifest says 7e08403e");
}

Test(bundle, refuses_an_edited_manifest_drill)
{
	edit_manifest("\"git_commit\":\t\"e4bd69c9be75-dirty\"", "\"git_commit\":\t\"000000000000\"");
	refused("MANIFEST.json: drill.git_commit is '000000000000', the journal's start event says "
		"'e4bd69c9be75-dirty'");
}

Test(bundle, refuses_an_edited_manifest_listing)
{
	edit_manifest("\"name\":\t\"report.txt\"", "\"name\":\t\"../report.txt\"");
	refused("MANIFEST.json: members[2]: '../report.txt': a path with '..'");
	refused("MANIFEST.json: lists no 'report.txt'; a bundle has one");
	refused("member 'report.txt' is not in MANIFEST.json");
}

Test(bundle, refuses_a_foreign_manifest)
{
	edit_manifest("okx-faultd-bundle", "something-else");
	refused("MANIFEST.json: \"format\" is not \"okx-faultd-bundle\": not an okx-faultd bundle");
	edit_manifest("something-else", "okx-faultd-bundle");
	edit_manifest("\"version\":\t1", "\"version\":\t2");
	refused("MANIFEST.json: \"version\" is not 1");
}

Test(bundle, refuses_a_manifest_not_json)
{
	edit_manifest("\"members\":", "\"members\"");
	refused("MANIFEST.json: not a JSON object (at byte ");
}

/* A journal that does not parse, its hash in the manifest all the same. */
Test(bundle, refuses_a_journal_that_does_not_parse)
{
	struct bundle_member m[5];
	struct bundle_info in = info();
	char path[128], *error = NULL, *out = NULL, *problems = NULL;
	static const char bad[] = "{\"event\":\"start\"}\nnot json\n";

	members(m);
	m[0] = (struct bundle_member){ BUNDLE_JOURNAL, bad, sizeof(bad) - 1 };
	snprintf(path, sizeof(path), "%s/badjournal.tar.gz", dir);
	cr_assert_eq(bundle_write(path, &in, m, 5, &error), 0, "%s", error);
	cr_assert_eq(verify(path, &out, &problems), -EBADMSG, "%s", out);
	cr_expect(strstr(problems, "badjournal.tar.gz: journal.jsonl:1: "), "%s", problems);
	free(out);
	free(problems);
}

/* A bundle written whole, self-consistent hashes and all, whose manifest
 * names another okx-faultd than the journal's start event does. */
Test(bundle, refuses_a_drill_other_than_the_journal)
{
	struct bundle_member m[5];
	struct bundle_info in = info();
	char path[128], *error = NULL, *out = NULL, *problems = NULL;

	members(m);
	in.policy_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	in.faultd_version = NULL;
	snprintf(path, sizeof(path), "%s/other.tar.gz", dir);
	cr_assert_eq(bundle_write(path, &in, m, 5, &error), 0, "%s", error);
	cr_assert_eq(verify(path, &out, &problems), -EBADMSG);
	cr_expect(strstr(problems, "drill.policy_sha256 is '0000000000000000000000000000000000000000000000000000000000000000'"
				   ", the journal's start event says '63069d5b"),
		  "%s", problems);
	cr_expect(strstr(problems, "drill.okx_faultd_version is null, the journal's start event says '0.1.0'"), "%s",
		  problems);
	free(out);
	free(problems);
}

Test(bundle, unreadable_is_not_a_mismatch)
{
	char path[128], *out = NULL, *problems = NULL;
	FILE *f;
	struct stat st;
	int ret;

	/* not an archive */
	snprintf(path, sizeof(path), "%s/text.tar.gz", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("hello, this is not a tar archive, not even gzip'ed, and it goes on for a while to be sure.\n", f);
	fclose(f);
	ret = verify(path, &out, &problems);
	cr_expect(ret < 0 && ret != -EBADMSG, "%d", ret);
	cr_expect(problems && strstr(problems, "text.tar.gz: "), "%s", problems);
	free(out), free(problems);
	/* cut short */
	cr_assert_eq(stat(good, &st), 0);
	cr_assert_eq(truncate(good, st.st_size / 2), 0);
	ret = verify(good, &out, &problems);
	cr_expect(ret < 0 && ret != -EBADMSG, "%d", ret);
	cr_expect(problems && strstr(problems, "good.tar.gz: "), "%s", problems);
	free(out), free(problems);
	/* missing, a directory */
	snprintf(path, sizeof(path), "%s/none.tar.gz", dir);
	cr_expect_eq(verify(path, &out, &problems), -ENOENT);
	free(out), free(problems);
	cr_expect_eq(verify(dir, &out, &problems), -EINVAL);
	cr_expect(strstr(problems, ": a directory, not a bundle file"), "%s", problems);
	free(out), free(problems);
}
