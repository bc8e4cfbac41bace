#!/usr/bin/env bash
# The dns fault (okx-faultd.policy(5), fault dns), in a lab with a resolver
# of the test's own (tests/lab/dns_sim.py on 198.18.0.4 and 2001:2::3 in
# srv, and on 127.0.0.53 in cli, like a local cache): the target_host name
# fails to resolve within a second during the window and resolves after it,
# another name resolves throughout; TCP queries, IPv6 queries, queries
# forwarded for a namespace routed through cli (a container) and queries to
# the local resolver are caught; an upper-case query is not; mode=drop
# makes the queries time out; the hits are exactly the queries matched; the
# kernel's ruleset is the dry run's. The daemon re-resolves the name every
# 200 ms (resolve_every) through the same resolver, and holds that while a
# dns window is live: its -v log shows no lookup started inside a window,
# rounds held there, and lookups that succeed in the pauses around them;
# the exact hit counts leave no room for a query of its own (a lookup
# already under way when a window began is marked so, and only its queries
# are allowed for). getent runs with a private /etc/resolv.conf and
# /etc/hosts bound in a mount namespace; no real DNS is used and no packet
# leaves the lab.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool unshare util-linux
need_tool getent libc-bin
need_tool python3 python3
lab_init dns
CTR="$LAB_PREFIX-ctr"
trap 'ip netns del "$CTR" 2>/dev/null; lab_cleanup' EXIT
lab_two
T=$LAB_TMP
SIM="$TOP/tests/lab/dns_sim.py"
J="$T/j.jsonl"

# a namespace behind cli, which routes for it: cli's forward hook sees its queries
ip netns add "$CTR" || fail "ip netns add $CTR"
ip link add veth-x netns "$CTR" type veth peer name veth-r netns "$LAB_PREFIX-cli" || fail "veth"
ip -n "$CTR" link set lo up
ip -n "$CTR" addr add 198.18.1.2/24 dev veth-x
ip -n "$LAB_PREFIX-cli" addr add 198.18.1.1/24 dev veth-r
ip -n "$CTR" link set veth-x up
ip -n "$LAB_PREFIX-cli" link set veth-r up
ip -n "$CTR" route add default via 198.18.1.1
ip -n "$LAB_PREFIX-srv" route add 198.18.1.0/24 via 198.18.0.1
in_cli sysctl -qw net.ipv4.ip_forward=1 || fail "ip_forward"

serve "$T/sim.err" srv python3 "$SIM" serve 198.18.0.4 okx-sim.test=198.18.0.2 other.test=198.18.0.3 > "$T/sim.log"
serve "$T/sim6.err" srv python3 "$SIM" serve 2001:2::3 okx-sim.test=198.18.0.2 other.test=198.18.0.3 > "$T/sim6.log"
# a local caching resolver's address, in cli
serve "$T/local.err" cli python3 "$SIM" serve 127.0.0.53 okx-sim.test=198.18.0.2 other.test=198.18.0.3 > "$T/local.log"
printf 'nameserver 198.18.0.4\noptions timeout:1 attempts:1\n' > "$T/resolv.conf"
printf '127.0.0.1 localhost\n' > "$T/hosts"
# in_mnt CMD...: in cli, with the lab resolver as the system's
in_mnt() { in_cli "$TOP/tests/lib/with_resolv.sh" "$T" "$@"; }
q() { in_cli python3 "$SIM" query "$@"; }       # q udp|tcp SERVER NAME [--timeout-ms N]
qx() { ip netns exec "$CTR" python3 "$SIM" query "$@"; }
resolves() { # NAME ADDR: getent answers ADDR
	local o
	o=$(in_mnt getent ahostsv4 "$1") || fail "$1 does not resolve ($2): $o"
	grep -q "^$2 " <<<"$o" || fail "$1 resolved to '$o', not $2"
}
fails_fast() { # NAME: getent fails, within a second
	local t0=${EPOCHREALTIME/./} o ms
	o=$(in_mnt getent ahostsv4 "$1") && fail "$1 resolved during the dns fault: $o"
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	note "getent $1 failed after $ms ms"
	[ "$ms" -lt $((1000 * $(wait_scale))) ] || fail "$1 took $ms ms to fail (a second allowed)"
}
expect() { # WANT-REGEX DESC CMD...: the query's result line matches
	local want=$1 desc=$2 o
	shift 2
	o=$("$@")
	[[ $o =~ $want ]] || fail "$desc: got '$o', want /$want/"
	note "$desc: $o"
}
live() { # N: fault_begin N seen and fault_end N not yet: window N-1 still open
	journal_has "$J" fault_begin "$1" && ! journal_has "$J" fault_end "$1"
}
hits() { python3 "$TOP/tests/lib/journal.py" "$J" get "ev['fault_end'][$1]['hits']['packets']"; }

