#!/usr/bin/env bash
# Replays the seed corpora (golden policies, journal and event fixtures,
# and tests/fuzz/regressions/NAME-*: inputs that once crashed a target)
# through the libFuzzer targets, with ASan and UBSan: deterministic, so it
# belongs in make check; `make fuzz` explores beyond the seeds. The policy
# target also checks the normalized printer's fixed point on every input.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool "${FUZZ_CC:-clang}" clang
make -s -C "$TOP" fuzzers >/tmp/okxt-fuzz-build.$$ 2>&1 || {
	grep -q "fsanitize=fuzzer\|libclang_rt.fuzzer\|cannot find.*fuzzer" /tmp/okxt-fuzz-build.$$ &&
		{ rm -f /tmp/okxt-fuzz-build.$$; fail "clang has no libFuzzer runtime (tests/deps.sh install fuzz)"; }
	cat /tmp/okxt-fuzz-build.$$; rm -f /tmp/okxt-fuzz-build.$$; fail "building the fuzz targets"
}
rm -f /tmp/okxt-fuzz-build.$$
n=0
for f in "$TOP"/build/fuzz/*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	name=$(basename "$f")
	seeds=()
	case $name in
	policy) seeds=("$TOP"/tests/policies/good/*.policy "$TOP"/tests/policies/bad/*.policy "$TOP"/policies/*.policy) ;;
	events) seeds=("$TOP"/tests/data/*.json*) ;;
	journal) seeds=("$TOP"/tests/data/*.jsonl) ;;
	status) seeds=("$TOP"/tests/data/status_*.json) ;;
	timeparse) continue ;;
	esac
	for r in "$TOP"/tests/fuzz/regressions/"$name"-*; do [ -f "$r" ] && seeds+=("$r"); done
	out=$("$f" -runs=0 "${seeds[@]}" 2>&1) || { echo "$out" | tail -30; fail "fuzz target $name failed on a seed"; }
	grep -q "Executed .* inputs\|Running: " <<<"$out" || { echo "$out" | tail; fail "$name ran nothing"; }
	note "$name: ${#seeds[@]} seeds replayed"
	n=$((n + 1))
done
[ $n -ge 3 ] || fail "only $n fuzz targets replayed"
echo "fuzz replay OK"
