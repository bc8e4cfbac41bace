# tests/lib/wait.sh — sourced by test scripts (bash; tests/lib/netns.sh
# sources it). One way to wait for evidence instead of sleeping.
#
#   wait_for [-t SECS] DESC CMD...   run CMD every 20 ms until it exits 0;
#                                    fail "timed out after SECS s waiting
#                                    for DESC" otherwise. SECS defaults to
#                                    10, times 3 inside the VM (TCG runs
#                                    timers and processes late).
#   journal_has FILE EVENT [N]       FILE has at least N (default 1) lines of
#                                    journal event EVENT
#   log_has FILE ERE                 a line of FILE matches ERE (grep -E)
#   count_at_least N CMD...          CMD prints a number >= N
#
# A negative check ("not armed yet") is only meaningful after the daemon
# has provably seen the traffic: wait for its -v debug log ("flow N toward
# the targets", "watch: N packets") first, then assert.
set -u

wait_scale() { [ -n "${OKX_IN_VM:-}" ] && echo 3 || echo 1; }

wait_for() {
	local secs=10 desc now deadline
	if [ "${1:-}" = -t ]; then
		secs=$2
		shift 2
	fi
	desc=$1
	shift
	# integer microseconds from bash's clock; seconds may be fractional
	deadline=$(awk -v s="$secs" -v k="$(wait_scale)" -v t="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", t + s * k * 1e6 }')
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		now=${EPOCHREALTIME/./}
		if [ "$now" -ge "$deadline" ]; then
			"$@" >/dev/null 2>&1 && return 0
			fail "timed out after $(awk -v s="$secs" -v k="$(wait_scale)" 'BEGIN { print s * k }') s waiting for $desc"
		fi
		sleep 0.02
	done
}

journal_has() {
	local n
	n=$(grep -c "\"event\": *\"$2\"" "$1" 2>/dev/null) || n=0
	[ "$n" -ge "${3:-1}" ]
}

log_has() { grep -qE -- "$2" "$1" 2>/dev/null; }

count_at_least() {
	local want=$1 v
	shift
	v=$("$@" 2>/dev/null) || return 1
	[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$want" ]
}
