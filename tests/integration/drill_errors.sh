#!/usr/bin/env bash
# Refusals change nothing (SPEC §3, §4): a bad policy (exit 2), a name that
# does not resolve (exit 2), not root (exit 1, one line), a second instance
# (exit 1 naming the table); a foreign table and its rules are byte-for-byte
# the same after a drill.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init err
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 60
cat > "$LAB_TMP/ok.policy" <<P
name = errors_test
target = 198.18.0.2
port = 8443
arm_min_flows = 0
fault = drop 2s
P
# a foreign table with rules of every kind we also use
in_cli nft -f - <<'N'
table inet foreign {
	counter c { }
	set s { type ipv4_addr; flags interval; elements = { 198.18.0.0/24 } }
	chain o {
		type filter hook output priority 0; policy accept;
		ip daddr @s counter name "c" accept
		ct state new counter
	}
}
table ip okx_lookalike {
	chain c {
	}
}
N
in_cli nft list ruleset | grep -v 'counter name\|packets' > "$LAB_TMP/before"

# bad policy: exit 2, nothing touched
printf 'name = x\ntarget = 198.18.0.2\nfault = drop 0s\n' > "$LAB_TMP/bad.policy"
out=$(in_cli "$OKX_FAULTD" "$LAB_TMP/bad.policy" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "bad policy: exit $rc"
grep -q "bad.policy:3:" <<<"$out" || fail "bad policy: no located error: $out"

# unresolvable name: exit 2 before anything (the .invalid TLD never resolves)
printf 'name = x\ntarget_host = nothing.invalid\nfault = drop 1s\narm_min_flows = 0\n' > "$LAB_TMP/nx.policy"
out=$(in_cli "$OKX_FAULTD" -j "$LAB_TMP/nx.jsonl" "$LAB_TMP/nx.policy" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "unresolvable: exit $rc ($out)"
grep -q "nx.policy:2: cannot resolve 'nothing.invalid'" <<<"$out" || fail "unresolvable: message: $out"
[ -e "$LAB_TMP/nx.jsonl" ] && fail "unresolvable: a journal was written"

# an existing journal path (here a device): exit 2 before anything is
# touched; a journal that fills up mid-drill is tests/integration/drill_files.sh
out=$(in_cli "$OKX_FAULTD" -j /dev/full "$LAB_TMP/ok.policy" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "existing journal path: exit $rc ($out)"
grep -q "journal /dev/full: the path exists" <<<"$out" || fail "existing journal path: message: $out"
in_cli nft list tables | grep -q okx_faultd && fail "existing journal path: table installed"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "existing journal path: traffic faulted"

# not root: one line, exit 1
if command -v setpriv >/dev/null; then
	# a policy the unprivileged user can read, so only the privilege is missing
	cp "$LAB_TMP/ok.policy" /tmp/okxt-nonroot-$$.policy
	chmod 644 /tmp/okxt-nonroot-$$.policy
	out=$(in_cli setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$TOP/okx-faultd" /tmp/okxt-nonroot-$$.policy 2>&1)
	rc=$?
	rm -f /tmp/okxt-nonroot-$$.policy
	[ $rc -eq 1 ] || fail "not root: exit $rc ($out)"
	[ "$out" = "okx-faultd: must run as root (CAP_NET_ADMIN)" ] || fail "not root: '$out'"
fi

# a second instance: exit 1, naming the table; the first one is unharmed.
# The first drill's fault is long (60 s) so that it is surely still live
# when the second one has been refused, however slow the machine; it is
# then ended with SIGTERM.
J="$LAB_TMP/one.jsonl"
sed 's/^fault = .*/fault = drop 60s/' "$LAB_TMP/ok.policy" > "$LAB_TMP/long.policy"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/long.policy"
D=$!
wait_for "the first instance's fault to begin" journal_has "$J" fault_begin
out=$(in_cli "$OKX_FAULTD" -j "$LAB_TMP/two.jsonl" "$LAB_TMP/ok.policy" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "second instance: exit $rc"
grep -q "another okx-faultd is running" <<<"$out" || fail "second instance: message: $out"
[ -e "$LAB_TMP/two.jsonl" ] && fail "second instance: created a journal before the table refused it"
journal_has "$J" fault_end && fail "the first instance's fault ended early: $(cat "$J")"
on0=$(in_cli nft list set inet okx_faultd on0) || fail "second instance removed the first one's table"
grep -q elements <<<"$on0" || fail "second instance disturbed the first: $on0"
kill -TERM $D
wait $D
rc=$?
[ $rc -eq 4 ] || fail "first instance: exit $rc after SIGTERM, want 4"
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome aborted --exit 4 --windows 1 --reason signal || fail "first instance's journal"

# journal path: the policy's `journal =` is used, and -j overrides it
sed "s|^fault = .*|fault = drop 100ms\njournal = $LAB_TMP/jdir/from-policy.jsonl|" "$LAB_TMP/ok.policy" > "$LAB_TMP/jp.policy"
in_cli "$OKX_FAULTD" -q "$LAB_TMP/jp.policy" || fail "drill with journal = in the policy"
[ -s "$LAB_TMP/jdir/from-policy.jsonl" ] || fail "policy journal path not used (or its directory not created)"
in_cli "$OKX_FAULTD" -q -j "$LAB_TMP/override.jsonl" "$LAB_TMP/jp.policy" || fail "drill with -j"
[ -s "$LAB_TMP/override.jsonl" ] || fail "-j path not used"
[ "$(grep -c '"event":"start"' "$LAB_TMP/jdir/from-policy.jsonl")" = 1 ] || fail "-j did not override the policy's journal"

in_cli nft list ruleset | grep -v 'counter name\|packets' > "$LAB_TMP/after"
diff -u "$LAB_TMP/before" "$LAB_TMP/after" || fail "foreign ruleset changed"
# and byte for byte, counters included, apart from the counters' values
in_cli nft list table inet foreign | sed 's/packets [0-9]* bytes [0-9]*/packets N bytes N/' > "$LAB_TMP/f1"
grep -q 'table inet foreign' "$LAB_TMP/f1" || fail "foreign table gone"
echo "errors OK"
