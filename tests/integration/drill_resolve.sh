#!/usr/bin/env bash
# resolve_every (issue 11): a target_host whose answer changes mid-drill.
# The name resolves through a private /etc/hosts bound in the daemon's
# mount namespace (no DNS; a lookup that finds nothing fails inside the
# lab). During a drop fault the name first stops resolving (logged, the
# drill goes on), then resolves to another address: the address is added
# to the live set, journaled as targets_added, and the fault hits it;
# the first address stays faulted (nothing is removed mid-drill).
set -u
. "$TOP/tests/lib/netns.sh"
need_tool unshare util-linux
lab_init resolve
lab_two
NP="$LAB/netprobe"
for a in 198.18.0.2 198.18.0.3; do serve "$LAB_TMP/srv-$a.log" srv "$NP" tcp-serve $a 8443 --seconds 60; done
H="$LAB_TMP/hosts"
# rewritten in place (same inode): the bind mount shows every version
hosts() { printf '127.0.0.1 localhost\n%s' "$1" >"$H"; }
hosts $'198.18.0.2 okx-sim.test\n'
printf 'nameserver 127.0.0.1\n' >"$LAB_TMP/resolv.conf"
cat >"$LAB_TMP/p.policy" <<P
name = resolve_test
target_host = okx-sim.test
port = 8443
arm_min_flows = 0
resolve_every = 200ms
fault = drop 8s
P
J="$LAB_TMP/j.jsonl" L="$LAB_TMP/d.log"
ip netns exec "$LAB_PREFIX-cli" unshare -m sh -c \
	'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && exec "$3" -v -j "$4" "$5"' _ \
	"$H" "$LAB_TMP/resolv.conf" "$OKX_FAULTD" "$J" "$LAB_TMP/p.policy" 2>"$L" &
D=$!
LAB_PIDS+=($D)
wait_for "the fault to begin" journal_has "$J" fault_begin
in_cli "$NP" tcp 198.18.0.3 8443 --timeout-ms 1000 >/dev/null || fail "198.18.0.3 faulted before the name pointed to it"
hosts ''
wait_for "a failed lookup, logged" log_has "$L" 'target_host okx-sim.test: lookup failed .*trying again in 200 ms'
kill -0 $D 2>/dev/null || fail "a failed lookup ended the drill"
hosts $'198.18.0.3 okx-sim.test\n'
wait_for "the new address journaled" journal_has "$J" targets_added
in_cli nft list set inet okx_faultd dst4 | grep -q '198.18.0.3' || fail "198.18.0.3 not in the live set"
in_cli nft list set inet okx_faultd dst4 | grep -q '198.18.0.2' || fail "198.18.0.2 removed from the live set"
o=$(in_cli "$NP" tcp 198.18.0.3 8443 --timeout-ms 300) && fail "new address reachable during the drop: $o"
o=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 300) && fail "old address reachable during the drop: $o"
wait $D || { cat "$L"; fail "drill failed"; }
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
[ "$(py "ev['targets_added'][0]['name']")" = okx-sim.test ] || fail "targets_added name"
[ "$(py "ev['targets_added'][0]['addresses']")" = "['198.18.0.3/32']" ] || fail "targets_added addresses: $(py "ev['targets_added'][0]['addresses']")"
[ "$(py "len(ev['targets_added'])")" = 1 ] || fail "the same address journaled twice"
[ "$(py "ev['fault_end'][0]['hits']['packets'] >= 2")" = True ] || fail "hits"
for a in 198.18.0.2 198.18.0.3; do
	in_cli "$NP" tcp $a 8443 --timeout-ms 1000 >/dev/null || fail "$a still blocked after the drill"
done
echo "resolve OK"
