/* SPDX-License-Identifier: MIT */
/* A drill's evidence bundle (okx-faultctl(1), BUNDLE): writing it, and
 * checking one, with libarchive. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>

#include "bundle.h"
#include "journal_read.h"
#include "safefile.h"
#include "sha256.h"
#include "timeparse.h"

#define NAME_SHOWN 80

/* A member name as messages show it: printable ASCII, the rest '?', cut
 * at NAME_SHOWN characters (a name is read from the archive: it must not
 * forge a line of output). */
static const char *shown(const char *s, char buf[NAME_SHOWN + 4])
{
	size_t i;

	for (i = 0; s[i] && i < NAME_SHOWN; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* Why a member name is not a plain file name, or NULL when it is one. */
static const char *name_problem(const char *name)
{
	const char *p;

	if (!*name)
		return "an empty name";
	if (*name == '/')
		return "an absolute path";
	for (p = name; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2]))
			return "a path with '..'";
	}
	if (strchr(name, '/'))
		return "a path with a directory (members are plain file names)";
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a name with a control character";
	if (!strcmp(name, "."))
		return "the name '.'";
	return NULL;
}

static bool is_sha256_hex(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* --- the manifest --- */

/* cJSON_Add* return NULL when out of memory: count the failures. */
static void *chk(bool *oom, void *it)
{
	if (!it)
		*oom = true;
	return it;
}

static void add_str(bool *oom, cJSON *o, const char *k, const char *v)
{
	chk(oom, v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k));
}

char *bundle_manifest(const struct bundle_info *info, const struct bundle_member *m, size_t n)
{
	bool oom = false;
	cJSON *root = cJSON_CreateObject(), *o, *a, *e;
	char when[TIME_STRLEN], hex[65], *text = NULL;

	if (!root)
		return NULL;
	add_str(&oom, root, "format", BUNDLE_FORMAT);
	chk(&oom, cJSON_AddNumberToObject(root, "version", BUNDLE_VERSION));
	add_str(&oom, root, "created", time_format_rfc3339(info->created_ns, 6, when, sizeof(when)));
	if ((o = chk(&oom, cJSON_AddObjectToObject(root, "okx_faultctl")))) {
		add_str(&oom, o, "version", OKX_VERSION);
		add_str(&oom, o, "git_commit", OKX_GIT_COMMIT);
	}
	if ((o = chk(&oom, cJSON_AddObjectToObject(root, "drill")))) {
		add_str(&oom, o, "name", info->drill);
		add_str(&oom, o, "okx_faultd_version", info->faultd_version);
		add_str(&oom, o, "git_commit", info->faultd_commit);
		add_str(&oom, o, "policy", info->policy);
		add_str(&oom, o, "policy_sha256", info->policy_sha256);
	}
	if ((o = chk(&oom, cJSON_AddObjectToObject(root, "sources")))) {
		add_str(&oom, o, "journal", info->journal_src);
		add_str(&oom, o, "events", info->events_src);
	}
	chk(&oom, cJSON_AddNumberToObject(root, "grace_ms", (double)info->grace_ms));
	if ((o = chk(&oom, cJSON_AddObjectToObject(root, "gate")))) {
		chk(&oom, cJSON_AddBoolToObject(o, "pass", info->pass));
		add_str(&oom, o, "reason", info->reason);
	}
	if ((a = chk(&oom, cJSON_AddArrayToObject(root, "members")))) {
		for (size_t i = 0; i < n && !oom; i++) {
			if (!(e = chk(&oom, cJSON_CreateObject())))
				break;
			if (!cJSON_AddItemToArray(a, e)) {
				cJSON_Delete(e);
				oom = true;
				break;
			}
			sha256_hex(m[i].data, m[i].len, hex);
			add_str(&oom, e, "name", m[i].name);
			chk(&oom, cJSON_AddNumberToObject(e, "size", (double)m[i].len));
			add_str(&oom, e, "sha256", hex);
		}
	}
	if (!oom)
		text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}

/* --- writing --- */

