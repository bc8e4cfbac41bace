#!/usr/bin/env bash
# tests/lab/demo.sh — the incident, replayed in a lab (`make demo`, as root).
#
# Two network namespaces joined by a veth pair (tests/lib/netns.sh): "OKX"
# (okx_sim, the simulated REST endpoint, 198.18.0.2:8443) and the client
# (the connectors and okx-faultd). Nothing leaves the lab; the namespaces
# and every process go away on every exit path.
#
# Three phases, one after the other; each is correlated only with the events
# of the connectors it started, which it stops before the next phase:
#
#   (b)    the incident's mistake: a connector starts its warm-up (the
#          incident's 480 s, unscaled) and a cut is started by hand at once
#          (arm_min_flows = 0); when okx-faultd is done, the connector is
#          stopped: its events are events_manual_cut.json.
#   drill  the drill done right: two connectors start their warm-up (scaled
#          down to 20 s): "connector" records every error, "quiet" runs
#          with --no-net-errors like the connector of the incident.
#          okx-faultd with tests/lab/demo.policy waits for 3 live calls, then
#          drop, pause, reject (and delay when the kernel has sch_netem), each
#          window journaled with its hits.
#   dns    the exchange's name stops resolving (tests/lab/demo_dns.policy):
#          a resolver of the lab's own (tests/lab/dns_sim.py on 198.18.0.4)
#          answers okx-sim.test with okx_sim's address; okx-faultd and two
#          connectors use it as the system's resolver (tests/lib/with_resolv.sh)
#          and the connectors call by name, looking it up for every call
#          (--resolve-each): "dns" records a failed lookup as a
#          name_resolution_error, "dns_quiet" runs with --no-dns-errors.
#          okx-faultd arms on 3 calls, then a dns fault for 3 s.
#   end    okx-faultctl correlate, five times:
#            journal + connector             -> every window ok, gate PASS
#                                               (the delay by its calls' latency)
#            journal + quiet                 -> (a) telemetry_gap: hits, no errors
#                                               (the delay is ok: its calls were
#                                               slower, which the quiet one records)
#            manual cut + its connector      -> (b) no_traffic: the cut hit nothing
#            dns journal + dns connector     -> the dns window ok (name_resolution_error)
#            dns journal + dns_quiet         -> the dns window telemetry_gap
#
# phases.json holds each phase's time span (UTC microseconds since the
# epoch), journal and event files. Every event of a phase was recorded
# inside its span, and the spans do not overlap, so no phase's error can be
# counted in another phase's window, however slow the machine: the summary
# checks it (tests/integration/demo_short.sh too), it does not assume it.
#
# Writes demo-out/: journal.jsonl, events.json (connector), events_quiet.json,
# manual_cut.jsonl, events_manual_cut.json, journal_dns.jsonl,
# events_dns.json, events_dns_quiet.json, phases.json, the policies run,
# timeline*.svg, report*.json (--json).
# Exit 0 when the five verdicts are the expected ones and the phases are
# apart, 1 otherwise.
#
# Environment: DEMO_SHORT=1 (a ~30 s version for tests/integration/
# demo_short.sh), DEMO_OUT (default TOP/demo-out), OKX_FAULTD, OKX_FAULTCTL
# (default ./okx-faultd, ./okx-faultctl), LAB (default build/lab).
# Builds nothing: `make demo` builds first.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
OKX_FAULTD=${OKX_FAULTD:-$TOP/okx-faultd}
OKX_FAULTCTL=${OKX_FAULTCTL:-$TOP/okx-faultctl}
LAB=${LAB:-$TOP/build/lab}
OUT=${DEMO_OUT:-$TOP/demo-out}
SHORT=${DEMO_SHORT:-0}
POLICY_SRC=$TOP/tests/lab/demo.policy
TARGET=198.18.0.2
PORT=8443
URL=http://$TARGET:$PORT/api/v5/public/time

if [ "$SHORT" = 1 ]; then
	WARMUP=6 CALLING=20 CUT=3s DRILL_MAX=40
else
	WARMUP=20 CALLING=40 CUT=8s DRILL_MAX=80
fi
RATE_MS=200 TIMEOUT_MS=1000
CUT_MAX=30            # seconds okx-faultd may take for the manual cut
CUT_WARMUP=480s       # the incident's warm-up: the (b) connector makes no call before it is stopped

