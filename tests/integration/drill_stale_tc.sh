#!/usr/bin/env bash
# SPEC §4: tc state left by a killed okx-faultd is removed by the next start
# (any drill, delay or not), and qdiscs it did not create are never touched.
# The stale tree is made by hand with the reserved handle fa17: (HTB is in
# every kernel here; netem is not needed for this).
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
echo "stale tc OK"
