#!/usr/bin/env bash
# The files a root daemon is handed (okx-faultd(8), SECURITY; issue 10):
#  - journal: an existing file, a symlink to a root-only file, a symlinked
#    parent directory, a FIFO: exit 2, nothing created or changed, no table;
#  - created directories are 0750 and the journal 0640, whatever the umask;
#  - a second okx-faultd given a running drill's journal: exit 2, and the
#    running drill's journal stays byte for byte its own;
#  - the default path: names already taken get a "-2" suffix, not a collision;
#  - a filesystem that fills up mid-drill (a 64 KiB tmpfs in a private
#    mount namespace, filled with dd): exit 1, faults removed, "incomplete"
#    on stderr, every line of the journal whole JSON;
#  - a policy path that is not UTF-8 is journaled with \ufffd;
#  - policy: a FIFO is refused at once (exit 2, located); <(cat p) journals
#    the SHA-256 of the bytes parsed.
set -u
. "$TOP/tests/lib/netns.sh"
lab_init files
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120

mkpol() { # NAME FAULT-LINES... > $LAB_TMP/NAME.policy
	local n=$1
	shift
	{
		printf 'name = %s\ntarget = 198.18.0.2\nport = 8443\narm_min_flows = 0\n' "$n"
		printf '%s\n' "$@"
	} >"$LAB_TMP/$n.policy"
}
table_gone() { ! in_cli nft list tables | grep -q okx_faultd; }
refused() { # DESC PATH: -j PATH is exit 2 with MSG, no table, nothing journaled
	local desc=$1 path=$2 msg=$3
	out=$(in_cli timeout 20 "$OKX_FAULTD" -j "$path" "$LAB_TMP/short.policy" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "$desc: exit $rc, want 2 ($out)"
	grep -qF "$msg" <<<"$out" || fail "$desc: message: $out"
	table_gone || fail "$desc: table left"
	note "$desc: $out"
}
mkpol short 'fault = drop 100ms'

# --- journal paths that are refused -------------------------------------
pub="$LAB_TMP/pub"
mkdir -m 1777 "$pub"
mkdir -m 700 "$LAB_TMP/rootonly"
printf 'secret\n' >"$LAB_TMP/rootonly/shadow"
chmod 600 "$LAB_TMP/rootonly/shadow"
cp -p "$LAB_TMP/rootonly/shadow" "$LAB_TMP/shadow.orig"

ln -s "$LAB_TMP/rootonly/shadow" "$pub/drill.jsonl"
refused "symlink" "$pub/drill.jsonl" "the path exists"
cmp -s "$LAB_TMP/rootonly/shadow" "$LAB_TMP/shadow.orig" || fail "symlink: its target was written"

ln -s "$LAB_TMP/rootonly/nothing-yet" "$pub/dangling.jsonl"
refused "dangling symlink" "$pub/dangling.jsonl" "the path exists"
[ -e "$LAB_TMP/rootonly/nothing-yet" ] && fail "dangling symlink: its target was created"

ln -s "$LAB_TMP/rootonly" "$pub/sub"
refused "symlinked parent" "$pub/sub/deep/x.jsonl" "a directory on the path is a symbolic link"
[ -e "$LAB_TMP/rootonly/deep" ] && fail "symlinked parent: a directory was created behind the link"

printf '{"event":"start"}\n' >"$pub/theirs.jsonl"
chmod 666 "$pub/theirs.jsonl"
cp -p "$pub/theirs.jsonl" "$LAB_TMP/theirs.orig"
refused "existing file" "$pub/theirs.jsonl" "the path exists"
cmp -s "$pub/theirs.jsonl" "$LAB_TMP/theirs.orig" || fail "existing file: changed"

mkfifo "$pub/fifo.jsonl"
refused "FIFO journal" "$pub/fifo.jsonl" "the path exists"

# --- modes -----------------------------------------------------------------
for m in 077 000; do
	J="$LAB_TMP/m$m/a/b/j.jsonl"
	(umask $m && in_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/short.policy") || fail "umask $m: drill failed"
	modes="$(stat -c %a "$LAB_TMP/m$m/a") $(stat -c %a "$LAB_TMP/m$m/a/b") $(stat -c %a "$J")"
	[ "$modes" = "750 750 640" ] || fail "umask $m: modes $modes, want 750 750 640"
	[ "$(stat -c %u "$J")" = 0 ] || fail "umask $m: journal not owned by root"
done
note "modes: directories 750, journal 640 (umask 077 and 000)"

# --- a second okx-faultd on a running drill's journal ----------------------
mkpol long 'fault = drop 3s'
J="$LAB_TMP/first.jsonl"
bg_cli "$OKX_FAULTD" -q -j "$J" "$LAB_TMP/long.policy"
D=$!
wait_for "the first drill's fault to begin" journal_has "$J" fault_begin
cp "$J" "$LAB_TMP/first.snap"
out=$(in_cli "$OKX_FAULTD" -j "$J" "$LAB_TMP/long.policy" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "same journal: exit $rc, want 2 ($out)"
grep -qF "the path exists" <<<"$out" || fail "same journal: message: $out"
cmp -s "$J" "$LAB_TMP/first.snap" || fail "same journal: the first drill's journal changed"
in_cli nft list set inet okx_faultd on0 | grep -q elements || fail "same journal: the first drill was disturbed"
wait $D || fail "first drill failed"
python3 "$TOP/tests/lib/journal.py" "$J" check --outcome completed --exit 0 --windows 1 --tolerance-ms 100000 ||
	fail "first drill's journal"
note "second okx-faultd on the same journal: refused, first journal intact"

# --- the default path in a private mount namespace -------------------------
# /var/lib is a tmpfs there; the names of this second and the next five are
# taken, so the drill must find a free one without touching them.
mkpol samename 'fault = drop 50ms'
ip netns exec "$LAB_PREFIX-cli" unshare -m --propagation private bash -c '
	set -e
	mount -t tmpfs okxt-varlib /var/lib
	mkdir -m 750 /var/lib/okx-faultd
	now=$(date +%s)
	for i in 0 1 2 3 4 5; do
		: > "/var/lib/okx-faultd/samename-$(date -u -d @$((now + i)) +%Y%m%dT%H%M%SZ).jsonl"
	done
	"$1" -q "$2"
	cd /var/lib/okx-faultd
	for f in *; do printf "%s %s\n" "$f" "$(stat -c %s "$f")"; done > "$3/default.ls"
	cat ./*-2.jsonl > "$3/default.jsonl"
' _ "$OKX_FAULTD" "$LAB_TMP/samename.policy" "$LAB_TMP" || fail "default path: drill failed"
[ "$(grep -c ' 0$' "$LAB_TMP/default.ls")" = 6 ] || fail "default path: a taken name was written: $(cat "$LAB_TMP/default.ls")"
grep -qE '^samename-[0-9]{8}T[0-9]{6}Z-2\.jsonl [1-9]' "$LAB_TMP/default.ls" ||
	fail "default path: no -2 journal: $(cat "$LAB_TMP/default.ls")"
python3 "$TOP/tests/lib/journal.py" "$LAB_TMP/default.jsonl" check --outcome completed --exit 0 --windows 1 \
	--tolerance-ms 100000 || fail "default path journal"
note "default path: taken names left alone, $(grep -- '-2\.jsonl' "$LAB_TMP/default.ls" | cut -d' ' -f1) written"

# --- a journal that fills its filesystem mid-drill -------------------------
# A 64 KiB tmpfs mounted in a private mount namespace held by a sleeping
# process; its files are reached from here through /proc/PID/root. Once the
# first fault is live the rest of the filesystem is filled: the journal's
# next page cannot be had and a write fails (ENOSPC), possibly after a
# short write into the page it already has.
M="$LAB_TMP/full"
mkdir "$M"
unshare -m --propagation private sh -c 'mount -t tmpfs -o size=64k okxt-full "$1" && echo mounted && exec sleep 300' \
	_ "$M" >"$LAB_TMP/holder.out" &
H=$!
LAB_PIDS+=($H)
wait_for "the tmpfs to be mounted" log_has "$LAB_TMP/holder.out" mounted
MJ="/proc/$H/root$M/j.jsonl"
mkpol full 'fault = drop 50ms' 'fault = pause 50ms' 'repeat = 300'
nsenter -t $H -m ip netns exec "$LAB_PREFIX-cli" "$OKX_FAULTD" -j "$M/j.jsonl" "$LAB_TMP/full.policy" \
	2>"$LAB_TMP/full.log" &
D=$!
LAB_PIDS+=($D)
wait_for "the first fault of the full-disk drill" journal_has "$MJ" fault_begin
dd if=/dev/zero of="/proc/$H/root$M/fill" bs=4k 2>/dev/null && fail "the tmpfs did not fill up"
wait_for -t 30 "the full-disk drill to end" sh -c "! kill -0 $D"
wait $D
rc=$?
[ $rc -eq 1 ] || fail "full disk: exit $rc, want 1 ($(cat "$LAB_TMP/full.log"))"
log_has "$LAB_TMP/full.log" "journal .*j\.jsonl is incomplete: writing '[a-z_]+' failed: No space left on device" ||
	fail "full disk: stderr does not say the journal is incomplete: $(cat "$LAB_TMP/full.log")"
table_gone || fail "full disk: table left"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "full disk: traffic still faulted"
python3 - "$MJ" <<'PY' || fail "full disk: the journal has a partial line"
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "no newline at the end: %r" % data[-80:]
lines = data.decode("utf-8").splitlines()
evs = [json.loads(l)["event"] for l in lines]
assert evs[0] == "start" and "end" not in evs, evs
print("# full disk: %d whole lines (%d bytes), last %s" % (len(lines), len(data), evs[-1]))
PY
note "full disk: $(grep -m1 incomplete "$LAB_TMP/full.log")"

# --- a policy path that is not UTF-8 ---------------------------------------
P8="$LAB_TMP/p"$'\xff'".policy"
cp "$LAB_TMP/short.policy" "$P8"
J="$LAB_TMP/utf8.jsonl"
in_cli "$OKX_FAULTD" -q -j "$J" "$P8" || fail "non-UTF-8 policy path: drill failed"
python3 - "$J" <<'PY' || fail "non-UTF-8 policy path: journal is not UTF-8 JSON with \\ufffd"
import json, sys
start = json.loads(open(sys.argv[1], "rb").read().decode("utf-8").splitlines()[0])
assert start["policy"].endswith("/p\ufffd.policy"), start["policy"]
PY

# --- policy files ---------------------------------------------------------
mkfifo "$LAB_TMP/p.fifo"
for mode in run check; do
	args=(-j "$LAB_TMP/fifo-run.jsonl")
	[ $mode = check ] && args=(--check)
	out=$(in_cli timeout 20 "$OKX_FAULTD" "${args[@]}" "$LAB_TMP/p.fifo" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "FIFO policy ($mode): exit $rc, want 2 (124: it hung) ($out)"
	[ "$out" = "$LAB_TMP/p.fifo: not a regular file (a FIFO): a policy must be a file or a pipe" ] ||
		fail "FIFO policy ($mode): message: $out"
done
table_gone || fail "FIFO policy: table left"

J="$LAB_TMP/piped.jsonl"
in_cli bash -c '"$1" -q -j "$2" <(cat "$3")' _ "$OKX_FAULTD" "$J" "$LAB_TMP/short.policy" ||
	fail "policy from <(cat p): drill failed"
want=$(sha256sum "$LAB_TMP/short.policy" | cut -d' ' -f1)
got=$(python3 "$TOP/tests/lib/journal.py" "$J" get 'ev["start"][0]["policy_sha256"]')
[ "$got" = "$want" ] || fail "policy from <(cat p): policy_sha256 $got, want $want"
note "policy from <(cat p): policy_sha256 is that of the bytes parsed"
echo "files OK"
