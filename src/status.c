/* SPDX-License-Identifier: MIT */
/* The status of a running drill: encoded by the daemon, decoded and printed
 * by okx-faultctl (include/status.h; okx-faultctl(1), STATUS JSON). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "journal.h"
#include "status.h"
#include "timeparse.h"

static const char *const state_names[] = {
	[STATUS_WAITING] = "waiting", [STATUS_ARM_DELAY] = "arm_delay", [STATUS_FAULT] = "fault",
	[STATUS_PAUSE] = "pause",     [STATUS_ENDING] = "ending",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *status_state_name(enum status_state s)
{
	return (unsigned)s < N_STATES ? state_names[s] : "?";
}

bool status_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > STATUS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* ---- encoding ----------------------------------------------------------- */

/* cJSON's adders return NULL on ENOMEM; one flag collects them all. */
struct enc {
	bool oom;
};

static cJSON *chk(struct enc *e, cJSON *it)
{
	if (!it)
		e->oom = true;
	return it;
}

/* Add item (NULL: out of memory) as member k of o. */
static void put_item(struct enc *e, cJSON *o, const char *k, cJSON *item)
{
	if (!item || !cJSON_AddItemToObject(o, k, item)) {
		cJSON_Delete(item);
		e->oom = true;
	}
}

static void put_u64(struct enc *e, cJSON *o, const char *k, uint64_t v)
{
	chk(e, json_add_u64(o, k, v));
}

static void put_str(struct enc *e, cJSON *o, const char *k, const char *v)
{
	chk(e, cJSON_AddStringToObject(o, k, v));
}

static void put_time(struct enc *e, cJSON *o, const char *k, int64_t ns)
{
	char buf[TIME_STRLEN];

	put_str(e, o, k, time_format_rfc3339(ns, 6, buf, sizeof(buf)));
}

static void put_count(struct enc *e, cJSON *o, const char *k, const struct status_count *c)
{
	cJSON *x = chk(e, cJSON_AddObjectToObject(o, k));

	if (!x)
		return;
	put_u64(e, x, "seen", c->seen);
	put_u64(e, x, "need", c->need);
}

static void put_step(struct enc *e, cJSON *o, const struct status_step *s)
{
	put_u64(e, o, "index", s->index);
	put_str(e, o, "action", s->action);
	put_str(e, o, "params", s->params);
	put_u64(e, o, "planned_ms", s->planned_ms);
}

static void put_arming(struct enc *e, cJSON *root, const struct drill_status *st)
{
	cJSON *a = chk(e, cJSON_AddObjectToObject(root, "arming")), *t;

	if (!a)
		return;
	put_count(e, a, "flows", &st->flows);
	put_count(e, a, "calls", &st->calls);
	put_count(e, a, "packets", &st->packets);
	put_count(e, a, "bytes", &st->bytes);
	put_u64(e, a, "window_ms", st->arm_window_ms);
	put_u64(e, a, "timeout_ms", st->arm_timeout_ms);
	if (st->waiting_left)
		put_u64(e, a, "left_ms", st->arm_left_ms);
	else
		chk(e, cJSON_AddNullToObject(a, "left_ms"));
	if (st->armed)
		put_time(e, a, "armed", st->armed_ns);
	else
		chk(e, cJSON_AddNullToObject(a, "armed"));
	if (!st->has_trigger) {
		chk(e, cJSON_AddNullToObject(a, "trigger"));
		return;
	}
	if (!(t = chk(e, cJSON_AddObjectToObject(a, "trigger"))))
		return;
	put_str(e, t, "src", st->trigger_src);
	put_str(e, t, "dst", st->trigger_dst);
	put_u64(e, t, "dport", st->trigger_dport);
	put_str(e, t, "proto", st->trigger_proto);
}

/* "arm_delay", "fault" and "pause": the one of the current state, the
 * others null. */
