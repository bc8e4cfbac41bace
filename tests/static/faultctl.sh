#!/usr/bin/env bash
# okx-faultctl(1) on the hand-written journals and event files of
# tests/data/: outputs, located error messages, exit codes (0 pass, 1 gate
# failed, 2 bad input), the --json report parsed back, the --svg timeline
# checked as well-formed XML.
# Exit 0 pass, 1 fail (see tests/run.sh): a missing binary or python3 is a
# failure, never a skip (make build-tests and tests/deps.sh provide them).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${OKX_FAULTCTL:-$TOP/build/san/okx-faultctl}
D=$TOP/tests/data

if [ ! -x "$BIN" ]; then
	echo "FAIL: $BIN is not built (make build-tests)"
	exit 1
fi
command -v python3 >/dev/null || { echo "FAIL: python3 is needed to check JSON and SVG (tests/deps.sh install)"; exit 1; }
tmp=$(mktemp -d /tmp/okx-faultctl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# run NAME WANT_RC ARGS...: output in $tmp/NAME.out and $tmp/NAME.err
run() {
	local name=$1 want=$2 rc
	shift 2
	checks=$((checks + 1))
	(cd "$D" && "$BIN" "$@") >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, want $want (okx-faultctl $*)"
		sed 's/^/    | /' "$tmp/$name.err" | head -5
	fi
}

# has NAME FILE(out|err) TEXT: a fixed string is in the output
has() {
	checks=$((checks + 1))
	grep -qF -- "$3" "$tmp/$1.$2" || { fail "$1: $2 lacks: $3"; sed 's/^/    | /' "$tmp/$1.$2" | head -20; }
}

hasnt() {
	checks=$((checks + 1))
	! grep -qF -- "$3" "$tmp/$1.$2" || fail "$1: $2 should not have: $3"
}

empty() {
	checks=$((checks + 1))
	[ ! -s "$tmp/$1.$2" ] || { fail "$1: $2 should be empty"; sed 's/^/    | /' "$tmp/$1.$2" | head -5; }
}

# --- usage, version ---
run version 0 --version
has version out "okx-faultctl 0.1.0 (git "
run version_short 0 -V
has version_short out "okx-faultctl 0.1.0"
run help 0 --help
has help out "okx-faultctl correlate --journal JOURNAL --events EVENTS"
run no_args 2
has no_args err "usage: okx-faultctl windows JOURNAL"
run unknown_cmd 2 frobnicate
has unknown_cmd err "unknown command 'frobnicate'"
run windows_no_arg 2 windows
run correlate_no_events 2 correlate --journal completed.jsonl
has correlate_no_events err "--journal and --events are required"

# --- windows ---
run win_completed 0 windows completed.jsonl
empty win_completed err
has win_completed out "drill    c2_3_degradation (okx-faultd 0.1.0 1eadc3c0a1b2) on drill-host-1"
has win_completed out "0  drop    -                          2026-11-28T03:41:05.017900Z  2026-11-28T03:42:35.018400Z    90000.500/90000     1234  98765  completed"
has win_completed out "1  reject  with=tcp-reset"
has win_completed out "2  delay   latency=100ms jitter=10ms  2026-11-28T03:43:15.021000Z"
has win_completed out "armed    2026-11-28T03:41:00.017123Z on flow 10.0.0.2 -> 104.18.2.3:443/tcp (3 flows, 42 packets, 5120 bytes seen)"
has win_completed out "outcome  completed (exit 0)"

run win_arm_timeout 0 windows arm_timeout.jsonl
has win_arm_timeout out "(no fault windows)"
has win_arm_timeout out "armed    never"
has win_arm_timeout out "outcome  arm_timeout (exit 3): the drill never armed"

run win_aborted 0 windows aborted.jsonl
has win_aborted out "15482.100/90000"
has win_aborted out "signal"
has win_aborted out "outcome  aborted (exit 4)"

run win_killed 0 windows killed.jsonl
has win_killed err "killed.jsonl:6: last line is truncated (daemon killed while writing?); ignored"
has win_killed err "killed.jsonl:5: fault 1 (reject) has no fault_end: window still open"
has win_killed err "killed.jsonl: no \"end\" event"
has win_killed out "2026-11-28T03:42:45.020000Z (open)"
has win_killed out "window 1 is open: no fault_end (daemon killed?); its end is taken as the journal's last time stamp"
has win_killed out "outcome  unknown: no end event"

# --- bad journals: located message, exit 2, nothing on stdout ---
bad_journal() {
	run "$1" 2 windows "$2"
	has "$1" err "$3"
	empty "$1" out
	run "$1_corr" 2 correlate --journal "$2" --events events_pass.json
	has "$1_corr" err "$3"
	empty "$1_corr" out
}
bad_journal j_empty empty.jsonl "okx-faultctl: empty.jsonl: empty journal (no events)"
bad_journal j_bad_json bad_json.jsonl "okx-faultctl: bad_json.jsonl:3: not JSON: '{\"event\":\"fault_begin\""
bad_journal j_bad_ts bad_ts.jsonl "okx-faultctl: bad_ts.jsonl:2: \"ts\": bad time '2026-11-28 03:41:00': missing time zone"
bad_journal j_bad_order bad_order.jsonl "okx-faultctl: bad_order.jsonl:3: fault_end index 0 has no fault_begin"
bad_journal j_missing no-such.jsonl "okx-faultctl: no-such.jsonl: No such file or directory"

# --- correlate: pass, fail, each container ---
run c_pass 0 correlate --journal completed.jsonl --events events_pass.json
has c_pass out "window 0: error types: timeout 2, connection_reset 1"
empty c_pass err
has c_pass out "events   events_pass.json (6 error events, nested form), grace 5000ms"
has c_pass out "0  drop    2026-11-28T03:41:05.017900Z  2026-11-28T03:42:35.018400Z     1234       3      +5.000s  ok"
has c_pass out "1  reject  2026-11-28T03:42:45.020000Z  2026-11-28T03:43:15.020500Z        0       0            -  no_traffic"
has c_pass out "2  delay   2026-11-28T03:43:15.021000Z  2026-11-28T03:43:45.021500Z      812       1      +5.479s  ok"
has c_pass out "errors outside every window: 2 of 6"
has c_pass out "verdict  PASS: every window that hit traffic recorded errors (2 of 3)"

run c_gap 1 correlate --journal completed.jsonl --events events_gap.jsonl
has c_gap out "(3 error events, lines form)"
has c_gap out "2  delay   2026-11-28T03:43:15.021000Z  2026-11-28T03:43:45.021500Z      812       0            -  telemetry_gap"
has c_gap out "window 2: telemetry gap: the delay hit 812 packets"
has c_gap out "verdict  FAIL: telemetry gap: window 2 hit packets but no error and no slower calls were recorded"
has c_gap out "window 2: telemetry gap: the delay hit 812 packets, no error and no slower calls recorded within the grace (no call records: latency not judged)"

run c_array 0 correlate --journal completed.jsonl --events events_array.json
has c_array out "(3 error events, array form)"
has c_array out "+15.229s  ok"
has c_array out "errors outside every window: 1 of 3"

run c_none 1 correlate --journal completed.jsonl --events events_none.json
has c_none out "verdict  FAIL: telemetry gap: window 0 hit packets but no error was recorded; window 2 hit packets but no error and no slower calls were recorded"
# count-only telemetry: error_count but no timestamped error_events
run c_count_only 1 correlate --journal completed.jsonl --events events_count_only.json
has c_count_only out "errors counted but not timestamped: cannot attribute to windows (error_count 5, no timestamped error events)"
has c_count_only out "verdict  FAIL: errors counted but not timestamped (error_count 5, no error_events): cannot attribute them to windows"
run c_count_zero 1 correlate --journal completed.jsonl --events events_count_zero.json
hasnt c_count_zero out "not timestamped"
has c_count_zero out "verdict  FAIL: telemetry gap"
run c_none_nested 1 correlate --journal completed.jsonl --events events_none_nested.json
has c_none_nested out "(0 error events, nested form)"

# the grace decides whether the late timeout belongs to the drop window
run c_grace0 0 correlate --journal completed.jsonl --events events_pass.json --grace 0s
has c_grace0 out "grace 0ms"
has c_grace0 out "2  delay   2026-11-28T03:43:15.021000Z  2026-11-28T03:43:45.021500Z      812       1      +5.479s  ok"
has c_grace0 out "0  drop    2026-11-28T03:41:05.017900Z  2026-11-28T03:42:35.018400Z     1234       2"
run c_grace2m 0 correlate --journal completed.jsonl --events events_pass.json --grace=2m
has c_grace2m out "errors outside every window: 1 of 6"

run c_arm_timeout 1 correlate --journal arm_timeout.jsonl --events events_pass.json
has c_arm_timeout out "outcome  arm_timeout (exit 3)"
has c_arm_timeout out "verdict  FAIL: no fault window in the journal (outcome arm_timeout): nothing was tested"

run c_aborted 0 correlate --journal aborted.jsonl --events events_pass.json
has c_aborted out "outcome  aborted (exit 4)"
has c_aborted out "verdict  PASS"

run c_killed 1 correlate --journal killed.jsonl --events events_pass.json
has c_killed err "killed.jsonl:6: last line is truncated"
has c_killed out "window 1: open (no fault_end)"
has c_killed out "verdict  FAIL: window 1: hits unknown (no fault_end, or the counter could not be read) and no error recorded"

# a journal written by the real okx-faultd in the netns lab (a pause between
# faults 0 and 2, back-to-back faults 2 and 3) and connector_sim's events
run lab 0 windows lab_drill.jsonl
has lab out "0  drop    -               2026-11-28T04:40:42.683168Z  2026-11-28T04:40:44.683301Z      2000.133/2000        4    240  completed"
has lab out "3  loss    percent=100"
run lab_corr 0 correlate --journal lab_drill.jsonl --events lab_drill_events.json
has lab_corr out "(28 error events, nested form)"
has lab_corr out "note: 24 error events fall in more than one window"
run lab_corr0 0 correlate --journal lab_drill.jsonl --events lab_drill_events.json --grace 0s
has lab_corr0 out "0  drop    2026-11-28T04:40:42.683168Z  2026-11-28T04:40:44.683301Z        4       3      +0.600s  ok"
has lab_corr0 out "2  reject  2026-11-28T04:40:45.683426Z  2026-11-28T04:40:47.683546Z       20      20      +0.001s  ok"
has lab_corr0 out "errors outside every window: 2 of 28"
hasnt lab_corr0 out "note:"

# --- bad event files and options: located message, exit 2 ---
bad_events() {
	run "$1" 2 correlate --journal completed.jsonl --events "$2"
	has "$1" err "$3"
	empty "$1" out
}
bad_events e_empty events_empty.json "okx-faultctl: events_empty.json: empty file, expected JSON error events"
bad_events e_not_json events_not_json.txt "okx-faultctl: events_not_json.txt:1: not JSON at column 5: '2026-11-28T03:41:10Z timeout no answer'"
bad_events e_bad_array events_bad_array.json "okx-faultctl: events_bad_array.json:4: not JSON"
bad_events e_bad_time events_bad_time.json "okx-faultctl: events_bad_time.json: \$.execution_fingerprint.error_events[1]: \"ts\": bad time '28/11/2026 03:42:00'"
bad_events e_no_ts events_no_ts.jsonl "okx-faultctl: events_no_ts.jsonl:2: no time stamp (\"ts\", \"timestamp\" or \"time\")"
bad_events e_missing no-such.json "okx-faultctl: no-such.json: No such file or directory"
run grace_unit 2 correlate --journal completed.jsonl --events events_pass.json --grace 5sec
has grace_unit err "--grace: bad duration '5sec': unknown unit 'sec' (ms, s, m, h)"
run grace_nounit 2 correlate --journal completed.jsonl --events events_pass.json --grace 5
has grace_nounit err "--grace: bad duration '5': missing unit"
run grace_neg 2 correlate --journal completed.jsonl --events events_pass.json --grace -5s
has grace_neg err "--grace: bad duration '-5s'"
run extra_arg 2 correlate --journal completed.jsonl --events events_pass.json extra
has extra_arg err "unexpected argument 'extra'"

# --- --json: parsed back and checked field by field ---
run json_pass 0 correlate --journal completed.jsonl --events events_pass.json --json
checks=$((checks + 1))
python3 - "$tmp/json_pass.out" <<'PY' || fail "json_pass: report content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["version"] == 1, r["version"]
j = r["journal"]
assert j["name"] == "c2_3_degradation" and j["outcome"] == "completed" and j["exit_code"] == 0
assert j["complete"] is True and j["truncated"] is False and j["warnings"] == []
assert j["armed"]["ts"] == "2026-11-28T03:41:00.017123Z" and j["armed"]["trigger"]["dport"] == 443
assert r["events"] == {"path": "events_pass.json", "form": "nested", "count": 6, "declared_count": 6, "count_only": False}, r["events"]
assert r["grace_ms"] == 5000
w = r["windows"]
assert [x["index"] for x in w] == [0, 1, 2]
assert [x["diagnosis"] for x in w] == ["ok", "no_traffic", "ok"]
assert [x["errors"] for x in w] == [3, 0, 1]
assert w[0]["begin"] == "2026-11-28T03:41:05.017900Z" and w[0]["end"] == "2026-11-28T03:42:35.018400Z"
assert w[0]["hits"] == {"packets": 1234, "bytes": 98765}
assert w[0]["first_error_delay_ms"] == 5000 and w[1]["first_error_delay_ms"] is None
assert w[2]["first_error_delay_ms"] == 5479, w[2]["first_error_delay_ms"]
assert w[2]["params"] == "latency=100ms jitter=10ms" and w[2]["action"] == "delay"
assert w[0]["error_events"][1]["type"] == "connection_reset"
assert w[0]["error_types"] == [{"type": "timeout", "count": 2}, {"type": "connection_reset", "count": 1}], w[0]
assert w[1]["error_types"] == []
assert r["errors_outside"] == 2 and r["errors_shared"] == 0
assert r["gate"]["pass"] is True and "every window" in r["gate"]["reason"]
PY
run json_killed 1 correlate --journal killed.jsonl --events events_gap.jsonl --json
checks=$((checks + 1))
python3 - "$tmp/json_killed.out" <<'PY' || fail "json_killed: report content"
import json, sys
r = json.load(open(sys.argv[1]))
j = r["journal"]
assert j["outcome"] is None and j["exit_code"] is None and j["complete"] is False and j["truncated"] is True
assert len(j["warnings"]) == 3
w = r["windows"][1]
assert w["open"] is True and w["hits"] is None and w["actual_ms"] is None and w["diagnosis"] == "unknown"
assert r["gate"]["pass"] is False
PY
run json_arm_timeout 1 correlate --journal arm_timeout.jsonl --events events_none.json --json
checks=$((checks + 1))
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["windows"] == [] and r["journal"]["armed"] is None and not r["gate"]["pass"]' \
	"$tmp/json_arm_timeout.out" || fail "json_arm_timeout: report content"

# --- --svg: written, well-formed, with what people look for ---
svg_check() {
	checks=$((checks + 1))
	python3 - "$1" "$2" <<'PY' || fail "svg $1: not well-formed or incomplete"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
root = doc.documentElement
assert root.tagName == "svg" and root.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
text = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild is not None)
alltext = doc.documentElement.toxml()
for want in sys.argv[2].split("|"):
    assert want in alltext, "missing: " + want
PY
}
run svg_pass 0 correlate --journal completed.jsonl --events events_pass.json --svg "$tmp/pass.svg"
svg_check "$tmp/pass.svg" "c2_3_degradation|PASS|#0 drop|#1 reject|#2 delay|armed 2026-11-28T03:41:00.017Z|error: timeout|error: connection_reset|legend|+30s|ws: connection reset &lt;peer&gt; &amp; closed"
has svg_pass out "verdict  PASS"
run svg_killed 1 correlate --journal killed.jsonl --events events_gap.jsonl --svg "$tmp/killed.svg" --json
svg_check "$tmp/killed.svg" "FAIL|open, hits unknown|unknown"
run svg_arm_timeout 1 correlate --journal arm_timeout.jsonl --events events_none.json --svg "$tmp/arm.svg"
svg_check "$tmp/arm.svg" "FAIL|no fault window"
run svg_unwritable 2 correlate --journal completed.jsonl --events events_pass.json --svg /nonexistent/x.svg
has svg_unwritable err "/nonexistent/x.svg: No such file or directory"

