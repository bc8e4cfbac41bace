#!/usr/bin/env bash
# okx-faultctl fleet on the journals and events of tests/data/: usage
# errors (exit 2, with the reason), every host passing (exit 0), hosts
# failing for each reason (exit 1, each named: a gap, no window, absent with
# the caller's reason, unreadable files, no events), the --json report read
# back, the --svg timeline (one lane per host) parsed as XML, and an --svg
# that names an input refused.
set -u
. "$TOP/tests/lib/netns.sh"
BIN=${OKX_FAULTCTL:-$TOP/build/san/okx-faultctl}
[ -x "$BIN" ] || fail "$BIN is not built (make build-tests)"
need_tool python3
D=$TOP/tests/data
d=$(mktemp -d /tmp/okxt-fleet-cli.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$D" || fail "no tests/data"

# run WANT_RC ARGS...: stdout in $d/out, stderr in $d/err
run() {
	local want=$1 rc
	shift
	"$BIN" fleet "$@" >"$d/out" 2>"$d/err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$d/out" "$d/err"; fail "fleet $*: exit $rc, want $want"; }
}
has() { grep -qF -- "$2" "$d/$1" || { sed 's/^/    | /' "$d/$1"; fail "$1 lacks: $2"; }; }

"$BIN" --help | grep -q '^       okx-faultctl fleet \[--grace DUR\] \[--json\] \[--svg FILE\]' || fail "--help lacks fleet"
run 0 --help
has out "--host NAME (--journal JOURNAL [--events EVENTS | --no-events REASON]"

# usage errors: exit 2, nothing judged
run 2
has err "fleet: no host (--host NAME)"
run 2 --journal completed.jsonl
has err "fleet: --journal completed.jsonl before any --host"
run 2 --host a --journal completed.jsonl --host a --journal completed.jsonl
has err "fleet: --host 'a': given twice"
run 2 --host ''
has err "fleet: --host '': a name of 1 to 255 printable characters is needed"
run 2 --host a --journal completed.jsonl --journal killed.jsonl
has err "fleet: host a: --journal given twice"
run 2 --host a --events events_pass.json
has err "fleet: host a: neither --journal nor --absent given"
run 2 --host a --absent down --journal completed.jsonl
has err "fleet: host a: --journal and --absent both given"
run 2 --host a --journal completed.jsonl --events events_pass.json --no-events lost
has err "fleet: host a: --events and --no-events both given"
run 2 --host a --journal completed.jsonl stray
has err "fleet: unexpected argument 'stray'"
run 2 --grace 5x --host a --journal completed.jsonl
has err "--grace: bad duration '5x'"

# every host passes
run 0 --host tokyo-1 --journal completed.jsonl --events events_pass.json \
	--host tokyo-2 --journal lab_drill.jsonl --events lab_drill_events.json
has out "fleet    2 hosts: 2 pass; grace 5000ms"
has out "verdict  PASS: every host's windows pass (2 hosts)"

# each way a host fails, each named; the others are still judged
run 1 --grace 5s --host alpha --journal completed.jsonl --events events_pass.json \
	--host charlie --journal completed.jsonl --events events_none.json \
	--host delta --absent "unreachable: ssh: connect to host 198.18.0.14 port 22: Connection refused" \
	--host echo --journal arm_timeout.jsonl --events events_pass.json \
	--host fox --journal bad_json.jsonl --events events_pass.json \
	--host golf --journal completed.jsonl \
	--host hotel --journal completed.jsonl --no-events "/var/log/c.json did not appear within 60 s" \
	--svg "$d/fleet.svg"
has out "fleet    7 hosts: 1 pass, 2 fail, 1 absent, 1 bad_input, 2 no_events; grace 5000ms"
has out "charlie  fail       2026-11-28T03:41:00.017123Z        3        2046       0  telemetry gap: window 0 hit packets but no error was recorded; window 2 hit packets but no error and no slower calls were recorded"
has out "delta    absent     -                                  -           -       -  unreachable: ssh: connect to host 198.18.0.14 port 22: Connection refused"
has out "echo     fail       never"
has out "no fault window in the journal (outcome arm_timeout): nothing was tested"
has out "fox      bad_input"
has out "bad_json.jsonl:3: not JSON"
has out "golf     no_events"
has out "no connector events given: its 3 windows are not judged"
has out "no connector events: /var/log/c.json did not appear within 60 s: its 3 windows are not judged"
has out "timeline each host's own clock: the hosts' clocks must be synchronised (chrony)"
has out "verdict  FAIL: 6 of 7 hosts fail: charlie (fail), delta (absent), echo (fail), fox (bad_input), golf (no_events), hotel (no_events)"
python3 - "$d/fleet.svg" <<'EOF' || fail "fleet.svg"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
lanes = [g for g in root.iter(ns + "g") if g.get("class") == "lane"]
assert len(lanes) == 7, len(lanes)
titles = [g.find(ns + "title").text for g in lanes]
assert titles[0].startswith("alpha: pass: "), titles[0]
assert titles[2].startswith("delta: absent: unreachable"), titles[2]
EOF

run 1 --json --host alpha --journal completed.jsonl --events events_pass.json \
	--host delta --absent unreachable --host fox --journal /nonexistent/j.jsonl
python3 - "$d/out" <<'EOF' || fail "--json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1 and d["kind"] == "fleet" and d["grace_ms"] == 5000
assert [h["verdict"] for h in d["hosts"]] == ["pass", "absent", "bad_input"], d["hosts"]
assert d["hosts"][2]["reason"] == "/nonexistent/j.jsonl: No such file or directory", d["hosts"][2]["reason"]
a = d["hosts"][0]
assert a["drill"] == "c2_3_degradation" and a["outcome"] == "completed" and a["error_events"] == 6
assert [w["diagnosis"] for w in a["windows"]] == ["ok", "no_traffic", "ok"]
assert a["windows"][0]["hits"] == {"packets": 1234, "bytes": 98765}
assert d["gate"] == {"pass": False, "reason": "2 of 3 hosts fail: delta (absent), fox (bad_input)",
                     "failing_hosts": ["delta", "fox"]}, d["gate"]
assert d["armed"]["first_host"] == "alpha" and d["armed"]["spread_ms"] == 0
EOF

# --svg naming an input is refused before anything is read or written
cp completed.jsonl "$d/j.jsonl"
run 2 --host a --journal "$d/j.jsonl" --events events_pass.json --svg "$d/j.jsonl"
has err "that is an input file"
cmp -s completed.jsonl "$d/j.jsonl" || fail "--svg overwrote the journal"
echo "faultctl fleet OK"
