#!/usr/bin/env bash
# The command line of SPEC §3: usage errors exit 2 with a message and the
# usage text, -V names the version and the git commit, -h exits 0, modes
# exclude each other, --check reports OK or errors.
set -u
. "$TOP/tests/lib/netns.sh"
D=$OKX_FAULTD
P=$TOP/policies/c2_3_degradation.policy
t() { # want-rc want-stderr-substring cmd...
	local want=$1 msg=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want ($out)"
	[ -z "$msg" ] || grep -qF -- "$msg" <<<"$out" || fail "$*: stderr lacks '$msg': $out"
}
t 2 "no POLICY given" "$D"
t 2 "exactly one POLICY expected" "$D" "$P" "$P"
t 2 "unknown option '--bogus'" "$D" --bogus "$P"
t 2 "option '-j' needs an argument" "$D" "$P" -j
t 2 "option '--control-dir' needs an argument" "$D" "$P" --control-dir
t 2 "exclude each other" "$D" -c -n "$P"
t 2 "exclude each other" "$D" --cleanup -c
t 2 "--cleanup takes no POLICY" "$D" --cleanup "$P"
t 2 "No such file or directory" "$D" -c /nonexistent.policy
t 0 "" "$D" -h
[ "$("$D" -c "$P")" = "$P: OK" ] || fail "--check output"
v=$("$D" -V)
[[ $v =~ ^okx-faultd\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ [0-9a-f]{12,}(-dirty)?\)$ ]] || fail "-V: $v"
if [ -e "$TOP/.git" ]; then
	need_tool git
	c=$(git -C "$TOP" rev-parse --short=12 HEAD) || fail "git rev-parse HEAD"
	grep -qE "\(git $c(-dirty)?\)$" <<<"$v" || fail "-V does not name HEAD ($c): $v"
else # a release tree: git archive wrote the commit, nothing can be dirty
	c=$(cut -c1-12 "$TOP/.git-commit")
	grep -qF "(git $c)" <<<"$v" || fail "-V does not name .git-commit ($c): $v"
fi
"$D" --help | grep -q -- "--dry-run" || fail "--help lacks --dry-run"
"$D" --help | grep -q -- "--control-dir DIR" || fail "--help lacks --control-dir"
echo "cli OK"