static int seterr(char **error, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int seterr(char **error, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return ret;
}

static int write_member(struct archive *a, const char *name, const void *data, size_t len, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	const char *p = data;
	int ret = -ENOMEM;

	if (!e)
		return ret;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	ret = -EIO;
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto cleanup;
	while (len) {
		la_ssize_t n = archive_write_data(a, p, len);

		if (n <= 0)
			goto cleanup;
		p += n;
		len -= (size_t)n;
	}
	ret = 0;
cleanup:
	archive_entry_free(e);
	return ret;
}

/* Remove the file fd refers to at PATH, if PATH still names it. */
static void remove_ours(const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		(void)unlink(path);
}

static int check_members(const struct bundle_member *m, size_t n, char **error)
{
	char buf[NAME_SHOWN + 4];

	if (n + 1 > BUNDLE_MAX_MEMBERS)
		return seterr(error, -EINVAL, "bundle: %zu members, more than %d", n + 1, BUNDLE_MAX_MEMBERS);
	for (size_t i = 0; i < n; i++) {
		const char *why = name_problem(m[i].name);

		if (!why && !strcmp(m[i].name, BUNDLE_MANIFEST))
			why = "the manifest's name";
		for (size_t k = 0; k < i && !why; k++)
			if (!strcmp(m[i].name, m[k].name))
				why = "a name given twice";
		if (why)
			return seterr(error, -EINVAL, "bundle: member '%s': %s", shown(m[i].name, buf), why);
		if ((uint64_t)m[i].len > BUNDLE_MEMBER_MAX)
			return seterr(error, -EFBIG, "bundle: member '%s': larger than %llu MiB", m[i].name,
				      (unsigned long long)(BUNDLE_MEMBER_MAX >> 20));
	}
	return 0;
}

int bundle_write(const char *path, const struct bundle_info *info, const struct bundle_member *m, size_t n,
		 char **error)
{
	int64_t mtime = info->created_ns / 1000000000;
	struct archive *a = NULL;
	char *manifest;
	int fd, ret;

	*error = NULL;
	if ((ret = check_members(m, n, error)) < 0)
		return ret;
	if (!(manifest = bundle_manifest(info, m, n)))
		return seterr(error, -ENOMEM, "%s: out of memory", path);
	fd = safefile_create(path, BUNDLE_FILE_MODE);
	if (fd == -EEXIST) {
		free(manifest);
		return seterr(error, fd, "%s: exists; refusing to overwrite it", path);
	}
	if (fd < 0) {
		free(manifest);
		return seterr(error, fd, "%s: %s", path, strerror(-fd));
	}
	ret = -ENOMEM;
	if (!(a = archive_write_new()))
		goto fail;
	ret = -EIO;
	if (archive_write_add_filter_gzip(a) != ARCHIVE_OK || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto fail;
	if ((ret = write_member(a, BUNDLE_MANIFEST, manifest, strlen(manifest), mtime)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if ((ret = write_member(a, m[i].name, m[i].data, m[i].len, mtime)) < 0)
			goto fail;
	ret = -EIO;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	archive_write_free(a);
	a = NULL;
	if (fsync(fd) < 0) {
		ret = -errno;
		seterr(error, ret, "%s: fsync: %s", path, strerror(-ret));
		goto remove;
	}
	free(manifest);
	if (close(fd) < 0) {
		ret = -errno;
		(void)unlink(path);
		return seterr(error, ret, "%s: close: %s", path, strerror(-ret));
	}
	return 0;
fail:
	if (a && archive_errno(a) > 0)
		ret = -archive_errno(a);
	if (a && archive_error_string(a) && archive_errno(a) > 0)
		seterr(error, ret, "%s: writing the archive: %s (%s)", path, archive_error_string(a), strerror(-ret));
	else if (a && archive_error_string(a))
		seterr(error, ret, "%s: writing the archive: %s", path, archive_error_string(a));
	else
		seterr(error, ret, "%s: writing the archive: %s", path, strerror(-ret));
	if (a) {
		/* archive_write_free() closes (and flushes) an open archive first:
		 * with nothing more to say, its failure is this one's */
		(void)archive_write_free(a);
	}
remove:
	remove_ours(path, fd);
	close(fd);
	free(manifest);
	return ret;
}

/* --- verifying --- */

struct seen {
	char *name;
	uint64_t size;
	char sha[65];
	bool bad;       /* not a regular file with a plain name read whole
	                 * (a problem was said) */
	bool listed;    /* in the manifest */
};

struct verify {
	const char *path;
	FILE *out;
	FILE *pf;        /* the problems */
	size_t problems;
	struct seen seen[BUNDLE_MAX_MEMBERS];
	size_t n_seen;
	char *manifest, *journal; /* their data, NUL-terminated */
	size_t manifest_len, journal_len;
};

static void problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	v->problems++;
	fprintf(v->pf, "%s: ", v->path);
	va_start(ap, fmt);
	vfprintf(v->pf, fmt, ap);
	va_end(ap);
	fputc('\n', v->pf);
}

static void say(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->out)
		return;
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
}

static struct seen *find_seen(struct verify *v, const char *name)
{
	for (size_t i = 0; i < v->n_seen; i++)
		if (!strcmp(v->seen[i].name, name))
			return &v->seen[i];
	return NULL;
}

/* Is the entry a regular file? If not, say what it is. */
static bool entry_regular(struct verify *v, struct archive_entry *e, const char *name)
{
	char buf[NAME_SHOWN + 4], tbuf[NAME_SHOWN + 4];
	const char *target;

	if ((target = archive_entry_hardlink(e))) {
		problem(v, "member '%s' is a hard link (to '%s'); members are regular files", shown(name, buf),
			shown(target, tbuf));
		return false;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return true;
	case AE_IFLNK:
		target = archive_entry_symlink(e);
		problem(v, "member '%s' is a symbolic link (to '%s'); members are regular files", shown(name, buf),
			shown(target ? target : "?", tbuf));
		return false;
	case AE_IFDIR:
		problem(v, "member '%s' is a directory; members are regular files", shown(name, buf));
		return false;
	default:
		problem(v, "member '%s' is a %s; members are regular files", shown(name, buf),
			safefile_type_name((mode_t)archive_entry_filetype(e)));
		return false;
	}
}

/* Read one entry's data: its size and SHA-256, and a copy when keep is
 * given, read into a buffer of the declared size (hint, 0 when unknown),
 * grown when the data is longer. Returns 0, 1 when the data is larger
 * than cap (reading stopped), -ENOMEM, or -EIO (the archive is damaged). */
static int read_data(struct archive *a, struct seen *s, char **keep, size_t *keep_len, uint64_t cap, uint64_t hint)
{
	char chunk[16384], *buf = NULL, *nb, *to = chunk;
	size_t len = 0, room = 0, want = sizeof(chunk);
	struct sha256 h;
	uint8_t digest[32];
	int ret;

	sha256_init(&h);
	s->size = 0;
	for (;;) {
		la_ssize_t n;

		if (keep && room - len < sizeof(chunk)) {
			/* cap stays far below SIZE_MAX: INPUT_MAX or the manifest's */
			uint64_t grow = room ? (uint64_t)room * 2 : (hint ? hint : 65536) + sizeof(chunk);

			if (grow > cap + sizeof(chunk))
				grow = cap + sizeof(chunk);
			if (!(nb = realloc(buf, (size_t)grow + 1))) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = nb;
			room = (size_t)grow;
		}
		if (keep)
			to = buf + len, want = room - len;
		n = archive_read_data(a, to, want);
		if (n < 0) {
			ret = -EIO;
			goto fail;
		}
		if (n == 0)
			break;
		if (s->size + (uint64_t)n > cap) {
			ret = 1;
			goto fail;
		}
		sha256_update(&h, to, (size_t)n);
		s->size += (uint64_t)n;
		if (keep)
			len += (size_t)n;
	}
	sha256_final(&h, digest);
	for (size_t i = 0; i < 32; i++)
		snprintf(s->sha + 2 * i, 3, "%02x", digest[i]);
	if (keep) {
		buf[len] = '\0';
		free(*keep);
		*keep = buf;
		*keep_len = len;
	}
	return 0;
fail:
	free(buf);
	return ret;
}

/* Read every entry. Returns 0 (problems recorded) or -errno when the
 * archive cannot be read (*error set). */
static int read_entries(struct verify *v, struct archive *a, char **error)
{
	char buf[NAME_SHOWN + 4];
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *name, *why;
		struct seen *s;
		uint64_t cap = BUNDLE_MEMBER_MAX;
		char **keep = NULL;
		size_t *keep_len = NULL;

		if (r < ARCHIVE_WARN)
			return seterr(error, -EIO, "%s: %s", v->path, archive_error_string(a));
		if (v->n_seen == BUNDLE_MAX_MEMBERS) {
			problem(v, "more than %d members; not read further", BUNDLE_MAX_MEMBERS);
			return 0;
		}
		name = archive_entry_pathname(e);
		if (!name)
			name = "";
		s = &v->seen[v->n_seen];
		if (!(s->name = strdup(name)))
			return seterr(error, -ENOMEM, "%s: out of memory", v->path);
		v->n_seen++;
		s->bad = true; /* until read whole */
		if (!entry_regular(v, e, name))
			continue;
		if ((why = name_problem(name))) {
			problem(v, "member '%s': %s", shown(name, buf), why);
			continue;
		}
		if (find_seen(v, name) != s) {
			problem(v, "member '%s' appears twice", shown(name, buf));
			continue;
		}
		if (!strcmp(name, BUNDLE_MANIFEST)) {
			keep = &v->manifest, keep_len = &v->manifest_len;
			cap = BUNDLE_MANIFEST_MAX;
		} else if (!strcmp(name, BUNDLE_JOURNAL)) {
			keep = &v->journal, keep_len = &v->journal_len;
			cap = INPUT_MAX;
		}
		if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > cap) {
			problem(v, "member '%s': %lld bytes, larger than the limit of %llu MiB", shown(name, buf),
				(long long)archive_entry_size(e), (unsigned long long)(cap >> 20));
			continue;
		}
		r = read_data(a, s, keep, keep_len, cap,
			      archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0);
		if (r == -ENOMEM)
			return seterr(error, r, "%s: out of memory", v->path);
		if (r < 0)
			return seterr(error, r, "%s: member '%s': %s", v->path, shown(name, buf), archive_error_string(a));
		if (r > 0) {
			problem(v, "member '%s': larger than the limit of %llu MiB", shown(name, buf),
				(unsigned long long)(cap >> 20));
			continue;
		}
		s->bad = false;
	}
	return 0;
}

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The manifest's members against the archive's. */
static void check_listed(struct verify *v, const cJSON *members)
{
	char buf[NAME_SHOWN + 4];
	const cJSON *it;
	size_t i = 0;

	cJSON_ArrayForEach(it, members) {
		const char *name = json_str(it, "name"), *sha = json_str(it, "sha256"), *why;
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
		struct seen *s;
		double sz;

		i++;
		if (!name || !sha || !cJSON_IsNumber(size)) {
			problem(v, BUNDLE_MANIFEST ": members[%zu]: expected an object with \"name\", \"size\" and "
				   "\"sha256\"", i - 1);
			continue;
		}
		sz = size->valuedouble;
		if ((why = name_problem(name)) || !strcmp(name, BUNDLE_MANIFEST)) {
			problem(v, BUNDLE_MANIFEST ": members[%zu]: '%s': %s", i - 1, shown(name, buf),
				why ? why : "the manifest itself");
			continue;
		}
		if (!is_sha256_hex(sha) || !(sz >= 0 && sz <= (double)BUNDLE_MEMBER_MAX && sz == (double)(uint64_t)sz)) {
			problem(v, BUNDLE_MANIFEST ": members[%zu]: '%s': \"sha256\" must be 64 lowercase hex digits, "
				   "\"size\" an integer up to %llu MiB",
				i - 1, shown(name, buf), (unsigned long long)(BUNDLE_MEMBER_MAX >> 20));
			continue;
		}
		for (const cJSON *p = members->child; p != it; p = p->next) {
			const char *other = json_str(p, "name");

			if (other && !strcmp(other, name)) {
				problem(v, BUNDLE_MANIFEST ": member '%s' is listed twice", shown(name, buf));
				name = NULL;
				break;
			}
		}
		if (!name)
			continue;
		if (!(s = find_seen(v, name))) {
			problem(v, "member '%s' is missing (listed in " BUNDLE_MANIFEST ")", shown(name, buf));
			continue;
		}
		s->listed = true;
		if (s->bad)
			continue; /* said already */
		if (s->size != (uint64_t)sz)
			problem(v, "member '%s': %llu bytes, the manifest says %llu", shown(name, buf),
				(unsigned long long)s->size, (unsigned long long)sz);
		else if (strcmp(s->sha, sha))
			problem(v, "member '%s': sha256 %s, the manifest says %s", shown(name, buf), s->sha, sha);
		else
			say(v, "%-14s %10llu bytes  sha256 %s  ok\n", name, (unsigned long long)s->size, s->sha);
	}
	for (size_t k = 0; k < v->n_seen; k++) {
		const struct seen *s = &v->seen[k];

		if (!s->listed && !s->bad && strcmp(s->name, BUNDLE_MANIFEST))
			problem(v, "member '%s' is not in " BUNDLE_MANIFEST, shown(s->name, buf));
	}
}

