#!/usr/bin/env bash
# Scope by cgroup (issue 15): a cgroup made under the cgroup2 mount (found
# in /proc/self/mountinfo: /sys/fs/cgroup/unified on a hybrid host), a
# caller moved into it and another into a cgroup below it, root outside.
# The daemon runs from the root namespace with `netns` (ip netns exec
# remounts /sys and would hide the cgroup mount). Arming counts only the
# cgroup's flows; the drop fails the calls of both callers in the subtree
# and none of root's; the cgroup removed and made again mid-drill (a
# service restart: a new id) is journaled (scope_changed removed, then
# recreated with the new id), the kernel's set gains the new id, and a
# caller in the new cgroup is faulted at once; the drill is then stopped
# (SIGTERM). A cgroup that does not exist is refused with exit 2 and its
# line.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool nsenter util-linux
lab_init cg
lab_two
NP="$LAB/netprobe"
CGM=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CGM" ] || fail "no cgroup2 mount in /proc/self/mountinfo"
CGN="okxtest-$$"
CG="$CGM/$CGN"
cg_cleanup() { rmdir "$CG/inner" "$CG" 2>/dev/null; lab_cleanup; }
trap cg_cleanup EXIT
mkdir "$CG" "$CG/inner" || fail "mkdir $CG"
# in_cg DIR CMD...: CMD in cgroup DIR and the client namespace (nsenter
# keeps this mount namespace, where the cgroup mount is)
in_cg() { sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec nsenter --net="$0" "$@"' \
	"/run/netns/$LAB_PREFIX-cli" "$@"; }
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
cat > "$LAB_TMP/p.policy" <<P
name = cgroup_test
target = 198.18.0.2
port = 8443
cgroup = /$CGN/
netns = $LAB_PREFIX-cli
arm_min_flows = 2
arm_delay = 1s
fault = drop 5m
P
J="$LAB_TMP/j.jsonl" L="$LAB_TMP/d.log"
"$OKX_FAULTD" -v -j "$J" "$LAB_TMP/p.policy" 2>"$L" &
D=$!
LAB_PIDS+=($D)
wait_for "the daemon to watch" log_has "$L" 'watching: waiting for'
id1=$(stat -c %i "$CG")
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
[ "$(py "ev['start'][0]['scope']['cgroups']")" = "[{'path': '$CGN', 'level': 1, 'id': $id1}]" ] ||
	fail "start.scope.cgroups: $(py "ev['start'][0]['scope']")"

# root outside the cgroup: not counted
for i in 1 2 3; do in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "root call $i"; done
in_cg "$CG" "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "the cgroup's first call"
wait_for "the cgroup's connection counted" log_has "$L" 'flow 1 toward the targets'
log_has "$L" 'flow 2 toward' && fail "root's connections counted"
in_cg "$CG/inner" "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "the inner cgroup's call"
wait_for "the drop to begin" journal_has "$J" fault_begin
[ "$(py "ev['armed'][0]['flows']")" = 2 ] || fail "armed.flows $(py "ev['armed'][0]['flows']")"

blocked() { local o; o=$("$@" "$NP" tcp 198.18.0.2 8443 --timeout-ms 400) && fail "$* went through the drop: $o"; return 0; }
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "root's call failed during the drop"
blocked in_cg "$CG"
blocked in_cg "$CG/inner"

# a restart: the cgroup goes away and comes back under a new id
rmdir "$CG/inner" "$CG" || fail "rmdir"
wait_for "the removal journaled" journal_has "$J" scope_changed 1
[ "$(py "ev['scope_changed'][0]['state'], ev['scope_changed'][0]['id']")" = "('removed', $id1)" ] ||
	fail "scope_changed: $(py "ev['scope_changed']")"
log_has "$L" "cgroup $CGN was removed" || fail "the removal is not logged"
mkdir "$CG" || fail "mkdir again"
id2=$(stat -c %i "$CG")
[ "$id2" != "$id1" ] || fail "the new cgroup has the old id $id1: the test proves nothing"
wait_for "the new id journaled" journal_has "$J" scope_changed 2
[ "$(py "ev['scope_changed'][1]['state'], ev['scope_changed'][1]['id'], ev['scope_changed'][1]['previous_id']")" = \
	"('recreated', $id2, $id1)" ] || fail "scope_changed: $(py "ev['scope_changed']")"
set_ids=$(in_cli nft list set inet okx_faultd cgroup_l1 | tr -cs '0-9' ' ')
[[ " $set_ids " == *" $id1 "* && " $set_ids " == *" $id2 "* ]] || fail "cgroup_l1 holds '$set_ids', want $id1 and $id2"
blocked in_cg "$CG"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "root's call failed after the restart"
kill -TERM $D
rc=0
wait $D || rc=$?
[ $rc = 4 ] || { cat "$L"; fail "daemon exited $rc, expected 4 (stopped)"; }
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome aborted --exit 4 --windows 1 --reason signal || fail "journal"
# every hit is a SYN of the subtree's three failed connects (400 ms each)
[ "$(py "ev['fault_end'][0]['hits']['packets']")" = 3 ] || fail "hits: $(py "ev['fault_end'][0]['hits']")"

# a cgroup that does not exist: refused with its line, nothing touched
rmdir "$CG"
expect_rc 2 "$OKX_FAULTD" -j "$LAB_TMP/r.jsonl" "$LAB_TMP/p.policy"
grep -qF "p.policy:4: cgroup '$CGN' not found under $CGM (the cgroup2 mount)" <<<"$out" || fail "refusal: $out"
in_cli nft list table inet okx_faultd >/dev/null 2>&1 && fail "a refused drill left a table"
[ -e "$LAB_TMP/r.jsonl" ] && fail "a refused drill made a journal"
echo "cgroup scope OK"
