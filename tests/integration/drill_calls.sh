#!/usr/bin/env bash
# arm_min_calls (issue 11): the shipped incident policy
# (policies/c2_3_degradation.policy, its fault shortened) arms on the third
# call, whatever the connection style:
#  - keepalive: a requests.Session whose one connection was opened before the
#    drill, in a namespace where conntrack was not tracking yet;
#  - fresh: a new connection per call;
#  - ws: a websocket-style long flow, one line echoed per call.
# Not armed after two calls (checked once the daemon has read them), armed
# after the third; the fault then hits the next call. And a flows-only
# policy waiting on a keep-alive client says so in its waiting log.
# www.okx.com resolves to the lab's OKX through a private /etc/hosts.
set -u
. "$TOP/tests/lib/netns.sh"
. "$TOP/tests/lib/caller.sh"
need_tool unshare util-linux
# the real client library on the host (tests/deps.sh installs
# python3-requests); the VM's initramfs carries python's standard library
# only, so there http.client, which keeps the connection alive the same
# way, plays the keep-alive client
if ! python3 -c 'import requests' 2>/dev/null; then
	[ -n "${OKX_IN_VM:-}" ] || fail "python3-requests is not installed (tests/deps.sh install)"
	note "in the VM: http.client plays the keep-alive client"
fi
lab_init calls
lab_two
NP="$LAB/netprobe"
URL=http://198.18.0.2:443/api/v5/public/time
bg_srv "$LAB/okx_sim" --listen 198.18.0.2:443 --max-seconds 120
SIM=$!
wait_for "okx_sim to answer" in_cli "$NP" tcp 198.18.0.2 443 --timeout-ms 200
printf '127.0.0.1 localhost\n198.18.0.2 www.okx.com\n' > "$LAB_TMP/hosts"

# the shipped policy, arming untouched; a short fault, no arm_delay
shipped() {
	sed 's/^fault = .*/fault = drop 2s/; s/^arm_delay = .*/arm_delay = 0s/; s/^arm_timeout = .*/arm_timeout = 60s/' \
		"$TOP/policies/c2_3_degradation.policy"
}
grep -qx 'arm_min_calls = 3' "$TOP/policies/c2_3_degradation.policy" || fail "the shipped policy does not arm on 3 calls"

# daemon NAME POLICY: start okx-faultd -v with the private hosts file
daemon() {
	J="$LAB_TMP/$1.jsonl" L="$LAB_TMP/$1.log"
	ip netns exec "$LAB_PREFIX-cli" unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -v -j "$3" "$4"' _ \
		"$LAB_TMP/hosts" "$OKX_FAULTD" "$J" "$2" 2>"$L" &
	D=$!
	LAB_PIDS+=($D)
	wait_for "$1: the daemon to watch" log_has "$L" 'watching: waiting for'
}

py() { python3 "$TOP/tests/lib/journal.py" "$J" get "$1"; }

# one run: MODE WHERE PRE, PRE calls before the daemon starts
arms_on_third() {
	local mode=$1 where=$2 pre=$3 i
	caller "$mode" "$where"
	for ((i = 0; i < pre; i++)); do call; done
	shipped >"$LAB_TMP/$mode.policy"
	daemon "$mode" "$LAB_TMP/$mode.policy"
	for i in 1 2; do
		call
		wait_for "$mode: the daemon to read call $i" log_has "$L" "watch: .*, $i calls toward the targets"
		journal_has "$J" armed && fail "$mode: armed after $i calls (need 3)"
	done
	call any # its answer may already meet the fault
	wait_for "$mode: armed on the third call" journal_has "$J" fault_begin
	call error
	wait "$D" || { cat "$L"; fail "$mode: daemon exit $?"; }
	caller_end
	[ "$(py "ev['armed'][0]['calls']")" = 3 ] || fail "$mode: armed.calls = $(py "ev['armed'][0]['calls']")"
	[ "$(py "ev['fault_end'][0]['hits']['packets'] > 0")" = True ] || fail "$mode: the fault hit nothing"
	note "$mode: armed on call 3, flows $(py "ev['armed'][0]['flows']")"
}

arms_on_third keepalive "$URL" 1
arms_on_third fresh "$URL" 0
# the websocket-style flow: an echo server in okx_sim's place
kill "$SIM"
wait "$SIM"
serve "$LAB_TMP/echo.log" srv "$NP" tcp-serve 198.18.0.2 443 --seconds 120
arms_on_third ws 198.18.0.2:443 0

# a flows-only policy and a keep-alive client: the waiting log says why
caller ws 198.18.0.2:443
call
cat >"$LAB_TMP/flows.policy" <<P
name = flows_only
target_host = www.okx.com
port = 443
arm_min_flows = 3
arm_timeout = 60s
fault = drop 1s
P
daemon flows "$LAB_TMP/flows.policy"
for i in 1 2 3 4 5; do call; done
wait_for -t 15 "the keep-alive hint" log_has "$L" 'new flows? carrying [0-9]+ requests: a keep-alive client\? see arm_min_calls'
note "$(grep -m1 'keep-alive client' "$L" | sed 's/.*waiting: //')"
kill "$D"
wait "$D"
caller_end
echo "calls OK"
