#!/usr/bin/env bash
# The conntrack event filter (issue 18): what unrelated connections cost the
# arming watch as the target set grows. build/bench/ct_probe runs the watch
# alone (tests/bench/ct_probe.c) with the policy's target plus N synthetic
# IPv4 ranges in 10.0.0.0/8 (--ranges: a policy file holds about 35,000
# targets, this reaches 100,000); meanwhile netprobe opens FLOWS new UDP
# flows to 198.18.0.3, outside the targets. Reported: the probe's CPU time
# (cpu_us: user + system after the open) for that, against a baseline of the
# same wall time with no connections, and the NEW events that reached user
# space. "no filter" is the probe with its filter detached (--no-filter):
# what any set past 1,000 ranges cost before the filter coarsened.
#
#   CTF_ROUNDS (default 3)    rounds per configuration (medians)
#   CTF_FLOWS (default 20000) unrelated flows per round
#   CTF_SECONDS (default 3)   each probe's wall time
#
# Two throwaway namespaces (tests/lib/netns.sh, 198.18.0.0/15, no route
# out), removed on every exit path. A benchmark, not a test: it fails only
# when it cannot run.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCH=${BENCH:-$TOP/build/bench}
LAB=${LAB:-$TOP/build/lab}
ROUNDS=${CTF_ROUNDS:-3}
FLOWS=${CTF_FLOWS:-20000}
SECS=${CTF_SECONDS:-3}
PROBE=$BENCH/ct_probe
NP=$LAB/netprobe

die() { echo "ctfilter bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (CAP_NET_ADMIN)"
for x in "$PROBE" "$NP"; do [ -x "$x" ] || die "$x not built (make build-tests)"; done
for c in nft conntrack ip; do command -v $c >/dev/null || die "$c not installed"; done
case $ROUNDS$FLOWS$SECS in *[!0-9]*) die "CTF_ROUNDS / CTF_FLOWS / CTF_SECONDS must be integers" ;; esac
[ "$ROUNDS" -ge 1 ] && [ "$FLOWS" -ge 1 ] && [ "$SECS" -ge 2 ] || die "CTF_ROUNDS, CTF_FLOWS >= 1, CTF_SECONDS >= 2"

. "$TOP/tests/lib/netns.sh"
lab_init bench-ctf   # okxt-bench-ctf-PID-cli/-srv and $LAB_TMP, removed on every exit path
lab_two
# conntrack tracks nothing in a namespace until a rule uses ct
in_cli nft add table inet okxt_bench_ctf || die "nft table"
in_cli nft add chain inet okxt_bench_ctf o '{ type filter hook output priority 0; }' || die "nft chain"
in_cli nft add rule inet okxt_bench_ctf o ct state new counter || die "nft rule"
P="$LAB_TMP/ctf.policy"
cat >"$P" <<EOF || die "policy"
name = ctfilter_bench
target = 198.18.0.2
port = 8080
fault = drop 1s
EOF

# one NAME RANGES FLOWS [PROBE OPTIONS]: one probe run; appends
# "cpu_us events" to $LAB_TMP/NAME.txt, keeps the probe's stderr
one() {
	local name=$1 ranges=$2 flows=$3 t0 t1 out
	shift 3
	in_cli conntrack -F >/dev/null 2>&1
	out="$LAB_TMP/run.out"
	ip netns exec "$LAB_PREFIX-cli" "$PROBE" --seconds "$SECS" --ranges "$ranges" "$@" "$P" \
		>"$out" 2>"$LAB_TMP/$name.err" &
	local pid=$!
	LAB_PIDS+=("$pid")
	wait_for -t 30 "$name: probe ready" log_has "$out" '^ready' ||
		{ cat "$LAB_TMP/$name.err" >&2; die "$name: probe not ready"; }
	if [ "$flows" -gt 0 ]; then
		t0=$EPOCHREALTIME
		in_cli "$NP" flood-udp 198.18.0.3 --flows "$flows" --rate 20000 --port 20000 >/dev/null ||
			die "$name: flood failed"
		t1=$EPOCHREALTIME
		awk -v a="$t0" -v b="$t1" -v s="$SECS" 'BEGIN { exit !(b - a > s - 0.5) }' &&
			echo "# note: $name: the flood took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s of the probe's $SECS s"
	fi
	wait "$pid" || { cat "$LAB_TMP/$name.err" >&2; die "$name: probe exited $?"; }
	sed -n 's/^stats events=\([0-9]*\) .* cpu_us=\([0-9]*\)$/\2 \1/p' "$out" >>"$LAB_TMP/$name.txt"
	grep -q '^stats ' "$out" || die "$name: no stats line"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
col() { cut -d' ' -f"$2" "$LAB_TMP/$1.txt" | median; }

CONFIGS="10 1000 10000 100000"
for r in $(seq "$ROUNDS"); do
	one base 100000 0
	for n in $CONFIGS; do one "r$n" "$n" "$FLOWS"; done
	one nofilter 100000 "$FLOWS" --no-filter
done

base=$(col base 1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
echo "ctfilter: watcher CPU for $FLOWS new UDP flows to 198.18.0.3 (outside the targets), $SECS s per run,"
echo "  medians of $ROUNDS rounds; baseline: the same $SECS s with no connections ($base us)"
echo "  $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %12s %14s\n' "target ranges" "cpu_us" "vs baseline" "events read"
printf '%-28s %12s %12s %14s\n' ---------------------------- ------------ ------------ --------------
printf '%-28s %12s %12s %14s\n' "baseline (100,000, idle)" "$base" "1.0x" "$(col base 2)"
for n in $CONFIGS; do
	c=$(col "r$n" 1)
	printf '%-28s %12s %12s %14s\n' "$n" "$c" "$(ratio "$c" "$base")" "$(col "r$n" 2)"
done
c=$(col nofilter 1)
printf '%-28s %12s %12s %14s\n' "100000, no filter (old)" "$c" "$(ratio "$c" "$base")" "$(col nofilter 2)"
for n in $CONFIGS; do
	m=$(grep -m1 'more than the event filter holds' "$LAB_TMP/r$n.err")
	[ -n "$m" ] && echo "  $n: ${m#*: }"
done
exit 0
