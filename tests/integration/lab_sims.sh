#!/usr/bin/env bash
# The lab programs themselves (tests/lab/): okx_sim answers like OKX over
# IPv4 and IPv6, connector_sim counts its calls and records the right error
# events (and none with --no-net-errors), netprobe's probes report what the
# network did and count datagrams exactly. The drill tests build on these.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB=${LAB:-$TOP/build/lab}
. "$TOP/tests/lib/netns.sh"
for p in okx_sim connector_sim netprobe; do
	[ -x "$LAB/$p" ] || fail "$LAB/$p not built (make build-tests)"
done
command -v python3 >/dev/null || skip "python3 missing"
lab_init lab
lab_two
NP="$LAB/netprobe"
URL=http://198.18.0.2:8443/api/v5/public/time

# fp FILE EXPR: evaluate a python expression over the execution fingerprint f
fp() {
	python3 -c 'import json,sys
f = json.load(open(sys.argv[1]))["execution_fingerprint"]
print(eval(sys.argv[2]))' "$1" "$2"
}
# wait_port ADDR PORT: until something accepts there
wait_port() { wait_for "something to listen on $1:$2" in_cli "$NP" tcp "$1" "$2" --timeout-ms 200; }

bg_srv "$LAB/okx_sim" --listen 198.18.0.2:8443 --listen '[2001:2::2]:8443' --max-seconds 60
SIM=$!
wait_port 198.18.0.2 8443
wait_port 2001:2::2 8443

# The endpoint: an OKX time answer, a 404 with an OKX-style error, keep-alive
# with two requests on one connection and Connection: close honoured.
in_cli python3 - <<'EOF' || fail "okx_sim HTTP answers"
import http.client, json, socket, sys
for host in ("198.18.0.2", "2001:2::2"):
    c = http.client.HTTPConnection(host, 8443, timeout=2)
    c.request("GET", "/api/v5/public/time")
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 200, r.status
    assert r.getheader("Content-Type") == "application/json"
    assert body["code"] == "0" and body["msg"] == "" and body["data"][0]["ts"].isdigit(), body
    sock = c.sock
    c.request("GET", "/api/v5/public/nothing")
    r = c.getresponse()
    err = json.loads(r.read())
    assert r.status == 404 and err["code"] != "0" and err["msg"], (r.status, err)
    assert c.sock is sock, "keep-alive connection was not reused"
    c.request("GET", "/api/v5/public/time", headers={"Connection": "close"})
    r = c.getresponse()
    r.read()
    assert r.getheader("Connection") == "close"
    s = socket.create_connection((host, 8443), timeout=2)
    s.sendall(b"GET /api/v5/public/time HTTP/1.1\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        x = s.recv(4096)
        if not x:
            break
        data += x
    assert data.startswith(b"HTTP/1.1 200 "), data
print("okx_sim answers OK")
EOF

# 1. A 1 s warm-up, then 2 s of calls every 100 ms: up to 20 calls (the
#    ticker skips the slots a slow call overran: on a loaded host or under
#    TCG a few are), all fine, none before the warm-up ended.
for mode in --fresh --keepalive; do
	out="$LAB_TMP/ok$mode.json"
	t0=$(date +%s%N)
	in_cli "$LAB/connector_sim" --url "$URL" --warmup 1s --rate-ms 100 --duration 2s \
		--timeout-ms 1000 $mode --out "$out" || fail "connector_sim $mode exit $?"
	t1=$(date +%s%N)
	note "$mode: $(fp "$out" '(f["calls"], f["ok"], f["error_count"])') in $(((t1 - t0) / 1000000)) ms"
	[ "$(fp "$out" '10 <= f["calls"] <= 20')" = True ] || fail "$mode: calls $(fp "$out" 'f["calls"]'), want 10..20"
	[ "$(fp "$out" 'f["ok"] == f["calls"]')" = True ] || fail "$mode: ok $(fp "$out" 'f["ok"]') of $(fp "$out" 'f["calls"]')"
	[ "$(fp "$out" 'f["error_count"]')" = 0 ] || fail "$mode: errors $(fp "$out" 'f["error_events"]')"
	[ "$(fp "$out" 'len(f["error_events"])')" = 0 ] || fail "$mode: error events"
	[ "$(fp "$out" 'f["connector"]')" = connector_sim ] || fail "connector name"
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 2850 ] && [ "$ms" -lt $((4500 * $(wait_scale))) ] || fail "$mode: ran $ms ms, want ~3000"
done
# the first call came after the warm-up
python3 - "$LAB_TMP/ok--fresh.json" <<'EOF' || fail "first call timing"
import json, sys, datetime as d
f = json.load(open(sys.argv[1]))["execution_fingerprint"]
p = lambda s: d.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
span = (p(f["last_call_ts"]) - p(f["first_call_ts"])).total_seconds()
assert 1.8 <= span <= 2.1, span
EOF
# IPv6 URL
in_cli "$LAB/connector_sim" --url 'http://[2001:2::2]:8443/api/v5/public/time' --rate-ms 100 \
	--duration 500ms --timeout-ms 1000 --keepalive --out "$LAB_TMP/v6.json" >/dev/null ||
	fail "connector_sim v6"
