#!/usr/bin/env bash
# make bench: every tests/bench/*.sh, each printing medians and ratios
# against a baseline measured in the same run. Not a test: it never fails
# on a number, only when a benchmark cannot run.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP OKX_FAULTD="$TOP/okx-faultd" OKX_FAULTCTL="$TOP/okx-faultctl" LAB="$TOP/build/lab" BENCH="$TOP/build/bench"
rc=0
for b in "$TOP"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "bench $(basename "$b") failed"; rc=1; }
done
exit $rc
