/* SPDX-License-Identifier: MIT */
/* The connector's error events: which container, and each event's time. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "events.h"
#include "journal_read.h"
#include "timeparse.h"

#define MSGLEN 512
#define PATHLEN 256

static const char *const time_keys[] = { "ts", "timestamp", "time" };

static bool msg(char *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool msg(char *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, MSGLEN, fmt, ap);
	va_end(ap);
	return false;
}

static bool event_time(const cJSON *obj, int64_t *ns, char *m)
{
	char err[MSGLEN - 64];

	for (size_t i = 0; i < sizeof(time_keys) / sizeof(time_keys[0]); i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, time_keys[i]);

		if (!it || cJSON_IsNull(it))
			continue;
		if (cJSON_IsString(it)) {
			if (!time_parse_rfc3339(it->valuestring, ns, err, sizeof(err)) ||
			    !time_in_drill_range(*ns, it->valuestring, err, sizeof(err)))
				return msg(m, "\"%s\": %s", time_keys[i], err);
			return true;
		}
		if (cJSON_IsNumber(it)) {
			if (!time_from_epoch(it->valuedouble, ns, err, sizeof(err)) ||
			    !time_in_drill_range(*ns, "epoch number", err, sizeof(err)))
				return msg(m, "\"%s\": %s", time_keys[i], err);
			return true;
		}
		return msg(m, "\"%s\" is neither an RFC 3339 string nor an epoch number", time_keys[i]);
	}
	return msg(m, "no time stamp (\"ts\", \"timestamp\" or \"time\")");
}

/* a string member copied, any other JSON value printed compactly */
static int text_of(const cJSON *it, char **out)
{
	*out = cJSON_IsString(it) ? strdup(it->valuestring) : cJSON_PrintUnformatted(it);
	return *out ? 0 : -ENOMEM;
}

/* the array holds the next power of two: full when n is one */
static int grow(void **v, size_t n, size_t elem)
{
	void *nv;

	if (n & (n - 1))
		return 0;
	nv = reallocarray(*v, n ? n * 2 : 1, elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

/* Returns 0, -EINVAL (message in m) or -ENOMEM. */
static int add_event(struct event_list *l, const cJSON *obj, int64_t ns, int line, bool from_call)
{
	struct error_event *e;
	const cJSON *it;

	if (grow((void **)&l->v, l->n, sizeof(*l->v)))
		return -ENOMEM;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->ns = ns;
	e->seq = l->seq;
	e->line = line;
	e->from_call = from_call;
	it = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (it && !cJSON_IsNull(it) && text_of(it, &e->type))
		return -ENOMEM;
	it = cJSON_GetObjectItemCaseSensitive(obj, "message");
	if (!it || cJSON_IsNull(it))
		it = cJSON_GetObjectItemCaseSensitive(obj, "error");
	if (it && !cJSON_IsNull(it) && text_of(it, &e->text))
		return -ENOMEM;
	return 0;
}

/* "error" says the call failed unless absent, null, false or "" */
static bool error_set(const cJSON *it)
{
	return it && !cJSON_IsNull(it) && !cJSON_IsFalse(it) && !(cJSON_IsString(it) && !it->valuestring[0]);
}

/* A call record (include/events.h); a failed one is an error event too,
 * marked from_call. Returns 0, -EINVAL (message in m) or -ENOMEM. */
static int add_call(struct event_list *l, const cJSON *obj, int64_t ns, int line, char *m)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(obj, "latency_ms");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(obj, "ok");
	bool failed = error_set(cJSON_GetObjectItemCaseSensitive(obj, "error"));
	struct call_record *c;

	if (lat && !cJSON_IsNull(lat) &&
	    (!cJSON_IsNumber(lat) || !(lat->valuedouble >= 0 && lat->valuedouble <= CALL_LATENCY_MAX_MS)))
		return msg(m, "\"latency_ms\" is not a number of milliseconds from 0 to 86400000 (a day)"), -EINVAL;
	if (ok && !cJSON_IsNull(ok) && !cJSON_IsBool(ok))
		return msg(m, "\"ok\" is neither true nor false"), -EINVAL;
	if (cJSON_IsTrue(ok) && failed)
		return msg(m, "\"ok\" is true but \"error\" is set"), -EINVAL;
	failed |= cJSON_IsFalse(ok);
	if (grow((void **)&l->calls, l->n_calls, sizeof(*l->calls)))
		return -ENOMEM;
	c = &l->calls[l->n_calls++];
	c->ns = ns;
	c->latency_ms = lat && cJSON_IsNumber(lat) ? lat->valuedouble : -1;
	c->failed = failed;
	c->seq = l->seq;
	c->line = line;
	l->calls_failed += failed;
	l->calls_timed += c->latency_ms >= 0;
	return failed ? add_event(l, obj, ns, line, true) : 0;
}

enum kind { K_EITHER, K_EVENT, K_CALL };

/* In an array or JSON Lines, a call record says so with latency_ms or ok. */
static bool looks_like_call(const cJSON *obj)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(obj, "latency_ms");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(obj, "ok");

	return (lat && !cJSON_IsNull(lat)) || (ok && !cJSON_IsNull(ok));
}

