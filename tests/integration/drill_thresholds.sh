#!/usr/bin/env bash
# arm_min_packets, arm_min_bytes, arm_window and arm_timeout (issue 4).
set -u
. "$TOP/tests/lib/netns.sh"
lab_init thr
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/sink.log" srv "$NP" udp-sink 198.18.0.2 5000 --seconds 120 >/dev/null
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
pol() { # name extra-lines...
	local n=$1
	shift
	{ printf 'name = %s\ntarget = 198.18.0.2\nfault = drop 500ms\n' "$n"; printf '%s\n' "$@"; } > "$LAB_TMP/$n.policy"
}
armed() { journal_has "$1" armed; }
py() { python3 "$TOP/tests/lib/journal.py" "$1" get "$2"; }
start() { watch_daemon "$1" "$LAB_TMP/$1.policy"; }

# arm_timeout: exit 3, no fault_begin
pol to "arm_timeout = 1s" "arm_min_flows = 2"
in_cli "$OKX_FAULTD" -q -j "$LAB_TMP/to.jsonl" "$LAB_TMP/to.policy"
rc=$?
[ $rc -eq 3 ] || fail "arm_timeout: exit $rc, want 3"
python3 "$TOP/tests/lib/journal.py" "$LAB_TMP/to.jsonl" check --outcome arm_timeout --exit 3 --windows 0 || fail "timeout journal"
grep -q '"armed"' "$LAB_TMP/to.jsonl" && fail "timeout journal has armed"

# arm_min_packets = 50 (UDP, one flow): not at 30 packets, yes after 50
pol pk "protocol = udp" "port = 5000" "arm_min_flows = 0" "arm_min_packets = 50" "arm_timeout = 30s"
start pk
in_cli "$NP" udp-send 198.18.0.2 5000 --count 30 --interval-us 1000 >/dev/null
wait_for "pk: the daemon to read 30 packets" log_has "$L" 'watch: 30 packets'
armed "$J" && fail "armed after 30 of 50 packets"
in_cli "$NP" udp-send 198.18.0.2 5000 --count 20 --interval-us 1000 >/dev/null
wait_for "pk: armed after 50 packets" armed "$J"
wait $D || fail "packets drill failed"
[ "$(py "$J" "ev['armed'][0]['packets'] >= 50")" = True ] || fail "armed.packets < 50"

# arm_min_bytes = 20000: datagrams carry 64 bytes of payload + 28 header = 92 bytes
pol by "protocol = udp" "port = 5000" "arm_min_flows = 0" "arm_min_bytes = 20000" "arm_timeout = 30s"
start by
in_cli "$NP" udp-send 198.18.0.2 5000 --count 100 --interval-us 500 >/dev/null
wait_for "by: the daemon to read 100 packets (9200 bytes)" log_has "$L" 'watch: 100 packets, 9200 bytes'
armed "$J" && fail "armed after 9200 of 20000 bytes"
in_cli "$NP" udp-send 198.18.0.2 5000 --count 200 --interval-us 500 >/dev/null
wait_for "by: armed after 27600 bytes" armed "$J"
wait $D || fail "bytes drill failed"
[ "$(py "$J" "ev['armed'][0]['bytes'] >= 20000")" = True ] || fail "armed.bytes < 20000"

# arm_window = 1s with 3 flows: 3 flows spread over 3 s do not arm, 3 in a burst do
pol win "port = 8443" "arm_min_flows = 3" "arm_window = 1s" "arm_timeout = 30s"
start win
# 1.2 s after each call is the scenario (flows spread wider than the 1 s
# window, and the burst below starts outside it), not a wait for the daemon
for i in 1 2 3; do
	in_cli "$NP" tcp 198.18.0.2 8443 >/dev/null || fail "win: call $i"
	sleep 1.2
done
wait_for "win: the daemon to see flow 3" log_has "$L" 'flow 3 toward the targets'
armed "$J" && fail "armed on 3 flows spread over more than the window"
# the third call of the burst arms the drop, which may catch its handshake
for i in 1 2 3; do in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 300 >/dev/null || [ $i = 3 ] || fail "win: burst call $i"; done
wait_for "win: armed on 3 flows inside the window" armed "$J"
wait $D || fail "window drill failed"
echo "thresholds OK"
