#!/usr/bin/env bash
# Per-packet cost of the table (issue 18) for traffic that is NOT toward a
# target: small-packet UDP packets per second (18-byte payloads by
# sendmmsg, counted at the receiver) and TCP throughput, from the namespace
# holding the table (cli, 198.18.0.1) to 198.18.0.2 in a second namespace
# over a veth pair. The table is installed through the engine (build/bench/pps
# table: a policy file cannot hold 100k targets) with targets from
# 198.18.2.0 and 2001:2:0:100::/96 up, never the traffic's addresses.
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
#   N:wait:SCOPE  the same with another scope than PPS_SCOPE (default any:
#              every packet is in scope but for its address, the address
#              lookup decides): tcpP or udpP, that protocol and port P with
#              port 22 exempt. The traffic is UDP to port 9000 and TCP to
#              5201: tcp443 puts the UDP out of scope by protocol, udp443 by
#              port, udp9000 in scope but for its address.
#   CONFIG+in  the same with the traffic to 198.18.20.1 instead, an odd
#              address between two targets when there are 4,610 or more:
#              inside the cover set when the table has one (README, "Cost
#              to other traffic"), so it pays both lookups; without +in the
#              traffic goes to 198.18.0.2, below every target (outside the
#              cover)
#   CONFIG@alt the same with the pps program $PPS_ALT (another build of the
#              library: before/after a change of the table, in one run)
#
#   PPS_ROUNDS (default 5)  PPS_SECS (default 2, per measurement)
#   PPS_CONFIGS (default: base ct 10:wait 10:live 1000:wait 1000:live
#     10000:wait 10000:live 100000:wait 100000:live 10000:wait+in
#     10000:wait:tcp443)
#   PPS_TCP (default 1; 0: UDP only)
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
CONFIGS=${PPS_CONFIGS:-"base ct 10:wait 10:live 1000:wait 1000:live 10000:wait 10000:live 100000:wait 100000:live 10000:wait+in 10000:wait:tcp443"}
ADDR=198.18.0.2
INADDR=198.18.20.1   # between targets 198.18.20.0 and .2 (pps.c's generator)
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
[[ $SCOPE =~ ^(any|tcp[0-9]+|udp[0-9]+)$ ]] || die "PPS_SCOPE must be any, tcpPORT or udpPORT"
for c in $CONFIGS; do
	[[ $c =~ ^(base|ct|[0-9]+:(wait|live)(:(any|tcp[0-9]+|udp[0-9]+))?)(\+in)?(@alt)?$ ]] || die "bad configuration '$c' in PPS_CONFIGS"
	[[ $c != *@alt ]] || [ -x "${PPS_ALT:-}" ] || die "configuration $c: PPS_ALT is not an executable"
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
ip -n "$SRV" addr add $INADDR/32 dev veth-s || die "cannot add $INADDR"
ip -n "$CLI" route add $INADDR/32 dev veth-c || die "cannot route $INADDR"
T=$LAB_TMP

has_table() { ip netns exec "$CLI" nft list tables 2>/dev/null | grep -q "inet $1\$"; }
no_table() { ! has_table "$1"; }

# the holder said ready, or is gone
holder_up() { grep -q ready "$T/holder.out" || ! kill -0 "$HOLDER" 2>/dev/null; }

