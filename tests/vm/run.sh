#!/usr/bin/env bash
# tests/vm/run.sh [--smoke | --shell | --exec CMD] [--suites LIST] [--only GLOB] [--timeout SECS] [--keep]
# Boots Debian's stock kernel (it has sch_netem; many CI and dev kernels do
# not) in QEMU with an initramfs holding the project's binaries and tests/,
# runs tests/run.sh there (suites integration then unit by default, in one
# boot) and prints the guest's output. Exit status: 0 when every suite passed.
#   --smoke         only prove the kernel path: veth + netem delay 100ms seen in ping RTT
#   --shell         interactive shell on the console (debugging)
#   --exec CMD      run the bash command CMD in /okx in the guest instead of the suites
#   --suites LIST   comma list of tests/run.sh suites (default integration: the unit
#                   suite runs on the host; under TCG it needs minutes more)
#   --only GLOB     keep only the integration scripts matching GLOB (e.g. 'netem_*')
#   --timeout SECS  guest budget for all suites (default 1800: the integration
#                   suite, 32 scripts, took 783 s under TCG on a 2-core host
#                   busy with the host's own suite, and a loaded host is
#                   slower); QEMU gets 60 s more
#   --keep          keep build/vm/run.* (console log, results) for inspection
# Environment: KVER, QEMU (binary), OKX_VM_MEM (default 1G), OKX_VM_SMP (default 2),
# OKX_STRICT=1 (strict mode in the guest too, README "Tests"),
# OKX_VM_CPU (TCG CPU model, default max), OKX_VM_BZIMAGE=1 (boot the
# bzImage, not the cached ELF vmlinux).
# Built with `make build-tests` first (`make check-vm` does both).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
VM=$TOP/build/vm
mode=tests suites=integration only="" budget=1800 keep=0 exec_cmd=""
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) mode=smoke ;;
	--shell) mode=shell ;;
	--exec) mode=exec exec_cmd=${2:?}; shift ;;
	--suites) suites=${2:?}; shift ;;
	--only) only=${2:?}; shift ;;
	--timeout) budget=${2:?}; shift ;;
	--keep) keep=1 ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "usage: $0 [--smoke|--shell|--exec CMD] [--suites LIST] [--only GLOB] [--timeout SECS] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
