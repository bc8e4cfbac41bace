/* The control socket's protocol and server (include/control.h) and the
 * status model it sends (include/status.h): requests parsed, statuses
 * encoded and read back, and a real server in a temporary directory driven
 * by hand (no drill, no kernel state). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "status.h"

/* ---- requests ------------------------------------------------------------ */

struct req_case {
	char line[80];
	size_t len; /* 0: strlen(line) */
	bool ok;
	enum control_req req;
	char err[80]; /* a part of the message */
};

ParameterizedTestParameters(control, request)
{
	static struct req_case c[] = {
		{ "status", 0, true, CONTROL_REQ_STATUS, "" },
		{ "watch", 0, true, CONTROL_REQ_WATCH, "" },
		{ "stop", 0, true, CONTROL_REQ_STOP, "" },
		{ "", 0, false, 0, "unknown request '' (status, watch or stop)" },
		{ "STATUS", 0, false, 0, "unknown request 'STATUS'" },
		{ "status ", 0, false, 0, "unknown request 'status '" },
		{ " stop", 0, false, 0, "unknown request ' stop'" },
		{ "stop\r", 0, false, 0, "unknown request 'stop?'" },
		{ "sta", 0, false, 0, "unknown request 'sta'" },
		{ "statusx", 0, false, 0, "unknown request 'statusx'" },
		{ "stop\0x", 6, false, 0, "unknown request 'stop?x'" },
	};

	return cr_make_param_array(struct req_case, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct req_case *c, control, request)
{
	enum control_req req = 99;
	char err[160] = "";
	size_t len = c->len ? c->len : strlen(c->line);

	cr_assert_eq(control_parse_request(c->line, len, &req, err, sizeof(err)), c->ok, "'%s'", c->line);
	if (c->ok)
		cr_expect_eq(req, c->req);
	else
		cr_expect(strstr(err, c->err), "'%s': %s", c->line, err);
}

Test(control, peer)
{
	cr_expect(control_peer_allowed(0, 0));
	cr_expect(control_peer_allowed(0, 1000));
	cr_expect(control_peer_allowed(1000, 1000));
	cr_expect_not(control_peer_allowed(1000, 0));
	cr_expect_not(control_peer_allowed(65534, 1000));
}

Test(control, names)
{
	char long_name[80];

	cr_expect(status_name_valid("c2_3_degradation"));
	cr_expect(status_name_valid("a.b-C_9"));
	cr_expect_not(status_name_valid(""));
	cr_expect_not(status_name_valid("../x"));
	cr_expect_not(status_name_valid("a b"));
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	cr_expect_not(status_name_valid(long_name));
	long_name[64] = '\0';
	cr_expect(status_name_valid(long_name));
}

Test(control, dir)
{
	cr_expect_str_eq(control_dir("/x"), "/x");
	unsetenv(CONTROL_DIR_ENV);
	cr_expect_str_eq(control_dir(NULL), CONTROL_DIR);
	setenv(CONTROL_DIR_ENV, "/tmp/y", 1);
	cr_expect_str_eq(control_dir(NULL), "/tmp/y");
	cr_expect_str_eq(control_dir("/x"), "/x");
	unsetenv(CONTROL_DIR_ENV);
}

/* ---- the status model ----------------------------------------------------- */

static void step(struct status_step *s, uint64_t index, const char *action, const char *params, uint64_t ms)
{
	s->index = index;
	snprintf(s->action, sizeof(s->action), "%s", action);
	snprintf(s->params, sizeof(s->params), "%s", params);
	s->planned_ms = ms;
}

/* A status in state `state`, every member of that state set. */
static void sample(struct drill_status *st, enum status_state state)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "c2_3");
	st->pid = 4242;
	st->state = state;
	snprintf(st->journal, sizeof(st->journal), "/var/lib/okx-faultd/c2_3-20261128T034000Z.jsonl");
	st->started_ns = 1795837200123456000LL; /* 2026-11-28T03:40:00.123456Z */
	st->elapsed_ms = 95000;
	st->flows = (struct status_count){ 3, 3 };
	st->calls = (struct status_count){ 45, 0 };
	st->packets = (struct status_count){ 9007199254740993ull, 10 }; /* above 2^53 */
	st->bytes = (struct status_count){ 5120, 0 };
	st->arm_window_ms = 30000;
	st->arm_timeout_ms = 600000;
	st->steps_total = 6;
	if (state == STATUS_WAITING) {
		st->waiting_left = true;
		st->arm_left_ms = 505000;
	} else {
		st->armed = true;
		st->armed_ns = 1795837260017123000LL;
		st->has_trigger = true;
		snprintf(st->trigger_src, sizeof(st->trigger_src), "198.18.0.1");
		snprintf(st->trigger_dst, sizeof(st->trigger_dst), "2001:2::2");
		snprintf(st->trigger_proto, sizeof(st->trigger_proto), "tcp");
		st->trigger_dport = 8443;
	}
	if (state == STATUS_ARM_DELAY) {
		st->delay_planned_ms = 30000;
		st->delay_left_ms = 12345;
	}
	if (state == STATUS_FAULT) {
		step(&st->step, 2, "loss", "percent=30", 30000);
		st->step_elapsed_ms = 12345;
		st->hits_known = true;
		st->hits_packets = 1234;
		st->hits_bytes = 98765;
	}
	if (state == STATUS_PAUSE) {
		step(&st->step, 1, "pause", "", 60000);
		st->step_elapsed_ms = 100;
	}
	if (state == STATUS_ENDING) {
		snprintf(st->outcome, sizeof(st->outcome), "aborted");
		st->exit_code = 4;
		snprintf(st->reason, sizeof(st->reason), "stopped");
		snprintf(st->by, sizeof(st->by), "control socket uid=0 pid=77");
	} else {
		step(&st->next[0], 3, "reject", "with=tcp-reset", 30000);
		step(&st->next[1], 4, "pause", "", 1000);
		st->n_next = 2;
	}
}

