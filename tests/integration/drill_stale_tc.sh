#!/usr/bin/env bash
# SPEC §4: tc state left by a killed okx-faultd is removed by the next start
# (any drill, delay or not), and qdiscs it did not create are never touched.
# The stale tree is made by hand with the reserved handle fa17: (HTB is in
# every kernel here; netem is not needed for this).
# --cleanup makes the start-up sweep's ownership proof (its owned table
# first): while a drill runs in the namespace it removes nothing, so a
# refused second instance's ExecStopPost cannot take a live drill's fa17:.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init stale
lab_two
in_cli ip link add dummy-f type veth peer name dummy-g || fail "second veth"
in_cli ip link set dummy-f up
in_cli tc qdisc add dev veth-c root handle fa17: htb default 0 || fail "stale htb"
in_cli tc qdisc add dev dummy-f root handle 8001: tbf rate 10mbit burst 16k latency 100ms || fail "foreign tbf"
foreign=$(in_cli tc qdisc show dev dummy-f)
cat > "$LAB_TMP/p.policy" <<P
name = stale_test
target = 198.18.0.2
arm_min_flows = 0
fault = drop 200ms
P
in_cli "$OKX_FAULTD" -j "$LAB_TMP/j.jsonl" "$LAB_TMP/p.policy" 2>"$LAB_TMP/d.log" || { cat "$LAB_TMP/d.log"; fail "drill"; }
grep -q "removed 1 stale qdisc" "$LAB_TMP/d.log" || { cat "$LAB_TMP/d.log"; fail "no stale qdisc reported removed"; }
in_cli tc qdisc show dev veth-c | grep -q 'fa17:' && fail "stale fa17: still on veth-c: $(in_cli tc qdisc show dev veth-c)"
[ "$(in_cli tc qdisc show dev dummy-f)" = "$foreign" ] || fail "foreign qdisc changed: $(in_cli tc qdisc show dev dummy-f)"
# and --cleanup: the same sweep, with nothing stale it removes nothing
in_cli tc qdisc add dev veth-c root handle fa17: htb default 0 || fail "stale htb 2"
in_cli "$OKX_FAULTD" --cleanup 2>"$LAB_TMP/c.log" || fail "--cleanup exit $?"
grep -q "removed 1 stale qdisc" "$LAB_TMP/c.log" || fail "cleanup: $(cat "$LAB_TMP/c.log")"
in_cli tc qdisc show dev veth-c | grep -q 'fa17:' && fail "--cleanup left fa17:"
[ "$(in_cli tc qdisc show dev dummy-f)" = "$foreign" ] || fail "--cleanup changed the foreign qdisc"
in_cli "$OKX_FAULTD" --cleanup 2>"$LAB_TMP/c2.log" || fail "--cleanup (nothing to do) exit $?"
grep -q "removed 0 stale qdiscs" "$LAB_TMP/c2.log" || fail "cleanup twice: $(cat "$LAB_TMP/c2.log")"

# a live drill owns the namespace: --cleanup (a second unit's ExecStopPost)
# leaves its tc state alone, and the drill runs on
cat > "$LAB_TMP/live.policy" <<P
name = live_test
target = 198.18.0.2
arm_min_flows = 0
fault = drop 30s
P
J="$LAB_TMP/live.jsonl"
bg_cli "$OKX_FAULTD" -j "$J" "$LAB_TMP/live.policy" 2>"$LAB_TMP/live.log"
D=$!
wait_for "the live drill's fault" journal_has "$J" fault_begin
# the tree a delay drill installs, made by hand (no netem needed)
in_cli tc qdisc add dev veth-c root handle fa17: htb default 0 || fail "live htb"
in_cli "$OKX_FAULTD" --cleanup 2>"$LAB_TMP/c3.log" || fail "--cleanup during a drill: exit $?"
grep -q "another okx-faultd runs in this network namespace" "$LAB_TMP/c3.log" || fail "cleanup during a drill: $(cat "$LAB_TMP/c3.log")"
in_cli tc qdisc show dev veth-c | grep -q 'qdisc htb fa17:' || fail "--cleanup removed a live drill's fa17:"
kill -0 $D 2>/dev/null || fail "the live drill died"
in_cli nft list tables | grep -q okx_faultd || fail "the live drill's table is gone"
kill -TERM $D
wait $D
rc=$?
[ $rc -eq 4 ] || fail "live drill: exit $rc, want 4"
in_cli "$OKX_FAULTD" --cleanup 2>"$LAB_TMP/c4.log" || fail "--cleanup after the drill: exit $?"
grep -q "removed 1 stale qdisc" "$LAB_TMP/c4.log" || fail "cleanup after the drill: $(cat "$LAB_TMP/c4.log")"
! in_cli nft list tables | grep -q okx_faultd || fail "--cleanup left its own table"
echo "stale tc OK"