# --- a window that hit 0 packets is no_traffic whatever falls inside
#     (okx-faultctl(1), DIAGNOSIS); its errors are reported as unrelated ---
run unrelated 0 correlate --journal completed.jsonl --events events_unrelated.json
has unrelated out "1  reject  2026-11-28T03:42:45.020000Z  2026-11-28T03:43:15.020500Z        0       2      +4.980s  no_traffic"
has unrelated out "window 1: no traffic: the reject hit 0 packets; 2 errors inside, not caused by this fault: it hit no packets"
has unrelated out "verdict  PASS"
run unrelated_json 0 correlate --journal completed.jsonl --events events_unrelated.json --json
checks=$((checks + 1))
python3 - "$tmp/unrelated_json.out" <<'PY' || fail "unrelated_json: diagnoses or unrelated_errors wrong"
import json, sys
w = json.load(open(sys.argv[1]))["windows"]
got = [(x["diagnosis"], x["unrelated_errors"]) for x in w]
assert got == [("ok", 0), ("no_traffic", 2), ("ok", 0)], got
PY

# --- call records: each window judged by what its fault should cause
#     (okx-faultctl(1), DIAGNOSIS); latency_drill.jsonl: drop (errors),
#     delay latency=300ms (any), loss (any), delay expect=latency ---
run calls_slow 0 correlate --journal latency_drill.jsonl --events calls_slow.jsonl
empty calls_slow err
has calls_slow out "events   calls_slow.jsonl (11 error events, lines form), grace 5000ms"
has calls_slow out "calls    95 call records (95 with a latency, 11 failed), 51 outside every window: p50 6.0 ms, p95 7.0 ms"
has calls_slow out "#  ACTION  BEGIN                        END                          PACKETS  ERRORS  FIRST ERROR  CALLS  P50 MS IN/OUT  DIAGNOSIS"
has calls_slow out "0  drop    2026-11-28T03:40:20.000000Z  2026-11-28T03:40:30.000000Z      100      11      +0.000s     11     1000.0/6.0  ok"
has calls_slow out "1  delay   2026-11-28T03:40:40.000000Z  2026-11-28T03:40:50.000000Z      200       0            -     11      612.0/6.0  ok"
has calls_slow out "window 0: error types: Timeout 11"
has calls_slow out "window 0: 11 calls inside (11 failed), latency p50 1000.0 ms, p95 1000.0 ms vs p50 6.0 ms, p95 7.0 ms outside; the drop expects errors"
has calls_slow out "window 1: 11 calls inside (0 failed), latency p50 612.0 ms, p95 613.0 ms vs p50 6.0 ms, p95 7.0 ms outside: slower (p50 +606.0 ms, at least +150 ms needed: half the injected 300ms)"
has calls_slow out "window 1: ok by latency: the delay slowed the calls, no error recorded"
has calls_slow out "window 2: 11 calls inside (0 failed), latency p50 6.0 ms, p95 1205.0 ms vs p50 6.0 ms, p95 7.0 ms outside: slower (p95 +1198.0 ms, at least +200 ms needed: no injected latency)"
has calls_slow out "errors: the 11 failed call records (the file has no error events of its own)"
has calls_slow out "verdict  PASS: every window that hit traffic recorded what its fault should cause (4 of 4)"
# the same drill, flat latency: the delay and loss windows fail; the drop
# passes on the error_events (the failed calls are not counted twice)
run calls_flat 1 correlate --journal latency_drill.jsonl --events calls_flat.json
has calls_flat out "events   calls_flat.json (11 error events, nested form), grace 5000ms"
has calls_flat out "1  delay   2026-11-28T03:40:40.000000Z  2026-11-28T03:40:50.000000Z      200       0            -     11        6.0/6.0  telemetry_gap"
has calls_flat out "window 1: 11 calls inside (0 failed), latency p50 6.0 ms, p95 7.0 ms vs p50 6.0 ms, p95 7.0 ms outside: not slower (p50 +0.0 ms, at least +150 ms needed: half the injected 300ms)"
has calls_flat out "window 3: telemetry gap: the delay hit 120 packets, no slower calls recorded within the grace"
has calls_flat out "note: 11 failed call records are not counted as errors: the file has error events of its own"
has calls_flat out "verdict  FAIL: telemetry gap: window 3 hit packets but no slower calls were recorded; window 1, 2 hit packets but no error and no slower calls were recorded"
run calls_json 0 correlate --journal latency_drill.jsonl --events calls_slow.jsonl --json
checks=$((checks + 1))
python3 - "$tmp/calls_json.out" <<'PY' || fail "calls_json: report content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["calls"] == {"count": 95, "with_latency": 95, "failed": 11, "errors_from_calls": True, "outside": 51,
                      "outside_latency": {"calls": 51, "p50_ms": 6, "p95_ms": 7}}, r["calls"]
