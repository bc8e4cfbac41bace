#!/usr/bin/env bash
# deploy/ansible: drill.yml and report.yml pass ansible-playbook
# --syntax-check against the example inventory, which ansible-inventory
# reads; ansible-lint passes its production profile on the playbooks and
# the role; the role's policy template renders the default policy, a
# list-valued key, a group's own policy and a policy file (okx_faultd_policy_src)
# into policies okx-faultd --check accepts. The drill itself:
# tests/fleet/ansible_drill.sh.
set -u
. "$TOP/tests/lib/netns.sh"
need_tool ansible-playbook ansible
need_tool ansible-inventory ansible
need_tool ansible-lint
A=$TOP/deploy/ansible
d=$(mktemp -d /tmp/okxt-ansible.XXXXXX)
trap 'rm -rf "$d"' EXIT
# nothing in the user's home: ansible and ansible-lint keep state there
export HOME=$d/home ANSIBLE_LOCAL_TEMP=$d/home/tmp ANSIBLE_REMOTE_TEMP=$d/home/remote-tmp
export ANSIBLE_CONFIG=$A/ansible.cfg ANSIBLE_NOCOLOR=1 NO_COLOR=1
mkdir -p "$HOME"
cd "$A" || fail "no deploy/ansible"

for pb in drill.yml report.yml; do
	out=$(ansible-playbook --syntax-check -i inventory.example.yml "$pb" 2>&1) || { echo "$out"; fail "syntax-check $pb"; }
	note "ansible-playbook --syntax-check $pb: OK"
done
ansible-inventory -i inventory.example.yml --list >"$d/inv.json" 2>"$d/inv.err" || { cat "$d/inv.err"; fail "ansible-inventory"; }
python3 - "$d/inv.json" <<'EOF' || fail "the example inventory"
import json, sys
inv = json.load(open(sys.argv[1]))
hosts = set()
for g in inv["okx_fleet"]["children"]:
    hosts |= set(inv[g]["hosts"])
assert hosts == {"conn-tokyo-1", "conn-tokyo-2", "conn-fra-1"}, hosts
hv = inv["_meta"]["hostvars"]
assert hv["conn-fra-1"]["okx_faultd_policy"]["name"] == "c2_3_reject", "a group's own policy"
assert hv["conn-tokyo-1"]["okx_faultd_policy"]["name"] == "c2_3_degradation"
EOF

ansible-lint -p drill.yml report.yml roles/okx_faultd >"$d/lint" 2>&1
rc=$?
sed 's/^/    | /' "$d/lint" | tail -20
[ $rc = 0 ] || fail "ansible-lint (production profile): exit $rc"
grep -q 'Passed with production profile: 0 failure(s), 0 warning(s)' "$d/lint" || fail "ansible-lint did not pass cleanly"

# render ROLE-VARS-FILE NAME: the role's template with its defaults and
# the given variables, on localhost, into $d/NAME.policy
render() {
	ansible localhost -i localhost, -c local -m ansible.builtin.template \
		-a "src=$A/roles/okx_faultd/templates/drill.policy.j2 dest=$d/$2.policy mode=0600" \
		-e "@$A/roles/okx_faultd/defaults/main.yml" -e "@$1" \
		-e "okx_faultd_journal=$d/journal/$2.jsonl" >"$d/render.log" 2>&1 || { cat "$d/render.log"; fail "render $2"; }
	out=$("$OKX_FAULTD" --check "$d/$2.policy" 2>&1) || { cat "$d/$2.policy"; fail "okx-faultd --check $2: $out"; }
}
echo '{}' >"$d/none.json"
render "$d/none.json" default
grep -qx 'name = c2_3_degradation' "$d/default.policy" || fail "default policy: no name"
grep -qx 'fault = drop 90s' "$d/default.policy" || fail "default policy: fault"
grep -qx "journal = $d/journal/default.jsonl" "$d/default.policy" || fail "default policy: journal"
cat >"$d/list.json" <<'EOF'
{"okx_faultd_policy": {"name": "flap", "target": ["198.18.0.2", "198.18.0.3"], "port": 443,
 "fault": ["drop 2s", "pause 1s", "reject 2s with=tcp-reset"], "repeat": 3}}
EOF
render "$d/list.json" list
[ "$(grep -c '^target = ' "$d/list.policy")" = 2 ] || fail "list policy: two targets"
[ "$(grep '^fault = ' "$d/list.policy" | tr '\n' '|')" = "fault = drop 2s|fault = pause 1s|fault = reject 2s with=tcp-reset|" ] ||
	fail "list policy: faults in order"
out=$("$OKX_FAULTD" --check -v "$d/list.policy" 2>&1) && grep -q 'repeat = 3' <<<"$out" || fail "list policy: repeat: $out"
printf 'name = from_file\ntarget = {{ okx_lab_target }}\nfault = drop 1s\n' >"$d/src.policy.j2"
printf '{"okx_faultd_policy_src": "%s", "okx_lab_target": "198.18.0.9"}\n' "$d/src.policy.j2" >"$d/src.json"
render "$d/src.json" src
grep -qx 'target = 198.18.0.9' "$d/src.policy" || fail "policy file: the template was not expanded"
grep -qx 'name = from_file' "$d/src.policy" && ! grep -q '^name = c2_3' "$d/src.policy" ||
	fail "policy file: not the file's policy"
echo "ansible OK: syntax, lint, inventory, policy template"
