#!/usr/bin/env bash
# Arm latency (issue 4): how fast okx-faultd puts a fault live after the
# first qualifying connection, and how close to plan it ends it, against the
# baseline users write today (a shell loop polling conntrack every second,
# then `nft -f` of a drop rule), measured in the same run.
#
#   ARM_DRILLS (default 500)   okx-faultd drills (arm_min_flows = 1, drop 20ms)
#   ARM_BASELINE (default 30)  baseline runs (about 1.1 s each)
#
# Everything runs in the test lab of tests/lib/netns.sh (two throwaway
# namespaces, okxt-bench-arm-PID-cli/-srv, 198.18.0.1 <-> 198.18.0.2 on a
# veth pair, no route out), removed on every exit path. A benchmark, not a test: it prints numbers and fails only
# when it cannot run.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCH=${BENCH:-$TOP/build/bench}
LAB=${LAB:-$TOP/build/lab}
OKX_FAULTD=${OKX_FAULTD:-$TOP/okx-faultd}
DRILLS=${ARM_DRILLS:-500}
RUNS=${ARM_BASELINE:-30}
ADDR=198.18.0.2
PORT=8443

die() { echo "arm bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (CAP_NET_ADMIN)"
for x in "$BENCH/arm_client" "$LAB/netprobe" "$OKX_FAULTD"; do
	[ -x "$x" ] || die "$x not built (make build-tests)"
done
for c in nft conntrack ip; do command -v $c >/dev/null || die "$c not installed"; done
case $DRILLS$RUNS in *[!0-9]*) die "ARM_DRILLS / ARM_BASELINE must be integers" ;; esac
[ "$DRILLS" -ge 1 ] && [ "$RUNS" -ge 1 ] || die "ARM_DRILLS / ARM_BASELINE must be >= 1"

. "$TOP/tests/lib/netns.sh"
lab_init bench-arm   # okxt-bench-arm-PID-cli/-srv, removed on every exit path
CLI="$LAB_PREFIX-cli"
PIDS=()
TMP=""
cleanup() {
	local p
	# SIGTERM first: arm_client takes its daemon down with it
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	[ -n "$TMP" ] && rm -rf "$TMP"
	lab_cleanup
}
trap cleanup EXIT

# journals on tmpfs: the daemon fsyncs every line, the disk must not be measured
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	TMP=$(mktemp -d /dev/shm/okxt-bench-arm.XXXXXX) || die "mktemp"
else
	TMP=$(mktemp -d /tmp/okxt-bench-arm.XXXXXX) || die "mktemp"
	echo "# note: /dev/shm is not tmpfs; journals in $TMP ($(stat -f -c %T "$TMP"))"
fi

lab_two   # 198.18.0.1 <-> 198.18.0.2, waits until the link answers
bg_srv "$LAB/netprobe" tcp-serve $ADDR $PORT --seconds 600 >/dev/null 2>&1
up=""
for i in $(seq 50); do
	in_cli "$LAB/netprobe" tcp $ADDR $PORT --timeout-ms 200 >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
[ -n "$up" ] || die "no call to $ADDR:$PORT succeeded: server not up"

cat > "$TMP/arm.policy" <<P || die "policy"
name = arm_bench
target = $ADDR
port = $PORT
arm_min_flows = 1
arm_timeout = 30s
fault = drop 20ms
P
"$OKX_FAULTD" -c "$TMP/arm.policy" >/dev/null || die "policy rejected"

# --- 1 and 2: okx-faultd, one daemon per drill ------------------------------
t_start=$EPOCHREALTIME
# not through in_cli: $! must be arm_client itself (ip netns exec execs), so the
# trap's kill reaches it, and it takes its daemon down
ip netns exec "$CLI" "$BENCH/arm_client" drills --daemon "$OKX_FAULTD" --policy "$TMP/arm.policy" \
	--journal-dir "$TMP" --count "$DRILLS" --out "$TMP/okx.txt" $ADDR $PORT &
PIDS+=($!)
wait $! || die "okx-faultd drills failed"
t_okx=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

