#!/usr/bin/env bash
# Kernel counters (issue 3): a UDP drop's hits equal exactly the datagrams
# sent during the window; loss percent=30 over 2,000 datagrams drops
# 30 % +- 5, and its hits equal exactly the datagrams that did not arrive.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init loss
lab_two
NP="$LAB/netprobe"

run_drill() { # name fault -> journal path in $J, daemon pid in $D
	J="$LAB_TMP/$1.jsonl"
	cat > "$LAB_TMP/$1.policy" <<P
name = $1
target = 198.18.0.2
port = 5000
protocol = udp
arm_min_flows = 0
fault = $2
P
	bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/$1.policy"
	D=$!
	wait_for "the fault to begin" journal_has "$J" fault_begin
	grep -q fault_begin "$J" || fail "$1: fault never began"
}
hits() { python3 "$TOP/tests/lib/journal.py" "$J" get "ev['fault_end'][0]['hits']['packets']"; }

# exact hits under drop: 500 datagrams, none arrives
serve "$LAB_TMP/sink1.err" srv "$NP" udp-sink 198.18.0.2 5000 --seconds 4 > "$LAB_TMP/sink1"
SINK=$!
run_drill udp_drop "drop 3s"
sent=$(in_cli "$NP" udp-send 198.18.0.2 5000 --count 500 --interval-us 500)
wait $D || fail "drop drill failed"
wait $SINK
got=$(cat "$LAB_TMP/sink1")
note "drop: sent $sent, received $got, hits $(hits)"
[ "$sent" = 500 ] || fail "sender sent $sent"
[ "$got" = 0 ] || fail "$got datagrams passed a drop"
[ "$(hits)" = 500 ] || fail "hits $(hits) != 500 sent"

# loss 30 %: 2,000 datagrams
serve "$LAB_TMP/sink2.err" srv "$NP" udp-sink 198.18.0.2 5000 --seconds 5 > "$LAB_TMP/sink2"
SINK=$!
run_drill udp_loss "loss 4s percent=30"
sent=$(in_cli "$NP" udp-send 198.18.0.2 5000 --count 2000 --interval-us 500)
wait $D || fail "loss drill failed"
wait $SINK
got=$(cat "$LAB_TMP/sink2")
h=$(hits)
note "loss: sent $sent, received $got, hits $h"
[ "$sent" = 2000 ] || fail "sender sent $sent"
lost=$((sent - got))
[ "$lost" -ge 500 ] && [ "$lost" -le 700 ] || fail "lost $lost of 2000, want 30 % +- 5 (500..700)"
[ "$h" = "$lost" ] || fail "hits $h != lost $lost"
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 || fail "journal"
echo "loss and hits OK"
