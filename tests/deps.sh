#!/usr/bin/env bash
# tests/deps.sh install|ensure [vm] [fuzz]
# install: apt-get the Debian/Ubuntu packages needed to build and test.
# ensure:  the same, but only when something is missing (fast no-op otherwise).
set -euo pipefail
BUILD_PKGS=(build-essential pkg-config libnftnl-dev libmnl-dev libnl-3-dev libnl-route-3-dev
	libcjson-dev libarchive-dev libcriterion-dev)
TEST_PKGS=(nftables conntrack iproute2 systemd python3 python3-requests kmod git binutils)
VM_PKGS=(qemu-system-x86 linux-image-amd64 busybox-static cpio xz-utils zstd vagrant)
# make check asks for clang: it replays the fuzz corpora and builds with
# clang too. Its sanitizer and libFuzzer runtime is libclang-rt-N-dev for
# clang N on newer releases; older ones ship it with clang-N itself.
FUZZ_PKGS=(clang)

mode=${1:-install}
want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
for group in "${@:2}"; do
	case $group in
	vm) want+=("${VM_PKGS[@]}") ;;
	fuzz) want+=("${FUZZ_PKGS[@]}") fuzz=1 ;;
	*) echo "deps: unknown group '$group' (vm, fuzz)" >&2; exit 2 ;;
	esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# clang's runtime is present when its libFuzzer archive is (clang <= 14:
# lib/linux/libclang_rt.fuzzer-ARCH.a, later: lib/ARCH-*/libclang_rt.fuzzer.a)
clang_rt_present() {
	local r a=$(uname -m)
	r=$(clang -print-resource-dir 2>/dev/null) || return 1
	compgen -G "$r/lib/linux/libclang_rt.fuzzer-$a.a" >/dev/null || compgen -G "$r/lib/$a-*/libclang_rt.fuzzer.a" >/dev/null
}

# The runtime package of the installed clang, if it is missing and apt has
# one; prints nothing otherwise.
clang_rt_pkg() {
	local major
	command -v clang >/dev/null && ! clang_rt_present || return 0
	major=$(clang --version | sed -n '1s/.*clang version \([0-9][0-9]*\).*/\1/p')
	[ -n "$major" ] && apt-cache show "libclang-rt-$major-dev" >/dev/null 2>&1 && echo "libclang-rt-$major-dev"
	return 0
}

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done
rt_missing=
if [ -n "${fuzz:-}" ] && command -v clang >/dev/null && ! clang_rt_present; then
	rt_missing=1
fi
if [ ${#missing[@]} -eq 0 ] && [ -z "$rt_missing" ]; then
	[ "$mode" = ensure ] || echo "deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}${rt_missing:+ (and the clang sanitizer runtime)}; run 'sudo make deps'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# clang is installed now: add the runtime that matches its version
if [ -n "${fuzz:-}" ] && ! clang_rt_present; then
	rt=$(clang_rt_pkg)
	if [ -z "$rt" ]; then
		echo "deps: $(clang --version | head -1) has no libFuzzer runtime and apt knows no libclang-rt package for it" >&2
		exit 1
	fi
	echo "deps: installing $rt"
	apt-get install -y -qq --no-install-recommends "$rt" >/dev/null
fi