case $budget in '' | *[!0-9]*) echo "vm: --timeout takes seconds" >&2; exit 2 ;; esac
QEMU=${QEMU:-qemu-system-x86_64}
t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
die() { echo "vm: $*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

command -v "$QEMU" >/dev/null || die "$QEMU missing (apt-get install qemu-system-x86, or: make deps)"
for t in busybox cpio depmod modprobe; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null || die "$t missing (tests/deps.sh install vm)"
done
[ -x build/san/okx-faultd ] || [ "$mode" != tests ] || die "build/san/okx-faultd missing: run 'make build-tests' first"

# --- kernel -----------------------------------------------------------------------
if [ -z "${KVER:-}" ]; then
	for d in $(printf "%s\n" /lib/modules/*/ | sort -rV); do
		d=${d%/}
		if [ -e "/boot/vmlinuz-$(basename "$d")" ] && find "$d/kernel/net/sched" -name 'sch_netem.ko*' | grep -q .; then
			KVER=$(basename "$d")
			break
		fi
	done
fi
[ -n "${KVER:-}" ] || die "no /boot/vmlinuz-* with sch_netem in /lib/modules (apt-get install linux-image-amd64)"
export KVER
bz=/boot/vmlinuz-$KVER
[ -r "$bz" ] || die "$bz is not readable (root-only on some systems: run as root, or chmod o+r it)"
mkdir -p "$VM"

# extract_vmlinux BZIMAGE OUT: the ELF inside a bzImage; QEMU boots it through
# its PVH entry note, skipping the real-mode setup and the decompressor
extract_vmlinux() {
	local off tmp=$2.tmp.$$
	for fmt in xz zstd gzip; do
		case $fmt in
		xz) off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1) ;;
		zstd) off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$1" | head -n1 | cut -d: -f1) ;;
		gzip) off=$(LC_ALL=C grep -obUaP '\x1f\x8b\x08' "$1" | head -n1 | cut -d: -f1) ;;
		esac
		[ -n "$off" ] || continue
		case $fmt in
		xz) tail -c +$((off + 1)) "$1" | xz -dc --single-stream >"$tmp" 2>/dev/null ;;
		zstd) tail -c +$((off + 1)) "$1" | zstd -qdc >"$tmp" 2>/dev/null ;;
		gzip) tail -c +$((off + 1)) "$1" | gzip -dc >"$tmp" 2>/dev/null ;;
		esac
		if [ "$(head -c4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$tmp" "$2"
			return 0
		fi
	done
	rm -f "$tmp"
	return 1
}
kernel=$bz
cached=$VM/vmlinux-$KVER
if [ ! -s "$cached" ] || [ "$cached" -ot "$bz" ]; then
	extract_vmlinux "$bz" "$cached" || rm -f "$cached"
fi
# PVH entry: the "Xen" ELF note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY)
if [ "${OKX_VM_BZIMAGE:-0}" != 1 ] && [ -s "$cached" ] && { ! command -v readelf >/dev/null || readelf -n "$cached" 2>/dev/null | grep -q 'Xen.*0x00000012\|Unknown note type: (0x00000012)\|PHYS32_ENTRY'; }; then
	kernel=$cached
fi

# --- accelerator -------------------------------------------------------------------
# KVM only when usable: nested without vmx/svm it hangs or dies ("KVM internal error")
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	accel=(-accel kvm -cpu host)
else
	accel=(-accel "tcg,thread=multi" -cpu "${OKX_VM_CPU:-max}")
fi

# --- initramfs -------------------------------------------------------------------------
# run folders of runs killed too hard to clean up (concurrent runs are younger)
find "$VM" -maxdepth 1 -name 'run.*' -mmin +120 -exec rm -rf {} + 2>/dev/null || true
work=$(mktemp -d "$VM/run.XXXXXX")
qpid="" tpid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	[ -n "$qpid" ] && kill -KILL -- "-$qpid" 2>/dev/null
	if [ "$keep" = 1 ]; then echo "vm: kept $work"; else rm -rf "$work"; fi
	rm -f "$VM"/vmlinux-*.tmp.$$
}
trap cleanup EXIT
trap 'exit 130' INT TERM
OKX_VM_ONLY=$only OKX_VM_EXEC=$exec_cmd bash tests/vm/mkinitramfs.sh "$work/initramfs.cpio" >"$work/mkinitramfs.log" 2>&1 ||
	{ cat "$work/mkinitramfs.log" >&2; die "initramfs build failed"; }
t_initramfs=$(elapsed "$t0")
echo "vm: $(tail -n1 "$work/mkinitramfs.log") in ${t_initramfs}s"

# --- boot ------------------------------------------------------------------------------------
limit=$((budget + 60))
append="console=ttyS0 panic=-1 quiet mitigations=off OKX_VM_MODE=$mode OKX_VM_SUITES=$suites OKX_VM_TIMEOUT=$budget OKX_STRICT=${OKX_STRICT:-0}"
qemu=("$QEMU" "${accel[@]}" -m "${OKX_VM_MEM:-1G}" -smp "${OKX_VM_SMP:-2}"
	-nodefaults -display none -no-reboot
	-kernel "$kernel" -initrd "$work/initramfs.cpio" -append "$append")
echo "vm: booting $(basename "$kernel") (${accel[*]}), guest budget ${budget}s"
t_boot=$(date +%s.%N)
if [ "$mode" = shell ]; then
	"${qemu[@]}" -serial mon:stdio -serial "file:$work/out.tar"
	exit 0
fi
: >"$work/console.log"
# setsid: QEMU in a process group of its own, so a timeout or an interrupt
# ends it and anything it started
set +e
setsid timeout -k 10 "$limit" "${qemu[@]}" -serial "file:$work/console.log" -serial "file:$work/out.tar" \
	</dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
# progress lines while it runs; tail ends with QEMU
tail --pid="$qpid" -n +1 -f "$work/console.log" 2>/dev/null |
	while IFS= read -r l; do
		l=${l%$'\r'}
		case $l in okx-vm:*) echo "vm: [+$(elapsed "$t_boot")s] guest:${l#okx-vm:}" ;; esac
	done &
tpid=$!
wait "$qpid"
qrc=$?
qpid=""
wait "$tpid" 2>/dev/null
tpid=""
set -e
t_total=$(elapsed "$t0")
t_vm=$(elapsed "$t_boot")

# --- results ---------------------------------------------------------------------------------
mkdir -p "$work/out"
tar -C "$work/out" -xf "$work/out.tar" 2>/dev/null || true
marker=$(tr -d '\r' <"$work/console.log" | sed -n 's/.*VMTEST-RC=\([0-9]*\).*/\1/p' | tail -n1)
pass=0 fail=0 skip=0 complete=1
shopt -s nullglob
case $mode in
smoke | exec) expect=("$mode") ;;
*) IFS=, read -r -a expect <<<"$suites" ;;
esac
logs=("$work"/out/suite-*.log)
# a fatal setup error reports as its own "suite"
[ -f "$work/out/suite-modules.log" ] && expect=(modules)
for s in "${expect[@]}"; do
	log=$work/out/suite-$s.log
	[ ${#logs[@]} -gt 0 ] || break
	echo "===== guest: $s ====="
	if [ ! -f "$log" ]; then
		complete=0
		echo "vm: suite $s: no output came back"
		continue
	fi
	cat "$log"
	[ "$mode" = exec ] && continue
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n1 || true)
	if [ -z "$line" ]; then
		complete=0
		echo "vm: suite $s ended without a summary line"
		continue
	fi
	read -r p _ f _ k _ <<<"${line//,/}"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
done
if [ ${#logs[@]} -eq 0 ]; then
	complete=0
	echo "vm: no results came back from the guest (QEMU exit $qrc); console:"
	tr -d '\r' <"$work/console.log" | tail -n 60 | sed 's/^/  | /'
	[ -s "$work/qemu.log" ] && sed 's/^/  qemu| /' "$work/qemu.log"
fi
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && { echo "vm: QEMU killed after ${limit}s"; complete=0; }
rc=${marker:-$(cat "$work/out/rc" 2>/dev/null || echo 1)}
[ "$complete" = 1 ] || fail=$((fail + 1))
boot=$(cat "$work/out/uptime_init" 2>/dev/null || echo '?')
echo "vm: kernel $KVER, userspace at ${boot}s guest uptime; VM ${t_vm}s, total ${t_total}s (initramfs ${t_initramfs}s)"
if [ "$mode" = exec ]; then
	[ "$complete" = 1 ] || exit 1
	exit "$rc"
fi
echo "okx-faultd vm tests: $pass passed, $fail failed, $skip skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ "$rc" = 0 ] && [ "$fail" = 0 ] && [ "$pass" -gt 0 ]
