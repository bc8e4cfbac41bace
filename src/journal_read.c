/* SPDX-License-Identifier: MIT */
/* Reading a drill journal back (okx-faultd(8), JOURNAL). A journal is JSON Lines written
 * one write(2) per line, so a daemon killed mid-write leaves at worst one
 * cut-short last line without its newline: that line is a warning, every
 * other bad line an error. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "duration.h"
#include "expect.h"
#include "journal_read.h"
#include "timeparse.h"

#define MSGLEN 512

struct jstate {
	struct jread *j;
	int line;
	bool seen_start, seen_end;
	size_t cap;        /* windows allocated */
	size_t *slot;      /* open-addressing index -> window position + 1 (0: empty) */
	size_t slot_cap;   /* a power of two, at least twice the windows */
	const char *text;  /* the line being read */
	size_t text_len;
	char msg[MSGLEN];
};

static int read_fd_whole(const char *path, char **out, size_t *outlen);

int read_whole_file(const char *path, char **out, size_t *outlen, char **error)
{
	int ret = read_fd_whole(path, out, outlen);

	if (ret == -EFBIG && error &&
	    asprintf(error, "%s: larger than the input limit of %u MiB (okx-faultctl(1), LIMITS)", path,
		     INPUT_MAX >> 20) < 0)
		*error = NULL;
	else if (ret < 0 && ret != -EFBIG && error && asprintf(error, "%s: %s", path, strerror(-ret)) < 0)
		*error = NULL;
	return ret;
}

static int read_fd_whole(const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	int fd, ret = 0;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len > INPUT_MAX) {
			ret = -EFBIG;
			goto cleanup;
		}
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			if (cap > INPUT_MAX + 4096)
				cap = INPUT_MAX + 4096;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				ret = -ENOMEM;
				goto cleanup;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return ret;
}

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

struct cJSON *json_parse_exact(const char *p, size_t n, size_t *errpos)
{
	const char *stop = NULL;
	cJSON *obj = cJSON_ParseWithLengthOpts(p, n, &stop, false);

	if (obj) {
		/* cJSON stops after the first value: the rest must be blank */
		size_t used = (size_t)(stop - p);

		if (is_blank(stop, n - used))
			return obj;
		cJSON_Delete(obj);
		if (errpos)
			*errpos = used;
		return NULL;
	}
	if (errpos)
		*errpos = stop && stop >= p && stop <= p + n ? (size_t)(stop - p) : 0;
	return NULL;
}