resolves okx-sim.test 198.18.0.2
resolves other.test 198.18.0.3
# the windows hold every check of theirs (a python3 start, a dry run of
# the sanitized daemon): three times as long under emulation (the VM)
K=$(wait_scale)
cat > "$T/p.policy" <<P
name = dns_test
target_host = okx-sim.test
port = 443
arm_min_flows = 0
resolve_every = 200ms
fault = dns $((4 * K))s
fault = pause $((2 * K))s
fault = dns $((9 * K))s
fault = pause $((2 * K))s
fault = dns $((7 * K))s mode=drop
P
L="$T/d.log"
in_mnt "$OKX_FAULTD" -v -j "$J" "$T/p.policy" 2>"$L" &
D=$!
LAB_PIDS+=($D)

# window 1 (refuse): getent fails at once for the target, not for another name
wait_for "the first dns window" journal_has "$J" fault_begin 1
# the dry run describes what was installed (reject's default icmpx
# port-unreachable is listed as a plain reject). It resolves the name from
# a hosts file: through DNS it would fail now, as it should.
in_cli nft list table inet okx_faultd > "$T/listed.nft" || fail "nft list"
printf '127.0.0.1 localhost\n198.18.0.2 okx-sim.test\n' > "$T/hosts.dry"
in_cli unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" --dry-run "$3"' _ "$T/hosts.dry" "$OKX_FAULTD" \
	"$T/p.policy" > "$T/dry.nft" || fail "--dry-run"
norm() {
	sed -e '/^#/d' -e 's/ *#.*//' -e 's/^[[:space:]]*//' -e '/^$/d' -e '/packets [0-9]* bytes [0-9]*/d' -e '/ timeout .* expires /d' \
		-e 's/reject with icmpx port-unreachable/reject/' "$1" | sort
}
diff <(norm "$T/dry.nft") <(norm "$T/listed.nft") || fail "the kernel's ruleset differs from the dry run"
grep -q '^udp sport 53 meta nfproto @on4 @ih,96,112 0x76f6b782d73696d047465737400 counter name "f4" drop$' \
	<(norm "$T/listed.nft") || fail "no dns drop rule for answers in the listing"
fails_fast okx-sim.test
resolves other.test 198.18.0.3
live 1 || fail "window 1 ended before its checks were done (slow machine?)"
names=$(python3 "$TOP/tests/lib/journal.py" "$J" get "ev['fault_begin'][0]['names']")
[ "$names" = "['okx-sim.test']" ] || fail "fault_begin names: $names"

# the pause: the name resolves again
wait_for "the first dns window to end" journal_has "$J" fault_end 1
resolves okx-sim.test 198.18.0.2
journal_has "$J" fault_begin 2 && fail "the pause ended before its check was done (slow machine?)"
[ "$(hits 0)" -ge 1 ] || fail "window 1 counted no query"
note "window 1: $(hits 0) queries refused (getent's)"

# window 2 (refuse): exact hits. From cli: 3 UDP and 1 TCP query for the
# target, 1 to the local resolver, 1 UDP and 1 TCP over IPv6; from the
# namespace behind it (forward hook): 2 UDP and 1 TCP
wait_for "the second dns window" journal_has "$J" fault_begin 2
for i in 1 2 3; do expect '^err (EPERM|ECONNREFUSED) ' "udp query $i (output)" q udp 198.18.0.4 okx-sim.test; done
expect '^err (ECONNRESET|EPIPE) ' "tcp query (output)" q tcp 198.18.0.4 okx-sim.test
expect '^err (EPERM|ECONNREFUSED) ' "udp query to 127.0.0.53" q udp 127.0.0.53 okx-sim.test
expect '^err (EPERM|ECONNREFUSED) ' "udp query over IPv6" q udp 2001:2::3 okx-sim.test
expect '^err (ECONNRESET|EPIPE) ' "tcp query over IPv6" q tcp 2001:2::3 okx-sim.test
expect '^ok 198\.18\.0\.3 ' "another name over IPv6" q udp 2001:2::3 other.test
for i in 1 2; do expect '^err ECONNREFUSED ' "udp query $i (forward)" qx udp 198.18.0.4 okx-sim.test; done
expect '^err (ECONNRESET|EPIPE) ' "tcp query (forward)" qx tcp 198.18.0.4 okx-sim.test
expect '^ok 198\.18\.0\.3 ' "another name over udp" q udp 198.18.0.4 other.test
expect '^ok 198\.18\.0\.3 ' "another name over tcp" q tcp 198.18.0.4 other.test
expect '^ok 198\.18\.0\.3 ' "another name, forwarded" qx udp 198.18.0.4 other.test
# documented: only the lower-case name is matched
expect '^ok 198\.18\.0\.2 ' "the target in upper case (not matched)" q udp 198.18.0.4 OKX-SIM.test
live 2 || fail "window 2 ended before its queries were sent (slow machine?)"
wait_for "the second dns window to end" journal_has "$J" fault_end 2