static bool listed(const cJSON *members, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, members) {
		const char *n = json_str(it, "name");

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

static void check_required(struct verify *v, const cJSON *members)
{
	static const char *const required[] = { BUNDLE_JOURNAL, BUNDLE_REPORT_TXT, BUNDLE_REPORT_JSON, BUNDLE_SVG };
	bool json = listed(members, "events.json"), jsonl = listed(members, "events.jsonl");

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!listed(members, required[i]))
			problem(v, BUNDLE_MANIFEST ": lists no '%s'; a bundle has one", required[i]);
	if (json == jsonl)
		problem(v, BUNDLE_MANIFEST ": lists %s; a bundle has one", json ? "both 'events.json' and 'events.jsonl'"
									: "no 'events.json' or 'events.jsonl'");
}

/* Two optional strings equal (both absent counts as equal). */
static bool same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* The manifest's "drill" against the journal member's start event. */
static void check_drill(struct verify *v, const cJSON *drill)
{
	struct jread j;
	char *error = NULL;
	int ret;

	if (!cJSON_IsObject(drill)) {
		problem(v, BUNDLE_MANIFEST ": no \"drill\" object");
		return;
	}
	if (!v->journal)
		return; /* missing or unreadable: said already */
	ret = jread_buffer(&j, BUNDLE_JOURNAL, v->journal, v->journal_len, &error);
	if (ret < 0) {
		problem(v, "%s", error ? error : "out of memory");
	} else {
		static const char *const keys[] = { "name", "okx_faultd_version", "git_commit", "policy",
						    "policy_sha256" };
		const char *const want[] = { j.name, j.version, j.git_commit, j.policy, j.policy_sha256 };
		size_t bad = 0;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const cJSON *it = cJSON_GetObjectItemCaseSensitive(drill, keys[i]);
			const char *got = cJSON_IsString(it) ? it->valuestring : NULL;

			char gbuf[NAME_SHOWN + 4], wbuf[NAME_SHOWN + 4];

			if ((it && !cJSON_IsString(it) && !cJSON_IsNull(it)) || !same(got, want[i])) {
				problem(v, BUNDLE_MANIFEST ": drill.%s is %s%s%s, the journal's start event says %s%s%s",
					keys[i], got ? "'" : "", got ? shown(got, gbuf) : "null", got ? "'" : "",
					want[i] ? "'" : "", want[i] ? shown(want[i], wbuf) : "nothing", want[i] ? "'" : "");
				bad++;
			}
		}
		char b[4][NAME_SHOWN + 4];

		if (!bad)
			say(v, "drill %s: okx-faultd %s (git %s), policy sha256 %s: as in the journal's start event\n",
			    shown(j.name, b[0]), shown(j.version ? j.version : "?", b[1]),
			    shown(j.git_commit ? j.git_commit : "?", b[2]),
			    shown(j.policy_sha256 ? j.policy_sha256 : "?", b[3]));
	}
	free(error);
	jread_free(&j);
}

