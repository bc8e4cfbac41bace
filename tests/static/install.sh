#!/usr/bin/env bash
# make install honours PREFIX and DESTDIR and installs the binaries, the man
# pages, the systemd unit (with the real binary path) and the example
# policies; the installed binary runs.
set -u
. "$TOP/tests/lib/netns.sh"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/okx >"$d.log" 2>&1 || { cat "$d.log"; rm -f "$d.log"; fail "make install"; }
rm -f "$d.log"
for f in opt/okx/sbin/okx-faultd opt/okx/bin/okx-faultctl; do
	[ -x "$d/$f" ] || fail "missing $f"
done
for f in opt/okx/share/man/man8/okx-faultd.8 opt/okx/share/man/man5/okx-faultd.policy.5 \
	opt/okx/share/man/man1/okx-faultctl.1 opt/okx/lib/systemd/system/okx-faultd@.service \
	opt/okx/share/doc/okx-faultd/policies/c2_3_degradation.policy; do
	[ -s "$d/$f" ] || fail "missing $f"
done
[ -d "$d/etc/okx-faultd" ] || fail "no /etc/okx-faultd"
grep -qx 'ExecStart=/opt/okx/sbin/okx-faultd /etc/okx-faultd/%i.policy' "$d/opt/okx/lib/systemd/system/okx-faultd@.service" ||
	fail "unit ExecStart does not name the installed binary"
n=$(ls "$d/opt/okx/share/doc/okx-faultd/policies/" | wc -l)
[ "$n" = "$(ls "$TOP"/policies/*.policy | wc -l)" ] || fail "example policies: $n installed"
v=$("$d/opt/okx/sbin/okx-faultd" -V)
[ "$v" = "$("$TOP/okx-faultd" -V)" ] || fail "installed binary -V: '$v', the built one says '$("$TOP/okx-faultd" -V)'"
[[ $v =~ ^okx-faultd\ [0-9.]+\ \(git\ [0-9a-f]{12,}(-dirty)?\)$ ]] || fail "installed binary -V: $v"
"$d/opt/okx/sbin/okx-faultd" --check "$d/opt/okx/share/doc/okx-faultd/policies/c2_3_degradation.policy" >/dev/null ||
	fail "installed binary cannot check an installed policy"
echo "install OK"