static void put_phase(struct enc *e, cJSON *root, const struct drill_status *st)
{
	cJSON *d = NULL, *f = NULL, *p = NULL, *h;

	if (st->state == STATUS_ARM_DELAY && (d = chk(e, cJSON_CreateObject()))) {
		put_u64(e, d, "planned_ms", st->delay_planned_ms);
		put_u64(e, d, "left_ms", st->delay_left_ms);
	}
	if (st->state == STATUS_FAULT && (f = chk(e, cJSON_CreateObject()))) {
		put_step(e, f, &st->step);
		put_u64(e, f, "elapsed_ms", st->step_elapsed_ms);
		if (!st->hits_known) {
			chk(e, cJSON_AddNullToObject(f, "hits"));
		} else if ((h = chk(e, cJSON_AddObjectToObject(f, "hits")))) {
			put_u64(e, h, "packets", st->hits_packets);
			put_u64(e, h, "bytes", st->hits_bytes);
		}
	}
	if (st->state == STATUS_PAUSE && (p = chk(e, cJSON_CreateObject()))) {
		put_u64(e, p, "index", st->step.index);
		put_u64(e, p, "planned_ms", st->step.planned_ms);
		put_u64(e, p, "elapsed_ms", st->step_elapsed_ms);
	}
	put_item(e, root, "arm_delay", d ? d : cJSON_CreateNull());
	put_item(e, root, "fault", f ? f : cJSON_CreateNull());
	put_item(e, root, "pause", p ? p : cJSON_CreateNull());
}

static void put_end(struct enc *e, cJSON *root, const struct drill_status *st)
{
	if (st->state != STATUS_ENDING) {
		chk(e, cJSON_AddNullToObject(root, "outcome"));
		chk(e, cJSON_AddNullToObject(root, "exit_code"));
		return;
	}
	put_str(e, root, "outcome", st->outcome);
	chk(e, cJSON_AddNumberToObject(root, "exit_code", st->exit_code));
	if (st->reason[0])
		put_str(e, root, "reason", st->reason);
	if (st->by[0])
		put_str(e, root, "by", st->by);
}

/* Print o unformatted, with a newline, into buf; consumes o. */
static int finish(cJSON *o, bool oom, char *buf, size_t len)
{
	char *text = !oom && o ? cJSON_PrintUnformatted(o) : NULL;
	size_t n;

	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (n + 2 > len || n + 1 > STATUS_LINE_MAX) {
		free(text);
		return -ENOSPC;
	}
	memcpy(buf, text, n);
	buf[n++] = '\n';
	buf[n] = '\0';
	free(text);
	return (int)n;
}

int status_encode(const struct drill_status *st, char *buf, size_t len)
{
	struct enc e = { false };
	cJSON *root = cJSON_CreateObject(), *n, *s;

	if (!root)
		return -ENOMEM;
	chk(&e, cJSON_AddNumberToObject(root, "version", STATUS_VERSION));
	put_str(&e, root, "name", st->name);
	chk(&e, cJSON_AddNumberToObject(root, "pid", (double)st->pid));
	put_str(&e, root, "state", status_state_name(st->state));
	if (st->journal[0])
		put_str(&e, root, "journal", st->journal);
	else
		chk(&e, cJSON_AddNullToObject(root, "journal"));
	put_time(&e, root, "started", st->started_ns);
	put_u64(&e, root, "elapsed_ms", st->elapsed_ms);
	put_arming(&e, root, st);
	put_phase(&e, root, st);
	if ((s = chk(&e, cJSON_AddObjectToObject(root, "steps")))) {
		put_u64(&e, s, "total", st->steps_total);
		put_u64(&e, s, "done", st->state == STATUS_FAULT || st->state == STATUS_PAUSE ? st->step.index
			: st->state == STATUS_ENDING ? st->steps_total : 0);
	}
	if ((n = chk(&e, cJSON_AddArrayToObject(root, "next")))) {
		for (size_t i = 0; i < st->n_next && i < STATUS_NEXT_MAX; i++) {
			cJSON *o = chk(&e, cJSON_CreateObject());

			if (!o)
				break;
			put_step(&e, o, &st->next[i]);
			if (!cJSON_AddItemToArray(n, o)) {
				cJSON_Delete(o);
				e.oom = true;
				break;
			}
		}
	}
	put_end(&e, root, st);
	return finish(root, e.oom, buf, len);
}

int status_encode_error(const char *msg, char *buf, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	struct enc e = { !o };

	if (o) {
		chk(&e, cJSON_AddNumberToObject(o, "version", STATUS_VERSION));
		put_str(&e, o, "error", msg);
	}
	return finish(o, e.oom, buf, len);
}

