#!/usr/bin/env bash
# target_host (SPEC §2, issue 4): the name is resolved at start (A and
# AAAA), the addresses are installed and journaled, and the fault hits them.
# Resolution goes through a private /etc/hosts bound in a mount namespace:
# no DNS is used.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool unshare util-linux
lab_init host
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv1.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 30
serve "$LAB_TMP/srv2.log" srv "$NP" tcp-serve 2001:2::2 8443 --seconds 30
printf '127.0.0.1 localhost\n198.18.0.2 okx-sim.test\n2001:2::2 okx-sim.test\n' > "$LAB_TMP/hosts"
cat > "$LAB_TMP/p.policy" <<P
name = target_host_test
target_host = okx-sim.test
port = 8443
arm_min_flows = 0
fault = drop 3s
P
J="$LAB_TMP/j.jsonl"
ip netns exec "$LAB_PREFIX-cli" unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -q -j "$3" "$4"' _ \
	"$LAB_TMP/hosts" "$OKX_FAULTD" "$J" "$LAB_TMP/p.policy" &
D=$!
LAB_PIDS+=($D)
wait_for "the fault to begin" journal_has "$J" fault_begin
in_cli nft list set inet okx_faultd dst4 | grep -q '198.18.0.2' || fail "v4 address not installed"
in_cli nft list set inet okx_faultd dst6 | grep -q '2001:2::2' || fail "v6 address not installed"
o=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 300) && fail "v4 reachable during the drop: $o"
o=$(in_cli "$NP" tcp 2001:2::2 8443 --timeout-ms 300) && fail "v6 reachable during the drop: $o"
wait $D || fail "drill failed"
t=$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['start'][0]['targets']")
[ "$t" = "['198.18.0.2/32', '2001:2::2/128']" ] || fail "journaled targets: $t"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "v4 still blocked after the drill"
echo "target_host OK"