/* One object of the file, an error event or a call record. *own counts
 * the error events that are not calls. Returns 0, -EINVAL (message in m)
 * or -ENOMEM. */
static int add_object(struct event_list *l, const cJSON *obj, int line, enum kind k, size_t *own, char *m)
{
	int64_t ns;
	int ret;

	if (!cJSON_IsObject(obj))
		return msg(m, "%s is not a JSON object", k == K_CALL ? "a call record" : "an event"), -EINVAL;
	if (!event_time(obj, &ns, m))
		return -EINVAL;
	if (k == K_CALL || (k == K_EITHER && looks_like_call(obj))) {
		ret = add_call(l, obj, ns, line, m);
	} else {
		ret = add_event(l, obj, ns, line, false);
		++*own;
	}
	l->seq++;
	return ret;
}

static int add_array(struct event_list *l, const cJSON *arr, const char *path, enum kind k, size_t *own, char *m)
{
	const cJSON *it;
	size_t i = 0;
	int ret;

	cJSON_ArrayForEach(it, arr) {
		ret = add_object(l, it, 0, k, own, m);
		if (ret == -EINVAL) {
			char inner[MSGLEN];

			memcpy(inner, m, MSGLEN);
			msg(m, "%s[%zu]: %s", path, i, inner);
		}
		if (ret)
			return ret;
		i++;
	}
	return 0;
}

/* Depth-first search for "error_events" and "calls" arrays; found[0]
 * counts the first, found[1] the second. */
