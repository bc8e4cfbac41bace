#!/usr/bin/env bash
# make bench: every tests/bench/*.sh, each printing medians and ratios
# against a baseline measured in the same run. Not a test: it never fails
# on a number, only when a benchmark cannot run.
#
# The output starts with the machine (CPU, cores, memory, kernel, load) and
# the commit, and is also written to BENCH_OUT (default
# build/bench/last-run.txt). README's "Measured here" table is copied from
# one such file, kept as tests/bench/measured-here.txt
# (tests/static/bench_table.sh checks every figure of the table is in it).
#
#   BENCH_ONLY="nft pps"   run these benchmarks only (names without .sh)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP OKX_FAULTD="$TOP/okx-faultd" OKX_FAULTCTL="$TOP/okx-faultctl" LAB="$TOP/build/lab" BENCH="$TOP/build/bench"
OUT=${BENCH_OUT:-$TOP/build/bench/last-run.txt}
mkdir -p "$(dirname "$OUT")" || exit 1
: >"$OUT" || { echo "bench: cannot write $OUT" >&2; exit 1; }

machine() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	echo "# okx-faultd bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "# machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
	echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

run_all() {
	local b name rc=0
	machine
	for b in "$TOP"/tests/bench/*.sh; do
		name=$(basename "$b" .sh)
		[ "$name" = run ] && continue
		if [ -n "${BENCH_ONLY:-}" ]; then
			case " $BENCH_ONLY " in *" $name "*) ;; *) continue ;; esac
		fi
		echo "== $name"
		bash "$b" || { echo "bench $name failed"; rc=1; }
	done
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	return $rc
}

run_all 2>&1 | tee "$OUT"
rc=${PIPESTATUS[0]}
echo "bench: output in $OUT"
exit "$rc"