int status_encode_stopping(const char *by, char *buf, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	struct enc e = { !o };

	if (o) {
		chk(&e, cJSON_AddNumberToObject(o, "version", STATUS_VERSION));
		chk(&e, cJSON_AddBoolToObject(o, "stopping", true));
		put_str(&e, o, "by", by);
	}
	return finish(o, e.oom, buf, len);
}

/* ---- decoding ----------------------------------------------------------- */

struct dec {
	char *err;
	size_t errlen;
	bool ok;
};

static bool derr(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool derr(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->ok && d->err && d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err, d->errlen, fmt, ap);
		va_end(ap);
	}
	d->ok = false;
	return false;
}

/* Member k of o: present and of `type` (cJSON_Number, ...); with `null_ok`
 * a null is returned as NULL without an error. */
static const cJSON *member(struct dec *d, const cJSON *o, const char *k, int type, bool null_ok)
{
	const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;

	if (!d->ok)
		return NULL;
	if (!it) {
		derr(d, "\"%s\" missing", k);
		return NULL;
	}
	if (null_ok && cJSON_IsNull(it))
		return NULL;
	if ((it->type & 0xff) != type) {
		derr(d, "\"%s\" has the wrong type", k);
		return NULL;
	}
	return it;
}

static uint64_t get_u64(struct dec *d, const cJSON *o, const char *k)
{
	const cJSON *it = member(d, o, k, cJSON_Number, false);
	double v;

	if (!it)
		return 0;
	v = it->valuedouble;
	if (!(v >= 0) || v >= 18446744073709551616.0 || floor(v) != v) {
		derr(d, "\"%s\": %.17g is not a count", k, v);
		return 0;
	}
	return (uint64_t)v;
}

static void get_str(struct dec *d, const cJSON *o, const char *k, char *out, size_t len, bool null_ok)
{
	const cJSON *it = member(d, o, k, cJSON_String, null_ok);

	out[0] = '\0';
	if (!it)
		return;
	if (strlen(it->valuestring) >= len) {
		derr(d, "\"%s\" is longer than %zu bytes", k, len - 1);
		return;
	}
	strcpy(out, it->valuestring);
}

static int64_t get_time(struct dec *d, const cJSON *o, const char *k, bool *present)
{
	char buf[TIME_STRLEN], why[128];
	int64_t ns = 0;

	get_str(d, o, k, buf, sizeof(buf), present != NULL);
	if (present)
		*present = d->ok && buf[0];
	if (!d->ok || !buf[0])
		return 0;
	if (!time_parse_rfc3339(buf, &ns, why, sizeof(why)))
		derr(d, "\"%s\": %s", k, why);
	return ns;
}

static void get_count(struct dec *d, const cJSON *o, const char *k, struct status_count *c)
{
	const cJSON *x = member(d, o, k, cJSON_Object, false);

	c->seen = get_u64(d, x, "seen");
	c->need = get_u64(d, x, "need");
}

static void get_step(struct dec *d, const cJSON *o, struct status_step *s)
{
	s->index = get_u64(d, o, "index");
	get_str(d, o, "action", s->action, sizeof(s->action), false);
	get_str(d, o, "params", s->params, sizeof(s->params), false);
	s->planned_ms = get_u64(d, o, "planned_ms");
}

static void get_arming(struct dec *d, const cJSON *root, struct drill_status *st)
{
	const cJSON *a = member(d, root, "arming", cJSON_Object, false), *t, *left;

	get_count(d, a, "flows", &st->flows);
	get_count(d, a, "calls", &st->calls);
	get_count(d, a, "packets", &st->packets);
	get_count(d, a, "bytes", &st->bytes);
	st->arm_window_ms = get_u64(d, a, "window_ms");
	st->arm_timeout_ms = get_u64(d, a, "timeout_ms");
	if ((left = member(d, a, "left_ms", cJSON_Number, true))) {
		st->waiting_left = true;
		st->arm_left_ms = get_u64(d, a, "left_ms");
	}
	st->armed_ns = get_time(d, a, "armed", &st->armed);
	if (!(t = member(d, a, "trigger", cJSON_Object, true)))
		return;
	st->has_trigger = true;
	get_str(d, t, "src", st->trigger_src, sizeof(st->trigger_src), false);
	get_str(d, t, "dst", st->trigger_dst, sizeof(st->trigger_dst), false);
	get_str(d, t, "proto", st->trigger_proto, sizeof(st->trigger_proto), false);
	st->trigger_dport = (uint32_t)get_u64(d, t, "dport");
	if (d->ok && st->trigger_dport > 65535)
		derr(d, "\"dport\": %" PRIu32 " is not a port", st->trigger_dport);
}

