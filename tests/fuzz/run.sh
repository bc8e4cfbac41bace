#!/usr/bin/env bash
# tests/fuzz/run.sh FUZZER...: run each libFuzzer target for FUZZ_SECONDS
# (default 30) from a seed corpus made of the project's own examples (golden
# policies, journal and event fixtures); new inputs go to a scratch corpus
# in build/fuzz/, crashes to build/fuzz/crash-*. Exit 1 when one crashed.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-30}
rc=0
for f in "$@"; do
	name=$(basename "$f")
	corpus="$TOP/build/fuzz/corpus-$name"
	mkdir -p "$corpus"
	seed() { local s; for s in "$@"; do [ -f "$s" ] && cp "$s" "$corpus/$(basename "$(dirname "$s")")-$(basename "$s")"; done; }
	case $name in
	policy) seed "$TOP"/tests/policies/good/*.policy "$TOP"/tests/policies/bad/*.policy "$TOP"/policies/*.policy ;;
	events) seed "$TOP"/tests/data/*.json* ;;
	journal) seed "$TOP"/tests/data/*.jsonl ;;
	status) seed "$TOP"/tests/data/status_*.json ;;
	esac
	seed "$TOP"/tests/fuzz/regressions/"$name"-*
	case $name in
	timeparse) printf '2026-11-28T03:41:00.017123Z' > "$corpus/seed1"; printf '2026-11-28T08:41:00.5+05:00' > "$corpus/seed2" ;;
	esac
	echo "== fuzz $name for ${secs}s ($(ls "$corpus" | wc -l) seeds)"
	if ! "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$TOP/build/fuzz/crash-$name-" \
		-print_final_stats=1 "$corpus" 2>"$TOP/build/fuzz/$name.log"; then
		echo "fuzz $name: FAILED (see build/fuzz/$name.log)"
		tail -30 "$TOP/build/fuzz/$name.log"
		rc=1
	else
		grep -E 'stat::number_of_executed_units|stat::new_units_added' "$TOP/build/fuzz/$name.log" | sed 's/^/   /'
	fi
done
exit $rc