[ "$(fp "$LAB_TMP/v6.json" 'f["ok"]')" = 5 ] || fail "v6: $(fp "$LAB_TMP/v6.json" 'f')"
# a 404 is an http_error, whatever --no-net-errors says
in_cli "$LAB/connector_sim" --url http://198.18.0.2:8443/api/v5/nothing --rate-ms 100 \
	--duration 300ms --timeout-ms 1000 --no-net-errors --out "$LAB_TMP/404.json" >/dev/null ||
	fail "connector_sim 404"
[ "$(fp "$LAB_TMP/404.json" '[e["type"] for e in f["error_events"]]')" = "['http_error', 'http_error', 'http_error']" ] ||
	fail "404: $(fp "$LAB_TMP/404.json" 'f["error_events"]')"

# SIGTERM: the file is written and the exit status is 0.
bg_cli "$LAB/connector_sim" --url "$URL" --rate-ms 100 --duration 60s --timeout-ms 1000 \
	--out "$LAB_TMP/term.json"
C=$!
t0=${EPOCHREALTIME/./}
sleep 1 # the run length under test, not a wait for evidence
kill -TERM "$C"
t1=${EPOCHREALTIME/./}
wait "$C" || fail "connector_sim exit $? on SIGTERM"
n=$(fp "$LAB_TMP/term.json" 'f["calls"]')
# one call per 100 ms at most over the time it ran, and at least one
max=$(((t1 - t0) / 100000 + 2))
[ "$n" -ge 1 ] && [ "$n" -le "$max" ] || fail "SIGTERM after $(((t1 - t0) / 1000)) ms: $n calls (want 1..$max)"

# 2. Timeouts: a blackhole (a drop rule of our own, in the client namespace).
in_cli nft -f - <<'EOF' || fail "nft"
table inet labsims {
	chain out { type filter hook output priority 0; ip daddr 198.18.0.2 tcp dport 8443 drop; }
}
EOF
in_cli "$LAB/connector_sim" --url "$URL" --rate-ms 100 --duration 1s --timeout-ms 300 \
	--out "$LAB_TMP/drop.json" >/dev/null || fail "connector_sim under drop"
[ "$(fp "$LAB_TMP/drop.json" 'f["ok"] == 0 and f["error_count"] == f["calls"] > 0 and {e["type"] for e in f["error_events"]} == {"timeout"}')" = True ] ||
	fail "drop: $(fp "$LAB_TMP/drop.json" 'f')"
out=$(in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 300) && fail "probe passed a drop: $out"
[[ $out == "err ETIMEDOUT "* ]] || fail "probe under drop: '$out'"
in_cli nft delete table inet labsims

# 3. Resets: a keep-alive connection cut by a tcp reset mid-flight.
bg_cli "$LAB/connector_sim" --url "$URL" --rate-ms 100 --duration 2s --timeout-ms 500 \
	--keepalive --out "$LAB_TMP/reset.json"
C=$!
# cut only once its kept-alive connection is up
wait_for "connector_sim's keep-alive connection" sh -c "ip netns exec $LAB_PREFIX-cli ss -Htn state established dst 198.18.0.2 'dport = :8443' | grep -q ."
in_cli nft -f - <<'EOF' || fail "nft"
table inet labsims {
	chain out { type filter hook output priority 0; ip daddr 198.18.0.2 tcp dport 8443 reject with tcp reset; }
}
EOF
sleep 0.5 # the cut lasts 0.5 s (about 5 calls at --rate-ms 100)
in_cli nft delete table inet labsims
wait "$C" || fail "connector_sim under reset"
note "reset: $(fp "$LAB_TMP/reset.json" '(f["calls"], f["ok"], sorted({e["type"] for e in f["error_events"]}))')"
[ "$(fp "$LAB_TMP/reset.json" '"connection_reset" in {e["type"] for e in f["error_events"]}')" = True ] ||
	fail "no connection_reset: $(fp "$LAB_TMP/reset.json" 'f["error_events"]')"
[ "$(fp "$LAB_TMP/reset.json" 'f["ok"] >= 10 and f["error_count"] == len(f["error_events"]) > 0')" = True ] ||
	fail "reset: $(fp "$LAB_TMP/reset.json" 'f')"

