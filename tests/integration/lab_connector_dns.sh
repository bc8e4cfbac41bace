#!/usr/bin/env bash
# connector_sim calling by name (--resolve-each, --no-dns-errors), as the
# demo's dns phase uses it: three connectors call okx_sim through the lab's
# resolver (tests/lab/dns_sim.py on 198.18.0.4, made the system's one by
# tests/lib/with_resolv.sh), each under a name of its own; then the test
# refuses every DNS query from the client namespace (an nft rule of its
# own) until each connector has met it, and lifts it. A --fresh connector
# looks the name up for every call: the refused lookups are
# name_resolution_error events, and calls go through again after; with
# --no-dns-errors they are counted, not recorded; a --keepalive connector
# looked the name up for its first connection only and the refusal never
# reached it.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool unshare util-linux
need_tool python3 python3
lab_init cdns
lab_two
T=$LAB_TMP
C="$LAB/connector_sim"
WR="$TOP/tests/lib/with_resolv.sh"
serve "$T/sim.err" srv python3 "$TOP/tests/lab/dns_sim.py" serve 198.18.0.4 \
	fresh.test=198.18.0.2 quiet.test=198.18.0.2 ka.test=198.18.0.2 >"$T/sim.log"
bg_srv "$LAB/okx_sim" --listen 198.18.0.2:8443 --max-seconds 60
wait_for "okx_sim to listen" in_cli "$LAB/netprobe" tcp 198.18.0.2 8443 --timeout-ms 200
printf 'nameserver 198.18.0.4\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
printf '127.0.0.1 localhost\n' >"$T/hosts"
url() { echo "http://$1:8443/api/v5/public/time"; }
queries() { grep -c " $1\$" "$T/sim.log"; }
fp() { python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["execution_fingerprint"]; print(eval(sys.argv[2]))' "$@"; }

expect_rc 2 "$C" --url "$(url fresh.test)" --out "$T/x.json" --no-dns-errors
[[ $out == *"--no-dns-errors needs --resolve-each"* ]] || fail "--no-dns-errors alone: $out"

common=(--rate-ms 100 --duration 30s --timeout-ms 1000 --resolve-each -v)
bg_cli "$WR" "$T" "$C" --url "$(url fresh.test)" "${common[@]}" --fresh --out "$T/fresh.json" >"$T/fresh.out" 2>"$T/fresh.err"
F=$!
bg_cli "$WR" "$T" "$C" --url "$(url quiet.test)" "${common[@]}" --fresh --no-dns-errors --out "$T/quiet.json" \
	>"$T/quiet.out" 2>"$T/quiet.err"
Q=$!
bg_cli "$WR" "$T" "$C" --url "$(url ka.test)" "${common[@]}" --keepalive --out "$T/ka.json" >"$T/ka.out" 2>"$T/ka.err"
K=$!
# each --fresh call is a lookup the lab resolver answers (A and AAAA: 2 lines)
wait_for "the fresh connector's lookups" count_at_least 14 queries fresh.test
wait_for "the quiet connector's lookups" count_at_least 14 queries quiet.test
wait_for "the keep-alive connection" sh -c "ip netns exec $LAB_PREFIX-cli ss -Htn state established dst 198.18.0.2 'dport = :8443' | grep -q ."
ka_before=$(queries ka.test)

in_cli nft -f - <<'NFT' || fail "nft: the test's own DNS refusal"
table inet okxt_dns_cut {
	chain out {
		type filter hook output priority 0;
		udp dport 53 counter reject
		tcp dport 53 counter reject
	}
}
NFT
wait_for "a recorded lookup failure" log_has "$T/fresh.err" 'name_resolution_error: getaddrinfo fresh\.test: .*\(EAI_[A-Z]+\)$'
wait_for "an unrecorded lookup failure" log_has "$T/quiet.err" 'name_resolution_error: getaddrinfo quiet\.test: .*\(not recorded\)$'
in_cli nft delete table inet okxt_dns_cut || fail "nft delete table"
after=$(queries fresh.test) qafter=$(queries quiet.test)
wait_for "the fresh connector's lookups to be answered again" count_at_least $((after + 6)) queries fresh.test
wait_for "the quiet connector's lookups to be answered again" count_at_least $((qafter + 6)) queries quiet.test
for p in $F $Q $K; do kill -TERM $p; done
for p in $F $Q $K; do wait $p || fail "connector_sim exit $? on SIGTERM"; done
note "fresh: $(cat "$T/fresh.out")"
note "quiet: $(cat "$T/quiet.out")"
note "keepalive: $(cat "$T/ka.out")"

# fresh: every failure a name_resolution_error naming the host, calls ok
# before and after (the last call came after the last failure)
[ "$(fp "$T/fresh.json" 'f["error_count"] >= 1 and f["error_count"] == len(f["error_events"]) and f["unrecorded_errors"] == 0')" = True ] ||
	fail "fresh: $(fp "$T/fresh.json" 'f')"
[ "$(fp "$T/fresh.json" '{e["type"] for e in f["error_events"]} == {"name_resolution_error"}')" = True ] ||
	fail "fresh: error types $(fp "$T/fresh.json" 'f["error_events"]')"
[ "$(fp "$T/fresh.json" 'all("getaddrinfo fresh.test: " in e["message"] for e in f["error_events"])')" = True ] ||
	fail "fresh: messages $(fp "$T/fresh.json" 'f["error_events"][0]')"
[ "$(fp "$T/fresh.json" 'f["last_call_ts"] > max(e["ts"] for e in f["error_events"]) and f["ok"] >= 6')" = True ] ||
	fail "fresh: no call went through after the refusal: $(fp "$T/fresh.json" 'f')"
grep -q "dns=$(fp "$T/fresh.json" 'f["error_count"]'))" "$T/fresh.out" || fail "fresh summary: $(cat "$T/fresh.out")"
# one lookup per call (A, and AAAA unless refused first): the ok calls were all answered
[ "$(queries fresh.test)" -ge "$(fp "$T/fresh.json" 'f["ok"]')" ] || fail "fresh: fewer lookups answered than ok calls"
# quiet: the same failures, counted and not recorded
[ "$(fp "$T/quiet.json" 'f["error_count"] == 0 and f["error_events"] == [] and f["unrecorded_errors"] >= 1 and f["ok"] >= 6')" = True ] ||
	fail "quiet: $(fp "$T/quiet.json" 'f')"
grep -q "unrecorded=$(fp "$T/quiet.json" 'f["unrecorded_errors"]') .* dns=$(fp "$T/quiet.json" 'f["unrecorded_errors"]'))" "$T/quiet.out" ||
	fail "quiet summary: $(cat "$T/quiet.out")"
# keep-alive: one connection, looked up once (and once at start), never again
[ "$(fp "$T/ka.json" 'f["error_count"] == 0 and f["ok"] == f["calls"] and f["calls"] >= 5')" = True ] ||
	fail "keepalive: $(fp "$T/ka.json" 'f')"
[ "$(queries ka.test)" = "$ka_before" ] || fail "keepalive: looked ka.test up again ($ka_before, then $(queries ka.test) queries)"
[ "$ka_before" -le 4 ] || fail "keepalive: $ka_before queries for ka.test, want 2 lookups at most (start, first connection)"
echo "connector dns OK"