w = r["windows"]
assert [x["expect"] for x in w] == ["errors", "any", "any", "latency"], [x["expect"] for x in w]
assert [x["injected_latency_ms"] for x in w] == [None, 300, None, 300]
assert [x["calls"] for x in w] == [11, 11, 11, 11] and [x["calls_failed"] for x in w] == [11, 0, 0, 0]
assert w[1]["latency"] == {"calls": 11, "p50_ms": 612, "p95_ms": 613}, w[1]["latency"]
assert w[1]["slower_rule"] == {"percentile": "p50", "min_increase_ms": 150}
assert w[2]["slower_rule"] == {"percentile": "p95", "min_increase_ms": 200}
assert [x["evidence"] for x in w] == [{"errors": True, "slower_calls": True}, {"errors": False, "slower_calls": True},
                                      {"errors": False, "slower_calls": True}, {"errors": False, "slower_calls": True}]
assert [x["diagnosis"] for x in w] == ["ok"] * 4
assert w[0]["error_types"] == [{"type": "Timeout", "count": 11}]
assert r["gate"]["pass"] is True
PY
run calls_json_none 1 correlate --journal completed.jsonl --events events_gap.jsonl --json
checks=$((checks + 1))
python3 - "$tmp/calls_json_none.out" <<'PY' || fail "calls_json_none: report content"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["calls"] == {"count": 0, "with_latency": 0, "failed": 0, "errors_from_calls": False, "outside": 0,
                      "outside_latency": None}, r["calls"]
