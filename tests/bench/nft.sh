#!/usr/bin/env bash
# nftables engine: switch latency and install time vs nft(8), measured in a
# throwaway network namespace (nothing touches the host's ruleset).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BENCH=${BENCH:-$TOP/build/bench}
[ "$(id -u)" = 0 ] || { echo "nft bench: needs root (CAP_NET_ADMIN)"; exit 1; }
[ -x "$BENCH/nft_bench" ] || { echo "nft bench: $BENCH/nft_bench not built"; exit 1; }
command -v nft >/dev/null || { echo "nft bench: nft not installed"; exit 1; }
NS="okxt-nft-bench-$$"
trap 'ip netns del "$NS" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip netns exec "$NS" "$BENCH/nft_bench" "$@"