static void same(const struct drill_status *a, const struct drill_status *b)
{
	cr_expect_str_eq(a->name, b->name);
	cr_expect_eq(a->pid, b->pid);
	cr_expect_eq(a->state, b->state);
	cr_expect_str_eq(a->journal, b->journal);
	cr_expect_eq(a->started_ns, b->started_ns);
	cr_expect_eq(a->elapsed_ms, b->elapsed_ms);
	cr_expect_eq(a->flows.seen, b->flows.seen);
	cr_expect_eq(a->calls.seen, b->calls.seen);
	cr_expect_eq(a->bytes.need, b->bytes.need);
	cr_expect_eq(a->arm_window_ms, b->arm_window_ms);
	cr_expect_eq(a->arm_timeout_ms, b->arm_timeout_ms);
	cr_expect_eq(a->waiting_left, b->waiting_left);
	cr_expect_eq(a->arm_left_ms, b->arm_left_ms);
	cr_expect_eq(a->armed, b->armed);
	cr_expect_eq(a->armed_ns, b->armed_ns);
	cr_expect_eq(a->has_trigger, b->has_trigger);
	cr_expect_str_eq(a->trigger_dst, b->trigger_dst);
	cr_expect_eq(a->trigger_dport, b->trigger_dport);
	cr_expect_eq(a->delay_left_ms, b->delay_left_ms);
	cr_expect_eq(a->step.index, b->step.index);
	cr_expect_str_eq(a->step.action, b->step.action);
	cr_expect_str_eq(a->step.params, b->step.params);
	cr_expect_eq(a->step.planned_ms, b->step.planned_ms);
	cr_expect_eq(a->step_elapsed_ms, b->step_elapsed_ms);
	cr_expect_eq(a->hits_known, b->hits_known);
	cr_expect_eq(a->hits_packets, b->hits_packets);
	cr_expect_eq(a->steps_total, b->steps_total);
	cr_expect_eq(a->n_next, b->n_next);
	for (size_t i = 0; i < a->n_next && i < b->n_next; i++) {
		cr_expect_eq(a->next[i].index, b->next[i].index);
		cr_expect_str_eq(a->next[i].params, b->next[i].params);
	}
	cr_expect_str_eq(a->outcome, b->outcome);
	cr_expect_eq(a->exit_code, b->exit_code);
	cr_expect_str_eq(a->reason, b->reason);
	cr_expect_str_eq(a->by, b->by);
}

