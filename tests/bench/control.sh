#!/usr/bin/env bash
# The control socket's cost to a drill (issue 14): RUNS drills of 250 x
# (drop 10ms, pause 10ms), alternately alone and with hostile clients
# (tests/lib/ctl_clients.py: one asking `status` as fast as it is answered,
# ten connections that never send a request, one sending half of one, a
# watcher that never reads). Prints, per drill, the window-end error
# |actual - planned| (median, p99, max), the status answers and their round
# trip, and the daemon's CPU (up to the 240th window) per answer; then the
# medians of each kind.
# The live fault's counter read itself is in nft.sh (nft_bench).
#
#   CONTROL_RUNS (default 4)   drills of each kind
#
# In the lab of tests/lib/netns.sh (two throwaway namespaces, removed on
# every exit path). A benchmark, not a test: it fails only when it cannot run.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB=${LAB:-$TOP/build/lab}
OKX_FAULTD=${OKX_FAULTD:-$TOP/okx-faultd}
RUNS=${CONTROL_RUNS:-4}
die() { echo "control bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (CAP_NET_ADMIN)"
[ -x "$OKX_FAULTD" ] || die "$OKX_FAULTD not built (make)"
[ -x "$LAB/netprobe" ] || die "$LAB/netprobe not built (make build-tests)"
case $RUNS in '' | *[!0-9]*) die "CONTROL_RUNS must be an integer" ;; esac
. "$TOP/tests/lib/netns.sh"
lab_init bench-ctl
lab_two
RUN=$OKX_FAULTD_CONTROL_DIR
P="$LAB_TMP/fast.policy"
printf 'name = fast\ntarget = 198.18.0.2\nport = 8443\narm_min_flows = 0\narm_delay = 1500ms\nfault = drop 10ms\nfault = pause 10ms\nrepeat = 250\n' >"$P"
cpu_ms() { awk '/sum_exec_runtime/ { printf "%.0f\n", $3 }' "/proc/$1/sched"; }
: >"$LAB_TMP/medians"
for i in $(seq "$RUNS"); do
	for kind in alone hostile; do
		J="$LAB_TMP/$kind-$i.jsonl"
		bg_cli "$OKX_FAULTD" -q -j "$J" "$P"
		D=$!
		wait_for "the control socket" test -S "$RUN/fast.sock"
		c0=$(cpu_ms $D)
		H=
		if [ $kind = hostile ]; then
			python3 "$TOP/tests/lib/ctl_clients.py" hostile "$RUN/fast.sock" 8 >"$LAB_TMP/h.json" &
			H=$!
		fi
		# the CPU is read while the daemon runs: at the 240th window
		wait_for -t 30 "the 240th window" journal_has "$J" fault_end 240
		c1=$(cpu_ms $D)
		wait $D || die "drill exit $?"
		[ -n "$H" ] && { wait $H || die "hostile clients failed"; }
		python3 - "$J" "$kind" "$((c1 - c0))" "$LAB_TMP/h.json" "$LAB_TMP/medians" <<'PY' || die "report"
import json, sys
path, kind, cpu, hj, med = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
fe = [json.loads(l) for l in open(path) if '"fault_end"' in l]
d = sorted(abs(e["actual_ms"] - 10) for e in fe)
line = "%-8s %d windows: |actual - planned| median %.3f ms, p99 %.3f ms, max %.3f ms; daemon CPU %d ms" % (
    kind, len(d), d[len(d) // 2], d[int(len(d) * 0.99)], d[-1], cpu)
if kind == "hostile":
    h = json.load(open(hj))
    line += "; %d status answers (round trip median %s us, p99 %s us), %.0f us of daemon CPU each" % (
        h["answers"], h["rtt_median_us"], h["rtt_p99_us"], cpu * 1000.0 / max(h["answers"], 1))
print(line)
open(med, "a").write("%s %f\n" % (kind, d[len(d) // 2]))
PY
	done
done
awk '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k, v[k] }' "$LAB_TMP/medians" | while read -r k vals; do
	echo "$k: median window error per drill (ms):$(printf ' %.3f' $vals)"
done