/* The phase object of the current state must be there, the others null. */
static void get_phase(struct dec *d, const cJSON *root, struct drill_status *st)
{
	const cJSON *dl = member(d, root, "arm_delay", cJSON_Object, true);
	const cJSON *f = member(d, root, "fault", cJSON_Object, true);
	const cJSON *p = member(d, root, "pause", cJSON_Object, true), *h;

	if (!d->ok)
		return;
	if ((st->state == STATUS_ARM_DELAY) != !!dl || (st->state == STATUS_FAULT) != !!f ||
	    (st->state == STATUS_PAUSE) != !!p) {
		derr(d, "state %s with the wrong one of \"arm_delay\", \"fault\", \"pause\"", status_state_name(st->state));
		return;
	}
	if (dl) {
		st->delay_planned_ms = get_u64(d, dl, "planned_ms");
		st->delay_left_ms = get_u64(d, dl, "left_ms");
	} else if (f) {
		get_step(d, f, &st->step);
		st->step_elapsed_ms = get_u64(d, f, "elapsed_ms");
		if ((h = member(d, f, "hits", cJSON_Object, true))) {
			st->hits_known = true;
			st->hits_packets = get_u64(d, h, "packets");
			st->hits_bytes = get_u64(d, h, "bytes");
		}
	} else if (p) {
		st->step.index = get_u64(d, p, "index");
		strcpy(st->step.action, "pause");
		st->step.planned_ms = get_u64(d, p, "planned_ms");
		st->step_elapsed_ms = get_u64(d, p, "elapsed_ms");
	}
}

static void get_state(struct dec *d, const cJSON *root, struct drill_status *st)
{
	char name[16];

	get_str(d, root, "state", name, sizeof(name), false);
	if (!d->ok)
		return;
	for (size_t i = 0; i < N_STATES; i++) {
		if (!strcmp(name, state_names[i])) {
			st->state = (enum status_state)i;
			return;
		}
	}
	derr(d, "unknown state '%s'", name);
}

static void get_end(struct dec *d, const cJSON *root, struct drill_status *st)
{
	const cJSON *code;

	get_str(d, root, "outcome", st->outcome, sizeof(st->outcome), true);
	code = member(d, root, "exit_code", cJSON_Number, true);
	if (!d->ok)
		return;
	if (st->state == STATUS_ENDING ? !st->outcome[0] || !code : st->outcome[0] || code) {
		derr(d, "\"outcome\" and \"exit_code\" belong to state ending, and only to it");
		return;
	}
	if (!code)
		return;
	if (code->valuedouble < 0 || code->valuedouble > 255 || floor(code->valuedouble) != code->valuedouble) {
		derr(d, "\"exit_code\": %.17g is not an exit code", code->valuedouble);
		return;
	}
	st->exit_code = (int)code->valuedouble;
	if (cJSON_GetObjectItemCaseSensitive(root, "reason"))
		get_str(d, root, "reason", st->reason, sizeof(st->reason), false);
	if (cJSON_GetObjectItemCaseSensitive(root, "by"))
		get_str(d, root, "by", st->by, sizeof(st->by), false);
}

