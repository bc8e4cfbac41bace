#!/usr/bin/env bash
# The systemd template unit passes `systemd-analyze verify` and keeps its
# hardening (only CAP_NET_ADMIN, read-only system, private tmp).
set -u
. "$TOP/tests/lib/netns.sh"
need_tool systemd-analyze systemd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bindir=$(cd "$TOP" && pwd)
# verify checks that ExecStart's binary exists: point it at the built tree
sed "s|@BINDIR@|$bindir|g" "$TOP/dist/okx-faultd@.service.in" > "$tmp/okx-faultd@.service"
cp "$tmp/okx-faultd@.service" "$tmp/okx-faultd@demo.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/okx-faultd@demo.service" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "systemd-analyze verify failed"
# anything about our unit is a finding (other units on the host are not ours)
if grep -i "okx-faultd@" <<<"$out" | grep -qiv "^$"; then
	fail "systemd-analyze reported problems with the unit"
fi
u="$tmp/okx-faultd@.service"
grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' "$u" || fail "capability bounding set is not CAP_NET_ADMIN only"
grep -qx 'ProtectSystem=strict' "$u" || fail "ProtectSystem=strict missing"
grep -qx 'PrivateTmp=yes' "$u" || fail "PrivateTmp missing"
grep -q "^ExecStart=$bindir/okx-faultd /etc/okx-faultd/%i.policy$" "$u" || fail "ExecStart is wrong"
echo "unit verified"
