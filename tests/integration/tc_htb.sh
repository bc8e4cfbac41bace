#!/usr/bin/env bash
# okx-faultd's tc tree without netem (runs on kernels that lack sch_netem):
# the HTB root fa17: and one class per delay fault (sparse fault indices),
# packets steered into a class only by skb->priority (nft `meta priority
# set`), non-target traffic through HTB's direct queue, class counters equal
# to the kernel's, a stale tree of ours replaced, a foreign root qdisc (also
# one squatting on fa17:) refused and left untouched, remove and cleanup
# restoring the default root exactly, a failed install rolled back, and the
# delay interface resolved by name and by route.
set -u
. "$TOP/tests/lib/netns.sh"
PROBE=${NETEM_PROBE:-$TOP/build/bench/netem_probe}
NP="$LAB/netprobe"
[ -x "$PROBE" ] || fail "$PROBE missing (make build-tests)"
[ -x "$NP" ] || fail "$NP missing (make build-tests)"
lab_init netem
lab_two

qd() { in_cli tc qdisc show dev "${1:-veth-c}"; }
probe() { in_cli "$PROBE" "$@"; }
# class_pkts CLASSID: the kernel's "Sent N bytes M pkt" for that class
class_sent() { in_cli tc -s class show dev veth-c classid "$1" | sed -n 's/^ *Sent \([0-9]*\) bytes \([0-9]*\) pkt.*/\2 \1/p'; }

before=$(qd)
note "default root: $before"
case $before in "qdisc "*" 0: root"*) ;; *) fail "unexpected default root: $before" ;; esac

# --- install on the default root, classes at fault index + 1 ---------------
expect_rc 0 probe check veth-c
expect_rc 0 probe install --no-leaf veth-c drop delay:100 pause delay:50:10:1500
qd | grep -q '^qdisc htb fa17: root .*default 0 .*direct_qlen 1000' || fail "htb root: $(qd)"
cls=$(in_cli tc class show dev veth-c)
note "$cls"
grep -q '^class htb fa17:2 root .*rate 10Gbit ceil 10Gbit' <<<"$cls" || fail "class fa17:2: $cls"
grep -q "burst 0b" <<<"$cls" && fail "no burst: $cls"
grep -q '^class htb fa17:4 root .*rate 10Gbit ceil 10Gbit' <<<"$cls" || fail "class fa17:4: $cls"
[ "$(grep -c '^class' <<<"$cls")" = 2 ] || fail "expected exactly the classes of the 2 delay faults: $cls"
in_cli tc -d class show dev veth-c classid fa17:2 | grep -q 'quantum 60000' || fail "quantum"
expect_rc 0 probe check veth-c # ours: fine

# --- classification by priority only --------------------------------------
[ "$(probe priority 1)" = fa17:2 ] || fail "priority of fault 1: $(probe priority 1)"
in_cli nft -f - <<EOF || fail "nft"
table inet okxt_netem {
	chain out {
		type filter hook output priority 0;
		ip daddr 198.18.0.2 meta priority set $(probe priority 1)
	}
}
EOF
serve "$LAB_TMP/sink2.err" srv "$NP" udp-sink 198.18.0.2 9000 --seconds 10 --expect 20 >/dev/null
serve "$LAB_TMP/sink3.err" srv "$NP" udp-sink 198.18.0.3 9000 --seconds 10 --expect 30 >/dev/null
direct0=$(qd | sed -n 's/.*direct_packets_stat \([0-9]*\).*/\1/p')
in_cli "$NP" udp-send 198.18.0.2 9000 --count 20 >/dev/null || fail "udp to the target"
in_cli "$NP" udp-send 198.18.0.3 9000 --count 30 >/dev/null || fail "udp to the non-target"
read -r kpkts kbytes <<<"$(class_sent fa17:2)"
[ "$kpkts" = 20 ] || fail "class fa17:2 sent $kpkts packets, expected the 20 target datagrams"
expect_rc 0 probe stats veth-c 1
[ "$out" = "packets 20 bytes $kbytes" ] || fail "probe stats: '$out', kernel: 20 pkts $kbytes bytes"
expect_rc 0 probe stats veth-c 3
[ "$out" = "packets 0 bytes 0" ] || fail "fault 3 saw traffic: $out"
expect_rc 2 probe stats veth-c 0 # drop fault: no class (ENOENT)
direct1=$(qd | sed -n 's/.*direct_packets_stat \([0-9]*\).*/\1/p')
[ $((direct1 - direct0)) -ge 30 ] || fail "non-target traffic not through the direct queue ($direct0 -> $direct1)"
note "class fa17:2: 20 packets $kbytes bytes; direct queue: +$((direct1 - direct0))"

