#!/bin/sh
# tests/lib/with_resolv.sh DIR CMD...: run CMD with the name service files
# of DIR (resolv.conf, and hosts and nsswitch.conf when DIR has them and
# /etc has them to bind over) bound over /etc's, in a mount namespace of
# its own (unshare -m, private propagation): the lab's resolver is the
# system's for CMD and its children alone, the host's files are untouched.
# Run it inside the lab's network namespace (ip netns exec NS
# tests/lib/with_resolv.sh DIR CMD...); CMD is exec'ed, so its pid is the
# caller's $!. Needs root.
set -eu
[ $# -ge 2 ] || { echo "usage: with_resolv.sh DIR CMD..." >&2; exit 2; }
[ -f "$1/resolv.conf" ] || { echo "with_resolv.sh: no $1/resolv.conf" >&2; exit 2; }
[ -e /etc/resolv.conf ] || { echo "with_resolv.sh: no /etc/resolv.conf to bind over" >&2; exit 2; }
exec unshare -m sh -c '
	dir=$1
	shift
	for f in resolv.conf hosts nsswitch.conf; do
		[ -f "$dir/$f" ] && [ -e "/etc/$f" ] || continue
		mount --bind "$dir/$f" "/etc/$f" || exit 2
	done
	exec "$@"' with_resolv "$@"
