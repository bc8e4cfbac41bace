#!/usr/bin/env bash
# vagrant/provision.sh — turn a fresh Debian 12 machine into an okx-faultd
# drill box: install the dependencies, build, check that the kernel can do
# what drills need (the VM harness's smoke test), run the whole test suite,
# install, and run the example drill (tests/lab/demo.sh) with the installed
# binaries.
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

if [ "${OKX_SKIP_DRILL:-0}" != 1 ]; then
	# the project's demo (make demo), run with the installed binaries: the
	# incident replayed in a namespace lab, a drill armed on live calls,
	# each window correlated with the connectors' error events
	step "example drill: tests/lab/demo.sh (files in $OUT)"
	OKX_FAULTD=/usr/local/sbin/okx-faultd OKX_FAULTCTL=/usr/local/bin/okx-faultctl \
		DEMO_OUT=$OUT bash tests/lab/demo.sh
fi
step "done: okx-faultd $(okx-faultd --version 2>&1 | head -n1)"