static void check_manifest(struct verify *v)
{
	const cJSON *version, *members, *created, *by;
	char b[3][NAME_SHOWN + 4];
	cJSON *root;
	size_t at = 0;

	if (!v->manifest) {
		if (!find_seen(v, BUNDLE_MANIFEST))
			problem(v, "no " BUNDLE_MANIFEST ": not an okx-faultd bundle");
		return;
	}
	root = json_parse_exact(v->manifest, v->manifest_len, &at);
	if (!cJSON_IsObject(root)) {
		problem(v, BUNDLE_MANIFEST ": not a JSON object (at byte %zu)", at);
		goto cleanup;
	}
	if (!same(json_str(root, "format"), BUNDLE_FORMAT)) {
		problem(v, BUNDLE_MANIFEST ": \"format\" is not \"" BUNDLE_FORMAT "\": not an okx-faultd bundle");
		goto cleanup;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(version) || version->valuedouble != BUNDLE_VERSION) {
		problem(v, BUNDLE_MANIFEST ": \"version\" is not %d (the version this okx-faultctl reads)",
			BUNDLE_VERSION);
		goto cleanup;
	}
	created = cJSON_GetObjectItemCaseSensitive(root, "created");
	by = cJSON_GetObjectItemCaseSensitive(root, "okx_faultctl");
	say(v, "%s: format %s version %d, created %s by okx-faultctl %s (git %s)\n", BUNDLE_MANIFEST, BUNDLE_FORMAT,
	    BUNDLE_VERSION, shown(cJSON_IsString(created) ? created->valuestring : "?", b[0]),
	    shown(json_str(by, "version") ? json_str(by, "version") : "?", b[1]),
	    shown(json_str(by, "git_commit") ? json_str(by, "git_commit") : "?", b[2]));
	members = cJSON_GetObjectItemCaseSensitive(root, "members");
	if (!cJSON_IsArray(members)) {
		problem(v, BUNDLE_MANIFEST ": no \"members\" array");
		goto cleanup;
	}
	check_required(v, members);
	check_listed(v, members);
	check_drill(v, cJSON_GetObjectItemCaseSensitive(root, "drill"));
cleanup:
	cJSON_Delete(root);
}