ParameterizedTestParameters(status, roundtrip)
{
	static enum status_state s[] = { STATUS_WAITING, STATUS_ARM_DELAY, STATUS_FAULT, STATUS_PAUSE,
					 STATUS_ENDING };

	return cr_make_param_array(enum status_state, s, sizeof(s) / sizeof(s[0]));
}

ParameterizedTest(enum status_state *state, status, roundtrip)
{
	struct drill_status st;
	struct status_reply r;
	char buf[STATUS_LINE_MAX], err[200];
	int n;

	sample(&st, *state);
	n = status_encode(&st, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_expect_eq(buf[n - 1], '\n');
	cr_expect_eq(strchr(buf, '\n'), buf + n - 1, "one line");
	cr_assert(status_decode(buf, (size_t)n, &r, err, sizeof(err)), "%s: %s", err, buf);
	cr_assert_eq(r.kind, STATUS_REPLY_STATUS);
	/* a count above 2^53 is written exactly */
	cr_expect(strstr(buf, "\"packets\":{\"seen\":9007199254740993,\"need\":10}"), "%s", buf);
	same(&st, &r.st);
}

Test(status, schema_members)
{
	struct drill_status st;
	char buf[STATUS_LINE_MAX];

	sample(&st, STATUS_FAULT);
	cr_assert_gt(status_encode(&st, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "{\"version\":1,\"name\":\"c2_3\",\"pid\":4242,\"state\":\"fault\","), "%s", buf);
	cr_expect(strstr(buf, "\"started\":\"2026-11-28T03:40:00.123456Z\""), "%s", buf);
	cr_expect(strstr(buf, "\"armed\":\"2026-11-28T03:41:00.017123Z\",\"trigger\":{\"src\":\"198.18.0.1\","
			      "\"dst\":\"2001:2::2\",\"dport\":8443,\"proto\":\"tcp\"}"), "%s", buf);
	cr_expect(strstr(buf, "\"arm_delay\":null,\"fault\":{\"index\":2,\"action\":\"loss\",\"params\":\"percent=30\","
			      "\"planned_ms\":30000,\"elapsed_ms\":12345,\"hits\":{\"packets\":1234,\"bytes\":98765}},"
			      "\"pause\":null,\"steps\":{\"total\":6,\"done\":2}"), "%s", buf);
	cr_expect(strstr(buf, "\"outcome\":null,\"exit_code\":null}"), "%s", buf);
	st.hits_known = false;
	cr_assert_gt(status_encode(&st, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "\"hits\":null"), "%s", buf);
	sample(&st, STATUS_ENDING);
	cr_assert_gt(status_encode(&st, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "\"next\":[],\"outcome\":\"aborted\",\"exit_code\":4,\"reason\":\"stopped\","
			      "\"by\":\"control socket uid=0 pid=77\"}"), "%s", buf);
}

Test(status, too_small)
{
	struct drill_status st;
	char buf[64];

	sample(&st, STATUS_FAULT);
	cr_expect_eq(status_encode(&st, buf, sizeof(buf)), -ENOSPC);
}

Test(status, other_replies)
{
	struct status_reply r;
	char buf[512], err[200];
	int n;

	n = status_encode_error("permission denied", buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_expect_str_eq(buf, "{\"version\":1,\"error\":\"permission denied\"}\n");
	cr_assert(status_decode(buf, (size_t)n, &r, err, sizeof(err)), "%s", err);
	cr_expect_eq(r.kind, STATUS_REPLY_ERROR);
	cr_expect_str_eq(r.text, "permission denied");
	n = status_encode_stopping("control socket uid=0 pid=5", buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_expect_str_eq(buf, "{\"version\":1,\"stopping\":true,\"by\":\"control socket uid=0 pid=5\"}\n");
	cr_assert(status_decode(buf, (size_t)n, &r, err, sizeof(err)), "%s", err);
	cr_expect_eq(r.kind, STATUS_REPLY_STOPPING);
	cr_expect_str_eq(r.text, "control socket uid=0 pid=5");
}

struct bad_case {
	char from[48], to[80]; /* replaced in a valid fault status; "" from: the whole line is `to` */
	char err[80];
};

ParameterizedTestParameters(status, bad)
{
	static struct bad_case c[] = {
		{ "", "not json", "reply is not a JSON object: 'not json'" },
		{ "", "", "reply is not a JSON object: ''" },
		{ "", "{\x01", "reply is not a JSON object: '{?'" },
		{ "", "[1]", "reply is not a JSON object" },
		{ "\"version\":1", "\"version\":2", "reply version 2; this okx-faultctl reads version 1" },
		{ "\"version\":1,", "", "\"version\" missing" },
		{ "\"state\":\"fault\"", "\"state\":\"armed\"", "unknown state 'armed'" },
		{ "\"state\":\"fault\"", "\"state\":\"pause\"", "state pause with the wrong one of" },
		{ "\"elapsed_ms\":95000", "\"elapsed_ms\":-1", "\"elapsed_ms\": -1 is not a count" },
		{ "\"elapsed_ms\":95000", "\"elapsed_ms\":1.5", "\"elapsed_ms\": 1.5 is not a count" },
		{ "\"elapsed_ms\":95000", "\"elapsed_ms\":\"95000\"", "\"elapsed_ms\" has the wrong type" },
		{ "\"started\":\"2026-11-28T03:40:00.123456Z\"", "\"started\":\"yesterday\"", "\"started\": " },
		{ "\"outcome\":null", "\"outcome\":\"completed\"", "\"outcome\" and \"exit_code\" belong to state ending" },
		{ "\"next\":[", "\"next\":[1,", "\"next\" holds something other than objects" },
		{ "\"hits\":{\"packets\":1234,", "\"hits\":{", "\"packets\" missing" },
	};

	return cr_make_param_array(struct bad_case, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct bad_case *c, status, bad)
{
	struct drill_status st;
	struct status_reply r;
	char buf[STATUS_LINE_MAX], line[STATUS_LINE_MAX + 100], err[200] = "";
	char *at;

	sample(&st, STATUS_FAULT);
	cr_assert_gt(status_encode(&st, buf, sizeof(buf)), 0);
	if (!c->from[0]) {
		snprintf(line, sizeof(line), "%s", c->to);
	} else {
		at = strstr(buf, c->from);
		cr_assert_not_null(at, "%s not in %s", c->from, buf);
		snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - buf), buf, c->to, at + strlen(c->from));
	}
	cr_expect_not(status_decode(line, strlen(line), &r, err, sizeof(err)), "%s", line);
	cr_expect(strstr(err, c->err), "want '%s', got '%s'", c->err, err);
}

Test(status, text)
{
	struct drill_status st;
	char *out = NULL, line[512];
	size_t len = 0;
	FILE *f;

	sample(&st, STATUS_FAULT);
	f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	status_print(&st, f);
	fclose(f);
	cr_expect_str_eq(out,
			 "drill    c2_3 (pid 4242), started 2026-11-28T03:40:00Z (1m35s ago)\n"
			 "state    fault\n"
			 "arming   armed 2026-11-28T03:41:00.017123Z on flow 198.18.0.1 -> 2001:2::2:8443/tcp "
			 "(flows 3/3, calls 45/0, packets 9007199254740993/10, bytes 5120/0)\n"
			 "fault    step 3 of 6: loss percent=30 30.0 s, 12.3 s elapsed, 17.6 s left\n"
			 "hits     1234 packets, 98765 bytes so far\n"
			 "next     step 4 of 6: reject with=tcp-reset 30.0 s\n"
			 "         step 5 of 6: pause 1.0 s\n"
			 "         ...\n"
			 "journal  /var/lib/okx-faultd/c2_3-20261128T034000Z.jsonl\n");
	free(out);
	status_line(&st, true, line, sizeof(line));
	cr_expect_str_eq(line, "[########------------] fault 3/6 loss percent=30 30.0 s: 12.3 s in, hits 1234 packets");
	status_line(&st, false, line, sizeof(line));
	cr_expect_str_eq(line, "fault 3/6 loss percent=30 30.0 s: 12.3 s in, hits 1234 packets, 98765 bytes");
	st.hits_known = false;
	status_line(&st, false, line, sizeof(line));
	cr_expect_str_eq(line, "fault 3/6 loss percent=30 30.0 s: 12.3 s in, hits unknown");
	sample(&st, STATUS_PAUSE);
	status_line(&st, true, line, sizeof(line));
	cr_expect_str_eq(line, "[--------------------] pause 2/6 1m00s: 100 ms in");
	sample(&st, STATUS_ARM_DELAY);
	status_line(&st, true, line, sizeof(line));
	cr_expect_str_eq(line, "[###########---------] arm_delay: first fault in 12.3 s");
	/* only the thresholds wanted */
	sample(&st, STATUS_WAITING);
	status_line(&st, true, line, sizeof(line));
	cr_expect_str_eq(line, "[###-----------------] waiting: flows 3/3, packets 9007199254740993/10; "
			       "arm_timeout in 8m25s");
	sample(&st, STATUS_ENDING);
	status_line(&st, true, line, sizeof(line));
	cr_expect_str_eq(line, "drill c2_3: aborted (exit 4), stopped by control socket uid=0 pid=77");
	/* truncated, never overrun */
	status_line(&st, true, line, 10);
	cr_expect_str_eq(line, "drill c2_");
}

Test(status, changed)
{
	struct drill_status a, b;

	sample(&a, STATUS_FAULT);
	b = a;
	b.step_elapsed_ms += 250;
	b.elapsed_ms += 250;
	cr_expect_eq(status_changed(&a, &b), STATUS_CHANGE_NONE, "time alone is no change");
	b.hits_packets++;
	cr_expect_eq(status_changed(&a, &b), STATUS_CHANGE_COUNTS);
	b = a;
	b.state = STATUS_PAUSE;
	cr_expect_eq(status_changed(&a, &b), STATUS_CHANGE_PHASE);
	b = a;
	b.step.index++;
	cr_expect_eq(status_changed(&a, &b), STATUS_CHANGE_PHASE);
	b = a;
	b.calls.seen++;
	cr_expect_eq(status_changed(&a, &b), STATUS_CHANGE_COUNTS);
}

Test(status, watch_due)
{
	struct drill_status a, b;

	sample(&a, STATUS_FAULT);
	cr_expect(status_watch_due(NULL, &a), "the first status");
	b = a;
	b.elapsed_ms += 250;
	cr_expect_not(status_watch_due(&a, &b), "no change");
	b.hits_packets++;
	cr_expect_not(status_watch_due(&a, &b), "new hits 250 ms after the last line");
	b.elapsed_ms = a.elapsed_ms + STATUS_WATCH_COUNTS_MS;
	cr_expect(status_watch_due(&a, &b), "new hits 5 s after the last line");
	b = a;
	b.elapsed_ms += 10;
	b.state = STATUS_PAUSE;
	cr_expect(status_watch_due(&a, &b), "a new phase at once");
}

/* ---- the server, for real, in a temporary directory -------------------------- */

static char tmp[64], dir[96];

static void setup(void)
{
	strcpy(tmp, "/tmp/okxc.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/run", tmp);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 20);

/* A drill that changes state on every call when `flip` is set. */
struct fake {
	int calls, stops;
	bool flip;
	enum status_state state;
	char by[64];
};

static void fake_status(void *data, struct drill_status *st, bool hits)
{
	struct fake *f = data;

	(void)hits;
	f->calls++;
	sample(st, f->flip ? (f->calls % 2 ? STATUS_FAULT : STATUS_PAUSE) : f->state);
}

static void fake_stop(void *data, const char *by)
{
	struct fake *f = data;

	f->stops++;
	f->state = STATUS_ENDING;
	snprintf(f->by, sizeof(f->by), "%s", by);
}

static const struct control_ops fake_ops = { fake_status, fake_stop };

/* control_open() and control_listen(), both asserted */
static struct control *serve(struct fake *f)
{
	struct control *c;

	cr_assert_eq(control_open(&c, dir, "t", &fake_ops, f), 0);
	cr_assert_eq(control_listen(c), 0);
	return c;
}

static void pump(struct control *c)
{
	for (int i = 0; i < 4; i++)
		cr_assert_eq(control_handle(c), 0);
}

/* Connect and send req (NULL: nothing). */
static int client(const char *req)
{
	int fd = control_connect(dir, "t");

	cr_assert_geq(fd, 0, "connect: %s", strerror(-fd));
	if (req)
		cr_assert_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	return fd;
}

/* One reply line (without its newline) read with a timeout; "" at EOF. */
static void read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		cr_assert_eq(poll(&p, 1, 2000), 1, "no reply");
		r = recv(fd, buf + n, 1, 0);
		cr_assert_geq(r, 0);
		if (r == 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
}

static bool at_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	return poll(&p, 1, 2000) == 1 && recv(fd, &b, 1, 0) == 0;
}

Test(server, status_and_errors)
{
	struct fake f = { .state = STATUS_FAULT };
	struct control *c;
	struct status_reply r;
	struct stat st;
	char line[STATUS_LINE_MAX], err[200], path[160];
	int fd;

	c = serve(&f);
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	cr_expect_str_eq(control_path(c), path);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 07777, CONTROL_DIR_MODE);
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, CONTROL_SOCK_MODE);

	fd = client("status\n");
	pump(c);
	read_line(fd, line, sizeof(line));
	cr_assert(status_decode(line, strlen(line), &r, err, sizeof(err)), "%s: %s", err, line);
	cr_expect_eq(r.kind, STATUS_REPLY_STATUS);
	cr_expect_eq(r.st.state, STATUS_FAULT);
	cr_expect(at_eof(fd), "closed after a status");
	close(fd);

	fd = client("bogus\n");
	pump(c);
	read_line(fd, line, sizeof(line));
	cr_expect_str_eq(line, "{\"version\":1,\"error\":\"unknown request 'bogus' (status, watch or stop)\"}");
	cr_expect(at_eof(fd));
	close(fd);

	fd = client("statusstatusstatusstatusstatusstatusstatusstatusstatusstatusstatus\n");
	pump(c);
	read_line(fd, line, sizeof(line));
	cr_expect_str_eq(line, "{\"version\":1,\"error\":\"request longer than 63 bytes\"}");
	close(fd);

	/* a client gone before its request costs nothing */
	fd = client("sta");
	close(fd);
	pump(c);
	cr_expect_eq(f.stops, 0);
	control_close(c);
	cr_expect_neq(lstat(path, &st), 0, "the socket is removed");
}