static void get_status(struct dec *d, const cJSON *root, struct drill_status *st)
{
	const cJSON *next, *steps;
	uint64_t pid;

	get_str(d, root, "name", st->name, sizeof(st->name), false);
	pid = get_u64(d, root, "pid");
	if (d->ok && (pid < 1 || pid > INT32_MAX))
		derr(d, "\"pid\": %" PRIu64 " is not a process id", pid);
	st->pid = (int64_t)pid;
	get_state(d, root, st);
	get_str(d, root, "journal", st->journal, sizeof(st->journal), true);
	st->started_ns = get_time(d, root, "started", NULL);
	st->elapsed_ms = get_u64(d, root, "elapsed_ms");
	get_arming(d, root, st);
	get_phase(d, root, st);
	steps = member(d, root, "steps", cJSON_Object, false);
	st->steps_total = get_u64(d, steps, "total");
	next = member(d, root, "next", cJSON_Array, false);
	for (const cJSON *it = next ? next->child : NULL; it && d->ok && st->n_next < STATUS_NEXT_MAX; it = it->next) {
		if (!cJSON_IsObject(it)) {
			derr(d, "\"next\" holds something other than objects");
			break;
		}
		get_step(d, it, &st->next[st->n_next++]);
	}
	get_end(d, root, st);
}

bool status_decode(const char *line, size_t len, struct status_reply *r, char *err, size_t errlen)
{
	struct dec d = { err, errlen, true };
	const cJSON *v, *e;
	cJSON *root;

	memset(r, 0, sizeof(*r));
	if (err && errlen)
		err[0] = '\0';
	if (len > STATUS_LINE_MAX)
		return derr(&d, "reply longer than %d bytes", STATUS_LINE_MAX);
	root = cJSON_ParseWithLength(line, len);
	if (!root || !cJSON_IsObject(root)) {
		char shown[41];
		size_t i;

		/* its start, printable: the line is not NUL-terminated */
		for (i = 0; i < len && i < sizeof(shown) - 1 && line[i] != '\n'; i++)
			shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
		shown[i] = '\0';
		cJSON_Delete(root);
		return derr(&d, "reply is not a JSON object: '%s'", shown);
	}
	if ((v = member(&d, root, "version", cJSON_Number, false)) && v->valuedouble != STATUS_VERSION)
		derr(&d, "reply version %.17g; this okx-faultctl reads version %d", v->valuedouble, STATUS_VERSION);
	if (!d.ok)
		goto out;
	if ((e = cJSON_GetObjectItemCaseSensitive(root, "error"))) {
		r->kind = STATUS_REPLY_ERROR;
		get_str(&d, root, "error", r->text, sizeof(r->text), false);
	} else if (cJSON_GetObjectItemCaseSensitive(root, "stopping")) {
		r->kind = STATUS_REPLY_STOPPING;
		member(&d, root, "stopping", cJSON_True, false);
		get_str(&d, root, "by", r->text, sizeof(r->text), false);
	} else {
		r->kind = STATUS_REPLY_STATUS;
		get_status(&d, root, &r->st);
	}
out:
	cJSON_Delete(root);
	return d.ok;
}

/* ---- text --------------------------------------------------------------- */

/* 850 ms, 12.3 s, 4m55s, 2h03m */
static const char *dur(uint64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 " ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " s", ms / 1000, ms / 100 % 10);
	else if (ms < 3600000)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, ms / 1000 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", ms / 3600000, ms / 60000 % 60);
	return buf;
}

static const char *step_text(const struct status_step *s, char *buf, size_t len)
{
	char d[24];

	snprintf(buf, len, "%s%s%s %s", s->action, s->params[0] ? " " : "", s->params, dur(s->planned_ms, d, sizeof(d)));
	return buf;
}

static void print_counts(const struct drill_status *st, FILE *f)
{
	fprintf(f, "flows %" PRIu64 "/%" PRIu64 ", calls %" PRIu64 "/%" PRIu64 ", packets %" PRIu64 "/%" PRIu64
		   ", bytes %" PRIu64 "/%" PRIu64,
		st->flows.seen, st->flows.need, st->calls.seen, st->calls.need, st->packets.seen, st->packets.need,
		st->bytes.seen, st->bytes.need);
}