w = r["windows"][2]
assert w["expect"] == "any" and w["latency"] is None and w["calls"] == 0 and w["diagnosis"] == "telemetry_gap"
PY
run calls_svg 1 correlate --journal latency_drill.jsonl --events calls_flat.json --svg "$tmp/calls.svg"
svg_check "$tmp/calls.svg" "latency_drill|FAIL|id=\"latency\"|1000 ms|fault 1: p50 6.0 ms, p95 7.0 ms inside (11 calls)|calls outside every window: p50 6.0 ms|failed call"
checks=$((checks + 1))
python3 - "$tmp/calls.svg" <<'PY' || fail "calls_svg: a dot per call"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
g = [x for x in doc.getElementsByTagName("g") if x.getAttribute("id") == "latency"][0]
dots = g.getElementsByTagName("circle")
# 95 calls, one dot per pixel and kind: none of these share one
assert len(dots) == 95, len(dots)
assert sum(d.getAttribute("fill") == "#c62828" for d in dots) == 11
PY
run svg_no_calls 0 correlate --journal completed.jsonl --events events_pass.json --svg "$tmp/nocalls.svg"
checks=$((checks + 1))
! grep -q 'id="latency"' "$tmp/nocalls.svg" || fail "svg_no_calls: a latency panel without calls"
bad_events e_bad_latency calls_bad.jsonl "okx-faultctl: calls_bad.jsonl:2: \"latency_ms\" is not a number of milliseconds from 0 to 86400000 (a day)"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
