#!/usr/bin/env bash
# Scope by network namespace (issue 15): the daemon, started in the root
# namespace, runs the whole drill in the client's namespace (`netns =
# NAME`): its table, its conntrack watch and the daemon itself are there
# (the namespace's inode is journaled), none is in the root namespace, and
# a third namespace calling the same target through the server is neither
# counted nor faulted. The journal stays on the host's file system. A
# namespace deleted mid-drill (`ip netns del`), or whose process exits
# (`/proc/PID/ns/net`: a container restarting), ends the drill with exit 1
# and a scope_changed event; a path that is no network namespace is
# refused with exit 2, and without CAP_SYS_ADMIN (the shipped unit's
# capabilities) the drill cannot enter it: exit 1, nothing touched.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool unshare util-linux
lab_init ns
lab_two
NP="$LAB/netprobe"
OTH="$LAB_PREFIX-oth" GONE="okxt-gone-$$"
ns_cleanup() { ip netns del "$OTH" 2>/dev/null; ip netns del "$GONE" 2>/dev/null; lab_cleanup; }
trap ns_cleanup EXIT
# oth -- srv: 198.19.0.1 <-> 198.19.0.2, the target 198.18.0.2 routed through srv
ip netns add "$OTH" || fail "ip netns add $OTH"
ip link add veth-o netns "$OTH" type veth peer name veth-so netns "$LAB_PREFIX-srv" || fail "veth"
ip -n "$OTH" link set lo up
ip -n "$OTH" addr add 198.19.0.1/24 dev veth-o
ip -n "$LAB_PREFIX-srv" addr add 198.19.0.2/24 dev veth-so
ip -n "$OTH" link set veth-o up
ip -n "$LAB_PREFIX-srv" link set veth-so up
ip -n "$OTH" route add 198.18.0.0/24 via 198.19.0.2
in_oth() { ip netns exec "$OTH" "$@"; }
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 0.0.0.0 8443 --seconds 60
wait_for "the third namespace to reach the target" in_oth "$NP" tcp 198.18.0.2 8443 --timeout-ms 200

W=$((5 * $(wait_scale))) # the window outlasts its checks, in the VM too
cat > "$LAB_TMP/p.policy" <<P
name = netns_test
target = 198.18.0.2
port = 8443
netns = $LAB_PREFIX-cli
arm_min_flows = 2
arm_delay = 1s
fault = drop ${W}s
P
J="$LAB_TMP/j.jsonl" L="$LAB_TMP/d.log"
"$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p.policy" 2>"$L" &
D=$!
LAB_PIDS+=($D)
wait_for "the daemon to watch" log_has "$L" 'watching: waiting for'
ino=$(stat -L -c %i "/run/netns/$LAB_PREFIX-cli")
[ "$(readlink "/proc/$D/ns/net")" = "net:[$ino]" ] || fail "the daemon is in $(readlink "/proc/$D/ns/net"), not net:[$ino]"
in_cli nft list table inet okx_faultd >/dev/null || fail "no table in the client namespace"
nft list table inet okx_faultd >/dev/null 2>&1 && fail "a table in the root namespace"
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
[ "$(py "ev['start'][0]['scope']['netns']")" = "{'path': '/run/netns/$LAB_PREFIX-cli', 'inode': $ino}" ] ||
	fail "start.scope.netns: $(py "ev['start'][0]['scope']")"
log_has "$L" "network namespace /run/netns/$LAB_PREFIX-cli \\(inode $ino\\): the drill runs in it" || fail "not logged"

# the other namespace's connections are not the drill's
for i in 1 2 3; do in_oth "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "oth call $i"; done
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "cli call 1"
wait_for "the client's connection counted" log_has "$L" 'flow 1 toward the targets'
log_has "$L" 'flow 2 toward' && fail "another namespace's connection counted"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "cli call 2"
wait_for "the drop to begin" journal_has "$J" fault_begin
[ "$(py "ev['armed'][0]['trigger']['src']")" = 198.18.0.1 ] || fail "trigger: $(py "ev['armed'][0]['trigger']")"
o=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 400) && fail "the client's call went through the drop: $o"
in_oth "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "the other namespace was faulted"
journal_has "$J" fault_end && fail "the drop ended before the checks: the test proves nothing"
wait $D || { cat "$L"; fail "daemon failed"; }
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
[ "$(py "ev['fault_end'][0]['hits']['packets']")" = 1 ] || fail "hits: $(py "ev['fault_end'][0]['hits']")"

# gone mid-drill: ends with exit 1, journaled
gone_drill() { # policy-netns-line want-reason
	J="$LAB_TMP/g-$RANDOM.jsonl"
	printf 'name = gone\ntarget = 198.18.0.2\n%s\narm_min_flows = 0\nfault = drop 30s\n' "$1" > "$LAB_TMP/g.policy"
	"$OKX_FAULTD" -j "$J" "$LAB_TMP/g.policy" 2>"$LAB_TMP/g.log" &
	D=$!
	LAB_PIDS+=($D)
	wait_for "the gone drill's fault" journal_has "$J" fault_begin
}
gone_ended() { # want-reason
	local rc=0
	wait_for "the daemon to end" sh -c "! kill -0 $D"
	wait $D || rc=$?
	[ $rc = 1 ] || { cat "$LAB_TMP/g.log"; fail "exit $rc after the namespace went, expected 1"; }
	python3 "$TOP/tests/lib/journal.py" "$J" check --outcome error --exit 1 --windows 1 --reason error || fail "journal"
	[ "$(py "ev['scope_changed'][0]['state']")" = gone ] || fail "scope_changed: $(py "ev.get('scope_changed')")"
	py "ev['scope_changed'][0]['reason']" | grep -qF "$1" || fail "reason: $(py "ev['scope_changed'][0]['reason']")"
	log_has "$LAB_TMP/g.log" 'is gone: .*ending the drill' || fail "not logged: $(cat "$LAB_TMP/g.log")"
}
ip netns add "$GONE" || fail "ip netns add $GONE"
gone_drill "netns = $GONE"
ip netns del "$GONE"
gone_ended "No such file or directory"
unshare -n sleep 60 &
S=$!
LAB_PIDS+=($S)
wait_for "the process's own namespace" sh -c "[ \"\$(readlink /proc/$S/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
gone_drill "netns = /proc/$S/ns/net"
kill $S
gone_ended "its process exited"

# the shipped unit's capabilities (CAP_NET_ADMIN alone) cannot enter a
# namespace (setns needs CAP_SYS_ADMIN): exit 1, nothing touched
need_tool setpriv util-linux
expect_rc 1 setpriv --bounding-set=-all,+net_admin --inh-caps=-all --no-new-privs \
	"$OKX_FAULTD" -j "$LAB_TMP/u.jsonl" "$LAB_TMP/p.policy"
grep -qF "entering network namespace /run/netns/$LAB_PREFIX-cli: Operation not permitted" <<<"$out" || fail "$out"
[ -e "$LAB_TMP/u.jsonl" ] && fail "a journal without a drill"
in_cli nft list table inet okx_faultd >/dev/null 2>&1 && fail "a table without a drill"

# not a network namespace: refused, its line
printf 'name = r\ntarget = 198.18.0.2\nnetns = /proc/self/ns/uts\nfault = drop 1s\n' > "$LAB_TMP/r.policy"
expect_rc 2 "$OKX_FAULTD" -j "$LAB_TMP/r.jsonl" "$LAB_TMP/r.policy"
grep -qF "r.policy:3: netns '/proc/self/ns/uts': not a network namespace" <<<"$out" || fail "refusal: $out"
echo "netns scope OK"
