#!/usr/bin/env bash
# tests/vm/mkinitramfs.sh OUT.cpio [STAGE_DIR]
# Builds the guest's uncompressed newc initramfs for the VM suite:
#   - busybox (busybox-static) for the basics, symlinked only where no real
#     tool is installed (its applets would otherwise shadow ip/tc/timeout);
#   - real bash, iproute2, nftables, conntrack, kmod, coreutils, ... and any
#     other host program the test scripts name, each with its shared
#     libraries (ldd);
#   - the project's binaries and tests/ tree under /okx, the same layout as
#     the repository, so tests/run.sh finds build/san/okx-faultd etc.;
#   - the stock kernel's networking modules (uncompressed) plus a modules.dep
#     made by depmod, so modprobe and the kernel's module autoloading work.
# Environment: KVER (the stock kernel's version, required), OKX_VM_ONLY
# (glob: keep only matching integration scripts), OKX_VM_EXEC (a bash
# command the guest runs instead of the suites: tests/vm/run.sh --exec),
# OKX_VM_PYTHON=1 (force python3 in; by default only when a test script
# mentions python3).
set -euo pipefail
out=${1:?usage: mkinitramfs.sh OUT.cpio [STAGE_DIR]}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
stage=${2:-$(mktemp -d "$(dirname "$out")/stage.XXXXXX")}
HOSTPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "mkinitramfs: $*" >&2; exit 1; }

KVER=${KVER:?set KVER, the stock kernel version (tests/vm/run.sh picks it)}
MODDIR=/lib/modules/$KVER
[ -d "$MODDIR" ] || die "$MODDIR missing"

rm -rf "$stage"
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,tmp,run,var/tmp,var/lib/okx-faultd,root,results,okx}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"
chmod 1777 "$stage/tmp" "$stage/var/tmp"

