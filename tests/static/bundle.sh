#!/usr/bin/env bash
# okx-faultctl bundle and verify (okx-faultctl(1), BUNDLE) on the
# tests/data fixtures: the archive lists its members in order (tar -tzf),
# the reports in it are what correlate prints, verify passes on it and on
# an unchanged copy repacked with tar, and fails (exit 1) on tampered
# copies repacked with tar (a changed byte, an extra member, a symlink, a
# '..' path); exit 2 for what cannot be read or written (an existing or
# input -o, a write past the file size limit leaves no file). libarchive
# is linked into okx-faultctl only: the daemon does not gain it (ldd).
# Exit 0 pass, 1 fail (see tests/run.sh).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${OKX_FAULTCTL:-$TOP/build/san/okx-faultctl}
D=$TOP/tests/data
. "$TOP/tests/lib/netns.sh"
need_tool tar
need_tool python3
[ -x "$BIN" ] || fail "$BIN is not built (make build-tests)"
tmp=$(mktemp -d /tmp/okx-bundle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
checks=0

# run WANT_RC NAME ARGS...: output in $tmp/NAME.out and .err
run() {
	local want=$1 name=$2 rc
	shift 2
	checks=$((checks + 1))
	"$BIN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	[ "$rc" = "$want" ] || { cat "$tmp/$name.out" "$tmp/$name.err"; fail "$name: exit $rc, want $want (okx-faultctl $*)"; }
}

has() {
	checks=$((checks + 1))
	grep -qF -- "$3" "$tmp/$1.$2" || { sed 's/^/    | /' "$tmp/$1.$2"; fail "$1: $2 lacks: $3"; }
}

# --- the daemon does not link libarchive; okx-faultctl does ---
need_tool ldd libc-bin
for prog in "$TOP/okx-faultd" "$(dirname "$BIN")/okx-faultd"; do
	[ -x "$prog" ] || fail "$prog is not built (make build-tests)"
	! ldd "$prog" | grep -q libarchive || fail "$prog links libarchive: $(ldd "$prog" | grep libarchive)"
	checks=$((checks + 1))
done
ldd "$BIN" | grep -q 'libarchive\.so' || fail "$BIN does not link libarchive"

# --- a bundle of the fixtures ---
J=$D/lab_drill.jsonl E=$D/lab_drill_events.json B=$tmp/out/drill.tar.gz
run 0 bundle bundle --journal "$J" --events "$E" -o "$B"
has bundle out "bundle   $B: 5 members and MANIFEST.json"
has bundle out "sha256   $(sha256sum "$B" | cut -d' ' -f1)"
has bundle out "drill    e2e_ctl (okx-faultd 0.1.0, git e4bd69c9be75-dirty), policy sha256 63069d5b5cbe9af2012831ce4c748b1674b92ccfb24599d4517e5cd06e38bd23"
has bundle out "verdict  PASS: "
[ "$(stat -c %a "$B")" = 640 ] || fail "bundle mode $(stat -c %a "$B"), want 640"
tar -tzf "$B" >"$tmp/list" || fail "tar -tzf $B"
printf '%s\n' MANIFEST.json journal.jsonl events.json report.txt report.json timeline.svg | cmp -s - "$tmp/list" ||
	fail "tar -tzf lists: $(tr '\n' ' ' <"$tmp/list")"
{ mkdir "$tmp/x" && tar -xzf "$B" -C "$tmp/x"; } || fail "tar -xzf $B"
cmp -s "$J" "$tmp/x/journal.jsonl" || fail "journal.jsonl differs from $J"
cmp -s "$E" "$tmp/x/events.json" || fail "events.json differs from $E"
# the reports are correlate's own, byte for byte
run 0 corr correlate --journal "$J" --events "$E" --svg "$tmp/corr.svg"
run 0 corr_json correlate --journal "$J" --events "$E" --json
cmp -s "$tmp/corr.out" "$tmp/x/report.txt" || fail "report.txt is not correlate's text report"
cmp -s "$tmp/corr_json.out" "$tmp/x/report.json" || fail "report.json is not correlate --json"
cmp -s "$tmp/corr.svg" "$tmp/x/timeline.svg" || fail "timeline.svg is not correlate --svg"
# the manifest: each member's size and sha256, the drill from the journal
python3 - "$tmp/x" <<'EOF' || fail "MANIFEST.json (see above)"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(f"{d}/MANIFEST.json"))
assert m["format"] == "okx-faultd-bundle" and m["version"] == 1, m
start = json.loads(open(f"{d}/journal.jsonl").readline())
for k, jk in (("name", "name"), ("okx_faultd_version", "version"), ("git_commit", "git_commit"),
              ("policy", "policy"), ("policy_sha256", "policy_sha256")):
    assert m["drill"][k] == start[jk], (k, m["drill"][k], start[jk])
assert m["okx_faultctl"]["version"] == "0.1.0", m["okx_faultctl"]
assert m["gate"]["pass"] is True and m["grace_ms"] == 5000, m
names = [e["name"] for e in m["members"]]
assert names == ["journal.jsonl", "events.json", "report.txt", "report.json", "timeline.svg"], names
for e in m["members"]:
    data = open(f"{d}/{e['name']}", "rb").read()
    assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
EOF
checks=$((checks + 1))