static int find_nested(struct event_list *l, const cJSON *node, const char *path, size_t found[2], size_t *own,
		       char *m)
{
	const cJSON *it;
	size_t i = 0;
	int ret;

	cJSON_ArrayForEach(it, node) {
		bool obj = cJSON_IsObject(node);
		char sub[PATHLEN];

		if (obj)
			snprintf(sub, sizeof(sub), "%s.%s", path, it->string);
		else
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		i++;
		if (obj && !strcmp(it->string, "error_events")) {
			const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(node, "error_count");

			if (cJSON_IsNull(it))
				continue;
			if (!cJSON_IsArray(it))
				return msg(m, "%s is not an array", sub), -EINVAL;
			found[0]++;
			if (cJSON_IsNumber(cnt) && cnt->valuedouble >= 0 && cnt->valuedouble < 1e15)
				l->declared_count = (l->declared_count < 0 ? 0 : l->declared_count) + (int64_t)cnt->valuedouble;
			ret = add_array(l, it, sub, K_EVENT, own, m);
			if (ret)
				return ret;
			continue;
		}
		if (obj && !strcmp(it->string, "calls") && cJSON_IsArray(it)) {
			found[1]++;
			ret = add_array(l, it, sub, K_CALL, own, m);
			if (ret)
				return ret;
			continue;
		}
		if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			ret = find_nested(l, it, sub, found, own, m);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Count-only telemetry: numeric "error_count" members at any depth, in a
 * document with no "error_events" array. Returns their sum, -1 if none. */
static int64_t find_counts(const cJSON *node)
{
	int64_t sum = -1;
	const cJSON *it;

	cJSON_ArrayForEach(it, node) {
		int64_t sub = -1;

		if (cJSON_IsObject(node) && !strcmp(it->string, "error_count") && cJSON_IsNumber(it) &&
		    it->valuedouble >= 0 && it->valuedouble < 1e15)
			sub = (int64_t)it->valuedouble;
		else if (cJSON_IsObject(it) || cJSON_IsArray(it))
			sub = find_counts(it);
		if (sub >= 0)
			sum = (sum < 0 ? 0 : sum) + sub;
	}
	return sum;
}

/* own: error events that are not calls, or error_events arrays found */
static int from_document(struct event_list *l, const cJSON *doc, size_t *own, char *m)
{
	size_t found[2] = { 0, 0 };
	int ret;

	if (cJSON_IsArray(doc)) {
		l->form = EVENTS_ARRAY;
		return add_array(l, doc, "$", K_EITHER, own, m);
	}
	if (!cJSON_IsObject(doc))
		return msg(m, "not a JSON array, an object with \"error_events\" or \"calls\", or JSON Lines"), -EINVAL;
	l->form = EVENTS_NESTED;
	ret = find_nested(l, doc, "$", found, own, m);
	*own += found[0];
	if (ret || found[0])
		return ret;
	/* error_count without error_events: counted; timestamped only by calls */
	l->declared_count = find_counts(doc);
	if (found[1] || l->declared_count >= 0)
		return 0;
	/* no container: JSON Lines holding a single object */
	l->form = EVENTS_LINES;
	ret = add_object(l, doc, 1, K_EITHER, own, m);
	if (ret == -EINVAL) {
		char inner[MSGLEN];

		memcpy(inner, m, MSGLEN);
		msg(m, "%s, and no \"error_events\" or \"calls\" array", inner);
	}
	return ret;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* up to 60 characters of the rest of the line, for messages */
static int near_len(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 60 && p[i] != '\n' && p[i] != '\r'; i++)
		;
	return (int)i;
}

static int line_of(const char *buf, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* Returns 0, -EINVAL (message in m, *line set when it has one) or -ENOMEM. */
static int from_lines(struct event_list *l, const char *buf, size_t len, int *line, size_t *own, char *m)
{
	const char *p = buf, *end = buf + len;
	int ret;

	l->form = EVENTS_LINES;
	*line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		cJSON *obj;

		++*line;
		if (!blank(p, n)) {
			obj = json_parse_exact(p, n, NULL);
			if (!obj)
				return msg(m, "not JSON: '%.*s%s'", (int)(n > 40 ? 40 : n), p, n > 40 ? "..." : ""), -EINVAL;
			ret = add_object(l, obj, *line, K_EITHER, own, m);
			cJSON_Delete(obj);
			if (ret)
				return ret;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct error_event *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_call(const void *a, const void *b)
{
	const struct call_record *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Errors are counted once: a file with error events of its own keeps
 * them, and its failed calls are calls only (include/events.h). */
static void settle_errors(struct event_list *l, size_t own)
{
	size_t k = 0;

	if (!own) {
		l->errors_from_calls = l->n > 0;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].from_call) {
			free(l->v[i].type);
			free(l->v[i].text);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

int events_buffer(struct event_list *l, const char *path, const char *buf, size_t len, char **error)
{
	char m[MSGLEN] = "";
	size_t errpos = 0, own = 0;
	cJSON *doc;
	int ret, line = 0;

	memset(l, 0, sizeof(*l));
	l->declared_count = -1;
	*error = NULL;
	l->path = strdup(path);
	if (!l->path)
		return -ENOMEM;
	/* editors on some systems start UTF-8 files with a byte order mark */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		buf += 3;
		len -= 3;
	}
	if (blank(buf, len)) {
		ret = -EINVAL;
		msg(m, "empty file, expected JSON error events");
		goto cleanup;
	}
	doc = json_parse_exact(buf, len, &errpos);
	if (doc) {
		ret = from_document(l, doc, &own, m);
		cJSON_Delete(doc);
		if (ret == -EINVAL && l->form == EVENTS_LINES)
			line = 1;
	} else {
		/* JSON Lines when the first line is an object on its own */
		const char *s = buf + strspn(buf, " \t\r\n");
		const char *nl = memchr(s, '\n', (size_t)(buf + len - s));
		cJSON *first = json_parse_exact(s, (size_t)((nl ? nl : buf + len) - s), NULL);

		if (cJSON_IsObject(first)) {
			ret = from_lines(l, buf, len, &line, &own, m);
		} else {
			ret = -EINVAL;
			const char *ls = buf + errpos;

			while (ls > buf && ls[-1] != '\n')
				ls--;
			line = line_of(buf, errpos);
			msg(m, "not JSON at column %zu: '%.*s'", (size_t)(buf + errpos - ls) + 1,
			    near_len(ls, (size_t)(buf + len - ls)), ls);
		}
		cJSON_Delete(first);
	}
	if (ret == 0)
		settle_errors(l, own);
	if (ret == 0 && l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_event);
	if (ret == 0 && l->n_calls)
		qsort(l->calls, l->n_calls, sizeof(*l->calls), cmp_call);
cleanup:
	if (ret == -EINVAL) {
		int n = line ? asprintf(error, "%s:%d: %s", path, line, m) : asprintf(error, "%s: %s", path, m);

		if (n < 0)
			*error = NULL;
	} else if (ret == -ENOMEM && asprintf(error, "%s: out of memory", path) < 0) {
		*error = NULL;
	}
	return ret;
}

int events_file(struct event_list *l, const char *path, char **error)
{
	char *buf;
	size_t len;
	int ret;

	memset(l, 0, sizeof(*l));
	*error = NULL;
	ret = read_whole_file(path, &buf, &len, error);
	if (ret < 0)
		return ret;
	ret = events_buffer(l, path, buf, len, error);
	free(buf);
	return ret;
}

void events_free(struct event_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].type);
		free(l->v[i].text);
	}
	free(l->v);
	free(l->calls);
	free(l->path);
	memset(l, 0, sizeof(*l));
}