static int set_msg(struct jstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_msg(struct jstate *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int add_warning(struct jread *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_warning(struct jread *j, const char *fmt, ...)
{
	char **nw = realloc(j->warnings, (j->n_warnings + 1) * sizeof(*nw));
	va_list ap;
	int n;

	if (!nw)
		return -ENOMEM;
	j->warnings = nw;
	va_start(ap, fmt);
	n = vasprintf(&j->warnings[j->n_warnings], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	j->n_warnings++;
	return 0;
}

/* A string member. Absent: *out stays as is and `required` decides. */
static int get_str(struct jstate *st, const cJSON *obj, const char *key, bool required, char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!it || cJSON_IsNull(it))
		return required ? set_msg(st, "missing \"%s\"", key) : 0;
	if (!cJSON_IsString(it))
		return set_msg(st, "\"%s\" is not a string", key);
	free(*out);
	*out = strdup(it->valuestring);
	return *out ? 0 : -ENOMEM;
}

/* An integral, non-negative number member. */
static int get_uint(struct jstate *st, const cJSON *obj, const char *key, bool required, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	if (!it || cJSON_IsNull(it))
		return required ? set_msg(st, "missing \"%s\"", key) : 0;
	if (!cJSON_IsNumber(it))
		return set_msg(st, "\"%s\" is not a number", key);
	v = it->valuedouble;
	if (v < 0 || v != floor(v) || v >= 9223372036854775808.0)
		return set_msg(st, "\"%s\" is not a non-negative integer: %.17g", key, v);
	*out = (int64_t)v;
	return 0;
}

/* The digits of member `key` in the line's text that make the double v:
 * cJSON holds numbers as doubles, exact only below 2^53. */
static bool u64_from_text(const struct jstate *st, const char *key, double v, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = st->text, *end = st->text + st->text_len;

	while (p < end && (p = memmem(p, (size_t)(end - p), key, klen))) {
		const char *q = p + klen;
		unsigned long long x;
		char *e;

		p = q;
		if (q - klen == st->text || q[-(ptrdiff_t)klen - 1] != '"' || q >= end || *q++ != '"')
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q++ != ':')
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q < '0' || *q > '9')
			continue;
		errno = 0;
		x = strtoull(q, &e, 10);
		if (!errno && e <= end && *e != '.' && *e != 'e' && *e != 'E' && (double)x == v) {
			*out = x;
			return true;
		}
	}
	return false;
}

/* An unsigned 64-bit integer member, exact up to 2^64 - 1 (counters,
 * mono_ns): read from the text when the double cannot hold it. */
static int get_u64(struct jstate *st, const cJSON *obj, const char *key, bool required, uint64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v;

	if (!it || cJSON_IsNull(it))
		return required ? set_msg(st, "missing \"%s\"", key) : 0;
	if (!cJSON_IsNumber(it))
		return set_msg(st, "\"%s\" is not a number", key);
	v = it->valuedouble;
	/* 2^64 - 1 rounds to the double 2^64: the text decides */
	if (v < 0 || v != floor(v) || v > 18446744073709551616.0)
		return set_msg(st, "\"%s\" is not a non-negative integer: %.17g", key, v);
	if (v < 9007199254740992.0) {
		*out = (uint64_t)v;
		return 0;
	}
	if (u64_from_text(st, key, v, out))
		return 0;
	if (v == 18446744073709551616.0)
		return set_msg(st, "\"%s\" is not a non-negative integer below 2^64", key);
	return set_msg(st, "\"%s\": cannot read %.17g exactly (write it as plain digits)", key, v);
}

/* A non-negative number of milliseconds, fractions allowed. */
static int get_ms(struct jstate *st, const cJSON *obj, const char *key, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsNumber(it) || it->valuedouble < 0)
		return set_msg(st, "\"%s\" is not a non-negative number", key);
	*out = it->valuedouble;
	return 0;
}

static int get_time(struct jstate *st, const cJSON *obj, const char *key, bool required, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char err[256];

	if (!it || cJSON_IsNull(it))
		return required ? set_msg(st, "missing \"%s\"", key) : 0;
	if (!cJSON_IsString(it))
		return set_msg(st, "\"%s\" is not an RFC 3339 string", key);
	if (!time_parse_rfc3339(it->valuestring, out, err, sizeof(err)) ||
	    !time_in_drill_range(*out, it->valuestring, err, sizeof(err)))
		return set_msg(st, "\"%s\": %s", key, err);
	return 0;
}

/* Windows are found by index through a hash table, so reading a journal
 * takes linear time however many windows it has. */
static size_t slot_of(const struct jstate *st, int64_t index)
{
	uint64_t h = (uint64_t)index * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (st->slot_cap - 1);
}

static struct jwindow *find_window(const struct jstate *st, int64_t index)
{
	if (!st->slot_cap)
		return NULL;
	for (size_t i = slot_of(st, index);; i = (i + 1) & (st->slot_cap - 1)) {
		size_t v = st->slot[i];

		if (!v)
			return NULL;
		if (st->j->windows[v - 1].index == index)
			return &st->j->windows[v - 1];
	}
}

static void slot_put(struct jstate *st, size_t pos)
{
	size_t i = slot_of(st, st->j->windows[pos].index);

	while (st->slot[i])
		i = (i + 1) & (st->slot_cap - 1);
	st->slot[i] = pos + 1;
}