# --- 3: the baseline: poll conntrack every second, then nft -f --------------
# conntrack tracks only once a rule uses it: a ct rule of our own
in_cli nft -f - <<'N' || die "nft: ct rule"
table inet okxt_bench_ct {
	chain out { type filter hook output priority 0; policy accept; ct state new counter; }
}
N
cat > "$TMP/drop.nft" <<N
table inet okxt_bench_drop {
	chain out { type filter hook output priority 0; policy accept; ip daddr $ADDR tcp dport $PORT drop; }
	chain in { type filter hook input priority 0; policy accept; ip saddr $ADDR tcp sport $PORT drop; }
}
N
in_cli nft -c -f "$TMP/drop.nft" || die "nft -c: the baseline drop rule"
# the loop a user writes (bounded here: 10 polls), printing when the rule is live
cat > "$TMP/poll.sh" <<'S'
for i in 1 2 3 4 5 6 7 8 9 10; do
	if conntrack -L -p tcp -d "$1" --dport "$2" 2>/dev/null | grep -q .; then
		nft -f "$3" || exit 1
		echo "$EPOCHREALTIME"
		exit 0
	fi
	sleep 1
done
exit 1
S
t_start=$EPOCHREALTIME
: > "$TMP/base.txt"
for r in $(seq "$RUNS"); do
	in_cli conntrack -F >/dev/null 2>&1
	ip netns exec "$CLI" bash "$TMP/poll.sh" $ADDR $PORT "$TMP/drop.nft" > "$TMP/poll.out" &
	P=$!
	PIDS+=($P)
	# connect at a random phase of the 1 s polling period
	sleep "$(printf '0.%03d' $((20 + RANDOM % 980)))"
	t0=$(in_cli "$BENCH/arm_client" connect $ADDR $PORT) || die "baseline connect"
	wait $P || die "baseline run $r: the poll loop never saw the flow"
	t1=$(cat "$TMP/poll.out")
	[ -n "$t1" ] || die "baseline run $r: no time stamp"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1e6 }' >> "$TMP/base.txt"
	in_cli nft delete table inet okxt_bench_drop || die "nft delete table"
done
t_base=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

# --- report -------------------------------------------------------------------
st() { "$BENCH/arm_client" stats "$@"; }
read -r n_okx arm_med arm_p99 arm_min arm_max < <(cut -d' ' -f2 "$TMP/okx.txt" | st --scale 0.001) || die "stats"
read -r _ det_med det_p99 _ _ < <(cut -d' ' -f3 "$TMP/okx.txt" | st --scale 0.001) || die "stats"
read -r _ com_med com_p99 _ _ < <(cut -d' ' -f4 "$TMP/okx.txt" | st --scale 0.001) || die "stats"
read -r _ win_med win_p99 win_min win_max < <(cut -d' ' -f5 "$TMP/okx.txt" | st) || die "stats"
read -r n_base base_med base_p99 base_min base_max < <(st --scale 0.001 < "$TMP/base.txt") || die "stats"

verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "met" : "MISSED" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0fx", a / b; else print "-" }'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "arm latency: connect() (client, CLOCK_REALTIME) -> fault_begin.ts (kernel ack)"
echo "  $n_okx drills of okx-faultd (arm_min_flows = 1, fault = drop 20ms, journal on $(stat -f -c %T "$TMP")) in ${t_okx} s;"
echo "  baseline: $n_base runs of a 1 s 'conntrack -L' poll loop + 'nft -f' (until nft returned) in ${t_base} s;"
echo "  nearest-rank percentiles; $(nproc) CPUs, load average $load"
printf '%-36s %11s %11s %11s  %s\n' metric median p99 target 'target met'
printf '%-36s %11s %11s %11s  %s\n' ------------------------------------ ----------- ----------- ----------- -----------
printf '%-36s %8.3f ms %8.3f ms %11s  %s\n' "okx-faultd arm latency" "$arm_med" "$arm_p99" \
	"p99 < 1 ms" "$(verdict "$arm_p99" 1)"
printf '%-36s %8.3f ms %8.3f ms %11s\n' "  connect() -> invoke_ts (detect)" "$det_med" "$det_p99" ""
printf '%-36s %8.3f ms %8.3f ms %11s\n' "  invoke_ts -> ts (nft commit)" "$com_med" "$com_p99" ""
printf '%-36s %8.3f ms %8.3f ms %11s  %s\n' "window-end error |actual - planned|" "$win_med" "$win_p99" \
	"p99 < 1 ms" "$(verdict "$win_p99" 1)"
printf '%-36s %8.1f ms %8.1f ms %11s\n' "baseline: poll 1 s + nft -f" "$base_med" "$base_p99" ""
printf '%-36s %11s %11s %11s\n' "ratio baseline / okx-faultd" "$(ratio "$base_med" "$arm_med")" \
	"$(ratio "$base_p99" "$arm_p99")" ""
printf '  ranges: arm %.3f..%.3f ms, window-end error %.3f..%.3f ms, baseline %.1f..%.1f ms\n' \
	"$arm_min" "$arm_max" "$win_min" "$win_max" "$base_min" "$base_max"
exit 0
