#!/usr/bin/env bash
# Scoped netem delay on a kernel with sch_netem (the VM suite: make check-vm).
# The tree installed on the client veth has the right HTB root, classes and
# netem parameters; it delays nothing until target packets get the fault's
# priority (nft `meta priority set`, what the nftables engine does while a
# fault is live); then ping RTT to the target (v4 and v6) rises by the
# latency while a non-target address on the same interface is unchanged; a
# 100 % loss fault drops every target packet and the class counters count
# each packet; remove restores the previous root qdisc exactly; a foreign
# root is refused; a tree left by a dead process is removed by cleanup.
set -u
. "$TOP/tests/lib/netns.sh"
PROBE=${NETEM_PROBE:-$TOP/build/bench/netem_probe}
NP="$LAB/netprobe"
[ -x "$PROBE" ] || fail "$PROBE missing (make build-tests)"
need_netem
lab_init netem
lab_two

qd() { in_cli tc qdisc show dev veth-c; }
probe() { in_cli "$PROBE" "$@"; }
PING=(ping)
command -v ping >/dev/null 2>&1 || PING=(busybox ping)
# rtt ADDR [-6]: average ping RTT in whole ms (5 pings), "lost" when none came back
rtt() {
	local o avg
	o=$(in_cli "${PING[@]}" ${2:-} -c 5 -i 0.2 -w 4 -q "$1" 2>&1)
	avg=$(sed -n 's|.*min/avg/max[^=]*= *[0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$o")
	[ -n "$avg" ] || { echo lost; return; }
	printf '%.0f\n' "$avg"
}
# within VALUE LO HI
within() { [ "$1" != lost ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
class_pkts() { in_cli tc -s class show dev veth-c classid "$1" | sed -n 's/^ *Sent [0-9]* bytes \([0-9]*\) pkt (dropped \([0-9]*\).*/\1 \2/p'; }

before=$(qd)
base2=$(rtt 198.18.0.2)
base3=$(rtt 198.18.0.3)
note "default root: $before; baseline RTT .2 ${base2} ms, .3 ${base3} ms"
within "$base2" 0 40 && within "$base3" 0 40 || fail "baseline RTT too high to measure a delay: $base2 / $base3"

# --- install: faults 0 drop, 1 delay 100ms, 2 delay 50ms 10ms 1.5 %, 3 delay 20ms 100 % loss
expect_rc 0 probe check veth-c
expect_rc 0 probe install veth-c drop delay:100 delay:50:10:1500 delay:20:0:100000
tcq=$(qd)
note "$tcq"
grep -q '^qdisc htb fa17: root .*default 0 .*direct_qlen 1000' <<<"$tcq" || fail "htb root"
grep -Eq '^qdisc netem [0-9a-f]+: parent fa17:2 limit 10000 delay 100ms *$' <<<"$tcq" || fail "netem under fa17:2"
grep -Eq '^qdisc netem [0-9a-f]+: parent fa17:3 limit 10000 delay 50ms +10ms loss 1\.5%' <<<"$tcq" || fail "netem under fa17:3"
grep -Eq '^qdisc netem [0-9a-f]+: parent fa17:4 limit 10000 delay 20ms loss 100%' <<<"$tcq" || fail "netem under fa17:4"
cls=$(in_cli tc class show dev veth-c)
for c in 2 3 4; do grep -q "^class htb fa17:$c root .*rate 10Gbit ceil 10Gbit" <<<"$cls" || fail "class fa17:$c: $cls"; done
[ "$(grep -c '^class' <<<"$cls")" = 3 ] || fail "expected 3 classes: $cls"

# --- inert while no packet carries a fault's priority ------------------------------
r=$(rtt 198.18.0.2)
within "$r" 0 $((base2 + 30)) || fail "delay active without a live fault: .2 RTT $r ms"

# --- live: target delayed by the latency, non-target untouched ---------------------
in_cli nft -f - <<EOF || fail "nft"
table inet okxt_netem {
	chain out {
		type filter hook output priority 0;
		ip daddr 198.18.0.2 meta priority set $(probe priority 1)
		ip6 daddr 2001:2::2 meta priority set $(probe priority 1)
		ip daddr 198.18.0.4 meta priority set $(probe priority 3)
	}
}
EOF
r2=$(rtt 198.18.0.2)
r3=$(rtt 198.18.0.3)
r6=$(rtt 2001:2::2 -6)
note "live: .2 ${r2} ms, .3 ${r3} ms, 2001:2::2 ${r6} ms"
within "$r2" 100 $((base2 + 160)) || fail "target RTT $r2 ms, expected ~100 ms more than $base2"
within "$r6" 100 $((base2 + 160)) || fail "v6 target RTT $r6 ms"
within "$r3" 0 $((base3 + 30)) || fail "non-target RTT changed: $r3 ms (baseline $base3)"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 20
t=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 3000) || fail "tcp to the target: $t"
ms=$(awk '{printf "%d", $2}' <<<"$t")
[ "$ms" -ge 95 ] || fail "tcp connect to the target took $ms ms, expected >= the 100 ms latency"
note "tcp connect to the target: $ms ms"

# --- counters ----------------------------------------------------------------------
expect_rc 0 probe stats veth-c 1
read -r kp kd <<<"$(class_pkts fa17:2)"
n=$(awk '{print $2}' <<<"$out")
[ "$n" = "$kp" ] && [ "$n" -ge 10 ] || fail "fault 1 stats '$out', kernel class: $kp packets"
r4=$(rtt 198.18.0.4)
[ "$r4" = lost ] || fail "100 % loss fault let pings through ($r4 ms)"
expect_rc 0 probe stats veth-c 3
read -r kp kd <<<"$(class_pkts fa17:4)"
n=$(awk '{print $2}' <<<"$out")
[ "$kd" -ge 5 ] && [ "$n" = $((kp + kd)) ] || fail "fault 3 stats '$out', kernel: sent $kp dropped $kd"
note "fault 3 (100 % loss): $n packets counted, $kd dropped by netem"

# --- remove: back to the default, and undelayed ---------------------------------------
expect_rc 0 probe remove veth-c
[ "$(qd)" = "$before" ] || fail "remove left: $(qd)"
r=$(rtt 198.18.0.2)
within "$r" 0 $((base2 + 30)) || fail "still delayed after remove: $r ms"
expect_rc 2 probe stats veth-c 1

# --- foreign root refused ---------------------------------------------------------------
in_cli tc qdisc add dev veth-c root tbf rate 100mbit burst 32k latency 400ms || fail "tbf"
foreign=$(qd)
expect_rc 16 probe check veth-c
grep -q 'root qdisc tbf .* was not installed by okx-faultd' <<<"$out" || fail "message: $out"
expect_rc 16 probe install veth-c delay:100
[ "$(qd)" = "$foreign" ] || fail "foreign root changed: $(qd)"
in_cli tc qdisc del dev veth-c root || fail "del tbf"

# --- a tree left by a dead process: install then exit without removing -----------------
expect_rc 0 probe install veth-c delay:100
qd | grep -q '^qdisc netem' || fail "no netem after install"
expect_rc 0 probe cleanup
[ "$(tail -n1 <<<"$out")" = "removed 1" ] || fail "cleanup: $out"
[ "$(qd)" = "$before" ] || fail "cleanup left: $(qd)"
echo "netem_delay OK"
