#!/usr/bin/env bash
# Event overflow for real (README "Tests"): the daemon's conntrack event
# socket is shrunk to a few kilobytes (OKX_FAULTD_TEST_CT_RCVBUF, a test-only
# knob, okx-faultd(8) ENVIRONMENT) and the daemon is stopped while 1,000
# in-scope flows arrive, so the kernel drops their events (ENOBUFS). When it
# runs again it must notice, recover the flows from a conntrack dump, count
# each exactly once, and arm at exactly the threshold: not at
# threshold - 1 (seen, then asserted), yes at the threshold. A flood to a
# non-target meanwhile never reaches it (the in-kernel event filter).
set -u
. "$TOP/tests/lib/netns.sh"
need_tool conntrack
lab_init ovf
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
F=1000 K=5
J="$LAB_TMP/j.jsonl"
L="$LAB_TMP/d.log"
cat > "$LAB_TMP/p.policy" <<P
name = overflow_test
target = 198.18.0.2
protocol = any
port = 8443
port = 20000-29999
arm_min_flows = $((F + K))
arm_timeout = 60s
fault = drop 500ms
P
OKX_FAULTD_TEST_CT_RCVBUF=4096 bg_cli "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p.policy" 2>"$L"
D=$!
wait_for "the daemon to watch" log_has "$L" 'watching: waiting for'
log_has "$L" 'test knob.*receive buffer' || fail "the daemon did not take the test knob: $(cat "$L")"
PID=$(in_cli pgrep -f "okx-faultd -v -j $J") || fail "no daemon pid"

# the daemon stopped: F in-scope UDP flows (distinct source/destination
# ports, 20000 up), and a non-target flood, pile up in its socket
# the flows must outlive a slow run (UDP's unreplied timeout is 30 s): the
# recovery dump and the cross-check below read them from conntrack
in_cli sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 || fail "sysctl udp_timeout"
kill -STOP "$PID"
in_cli "$NP" flood-udp 198.18.0.2 --flows $F --rate 20000 --port 20000 >"$LAB_TMP/flood.out" || fail "flood: $(cat "$LAB_TMP/flood.out")"
in_cli "$NP" flood-udp 198.18.0.4 --flows 3000 --rate 20000 --port 40000 >/dev/null || fail "non-target flood"
n=$(in_cli conntrack -L -p udp -d 198.18.0.2 2>/dev/null | grep -c 'dport=2[0-9]\{4\} ')
[ "$n" = $F ] || fail "conntrack -L shows $n in-scope udp flows, want $F"
kill -CONT "$PID"
wait_for "the overflow to be detected and recovered" log_has "$L" 'event overflow \(ENOBUFS\), recovery dump recovered'
wait_for "the daemon to count $F flows" log_has "$L" "flow $F toward the targets"
log_has "$L" "flow $((F + 1)) toward" && fail "more than $F flows counted after the recovery: $(grep -c 'toward the targets' "$L")"

# K - 1 calls: seen, not armed; the K-th arms
for i in $(seq $((K - 1))); do
	in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000 >/dev/null || fail "call $i"
done
wait_for "flow $((F + K - 1)) in the log" log_has "$L" "flow $((F + K - 1)) toward the targets"
journal_has "$J" armed && fail "armed at $((F + K - 1)) of $((F + K)) flows after the overflow"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000 >/dev/null || fail "call $K"
wait_for "arming at flow $((F + K))" journal_has "$J" armed
wait $D || { tail -20 "$L"; fail "drill failed"; }
got=$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['armed'][0]['flows']")
[ "$got" = $((F + K)) ] || fail "armed.flows = $got, want $((F + K))"
note "$(grep -c overflow "$L") overflow log lines: $(grep -m1 overflow "$L")"
echo "overflow OK"
