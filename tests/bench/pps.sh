#!/usr/bin/env bash
# Per-packet cost of the table (issue 18) for traffic that is NOT toward a
# target: small-packet UDP packets per second (18-byte payloads by
# sendmmsg, counted at the receiver) and TCP throughput, from the namespace
# holding the table (cli, 198.18.0.1) to 198.18.0.2 in a second namespace
# over a veth pair. The table is installed through the engine (build/bench/pps
# table: a policy file cannot hold 100k targets) with targets from
# 198.18.2.0 and 2001:2:0:100:: up, never the traffic's addresses.
#
# Configurations, interleaved (A B C ... A B C ...) over the rounds, medians:
#   base       no table, conntrack idle in the sender's namespace
#   ct         no okx table; another table whose only rule, in a chain no
#              hook reaches, reads ct state: conntrack tracks the namespace
#              as on most hosts (a stateful firewall, Docker). The okx table
#              turns conntrack on by itself (its ct state rule), so ratios
#              to ct are the table's own cost, ratios to base include
#              conntrack's.
#   N:wait     the table with N target prefixes, waiting to arm
#   N:live     the same with fault 0 (drop) live on the targets
#   ...:tcp443 the same with a tcp port 443 scope (exempt port 22): the
#              bench's traffic is out of scope by protocol or port; without
#              the suffix (PPS_SCOPE, default any) every packet is in scope
#              but for its address, and the address lookup decides
#
#   PPS_ROUNDS (default 5)  PPS_SECS (default 2, per measurement)
#   PPS_CONFIGS (default: base ct 10:wait 10:live 1000:wait 1000:live
#     10000:wait 10000:live 100000:wait 100000:live 10000:wait:tcp443)
#   PPS_PIN (default 1): sender on CPU 0, receiver on CPU 1 (taskset), when
#     there are two CPUs or more
# A benchmark, not a test: it prints numbers and fails only when it cannot
# run. Namespaces (okxt-bench-pps-PID-cli/-srv) are removed on every exit.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCH=${BENCH:-$TOP/build/bench}
LAB=${LAB:-$TOP/build/lab}
ROUNDS=${PPS_ROUNDS:-5}
SECS=${PPS_SECS:-2}
SCOPE=${PPS_SCOPE:-any}
CONFIGS=${PPS_CONFIGS:-"base ct 10:wait 10:live 1000:wait 1000:live 10000:wait 10000:live 100000:wait 100000:live 10000:wait:tcp443"}
ADDR=198.18.0.2
UPORT=9000
TPORT=5201

die() { echo "pps bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (CAP_NET_ADMIN)"
for x in "$BENCH/pps" "$LAB/netprobe"; do
	[ -x "$x" ] || die "$x not built (make build-tests)"
done
for c in nft ip taskset awk; do command -v $c >/dev/null || die "$c not installed"; done
case $ROUNDS in '' | *[!0-9]*) die "PPS_ROUNDS must be an integer" ;; esac
[ "$ROUNDS" -ge 1 ] || die "PPS_ROUNDS must be >= 1"
case $SCOPE in any | tcp443) ;; *) die "PPS_SCOPE must be any or tcp443" ;; esac
for c in $CONFIGS; do
	[[ $c =~ ^(base|ct|[0-9]+:(wait|live)(:(any|tcp443))?)$ ]] || die "bad configuration '$c' in PPS_CONFIGS"
done

