/* SPDX-License-Identifier: MIT */
#ifndef OKX_BUNDLE_H
#define OKX_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A drill's evidence bundle (okx-faultctl(1), BUNDLE): one gzip'ed tar
 * archive holding the journal, the connector's events, the correlation
 * reports and the timeline, with MANIFEST.json first: the SHA-256 and size
 * of every other member and the drill's identity (okx-faultd version, git
 * commit and policy SHA-256, as the journal's start event says). Written
 * and read with libarchive.
 */

#define BUNDLE_FORMAT "okx-faultd-bundle"
#define BUNDLE_VERSION 1
#define BUNDLE_MANIFEST "MANIFEST.json"
#define BUNDLE_JOURNAL "journal.jsonl"
/* Members besides the manifest a bundle must have; the events are
 * "events.json" or "events.jsonl", after their form. */
#define BUNDLE_REPORT_TXT "report.txt"
#define BUNDLE_REPORT_JSON "report.json"
#define BUNDLE_SVG "timeline.svg"

/* Limits on what verify reads (okx-faultctl(1), LIMITS): members, the
 * manifest included, and the size of one member (twice the input limit:
 * a report may outgrow its inputs) and of the manifest. */
#define BUNDLE_MAX_MEMBERS 16
#define BUNDLE_MEMBER_MAX ((uint64_t)1 << 30)
#define BUNDLE_MANIFEST_MAX (1u << 20)

/* Mode of a bundle file: it holds the journal (journal.h). */
#define BUNDLE_FILE_MODE 0640

struct bundle_member {
	const char *name; /* a plain file name: no '/', not "." or ".." */
	const void *data;
	size_t len;
};

/* What the manifest says of the drill besides the members. */
struct bundle_info {
	int64_t created_ns;
	/* the journal's start event; NULL when absent there */
	const char *drill, *faultd_version, *faultd_commit, *policy, *policy_sha256;
	/* the paths the journal and the events were read from */
	const char *journal_src, *events_src;
	int64_t grace_ms;
	bool pass;          /* the correlation's gate */
	const char *reason;
};

/* MANIFEST.json for these members: malloc'ed text, NULL when out of
 * memory. */
char *bundle_manifest(const struct bundle_info *info, const struct bundle_member *m, size_t n);

/* Write the bundle to PATH, a new file created as safefile_create() does
 * (O_EXCL|O_NOFOLLOW, mode BUNDLE_FILE_MODE; an existing entry of any kind
 * is -EEXIST): MANIFEST.json, then the members in order. Returns 0, or
 * -errno with *error "PATH: reason" (malloc'ed, or NULL); a file this call
 * created is removed on failure. */
int bundle_write(const char *path, const struct bundle_info *info, const struct bundle_member *m, size_t n,
		 char **error);

/* Check the bundle at PATH: every member a regular file with a plain name,
 * listed once in the manifest with its size and SHA-256, every listed
 * member present, the required members listed, the manifest's drill
 * identity equal to the journal member's start event. What was checked
 * goes to `out` (may be NULL). Returns 0 when intact; -EBADMSG when not,
 * with *problems one or more lines "PATH: ...", newline-separated; another
 * -errno when PATH cannot be read as a tar archive (*problems "PATH:
 * reason"). *problems is malloc'ed or NULL. */
int bundle_verify(const char *path, FILE *out, char **problems);

#endif
