#!/usr/bin/env bash
# Golden tests of the policy language through `okx-faultd --check`
# (okx-faultd.policy(5)):
#   good/NAME.policy  `--check -v` prints exactly NAME.out (the normalized
#                     policy) and "NAME.policy: OK" on stderr; that output
#                     parses again to the same text (fixed point); plain
#                     `--check` prints "NAME.policy: OK" and exits 0.
#   bad/NAME.policy   run from inside bad/ so messages start "NAME.policy:";
#                     exit 2, nothing on stdout, stderr exactly NAME.err.
#   policies/*.policy the shipped examples pass --check.
# Exit 0 pass, 1 fail (see tests/run.sh). A missing binary, or a tree
# without its golden files, is a failure.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${OKX_FAULTD:-$TOP/build/san/okx-faultd}
DIR=$TOP/tests/policies

if [ ! -x "$BIN" ]; then
	echo "FAIL: $BIN is not built (make build-tests)"
	exit 1
fi
tmp=$(mktemp -d /tmp/okx-policy-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0 good=0 bad=0

fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

for f in "$DIR"/good/*.policy; do
	name=$(basename "$f" .policy)
	good=$((good + 1))
	if [ ! -f "$DIR/good/$name.out" ]; then
		fail "good/$name: no $name.out"
		continue
	fi
	(cd "$DIR/good" && "$BIN" --check -v "$name.policy") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "good/$name: --check -v exited $rc"
		sed 's/^/    /' "$tmp/err"
		continue
	fi
	if ! diff -u "$DIR/good/$name.out" "$tmp/out" >"$tmp/diff"; then
		fail "good/$name: normalized output differs from $name.out"
		sed 's/^/    /' "$tmp/diff"
	fi
	grep -qxF "$name.policy: OK" "$tmp/err" || fail "good/$name: no '$name.policy: OK' on stderr of --check -v"

	# the normalized output is itself a valid policy that prints the same
	cp "$tmp/out" "$tmp/again.policy"
	if ! "$BIN" --check -v "$tmp/again.policy" >"$tmp/out2" 2>"$tmp/err2"; then
		fail "good/$name: the normalized output does not parse"
		sed 's/^/    /' "$tmp/err2"
	elif ! cmp -s "$tmp/out" "$tmp/out2"; then
		fail "good/$name: printing is not a fixed point"
		diff -u "$tmp/out" "$tmp/out2" | sed 's/^/    /'
	fi

	out=$(cd "$DIR/good" && "$BIN" --check "$name.policy" 2>"$tmp/err3")
	rc=$?
	[ $rc -eq 0 ] || fail "good/$name: --check exited $rc"
	[ "$out" = "$name.policy: OK" ] || fail "good/$name: --check printed '$out', not '$name.policy: OK'"
done

for f in "$DIR"/bad/*.policy; do
	name=$(basename "$f" .policy)
	bad=$((bad + 1))
	if [ ! -f "$DIR/bad/$name.err" ]; then
		fail "bad/$name: no $name.err"
		continue
	fi
	(cd "$DIR/bad" && "$BIN" --check "$name.policy") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || fail "bad/$name: exited $rc, not 2"
	[ -s "$tmp/out" ] && fail "bad/$name: printed on stdout: $(head -c 200 "$tmp/out")"
	if ! diff -u "$DIR/bad/$name.err" "$tmp/err" >"$tmp/diff"; then
		fail "bad/$name: errors differ from $name.err"
		sed 's/^/    /' "$tmp/diff"
	fi
done

# the shipped example policies are valid, and print as their golden copies
for f in "$TOP"/policies/*.policy; do
	name=$(basename "$f" .policy)
	if ! (cd "$TOP/policies" && "$BIN" --check -v "$name.policy") >"$tmp/out" 2>"$tmp/err"; then
		fail "policies/$name.policy is rejected"
		sed 's/^/    /' "$tmp/err"
	elif [ -f "$DIR/good/$name.out" ] && ! cmp -s "$DIR/good/$name.out" "$tmp/out"; then
		fail "policies/$name.policy differs from tests/policies/good/$name.policy"
	fi
done

# --check never resolves target_host: it passes with no network at all
if unshare -rn true 2>/dev/null; then
	if ! (cd "$DIR/good" && unshare -rn "$BIN" --check c2_3_degradation.policy) >/dev/null 2>"$tmp/err"; then
		fail "--check needs the network (it must not resolve target_host)"
		sed 's/^/    /' "$tmp/err"
	fi
fi

# a file that cannot be read: "FILE: strerror", exit 2
(cd "$tmp" && "$BIN" --check missing.policy) >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "missing file: exited $rc, not 2"
grep -qxF "missing.policy: No such file or directory" "$tmp/err" || fail "missing file: stderr is '$(cat "$tmp/err")'"

# a glob that matched nothing ran its loop once on the pattern itself
[ -e "$DIR/good/all_keys.policy" ] && [ "$good" -ge 20 ] || fail "only $good good golden policies under $DIR/good (want >= 20)"
[ -e "$DIR/bad" ] && [ "$bad" -ge 50 ] || fail "only $bad bad golden policies under $DIR/bad (want >= 50)"
echo "policy golden: $good good, $bad bad, $fails failures"
[ $fails -eq 0 ]