# setup CONFIG / teardown CONFIG
setup() {
	local n state scope pps=$BENCH/pps c=$1
	[[ $c == *@alt ]] && pps=$PPS_ALT c=${c%@alt}
	c=${c%+in}
	case $c in
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
		IFS=: read -r n state scope <<<"$c"
		ip netns exec "$CLI" "$pps" table "$n" "$state" "${scope:-$SCOPE}" >"$T/holder.out" 2>"$T/holder.err" &
		HOLDER=$!
		wait_for -t 300 "the table of $n prefixes" holder_up
		grep -q ready "$T/holder.out" || die "the table of $n prefixes: $(cat "$T/holder.err")"
		;;
	esac
}
teardown() {
	local c=${1%@alt}
	case ${c%+in} in
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

# measure CONFIG: one UDP and one TCP measurement, appended (one line a
# round) to $T/udp.F (receiver's pps), $T/cpu.F (the sender's CPU ns per
# datagram: less sensitive than pps to other load on the machine) and
# $T/tcp.F (Gbit/s)
measure() {
	local f r ADDR=$ADDR
	f=$(fname "$1")
	[[ $1 == *+in* ]] && ADDR=$INADDR
	: >"$T/recv.err"
	"${RCV[@]}" ip netns exec "$SRV" "$BENCH/pps" udp-recv $ADDR $UPORT >"$T/recv.out" 2>"$T/recv.err" &
	r=$!
	wait_for "the UDP receiver" grep -q listening "$T/recv.err"
	"${SND[@]}" ip netns exec "$CLI" "$BENCH/pps" udp-send $ADDR $UPORT "$SECS" >"$T/send.out" || die "udp-send failed"
	wait $r || die "udp-recv failed: $(cat "$T/recv.err")"
	awk '{ print $6 }' "$T/recv.out" >>"$T/udp.$f"
	awk '{ print $6 }' "$T/send.out" >>"$T/cpu.$f"
	[ "${PPS_TCP:-1}" = 0 ] && return
	: >"$T/recv.err"
	"${RCV[@]}" ip netns exec "$SRV" "$BENCH/pps" tcp-recv $ADDR $TPORT >"$T/recv.out" 2>"$T/recv.err" &
	r=$!
	wait_for "the TCP receiver" grep -q listening "$T/recv.err"
	"${SND[@]}" ip netns exec "$CLI" "$BENCH/pps" tcp-send $ADDR $TPORT "$SECS" || die "tcp-send failed"
	wait $r || die "tcp-recv failed: $(cat "$T/recv.err")"
	awk '{ print $6 }' "$T/recv.out" >>"$T/tcp.$f"
}

# the file name of a configuration's results
fname() { local f=${1//:/_}; f=${f//+/_}; echo "${f//@/_}"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -g "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }
# median over the rounds of A/B (or A-B with "diff"), each round's
# configuration against the baseline measured in the same round
ratio() {
	[ -s "$T/$2.$3" ] && [ -s "$T/$2.$1" ] || { echo -; return; }
	paste "$T/$2.$1" "$T/$2.$3" | awk -v d="${4:-}" '$2 > 0 { print d ? $1 - $2 : $1 / $2 }' | median |
		awk -v d="${4:-}" '{ printf d ? "%+.1f" : "%.3f", $1 }'
}

tcp=" + ${SECS}s TCP"
[ "${PPS_TCP:-1}" = 0 ] && tcp=""
echo "pps bench: $ROUNDS rounds of ${SECS}s UDP$tcp per configuration, interleaved;" \
	"scope $SCOPE unless suffixed; pinning: ${SND[*]:-none} sender, ${RCV[*]:-none} receiver"
echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
	line="round $round:"
	for c in $CONFIGS; do
		setup "$c"
		measure "$c"
		teardown "$c"
		f=$(fname "$c")
		line+=" $c $(tail -n1 "$T/udp.$f")pps,$(tail -n1 "$T/cpu.$f")ns"
		[ -s "$T/tcp.$f" ] && line+=",$(tail -n1 "$T/tcp.$f")G"
	done
	echo "$line"
done
ct=$(ip netns exec "$CLI" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo "?")
echo "conntrack entries in the sender namespace at the end: $ct (the ct baseline and the table turn it on)"
echo "medians over the rounds; ratios and differences: median over the rounds of each round's value against"
echo "the baseline of the same round (base: no table, conntrack idle; ct: no okx table, conntrack on)"
printf '%-22s %8s %15s %6s %6s %8s %7s %7s %6s %6s %6s\n' config "UDP pps" "(min-max)" /base /ct \
	"ns/pkt" -base -ct "TCP Gb" /base /ct
for c in $CONFIGS; do
	f=$(fname "$c")
	tcp="-"
	[ -s "$T/tcp.$f" ] && tcp=$(median <"$T/tcp.$f" | awk '{ printf "%.2f", $1 }')
	printf '%-22s %8.0f %15s %6s %6s %8.1f %7s %7s %6s %6s %6s\n' "$c" "$(median <"$T/udp.$f")" \
		"($(range "$T/udp.$f"))" "$(ratio "$f" udp base)" "$(ratio "$f" udp ct)" \
		"$(median <"$T/cpu.$f")" "$(ratio "$f" cpu base diff)" "$(ratio "$f" cpu ct diff)" \
		"$tcp" "$(ratio "$f" tcp base)" "$(ratio "$f" tcp ct)"
done
