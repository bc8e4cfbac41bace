#!/usr/bin/env bash
# Traffic-gated arming (issue 4): while the client is silent nothing is
# live, arming happens exactly at the Nth flow, the client's calls fail
# during the window and succeed after it; the journal is checked field by
# field against SPEC §5.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init arm
lab_two
NP="$LAB/netprobe"
J="$LAB_TMP/j.jsonl"
cat > "$LAB_TMP/p.policy" <<P
name = arming_test
target = 198.18.0.2
port = 8443
arm_min_flows = 3
arm_timeout = 60s
fault = drop 2s
P
serve "$LAB_TMP/s1.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
serve "$LAB_TMP/s2.log" srv "$NP" tcp-serve 198.18.0.2 9000 --seconds 60
bg_cli "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p.policy" 2>"$LAB_TMP/d.log"
D=$!
wait_for "the daemon to watch" log_has "$LAB_TMP/d.log" 'watching: waiting for'
in_cli nft list table inet okx_faultd >/dev/null 2>&1 || { cat "$LAB_TMP/d.log"; fail "no table while watching"; }

# warm-up: silent client; then out-of-scope traffic to the target (port 9000),
# then one in-scope call: once the daemon logged that flow, it has read
# every earlier event too (one socket, in order)
for i in 1 2 3 4; do in_cli "$NP" tcp 198.18.0.2 9000 --timeout-ms 1000 >/dev/null || fail "port 9000 call failed in warm-up"; done
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "call 1 failed"
wait_for "flow 1 in the daemon's log" log_has "$LAB_TMP/d.log" 'flow 1 toward the targets \(dport 8443\)'
log_has "$LAB_TMP/d.log" 'flow 2 toward' && fail "an out-of-scope flow (port 9000) was counted"
journal_has "$J" armed && fail "armed on out-of-scope flows"
# on0_live: the switch set of fault 0 has an element (a listing failure fails the test)
on0_live() { local o; o=$(in_cli nft list set inet okx_faultd on0) || fail "cannot list set on0: $o"; grep -q elements <<<"$o"; }
on0_live && fail "a fault is live during the warm-up"
# the second in-scope call: seen, still not armed
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "call 2 failed"
wait_for "flow 2 in the daemon's log" log_has "$LAB_TMP/d.log" 'flow 2 toward the targets'
journal_has "$J" armed && fail "armed after 2 flows (need 3)"
on0_live && fail "fault live before the 3rd flow"
# the third flow arms
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "call 3 failed"
wait_for "fault_begin after the 3rd flow" journal_has "$J" fault_begin
on0_live || fail "switch set has no element during the window"
out=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 500) && fail "call succeeded during the drop window: $out"
note "during window: $out"
in_cli "$NP" tcp 198.18.0.2 9000 --timeout-ms 1000 >/dev/null || fail "out-of-scope port faulted"
wait $D
rc=$?
[ $rc -eq 0 ] || { cat "$LAB_TMP/d.log"; fail "daemon exit $rc"; }
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "call failed after the window"
in_cli nft list tables | grep -q okx_faultd && fail "table left behind"

python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
[ "$(py "ev['armed'][0]['flows']")" = 3 ] || fail "armed.flows != 3"
[ "$(py "ev['armed'][0]['trigger']['dport']")" = 8443 ] || fail "trigger dport"
[ "$(py "ev['armed'][0]['trigger']['dst']")" = 198.18.0.2 ] || fail "trigger dst"
[ "$(py "ev['armed'][0]['trigger']['proto']")" = tcp ] || fail "trigger proto"
[ "$(py "ev['fault_end'][0]['hits']['packets'] > 0")" = True ] || fail "window that saw calls has no hits"
[ "$(py "ev['start'][0]['targets']")" = "['198.18.0.2/32']" ] || fail "targets: $(py "ev['start'][0]['targets']")"
log_has "$LAB_TMP/d.log" 'waiting: [0-9]+/3 flows' || fail "no progress line 'waiting: N/3 flows' in the daemon's log"
echo "arming OK"
