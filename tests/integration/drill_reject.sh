#!/usr/bin/env bash
# reject variants (issue 3): tcp-reset gives ECONNREFUSED at once; each ICMP
# variant gives its errno to a TCP client, IPv4 and IPv6.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init rej
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv1.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
serve "$LAB_TMP/srv2.log" srv "$NP" tcp-serve 2001:2::2 8443 --seconds 60
# with=... : expected errno for v4 and v6 (Linux maps ICMP codes to these)
check_variant() {
	local with=$1 want4=$2 want6=$3 pol="$LAB_TMP/$1.policy" J="$LAB_TMP/$1.jsonl"
	cat > "$pol" <<P
name = reject_$with
target = 198.18.0.2
target = 2001:2::2
port = 8443
protocol = tcp
arm_min_flows = 0
fault = reject 2s with=$with
P
	bg_cli "$OKX_FAULTD" -q -j "$J" "$pol"
	local D=$!
	wait_for "the fault to begin" journal_has "$J" fault_begin
	local o4 o6
	o4=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1500)
	o6=$(in_cli "$NP" tcp 2001:2::2 8443 --timeout-ms 1500)
	wait $D || fail "$with: daemon failed"
	note "$with: v4 '$o4' v6 '$o6'"
	[[ $o4 == "err $want4 "* ]] || fail "$with v4: got '$o4', want $want4"
	[[ $o6 == "err $want6 "* ]] || fail "$with v6: got '$o6', want $want6"
	# an answer "at once": well under the client's timeout
	local ms=${o4##* }
	[ "${ms%.*}" -lt 500 ] || fail "$with: took $ms ms"
	[ "$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['fault_end'][0]['hits']['packets'] >= 2")" = True ] || fail "$with: hits"
}
check_variant tcp-reset ECONNREFUSED ECONNREFUSED
check_variant icmp-port ECONNREFUSED ECONNREFUSED
check_variant icmp-host EHOSTUNREACH EHOSTUNREACH
check_variant icmp-net ENETUNREACH ENETUNREACH
check_variant icmp-admin EHOSTUNREACH EACCES
echo "reject OK"
