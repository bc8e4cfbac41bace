#!/usr/bin/env bash
# arm_min_packets, arm_min_bytes, arm_window and arm_timeout (issue 4).
set -u
. "$TOP/tests/lib/netns.sh"
lab_init thr
lab_two
NP="$LAB/netprobe"
bg_srv "$NP" udp-sink 198.18.0.2 5000 --seconds 120 >/dev/null
bg_srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
sleep 0.3
pol() { # name extra-lines...
	local n=$1
	shift
	{ printf 'name = %s\ntarget = 198.18.0.2\nfault = drop 500ms\n' "$n"; printf '%s\n' "$@"; } > "$LAB_TMP/$n.policy"
}
armed() { grep -q '"armed"' "$1" 2>/dev/null; }
py() { python3 "$TOP/tests/lib/journal.py" "$1" get "$2"; }

# arm_timeout: exit 3, no fault_begin
pol to "arm_timeout = 1s" "arm_min_flows = 2"
in_cli "$OKX_FAULTD" -q -j "$LAB_TMP/to.jsonl" "$LAB_TMP/to.policy"
rc=$?
[ $rc -eq 3 ] || fail "arm_timeout: exit $rc, want 3"
python3 "$TOP/tests/lib/journal.py" "$LAB_TMP/to.jsonl" check --outcome arm_timeout --exit 3 --windows 0 || fail "timeout journal"
grep -q '"armed"' "$LAB_TMP/to.jsonl" && fail "timeout journal has armed"

# arm_min_packets = 50 (UDP, one flow): not at 30 packets, yes after 50
pol pk "protocol = udp" "port = 5000" "arm_min_flows = 0" "arm_min_packets = 50" "arm_timeout = 30s"
J="$LAB_TMP/pk.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/pk.policy"
D=$!
sleep 0.5
in_cli "$NP" udp-send 198.18.0.2 5000 --count 30 --interval-us 1000 >/dev/null
sleep 0.3
armed "$J" && fail "armed after 30 of 50 packets"
in_cli "$NP" udp-send 198.18.0.2 5000 --count 20 --interval-us 1000 >/dev/null
sleep 0.3
armed "$J" || fail "not armed after 50 packets"
wait $D || fail "packets drill failed"
[ "$(py "$J" "ev['armed'][0]['packets'] >= 50")" = True ] || fail "armed.packets < 50"

# arm_min_bytes = 20000: datagrams carry 64 bytes of payload + 28 header = 92 bytes
pol by "protocol = udp" "port = 5000" "arm_min_flows = 0" "arm_min_bytes = 20000" "arm_timeout = 30s"
J="$LAB_TMP/by.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/by.policy"
D=$!
sleep 0.5
in_cli "$NP" udp-send 198.18.0.2 5000 --count 100 --interval-us 500 >/dev/null
sleep 0.3
armed "$J" && fail "armed after ~9 KB of 20000 bytes"
in_cli "$NP" udp-send 198.18.0.2 5000 --count 200 --interval-us 500 >/dev/null
sleep 0.3
armed "$J" || fail "not armed after ~27 KB"
wait $D || fail "bytes drill failed"
[ "$(py "$J" "ev['armed'][0]['bytes'] >= 20000")" = True ] || fail "armed.bytes < 20000"

# arm_window = 1s with 3 flows: 3 flows spread over 3 s do not arm, 3 in a burst do
pol win "port = 8443" "arm_min_flows = 3" "arm_window = 1s" "arm_timeout = 30s"
J="$LAB_TMP/win.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/win.policy"
D=$!
sleep 0.5
for i in 1 2 3; do in_cli "$NP" tcp 198.18.0.2 8443 >/dev/null; sleep 1.2; done
armed "$J" && fail "armed on 3 flows spread over more than the window"
for i in 1 2 3; do in_cli "$NP" tcp 198.18.0.2 8443 >/dev/null; done
sleep 0.3
armed "$J" || fail "not armed on 3 flows inside the window"
wait $D || fail "window drill failed"
echo "thresholds OK"