SND=() RCV=()
if [ "${PPS_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	SND=(taskset -c 0) RCV=(taskset -c 1)
fi

. "$TOP/tests/lib/netns.sh"
lab_init bench-pps   # okxt-bench-pps-PID-cli/-srv, removed on every exit path
CLI="$LAB_PREFIX-cli"
SRV="$LAB_PREFIX-srv"
HOLDER=""
cleanup() {
	# the table is owned by the holder's socket: it goes with the holder
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	lab_cleanup
}
trap cleanup EXIT
lab_two   # 198.18.0.1 <-> 198.18.0.2, waits until the link answers
T=$LAB_TMP

has_table() { ip netns exec "$CLI" nft list tables 2>/dev/null | grep -q "inet $1\$"; }
no_table() { ! has_table "$1"; }

# setup CONFIG / teardown CONFIG
setup() {
	local n state scope
	case $1 in
	base) ;;
	ct)
		ip netns exec "$CLI" nft -f - <<-'EOF' || die "cannot add the conntrack baseline table"
			table inet okx_bench_ct {
				chain keep {
					ct state new counter
				}
			}
		EOF
		;;
	*)
		IFS=: read -r n state scope <<<"$1"
		ip netns exec "$CLI" "$BENCH/pps" table "$n" "$state" "${scope:-$SCOPE}" >"$T/holder.out" 2>"$T/holder.err" &
		HOLDER=$!
		wait_for -t 300 "the table of $n prefixes" grep -q ready "$T/holder.out"
		;;
	esac
}
teardown() {
	case $1 in
	base) ;;
	ct) ip netns exec "$CLI" nft delete table inet okx_bench_ct || die "cannot delete the conntrack table" ;;
	*)
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
		HOLDER=""
		wait_for -t 60 "the table to go with its owner" no_table okx_faultd
		;;
	esac
}

# measure CONFIG: one UDP and one TCP measurement, appended to $T/udp.CFG, $T/tcp.CFG
measure() {
	local f=${1//:/_} r
	: >"$T/recv.err"
	"${RCV[@]}" ip netns exec "$SRV" "$BENCH/pps" udp-recv $ADDR $UPORT >"$T/recv.out" 2>"$T/recv.err" &
	r=$!
	wait_for "the UDP receiver" grep -q listening "$T/recv.err"
	"${SND[@]}" ip netns exec "$CLI" "$BENCH/pps" udp-send $ADDR $UPORT "$SECS" >"$T/send.out" || die "udp-send failed"
	wait $r || die "udp-recv failed: $(cat "$T/recv.err")"
	awk '{ print $6 }' "$T/recv.out" >>"$T/udp.$f"
	: >"$T/recv.err"
	"${RCV[@]}" ip netns exec "$SRV" "$BENCH/pps" tcp-recv $ADDR $TPORT >"$T/recv.out" 2>"$T/recv.err" &
	r=$!
	wait_for "the TCP receiver" grep -q listening "$T/recv.err"
	"${SND[@]}" ip netns exec "$CLI" "$BENCH/pps" tcp-send $ADDR $TPORT "$SECS" || die "tcp-send failed"
	wait $r || die "tcp-recv failed: $(cat "$T/recv.err")"
	awk '{ print $6 }' "$T/recv.out" >>"$T/tcp.$f"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -g "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

echo "pps bench: $ROUNDS rounds of ${SECS}s UDP + ${SECS}s TCP per configuration, interleaved;" \
	"scope $SCOPE unless suffixed; pinning: ${SND[*]:-none} sender, ${RCV[*]:-none} receiver"
echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
	line="round $round:"
	for c in $CONFIGS; do
		setup "$c"
		measure "$c"
		teardown "$c"
		f=${c//:/_}
		line+=" $c $(tail -n1 "$T/udp.$f")pps/$(tail -n1 "$T/tcp.$f")G"
	done
	echo "$line"
done
ct=$(ip netns exec "$CLI" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo "?")
echo "conntrack entries in the sender namespace at the end: $ct (the ct baseline and the table turn it on)"

printf '%-20s %11s %23s %8s %8s %9s %8s %8s\n' config "UDP pps" "(min-max)" "/base" "/ct" "TCP Gb/s" "/base" "/ct"
bu=$(median "$T/udp.base" 2>/dev/null) bt=$(median "$T/tcp.base" 2>/dev/null)
cu=$(median "$T/udp.ct" 2>/dev/null) ctt=$(median "$T/tcp.ct" 2>/dev/null)
for c in $CONFIGS; do
	f=${c//:/_}
	u=$(median "$T/udp.$f") t=$(median "$T/tcp.$f")
	awk -v c="$c" -v u="$u" -v r="$(range "$T/udp.$f")" -v t="$t" -v bu="${bu:-0}" -v cu="${cu:-0}" \
		-v bt="${bt:-0}" -v ct="${ctt:-0}" 'function q(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "-" }
		BEGIN { printf "%-20s %11.0f %23s %8s %8s %9.2f %8s %8s\n", c, u, "(" r ")", q(u, bu), q(u, cu), t, q(t, bt), q(t, ct) }'
done
