#!/usr/bin/env bash
# make deb builds okx-faultd_VERSION_ARCH.deb: the programs (stripped, and
# they run), the man pages (compressed), the unit naming /usr/sbin, the
# example policies, a Depends that names the package of every library the
# programs link (read from the binaries, so a new library cannot be
# forgotten), lintian without a tag (--pedantic, informational included),
# the same bytes when built twice, and a dpkg install and purge in a
# throwaway root (dpkg --root: the machine's own package database is not
# touched).
set -u
. "$TOP/tests/lib/netns.sh"
need_tool dpkg-deb dpkg
need_tool dpkg-shlibdeps dpkg-dev
need_tool lintian
need_tool objdump binutils
d=$(mktemp -d /tmp/okxt-deb.XXXXXX)
trap 'rm -rf "$d"' EXIT
arch=$(dpkg --print-architecture)
version=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
deb=$d/okx-faultd_${version}_$arch.deb

make -s -C "$TOP" deb DEB="$deb" >"$d/make.log" 2>&1 || { cat "$d/make.log"; fail "make deb"; }
cat "$d/make.log"
[ -s "$deb" ] || fail "make deb wrote no $deb"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = okx-faultd ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), want $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture), want $arch"
note "Depends: $(field Depends)"

dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$d/contents"
for f in ./usr/sbin/okx-faultd ./usr/bin/okx-faultctl; do
	grep -qx -- "-rwxr-xr-x root/root $f" "$d/contents" || fail "$f missing, or not 0755 root/root"
done
for f in ./usr/share/man/man8/okx-faultd.8.gz ./usr/share/man/man5/okx-faultd.policy.5.gz \
	./usr/share/man/man1/okx-faultctl.1.gz ./lib/systemd/system/okx-faultd@.service \
	./usr/share/doc/okx-faultd/copyright ./usr/share/doc/okx-faultd/changelog.gz; do
	grep -qx -- "-rw-r--r-- root/root $f" "$d/contents" || fail "$f missing, or not 0644 root/root"
done
grep -qx 'drwxr-xr-x root/root ./etc/okx-faultd/' "$d/contents" || fail "no /etc/okx-faultd/"
n=$(grep -c '^-rw-r--r-- root/root ./usr/share/doc/okx-faultd/policies/.*\.policy$' "$d/contents")
[ "$n" = "$(ls "$TOP"/policies/*.policy | wc -l)" ] || fail "example policies: $n in the package"
! grep -q 'root/root \./usr/local' "$d/contents" || fail "files under /usr/local"

# Depends names the package of every shared library the programs need
dpkg-deb -x "$deb" "$d/x"
for p in "$d/x/usr/sbin/okx-faultd" "$d/x/usr/bin/okx-faultctl"; do
	objdump -h "$p" | grep -q '\.debug_info' && fail "$p is not stripped"
	for lib in $(objdump -p "$p" | awk '$1 == "NEEDED" { print $2 }'); do
		path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
		[ -n "$path" ] || fail "$lib (needed by $p) is not known to ldconfig"
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || pkg=$(dpkg -S "$path" | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || fail "no package ships $path"
		grep -qE "(^|, )$pkg( |,|\$)" <<<"$(field Depends)" ||
			fail "Depends lacks $pkg (ships $lib, needed by ${p##*/})"
		note "${p##*/} needs $lib: $pkg is in Depends"
	done
done

# the unpacked programs run and check the packaged policies
v=$("$d/x/usr/sbin/okx-faultd" -V) || fail "okx-faultd -V from the package"
[[ $v =~ ^okx-faultd\ $version\ \(git\ [0-9a-f]{12}(-dirty)?\)$ ]] || fail "okx-faultd -V: $v"
"$d/x/usr/bin/okx-faultctl" -V | grep -q "^okx-faultctl $version " || fail "okx-faultctl -V from the package"
"$d/x/usr/sbin/okx-faultd" --check "$d/x/usr/share/doc/okx-faultd/policies/c2_3_degradation.policy" >/dev/null ||
	fail "the packaged okx-faultd cannot check a packaged policy"
grep -qx 'ExecStart=/usr/sbin/okx-faultd /etc/okx-faultd/%i.policy' "$d/x/lib/systemd/system/okx-faultd@.service" ||
	fail "the unit does not run /usr/sbin/okx-faultd"
zcat "$d/x/usr/share/man/man1/okx-faultctl.1.gz" | grep -q '^\.TH OKX-FAULTCTL 1' || fail "okx-faultctl.1.gz is not the man page"

# lintian: no tag at all, pedantic and informational ones included
lintian --pedantic --display-info --info "$deb" >"$d/lintian" 2>&1
sed 's/^/    | /' "$d/lintian"
grep -q '^[EWIPX]: ' "$d/lintian" && fail "lintian has tags on the package"

# the same commit makes the same package
make -s -C "$TOP" deb DEB="$d/again.deb" >/dev/null 2>&1 || fail "make deb (again)"
cmp -s "$deb" "$d/again.deb" || fail "two builds of the same commit differ"

# dpkg installs and purges it in a throwaway root (the libraries are the
# machine's, not that root's: --force-depends)
r=$d/root
mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
: >"$r/var/lib/dpkg/status"
dpkg --root="$r" --log=/dev/null --force-depends -i "$deb" >"$d/dpkg.log" 2>&1 || { cat "$d/dpkg.log"; fail "dpkg -i"; }
dpkg --root="$r" -s okx-faultd | grep -qx 'Status: install ok installed' || fail "dpkg -s: not installed"
[ -x "$r/usr/sbin/okx-faultd" ] && [ -x "$r/usr/bin/okx-faultctl" ] || fail "dpkg -i installed no programs"
dpkg --root="$r" --log=/dev/null -P okx-faultd >"$d/dpkg.log" 2>&1 || { cat "$d/dpkg.log"; fail "dpkg -P"; }
left=$(cd "$r" && find . -path ./var/lib/dpkg -prune -o ! -type d -print)
[ -z "$left" ] || fail "dpkg -P left: $left"
echo "deb OK: $(basename "$deb"), $(grep -c . "$d/contents") entries, lintian clean"