Test(server, stop_then_end)
{
	struct fake f = { .state = STATUS_PAUSE };
	struct control *c;
	char line[STATUS_LINE_MAX], want[128], path[160];
	struct stat st;
	int fd;

	c = serve(&f);
	fd = client("stop\n");
	pump(c);
	read_line(fd, line, sizeof(line));
	snprintf(want, sizeof(want), "{\"version\":1,\"stopping\":true,\"by\":\"control socket uid=%u pid=%d\"}",
		 (unsigned)geteuid(), (int)getpid());
	cr_expect_str_eq(line, want);
	cr_expect_eq(f.stops, 1);
	cr_expect(strstr(want, f.by));
	/* the stopper is sent the end, once control_end() says it */
	control_changed(c);
	control_end(c);
	read_line(fd, line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"ending\""), "%s", line);
	cr_expect(strstr(line, "\"outcome\":\"aborted\",\"exit_code\":4"), "%s", line);
	cr_expect(at_eof(fd));
	close(fd);
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	cr_expect_neq(lstat(path, &st), 0, "removed at the end");
	control_close(c);
}

Test(server, watchers_follow_changes)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c;
	char line[STATUS_LINE_MAX];
	int fd;

	c = serve(&f);
	fd = client("watch\n");
	pump(c);
	read_line(fd, line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"waiting\""), "%s", line);
	control_changed(c); /* no change: nothing sent */
	f.state = STATUS_ARM_DELAY;
	control_changed(c);
	read_line(fd, line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"arm_delay\""), "%s", line);
	/* a status client meanwhile does not hide the next change from the watcher */
	close(client("status\n"));
	f.state = STATUS_PAUSE;
	pump(c);
	control_changed(c);
	read_line(fd, line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"pause\""), "%s", line);
	close(fd);
	control_close(c);
}