run 0 verify verify "$B"
has verify out "journal.jsonl        1980 bytes  sha256 6e08403e5a94800b5c183d93fd4af9a6971e3fbe7522be42210afe28a4d130fe  ok"
has verify out "drill e2e_ctl: okx-faultd 0.1.0 (git e4bd69c9be75-dirty), policy sha256 63069d5b5cbe9af2012831ce4c748b1674b92ccfb24599d4517e5cd06e38bd23: as in the journal's start event"
has verify out "$B: intact: 6 members, each as listed in MANIFEST.json"

# JSON Lines events are events.jsonl; a failed gate is still a bundle, exit 0
run 0 bundle_fail bundle --journal "$J" --events "$D/events_gap.jsonl" --grace 0s -o "$tmp/fail.tar.gz"
has bundle_fail out "verdict  FAIL: "
tar -tzf "$tmp/fail.tar.gz" | grep -qx events.jsonl || fail "no events.jsonl in $tmp/fail.tar.gz"
run 0 verify_fail verify "$tmp/fail.tar.gz"

# --- repacked with tar: unchanged verifies, tampered does not ---
members=(MANIFEST.json journal.jsonl events.json report.txt report.json timeline.svg)
repack() { tar -czf "$tmp/$1.tar.gz" -C "$tmp/x" "${@:2}" || fail "tar -czf $1"; }
repack same "${members[@]}"
run 0 verify_same verify "$tmp/same.tar.gz"

printf 'X' | dd of="$tmp/x/report.txt" bs=1 seek=0 conv=notrunc status=none
repack byte "${members[@]}"
run 1 verify_byte verify "$tmp/byte.tar.gz"
has verify_byte err "byte.tar.gz: member 'report.txt': sha256 "
has verify_byte err "byte.tar.gz: NOT intact: 1 problem"
tar -xzf "$B" -C "$tmp/x" report.txt

echo "added later" >"$tmp/x/notes.txt"
repack extra "${members[@]}" notes.txt
run 1 verify_extra verify "$tmp/extra.tar.gz"
has verify_extra err "member 'notes.txt' is not in MANIFEST.json"

repack missing "${members[@]:0:5}"
run 1 verify_missing verify "$tmp/missing.tar.gz"
has verify_missing err "member 'timeline.svg' is missing (listed in MANIFEST.json)"

mv "$tmp/x/report.txt" "$tmp/x/report.real" && ln -s report.real "$tmp/x/report.txt"
repack link "${members[@]}"
run 1 verify_link verify "$tmp/link.tar.gz"
has verify_link err "member 'report.txt' is a symbolic link (to 'report.real'); members are regular files"
rm "$tmp/x/report.txt" && mv "$tmp/x/report.real" "$tmp/x/report.txt"

# a '..' member: GNU tar will not write one as given; Python's tarfile does
python3 - "$tmp/x" "$tmp/dotdot.tar.gz" <<'EOF' || fail "writing dotdot.tar.gz"
import sys, tarfile
d, out = sys.argv[1:]
with tarfile.open(out, "w:gz") as t:
    for n in ["MANIFEST.json", "journal.jsonl", "events.json", "report.txt", "report.json", "timeline.svg"]:
        t.add(f"{d}/{n}", arcname=n)
    t.add(f"{d}/journal.jsonl", arcname="../journal.jsonl")
EOF
run 1 verify_dotdot verify "$tmp/dotdot.tar.gz"
has verify_dotdot err "member '../journal.jsonl': a path with '..'"

sed -i 's/"git_commit":\t"e4bd69c9be75-dirty"/"git_commit":\t"000000000000"/' "$tmp/x/MANIFEST.json"
repack manifest "${members[@]}"
run 1 verify_manifest verify "$tmp/manifest.tar.gz"
has verify_manifest err "MANIFEST.json: drill.git_commit is '000000000000', the journal's start event says 'e4bd69c9be75-dirty'"

# --- exit 2: unreadable, bad usage, an output it will not write ---
run 2 verify_none verify "$tmp/none.tar.gz"
has verify_none err "none.tar.gz: No such file or directory"
run 2 verify_text verify "$J"
has verify_text err "lab_drill.jsonl: "
run 2 verify_usage verify
run 2 bundle_exists bundle --journal "$J" --events "$E" -o "$B"
has bundle_exists err "-o $B: exists; refusing to overwrite it"
run 2 bundle_input bundle --journal "$J" --events "$E" -o "$E"
has bundle_input err "that is an input file"
run 2 bundle_no_o bundle --journal "$J" --events "$E"
has bundle_no_o err "bundle: --journal, --events and -o are required"
run 2 bundle_bad_journal bundle --journal "$D/bad_json.jsonl" --events "$E" -o "$tmp/bad.tar.gz"
[ ! -e "$tmp/bad.tar.gz" ] || fail "a bundle was written from a bad journal"
# a write that fails (past `ulimit -f`: EFBIG) leaves no file
checks=$((checks + 1))
(trap '' XFSZ; ulimit -f 2; exec "$BIN" bundle --journal "$J" --events "$E" -o "$tmp/big.tar.gz") \
	>"$tmp/big.out" 2>"$tmp/big.err"
rc=$?
[ $rc = 2 ] || { cat "$tmp/big.err"; fail "bundle past ulimit -f: exit $rc, want 2"; }
has big err "big.tar.gz: writing the archive: "
[ ! -e "$tmp/big.tar.gz" ] || fail "a failed write left $tmp/big.tar.gz"

echo "bundle OK: $checks checks"
