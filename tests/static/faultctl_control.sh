#!/usr/bin/env bash
# okx-faultctl status, watch and stop without a drill (okx-faultctl(1)):
# usage errors exit 2 with a message naming the command, a bad drill name
# is refused before any file is looked at, no control directory means no
# drill (exit 0), a missing drill or something that is not a socket exits
# 1 (watch: 5), $OKX_FAULTD_CONTROL_DIR is where they look. The drills
# themselves: tests/integration/drill_control.sh.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
C=${OKX_FAULTCTL:-$TOP/build/san/okx-faultctl}
. "$TOP/tests/lib/netns.sh"
[ -x "$C" ] || fail "$C is not built (make build-tests)"
tmp=$(mktemp -d /tmp/okx-ctl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset OKX_FAULTD_CONTROL_DIR
t() { # want-rc want-stderr-substring cmd...
	local want=$1 msg=$2 rc
	shift 2
	err=$("$@" 2>&1 >"$tmp/out")
	rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want ($err)"
	[ -z "$msg" ] || grep -qF -- "$msg" <<<"$err" || fail "$*: stderr lacks '$msg': $err"
}
none=$tmp/none
t 2 "status: one NAME at most" "$C" status a b --control-dir "$none"
t 2 "watch: which drill? give its NAME" "$C" watch --control-dir "$none"
t 2 "stop: which drill? give its NAME" "$C" stop
t 2 "stop: one NAME at most" "$C" stop a b
t 2 "watch: unknown option '--json'" "$C" watch a --json
t 2 "status: unknown option '--bogus'" "$C" status --bogus
t 2 "status: option '--control-dir' needs an argument" "$C" status --control-dir
t 2 "status: invalid drill name '../x' (1-64 characters from A-Z a-z 0-9 _ . -)" "$C" status ../x
t 2 "usage: okx-faultctl watch NAME [--control-dir DIR]" "$C" watch ../x y
t 0 "" "$C" status -h
grep -qx 'usage: okx-faultctl status \[NAME\] \[--json\] \[--control-dir DIR\]' "$tmp/out" || fail "status -h: $(cat "$tmp/out")"
"$C" --help | grep -q '^  watch ' || fail "--help lacks watch"

# no control directory: no drill runs
t 0 "" "$C" status --control-dir "$none"
[ "$(cat "$tmp/out")" = "no drill is running" ] || fail "status: $(cat "$tmp/out")"
t 0 "" "$C" status --json --control-dir "$none"
[ "$(cat "$tmp/out")" = '{"version":1,"drills":[]}' ] || fail "status --json: $(cat "$tmp/out")"
OKX_FAULTD_CONTROL_DIR=$none t 0 "" "$C" status
[ "$(cat "$tmp/out")" = "no drill is running" ] || fail "status with the environment: $(cat "$tmp/out")"
t 1 "drill x is not running (no $none/x.sock)" "$C" status x --control-dir "$none"
OKX_FAULTD_CONTROL_DIR=$none t 1 "drill x is not running (no $none/x.sock)" "$C" stop x
t 5 "drill x is not running" "$C" watch x --control-dir "$none"
[ ! -e "$none" ] || fail "a client made the control directory"

# something that is not a socket at the path
mkdir "$tmp/d"
: >"$tmp/d/x.sock"
t 1 "$tmp/d/x.sock: Socket operation on non-socket" "$C" stop x --control-dir "$tmp/d"
t 0 "" "$C" status --control-dir "$tmp/d"
[ "$(cat "$tmp/out")" = "no drill is running" ] || fail "status beside a file: $(cat "$tmp/out")"
echo "faultctl control OK"