/* A watcher that never reads is dropped once its replies pile up; the
 * server never blocks on it. */
Test(server, slow_watcher_dropped)
{
	struct fake f = { .flip = true };
	struct control *c;
	size_t total = 0;
	char buf[65536];
	int fd, pushes;
	ssize_t n;

	c = serve(&f);
	fd = client("watch\n");
	pump(c);
	for (pushes = 0; pushes < 2000; pushes++)
		control_changed(c); /* every call a change: a push each */
	/* read what it was sent: then the end of the stream */
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
	cr_expect_eq(n, 0, "dropped: end of stream");
	cr_expect_lt(total, (size_t)2000 * 1000, "dropped long before every push was sent (%zu bytes read)", total);
	cr_expect_gt(total, (size_t)CONTROL_OUT_MAX / 2);
	close(fd);
	control_close(c);
}

static char logged[2048];

static void capture(enum log_level lvl, const char *line, void *data)
{
	size_t n = strlen(logged);

	(void)lvl;
	(void)data;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static int count_lines(const char *log, const char *what)
{
	int n = 0;

	for (const char *p = log; (p = strstr(p, what)); p++)
		n++;
	return n;
}

Test(server, too_many_clients)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c;
	char line[STATUS_LINE_MAX];
	int fds[CONTROL_MAX_CLIENTS + 3];

	c = serve(&f);
	logged[0] = '\0';
	log_set_capture(capture, NULL);
	for (int i = 0; i < CONTROL_MAX_CLIENTS + 3; i++) {
		fds[i] = client(NULL);
		pump(c);
	}
	log_set_capture(NULL, NULL);
	read_line(fds[CONTROL_MAX_CLIENTS], line, sizeof(line));
	cr_expect_str_eq(line, "{\"version\":1,\"error\":\"too many connections\"}");
	read_line(fds[CONTROL_MAX_CLIENTS + 2], line, sizeof(line));
	cr_expect_str_eq(line, "{\"version\":1,\"error\":\"too many connections\"}");
	/* three refusals within a second: one line in the log */
	cr_expect_eq(count_lines(logged, "refused a connection"), 1, "%s", logged);
	/* the others still get answers */
	cr_assert_eq(send(fds[0], "status\n", 7, 0), 7);
	pump(c);
	read_line(fds[0], line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"waiting\""), "%s", line);
	for (int i = 0; i < CONTROL_MAX_CLIENTS + 3; i++)
		close(fds[i]);
	control_close(c);
}

