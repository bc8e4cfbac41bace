#!/usr/bin/env bash
# Scope of a drop (issue 3): during the window a TCP client to a target gets
# no answer, while a non-target address, an exempt address and an exempt
# port keep working; IPv4 and IPv6; the client succeeds right after. The
# local address inside the target range is excluded automatically.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init scope
lab_two
NP="$LAB/netprobe"
J="$LAB_TMP/j.jsonl"
# 198.18.0.0/30 covers .1 (our own address: excluded), .2 (faulted), .3 (exempt)
cat > "$LAB_TMP/p.policy" <<P
name = scope_test
target = 198.18.0.0/30
target = 2001:2::2
exempt = 198.18.0.3
exempt_port = 22
arm_min_flows = 0
fault = drop 6s
P
for a in 198.18.0.2 198.18.0.3 198.18.0.4 2001:2::2 2001:2::3; do
	for port in 8443 22; do serve "$LAB_TMP/srv-$a-$port.log" srv "$NP" tcp-serve "$a" $port --seconds 30; done
done
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "baseline call failed"
bg_cli "$OKX_FAULTD" -j "$J" "$LAB_TMP/p.policy" 2>"$LAB_TMP/d.log"
D=$!
wait_for "the fault to begin" journal_has "$J" fault_begin
# the target set while the table surely exists (6 s window): our own
# address inside the target range must not be in it
dst4=$(in_cli nft list set inet okx_faultd dst4) || fail "cannot list the target set during the drill"
grep -q '198.18.0.2' <<<"$dst4" || fail "target 198.18.0.2 missing from the set: $dst4"
grep -q '198.18.0.1' <<<"$dst4" && fail "local address left in the target set: $dst4"
expect_blocked() { local o; o=$(in_cli "$NP" tcp "$1" "$2" --timeout-ms 400) && fail "$1:$2 reachable during drop ($o)"; note "$1:$2 blocked: $o"; }
expect_open() { in_cli "$NP" tcp "$1" "$2" --timeout-ms 1000 >/dev/null || fail "$1:$2 unreachable during drop"; }
expect_blocked 198.18.0.2 8443
expect_blocked 2001:2::2 8443
expect_open 198.18.0.2 22      # exempt port
expect_open 198.18.0.3 8443    # exempt address inside the target
expect_open 198.18.0.4 8443    # not a target
expect_open 2001:2::3 8443     # not a target (v6)
wait $D || { cat "$LAB_TMP/d.log"; fail "daemon failed"; }
expect_open 198.18.0.2 8443
expect_open 2001:2::2 8443
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
echo "scope OK"
