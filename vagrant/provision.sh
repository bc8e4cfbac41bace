#!/usr/bin/env bash
# vagrant/provision.sh — turn a fresh Debian 12 machine into an okx-faultd
# drill box: install the dependencies, build, check that the kernel can do
# what drills need (the VM harness's smoke test), run the whole test suite,
# install, and run an example drill in a namespace lab.
# Run as root. The Vagrantfile runs it; it also works on any Debian 12
# machine or CI runner with a stock kernel: sudo vagrant/provision.sh
# Environment:
#   OKX_SRC          source tree (default: this script's parent folder)
#   OKX_SKIP_CHECK=1 skip make check; OKX_SKIP_DRILL=1 skip the example drill
#   OKX_DRILL_OUT    where the example drill leaves its files
#                    (default /var/lib/okx-faultd/example-drill)
set -euo pipefail
SRC=${OKX_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OUT=${OKX_DRILL_OUT:-/var/lib/okx-faultd/example-drill}
export DEBIAN_FRONTEND=noninteractive
step() { printf '\n==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "provision: run as root" >&2; exit 1; }
cd "$SRC"

step "dependencies (tests/deps.sh install)"
bash tests/deps.sh install

step "build (make build-tests)"
make -j"$(nproc)" build-tests

step "kernel preflight: netem, nftables, conntrack (tests/vm/smoke.sh)"
bash tests/vm/smoke.sh

if [ "${OKX_SKIP_CHECK:-0}" != 1 ]; then
	step "test suite (make check)"
	make check
fi

step "install (make install PREFIX=/usr/local)"
make install PREFIX=/usr/local
okx-faultd --version

# example_drill: the incident's drill, done right, in a two-namespace lab:
# okx_sim serves OKX's time endpoint, connector_sim warms up then calls it,
# okx-faultd arms on the third call and drops the calls for 5 s; the journal
# and the connector's error events are then correlated.
example_drill() (
	# shellcheck source-path=SCRIPTDIR/.. source=tests/lib/netns.sh disable=SC1091
	. tests/lib/netns.sh
	LAB=$SRC/build/lab
	lab_init demo
	lab_two
	rm -rf "$OUT"
	mkdir -p "$OUT"
	cat >"$OUT/drill.policy" <<-'P'
		# a 5 s blackhole of the simulated OKX endpoint, armed only on live calls
		name = example_drill
		target = 198.18.0.2
		port = 8443
		arm_min_flows = 3
		arm_delay = 1s
		arm_timeout = 60s
		fault = drop 5s
	P
	okx-faultd --check "$OUT/drill.policy"
	bg_srv "$LAB/okx_sim" --listen 198.18.0.2:8443 --max-seconds 120
	bg_cli okx-faultd -j "$OUT/journal.jsonl" "$OUT/drill.policy"
	local d=$!
	in_cli "$LAB/connector_sim" --url http://198.18.0.2:8443/api/v5/public/time \
		--out "$OUT/connector.json" --warmup 2s --rate-ms 250 --duration 12s --timeout-ms 1000
	wait "$d" || fail "okx-faultd exit $?"
	okx-faultctl windows "$OUT/journal.jsonl"
	okx-faultctl correlate --journal "$OUT/journal.jsonl" --events "$OUT/connector.json" \
		--svg "$OUT/timeline.svg"
)

if [ "${OKX_SKIP_DRILL:-0}" != 1 ]; then
	step "example drill (files in $OUT)"
	example_drill
fi
step "done: okx-faultd $(okx-faultd --version 2>&1 | head -n1)"