/* Room for one more window, in the array and in the index. */
static int grow_windows(struct jstate *st)
{
	struct jread *j = st->j;

	if (j->n_windows == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct jwindow *nw = reallocarray(j->windows, cap, sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		j->windows = nw;
		st->cap = cap;
	}
	if ((j->n_windows + 1) * 2 > st->slot_cap) {
		size_t cap = st->slot_cap ? st->slot_cap * 2 : 128;
		size_t *ns = calloc(cap, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		free(st->slot);
		st->slot = ns;
		st->slot_cap = cap;
		for (size_t i = 0; i < j->n_windows; i++)
			slot_put(st, i);
	}
	return 0;
}

static int on_start(struct jstate *st, const cJSON *obj, int64_t ts)
{
	struct jread *j = st->j;
	int ret;

	j->start_ns = ts;
	if ((ret = get_str(st, obj, "name", true, &j->name)) ||
	    (ret = get_str(st, obj, "policy", false, &j->policy)) ||
	    (ret = get_str(st, obj, "policy_sha256", false, &j->policy_sha256)) ||
	    (ret = get_str(st, obj, "host", false, &j->host)) ||
	    (ret = get_str(st, obj, "version", false, &j->version)) ||
	    (ret = get_str(st, obj, "git_commit", false, &j->git_commit)))
		return ret;
	return 0;
}

/* targets_added (resolve_every) and scope_changed (a cgroup recreated or
 * removed, the netns gone): the windows do not depend on them */
static int on_targets_added(struct jstate *st, const cJSON *obj, int64_t ts)
{
	(void)st, (void)obj, (void)ts;
	return 0;
}

static int on_armed(struct jstate *st, const cJSON *obj, int64_t ts)
{
	struct jread *j = st->j;
	const cJSON *trig = cJSON_GetObjectItemCaseSensitive(obj, "trigger");
	uint64_t flows = 0, packets = 0, bytes = 0;
	int ret;

	if (j->armed)
		return set_msg(st, "second \"armed\" event");
	if (j->n_windows)
		return set_msg(st, "\"armed\" after a fault_begin");
	j->armed = true;
	j->armed_ns = ts;
	if ((ret = get_u64(st, obj, "flows", false, &flows)) || (ret = get_u64(st, obj, "packets", false, &packets)) ||
	    (ret = get_u64(st, obj, "bytes", false, &bytes)))
		return ret;
	j->armed_flows = flows;
	j->armed_packets = packets;
	j->armed_bytes = bytes;
	if (!trig || cJSON_IsNull(trig))
		return 0;
	if (!cJSON_IsObject(trig))
		return set_msg(st, "\"trigger\" is not an object");
	if ((ret = get_str(st, trig, "src", false, &j->trigger_src)) ||
	    (ret = get_str(st, trig, "dst", false, &j->trigger_dst)) ||
	    (ret = get_str(st, trig, "proto", false, &j->trigger_proto)) ||
	    (ret = get_uint(st, trig, "dport", false, &j->trigger_dport)))
		return ret;
	return 0;
}

/* "expect": the evidence the fault should leave; a journal of an earlier
 * daemon has none: the action's default then (expect.h). */
static int get_expect(struct jstate *st, const cJSON *obj, struct jwindow *w)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "expect");

	w->expect = expect_default(w->action);
	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it) || !expect_parse(it->valuestring, &w->expect))
		return set_msg(st, "\"expect\" is not \"errors\", \"latency\" or \"any\"");
	return 0;
}

/* The latency a delay injects, from its params ("latency=300ms jitter=..."),
 * policy syntax: a word "latency=DURATION". */
