#!/usr/bin/env bash
# delay faults through the daemon (issue 5), on a kernel with sch_netem
# (make check-vm): the target's TCP connect time rises by the latency during
# the window and returns after; a non-target on the same interface is
# unchanged; SIGKILL mid-delay stops the delay at once and --cleanup leaves
# the interface as before; a foreign root qdisc makes the drill refuse with
# exit 2 before touching anything.
set -u
. "$TOP/tests/lib/netns.sh"
need_netem
lab_init delay
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/s2.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
serve "$LAB_TMP/s3.log" srv "$NP" tcp-serve 198.18.0.3 8443 --seconds 120
qd() { in_cli tc qdisc show dev veth-c; }
conn_ms() { # addr -> median connect time of 3 tries, ms
	local a=$1 t v=()
	for t in 1 2 3; do
		o=$(in_cli "$NP" tcp "$a" 8443 --timeout-ms 5000) || fail "connect $a: $o"
		v+=("${o##* }")
	done
	printf '%s\n' "${v[@]}" | sort -n | sed -n 2p
}
before=$(qd)
b2=$(conn_ms 198.18.0.2)
b3=$(conn_ms 198.18.0.3)
note "baseline connect: target $b2 ms, non-target $b3 ms; qdisc: $before"
cat > "$LAB_TMP/d.policy" <<P
name = delay_test
target = 198.18.0.2
port = 8443
arm_min_flows = 0
fault = delay 6s latency=300ms
P
J="$LAB_TMP/d.jsonl"
bg_cli "$OKX_FAULTD" -j "$J" "$LAB_TMP/d.policy" 2>"$LAB_TMP/d.log"
D=$!
wait_for "the delay fault to begin" journal_has "$J" fault_begin
qd | grep -q '^qdisc htb fa17: root' || fail "no okx-faultd HTB root during the drill: $(qd)"
d2=$(conn_ms 198.18.0.2)
d3=$(conn_ms 198.18.0.3)
note "during delay: target $d2 ms, non-target $d3 ms"
[ "$d2" -ge $((b2 + 280)) ] || fail "target connect $d2 ms, expected >= baseline $b2 + 300 ms latency"
[ "$d3" -le $((b3 + 150)) ] || fail "non-target connect changed: $d3 ms (baseline $b3)"
wait $D || { cat "$LAB_TMP/d.log"; fail "delay drill failed"; }
a2=$(conn_ms 198.18.0.2)
note "after: target $a2 ms"
[ "$a2" -le $((b2 + 150)) ] || fail "still delayed after the window: $a2 ms"
[ "$(qd)" = "$before" ] || fail "interface not restored: $(qd) (was $before)"
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
[ "$(py "ev['fault_end'][0]['hits']['packets'] >= 6")" = True ] || fail "delay hits: $(py "ev['fault_end'][0]['hits']")"
[ "$(py "ev['fault_end'][0]['netem']['sent_packets'] > 0")" = True ] || fail "netem class stats: $(py "ev['fault_end'][0].get('netem')")"

# the dry run's "# tc" lines are real iproute2 commands: run them and get
# the tree the daemon installs. Structure only: the kernel-chosen netem
# handle and every statistic traffic moves (HTB prints direct_packets_stat
# even without -s) are masked, so stray packets cannot fail the comparison.
tree() {
	{ in_cli tc qdisc show dev veth-c; in_cli tc class show dev veth-c; } |
		sed -E 's/^qdisc netem [0-9a-f]*:/qdisc netem N:/; s/ leaf [0-9a-f]*:/ leaf N:/; s/ direct_packets_stat [0-9]+//'
}
in_cli "$OKX_FAULTD" -n "$LAB_TMP/d.policy" > "$LAB_TMP/dry.out" || fail "dry run"
grep '^# tc ' "$LAB_TMP/dry.out" | sed 's/^# tc //' > "$LAB_TMP/tc.cmds"
[ -s "$LAB_TMP/tc.cmds" ] || fail "no tc lines in the dry run"
grep -q ' dev veth-c ' "$LAB_TMP/tc.cmds" || fail "dry run names the wrong interface: $(cat "$LAB_TMP/tc.cmds")"
in_cli tc -batch "$LAB_TMP/tc.cmds" || fail "tc rejected the dry run's commands: $(cat "$LAB_TMP/tc.cmds")"
by_tc=$(tree)
in_cli tc qdisc del dev veth-c root
J="$LAB_TMP/t.jsonl"
sed 's/^fault = .*/fault = delay 30s latency=300ms/' "$LAB_TMP/d.policy" > "$LAB_TMP/t.policy"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/t.policy"
D=$!
wait_for "the delay fault to begin" journal_has "$J" fault_begin
by_daemon=$(tree)
kill -TERM $D
wait $D
[ "$by_tc" = "$by_daemon" ] || fail "dry run tree differs from the daemon's:
--- tc -batch of the dry run
$by_tc
--- okx-faultd
$by_daemon"
[ "$(qd)" = "$before" ] || fail "interface not restored after SIGTERM: $(qd)"

# SIGKILL mid-delay: the owned table vanishes, so nothing is steered to netem
J="$LAB_TMP/k.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/d.policy"
D=$!
wait_for "the delay fault to begin" journal_has "$J" fault_begin
k2=$(conn_ms 198.18.0.2)
[ "$k2" -ge $((b2 + 280)) ] || fail "not delayed before SIGKILL: $k2 ms"
kill -9 $D
wait $D 2>/dev/null
k2=$(conn_ms 198.18.0.2)
note "right after SIGKILL: target $k2 ms"
[ "$k2" -le $((b2 + 150)) ] || fail "delay survived SIGKILL: $k2 ms"
qd | grep -q '^qdisc htb fa17:' || note "no stale qdisc left (fine)"
in_cli "$OKX_FAULTD" --cleanup || fail "--cleanup failed"
[ "$(qd)" = "$before" ] || fail "--cleanup left: $(qd) (was $before)"

# a foreign root qdisc: exit 2, untouched
in_cli tc qdisc add dev veth-c root tbf rate 100mbit burst 32k latency 400ms || fail "tbf"
foreign=$(qd)
out=$(in_cli "$OKX_FAULTD" -j "$LAB_TMP/f.jsonl" "$LAB_TMP/d.policy" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "foreign qdisc: exit $rc, want 2 ($out)"
[ "$(qd)" = "$foreign" ] || fail "foreign qdisc changed: $(qd)"
in_cli nft list tables | grep -q okx_faultd && fail "table installed despite the refusal"
[ -e "$LAB_TMP/f.jsonl" ] && fail "a journal was started despite the refusal"
note "refusal: $out"
echo "delay OK"
