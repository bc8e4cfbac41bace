#!/usr/bin/env bash
# The control socket (okx-faultd(8), CONTROL SOCKET; okx-faultctl(1),
# status, watch, stop; issue 14):
#  - status while waiting (progress toward the thresholds, time left to
#    arm_timeout), in arm_delay, during a fault with traffic (hits > 0 and
#    equal to the kernel's counter) and in a pause, as text and --json; and
#    status with no NAME;
#  - stop in each of those states: exit 4, the live fault switched off, the
#    journal's fault_end (when one was live) and end say reason stopped and
#    by "control socket uid=0 pid=N" with okx-faultctl's pid;
#  - an unprivileged user is refused ("permission denied") by the
#    directory's mode, the socket's mode and, with both opened up, by the
#    daemon itself (SO_PEERCRED); the drill goes on unchanged;
#  - watch: a line per change and the outcome when not a terminal, a bar on
#    a terminal (script(1)), the drill's exit code (0, and 4 when stopped);
#    an interrupted watch leaves the drill alone;
#  - clients that never send, never read, send half a request, or ask as
#    fast as they are answered do not delay 10 ms faults (journal
#    actual_ms: no window held, the median and the 95th on time);
#  - a killed daemon's socket does not block the next drill; a live one
#    refuses a second drill of the same name (exit 1, no journal, no
#    table); a control directory others can write, or a symlink, is
#    refused (exit 2);
#  - no socket is left behind.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool python3
need_tool setpriv util-linux
need_tool script bsdutils
lab_init ctl
lab_two
C=$OKX_FAULTCTL
RUN=$OKX_FAULTD_CONTROL_DIR
JC="$TOP/tests/lib/journal.py"