# window 3 (drop): the queries time out, whichever resolver they go to
wait_for "the third dns window" journal_has "$J" fault_begin 3
for i in 1 2; do expect '^timeout ' "udp query $i (drop)" q udp 198.18.0.4 okx-sim.test --timeout-ms 400; done
expect '^timeout ' "udp query to 127.0.0.53 (drop)" q udp 127.0.0.53 okx-sim.test --timeout-ms 400
expect '^timeout ' "udp query over IPv6 (drop)" q udp 2001:2::3 okx-sim.test --timeout-ms 400
expect '^timeout ' "udp query, forwarded (drop)" qx udp 198.18.0.4 okx-sim.test --timeout-ms 400
expect '^ok 198\.18\.0\.3 ' "another name (drop)" q udp 198.18.0.4 other.test
live 3 || fail "window 3 ended before its queries were sent (slow machine?)"
wait $D || { cat "$L"; fail "the drill failed"; }

# the daemon's own lookups (resolve_every), from its -v log: "WINDOWS
# PAUSES HELD1 HELD2 HELD3": the windows with no lookup started and rounds
# held, the pauses with lookups answered, and per window the lookups that
# were under way when it began
read -r nwin npause held1 held2 held3 < <(python3 - "$L" <<'EOF'
import re, sys
segs, cur = [], None  # [kind, started, answered, under way at a begin, rounds held]
for line in open(sys.argv[1]):
    if re.search(r": fault \d+: dns for \d+ ms is live$", line):
        cur = ["window", 0, 0, 0, 0]; segs.append(cur)
    elif re.search(r": fault \d+ \(dns\) ended after ", line):
        cur = ["pause", 0, 0, 0, 0]; segs.append(cur)
    elif cur is None:
        continue
    elif re.search(r": target_host okx-sim\.test: looking up$", line):
        cur[1] += 1
    elif re.search(r": target_host okx-sim\.test: (\d+ address.*a dns fault went live|lookup failed while a dns fault was live)", line):
        cur[3] += 1
    elif re.search(r": target_host okx-sim\.test: 1 address$", line):
        cur[2] += 1
    elif re.search(r": target_host: no lookup while a dns fault is live$", line):
        cur[4] += 1
for s in segs:
    print(f"# {s[0]}: {s[1]} lookups started, {s[2]} answered, {s[3]} under way at the window's begin, "
          f"{s[4]} rounds held", file=sys.stderr)
wins = [s for s in segs if s[0] == "window" and not s[1] and s[4]]
# the pauses resume the lookups (the last window ends the drill)
pauses = [s for s in segs if s[0] == "pause" and s[1] and s[2]]
# a lookup under way at a window's begin is collected in it or in the pause after
held = [sum(s[3] for s in segs[2 * i:2 * i + 2]) for i in range(3)]
print(len(wins), len(pauses), *held)
EOF
)
[ "$nwin" = 3 ] || { cat "$L"; fail "a lookup started inside a dns window, or no round was held there (log above)"; }
[ "$npause" = 2 ] || { cat "$L"; fail "lookups did not resume in the pauses between the windows (log above)"; }
# exact hits: the test's queries, plus at most two (A and AAAA) per lookup
# of the daemon's under way when the window began
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le $(($2 + 2 * $3)) ]; }
in_range "$(hits 1)" 10 "$held2" || fail "window 2 hits $(hits 1), want the 10 queries matched (+ $held2 lookups under way)"
note "window 2: 10 queries sent for the target, hits $(hits 1)"
in_range "$(hits 2)" 5 "$held3" || fail "window 3 hits $(hits 2), want 5 (+ $held3 lookups under way)"
note "window 3: 5 queries sent for the target, hits $(hits 2)"
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --windows 3 || fail "journal check"
resolves okx-sim.test 198.18.0.2
note "the lab resolver answered $(grep -c ' okx-sim.test$' "$T/sim.log") queries for the target, the local one $(grep -c ' okx-sim.test$' "$T/local.log") (outside the windows, in drop's remote answers, and in upper case)"

echo "dns OK"
