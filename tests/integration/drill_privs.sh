#!/usr/bin/env bash
# Least privilege and policy trust (okx-faultd(8), SECURITY):
#  - past set-up (watching, then with a fault live) the daemon holds
#    CAP_NET_ADMIN alone: CapEff = CapPrm = CapBnd = 0000000000001000,
#    CapInh = CapAmb = 0, NoNewPrivs 1 (/proc/PID/status); it still ends
#    the fault, journals it and removes its table;
#  - run as root, a policy another user owns, or one its group or others
#    may write, is refused with exit 2 and "FILE: refused: ..." by the
#    drill (no table, no journal) and by --check; owned by the sudo user
#    (SUDO_UID) it is accepted, as is an anonymous pipe (<(...)).
set -u
. "$TOP/tests/lib/netns.sh"
lab_init privs
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120
P="$LAB_TMP/privs.policy"
cat > "$P" <<'P'
name = privs
target = 198.18.0.2
port = 8443
arm_min_flows = 1
arm_timeout = 1m
fault = drop 30s
P
chmod 0644 "$P"

status_is() { # PID FIELD VALUE
	local v
	v=$(sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status")
	[ "$v" = "$3" ] || fail "$2 of the daemon is '$v', want '$3' ($4)"
}
check_caps() { # PID WHEN
	status_is "$1" CapEff 0000000000001000 "$2"
	status_is "$1" CapPrm 0000000000001000 "$2"
	status_is "$1" CapBnd 0000000000001000 "$2"
	status_is "$1" CapInh 0000000000000000 "$2"
	status_is "$1" CapAmb 0000000000000000 "$2"
	status_is "$1" NoNewPrivs 1 "$2"
}

J="$LAB_TMP/privs.jsonl"
bg_cli "$OKX_FAULTD" -v -j "$J" "$P" 2>"$LAB_TMP/d.log"
D=$!
wait_for "the daemon to watch" log_has "$LAB_TMP/d.log" 'watching:'
check_caps $D watching
note "watching: $(grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/$D/status | tr '\n\t' '  ')"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "the arming call failed"
wait_for "the fault to begin" journal_has "$J" fault_begin
check_caps $D "fault live"
kill -TERM $D
wait $D
rc=$?
[ $rc -eq 4 ] || fail "SIGTERM: exit $rc, want 4: $(cat "$LAB_TMP/d.log")"
journal_has "$J" fault_end || fail "no fault_end after the drop"
! in_cli nft list tables | grep -q okx_faultd || fail "table left after the drop"

# policy trust
refused() { # WHY-ERE [env...]: drill and --check refuse $P with exit 2
	local ere=$1 j="$LAB_TMP/refused.jsonl"
	shift
	expect_rc 2 in_cli env "$@" "$OKX_FAULTD" -j "$j" "$P"
	grep -qE "^$P: refused: $ere" <<<"$out" || fail "drill: no located refusal matching '$ere': $out"
	[ ! -e "$j" ] || fail "a refused policy created its journal"
	! in_cli nft list tables | grep -q okx_faultd || fail "a refused policy installed a table"
	expect_rc 2 env "$@" "$OKX_FAULTD" --check "$P"
	grep -qE "^$P: refused: $ere" <<<"$out" || fail "--check: no located refusal matching '$ere': $out"
}
accepted() { # [env...]
	expect_rc 0 env "$@" "$OKX_FAULTD" --check "$P"
}
chmod 0664 "$P"
chgrp 65534 "$P"
refused 'writable by its group \(mode 0664\)' -u SUDO_UID
# group-writable by the owner's private group (Debian's umask 002 checkouts):
# root:root is root's private group where the group database says so
chgrp 0 "$P"
if [ "$(getent passwd 0 | cut -d: -f4)" = 0 ] && [ "$(getent group 0)" = "root:x:0:" ]; then
	accepted -u SUDO_UID
else
	refused 'writable by its group \(mode 0664\)' -u SUDO_UID
fi
chmod 0646 "$P"
refused 'writable by others \(mode 0646\)' -u SUDO_UID
chmod 0644 "$P"
chown 65534 "$P"
refused 'owned by uid 65534, not root' -u SUDO_UID
refused 'owned by uid 65534, neither root nor the sudo user \(uid 1000\)' SUDO_UID=1000
accepted SUDO_UID=65534
chmod 0664 "$P"
refused 'writable by its group' SUDO_UID=65534
chmod 0644 "$P"
chown 0 "$P"
accepted -u SUDO_UID
expect_rc 0 env -u SUDO_UID "$OKX_FAULTD" --check <(cat "$P")
note "trust: group/other-writable and foreign policies refused (drill and --check), sudo user's and pipes accepted"
exit 0
