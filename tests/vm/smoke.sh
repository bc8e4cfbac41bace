#!/usr/bin/env bash
# tests/vm/smoke.sh — can this kernel do what the drills need? Run as root.
# Two namespaces joined by veth (198.18.0.0/15), then:
#   tc qdisc add ... root netem delay 100ms must move the ping RTT above 90 ms
#   and its removal bring it back; an nftables inet table with a counter;
#   conntrack -L.
# Used by the VM harness (tests/vm/run.sh --smoke) and as the kernel
# preflight of vagrant/provision.sh. Prints PASS/FAIL lines and the summary
# "N passed, N failed, 0 skipped"; exit 0 when all passed.
set -u
IP=$(command -v ip || echo /usr/sbin/ip)
TC=$(command -v tc || echo /usr/sbin/tc)
NFT=$(command -v nft || echo /usr/sbin/nft)
CONNTRACK=$(command -v conntrack || echo /usr/sbin/conntrack)
[ "$(id -u)" = 0 ] || { echo "smoke: needs root" >&2; exit 1; }
A=okxsmk-a-$$ B=okxsmk-b-$$
pass=0 fail=0
cleanup() {
	"$IP" netns del "$A" 2>/dev/null
	"$IP" netns del "$B" 2>/dev/null
	return 0
}
trap cleanup EXIT
check() { # check NAME CMD...
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1)) && echo "  PASS  $name"
	else
		fail=$((fail + 1)) && echo "  FAIL  $name"
	fi
}
# ping_avg ADDR: average RTT in ms from inside $A (busybox: "round-trip
# min/avg/max = a/b/c ms"; iputils: "rtt min/avg/max/mdev = a/b/c/d ms")
ping_avg() {
	"$IP" netns exec "$A" ping -c 3 -i 0.2 -W 2 "$1" 2>&1 |
		awk -F' = ' '/min\/avg\/max/ { split($2, v, "/"); print v[2] }'
}
below() { awk -v a="${1:-x}" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 < b) }'; }
above() { awk -v a="${1:-x}" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 > b) }'; }

veth() {
	"$IP" netns add "$A" && "$IP" netns add "$B" &&
		"$IP" link add veth-a netns "$A" type veth peer name veth-b netns "$B" &&
		"$IP" -n "$A" addr add 198.18.0.1/24 dev veth-a &&
		"$IP" -n "$B" addr add 198.18.0.2/24 dev veth-b &&
		"$IP" -n "$A" link set veth-a up && "$IP" -n "$B" link set veth-b up &&
		"$IP" -n "$A" link set lo up && "$IP" -n "$B" link set lo up
}
check "veth pair between two namespaces" veth
avg=$(ping_avg 198.18.0.2)
check "baseline ping RTT ${avg:-none} ms < 50 ms" below "$avg" 50
check "tc qdisc add dev veth-a root netem delay 100ms" \
	"$IP" netns exec "$A" "$TC" qdisc add dev veth-a root netem delay 100ms
"$IP" netns exec "$A" "$TC" qdisc show dev veth-a | sed 's/^/# /'
avg=$(ping_avg 198.18.0.2)
check "ping RTT with netem ${avg:-none} ms > 90 ms" above "$avg" 90
check "tc qdisc del netem" "$IP" netns exec "$A" "$TC" qdisc del dev veth-a root
avg=$(ping_avg 198.18.0.2)
check "ping RTT after removal ${avg:-none} ms < 50 ms" below "$avg" 50
nft_table() {
	"$IP" netns exec "$A" "$NFT" -f - <<-'EOF'
		table inet okx_smoke {
			chain out { type filter hook output priority 0; ip daddr 198.18.0.2 counter; }
		}
	EOF
}
check "nft: inet table with a counter rule" nft_table
ct_list() { "$IP" netns exec "$A" "$CONNTRACK" -L >/dev/null 2>&1; }
check "conntrack -L" ct_list
echo "okx-faultd smoke: $pass passed, $fail failed, 0 skipped"
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