static void print_arming(const struct drill_status *st, FILE *f)
{
	char when[TIME_STRLEN], a[24], b[24];

	fputs("arming   ", f);
	if (st->armed) {
		fprintf(f, "armed %s", time_format_rfc3339(st->armed_ns, 6, when, sizeof(when)));
		if (st->has_trigger)
			fprintf(f, " on flow %s -> %s:%" PRIu32 "/%s", st->trigger_src, st->trigger_dst, st->trigger_dport,
				st->trigger_proto);
		fputs(" (", f);
		print_counts(st, f);
		fputs(")\n", f);
		return;
	}
	print_counts(st, f);
	if (st->arm_window_ms)
		fprintf(f, " within %s", dur(st->arm_window_ms, a, sizeof(a)));
	fputc('\n', f);
	if (st->waiting_left)
		fprintf(f, "         %s left of arm_timeout %s\n", dur(st->arm_left_ms, a, sizeof(a)),
			dur(st->arm_timeout_ms, b, sizeof(b)));
}

static void print_step(const struct drill_status *st, FILE *f)
{
	char s[STATUS_TEXT_MAX + 64], a[24], b[24];
	uint64_t left = st->step.planned_ms > st->step_elapsed_ms ? st->step.planned_ms - st->step_elapsed_ms : 0;

	if (st->state == STATUS_ARM_DELAY)
		fprintf(f, "delay    first fault in %s (arm_delay %s)\n", dur(st->delay_left_ms, a, sizeof(a)),
			dur(st->delay_planned_ms, b, sizeof(b)));
	if (st->state != STATUS_FAULT && st->state != STATUS_PAUSE)
		return;
	fprintf(f, "%-8s step %" PRIu64 " of %" PRIu64 ": %s, %s elapsed, %s left\n", status_state_name(st->state),
		st->step.index + 1, st->steps_total, step_text(&st->step, s, sizeof(s)),
		dur(st->step_elapsed_ms, a, sizeof(a)), dur(left, b, sizeof(b)));
	if (st->state != STATUS_FAULT)
		return;
	if (st->hits_known)
		fprintf(f, "hits     %" PRIu64 " packet%s, %" PRIu64 " byte%s so far\n", st->hits_packets,
			st->hits_packets == 1 ? "" : "s", st->hits_bytes, st->hits_bytes == 1 ? "" : "s");
	else
		fputs("hits     unknown (the counter could not be read)\n", f);
}

void status_print(const struct drill_status *st, FILE *f)
{
	char when[TIME_STRLEN], a[24], s[STATUS_TEXT_MAX + 64];

	fprintf(f, "drill    %s (pid %" PRId64 "), started %s (%s ago)\n", st->name, st->pid,
		time_format_rfc3339(st->started_ns, 0, when, sizeof(when)), dur(st->elapsed_ms, a, sizeof(a)));
	fprintf(f, "state    %s\n", status_state_name(st->state));
	print_arming(st, f);
	print_step(st, f);
	if (st->state == STATUS_ENDING) {
		fprintf(f, "outcome  %s (exit %d)", st->outcome, st->exit_code);
		if (st->reason[0])
			fprintf(f, ", %s%s%s", st->reason, st->by[0] ? " by " : "", st->by);
		fputc('\n', f);
	}
	for (size_t i = 0; i < st->n_next; i++)
		fprintf(f, "%-8s step %" PRIu64 " of %" PRIu64 ": %s\n", i ? "" : "next", st->next[i].index + 1,
			st->steps_total, step_text(&st->next[i], s, sizeof(s)));
	if (st->n_next && st->next[st->n_next - 1].index + 1 < st->steps_total)
		fputs("         ...\n", f);
	fprintf(f, "journal  %s\n", st->journal[0] ? st->journal : "(not open yet)");
}

/* The fraction (0..1000) of the current phase's time gone. */
static unsigned phase_permille(const struct drill_status *st)
{
	uint64_t done = 0, total = 0;

	switch (st->state) {
	case STATUS_WAITING:
		total = st->arm_timeout_ms;
		done = st->waiting_left && st->arm_left_ms <= total ? total - st->arm_left_ms : 0;
		break;
	case STATUS_ARM_DELAY:
		total = st->delay_planned_ms;
		done = st->delay_left_ms <= total ? total - st->delay_left_ms : 0;
		break;
	case STATUS_FAULT:
	case STATUS_PAUSE:
		total = st->step.planned_ms;
		done = st->step_elapsed_ms;
		break;
	case STATUS_ENDING:
		return 1000;
	}
	if (!total || done >= total)
		return total ? 1000 : 0;
	return (unsigned)(done * 1000 / total);
}