# --- a stale tree of ours is replaced -----------------------------------------
expect_rc 0 probe install --no-leaf veth-c delay:10
grep -q 'removing a stale okx-faultd qdisc' <<<"$out" || fail "stale tree not reported: $out"
cls=$(in_cli tc class show dev veth-c)
[ "$(grep -c '^class' <<<"$cls")" = 1 ] && grep -q '^class htb fa17:1 ' <<<"$cls" || fail "after reinstall: $cls"

# --- remove restores the default exactly; twice is fine -----------------------
expect_rc 0 probe remove veth-c
[ "$(qd)" = "$before" ] || fail "remove left: $(qd)"
expect_rc 0 probe remove veth-c
[ "$(qd)" = "$before" ] || fail "second remove changed: $(qd)"

# --- foreign roots are refused and untouched -----------------------------------
in_cli tc qdisc add dev veth-c root tbf rate 1mbit burst 32k latency 400ms || fail "tbf"
foreign=$(qd)
h=$(awk '{print $3}' <<<"$foreign")
expect_rc 16 probe check veth-c
grep -q "root qdisc tbf $h was not installed by okx-faultd; refusing" <<<"$out" || fail "message: $out"
expect_rc 16 probe install veth-c delay:100
expect_rc 16 probe install --no-leaf veth-c delay:100
expect_rc 0 probe remove veth-c
expect_rc 0 probe cleanup
[ "$out" = "removed 0" ] || fail "cleanup with a foreign root: $out"
[ "$(qd)" = "$foreign" ] || fail "foreign root changed: $(qd)"
in_cli tc qdisc del dev veth-c root || fail "del tbf"
# a foreign qdisc squatting on our handle is not ours either
in_cli tc qdisc add dev veth-c root handle fa17: tbf rate 1mbit burst 32k latency 400ms || fail "tbf fa17:"
foreign=$(qd)
expect_rc 16 probe check veth-c
grep -q "root qdisc tbf fa17: was not installed" <<<"$out" || fail "message: $out"
expect_rc 0 probe cleanup
[ "$(qd)" = "$foreign" ] || fail "foreign fa17: root changed: $(qd)"
in_cli tc qdisc del dev veth-c root || fail "del tbf fa17:"
[ "$(qd)" = "$before" ] || fail "lab not back to default: $(qd)"

# --- cleanup removes stale trees on every interface, nothing else -------------
in_cli ip link add v2a type veth peer name v2b || fail "second veth"
in_cli ip link set v2a up
in_cli ip link set v2b up
before2=$(qd v2a)
in_cli tc qdisc add dev veth-c root handle fa17: htb default 0 || fail "stale 1"
in_cli tc qdisc add dev v2a root handle fa17: htb default 0 || fail "stale 2"
in_cli tc qdisc add dev v2b root tbf rate 1mbit burst 32k latency 400ms || fail "foreign on v2b"
foreign=$(qd v2b)
expect_rc 0 probe cleanup
[ "$(tail -n1 <<<"$out")" = "removed 2" ] || fail "cleanup: $out"
[ "$(qd)" = "$before" ] || fail "cleanup left on veth-c: $(qd)"
[ "$(qd v2a)" = "$before2" ] || fail "cleanup left on v2a: $(qd v2a)"
[ "$(qd v2b)" = "$foreign" ] || fail "cleanup touched a foreign root: $(qd v2b)"

# --- without sch_netem a real install fails and rolls back ----------------------
# the kernel is asked (a netem on the lab's loopback), as the daemon does
if ! in_cli tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
	expect_rc 95 probe install veth-c delay:100 # EOPNOTSUPP
	grep -q 'this kernel has no netem qdisc' <<<"$out" || fail "no reason given: $out"
	[ "$(qd)" = "$before" ] || fail "failed install not rolled back: $(qd)"
	note "install without sch_netem: rolled back"
fi

# --- the delay interface -----------------------------------------------------------
ifx=$(in_cli cat /sys/class/net/veth-c/ifindex)
expect_rc 0 probe resolve veth-c
[ "$out" = "$ifx veth-c" ] || fail "resolve by name: $out"
expect_rc 0 probe resolve "" 198.18.0.2
[ "$out" = "$ifx veth-c" ] || fail "resolve by route: $out"
expect_rc 0 probe resolve "" 198.18.0.0/24
[ "$out" = "$ifx veth-c" ] || fail "resolve by route (CIDR): $out"
expect_rc 0 probe resolve "" 2001:2::2
[ "$out" = "$ifx veth-c" ] || fail "resolve by route (v6): $out"
expect_rc 19 probe resolve okx-nosuch0
expect_rc 101 probe resolve "" 203.0.113.7 # no default route in the lab: ENETUNREACH
echo "tc_htb OK"
