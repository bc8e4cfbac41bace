#!/usr/bin/env bash
# tests/deps.sh install|ensure [vm] [fuzz]
# install: apt-get the Debian/Ubuntu packages needed to build and test.
# ensure:  the same, but only when something is missing (fast no-op otherwise).
set -euo pipefail
BUILD_PKGS=(build-essential pkg-config libnftnl-dev libmnl-dev libnl-3-dev libnl-route-3-dev
	libcjson-dev libcriterion-dev)
TEST_PKGS=(nftables conntrack iproute2 systemd python3 kmod)
VM_PKGS=(qemu-system-x86 linux-image-amd64 busybox-static cpio xz-utils zstd vagrant)
FUZZ_PKGS=(clang libclang-rt-14-dev) # make check asks for them: it replays the fuzz corpora

mode=${1:-install}
want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
for group in "${@:2}"; do
	case $group in
	vm) want+=("${VM_PKGS[@]}") ;;
	fuzz) want+=("${FUZZ_PKGS[@]}") ;;
	*) echo "deps: unknown group '$group' (vm, fuzz)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$mode" = ensure ] && [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$mode" = install ] && [ ${#missing[@]} -eq 0 ]; then
	echo "deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'sudo make deps'" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