static int params_latency(struct jstate *st, struct jwindow *w)
{
	const char *p = w->params;

	w->latency_ms = 0;
	while (*p) {
		size_t n = strcspn(p, " ");

		if (n >= 8 && !strncmp(p, "latency=", 8)) {
			char word[DURATION_STRLEN] = "";
			uint64_t ms;

			if (n - 8 < sizeof(word))
				memcpy(word, p + 8, n - 8);
			if (n - 8 >= sizeof(word) || !duration_parse(word, &ms))
				return set_msg(st, "\"params\": bad latency '%.*s'", (int)(n - 8), p + 8);
			w->latency_ms = (int64_t)ms;
		}
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

static int on_fault_begin(struct jstate *st, const cJSON *obj, int64_t ts)
{
	struct jread *j = st->j;
	struct jwindow *w;
	int64_t index;
	int ret;

	if ((ret = get_uint(st, obj, "index", true, &index)))
		return ret;
	if ((w = find_window(st, index)))
		return set_msg(st, "fault_begin index %lld repeats the one on line %d", (long long)index, w->line_begin);
	if ((ret = grow_windows(st)))
		return ret;
	w = &j->windows[j->n_windows++];
	memset(w, 0, sizeof(*w));
	w->index = index;
	slot_put(st, j->n_windows - 1);
	w->begin_ns = w->invoke_ns = w->end_ns = ts;
	w->open = true;
	w->actual_ms = -1;
	w->line_begin = st->line;
	if ((ret = get_str(st, obj, "action", true, &w->action)) || (ret = get_str(st, obj, "params", false, &w->params)) ||
	    (ret = get_uint(st, obj, "planned_ms", false, &w->planned_ms)) ||
	    (ret = get_time(st, obj, "invoke_ts", false, &w->invoke_ns)))
		return ret;
	if (!w->params && !(w->params = strdup("")))
		return -ENOMEM;
	if ((ret = get_expect(st, obj, w)))
		return ret;
	return params_latency(st, w);
}

static int on_fault_end(struct jstate *st, const cJSON *obj, int64_t ts)
{
	const cJSON *hits = cJSON_GetObjectItemCaseSensitive(obj, "hits"), *unknown;
	int64_t index;
	uint64_t packets = 0, bytes = 0;
	struct jwindow *w;
	int ret;

	if ((ret = get_uint(st, obj, "index", true, &index)))
		return ret;
	w = find_window(st, index);
	if (!w)
		return set_msg(st, "fault_end index %lld has no fault_begin", (long long)index);
	if (!w->open)
		return set_msg(st, "fault_end index %lld repeats the one on line %d", (long long)index, w->line_end);
	if (ts < w->begin_ns)
		return set_msg(st, "fault_end index %lld is earlier than its fault_begin (line %d)", (long long)index,
			       w->line_begin);
	if (!cJSON_IsObject(hits))
		return set_msg(st, "missing \"hits\" object");
	if ((ret = get_u64(st, hits, "packets", true, &packets)) || (ret = get_u64(st, hits, "bytes", false, &bytes)))
		return ret;
	w->open = false;
	w->end_ns = ts;
	w->line_end = st->line;
	w->hit_packets = packets;
	w->hit_bytes = bytes;
	w->hits_known = true;
	w->actual_ms = (double)(ts - w->begin_ns) / 1e6;
	if ((ret = get_ms(st, obj, "actual_ms", &w->actual_ms)) || (ret = get_str(st, obj, "reason", false, &w->reason)))
		return ret;
	/* the daemon journals the window even when reading its counter failed */
	unknown = cJSON_GetObjectItemCaseSensitive(hits, "unknown");
	if (cJSON_IsTrue(unknown)) {
		w->hits_known = false;
		w->hit_packets = w->hit_bytes = 0;
		return add_warning(st->j, "%s:%d: fault %lld: the daemon could not read its hit counter; hits unknown",
				   st->j->path, st->line, (long long)index);
	}
	return 0;
}

static int on_end(struct jstate *st, const cJSON *obj, int64_t ts)
{
	int ret;

	(void)ts;
	st->seen_end = true;
	st->j->exit_code = -1;
	if ((ret = get_str(st, obj, "outcome", true, &st->j->outcome)) ||
	    (ret = get_uint(st, obj, "exit_code", false, &st->j->exit_code)))
		return ret;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct jstate *st, const cJSON *obj, int64_t ts);
} handlers[] = {
	/* sorted */
	{ "armed", on_armed },
	{ "end", on_end },
	{ "fault_begin", on_fault_begin },
	{ "fault_end", on_fault_end },
	{ "scope_changed", on_targets_added },
	{ "start", on_start },
	{ "targets_added", on_targets_added },
};

static int handle_event(struct jstate *st, const cJSON *obj)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(obj, "event");
	int64_t ts;
	uint64_t mono;
	int ret;

	if (!cJSON_IsObject(obj))
		return set_msg(st, "not a JSON object");
	if (!cJSON_IsString(ev))
		return set_msg(st, "missing \"event\" string");
	if ((ret = get_time(st, obj, "ts", true, &ts)) || (ret = get_u64(st, obj, "mono_ns", true, &mono)))
		return ret;
	if (st->seen_end)
		return set_msg(st, "event \"%s\" after \"end\"", ev->valuestring);
	if (!st->seen_start && strcmp(ev->valuestring, "start"))
		return set_msg(st, "first event is \"%s\", expected \"start\"", ev->valuestring);
	if (st->seen_start && !strcmp(ev->valuestring, "start"))
		return set_msg(st, "second \"start\" event");
	st->seen_start = true;
	if (ts > st->j->last_ns)
		st->j->last_ns = ts;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(handlers[i].name, ev->valuestring))
			return handlers[i].fn(st, obj, ts);
	/* a newer daemon may journal more: say so, but read on */
	return add_warning(st->j, "%s:%d: unknown event \"%s\" ignored", st->j->path, st->line, ev->valuestring);
}

