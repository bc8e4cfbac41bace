#!/usr/bin/env bash
# The systemd template unit passes `systemd-analyze verify` and keeps its
# hardening (only CAP_NET_ADMIN, read-only system, private tmp, kernel
# modules hidden); real-time scheduling comes from systemd
# (CPUSchedulingPolicy=fifo), not from a capability the unit would need.
# tests/integration/drill_sandbox.sh runs the daemon in this sandbox.
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
grep -qx 'CPUSchedulingPolicy=fifo' "$u" || fail "CPUSchedulingPolicy=fifo missing"
prio=$(sed -n 's/^CPUSchedulingPriority=//p' "$u")
[[ $prio =~ ^[0-9]+$ ]] && [ "$prio" -ge 1 ] && [ "$prio" -le 99 ] || fail "CPUSchedulingPriority '$prio' not in 1..99"
grep -qx 'CPUSchedulingResetOnFork=yes' "$u" || fail "CPUSchedulingResetOnFork=yes missing"
grep -qx 'RestrictRealtime=yes' "$u" || fail "RestrictRealtime=yes missing"
grep -qx 'NoNewPrivileges=yes' "$u" || fail "NoNewPrivileges=yes missing"
grep -qx 'ProtectKernelModules=yes' "$u" || fail "ProtectKernelModules=yes missing"
grep -q '^CapabilityBoundingSet=.*SYS_NICE' "$u" && fail "CAP_SYS_NICE in the bounding set"
grep -q '^AmbientCapabilities=.*SYS_NICE' "$u" && fail "CAP_SYS_NICE in the ambient set"
grep -qx "ExecStopPost=$bindir/okx-faultd --cleanup" "$u" || fail "ExecStopPost --cleanup missing"
grep -q "^ExecStart=$bindir/okx-faultd /etc/okx-faultd/%i.policy$" "$u" || fail "ExecStart is wrong"
# the control socket's directory, shared by every instance: kept when one stops
grep -qx 'RuntimeDirectory=okx-faultd' "$u" || fail "RuntimeDirectory=okx-faultd missing"
grep -qx 'RuntimeDirectoryMode=0750' "$u" || fail "RuntimeDirectoryMode=0750 missing"
grep -qx 'RuntimeDirectoryPreserve=yes' "$u" || fail "RuntimeDirectoryPreserve=yes missing"
echo "unit verified"