declare -A copied=()
# copy_file SRC [DEST]: copy SRC (following symlinks) to DEST in the stage.
# Paths under merged-usr symlinks (/lib, /bin, ...) are mapped into /usr.
usr_path() {
	case $1 in
	/bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;;
	*) echo "$1" ;;
	esac
}
copy_file() {
	local src=$1 dst
	dst=$(usr_path "${2:-$1}")
	[ -n "${copied[$dst]:-}" ] && return 0
	copied[$dst]=1
	mkdir -p "$stage$(dirname "$dst")"
	cp -L --preserve=mode "$src" "$stage$dst"
}
# copy_libs BIN: the shared libraries ldd reports for BIN
copy_libs() {
	local lib
	while read -r lib; do
		[ -n "$lib" ] && [ -e "$lib" ] && copy_file "$lib"
	done < <(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p')
}
# add_bin SRC [DEST]: an executable and its libraries
add_bin() {
	local src=$1 dst=${2:-$1}
	copy_file "$src" "$dst"
	if file_is_elf "$src"; then copy_libs "$src"; fi
}
file_is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
# add_tool NAME: a host program found in the system PATH (not the user's,
# which may hold pyenv shims and the like); no-op when absent
add_tool() {
	local p
	p=$(PATH=$HOSTPATH command -v "$1" 2>/dev/null) || return 0
	case $p in /*) ;; *) return 0 ;; esac
	[ -f "$p" ] && [ -x "$p" ] || return 0
	add_bin "$p" "$(usr_path "$p")"
}

# --- programs ---------------------------------------------------------------
TOOLS=(
	bash ip tc ss bridge nft conntrack modprobe insmod lsmod rmmod modinfo depmod
	# GNU tools whose behaviour scripts rely on; the busybox applets that
	# exec other programs (timeout, env, xargs, setsid, nsenter) would run
	# their own ip/tc applets instead of the real ones
	grep egrep fgrep sed gawk awk mawk find xargs diff cmp tar gzip
	setsid nsenter unshare setpriv chrt flock taskset prlimit script kill ps pgrep pkill pidof sysctl
	stdbuf timeout getopt hexdump od jq socat ncat
)
for t in "${TOOLS[@]}"; do add_tool "$t"; done
# all of coreutils (its programs are small and run as real ones)
if command -v dpkg >/dev/null 2>&1; then
	while read -r p; do
		[ -f "$p" ] && [ -x "$p" ] && add_bin "$p" "$(usr_path "$p")"
	done < <(dpkg -L coreutils 2>/dev/null | grep -E '^/(usr/)?s?bin/[^/]+$')
fi
# any other program the guest's test scripts call: the first word of each
# command, after keywords, assignments and the lab's wrappers (in_cli, ...)
want_python=${OKX_VM_PYTHON:-0}
scripts=()
while IFS= read -r -d '' f; do scripts+=("$f"); done < <(find "$TOP/tests/run.sh" "$TOP/tests/lib" \
	"$TOP/tests/integration" "$TOP/tests/lab" -type f -name '*.sh' -print0 2>/dev/null)
grep -qw python3 "${scripts[@]}" /dev/null && want_python=1
while read -r w; do
	case $w in
	reboot | poweroff | halt | shutdown | init | telinit | systemctl | sudo | su | login | python3*) ;;
	*) add_tool "$w" ;;
	esac
done < <(sed 's/#.*//' "${scripts[@]}" /dev/null | tr ';|&(){}`' '\n' | sed -E 's/^[[:space:]]+//' |
	sed -E ':a; s/^(then|do|else|elif|if|while|until|!|in_cli|in_srv|bg_cli|bg_srv|exec|command|time|nohup|setsid|[A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*|timeout( -[a-z]+ [^ ]+)* [0-9.]+[smh]?|ip netns exec [^ ]+|ip -n [^ ]+)[[:space:]]+//; ta' |
	grep -oE '^[a-z][a-z0-9_.+-]{1,30}' | sort -u)
if [ "$want_python" = 1 ]; then
	py=$(readlink -f "$(PATH=$HOSTPATH command -v python3)")
	add_bin "$py" "/usr/bin/$(basename "$py")"
	ln -sf "$(basename "$py")" "$stage/usr/bin/python3"
	pylib=/usr/lib/$(basename "$py")
	mkdir -p "$stage$pylib"
	# with the compiled modules (compiling under TCG costs seconds per run),
	# without what no test needs
	tar -C "$pylib" --exclude=./test --exclude=tests --exclude=idlelib --exclude=tkinter \
		--exclude=ensurepip --exclude=lib2to3 --exclude=pydoc_data --exclude=distutils \
		--exclude='*.opt-[12].pyc' --exclude='./config-*' --exclude=turtledemo \
		--exclude=site-packages --exclude=dist-packages -cf - . | tar -C "$stage$pylib" -xf -
	for so in "$stage$pylib"/lib-dynload/*.so; do copy_libs "$so"; done
fi
# busybox for everything else (ping, mount, poweroff, stty, ...)
BB=$(PATH=$HOSTPATH command -v busybox) || die "busybox missing (apt-get install busybox-static)"
ldd "$BB" >/dev/null 2>&1 && echo "mkinitramfs: warning: $BB is not static" >&2
add_bin "$BB" /usr/bin/busybox
for a in $("$BB" --list); do
	[ "$a" = busybox ] && continue
	[ -e "$stage/usr/bin/$a" ] || [ -e "$stage/usr/sbin/$a" ] || ln -s busybox "$stage/usr/bin/$a"
done
ln -sf bash "$stage/usr/bin/sh"
# libraries loaded with dlopen, which ldd does not see
for l in /usr/lib/x86_64-linux-gnu/libnss_files.so.2 /usr/lib/x86_64-linux-gnu/libnss_dns.so.2; do
	[ -e "$l" ] && copy_file "$l"
done
for d in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc; do
	[ -d "$d" ] && { mkdir -p "$stage$d"; cp -a "$d/." "$stage$d/"; }
done
# configuration files the tools read
for f in /etc/protocols /etc/services /etc/ethertypes /etc/nsswitch.conf /etc/iproute2; do
	if [ -e "$f" ]; then cp -a "$f" "$stage/etc/"; fi
done
[ -d /usr/share/iproute2 ] && { mkdir -p "$stage/usr/share"; cp -a /usr/share/iproute2 "$stage/usr/share/"; }
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost okx-vm\n::1 localhost ip6-localhost\n' >"$stage/etc/hosts"
echo okx-vm >"$stage/etc/hostname"
: >"$stage/etc/resolv.conf"
mkdir -p "$stage/etc/nftables" "$stage/var/run"

# --- the project --------------------------------------------------------------
cd "$TOP"
for f in okx-faultd okx-faultctl build/san/* build/lab/* build/bench/*; do
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
	add_bin "$TOP/$f" "/okx/$f"
done
# tests/ without the VM harness itself (the guest does not nest)
tar -C "$TOP" --exclude=tests/vm --exclude='*.o' --exclude='*.d' -cf - tests policies 2>/dev/null |
	tar -C "$stage/okx" -xf -
mkdir -p "$stage/okx/tests/vm"
cp "$TOP/tests/vm/smoke.sh" "$stage/okx/tests/vm/"
[ -d "$TOP/dist" ] && cp -a "$TOP/dist" "$stage/okx/"
if [ -n "${OKX_VM_ONLY:-}" ]; then
	for f in "$stage"/okx/tests/integration/*.sh; do
		[ -f "$f" ] || continue
		# shellcheck disable=SC2254
		case $(basename "$f") in $OKX_VM_ONLY) ;; *) rm -f "$f" ;; esac
	done
fi
[ -n "${OKX_VM_EXEC:-}" ] && printf '%s\n' "$OKX_VM_EXEC" >"$stage/etc/okx-vm-exec.sh"
cp "$TOP/tests/vm/init" "$stage/init"
chmod 0755 "$stage/init"

# --- kernel modules --------------------------------------------------------------
MODS=(
	sch_netem sch_htb sch_prio sch_tbf sch_ingress sch_fq sch_sfq sch_drr
	cls_u32 cls_flower cls_fw cls_basic cls_matchall cls_bpf em_cmp em_u32 em_meta
	act_gact act_mirred act_skbedit act_pedit
	ifb veth dummy
	nfnetlink nf_tables nf_conntrack nf_conntrack_netlink nf_reject_ipv4 nf_reject_ipv6
	nft_ct nft_reject nft_reject_inet nft_reject_ipv4 nft_reject_ipv6
	nft_numgen nft_quota nft_limit nft_hash nft_log nft_objref nft_fib_inet
	nft_fib_ipv4 nft_fib_ipv6 nft_nat nft_masq nft_connlimit nft_socket
)
declare -A modseen=()
for m in "${MODS[@]}"; do
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		[ -n "${modseen[$path]:-}" ] && continue
		modseen[$path]=1
		rel=${path#"$MODDIR"/}
		dst="$stage/usr/lib/modules/$KVER/${rel%.xz}"
		dst=${dst%.zst}
		dst=${dst%.gz}
		mkdir -p "$(dirname "$dst")"
		case $path in
		*.xz) xz -dc "$path" >"$dst" ;;
		*.zst) zstd -qdc "$path" >"$dst" ;;
		*.gz) gzip -dc "$path" >"$dst" ;;
		*) cp "$path" "$dst" ;;
		esac
	done < <(modprobe -S "$KVER" --show-depends "$m" 2>/dev/null || true)
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$stage/usr/lib/modules/$KVER/"
done
depmod -b "$stage" "$KVER"
echo "$KVER" >"$stage/etc/okx-vm-kver"
printf '%s\n' "${MODS[@]}" >"$stage/etc/okx-vm-modules"

# --- archive ----------------------------------------------------------------------
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
[ -z "${2:-}" ] && rm -rf "$stage"
echo "mkinitramfs: $out ($(($(stat -c %s "$out") / 1024 / 1024)) MB, kernel $KVER, ${#modseen[@]} modules)"