. "$TOP/tests/lib/netns.sh"
# The demo is not a test: no "SKIP", a plain message and exit 1.
need_root() {
	[ "$(id -u)" = 0 ] || { echo "demo: run as root (network namespaces, nftables, tc)" >&2; exit 1; }
}
T0=${EPOCHREALTIME/./}
say() {
	local now=${EPOCHREALTIME/./}
	printf '[%5.1fs] %s\n' "$(((now - T0) / 100000))e-1" "$*"
}
hr() { printf '\n== %s ==\n' "$*"; }

for b in "$OKX_FAULTD" "$OKX_FAULTCTL" "$LAB/okx_sim" "$LAB/connector_sim" "$LAB/netprobe"; do
	[ -x "$b" ] || { echo "demo: $b is missing (make all build/lab/...; or make demo)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed to read the reports" >&2; exit 1; }
need_root

DAEMON=""
demo_cleanup() {
	# A live daemon gets SIGTERM first, so its open window is closed and journaled.
	if [ -n "$DAEMON" ] && kill -0 "$DAEMON" 2>/dev/null; then
		kill -TERM "$DAEMON" 2>/dev/null
		local i
		for i in $(seq 30); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
	fi
	lab_cleanup
}
lab_init lab-demo
trap demo_cleanup EXIT
lab_two
mkdir -p "$OUT" || exit 1
rm -f "$OUT"/{journal.jsonl,manual_cut.jsonl,events.json,events_quiet.json,events_manual_cut.json,phases.json} \
	"$OUT"/{demo.policy,manual_cut.policy} \
	"$OUT"/timeline*.svg "$OUT"/report*.json

# --- the policies -----------------------------------------------------------
# sch_netem: asked of the kernel itself (a module, built in, or absent), in
# the lab's own namespace, on its loopback; removed at once.
NETEM=no
if in_cli tc qdisc add dev lo root handle 1: netem delay 1ms 2>/dev/null; then
	in_cli tc qdisc del dev lo root 2>/dev/null
	NETEM=yes
fi
awk -v netem="$NETEM" -v short="$SHORT" '
	/#.*needs-netem/ && netem != "yes" { next }
	short == "1" && match($0, /short: .*/) { print substr($0, RSTART + 7); next }
	{ print }' "$POLICY_SRC" >"$OUT/demo.policy"
cat >"$OUT/manual_cut.policy" <<EOF
# The incident: a cut started by hand, at once, during the warm-up.
name = okx_demo_manual_cut
target = $TARGET
port = $PORT
arm_min_flows = 0
fault = drop $CUT
EOF
for p in "$OUT/demo.policy" "$OUT/manual_cut.policy"; do
	out=$("$OKX_FAULTD" --check "$p" 2>&1) || { echo "demo: $p rejected:" >&2; echo "$out" >&2; exit 1; }
done
# the dns phase's policy, the same in the short demo
rm -f "$OUT"/{journal_dns.jsonl,events_dns.json,events_dns_quiet.json,demo_dns.policy}
cp "$TOP/tests/lab/demo_dns.policy" "$OUT/demo_dns.policy" || exit 1
out=$("$OKX_FAULTD" --check "$OUT/demo_dns.policy" 2>&1) || { echo "demo: demo_dns.policy rejected:" >&2; echo "$out" >&2; exit 1; }

hr "okx-faultd demo$([ "$SHORT" = 1 ] && echo " (short)")"
say "lab: namespaces $LAB_PREFIX-cli (connectors, okx-faultd) and $LAB_PREFIX-srv (OKX)"
if [ "$NETEM" = yes ]; then
	say "kernel has sch_netem: the drill includes a delay fault"
else
	say "kernel has no sch_netem: the delay fault is SKIPPED (drop and reject only)"
fi
say "drill policy: $OUT/demo.policy"
sed -n 's/^\(name\|target\|port\|arm_[a-z_]*\|fault\) *=/    &/p' "$OUT/demo.policy" | sed 's/ *#.*//'

# --- OKX and the connectors -------------------------------------------------
bg_srv "$LAB/okx_sim" --listen "$TARGET:$PORT" --listen "[2001:2::2]:$PORT" \
	--max-seconds $((CUT_MAX + WARMUP + CALLING + 30))