/* snprintf at buf + *at, keeping *at inside len */
static void add(char *buf, size_t len, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

/* The thresholds that are wanted (need > 0), "flows 1/3, calls 2/3";
 * those not wanted are no progress. */
static void add_needed(const struct drill_status *st, char *buf, size_t len, size_t *at)
{
	const struct {
		const char *name;
		const struct status_count *c;
	} t[] = { { "flows", &st->flows }, { "calls", &st->calls }, { "packets", &st->packets }, { "bytes", &st->bytes } };
	bool first = true;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!t[i].c->need)
			continue;
		add(buf, len, at, "%s%s %" PRIu64 "/%" PRIu64, first ? " " : ", ", t[i].name, t[i].c->seen, t[i].c->need);
		first = false;
	}
}

void status_line(const struct drill_status *st, bool bar, char *buf, size_t len)
{
	char a[24], s[STATUS_TEXT_MAX + 64];
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (st->state == STATUS_ENDING) {
		add(buf, len, &at, "drill %s: %s (exit %d)", st->name, st->outcome, st->exit_code);
		if (st->reason[0])
			add(buf, len, &at, ", %s%s%s", st->reason, st->by[0] ? " by " : "", st->by);
		return;
	}
	if (bar) {
		unsigned fill = phase_permille(st) * 20 / 1000;

		add(buf, len, &at, "[");
		for (unsigned i = 0; i < 20; i++)
			add(buf, len, &at, "%c", i < fill ? '#' : '-');
		add(buf, len, &at, "] ");
	}
	add(buf, len, &at, "%s", status_state_name(st->state));
	switch (st->state) {
	case STATUS_WAITING:
		add(buf, len, &at, ":");
		add_needed(st, buf, len, &at);
		if (st->waiting_left)
			add(buf, len, &at, "; arm_timeout in %s", dur(st->arm_left_ms, a, sizeof(a)));
		break;
	case STATUS_ARM_DELAY:
		add(buf, len, &at, ": first fault in %s", dur(st->delay_left_ms, a, sizeof(a)));
		break;
	case STATUS_FAULT:
	case STATUS_PAUSE:
		/* "fault 1/3 drop 30.0 s: 14.1 s in, hits 47 packets" */
		add(buf, len, &at, " %" PRIu64 "/%" PRIu64 " %s: %s in", st->step.index + 1, st->steps_total,
		    st->state == STATUS_PAUSE ? dur(st->step.planned_ms, s, sizeof(s)) : step_text(&st->step, s, sizeof(s)),
		    dur(st->step_elapsed_ms, a, sizeof(a)));
		if (st->state == STATUS_PAUSE)
			break;
		if (!st->hits_known)
			add(buf, len, &at, ", hits unknown");
		else
			add(buf, len, &at, ", hits %" PRIu64 " packet%s", st->hits_packets, st->hits_packets == 1 ? "" : "s");
		/* a terminal line must fit its width: the bytes only elsewhere */
		if (st->hits_known && !bar)
			add(buf, len, &at, ", %" PRIu64 " byte%s", st->hits_bytes, st->hits_bytes == 1 ? "" : "s");
		break;
	case STATUS_ENDING:
		break;
	}
}

enum status_change status_changed(const struct drill_status *a, const struct drill_status *b)
{
	if (a->state != b->state || a->step.index != b->step.index)
		return STATUS_CHANGE_PHASE;
	if (a->flows.seen != b->flows.seen || a->calls.seen != b->calls.seen || a->packets.seen != b->packets.seen ||
	    a->bytes.seen != b->bytes.seen || a->hits_known != b->hits_known || a->hits_packets != b->hits_packets)
		return STATUS_CHANGE_COUNTS;
	return STATUS_CHANGE_NONE;
}

bool status_watch_due(const struct drill_status *shown, const struct drill_status *st)
{
	enum status_change ch = shown ? status_changed(shown, st) : STATUS_CHANGE_PHASE;

	return ch == STATUS_CHANGE_PHASE ||
	       (ch == STATUS_CHANGE_COUNTS && st->elapsed_ms >= shown->elapsed_ms + STATUS_WATCH_COUNTS_MS);
}
