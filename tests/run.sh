#!/usr/bin/env bash
# tests/run.sh [unit|static|integration|all]
# Runs the suites and ends with one line "okx-faultd tests: N passed, N failed, N skipped".
# Script tests exit 0 (pass), 77 (skip: the first line they print to stdout
# starting with "SKIP:" is the reason, always shown) or anything else (fail).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
export TOP
export OKX_FAULTD="$TOP/build/san/okx-faultd" OKX_FAULTCTL="$TOP/build/san/okx-faultctl" LAB="$TOP/build/lab"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
suites=${1:-all}
pass=0 fail=0 skip=0
failed=()
logdir=$(mktemp -d /tmp/okx-tests.XXXXXX)

run_unit() {
	local t out
	for t in build/san/test_*; do
		[ -x "$t" ] || continue
		out=$("$t" --jobs 1 2>&1)
		local rc=$?
		local line
		line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -1)
		local tested passing
		tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
		passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
		tested=${tested:-0} passing=${passing:-0}
		pass=$((pass + passing))
		if [ $rc -ne 0 ] || [ "$tested" != "$passing" ] || [ "$tested" = 0 ]; then
			fail=$((fail + tested - passing))
			[ "$tested" = "$passing" ] && fail=$((fail + 1))
			failed+=("$(basename "$t")")
			printf '%s\n' "$out"
		fi
		printf '  unit  %-28s %s\n' "$(basename "$t")" "${line#*Synthesis: }"
	done
}

run_scripts() {
	local dir=$1 t rc name
	for t in "$dir"/*.sh; do
		[ -f "$t" ] || continue
		name=${t#tests/}
		local log="$logdir/$(basename "$t").log"
		bash "$t" >"$log" 2>&1
		rc=$?
		case $rc in
		0) pass=$((pass + 1)); printf '  PASS  %s\n' "$name" ;;
		77) skip=$((skip + 1)); printf '  SKIP  %s (%s)\n' "$name" "$(grep -m1 '^SKIP:' "$log" | sed 's/^SKIP: *//')" ;;
		*) fail=$((fail + 1)); failed+=("$name"); printf '  FAIL  %s (exit %d)\n' "$name" "$rc"; sed 's/^/        | /' "$log" | tail -40 ;;
		esac
	done
}

case $suites in
unit) run_unit ;;
static) run_scripts tests/static ;;
integration) run_scripts tests/integration ;;
all) run_unit; run_scripts tests/static; run_scripts tests/integration ;;
*) echo "usage: $0 [unit|static|integration|all]" >&2; exit 2 ;;
esac
rm -rf "$logdir"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "okx-faultd tests: $pass passed, $fail failed, $skip skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
