#!/usr/bin/env bash
# Event overflow for real (README "Tests"): the daemon's conntrack event
# socket is shrunk to a few kilobytes (OKX_FAULTD_TEST_CT_RCVBUF, a test-only
# knob, okx-faultd(8) ENVIRONMENT) and the daemon is stopped while 1,000
# in-scope flows arrive, so the kernel drops their events (ENOBUFS). When it
# runs again it must notice, recover the flows from a conntrack dump, count
# each exactly once, and arm at exactly the threshold: not at
# threshold - 1 (seen, then asserted), yes at the threshold. A flood to a
# non-target meanwhile never reaches it (the in-kernel event filter).
# Then an overflow after more flows than the daemon remembers: the
# recovery must not count old flows again (the count may only fall short,
# and the daemon says so).
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

# --- more flows than remembered (CTWATCH_SEEN_CAP 4,096 to 8,192), then an overflow
F1=9000 F2=4000
L="$LAB_TMP/d2.log" J="$LAB_TMP/j2.jsonl"
sed 's/^arm_min_flows = .*/arm_min_flows = 100000/; s/^port = 20000-29999/port = 30000-49999/' \
	"$LAB_TMP/p.policy" >"$LAB_TMP/p2.policy"
OKX_FAULTD_TEST_CT_RCVBUF=262144 bg_cli "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p2.policy" 2>"$L"
D=$!
wait_for "the second daemon to watch" log_has "$L" 'watching: waiting for'
PID=$(in_cli pgrep -f "okx-faultd -v -j $J") || fail "no daemon pid"
in_cli "$NP" flood-udp 198.18.0.2 --flows $F1 --rate 2000 --port 30000 >/dev/null || fail "flood 1"
wait_for -t 20 "the daemon to count $F1 flows" log_has "$L" "flow $F1 toward the targets"
kill -STOP "$PID"
in_cli "$NP" flood-udp 198.18.0.2 --flows $F2 --rate 20000 --port 40000 >/dev/null || fail "flood 2"
kill -CONT "$PID"
wait_for "the second overflow" log_has "$L" 'event overflow \(ENOBUFS\)'
# a last flow: once it is counted, every event before it has been read
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 5000 >/dev/null || fail "last call"
wait_for "the last flow (dport 8443)" log_has "$L" 'toward the targets \(dport 8443\)'
n=$(grep -oE 'flow [0-9]+ toward the targets' "$L" | tail -1 | cut -d' ' -f2)
[ "$n" -le $((F1 + F2 + 1)) ] || fail "$n flows counted, only $((F1 + F2 + 1)) were made: old flows counted again"
log_has "$L" 'the flow count is a lower bound' || fail "the daemon did not say its count is a lower bound"
kill -TERM $D
wait $D
[ "$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['end'][0]['outcome']")" = aborted ] || fail "second drill outcome"
note "more than remembered, then an overflow: $n of $((F1 + F2 + 1)) flows counted (a lower bound, said so)"
echo "overflow OK"
