# tests/lib/netns.sh — sourced by integration tests (bash).
# Builds a tiny lab of network namespaces joined by veth pairs, addressed
# from 198.18.0.0/15 only, with no route out; removes it on every exit path.
#
#   lab_init PREFIX         namespaces get names PREFIX-cli, PREFIX-srv; trap installed;
#                           OKX_FAULTD_CONTROL_DIR=$LAB_TMP/run: every drill's control
#                           socket goes there (not /run/okx-faultd) and goes with it
#   lab_two                 cli 198.18.0.1/24 <-> srv 198.18.0.2/24 (+ 2001:2::1/64 <-> ::2)
#                           srv also gets 198.18.0.3 and 198.18.0.4 (non-target / exempt
#                           addresses on the same link) and 2001:2::3 (2001:2::/48 is the
#                           IPv6 benchmarking range, the counterpart of 198.18.0.0/15)
#   in_cli CMD... / in_srv CMD...   run in a namespace
#   lab_cleanup             idempotent; called by the trap
#   need_root; skip REASON; fail MSG; note MSG
#   skip_tagged TAG REASON  a skip that strict mode (tests/run.sh) may allow by TAG
#   need_tool CMD [PKG]     fail when CMD is missing: tests/deps.sh installs it
#   need_netem              skip (host) or fail (in the VM, OKX_IN_VM=1) without sch_netem
#   expect_rc RC CMD...     CMD must exit RC; its output is left in $out
#   watch_daemon NAME POLICY  okx-faultd -v in the client namespace, journal
#                           $J, log $L (its debug lines are the evidence tests
#                           wait for), pid $D; returns once it watches
#   serve LOG CMD...        start a lab server (bg_srv/bg_cli style, first word
#                           cli or srv), wait for its "listening" line in LOG
# Waiting for evidence: tests/lib/wait.sh (sourced here).
set -u
. "${BASH_SOURCE[0]%/*}/wait.sh"
LAB_PREFIX=""
LAB_PIDS=()
LAB_TMP=""

need_root() { [ "$(id -u)" = 0 ] || skip "needs root (CAP_NET_ADMIN)"; }
skip() { echo "SKIP: $*"; exit 77; }
skip_tagged() {
	local tag=$1
	shift
	echo "SKIP[$tag]: $*"
	exit 77
}
need_tool() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed (package ${2:-$1}; tests/deps.sh install)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# Can this kernel run netem? Tried for real on lo in a throwaway namespace.
need_netem() {
	local ns="okxt-nm-$$" ok=1
	need_root
	ip netns add "$ns" 2>/dev/null || fail "ip netns add $ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null && ok=0
	ip netns del "$ns"
	[ $ok -eq 0 ] && return 0
	[ -n "${OKX_IN_VM:-}" ] && fail "sch_netem is not available inside the VM ($(uname -r))"
	skip_tagged netem "no sch_netem in this kernel ($(uname -r)); runs under make check-vm"
}

expect_rc() {
	local want=$1 rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $out"
}

lab_cleanup() {
	local p
	for p in "${LAB_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "$LAB_PREFIX" ]; then
		ip netns del "$LAB_PREFIX-cli" 2>/dev/null
		ip netns del "$LAB_PREFIX-srv" 2>/dev/null
	fi
	[ -n "$LAB_TMP" ] && rm -rf "$LAB_TMP"
	return 0
}

lab_init() {
	need_root
	LAB_PREFIX="okxt-$1-$$"
	LAB_TMP=$(mktemp -d /tmp/okxt.XXXXXX)
	export OKX_FAULTD_CONTROL_DIR="$LAB_TMP/run"
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
}

in_cli() { ip netns exec "$LAB_PREFIX-cli" "$@"; }
in_srv() { ip netns exec "$LAB_PREFIX-srv" "$@"; }

# bg_cli/bg_srv CMD...: start in background, remember the pid for cleanup; pid in $!
bg_cli() { ip netns exec "$LAB_PREFIX-cli" "$@" & LAB_PIDS+=($!); }
bg_srv() { ip netns exec "$LAB_PREFIX-srv" "$@" & LAB_PIDS+=($!); }

watch_daemon() {
	J="$LAB_TMP/$1.jsonl" L="$LAB_TMP/$1.log"
	bg_cli "$OKX_FAULTD" -v -j "$J" "$2" 2>"$L"
	D=$!
	wait_for "$1: the daemon to watch" log_has "$L" 'watching: waiting for'
}

# serve LOG cli|srv CMD...: a lab server (netprobe, okx_sim) in the background,
# its stderr in LOG; returns once it printed "listening" (or fails)
serve() {
	local log=$1 where=$2
	shift 2
	ip netns exec "$LAB_PREFIX-$where" "$@" 2>"$log" &
	LAB_PIDS+=($!)
	wait_for "$* to listen" log_has "$log" 'listening'
}

lab_two() {
	local c="$LAB_PREFIX-cli" s="$LAB_PREFIX-srv"
	ip netns add "$c" || fail "ip netns add $c"
	ip netns add "$s" || fail "ip netns add $s"
	ip link add veth-c netns "$c" type veth peer name veth-s netns "$s" || fail "veth"
	ip -n "$c" link set lo up
	ip -n "$s" link set lo up
	ip -n "$c" addr add 198.18.0.1/24 dev veth-c
	ip -n "$s" addr add 198.18.0.2/24 dev veth-s
	ip -n "$s" addr add 198.18.0.3/24 dev veth-s
	ip -n "$s" addr add 198.18.0.4/24 dev veth-s
	ip -n "$c" addr add 2001:2::1/64 dev veth-c nodad
	ip -n "$s" addr add 2001:2::2/64 dev veth-s nodad
	ip -n "$s" addr add 2001:2::3/64 dev veth-s nodad
	ip -n "$c" link set veth-c up
	ip -n "$s" link set veth-s up
	# wait for the link to be usable: a connect to a closed port is refused
	# (not timed out) once both ends are up and neighbours resolve
	wait_for "the lab link to come up (a connect to 198.18.0.2:9 and [2001:2::2]:9 answered)" lab_link_up
}
lab_link_up() {
	local out a
	# IPv6 too: its link-local addresses go through DAD (about 1 s) first
	for a in 198.18.0.2 2001:2::2; do
		out=$(in_cli "$LAB/netprobe" tcp $a 9 --timeout-ms 200 2>/dev/null)
		[[ $out == "err ECONNREFUSED"* || $out == ok* ]] || return 1
	done
}
