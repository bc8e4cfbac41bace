#!/usr/bin/env bash
# Scope by user (issue 15): two callers in one namespace, root and nobody.
# With `uid = nobody` arming ignores root's connections and calls (the
# kernel's watch counters stay at 0 while conntrack holds root's flows),
# counts nobody's exactly, and the drop fails only nobody's calls, IPv4
# and IPv6, while root's to the same addresses succeed; a reject refuses
# nobody's at once; the hits are nobody's packets alone. --check says the
# scope acts on egress only. The kernel's table has the owner chain the dry
# run shows. The drill refuses `direction = ingress` and an unknown user
# with exit 2, touching nothing.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool setpriv util-linux
need_tool conntrack
lab_init uid
lab_two
NP="$LAB/netprobe"
as_nobody() { in_cli setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
for a in 198.18.0.2 2001:2::2; do serve "$LAB_TMP/srv-$a.log" srv "$NP" tcp-serve "$a" 8443 --seconds 60; done
# the windows outlast the checks in them, under the VM's emulation too
W=$((5 * $(wait_scale)))
cat > "$LAB_TMP/p.policy" <<P
name = uid_test
target = 198.18.0.2
target = 2001:2::2
port = 8443
uid = nobody
arm_min_flows = 2
arm_min_calls = 2
arm_delay = 1s
fault = drop ${W}s
fault = reject ${W}s
P
"$OKX_FAULTD" --check "$LAB_TMP/p.policy" 2>&1 >/dev/null | grep -q 'note: scoped by socket owner (uid, cgroup): faults act on egress only' ||
	fail "--check does not say the scope acts on egress only"
watch_daemon uid "$LAB_TMP/p.policy"
log_has "$L" 'scoped by socket owner' || fail "the scope note is not logged"

# root: three connections, each one call; none of it counts
for i in 1 2 3; do in_cli "$NP" tcp 198.18.0.2 8443 --echo --timeout-ms 1000 >/dev/null || fail "root call $i"; done
root_flows=$(in_cli conntrack -L -p tcp --dport 8443 2>/dev/null | grep -c 'dport=8443')
[ "$root_flows" -ge 3 ] || fail "conntrack does not hold root's flows ($root_flows): the test proves nothing"
ctr() { in_cli nft list counter inet okx_faultd "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
[ "$(ctr watch_pkts)" = 0 ] || fail "root's packets counted toward arming: watch_pkts $(ctr watch_pkts)"
[ "$(ctr watch_calls)" = 0 ] || fail "root's calls counted toward arming: watch_calls $(ctr watch_calls)"
log_has "$L" 'flow [0-9]+ toward' && fail "a flow of root's counted: $(grep 'toward' "$L")"

# nobody: the first connection is flow 1 (not 4), the second arms
as_nobody "$NP" tcp 198.18.0.2 8443 --echo --timeout-ms 1000 >/dev/null || fail "nobody's first call"
wait_for "nobody's connection counted" log_has "$L" 'flow 1 toward the targets'
journal_has "$J" armed && fail "armed on one flow"
as_nobody "$NP" tcp 2001:2::2 8443 --echo --timeout-ms 1000 >/dev/null || fail "nobody's second call"
wait_for "the drop to begin" journal_has "$J" fault_begin
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
[ "$(py "ev['armed'][0]['flows']")" = 2 ] || fail "armed.flows $(py "ev['armed'][0]['flows']"), expected nobody's 2"
[ "$(py "ev['armed'][0]['calls']")" = 2 ] || fail "armed.calls $(py "ev['armed'][0]['calls']"), expected nobody's 2"
[ "$(py "ev['armed'][0]['trigger']['dst']")" = 2001:2::2 ] || fail "trigger: $(py "ev['armed'][0]['trigger']")"

# the window: root's calls go through, nobody's fail
for a in 198.18.0.2 2001:2::2; do
	o=$(in_cli "$NP" tcp $a 8443 --echo --timeout-ms 1000) || fail "root's call to $a failed during the drop: $o"
	o=$(as_nobody "$NP" tcp $a 8443 --timeout-ms 400) && fail "nobody's call to $a went through the drop: $o"
	note "$a: root ok, nobody $o"
done
journal_has "$J" fault_end && fail "the drop ended before the checks: the test proves nothing"
in_cli nft list chain inet okx_faultd owner > "$LAB_TMP/owner.txt" || fail "no owner chain in the kernel"
grep -q 'meta skuid @uids goto egress' "$LAB_TMP/owner.txt" || fail "owner chain: $(cat "$LAB_TMP/owner.txt")"
in_cli nft list set inet okx_faultd uids | grep -qE 'elements = \{ (65534|nobody) \}' ||
	fail "uids set: $(in_cli nft list set inet okx_faultd uids)"
in_cli nft list chain inet okx_faultd forward >/dev/null 2>&1 && fail "a forward chain: forwarded packets have no owner"
wait_for "the reject to begin" journal_has "$J" fault_begin 2
o=$(as_nobody "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000) && fail "nobody's call went through the reject: $o"
[[ $o == "err ECONNREFUSED"* ]] || fail "nobody's call during the reject: $o, expected a reset at once"
in_cli "$NP" tcp 198.18.0.2 8443 --echo --timeout-ms 1000 >/dev/null || fail "root's call failed during the reject"
journal_has "$J" fault_end 2 && fail "the reject ended before the checks: the test proves nothing"
wait $D || { cat "$L"; fail "daemon failed"; }
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 2 || fail "journal"
# one SYN per failed connect (400 ms, under the first retransmission)
[ "$(py "ev['fault_end'][0]['hits']['packets']")" = 2 ] ||
	fail "hits $(py "ev['fault_end'][0]['hits']"): expected nobody's 2 SYNs, none of root's"
[ "$(py "ev['fault_end'][1]['hits']['packets']")" = 1 ] ||
	fail "reject hits $(py "ev['fault_end'][1]['hits']"): expected nobody's one SYN"
[ "$(py "ev['start'][0]['scope']")" = "{'uids': [65534], 'cgroups': [], 'netns': None}" ] ||
	fail "start.scope: $(py "ev['start'][0]['scope']")"
as_nobody "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "nobody still cut after the drill"

# the dry run is what the kernel had
in_cli "$OKX_FAULTD" --dry-run "$LAB_TMP/p.policy" > "$LAB_TMP/dry.nft" 2>/dev/null || fail "dry run"
grep -q 'meta skuid @uids goto egress' "$LAB_TMP/dry.nft" || fail "dry run: no owner chain"
grep -q 'ct state new counter name "watch_new" ct label set 127' "$LAB_TMP/dry.nft" || fail "dry run: no label"
in_cli nft -c -f - < "$LAB_TMP/dry.nft" || fail "nft -c rejects the dry run"

# refused, nothing touched
refused() { # policy-text want-message
	printf 'name = refused\ntarget = 198.18.0.2\n%s\nfault = drop 1s\n' "$1" > "$LAB_TMP/r.policy"
	expect_rc 2 in_cli "$OKX_FAULTD" -j "$LAB_TMP/r-$RANDOM.jsonl" "$LAB_TMP/r.policy"
	grep -qF -- "$2" <<<"$out" || fail "refusal says: $out"
	in_cli nft list table inet okx_faultd >/dev/null 2>&1 && fail "a refused drill left a table"
	return 0
}
refused $'uid = nobody\ndirection = ingress' "r.policy:4: 'direction = ingress' cannot be scoped by 'uid' (line 3)"
refused 'uid = okx-no-such-user' "r.policy:3: unknown user 'okx-no-such-user'"
echo "uid scope OK"
