#!/usr/bin/env bash
# Busy host (issue 4): thousands of unrelated new flows per second while
# waiting; arming still happens at the right count.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init ovf
lab_two
NP="$LAB/netprobe"
bg_srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
sleep 0.3
J="$LAB_TMP/j.jsonl"
cat > "$LAB_TMP/p.policy" <<P
name = overflow_test
target = 198.18.0.2
port = 8443
arm_min_flows = 5
arm_timeout = 60s
fault = drop 500ms
P
bg_cli "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p.policy" 2>"$LAB_TMP/d.log"
D=$!
for i in $(seq 100); do in_cli nft list table inet okx_faultd >/dev/null 2>&1 && break; sleep 0.05; done
# unrelated flood: new UDP flows to a non-target
bg_cli "$NP" flood-udp 198.18.0.4 --flows 20000 --rate 10000
F=$!
sleep 0.3
for i in 1 2 3 4; do in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000 >/dev/null || fail "call $i"; sleep 0.2; done
grep -q '"armed"' "$J" && fail "armed at 4 of 5 flows under flood"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000 >/dev/null || fail "call 5"
for i in $(seq 40); do grep -q '"armed"' "$J" && break; sleep 0.05; done
grep -q '"armed"' "$J" || { tail -20 "$LAB_TMP/d.log"; fail "not armed at the 5th flow under flood"; }
wait $F 2>/dev/null
wait $D || fail "drill failed"
[ "$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['armed'][0]['flows']")" = 5 ] || fail "armed.flows != 5"
note "$(grep -c . "$LAB_TMP/d.log") log lines; overflow lines: $(grep -ci overflow "$LAB_TMP/d.log")"
echo "overflow OK"
