#!/usr/bin/env bash
# The demo (tests/lab/demo.sh) in its short form, end to end: okx_sim,
# two connectors (one with --no-net-errors), a manual cut during the
# warm-up and the drill armed on live calls; then the verdicts read back
# from okx-faultctl's --json reports: the armed drill passes with every
# window ok and hitting packets, the same windows are telemetry_gap for the
# quiet connector, and the manual cut is no_traffic with 0 packets hit.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB=${LAB:-$TOP/build/lab}
OKX_FAULTD=${OKX_FAULTD:-$TOP/build/san/okx-faultd}
OKX_FAULTCTL=${OKX_FAULTCTL:-$TOP/build/san/okx-faultctl}
. "$TOP/tests/lib/netns.sh"
need_root
for b in "$OKX_FAULTD" "$OKX_FAULTCTL" "$LAB/okx_sim" "$LAB/connector_sim" "$LAB/netprobe"; do
	[ -x "$b" ] || fail "$b not built (make build-tests)"
done
chk=$("$OKX_FAULTD" --check "$TOP/tests/lab/demo.policy" 2>&1) || fail "okx-faultd --check tests/lab/demo.policy: $chk"

OUT=$(mktemp -d /tmp/okxt-demo.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
DEMO_SHORT=1 DEMO_OUT="$OUT" OKX_FAULTD="$OKX_FAULTD" OKX_FAULTCTL="$OKX_FAULTCTL" LAB="$LAB" \
	timeout -s TERM 150 bash "$TOP/tests/lab/demo.sh" >"$OUT/demo.log" 2>&1
rc=$?
cat "$OUT/demo.log"
[ $rc = 124 ] && fail "the short demo took more than 150 s"
netem=no
grep -q "kernel has sch_netem" "$OUT/demo.log" && netem=yes

python3 - "$OUT" "$netem" <<'EOF' || fail "verdicts (see above)"
import json, sys
out, netem = sys.argv[1], sys.argv[2]
def report(name):
    return json.load(open(f"{out}/{name}"))
def faults(r):
    return [w for w in r["windows"] if w["action"] != "pause"]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

main = report("report.json")
ws = faults(main)
want = ["drop", "reject"] + (["delay"] if netem == "yes" else [])
check([w["action"] for w in ws] == want, f"main windows {[w['action'] for w in ws]}, want {want}")
check(main["gate"]["pass"] is True, "main gate did not pass")
for w in ws:
    check(w["diagnosis"] == "ok", f"main {w['action']}: {w['diagnosis']}")
    check((w.get("hits") or {}).get("packets", 0) > 0, f"main {w['action']}: no packets hit")
    check(w["errors"] > 0, f"main {w['action']}: no errors")
    check(w["first_error_delay_ms"] is not None and w["first_error_delay_ms"] <= 2500,
          f"main {w['action']}: first error after {w['first_error_delay_ms']} ms")

gap = report("report_telemetry_gap.json")
check(gap["gate"]["pass"] is False, "telemetry gap: the gate passed")
check([w["diagnosis"] for w in faults(gap)] == ["telemetry_gap"] * len(want),
      f"telemetry gap: {[w['diagnosis'] for w in faults(gap)]}")
check(gap["events"]["count"] == 0, f"quiet connector recorded {gap['events']['count']} events")

cut = report("report_no_traffic.json")
check(cut["gate"]["pass"] is False, "manual cut: the gate passed")
cw = faults(cut)
check(len(cw) == 1 and cw[0]["diagnosis"] == "no_traffic" and cw[0]["hits"]["packets"] == 0,
      f"manual cut: {[(w['diagnosis'], w.get('hits')) for w in cw]}")

for svg in ("timeline.svg", "timeline_telemetry_gap.svg", "timeline_no_traffic.svg"):
    try:
        head = open(f"{out}/{svg}").read(200)
        check("<svg" in head, f"{svg} is not SVG")
    except OSError as e:
        errors.append(f"{svg}: {e}")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
EOF
[ $rc = 0 ] || fail "demo.sh exit $rc"
echo "short demo OK"
