/* SPDX-License-Identifier: MIT */
/* The journal writer; the format is okx-faultd(8), JOURNAL, and the file
 * rules okx-faultd(8), SECURITY. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "safefile.h"

#define UNIQUE_MAX 999

/* Lines are written with one write(2) on the caller's thread (in the
 * page cache, safe from a killed daemon, at once) and fsync(2)ed by a
 * syncer thread, so a slow disk never holds up the drill's next switch
 * (okx-faultd(8), TIMING). */
struct journal {
	int fd;
	int error;  /* first write failure, -errno; the journal is closed for writing */
	off_t len;  /* bytes of whole lines written */
	char *path;
	pthread_t syncer;
	bool have_syncer;
	pthread_mutex_t mu;   /* guards what follows */
	pthread_cond_t wake;  /* to the syncer: more to sync, or stop */
	pthread_cond_t done;  /* from the syncer: synced moved, or sync_error set */
	off_t want, synced;   /* bytes to sync; bytes known synced */
	atomic_int sync_error; /* first fsync failure, -errno */
	bool stop;
};

int journal_check_path(const char *path, bool unique)
{
	return safefile_check_new(path, unique);
}

/* PATH with "-N" before its ".jsonl" (or at its end) */
static char *numbered(const char *path, int n)
{
	size_t len = strlen(path), ext = strlen(".jsonl");
	char *out;

	if (len > ext && !strcmp(path + len - ext, ".jsonl"))
		len -= ext;
	else
		ext = 0;
	if (asprintf(&out, "%.*s-%d%s", (int)len, path, n, path + len) < 0)
		return NULL;
	return out;
}

/* The syncer: fsync(2) whenever lines were written since the last one;
 * leaves once asked to stop and everything is synced. */
static void *syncer_main(void *arg)
{
	struct journal *j = arg;

	pthread_mutex_lock(&j->mu);
	for (;;) {
		off_t target;
		int ret;

		while (!j->stop && j->want == j->synced)
			pthread_cond_wait(&j->wake, &j->mu);
		if (j->want == j->synced)
			break;
		target = j->want;
		pthread_mutex_unlock(&j->mu);
		ret = fsync(j->fd) < 0 ? -errno : 0;
		pthread_mutex_lock(&j->mu);
		if (ret < 0 && !atomic_load(&j->sync_error))
			atomic_store(&j->sync_error, ret);
		j->synced = target;
		pthread_cond_broadcast(&j->done);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* The syncer runs with every signal blocked: signals are the drill's
 * (read from its signalfd), never the syncer's. */
static int start_syncer(struct journal *j)
{
	sigset_t all, old;
	int ret;

	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->wake, NULL);
	pthread_cond_init(&j->done, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&j->syncer, NULL, syncer_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	j->have_syncer = ret == 0;
	return -ret;
}

int journal_open(struct journal **out, const char *path, bool unique)
{
	struct journal *j;
	char *p = strdup(path);
	int fd = p ? safefile_create(p, JOURNAL_FILE_MODE) : -ENOMEM, ret;

	*out = NULL;
	for (int i = 2; fd == -EEXIST && unique && i <= UNIQUE_MAX; i++) {
		free(p);
		p = numbered(path, i);
		fd = p ? safefile_create(p, JOURNAL_FILE_MODE) : -ENOMEM;
	}
	if (fd < 0) {
		free(p);
		return fd;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		free(p);
		return -ENOMEM;
	}
	j->fd = fd;
	j->path = p;
	ret = start_syncer(j);
	if (ret < 0) {
		journal_close(j);
		return ret;
	}
	*out = j;
	return 0;
}

const char *journal_strerror(int err)
{
	switch (err) {
	case -EEXIST: return "the path exists (a journal is always a new file: okx-faultd never writes into an existing one)";
	case -ELOOP: return "a directory on the path is a symbolic link (journal paths are never followed through symlinks)";
	case -ENOTDIR: return "a component of the path is not a directory";
	case -EISDIR: return "the path names a directory";
	default: return strerror(-err);
	}
}

cJSON *json_add_time(cJSON *obj, const char *key, const struct timespec *real)
{
	char buf[RFC3339_LEN];

	return cJSON_AddStringToObject(obj, key, rfc3339_us(real, buf, sizeof(buf)));
}

cJSON *json_add_u64(cJSON *obj, const char *key, uint64_t v)
{
	/* cJSON numbers are doubles: print 64-bit counters exactly */
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_AddRawToObject(obj, key, buf);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when s[0] starts none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t want;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		want = 2;
	else if (c >= 0xe0 && c <= 0xef)
		want = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		want = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < want || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < want; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return want;
}

/* cJSON prints string bytes >= 0x80 as they are. Outside strings its
 * output is ASCII, so every byte that is not part of well-formed UTF-8
 * lies inside a string, where "\ufffd" (U+FFFD, the replacement
 * character) stands for it. Returns a malloc'ed line ending in "\n". */
static char *to_line(const char *text, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), bad = 0, k, o = 0;
	char *out;

	for (size_t i = 0; i < n; i += k ? k : 1)
		if (!(k = utf8_seq(s + i, n - i)))
			bad++;
	out = malloc(n + 5 * bad + 2);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += k ? k : 1) {
		k = utf8_seq(s + i, n - i);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
		} else {
			memcpy(out + o, "\\ufffd", 6);
			o += 6;
		}
	}
	out[o++] = '\n';
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* One write(2) for the whole line (looping only on a short write); the
 * syncer fsync(2)s it. On any failure the file is cut back to its last
 * whole line: a reader never finds half an event glued to the next one. */
