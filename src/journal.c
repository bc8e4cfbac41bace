/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

#define JOURNAL_DIR "/var/lib/okx-faultd"

struct journal {
	int fd;
	char *path;
};

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	p = strrchr(buf, '/');
	if (!p || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int journal_open(struct journal **out, const char *path)
{
	struct journal *j;
	int ret;

	*out = NULL;
	ret = mkdir_parents(path);
	if (ret < 0)
		return ret;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->path = strdup(path);
	if (!j->path) {
		free(j);
		return -ENOMEM;
	}
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		ret = -errno;
		free(j->path);
		free(j);
		return ret;
	}
	*out = j;
	return 0;
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

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int journal_write(struct journal *j, const char *event, const struct stamp *at, cJSON *fields)
{
	cJSON *line = cJSON_CreateObject();
	char *text = NULL;
	int ret = -ENOMEM;

	if (!line)
		goto cleanup;
	if (!cJSON_AddStringToObject(line, "event", event) || !json_add_time(line, "ts", &at->real) ||
	    !json_add_u64(line, "mono_ns", timespec_ns(&at->mono)))
		goto cleanup;
	if (fields) {
		/* move the members over, keeping their order */
		cJSON *it = fields->child;

		while (it) {
			cJSON *next = it->next;

			cJSON_DetachItemViaPointer(fields, it);
			cJSON_AddItemToObject(line, it->string, it);
			it = next;
		}
	}
	text = cJSON_PrintUnformatted(line);
	if (!text)
		goto cleanup;
	{
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);

		if (!nl)
			goto cleanup;
		text = nl;
		text[n] = '\n';
		text[n + 1] = '\0';
		/* one write per line: a reader never sees two events interleaved */
		ret = write_all(j->fd, text, n + 1);
	}
	if (ret == 0 && fsync(j->fd) < 0)
		ret = -errno;
cleanup:
	cJSON_Delete(fields);
	cJSON_Delete(line);
	free(text);
	return ret;
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
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
