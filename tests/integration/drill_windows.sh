#!/usr/bin/env bash
# True windows and a plan kept (okx-faultd(8), TIMING; issue 12):
#  - stall: the daemon is SIGSTOPped across the end of a `drop 1s`; the
#    kernel ends the fault (its element times out at the planned end +
#    250 ms) and traffic flows again. The journal must say so: reason
#    kernel_expiry, fault_end.ts where traffic resumed (not where the daemon
#    woke), actual_ms the enforced length, late_ms how late the daemon was.
#  - drift: repeat = 100 of (drop 10ms, pause 10ms) must take the planned
#    1,990 ms from the first begin to the last end, within a few %
#    (deadlines come from the plan, not from each acknowledgement).
set -u
. "$TOP/tests/lib/netns.sh"
lab_init win
lab_two
NP="$LAB/netprobe"
JP="$TOP/tests/lib/journal.py"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
in_vm=${OKX_IN_VM:-}

# ---- stall ----
cat > "$LAB_TMP/stall.policy" <<P
name = stall
target = 198.18.0.2
port = 8443
arm_min_flows = 0
fault = drop 1s
P
J="$LAB_TMP/stall.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/stall.policy"
D=$!
wait_for "the fault to begin" journal_has "$J" fault_begin
kill -STOP $D
# connect attempts every 10 ms for 2.5 s while the daemon stays stopped:
# blocked until the kernel expires the fault, then flowing. Each attempt
# gives up after 10 ms; under the VM's emulation a connect that went
# through can take longer than that (seen: failures for 1.4 s after the
# fault had ended), so there it waits 100 ms.
probe_ms=10
[ -n "$in_vm" ] && probe_ms=100
in_cli "$NP" tcp-loop 198.18.0.2 8443 --interval-ms 10 --count 250 --timeout-ms $probe_ms >"$LAB_TMP/loop.txt" 2>/dev/null
kill -CONT $D
wait $D
rc=$?
[ $rc -eq 0 ] || fail "stall: exit $rc after SIGCONT"
python3 "$JP" "$J" check --outcome completed --exit 0 --windows 1 --reason kernel_expiry || fail "stall journal"
# times in seconds since the epoch: the last refused attempt before traffic
# flowed again, the first one that went through, the journal's window end
read -r last_fail first_ok < <(python3 - "$LAB_TMP/loop.txt" <<'PY'
import datetime, sys
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
rows = [(t(l.split()[0]), l.split()[1]) for l in open(sys.argv[1]) if l.strip()]
# a drop lets no connect through: the first attempt that went through after
# a blocked one is the first sure sign the fault had ended; the blocked one
# just before it, the last attempt that met it
fails = [i for i, r in enumerate(rows) if r[1] != "ok"]
oks = [i for i, r in enumerate(rows) if r[1] == "ok" and fails and i > fails[0]]
if not oks:
    print("none none")
else:
    print("%.6f %.6f" % (rows[oks[0] - 1][0], rows[oks[0]][0]))
PY
)
[ "$last_fail" != none ] || fail "stall: traffic never blocked, or never flowed again while stopped: $(sort -u -k2,2 "$LAB_TMP/loop.txt" | head)"
read -r end begin actual late timeout < <(python3 "$JP" "$J" get '"%.6f %.6f %s %s %s" % (
    __import__("datetime").datetime.strptime(ev["fault_end"][0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=__import__("datetime").timezone.utc).timestamp(),
    __import__("datetime").datetime.strptime(ev["fault_begin"][0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=__import__("datetime").timezone.utc).timestamp(),
    ev["fault_end"][0]["actual_ms"], ev["fault_end"][0]["late_ms"], ev["fault_begin"][0]["timeout_ms"])')
note "stall: last blocked attempt $(awk -v a="$last_fail" -v b="$begin" 'BEGIN{printf "%.3f", a - b}') s after the begin," \
	"first through $(awk -v a="$first_ok" -v b="$begin" 'BEGIN{printf "%.3f", a - b}') s; journal end $(awk -v a="$end" -v b="$begin" 'BEGIN{printf "%.3f", a - b}') s" \
	"(actual_ms $actual, timeout_ms $timeout), daemon late_ms $late"
# the journal's end lies between the last blocked and the first flowing
# attempt, up to one kernel tick (10 ms at HZ=100) and the probe's own
# timing under load (its time stamp is taken just before the connect): 50
# ms, 200 ms in the VM. The old journal put the end where the daemon woke,
# over a second later.
slack=0.050
[ -n "$in_vm" ] && slack=0.200
awk -v e="$end" -v f="$last_fail" -v o="$first_ok" -v s="$slack" 'BEGIN{exit !(e >= f - s && e <= o + s)}' ||
	fail "stall: the journal ends the window at $end, traffic flowed again between $last_fail and $first_ok"
[ "$timeout" = 1250 ] || fail "stall: timeout_ms $timeout, want 1250 (1 s + the 250 ms backstop)"
awk -v a="$actual" 'BEGIN{exit !(a >= 1249 && a <= 1251)}' || fail "stall: actual_ms $actual, want the enforced 1250"
awk -v l="$late" 'BEGIN{exit !(l >= 250)}' || fail "stall: late_ms $late, want >= 250 (the daemon was stopped past the backstop)"

# ---- drift ----
cat > "$LAB_TMP/drift.policy" <<P
name = drift
target = 198.18.0.2
port = 8443
arm_min_flows = 0
repeat = 100
fault = drop 10ms
fault = pause 10ms
P
J="$LAB_TMP/drift.jsonl"
in_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/drift.policy"
rc=$?
[ $rc -eq 0 ] || fail "drift: exit $rc"
python3 "$JP" "$J" check --outcome completed --exit 0 --windows 100 --tolerance-ms 100000 || fail "drift journal"
total=$(python3 "$JP" "$J" get '"%.3f" % ((ev["fault_end"][-1]["mono_ns"] - ev["fault_begin"][0]["mono_ns"]) / 1e6)')
# planned: 100 x 20 ms less the last pause. Under load a wake-up may come
# late, but lateness no longer adds up: only the last one counts (measured
# 1989.98-1990.14 ms on 2 loaded cores; the per-acknowledgement deadlines
# of before took 2,032-2,670 ms). 1.5 % (30 ms); under QEMU's TCG
# (make check-vm) 10 %.
tol=1.5
[ -n "$in_vm" ] && tol=10
note "drift: 100 x (drop 10ms, pause 10ms): first begin to last end $total ms, planned 1990 ms"
awk -v t="$total" -v k="$tol" 'BEGIN{d = t - 1990; if (d < 0) d = -d; exit !(d <= 1990 * k / 100)}' ||
	fail "drift: $total ms from the first begin to the last end, planned 1990 ms (tolerance $tol %)"
echo "windows OK"