static int write_line(struct journal *j, const char *buf, size_t len)
{
	size_t done = 0;
	int ret = 0;

	while (done < len) {
		ssize_t n = write(j->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (!ret) {
		j->len += (off_t)len;
		pthread_mutex_lock(&j->mu);
		j->want = j->len;
		pthread_cond_signal(&j->wake);
		pthread_mutex_unlock(&j->mu);
		return 0;
	}
	if (ftruncate(j->fd, j->len) < 0)
		log_warn("journal %s: cutting back a partial line", j->path);
	return ret;
}

/* The event's line as cJSON text: "event", "ts", "mono_ns", then the
 * members of `fields` in order (moved over). */
static char *event_text(const char *event, const struct stamp *at, cJSON *fields)
{
	cJSON *line = cJSON_CreateObject();
	char *text = NULL;

	if (!line)
		return NULL;
	if (!cJSON_AddStringToObject(line, "event", event) || !json_add_time(line, "ts", &at->real) ||
	    !json_add_u64(line, "mono_ns", timespec_ns(&at->mono)))
		goto cleanup;
	for (cJSON *it = fields ? fields->child : NULL, *next; it; it = next) {
		next = it->next;
		cJSON_DetachItemViaPointer(fields, it);
		cJSON_AddItemToObject(line, it->string, it);
	}
	text = cJSON_PrintUnformatted(line);
cleanup:
	cJSON_Delete(line);
	return text;
}

int journal_write(struct journal *j, const char *event, const struct stamp *at, cJSON *fields)
{
	char *text = NULL, *line = NULL;
	size_t len = 0;
	int ret = j->error;

	if (!ret) {
		text = event_text(event, at, fields);
		line = text ? to_line(text, &len) : NULL;
		ret = line ? write_line(j, line, len) : -ENOMEM;
	}
	if (ret < 0 && !j->error)
		j->error = ret;
	cJSON_Delete(fields);
	free(text);
	free(line);
	return ret;
}

int journal_failed(const struct journal *j)
{
	return j->error ? j->error : atomic_load(&j->sync_error);
}

int journal_sync(struct journal *j)
{
	if (!j->have_syncer)
		return journal_failed(j);
	pthread_mutex_lock(&j->mu);
	while (j->synced < j->want && !atomic_load(&j->sync_error))
		pthread_cond_wait(&j->done, &j->mu);
	pthread_mutex_unlock(&j->mu);
	return journal_failed(j);
}

static void stop_syncer(struct journal *j)
{
	if (!j->have_syncer)
		return;
	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->syncer, NULL);
	j->have_syncer = false;
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	stop_syncer(j);
	pthread_cond_destroy(&j->wake);
	pthread_cond_destroy(&j->done);
	pthread_mutex_destroy(&j->mu);
	if (j->fd >= 0 && close(j->fd) < 0)
		log_warn("closing journal %s", j->path);
	free(j->path);
	free(j);
}

char *journal_default_path(const char *name, const struct timespec *now)
{
	char stamp[32];
	char *path;

	if (asprintf(&path, JOURNAL_DIR "/%s-%s.jsonl", name, utc_compact(now, stamp, sizeof(stamp))) < 0)
		return NULL;
	return path;
}
