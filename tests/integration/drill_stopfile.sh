#!/usr/bin/env bash
# The stop file (okx-faultd(8), --stop-file; issue 10):
#  - its directory replaced (rmdir; mkdir; touch), renamed away (mv; mkdir;
#    touch), or gone for a while (rmdir, then mkdir; touch later): the watch
#    is set again (or the path polled) and logged; the drill ends, exit 4,
#    fault_end reason stop_file;
#  - a stop file moved into place (IN_MOVED_TO) ends it;
#  - a directory other users can write is warned about at start, a root-only
#    one is not;
#  - unrelated churn in the directory (files created and removed as fast as
#    python can) costs the daemon far fewer wake-ups than files and little CPU
#    (measured from /proc/PID/sched), and a stop file made amid the churn
#    still ends the drill.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init stopf
lab_two
printf 'name = stopfile\ntarget = 198.18.0.2\nport = 8443\narm_min_flows = 0\nfault = drop 60s\n' >"$LAB_TMP/p.policy"

start() { # CASE STOPDIR: start a drill watching STOPDIR/STOP -> D, J, L
	J="$LAB_TMP/$1.jsonl" L="$LAB_TMP/$1.log"
	bg_cli "$OKX_FAULTD" -j "$J" -s "$2/STOP" "$LAB_TMP/p.policy" 2>"$L"
	D=$!
	wait_for "$1: the fault to begin" journal_has "$J" fault_begin
}
ended() { # CASE: the drill ended by the stop file
	wait_for "$1: the drill to end" sh -c "! kill -0 $D 2>/dev/null"
	wait $D
	local rc=$?
	[ $rc -eq 4 ] || fail "$1: exit $rc, want 4: $(cat "$L")"
	python3 "$TOP/tests/lib/journal.py" "$J" check --outcome aborted --exit 4 --windows 1 --reason stop_file ||
		fail "$1: journal"
}

# a directory replaced under the watch
sd="$LAB_TMP/sd1"
mkdir -m 755 "$sd"
start replaced "$sd"
rmdir "$sd" && mkdir "$sd" && touch "$sd/STOP"
ended replaced
log_has "$L" "stop file: directory $sd was removed" || fail "replaced: not logged: $(cat "$L")"
log_has "$L" "writable" && fail "replaced: a root-only 755 directory was warned about: $(cat "$L")"
note "replaced: $(grep -m1 'stop file: directory' "$L")"

# renamed away, a new one in its place
sd="$LAB_TMP/sd2"
mkdir "$sd"
start renamed "$sd"
mv "$sd" "$sd.old" && mkdir "$sd" && touch "$sd/STOP"
ended renamed
log_has "$L" "stop file: directory $sd was moved" || fail "renamed: not logged: $(cat "$L")"
touch "$sd.old/STOP"

# gone for a while: the path is polled until the directory is back
sd="$LAB_TMP/sd3"
mkdir "$sd"
start gone "$sd"
rmdir "$sd"
wait_for "gone: the fallback to polling to be logged" log_has "$L" "cannot be watched .*checking $sd/STOP every"
kill -0 $D 2>/dev/null || fail "gone: the drill ended without a stop file"
mkdir "$sd" && touch "$sd/STOP"
ended gone
note "gone: $(grep -m1 'cannot be watched' "$L")"

# moved into place
sd="$LAB_TMP/sd4"
mkdir "$sd"
start moved_in "$sd"
touch "$sd/STOP.tmp" && mv "$sd/STOP.tmp" "$sd/STOP"
ended moved_in

# a directory every user can write: warned about at start
sd="$LAB_TMP/sd5"
mkdir -m 1777 "$sd"
start writable "$sd"
log_has "$L" "stop file: directory $sd is writable by every user: any of them can end the drill" ||
	fail "writable: no warning: $(cat "$L")"
touch "$sd/STOP"
ended writable

# unrelated churn: wake-ups and CPU of the daemon while files come and go
sd="$LAB_TMP/sd6"
mkdir "$sd"
start churn "$sd"
sched() { awk '/sum_exec_runtime/ { r = $3 } /nr_voluntary_switches/ { v = $3 } END { printf "%.0f %d\n", r, v }' "/proc/$D/sched"; }
read -r cpu0 sw0 < <(sched)
ops=$(python3 - "$sd" <<'PY'
import os, sys, time
d, n, end = sys.argv[1], 0, time.monotonic() + 2.0
while time.monotonic() < end:
    for i in range(100):
        p = "%s/x%d" % (d, i)
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(p)
    n += 100
print(n)
PY
)
read -r cpu1 sw1 < <(sched)
kill -0 $D 2>/dev/null || fail "churn: the drill ended without a stop file"
cpu=$((cpu1 - cpu0)) sw=$((sw1 - sw0))
note "churn: $ops files created and removed in 2 s; the daemon woke $sw times, ran $cpu ms"
[ "$ops" -ge 1000 ] || fail "churn: only $ops files"
[ $((sw * 10)) -lt "$ops" ] || fail "churn: $sw wake-ups for $ops files"
[ "$cpu" -lt 200 ] || fail "churn: the daemon ran $cpu ms of 2000"
# and a stop file made amid the churn still counts
python3 - "$sd" <<'PY' &
import os, sys, time
d, end = sys.argv[1], time.monotonic() + 1.0
while time.monotonic() < end:
    p = "%s/y" % d
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
    os.unlink(p)
PY
C=$!
touch "$sd/STOP"
ended churn
wait $C
echo "stop file OK"