for i in $(seq 50); do
	in_cli "$LAB/netprobe" tcp "$TARGET" "$PORT" --timeout-ms 200 >/dev/null && break
	[ "$i" = 50 ] && fail "okx_sim does not answer"
	sleep 0.1
done
say "okx_sim answers on $TARGET:$PORT (in the OKX namespace)"

conn_args=(--url "$URL" --rate-ms "$RATE_MS" --duration "${CALLING}s" --timeout-ms "$TIMEOUT_MS" --fresh)
now_us() { echo "${EPOCHREALTIME/./}"; }
# stop_connector PID NAME: SIGTERM; it writes its events and exits 0.
stop_connector() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" || say "$2 exit $?"
}

# run_drill POLICY JOURNAL MAX_SECONDS [WRAPPER...]: okx-faultd in the client
# namespace (started through WRAPPER, e.g. tests/lib/with_resolv.sh DIR),
# its journal followed as it grows; SIGTERM at MAX_SECONDS. Sets DRILL_RC.
run_drill() {
	local policy=$1 journal=$2 max=$3 seen=0 line ev what deadline
	bg_cli "${@:4}" "$OKX_FAULTD" -q -j "$journal" "$policy"
	DAEMON=$!
	deadline=$((${EPOCHREALTIME%.*} + max))
	while :; do
		local alive=1
		kill -0 "$DAEMON" 2>/dev/null || alive=0
		if [ -f "$journal" ]; then
			while IFS= read -r line; do
				seen=$((seen + 1))
				[[ $line =~ \"event\"[[:space:]]*:[[:space:]]*\"([a-z_]+)\" ]] || continue
				ev=${BASH_REMATCH[1]} what=""
				case $ev in
				armed)
					[[ $line =~ \"calls\"[[:space:]]*:[[:space:]]*([0-9]+) ]] &&
						what="after ${BASH_REMATCH[1]} calls to the target" ;;
				fault_begin)
					[[ $line =~ \"action\"[[:space:]]*:[[:space:]]*\"([a-z]+)\" ]] && what=${BASH_REMATCH[1]}
					[[ $line =~ \"planned_ms\"[[:space:]]*:[[:space:]]*([0-9]+) ]] &&
						what="$what for ${BASH_REMATCH[1]} ms" ;;
				fault_end)
					[[ $line =~ \"packets\"[[:space:]]*:[[:space:]]*([0-9]+) ]] &&
						what="hit ${BASH_REMATCH[1]} packets" ;;
				end)
					[[ $line =~ \"outcome\"[[:space:]]*:[[:space:]]*\"([a-z_]+)\" ]] && what=${BASH_REMATCH[1]} ;;
				esac
				say "  journal: $ev $what"
			done < <(tail -n +"$((seen + 1))" "$journal")
		fi
		[ "$alive" = 0 ] && break
		if [ "${EPOCHREALTIME%.*}" -ge "$deadline" ]; then
			say "  okx-faultd still running after $max s: SIGTERM"
			kill -TERM "$DAEMON" 2>/dev/null
			deadline=$((deadline + 5))
		fi
		sleep 0.2
	done
	wait "$DAEMON"
	DRILL_RC=$?
	DAEMON=""
	say "  okx-faultd exit $DRILL_RC"
}

summary() { sed 's/^connector_sim: //; s/ out=.*//' "$1"; }

hr "(b) the incident: a cut by hand during the warm-up"
B_BEGIN=$(now_us)
bg_cli "$LAB/connector_sim" "${conn_args[@]}" --warmup "$CUT_WARMUP" --out "$OUT/events_manual_cut.json" \
	>"$LAB_TMP/cut.out"
CUT_CONN=$!
say "connector started: $CUT_WARMUP warm-up (the incident's), then a call every $RATE_MS ms"
say "okx-faultd $OUT/manual_cut.policy (arm_min_flows = 0: fault at once)"
run_drill "$OUT/manual_cut.policy" "$OUT/manual_cut.jsonl" "$CUT_MAX"
stop_connector "$CUT_CONN" connector
B_END=$(now_us)
say "connector: $(summary "$LAB_TMP/cut.out")"
say "  stopped: this phase is correlated with its events only"

hr "the drill done right: armed on live calls"
D_BEGIN=$(now_us)
bg_cli "$LAB/connector_sim" "${conn_args[@]}" --warmup "${WARMUP}s" --out "$OUT/events.json" >"$LAB_TMP/conn.out"
CONN=$!
bg_cli "$LAB/connector_sim" "${conn_args[@]}" --warmup "${WARMUP}s" --no-net-errors \
	--out "$OUT/events_quiet.json" >"$LAB_TMP/quiet.out"
QUIET=$!
say "connectors started: ${WARMUP} s warm-up (the incident's 480 s, scaled down), then a call"
say "  every $RATE_MS ms (until the drill is over), timeout $TIMEOUT_MS ms; \"quiet\" runs with --no-net-errors"
say "okx-faultd $OUT/demo.policy: waiting for the connectors' first calls"
run_drill "$OUT/demo.policy" "$OUT/journal.jsonl" "$DRILL_MAX"
MAIN_RC=$DRILL_RC

# The connectors call on for 2 s more (errors just after a window still
# count, within the grace), then SIGTERM: they write their events and exit 0.
sleep 2
stop_connector "$CONN" connector
stop_connector "$QUIET" "quiet connector"
D_END=$(now_us)
say "connector: $(summary "$LAB_TMP/conn.out")"
say "quiet:     $(summary "$LAB_TMP/quiet.out")"

# --- the dns phase ------------------------------------------------------------
# dns_phase: the lab's resolver, okx-faultd with demo_dns.policy and two
# connectors calling by name, all three with that resolver as the system's.
# Sets DNS_BEGIN, DNS_END, DNS_RC.
DNS_NAME=okx-sim.test DNS_ADDR=198.18.0.4
dns_phase() {
	local dir=$LAB_TMP/dns wrap=$TOP/tests/lib/with_resolv.sh c q
	local args=(--url "http://$DNS_NAME:$PORT/api/v5/public/time" --rate-ms "$RATE_MS" --duration "${CALLING}s"
		--timeout-ms "$TIMEOUT_MS" --fresh --resolve-each)
	mkdir -p "$dir" || exit 1
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_ADDR" >"$dir/resolv.conf"
	printf '127.0.0.1 localhost\n' >"$dir/hosts"
	printf 'hosts: files dns\n' >"$dir/nsswitch.conf"
	serve "$LAB_TMP/dns_sim.err" srv python3 "$TOP/tests/lab/dns_sim.py" serve "$DNS_ADDR" "$DNS_NAME=$TARGET" \
		>"$LAB_TMP/dns_sim.log"
	say "lab resolver: dns_sim.py on $DNS_ADDR (OKX namespace) answers $DNS_NAME with $TARGET; okx-faultd and"
	say "  the connectors below use it as the system's (a private resolv.conf in a mount namespace of their own)"
	say "dns policy: $OUT/demo_dns.policy"
	sed -n 's/^\(name\|target_host\|port\|arm_[a-z_]*\|fault\) *=/    &/p' "$OUT/demo_dns.policy" | sed 's/ *#.*//'
	DNS_BEGIN=$(now_us)
	bg_cli "$wrap" "$dir" "$LAB/connector_sim" "${args[@]}" --out "$OUT/events_dns.json" >"$LAB_TMP/dns.out"
	c=$!
	bg_cli "$wrap" "$dir" "$LAB/connector_sim" "${args[@]}" --no-dns-errors --out "$OUT/events_dns_quiet.json" \
		>"$LAB_TMP/dns_quiet.out"
	q=$!
	say "connectors started: a call to http://$DNS_NAME:$PORT every $RATE_MS ms, a new connection and a lookup"
	say "  of the name for each (--fresh --resolve-each); \"dns_quiet\" runs with --no-dns-errors"
	say "  (a kept-alive connection would not look the name up again: a dns fault reaches a connector"
	say "  only when it resolves, as with real HTTP clients)"
	say "okx-faultd $OUT/demo_dns.policy: waiting for the connectors' first calls"
	run_drill "$OUT/demo_dns.policy" "$OUT/journal_dns.jsonl" "$DRILL_MAX" "$wrap" "$dir"
	DNS_RC=$DRILL_RC
	say "  the dns window's hits are the connectors' queries for $DNS_NAME, refused by the kernel"
	# 2 s more of calls, as in the drill: the lookups succeed again
	sleep 2
	stop_connector "$c" "dns connector"
	stop_connector "$q" "dns_quiet connector"
	DNS_END=$(now_us)
	say "dns:       $(summary "$LAB_TMP/dns.out")"
	say "dns_quiet: $(summary "$LAB_TMP/dns_quiet.out")"
	say "the lab resolver answered $(grep -c " $DNS_NAME\$" "$LAB_TMP/dns_sim.log") queries for $DNS_NAME (A and AAAA)"
}
hr "the name stops resolving: a dns fault"
dns_phase

cat >"$OUT/phases.json" <<EOF
{
  "manual_cut": { "begin_us": $B_BEGIN, "end_us": $B_END, "journal": "manual_cut.jsonl",
                  "events": ["events_manual_cut.json"] },
  "drill": { "begin_us": $D_BEGIN, "end_us": $D_END, "journal": "journal.jsonl",
             "events": ["events.json", "events_quiet.json"] },
  "dns": { "begin_us": $DNS_BEGIN, "end_us": $DNS_END, "journal": "journal_dns.jsonl",
           "events": ["events_dns.json", "events_dns_quiet.json"] }
}
EOF

# --- the verdicts -------------------------------------------------------------
# correlate TAG JOURNAL EVENTS: text report on the screen, JSON and SVG kept.
correlate() {
	local tag=$1 journal=$2 events=$3 svg rc
	svg="$OUT/timeline${tag:+_$tag}.svg"
	echo "\$ okx-faultctl correlate --journal ${journal#"$TOP"/} --events ${events#"$TOP"/} --svg ${svg#"$TOP"/}"
	"$OKX_FAULTCTL" correlate --journal "$journal" --events "$events" --svg "$svg"
	rc=$?
	echo "(exit $rc)"
	"$OKX_FAULTCTL" correlate --journal "$journal" --events "$events" --json \
		>"$OUT/report${tag:+_$tag}.json" 2>/dev/null
}
hr "journal + connector: every window should be ok"
correlate "" "$OUT/journal.jsonl" "$OUT/events.json"
hr "(a) journal + quiet connector (--no-net-errors): telemetry_gap (the delay ok by latency)"
correlate telemetry_gap "$OUT/journal.jsonl" "$OUT/events_quiet.json"
hr "(b) manual cut + its connector: no_traffic"
correlate no_traffic "$OUT/manual_cut.jsonl" "$OUT/events_manual_cut.json"
hr "dns journal + dns connector: the dns window ok, its errors name_resolution_error"
correlate dns "$OUT/journal_dns.jsonl" "$OUT/events_dns.json"
hr "dns journal + dns_quiet connector (--no-dns-errors): telemetry_gap"
correlate dns_gap "$OUT/journal_dns.jsonl" "$OUT/events_dns_quiet.json"

hr "summary"
python3 - "$OUT" "$NETEM" <<'EOF'
import json, re, sys
from datetime import datetime, timezone
out, netem = sys.argv[1], sys.argv[2]
# the delay expects slower calls or errors: the quiet connector's calls show it
cases = [
    ("drill armed on calls + connector", "report.json", "ok", True),
    ("(a) same drill + --no-net-errors", "report_telemetry_gap.json", "telemetry_gap", False),
    ("(b) cut during warm-up + its connector", "report_no_traffic.json", "no_traffic", False),
    ("dns fault + connector (dns errors)", "report_dns.json", "ok", True),
    ("dns fault + --no-dns-errors", "report_dns_gap.json", "telemetry_gap", False),
]
def want_of(want, action):
    return "ok" if action == "delay" else want
good = True
lat_notes = []
print(f"{'case':39} {'windows (diagnosis, packets hit, errors)':52} {'gate':5} expected")
for name, fname, want, want_pass in cases:
    try:
        r = json.load(open(f"{out}/{fname}"))
        ws = [w for w in r["windows"] if w["action"] != "pause"]
        got = [w["diagnosis"] for w in ws]
        desc = ", ".join(f"{w['action']}:{w['diagnosis']}/{(w.get('hits') or {}).get('packets', '?')}/{w['errors']}"
                         + (f" ({w['unrelated_errors']} unrelated)" if w.get("unrelated_errors") else "")
                         for w in ws)
        ok = bool(ws) and all(w["diagnosis"] == want_of(want, w["action"]) for w in ws) and r["gate"]["pass"] == want_pass
        gate = "PASS" if r["gate"]["pass"] else "FAIL"
        for w in ws:
            if w["action"] == "delay" and w.get("latency"):
                out_lat = (r["calls"]["outside_latency"] or {}).get("p50_ms", 0)
                lat_notes.append(f"{name}: delay window {w['index']}: p50 {w['latency']['p50_ms']:.1f} ms inside "
                                 f"vs {out_lat:.1f} ms outside ({w['injected_latency_ms']} ms injected): "
                                 f"{w['diagnosis']}, {'slower' if w['evidence']['slower_calls'] else 'not slower'}, "
                                 f"{w['errors']} errors")
    except (OSError, ValueError, KeyError, TypeError) as e:
        desc, gate, ok = f"no report ({e.__class__.__name__})", "-", False
    good &= ok
    print(f"{name:39} {desc:52} {gate:5} {want}{' (delay ok)' if want == 'telemetry_gap' and netem == 'yes' else ''}, "
          f"gate {'PASS' if want_pass else 'FAIL'}: {'as expected' if ok else 'UNEXPECTED'}")
for note in lat_notes:
    print(note)

# The phases are apart: every event and every window of a phase lies in
# the phase's time span, and the spans do not overlap (phases.json).
def ns(ts):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", ts)
    sec = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(sec.timestamp()) * 10**9 + int((m.group(2) or "").ljust(9, "0"))
problems, edges, errors = [], {}, {}
try:
    phases = json.load(open(f"{out}/phases.json"))
    for name, ph in phases.items():
        lo, hi = ph["begin_us"] * 1000, ph["end_us"] * 1000
        journal = [json.loads(line) for line in open(f"{out}/{ph['journal']}")]
        edges[name] = [ns(o["ts"]) for o in journal if o["event"] in ("fault_begin", "fault_end")]
        errors[name] = [ns(e["ts"]) for f in ph["events"]
                        for e in json.load(open(f"{out}/{f}"))["execution_fingerprint"]["error_events"]]
        times = edges[name] + errors[name]
        stray = [t for t in times if not lo <= t <= hi]
        if stray:
            problems.append(f"{name}: {len(stray)} of {len(times)} window edges and error events outside its span")
    if phases["manual_cut"]["end_us"] > phases["drill"]["begin_us"]:
        problems.append("the manual cut's phase overlaps the drill's")
    if phases["drill"]["end_us"] > phases["dns"]["begin_us"]:
        problems.append("the drill's phase overlaps the dns phase")
except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
    problems.append(f"phases.json: {e.__class__.__name__}: {e}")
for p in problems:
    print(f"phases: {p}: UNEXPECTED")
if not problems:
    first = min(errors["drill"], default=None)
    after = f"{(first - max(edges['manual_cut'])) / 1e9:.1f} s" if first and edges["manual_cut"] else "-"
    print(f"phases: apart: each correlated with its own connector's events, all recorded within the phase "
          f"(the drill's first error came {after} after the manual cut ended)")
good &= not problems
if netem != "yes":
    print("note: no sch_netem in this kernel, the delay fault was skipped")
sys.exit(0 if good else 1)
EOF
rc=$?
[ "$MAIN_RC" = 0 ] || { say "okx-faultd exited $MAIN_RC on the main drill (expected 0)"; rc=1; }
[ "$DNS_RC" = 0 ] || { say "okx-faultd exited $DNS_RC on the dns drill (expected 0)"; rc=1; }
# The drill's evidence in one file (okx-faultctl(1), BUNDLE), then checked.
hr "evidence bundle of the drill"
rm -f "$OUT/bundle.tar.gz"
echo "\$ okx-faultctl bundle --journal ${OUT#"$TOP"/}/journal.jsonl --events ${OUT#"$TOP"/}/events.json -o ${OUT#"$TOP"/}/bundle.tar.gz"
"$OKX_FAULTCTL" bundle --journal "$OUT/journal.jsonl" --events "$OUT/events.json" -o "$OUT/bundle.tar.gz" || rc=1
echo "\$ okx-faultctl verify ${OUT#"$TOP"/}/bundle.tar.gz"
"$OKX_FAULTCTL" verify "$OUT/bundle.tar.gz" || { say "okx-faultctl verify $OUT/bundle.tar.gz failed"; rc=1; }
echo "bundle: $OUT/bundle.tar.gz"
echo
echo "demo-out: $OUT (journal.jsonl, events.json, timeline.svg, ...)"
[ $rc = 0 ] && echo "demo: OK" || echo "demo: FAILED"
exit $rc
