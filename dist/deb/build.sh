#!/usr/bin/env bash
# dist/deb/build.sh ROOT VERSION MAINTAINER COMMIT OUT.deb — called by
# `make deb` after `make install DESTDIR=ROOT PREFIX=/usr
# UNITDIR=/lib/systemd/system`: makes ROOT a Debian binary package (the
# Debian policy's layout: compressed man pages, stripped programs, the
# copyright and changelog in /usr/share/doc/okx-faultd, md5sums) whose
# Depends come from the libraries the programs link (dpkg-shlibdeps), and
# builds OUT.deb with dpkg-deb. No maintainer scripts: the unit is a
# template nothing enables, and systemd makes /var/lib/okx-faultd
# (StateDirectory).
set -euo pipefail
[ $# = 5 ] || { echo "usage: $0 ROOT VERSION MAINTAINER COMMIT OUT.deb" >&2; exit 2; }
root=$(cd "$1" && pwd) version=$2 maintainer=$3 commit=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
doc=$root/usr/share/doc/okx-faultd
progs=("$root/usr/sbin/okx-faultd" "$root/usr/bin/okx-faultctl")
for p in "${progs[@]}" "$root/lib/systemd/system/okx-faultd@.service"; do
	[ -f "$p" ] || { echo "deb: $p is missing (make install DESTDIR=$root PREFIX=/usr UNITDIR=/lib/systemd/system)" >&2; exit 1; }
done

# modes as the policy wants them, whatever the umask made of them
chmod -R u=rwX,go=rX "$root"
chmod 0755 "${progs[@]}"
strip --remove-section=.comment --remove-section=.note "${progs[@]}"
gzip -9nf "$root"/usr/share/man/man[0-9]/*.[0-9]
install -m 0644 "$here/copyright" "$doc/copyright"
# The date: the commit's (a release tree: SOURCE_DATE_EPOCH, else now), so
# the same commit makes the same changelog.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@COMMIT@|$commit|" -e "s|@DATE@|$date|" \
	"$here/changelog.in" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Depends: dpkg-shlibdeps reads the programs' NEEDED libraries and the
# shlibs/symbols files of the packages that ship them; it wants a
# debian/control to name the package, so it runs in a scratch folder.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"
printf 'Source: okx-faultd\n\nPackage: okx-faultd\nArchitecture: any\n' >"$tmp/debian/control"
depends=$(cd "$tmp" && dpkg-shlibdeps -O "${progs[@]/#/-e}" 2>"$tmp/shlibdeps.err") ||
	{ cat "$tmp/shlibdeps.err" >&2; exit 1; }
depends=${depends#shlibs:Depends=}
[ -n "$depends" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
size=$(du -s -k --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@SIZE@|$size|" \
	-e "s|@DEPENDS@|$depends|" "$here/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
	>"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "  DEB     $out (Depends: $depends)"
