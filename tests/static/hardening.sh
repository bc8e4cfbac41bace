#!/usr/bin/env bash
# The programs make builds are hardened (Makefile HARDEN_CFLAGS/LDFLAGS):
# position independent (ELF type DYN), relocations resolved at start and
# then read-only (BIND_NOW + GNU_RELRO), stack protector and
# _FORTIFY_SOURCE (they import __stack_chk_fail and __*_chk functions).
set -u
. "$TOP/tests/lib/netns.sh"
need_tool readelf binutils
n=0
for prog in okx-faultd okx-faultctl; do
	f=$TOP/$prog
	[ -x "$f" ] || fail "$f is not built (make all)"
	readelf -hW "$f" | grep -Eq '^ *Type: +DYN ' || fail "$prog is not a PIE: $(readelf -hW "$f" | grep Type:)"
	dyn=$(readelf -dW "$f")
	grep -Eq '\(FLAGS\) +.*BIND_NOW|\(FLAGS_1\) +Flags:.* NOW' <<<"$dyn" || fail "$prog: no BIND_NOW (-z now)"
	readelf -lW "$f" | grep -q 'GNU_RELRO' || fail "$prog: no GNU_RELRO segment (-z relro)"
	und=$(readelf --dyn-syms -W "$f" | awk '$7 == "UND" { sub(/@.*/, "", $8); print $8 }')
	grep -qx '__stack_chk_fail' <<<"$und" || fail "$prog imports no __stack_chk_fail (-fstack-protector-strong)"
	chk=$(grep -x '__[a-z0-9_]*_chk' <<<"$und" | grep -vx '__stack_chk_fail' | tr '\n' ' ')
	[ -n "$chk" ] || fail "$prog imports no fortified __*_chk function (-D_FORTIFY_SOURCE)"
	note "$prog: PIE, BIND_NOW, GNU_RELRO, __stack_chk_fail, $chk"
	n=$((n + 1))
done
echo "hardening OK: $n programs"