/* A directory whose path does not fit sun_path (108 bytes) still works:
 * the socket is reached through /proc/self/fd. */
Test(server, long_dir)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c;
	char line[STATUS_LINE_MAX], longdir[192];
	int fd;

	snprintf(longdir, sizeof(longdir), "%s/%s/%s", tmp, "a123456789012345678901234567890123456789",
		 "b123456789012345678901234567890123456789012345678901234567890");
	cr_assert_gt(strlen(longdir) + strlen("/t.sock"), 108);
	cr_assert_eq(control_open(&c, longdir, "t", &fake_ops, &f), 0);
	cr_assert_eq(control_listen(c), 0);
	fd = control_connect(longdir, "t");
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(send(fd, "status\n", 7, 0), 7);
	pump(c);
	read_line(fd, line, sizeof(line));
	cr_expect(strstr(line, "\"state\":\"waiting\""), "%s", line);
	close(fd);
	control_close(c);
}

/* An unprivileged peer is refused by the daemon itself when the socket's
 * mode lets it connect (run as root only: it needs another uid). */
Test(server, peer_refused)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c;
	char path[160];
	pid_t pid, done = 0;
	int st;

	if (geteuid() != 0) {
		cr_expect_not(control_peer_allowed(65534, geteuid()));
		return;
	}
	c = serve(&f);
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	cr_assert_eq(chmod(tmp, 0755), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(chmod(path, 0666), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char line[256] = "";
		size_t n = 0;
		int fd;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		fd = control_connect(dir, "t");
		if (fd < 0 || send(fd, "stop\n", 5, 0) != 5)
			_exit(11);
		while (n + 1 < sizeof(line) && recv(fd, line + n, 1, 0) == 1 && line[n] != '\n')
			n++;
		line[n] = '\0';
		_exit(strcmp(line, "{\"version\":1,\"error\":\"permission denied\"}") ? 12 : 0);
	}
	for (int i = 0; i < 200 && (done = waitpid(pid, &st, WNOHANG)) == 0; i++) {
		pump(c);
		usleep(10000);
	}
	cr_assert_eq(done, pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", WEXITSTATUS(st));
	cr_expect_eq(f.stops, 0, "nothing changed");
	control_close(c);
}

/* Make a socket at dir/t.sock that nobody listens on (a killed drill's). */
static void stale(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_eq(mkdir(dir, 0750), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/t.sock", dir);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

Test(server, stale_replaced_live_refused)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c, *c2;
	int fd;

	stale();
	cr_expect_eq(control_connect(dir, "t"), -ECONNREFUSED);
	log_set_capture(capture, NULL);
	c = serve(&f);
	cr_expect(strstr(logged, "removed the stale socket of a drill that is gone"), "%s", logged);
	/* a socket of ours is fine until it is proven live */
	cr_assert_eq(control_open(&c2, dir, "t", &fake_ops, &f), 0);
	cr_expect_eq(control_listen(c2), -EADDRINUSE);
	cr_expect(strstr(logged, "another okx-faultd runs drill t (its control socket "), "%s", logged);
	log_set_capture(NULL, NULL);
	control_close(c2);
	fd = control_connect(dir, "t");
	cr_expect_geq(fd, 0, "the live socket is left alone");
	close(fd);
	control_close(c);
	cr_expect_eq(control_connect(dir, "t"), -ENOENT);
}

Test(server, refused_dirs_and_paths)
{
	struct fake f = { .state = STATUS_WAITING };
	struct control *c;
	char path[160], link[160];
	int fd;

	cr_expect_eq(control_connect(dir, "../x"), -EINVAL);
	cr_assert_eq(mkdir(dir, 0777), 0);
	cr_assert_eq(chmod(dir, 0777), 0);
	cr_expect_eq(control_open(&c, dir, "t", &fake_ops, &f), -EPERM);
	cr_assert_eq(chmod(dir, 0750), 0);
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_expect_eq(control_open(&c, dir, "t", &fake_ops, &f), -EEXIST);
	cr_expect_eq(control_connect(dir, "t"), -ENOTSOCK);
	cr_assert_eq(unlink(path), 0);
	snprintf(link, sizeof(link), "%s/link", tmp);
	cr_assert_eq(symlink(dir, link), 0);
	cr_expect_eq(control_open(&c, link, "t", &fake_ops, &f), -ELOOP);
	cr_expect_eq(control_connect(dir, "t"), -ENOENT);
}