/* Open PATH for reading: a regular file (O_NONBLOCK: a FIFO cannot hang
 * the open). Returns the descriptor or -errno. */
static int open_bundle(const char *path, char **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), ret;

	if (fd < 0)
		return seterr(error, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return seterr(error, ret, "%s: %s", path, strerror(-ret));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return seterr(error, -EINVAL, "%s: a %s, not a bundle file", path, safefile_type_name(st.st_mode & S_IFMT));
	}
	return fd;
}

int bundle_verify(const char *path, FILE *out, char **problems)
{
	struct verify v = { .path = path, .out = out };
	struct archive *a = NULL;
	char *pbuf = NULL, *error = NULL;
	size_t plen = 0;
	int fd, ret;

	*problems = NULL;
	if ((fd = open_bundle(path, problems)) < 0)
		return fd;
	if (!(v.pf = open_memstream(&pbuf, &plen)) || !(a = archive_read_new())) {
		ret = seterr(problems, -ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		ret = seterr(problems, -EINVAL, "%s: not a gzip'ed tar archive: %s", path,
			     archive_error_string(a) ? archive_error_string(a) : "unknown error");
		goto cleanup;
	}
	if ((ret = read_entries(&v, a, &error)) < 0) {
		*problems = error;
		error = NULL;
		goto cleanup;
	}
	check_manifest(&v);
	if (fclose(v.pf) != 0) {
		v.pf = NULL;
		ret = seterr(problems, -ENOMEM, "%s: out of memory", path);
		goto cleanup;
	}
	v.pf = NULL;
	if (v.problems) {
		if (plen && pbuf[plen - 1] == '\n')
			pbuf[plen - 1] = '\0';
		*problems = pbuf;
		pbuf = NULL;
		ret = -EBADMSG;
	} else {
		say(&v, "%s: intact: %zu members, each as listed in " BUNDLE_MANIFEST "\n", path, v.n_seen);
		ret = 0;
	}
cleanup:
	if (v.pf)
		fclose(v.pf);
	free(pbuf);
	free(error);
	if (a)
		archive_read_free(a);
	close(fd);
	for (size_t i = 0; i < v.n_seen; i++)
		free(v.seen[i].name);
	free(v.manifest);
	free(v.journal);
	return ret;
}
