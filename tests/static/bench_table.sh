#!/usr/bin/env bash
# README's "Measured here" table is copied from one `make bench` run, kept
# as tests/bench/measured-here.txt (tests/bench/run.sh writes that file):
#   - the README names the machine exactly as the file's "# machine:" line
#     and the run's date and commit;
#   - every figure in the table's result columns (all but the first, which
#     describes the workload) is a number the run printed.
# Exit 0 pass, 1 fail (see tests/run.sh).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RUN=$TOP/tests/bench/measured-here.txt
README=$TOP/README.md
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

[ -s "$RUN" ] || { echo "FAIL $RUN is missing or empty"; exit 1; }
section=$(awk '/^## Measured here/ {on = 1; next} on && /^## / {exit} on' "$README")
[ -n "$section" ] || { echo "FAIL README has no \"## Measured here\" section"; exit 1; }

machine=$(sed -n 's/^# machine: //p' "$RUN")
stamp=$(sed -n 's/^# okx-faultd bench, \([^,]*\), commit \([0-9a-f]*\).*/\1 \2/p' "$RUN")
[ -n "$machine" ] || fail "$RUN has no '# machine:' line"
[ -n "$stamp" ] || fail "$RUN has no '# okx-faultd bench, DATE, commit C' line"
grep -qF -- "$machine" <<<"$section" || fail "README does not name the machine as the run does: $machine"
for w in $stamp; do
	grep -qF -- "$w" <<<"$section" || fail "README does not give the run's date and commit ($w)"
done

# the numbers the run printed, one per line (1,234 and 1234 alike)
printed=$(grep -v '^#' "$RUN" | grep -oE '[0-9][0-9,]*(\.[0-9]+)?' | tr -d , | sort -u)
rows=0 figures=0
while IFS= read -r row; do
	rows=$((rows + 1))
	results=$(awk -F'|' '{ for (i = 3; i < NF; i++) print $i }' <<<"$row")
	for n in $(grep -oE '[0-9][0-9,]*(\.[0-9]+)?' <<<"$results" | tr -d ,); do
		figures=$((figures + 1))
		grep -qxF -- "$n" <<<"$printed" || fail "README figure $n is not in the bench run: $row"
	done
done < <(grep -E '^\|' <<<"$section" | grep -vE '^\|[- |]*\|$' | tail -n +2)

[ "$rows" -ge 5 ] || fail "the table has $rows rows"
[ "$figures" -ge 10 ] || fail "the table has only $figures figures"
if [ "$fails" -eq 0 ]; then
	echo "bench_table: $rows rows, $figures figures, all printed by the run of $stamp"
	exit 0
fi
exit 1