pol() { # NAME LINES...: a policy toward 198.18.0.2:8443
	local n=$1
	shift
	printf 'name = %s\ntarget = 198.18.0.2\nport = 8443\n' "$n" >"$LAB_TMP/$n.policy"
	printf '%s\n' "$@" >>"$LAB_TMP/$n.policy"
}
start() { # NAME [RUN]: the daemon in the client namespace -> D, J, L; returns once its socket answers
	J="$LAB_TMP/$1${2:-}.jsonl" L="$LAB_TMP/$1${2:-}.log"
	bg_cli "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/$1.policy" 2>"$L"
	D=$!
	wait_for "$1: its control socket" "$C" status "$1"
}
st() { "$C" status "$1" --json; }
# jq-like: NAME EXPR -> prints EXPR over the status JSON `s`
sget() { st "$1" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"; }
is() { # NAME EXPR WANT
	local v
	v=$(sget "$1" "$2") || fail "$1: status failed"
	[ "$v" = "$3" ] || fail "$1: $2 is $v, want $3: $(st "$1")"
}
flow() { in_cli "$LAB/netprobe" tcp 198.18.0.2 8443 --timeout-ms 200 >/dev/null 2>&1; }
stopped() { # NAME WINDOWS: okx-faultctl stop, then the drill's end as the journal says
	"$C" stop "$1" >"$LAB_TMP/$1.stop" 2>&1 &
	local sp=$! rc
	wait $sp
	rc=$?
	[ $rc -eq 0 ] || fail "$1: okx-faultctl stop exited $rc: $(cat "$LAB_TMP/$1.stop")"
	grep -q "^drill $1: stopping (control socket uid=0 pid=$sp)$" "$LAB_TMP/$1.stop" ||
		fail "$1: stop said: $(cat "$LAB_TMP/$1.stop")"
	wait $D
	rc=$?
	[ $rc -eq 4 ] || fail "$1: exit $rc after stop, want 4: $(cat "$L")"
	grep -q "^drill $1: aborted (exit 4), stopped by control socket uid=0 pid=$sp$" "$LAB_TMP/$1.stop" ||
		fail "$1: stop did not report the end: $(cat "$LAB_TMP/$1.stop")"
	python3 "$JC" "$J" check --outcome aborted --exit 4 --windows "$2" ||
		fail "$1: journal"
	[ "$(python3 "$JC" "$J" get 'ev["end"][0]["reason"] + "|" + ev["end"][0]["by"]')" = \
		"stopped|control socket uid=0 pid=$sp" ] || fail "$1: end event: $(tail -1 "$J")"
	if [ "$2" -gt 0 ]; then
		[ "$(python3 "$JC" "$J" get 'ev["fault_end"][-1]["reason"] + "|" + ev["fault_end"][-1]["by"]')" = \
			"stopped|control socket uid=0 pid=$sp" ] || fail "$1: fault_end: $(grep fault_end "$J" | tail -1)"
	fi
	[ ! -e "$RUN/$1.sock" ] || fail "$1: socket left behind"
	in_cli nft list table inet okx_faultd >/dev/null 2>&1 && fail "$1: table left behind"
	note "$1: stopped: $(tail -1 "$LAB_TMP/$1.stop")"
}

# --- waiting: progress toward each threshold, time left to arm_timeout ------
pol wait 'arm_min_flows = 2' 'arm_timeout = 10m' 'fault = drop 1s'
start wait
flow
wait_for "wait: the daemon to count the flow" log_has "$L" 'flow 1 toward the targets'
is wait 's["state"]' waiting
is wait 's["arming"]["flows"]["seen"], s["arming"]["flows"]["need"]' '(1, 2)'
is wait 's["arming"]["armed"], s["fault"], s["steps"]["total"], s["journal"]' "(None, None, 1, '$J')"
is wait '540000 < s["arming"]["left_ms"] <= 600000 == s["arming"]["timeout_ms"]' True
is wait '[(n["index"], n["action"], n["planned_ms"]) for n in s["next"]]' "[(0, 'drop', 1000)]"
"$C" status wait >"$LAB_TMP/wait.txt" || fail "wait: status text"
grep -q '^state    waiting$' "$LAB_TMP/wait.txt" && grep -q 'flows 1/2' "$LAB_TMP/wait.txt" &&
	grep -q "^journal  $J$" "$LAB_TMP/wait.txt" || fail "wait: status text: $(cat "$LAB_TMP/wait.txt")"

# --- an unprivileged user: refused three times over, the drill unchanged -----
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$C" "$@"; }
chmod 0711 "$LAB_TMP"
expect_rc 1 nobody status wait
grep -q "permission denied" <<<"$out" || fail "nobody (directory mode): $out"
expect_rc 1 nobody status
grep -q "permission denied" <<<"$out" || fail "nobody, every drill: $out"
chmod 0755 "$RUN"
expect_rc 1 nobody stop wait
grep -q "wait.sock: permission denied" <<<"$out" || fail "nobody (socket mode): $out"
[ "$(stat -c %a "$RUN/wait.sock")" = 600 ] || fail "socket mode $(stat -c %a "$RUN/wait.sock")"
chmod 0666 "$RUN/wait.sock"
expect_rc 1 nobody stop wait
grep -q "drill wait: permission denied" <<<"$out" || fail "nobody (SO_PEERCRED): $out"
expect_rc 1 nobody status wait
wait_for "the daemon to log the refusal" log_has "$L" 'control: refused a connection of uid 65534 pid [0-9]+: permission denied'
kill -0 $D || fail "the drill ended after an unprivileged stop"
is wait 's["state"]' waiting
journal_has "$J" end && fail "an unprivileged stop reached the journal"
chmod 0750 "$RUN"
chmod 0700 "$LAB_TMP"
note "unprivileged: $(grep -m1 'refused a connection' "$L")"

# --- status with no NAME: every running drill -------------------------------
"$C" status >"$LAB_TMP/all.txt" || fail "status (all)"
grep -q '^drill    wait (pid' "$LAB_TMP/all.txt" || fail "status (all): $(cat "$LAB_TMP/all.txt")"
"$C" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == 1 and [x["name"] for x in d["drills"]] == ["wait"], d' || fail "status --json (all)"

# --- a second drill of the same name (another namespace): refused ----------
pol wait2 'arm_min_flows = 2' 'fault = drop 1s'
sed -i 's/^name = wait2$/name = wait/; s/^target = .*/target = 198.18.0.1/' "$LAB_TMP/wait2.policy"
expect_rc 1 in_srv "$OKX_FAULTD" -j "$LAB_TMP/second.jsonl" "$LAB_TMP/wait2.policy"
grep -q "another okx-faultd runs drill wait (its control socket $RUN/wait.sock answers)" <<<"$out" ||
	fail "second drill: $out"
[ ! -e "$LAB_TMP/second.jsonl" ] || fail "second drill: a journal was created"
in_srv nft list table inet okx_faultd >/dev/null 2>&1 && fail "second drill: a table was created"
is wait 's["state"]' waiting
stopped wait 0

# --- arm_delay ---------------------------------------------------------------
pol delay 'arm_min_flows = 0' 'arm_delay = 60s' 'fault = drop 1s'
start delay
wait_for "delay: arm_delay" log_has "$L" 'arm_delay: first fault in'
is delay 's["state"], s["arm_delay"]["planned_ms"]' "('arm_delay', 60000)"
is delay '50000 < s["arm_delay"]["left_ms"] <= 60000' True
is delay 's["arming"]["armed"] is not None, s["arming"]["trigger"], s["arming"]["left_ms"]' '(True, None, None)'
stopped delay 0

# --- a fault with traffic: hits read from the kernel now --------------------
pol fault 'arm_min_flows = 1' 'fault = drop 60s'
start fault
flow
wait_for "fault: the fault to begin" journal_has "$J" fault_begin
for i in 1 2 3; do flow; done
hits_match() {
	local k s
	k=$(in_cli nft list counter inet okx_faultd f0 | sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p')
	s=$(sget fault 's["fault"]["hits"]["packets"]')
	[ -n "$k" ] && [ "$k" -ge 3 ] && [ "$s" = "$k" ]
}
wait_for "fault: status hits = the kernel's counter (at least 3 packets)" hits_match
is fault 's["state"], s["fault"]["index"], s["fault"]["action"], s["fault"]["planned_ms"]' "('fault', 0, 'drop', 60000)"
is fault 's["fault"]["elapsed_ms"] < 60000 and s["fault"]["hits"]["bytes"] > 0' True
is fault 's["arming"]["trigger"]["dst"], s["arming"]["trigger"]["dport"], s["arming"]["trigger"]["proto"]' \
	"('198.18.0.2', 8443, 'tcp')"
"$C" status fault >"$LAB_TMP/fault.txt" || fail "fault: status text"
grep -qE '^fault    step 1 of 1: drop 60\.0 s|^fault    step 1 of 1: drop 1m00s' "$LAB_TMP/fault.txt" &&
	grep -qE '^hits     [0-9]+ packets' "$LAB_TMP/fault.txt" &&
	grep -q 'on flow 198.18.0.1 -> 198.18.0.2:8443/tcp' "$LAB_TMP/fault.txt" ||
	fail "fault: status text: $(cat "$LAB_TMP/fault.txt")"
seen=$(sget fault 's["fault"]["hits"]["packets"]')
stopped fault 1
got=$(python3 "$JC" "$J" get 'ev["fault_end"][0]["hits"]["packets"]')
[ "$got" -ge "$seen" ] || fail "fault: the journal's hits $got < the status's $seen"

# --- a pause; watch (not a terminal) until the stop: exit 4 ------------------
pol pause 'arm_min_flows = 0' 'fault = pause 60s' 'fault = drop 1s'
start pause
wait_for "pause: the pause" log_has "$L" 'step 0: pause for 60000 ms'
is pause 's["state"], s["pause"]["index"], s["pause"]["planned_ms"], s["fault"]' "('pause', 0, 60000, None)"
is pause '[(n["index"], n["action"]) for n in s["next"]]' "[(1, 'drop')]"
"$C" watch pause >"$LAB_TMP/pause.watch" 2>&1 &
W=$!
wait_for "pause: the watch's first line" log_has "$LAB_TMP/pause.watch" 'pause 1/2'
# a watch killed (a background job ignores SIGINT: SIGTERM does as Ctrl-C
# would) leaves the drill as it was
"$C" watch pause >"$LAB_TMP/pause.watch2" 2>&1 &
W2=$!
wait_for "pause: the second watch's first line" log_has "$LAB_TMP/pause.watch2" 'pause 1/2'
kill -TERM $W2
wait $W2
kill -0 $D || fail "pause: an interrupted watch ended the drill"
is pause 's["state"]' pause
stopped pause 0
wait $W
rc=$?
[ $rc -eq 4 ] || fail "pause: watch exited $rc, want the drill's 4: $(cat "$LAB_TMP/pause.watch")"
tail -1 "$LAB_TMP/pause.watch" | grep -q '^drill pause: aborted (exit 4), stopped by control socket uid=0 pid=' ||
	fail "pause: watch: $(cat "$LAB_TMP/pause.watch")"

# --- watch to a completed end: a line per change -----------------------------
pol seq 'arm_min_flows = 0' 'arm_delay = 1500ms' 'fault = drop 400ms' 'fault = pause 300ms' 'fault = reject 400ms'
start seq
"$C" watch seq >"$LAB_TMP/seq.watch" 2>&1
rc=$?
wait $D
drc=$?
[ $rc -eq 0 ] && [ $drc -eq 0 ] || fail "seq: watch exit $rc, drill exit $drc: $(cat "$LAB_TMP/seq.watch")"
python3 - "$LAB_TMP/seq.watch" <<'PY' || fail "seq: watch lines: $(cat "$LAB_TMP/seq.watch")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
states = [re.sub(r"^\+[0-9.]+s (\S+).*", r"\1", l) for l in lines[:-1]]
# one line per change: the phases in order, each at least once
order = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
assert order == ["arm_delay:", "fault", "pause", "fault"], order
assert any(re.match(r"^\+[0-9.]+s fault 1/3 drop 400 ms: [0-9]+ ms in, hits 0 packets, 0 bytes$", l) for l in lines), lines
assert any(re.match(r"^\+[0-9.]+s pause 2/3 300 ms: [0-9]+ ms in$", l) for l in lines), lines
assert any(re.match(r"^\+[0-9.]+s fault 3/3 reject with=tcp-reset 400 ms: ", l) for l in lines), lines
assert lines[-1] == "drill seq: completed (exit 0)", lines[-1]
PY
python3 "$JC" "$J" check --outcome completed --exit 0 --windows 2 || fail "seq: journal"
[ ! -e "$RUN/seq.sock" ] || fail "seq: socket left behind"
note "watch: $(tr '\n' '|' <"$LAB_TMP/seq.watch")"

# --- watch on a terminal: the bar, redrawn ----------------------------------
pol tty 'arm_min_flows = 0' 'arm_delay = 1s' 'fault = drop 600ms'
start tty
script -qfec "$C watch tty" /dev/null >"$LAB_TMP/tty.watch" 2>&1
rc=$?
wait $D
[ $rc -eq 0 ] || fail "tty: watch exit $rc: $(cat -v "$LAB_TMP/tty.watch")"
grep -qaE $'\r\033\\[K\\[[#-]{20}\\] fault 1/1 drop 600 ms: [0-9]+ ms in, hits 0 packets\r' "$LAB_TMP/tty.watch" &&
	grep -qa 'drill tty: completed (exit 0)' "$LAB_TMP/tty.watch" ||
	fail "tty: no bar: $(cat -v "$LAB_TMP/tty.watch")"
note "tty: $(tr '\r' '\n' <"$LAB_TMP/tty.watch" | grep -a '\] fault' | tail -1 | cat -v)"

# --- hostile clients and 10 ms faults ---------------------------------------
pol fast 'arm_min_flows = 0' 'arm_delay = 1500ms' 'fault = drop 10ms' 'fault = pause 10ms' 'repeat = 100'
start fast
sched() { awk '/sum_exec_runtime/ { printf "%.0f\n", $3 }' "/proc/$D/sched"; }
cpu0=$(sched)
python3 "$TOP/tests/lib/ctl_clients.py" hostile "$RUN/fast.sock" 4 >"$LAB_TMP/hostile.json" &
H=$!
# read while the daemon runs (it ends right after the 100th)
wait_for "fast: the 90th fault" journal_has "$J" fault_end 90
cpu=$(($(sched) - cpu0))
wait $D
rc=$?
wait $H || fail "fast: the hostile clients failed"
[ $rc -eq 0 ] || fail "fast: exit $rc: $(cat "$L")"
# A client that blocked the loop would hold a fault until the kernel's
# backstop (250 ms later, reason kernel_expiry) or for good; one that made
# the loop slow would move the median. Each window within 20 ms (the rare
# outlier of 2 shared, loaded cores reaches 6 ms with or without clients:
# README, "Measured here"), the median within 0.5 ms, 95 of 100 within 2 ms.
# Under QEMU's TCG (make check-vm) the guest's vCPUs are host threads: no
# window held past 250 ms (the journal's VM tolerance), the rest on the host.
tol=20 med=0.5 p95=2
[ -n "${OKX_IN_VM:-}" ] && tol=250 med=250 p95=250
python3 "$JC" "$J" check --outcome completed --exit 0 --windows 100 --tolerance-ms $tol ||
	fail "fast: windows late with hostile clients"
python3 "$JC" "$J" get "sorted(abs(e['actual_ms'] - 10) for e in ev['fault_end'])[50] < $med and sorted(abs(e['actual_ms'] - 10) for e in ev['fault_end'])[94] < $p95 and all(e['reason'] == 'completed' for e in ev['fault_end'])" |
	grep -qx True || fail "fast: the median window off by $med ms, the 95th by $p95 ms, or one ended otherwise"
note "fast: 100 windows of 10 ms on time with hostile clients: $(cat "$LAB_TMP/hostile.json"); the daemon ran $cpu ms up to the 90th"
python3 - "$LAB_TMP/hostile.json" <<'PY' || fail "fast: $(cat "$LAB_TMP/hostile.json")"
import json, sys
h = json.load(open(sys.argv[1]))
# the silent connections were closed after 2 s and made again
assert h["answers"] > 50 and h["errors"] == 0 and h["idle_connects"] > 10, h
PY
log_has "$L" 'control: pid [0-9]+ sent no request within 2000 ms: closing' || fail "fast: no silent client was closed"
note "fast: |actual - planned| median, worst: $(python3 "$JC" "$J" get '"%.3f, %.3f ms" % (sorted(abs(e["actual_ms"] - 10) for e in ev["fault_end"])[50], max(abs(e["actual_ms"] - 10) for e in ev["fault_end"]))')"

# --- a killed daemon's socket does not block the next drill ----------------
pol kill 'arm_min_flows = 0' 'fault = drop 60s'
start kill
kill -9 $D
wait $D 2>/dev/null
[ -S "$RUN/kill.sock" ] || fail "kill: no stale socket to test with"
expect_rc 1 "$C" status kill
grep -q "drill kill is not running ($RUN/kill.sock is the stale socket of a drill that is gone)" <<<"$out" ||
	fail "kill: status of a stale socket: $out"
"$C" status >"$LAB_TMP/none.txt" || fail "kill: status (all) with a stale socket"
[ "$(cat "$LAB_TMP/none.txt")" = "no drill is running" ] || fail "kill: status (all): $(cat "$LAB_TMP/none.txt")"
start kill 2
log_has "$L" "control socket $RUN/kill.sock: removed the stale socket of a drill that is gone" ||
	fail "kill: the stale socket was not replaced: $(cat "$L")"
is kill 's["state"]' fault
stopped kill 1

# --- what is at the path or the directory refuses the drill -----------------
pol odd 'arm_min_flows = 0' 'fault = drop 1s'
touch "$RUN/odd.sock"
expect_rc 2 in_cli "$OKX_FAULTD" -j "$LAB_TMP/odd.jsonl" "$LAB_TMP/odd.policy"
grep -q "control socket $RUN/odd.sock: a regular file is there: refusing to replace it" <<<"$out" || fail "odd: $out"
rm "$RUN/odd.sock"
mkdir -m 0777 "$LAB_TMP/open"
expect_rc 2 in_cli "$OKX_FAULTD" --control-dir "$LAB_TMP/open" -j "$LAB_TMP/odd.jsonl" "$LAB_TMP/odd.policy"
grep -q "control socket: directory $LAB_TMP/open is writable by every user (mode 0777)" <<<"$out" || fail "open: $out"
ln -s "$RUN" "$LAB_TMP/link"
expect_rc 2 in_cli "$OKX_FAULTD" --control-dir "$LAB_TMP/link" -j "$LAB_TMP/odd.jsonl" "$LAB_TMP/odd.policy"
grep -q "control socket: directory $LAB_TMP/link: a symbolic link is on its path" <<<"$out" || fail "link: $out"
[ ! -e "$LAB_TMP/odd.jsonl" ] || fail "odd: a refused drill created its journal"

[ -z "$(ls -A "$RUN")" ] || fail "left in $RUN: $(ls -A "$RUN")"
echo "control socket OK"
