#!/usr/bin/env bash
# A delay scoped by user (issue 15), on a kernel with sch_netem (make
# check-vm): the table steers only the packets of nobody's sockets into
# netem (the owner chain comes before the rule that sets the priority), so
# during the window nobody's connects take the latency and root's to the
# same target do not; the hits are nobody's packets.
set -u
. "$TOP/tests/lib/netns.sh"
need_netem
need_tool setpriv util-linux
lab_init sdelay
lab_two
NP="$LAB/netprobe"
as_nobody() { in_cli setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
serve "$LAB_TMP/s.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
conn_ms() { # runner... -> median connect time of 3 tries, ms
	local t o v=()
	for t in 1 2 3; do
		o=$("$@" "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000) || fail "connect ($*): $o"
		v+=("${o##* }")
	done
	printf '%s\n' "${v[@]}" | sort -n | sed -n 2p
}
base=$(conn_ms in_cli)
cat > "$LAB_TMP/d.policy" <<P
name = scope_delay
target = 198.18.0.2
port = 8443
uid = 65534
arm_min_flows = 0
fault = delay 8s latency=300ms
P
J="$LAB_TMP/d.jsonl"
bg_cli "$OKX_FAULTD" -j "$J" "$LAB_TMP/d.policy" 2>"$LAB_TMP/d.log"
D=$!
wait_for "the delay to begin" journal_has "$J" fault_begin
root=$(conn_ms in_cli)
nobody=$(conn_ms as_nobody)
note "connect: baseline $base ms; during the delay root $root ms, nobody $nobody ms"
[ "$nobody" -ge $((base + 280)) ] || fail "nobody's connect $nobody ms, expected >= $base + 300 ms"
[ "$root" -le $((base + 150)) ] || fail "root's connect delayed: $root ms (baseline $base)"
wait $D || { cat "$LAB_TMP/d.log"; fail "delay drill failed"; }
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
# nobody: 3 connects, each SYN, ACK, FIN, ACK at least; root's 3 add none
hits=$(py "ev['fault_end'][0]['hits']['packets']")
[ "$hits" -ge 9 ] && [ "$hits" -le 15 ] || fail "delay hits $hits: nobody's 3 connections only"
echo "scoped delay OK"
