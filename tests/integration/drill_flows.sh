#!/usr/bin/env bash
# Exact flow counting (issue 11), each case a miscount of the earlier code:
#  1. a connection opened before the drill never counts, in a namespace
#     where conntrack was not tracking before the daemon's rule (conntrack
#     then reports it as NEW when it next sends), nor after `conntrack -F`;
#     a new connection then arms arm_min_flows = 1 with flows = 1;
#  2. a new connection on a reused tuple counts: five connections in a row
#     from one source port, each closed by RST, arm arm_min_flows = 5 (the
#     kernel gives each new conntrack entry the same id).
set -u
. "$TOP/tests/lib/netns.sh"
. "$TOP/tests/lib/caller.sh"
need_tool conntrack
lab_init flows
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/echo.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }
policy() {
	cat >"$LAB_TMP/$1.policy" <<P
name = flows_$1
target = 198.18.0.2
port = 8443
arm_min_flows = $2
arm_timeout = 60s
fault = drop 1s
P
}

# --- 1. a connection from before the drill, untracked namespace ------------
# first, while nothing has used conntrack in this namespace yet
in_cli conntrack -L 2>/dev/null | grep -q 8443 && fail "conntrack already tracks the lab"
caller ws 198.18.0.2:8443
call
policy old 1
watch_daemon old "$LAB_TMP/old.policy"
call
wait_for "the old connection picked up" log_has "$L" 'connection under way .* picked up: not a new flow'
journal_has "$J" armed && fail "armed on a connection opened before the drill"
in_cli conntrack -F >/dev/null 2>&1 || fail "conntrack -F"
call
wait_for "the old connection picked up again after conntrack -F" \
	count_at_least 2 grep -c 'connection under way .* picked up' "$L"
journal_has "$J" armed && fail "armed on the old connection after conntrack -F"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "new connection failed"
wait_for "armed on the new connection" journal_has "$J" armed
[ "$(py "ev['armed'][0]['flows']")" = 1 ] || fail "armed.flows = $(py "ev['armed'][0]['flows']")"
[ "$(py "ev['armed'][0]['flows_lower_bound']")" = False ] || fail "flows_lower_bound without an overflow"
wait "$D" || fail "old: daemon exit $?"
caller_end
# --- 2. one source port, five connections, RST close ----------------------
policy reuse 5
watch_daemon reuse "$LAB_TMP/reuse.policy"
same_port() {
	in_cli python3 - <<'PY' || fail "connection from port 40123 failed"
import socket, struct
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 40123))
s.connect(("198.18.0.2", 8443))
s.sendall(b"x\n")
s.recv(16)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close by RST
s.close()
PY
}
for i in 1 2 3 4; do
	same_port
	wait_for "flow $i from port 40123" log_has "$L" "flow $i toward the targets"
done
journal_has "$J" armed && fail "armed after 4 flows (need 5)"
ids=$(in_cli conntrack -L -p tcp --sport 40123 -o id 2>/dev/null | grep -c 'id=')
same_port
wait_for "armed on the fifth connection from one port" journal_has "$J" armed
[ "$(py "ev['armed'][0]['flows']")" = 5 ] || fail "armed.flows = $(py "ev['armed'][0]['flows']")"
[ "$(py "ev['armed'][0]['trigger']['dport']")" = 8443 ] || fail "trigger dport"
wait "$D" || fail "reuse: daemon exit $?"
note "reused tuple: 5 connections from port 40123 counted 5 ($ids conntrack entries listed before the fifth)"

echo "flows OK"