# 4. The server stops: every call is connection_refused; with --no-net-errors
#    the calls fail just the same and nothing is recorded.
kill -TERM "$SIM"
wait "$SIM" || fail "okx_sim exit $? on SIGTERM"
out=$(in_cli "$NP" tcp 198.18.0.2 8443) && fail "okx_sim still answers: $out"
[[ $out == "err ECONNREFUSED "* ]] || fail "probe: '$out', want ECONNREFUSED"
in_cli "$LAB/connector_sim" --url "$URL" --rate-ms 100 --duration 1s --timeout-ms 500 \
	--out "$LAB_TMP/refused.json" >/dev/null || fail "connector_sim refused"
[ "$(fp "$LAB_TMP/refused.json" 'f["calls"] == 10 and f["ok"] == 0 and f["error_count"] == 10')" = True ] ||
	fail "refused: $(fp "$LAB_TMP/refused.json" 'f')"
[ "$(fp "$LAB_TMP/refused.json" '{e["type"] for e in f["error_events"]} == {"connection_refused"}')" = True ] ||
	fail "refused types: $(fp "$LAB_TMP/refused.json" 'f["error_events"]')"
[ "$(fp "$LAB_TMP/refused.json" 'all(e["ts"].endswith("Z") and len(e["ts"]) == 27 and e["message"] for e in f["error_events"])')" = True ] ||
	fail "event format: $(fp "$LAB_TMP/refused.json" 'f["error_events"][0]')"
summary=$(in_cli "$LAB/connector_sim" --url "$URL" --rate-ms 100 --duration 1s --timeout-ms 500 \
	--no-net-errors --out "$LAB_TMP/quiet.json") || fail "connector_sim --no-net-errors"
note "$summary"
[ "$(fp "$LAB_TMP/quiet.json" 'f["calls"] == 10 and f["ok"] == 0 and f["error_count"] == 0 and f["error_events"] == [] and f["unrecorded_errors"] == 10')" = True ] ||
	fail "--no-net-errors: $(fp "$LAB_TMP/quiet.json" 'f')"
[[ $summary == *"calls=10 ok=0 error_count=0"* ]] || fail "summary line: $summary"
# call records next to the fingerprint (okx-faultctl(1), CALL RECORDS): one
# per call, failed ones "ok": false; --no-net-errors leaves their "ok" out
calls() { python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["calls"]; print(eval(sys.argv[2]))' "$1" "$2"; }
[ "$(calls "$LAB_TMP/refused.json" 'len(c) == 10 and all(x["ok"] is False and 0 <= x["latency_ms"] < 500 and len(x["ts"]) == 27 for x in c)')" = True ] ||
	fail "refused call records: $(calls "$LAB_TMP/refused.json" 'c[:2]')"
[ "$(calls "$LAB_TMP/quiet.json" 'len(c) == 10 and all("ok" not in x and x["latency_ms"] >= 0 for x in c)')" = True ] ||
	fail "--no-net-errors call records: $(calls "$LAB_TMP/quiet.json" 'c[:2]')"

# 5. netprobe: tcp ok/refused on both families, echo, datagram counts.
bg_srv "$NP" tcp-serve 198.18.0.2 9000 --seconds 30
bg_srv "$NP" tcp-serve 2001:2::2 9000 --seconds 30
wait_port 198.18.0.2 9000
wait_port 2001:2::2 9000
for a in 198.18.0.2 2001:2::2; do
	out=$(in_cli "$NP" tcp "$a" 9000 --echo) || fail "tcp $a: $out"
	[[ $out =~ ^ok\ [0-9]+$ ]] || fail "tcp $a output '$out'"
	out=$(in_cli "$NP" tcp "$a" 9001) && fail "tcp $a 9001 connected: $out"
	[[ $out =~ ^err\ ECONNREFUSED\ [0-9]+$ ]] || fail "tcp $a 9001: '$out'"
done
lines=$(in_cli "$NP" tcp-loop 198.18.0.2 9000 --interval-ms 50 --count 5 2>/dev/null) || fail "tcp-loop"
[ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z ok [0-9]+$' <<<"$lines")" = 5 ] ||
	fail "tcp-loop output: $lines"
for a in 198.18.0.2 2001:2::2; do
	serve "$LAB_TMP/sink.err" srv "$NP" udp-sink "$a" 5000 --seconds 5 --expect 1000 >"$LAB_TMP/sink"
	S=$!
	sent=$(in_cli "$NP" udp-send "$a" 5000 --count 1000 --interval-us 50) || fail "udp-send $a"
	wait "$S"
	got=$(cat "$LAB_TMP/sink")
	note "udp $a: sent $sent received $got"
	[ "$sent" = 1000 ] && [ "$got" = 1000 ] || fail "udp $a: sent $sent, received $got"
done
echo "lab programs OK"
