#!/usr/bin/env bash
# Every example policy passes --check, and its --dry-run (targets resolved)
# is accepted by `nft -c -f -` in a throwaway namespace; a dry run changes
# nothing. www.okx.com is resolved through a private /etc/hosts in a mount
# namespace (198.18.0.0/15 and 2001:2::/48 addresses): no DNS is used.
set -u
. "$TOP/tests/lib/netns.sh"
need_root
need_tool nft nftables
need_tool unshare util-linux
ns="okxt-dry-$$"
tmp=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add "$ns" || fail "netns"
cat > "$tmp/hosts" <<H
127.0.0.1 localhost
198.18.7.7 www.okx.com
2001:2::7 www.okx.com
H
dry() { # policy -> stdout; runs in the namespace with the private hosts file
	ip netns exec "$ns" unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" --dry-run "$3"' _ \
		"$tmp/hosts" "$OKX_FAULTD" "$1"
}
before=$(ip netns exec "$ns" nft list ruleset; ip netns exec "$ns" tc qdisc show)
n=0
for p in "$TOP"/policies/*.policy; do
	"$OKX_FAULTD" --check "$p" >/dev/null || fail "$p: --check failed"
	dry "$p" > "$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "$p: --dry-run failed"; }
	grep -q '^table inet okx_faultd' "$tmp/out" || fail "$p: no table in the dry run"
	ip netns exec "$ns" nft -c -f - < "$tmp/out" || { cat -n "$tmp/out"; fail "$p: nft -c rejected the dry run"; }
	if grep -q '^fault *= *delay' "$p"; then
		grep -q '^# tc qdisc ' "$tmp/out" || fail "$p: delay fault but no '# tc' lines"
	fi
	n=$((n + 1))
done
grep -q '198.18.7.7' <(dry "$TOP/policies/c2_3_degradation.policy") || fail "c2_3: www.okx.com not resolved into the set"
after=$(ip netns exec "$ns" nft list ruleset; ip netns exec "$ns" tc qdisc show)
[ "$before" = "$after" ] || fail "a dry run changed the namespace"
# a drill scoped by user and cgroup, in the namespace by `netns` (run from
# here: ip netns exec would hide the cgroup mount): the owner chain, the
# sets and the connection label pass nft -c; the cgroup's id is a comment
# (nft names cgroups by path under /sys/fs/cgroup only)
cgm=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cgm" ] || fail "no cgroup2 mount"
cg="okxt-dry-$$"
mkdir "$cgm/$cg" || fail "mkdir $cgm/$cg"
trap 'rmdir "$cgm/$cg" 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
printf 'name = scope_dry\ntarget = 198.18.7.7\nuid = nobody\ncgroup = %s\nnetns = %s\nfault = drop 1s\n' "$cg" "$ns" \
	> "$tmp/scope.policy"
"$OKX_FAULTD" --dry-run "$tmp/scope.policy" > "$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "scoped --dry-run failed"; }
grep -q 'meta skuid @uids socket cgroupv2 level 1 @cgroup_l1 goto egress' "$tmp/out" || fail "no owner chain: $(cat "$tmp/out")"
grep -q "# element $(stat -c %i "$cgm/$cg"): cgroup $cg " "$tmp/out" || fail "the cgroup's id: $(cat "$tmp/out")"
ip netns exec "$ns" nft -c -f - < "$tmp/out" || { cat -n "$tmp/out"; fail "nft -c rejected the scoped dry run"; }
# the check must be able to fail: a broken ruleset is rejected
printf 'table inet okx_faultd {\n chain c { ip daddr @nosuchset drop }\n}\n' | ip netns exec "$ns" nft -c -f - 2>/dev/null &&
	fail "nft -c accepts anything: the test proves nothing"
echo "$n example policies: --check OK, dry runs accepted by nft -c"
