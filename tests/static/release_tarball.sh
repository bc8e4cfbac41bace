#!/usr/bin/env bash
# A release tree (`git archive HEAD`, no .git) builds with -Werror, names
# HEAD's commit in -V (not "unknown", not "-dirty": git archive writes the
# commit into .git-commit) and passes the unit tests. The whole `make check`
# there would rerun every integration test for minutes; the tree differs
# from the checkout only in its version stamp, which -V checks.
# Run from a tree that is not a git checkout (a release tree itself), it
# checks -V against that tree's .git-commit alone.
set -u
. "$TOP/tests/lib/netns.sh"

check_version() { # binary want-commit
	local v
	v=$("$1" -V) || fail "$1 -V: exit $?"
	note "$1 -V: $v"
	[[ $v =~ ^okx-[a-z]+\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ ${2}\)$ ]] || fail "-V: '$v', want commit $2 and nothing else"
}

if [ ! -e "$TOP/.git" ]; then
	c=$(cut -c1-12 "$TOP/.git-commit" 2>/dev/null)
	[[ $c =~ ^[0-9a-f]{12}$ ]] || fail "not a git checkout and .git-commit holds no commit: '$(head -c 80 "$TOP/.git-commit" 2>/dev/null)'"
	check_version "$OKX_FAULTD" "$c"
	echo "release_tarball OK: not a git checkout; checked -V against .git-commit ($c) only"
	exit 0
fi

need_tool git
head=$(git -C "$TOP" rev-parse HEAD) || fail "git rev-parse HEAD"
short=$(git -C "$TOP" rev-parse --short=12 "$head")
d=$(mktemp -d /tmp/okxt-release.XXXXXX)
trap 'rm -rf "$d"' EXIT
git -C "$TOP" archive --prefix=okx-faultd/ "$head" | tar -x -C "$d" || fail "git archive $head | tar -x"
t=$d/okx-faultd
[ ! -e "$t/.git" ] || fail "the archive has a .git"
note "$head archived into $t"

# the caller's make variables (B=, CC=, WERROR=) and build directory
# (OKX_BUILD) are not the release build's
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OKX_BUILD make -C "$t" "$@" >"$d/make.log" 2>&1 || {
	tail -40 "$d/make.log"
	fail "make $* in the release tree"
}; }
jobs=$(nproc 2>/dev/null || echo 2)
mk -j"$jobs" WERROR=1 all
check_version "$t/okx-faultd" "$short"
check_version "$t/okx-faultctl" "$short"
mk -j"$jobs" check-unit
grep -q '^okx-faultd tests[^:]*: [1-9][0-9]* passed, 0 failed,' "$d/make.log" ||
	{ tail -20 "$d/make.log"; fail "make check-unit in the release tree"; }
note "$(grep '^okx-faultd tests' "$d/make.log")"
echo "release_tarball OK: git archive $short builds (WERROR=1), -V names it, make check-unit passes"