static int close_open_windows(struct jread *j)
{
	char when[TIME_STRLEN];
	int ret;

	for (size_t i = 0; i < j->n_windows; i++) {
		struct jwindow *w = &j->windows[i];

		if (!w->open)
			continue;
		w->end_ns = j->last_ns;
		ret = add_warning(j,
				  "%s:%d: fault %lld (%s) has no fault_end: window still open, its end is unknown; "
				  "taking the journal's last time stamp %s as its end",
				  j->path, w->line_begin, (long long)w->index, w->action,
				  time_format_rfc3339(j->last_ns, 6, when, sizeof(when)));
		if (ret)
			return ret;
	}
	return 0;
}

int jread_buffer(struct jread *j, const char *path, const char *buf, size_t len, char **error)
{
	struct jstate st = { .j = j };
	const char *p = buf, *end = buf + len;
	bool any = false;
	int ret = 0;

	memset(j, 0, sizeof(*j));
	*error = NULL;
	j->exit_code = -1;
	j->trigger_dport = -1;
	j->path = strdup(path);
	if (!j->path)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t n = (size_t)(stop - p);
		cJSON *obj;

		st.line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (is_blank(p, n)) {
			p = nl ? nl + 1 : end;
			continue;
		}
		obj = json_parse_exact(p, n, NULL);
		if (!obj && !nl) {
			/* a killed daemon's last write, cut short */
			j->truncated = true;
			ret = add_warning(j, "%s:%d: last line is truncated (daemon killed while writing?); ignored",
					  path, st.line);
			if (ret)
				goto cleanup;
			break;
		}
		if (!obj) {
			ret = set_msg(&st, "not JSON: '%.*s%s'", (int)(n > 40 ? 40 : n), p, n > 40 ? "..." : "");
		} else {
			st.text = p, st.text_len = n;
			ret = handle_event(&st, obj);
			cJSON_Delete(obj);
		}
		if (ret == -EINVAL) {
			if (asprintf(error, "%s:%d: %s", path, st.line, st.msg) < 0)
				*error = NULL;
			goto cleanup;
		}
		if (ret)
			goto cleanup;
		any = true;
		p = nl ? nl + 1 : end;
	}
	j->lines = st.line;
	if (!any) {
		ret = -EINVAL;
		if (asprintf(error, "%s: empty journal (no events)", path) < 0)
			*error = NULL;
		goto cleanup;
	}
	if ((ret = close_open_windows(j)))
		goto cleanup;
	if (!st.seen_end)
		ret = add_warning(j, "%s: no \"end\" event: the daemon did not finish (killed?); outcome unknown", path);
cleanup:
	free(st.slot);
	if (ret == -ENOMEM && !*error && asprintf(error, "%s: out of memory", path) < 0)
		*error = NULL;
	return ret;
}

int jread_file(struct jread *j, const char *path, char **error)
{
	char *buf;
	size_t len;
	int ret;

	memset(j, 0, sizeof(*j));
	*error = NULL;
	ret = read_whole_file(path, &buf, &len, error);
	if (ret < 0)
		return ret;
	ret = jread_buffer(j, path, buf, len, error);
	free(buf);
	return ret;
}

void jread_free(struct jread *j)
{
	if (!j)
		return;
	free(j->path);
	free(j->name);
	free(j->policy);
	free(j->policy_sha256);
	free(j->host);
	free(j->version);
	free(j->git_commit);
	free(j->outcome);
	free(j->trigger_src);
	free(j->trigger_dst);
	free(j->trigger_proto);
	for (size_t i = 0; i < j->n_windows; i++) {
		free(j->windows[i].action);
		free(j->windows[i].params);
		free(j->windows[i].reason);
	}
	free(j->windows);
	for (size_t i = 0; i < j->n_warnings; i++)
		free(j->warnings[i]);
	free(j->warnings);
	memset(j, 0, sizeof(*j));
}
