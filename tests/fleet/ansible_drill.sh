#!/usr/bin/env bash
# One drill across a fleet of hosts, through the real ansible-playbook over
# SSH (deploy/ansible/drill.yml), on one machine.
#
# Every "host" is a network namespace on a lab bridge (198.18.0.0/24, no
# route out) running its own sshd (a throwaway config, host key and root
# key in the test's folder) and its own connector simulator calling a
# shared simulated OKX (okx_sim, 198.18.0.2:8443, a namespace of its own).
# The controller, in a namespace of its own, runs ansible-playbook against
# an inventory of the lab addresses. The hosts share this machine's files,
# so the package is not installed (okx_faultd_install: false, the built
# okx-faultd at okx_faultd_bin; tests/static/deb.sh tests the package) and
# every path is the host's own folder under the test's.
#
#   alpha, bravo  connectors that record network errors          -> pass
#                 (bravo has a policy of its own: host vars)
#   charlie       connector with --no-net-errors                  -> fail, telemetry gap
#   delta         its sshd is down                                -> absent, unreachable
#   echo          connector in a long warm-up: no call, arm timeout -> fail, no window
#   foxtrot       a policy okx-faultd --check refuses             -> absent, failed to start
#   golf          a 30 s drop, the role's timeout 8 s: stopped by its stop file,
#                 the window closed and judged                    -> pass, outcome aborted
#
# Run A (all six): the play fails (the CI gate), the fleet verdict names the
# four, the others' evidence is all there: journals from each host's own
# namespace (the trigger's source is the host's address), events, the
# correlation, a bundle that verifies, one SVG lane per host. Run B (--limit alpha,bravo): exit 0,
# the fleet passes. OKX_FLEET_KEEP=1 keeps the test's folder (inventory,
# ansible-playbook's output, the evidence) for a look after the run.
set -u
. "$TOP/tests/lib/netns.sh"
need_root
need_tool ansible-playbook ansible
need_tool /usr/sbin/sshd openssh-server
need_tool ssh-keygen openssh-client
need_tool python3
for b in "$OKX_FAULTD" "$OKX_FAULTCTL" "$LAB/okx_sim" "$LAB/connector_sim" "$LAB/netprobe"; do
	[ -x "$b" ] || fail "$b is not built (make build-tests)"
done

P="okxt-fl-$$"
T=$(mktemp -d /tmp/okxt-fleet.XXXXXX)
HOSTS=(alpha bravo charlie delta echo foxtrot golf)
declare -A ADDR=([okx]=198.18.0.2 [ctl]=198.18.0.10 [alpha]=198.18.0.11 [bravo]=198.18.0.12
	[charlie]=198.18.0.13 [delta]=198.18.0.14 [echo]=198.18.0.15 [foxtrot]=198.18.0.16 [golf]=198.18.0.17)
NAMESPACES=()
MADE_RUN_SSHD=""

# Every process in the lab's namespaces (sshd, the connectors, okx_sim,
# and whatever ansible started there: okx-faultd, async wrappers) is
# killed; the namespaces go, and okx-faultd's owned table with them.
fleet_cleanup() {
	local ns p
	exec 2>/dev/null # not bash's "Killed" line for each server
	for ns in "${NAMESPACES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	{ wait; } 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[ -n "$MADE_RUN_SSHD" ] && rmdir /run/sshd 2>/dev/null
	if [ -n "${OKX_FLEET_KEEP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
	return 0
}
trap fleet_cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

# --- the lab: a bridge, one namespace per host, OKX, the controller ------
ip netns add "$P-lan" || fail "ip netns add $P-lan"
NAMESPACES+=("$P-lan")
ip -n "$P-lan" link add br0 type bridge || fail "bridge"
ip -n "$P-lan" link set br0 up
for n in okx ctl "${HOSTS[@]}"; do
	ip netns add "$P-$n" || fail "ip netns add $P-$n"
	NAMESPACES+=("$P-$n")
	ip -n "$P-$n" link set lo up
	ip link add eth0 netns "$P-$n" type veth peer name "v-$n" netns "$P-lan" || fail "veth for $n"
	ip -n "$P-lan" link set "v-$n" master br0 up
	ip -n "$P-$n" addr add "${ADDR[$n]}/24" dev eth0
	ip -n "$P-$n" link set eth0 up
done

ip netns exec "$P-okx" "$LAB/okx_sim" --listen "${ADDR[okx]}:8443" --max-seconds 900 2>"$T/okx_sim.log" &
wait_for "okx_sim to answer" in_ns ctl "$LAB/netprobe" tcp "${ADDR[okx]}" 8443 --timeout-ms 200

# --- sshd per host (delta's never starts) -------------------------------
[ -d /run/sshd ] || { mkdir -m 0755 /run/sshd && MADE_RUN_SSHD=1; } # sshd's privilege separation folder
ssh-keygen -q -t ed25519 -N '' -C fleet-test -f "$T/id_ed25519" || fail "ssh-keygen"
: >"$T/known_hosts"
for h in "${HOSTS[@]}"; do
	d=$T/hosts/$h
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$d/ssh_host_key" || fail "ssh-keygen $h"
	echo "${ADDR[$h]} $(cut -d' ' -f1-2 "$d/ssh_host_key.pub")" >>"$T/known_hosts"
	# StrictModes no: the keys live under /tmp, which anyone may write
	cat >"$d/sshd_config" <<-EOF
		ListenAddress ${ADDR[$h]}:22
		HostKey $d/ssh_host_key
		PidFile none
		AuthorizedKeysFile $T/id_ed25519.pub
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		AcceptEnv none
	EOF
	[ "$h" = delta ] && continue
	ip netns exec "$P-$h" /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/sshd.log" &
	wait_for "$h's sshd to listen" log_has "$d/sshd.log" "Server listening on ${ADDR[$h]} port 22"
done

# --- the connectors: each writes its events when told (SIGTERM) ---------
# start_connector HOST RUN [ARGS]: its pid in the host's connector.pid,
# which okx_faultd_events_command reads
start_connector() {
	local h=$1 run=$2
	shift 2
	# ip netns exec, not in_ns: $! must be the connector itself
	ip netns exec "$P-$h" "$LAB/connector_sim" --url "http://${ADDR[okx]}:8443/api/v5/public/time" --rate-ms 200 \
		--timeout-ms 1000 --duration 600s --fresh --out "$T/hosts/$h/events-$run.json" "$@" \
		>"$T/hosts/$h/connector-$run.out" 2>&1 &
	echo $! >"$T/hosts/$h/connector.pid"
}

# --- the inventory --------------------------------------------------------
cat >"$T/inventory.yml" <<EOF
all:
  vars:
    okx_fleet_out: $T/out
    okx_fleet_faultctl: $OKX_FAULTCTL
    okx_fleet_grace: 2
okx_fleet:
  hosts:
$(for h in "${HOSTS[@]}"; do printf '    %s:\n      ansible_host: %s\n' "$h" "${ADDR[$h]}"; done)
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: $T/id_ed25519
    ansible_ssh_common_args: >-
      -F /dev/null -o UserKnownHostsFile=$T/known_hosts -o GlobalKnownHostsFile=/dev/null
      -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ConnectTimeout=10
    ansible_python_interpreter: /usr/bin/python3
    okx_lab_dir: "$T/hosts/{{ inventory_hostname }}"
    ansible_remote_tmp: "{{ okx_lab_dir }}/ansible-tmp"
    ansible_async_dir: "{{ okx_lab_dir }}/ansible-async"
    okx_faultd_become: false
    okx_faultd_install: false
    # the built okx-faultd in the background, even where systemd runs this
    # machine and an installed okx-faultd@.service would be found
    okx_faultd_systemd: false
    okx_faultd_bin: $OKX_FAULTD
    okx_faultd_policy_dir: "{{ okx_lab_dir }}/etc"
    okx_faultd_journal_dir: "{{ okx_lab_dir }}/journal"
    # one control socket directory per "host": they share this filesystem
    okx_faultd_control_dir: "{{ okx_lab_dir }}/run"
    okx_faultd_events_path: "{{ okx_lab_dir }}/events-{{ okx_fleet_run }}.json"
    okx_faultd_events_command: kill -TERM \$(cat {{ okx_lab_dir }}/connector.pid)
    okx_faultd_events_timeout: 20
    okx_faultd_grace: 2
    okx_faultd_poll: 1
    okx_faultd_timeout: 90
    okx_faultd_policy:
      name: fleet_lab
      target: ${ADDR[okx]}
      port: 8443
      arm_min_calls: 3
      arm_min_flows: 1
      arm_delay: 1s
      arm_timeout: 60s
      fault: [drop 3s, pause 1s, reject 2s with=tcp-reset]
EOF
mkdir -p "$T/host_vars"
cat >"$T/host_vars/bravo.yml" <<EOF
okx_faultd_policy:
  name: fleet_lab_bravo
  target: ${ADDR[okx]}
  port: 8443
  arm_min_calls: 3
  arm_min_flows: 1
  arm_timeout: 60s
  fault: [reject 3s with=tcp-reset]
EOF
cat >"$T/host_vars/echo.yml" <<EOF
okx_faultd_policy:
  name: fleet_lab
  target: ${ADDR[okx]}
  port: 8443
  arm_min_calls: 3
  arm_timeout: 8s
  fault: [drop 3s]
EOF
cat >"$T/host_vars/golf.yml" <<EOF
okx_faultd_timeout: 8
okx_faultd_policy:
  name: fleet_lab_long
  target: ${ADDR[okx]}
  port: 8443
  arm_min_calls: 3
  arm_min_flows: 1
  arm_timeout: 60s
  fault: [drop 30s]
EOF
cat >"$T/host_vars/foxtrot.yml" <<EOF
okx_faultd_policy:
  name: fleet_lab
  target: ${ADDR[okx]}
  colour: blue
  fault: [drop 3s]
EOF

# playbook RUN ARGS...: ansible-playbook in the controller's namespace,
# its HOME in the test's folder; output in $T/RUN.log, status in $PB_RC
playbook() {
	local run=$1 t0=${EPOCHREALTIME%.*}
	shift
	mkdir -p "$T/ctl-home"
	# ANSIBLE_REMOTE_TEMP: the controller's own (delegated) tasks keep out
	# of root's home too
	in_ns ctl env HOME="$T/ctl-home" ANSIBLE_CONFIG="$TOP/deploy/ansible/ansible.cfg" ANSIBLE_NOCOLOR=1 \
		ANSIBLE_LOCAL_TEMP="$T/ctl-home/tmp" ANSIBLE_REMOTE_TEMP="$T/ctl-home/remote-tmp" timeout -k 10 420 \
		ansible-playbook -i "$T/inventory.yml" "$TOP/deploy/ansible/drill.yml" -e "okx_fleet_run=$run" "$@" \
		</dev/null >"$T/$run.log" 2>&1
	PB_RC=$?
	note "run $run: ansible-playbook exit $PB_RC after $((${EPOCHREALTIME%.*} - t0)) s"
}

# jq-like checks on a JSON file: python3 - FILE <<'EOF' ... EOF, with the
# document as d; the script fails with its message
check_json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1" || fail "$3"; }

# --- run A: the whole fleet ----------------------------------------------
for h in alpha bravo golf; do start_connector "$h" runA; done
start_connector charlie runA --no-net-errors
start_connector echo runA --warmup 600s
playbook runA
O=$T/out/runA
[ -f "$O/fleet.json" ] || { tail -60 "$T/runA.log"; fail "run A wrote no fleet.json"; }
[ "$PB_RC" != 0 ] || { tail -40 "$T/runA.log"; fail "run A: ansible-playbook exit 0 although the fleet fails"; }
sed 's/^/    | /' "$O/fleet.txt"

grep -qx 'verdict  FAIL: 4 of 7 hosts fail: charlie (fail), delta (absent), echo (fail), foxtrot (absent)' "$O/fleet.txt" ||
	fail "fleet verdict: $(grep '^verdict' "$O/fleet.txt")"
grep -q 'fatal: \[localhost\]: FAILED!' "$T/runA.log" && grep -q '"msg": "verdict  FAIL: 4 of 7 hosts fail' "$T/runA.log" ||
	fail "the play's gate did not fail with the fleet's verdict"
grep -Eq '^delta +: .*failed=1' "$T/runA.log" || fail "delta not failed in the play recap"
grep -Eq '^foxtrot +: .*failed=1' "$T/runA.log" || fail "foxtrot not failed in the play recap"
check_json "$O/fleet.json" '
v = {h["name"]: h for h in d["hosts"]}
assert [h["name"] for h in d["hosts"]] == ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"], v.keys()
assert d["gate"]["pass"] is False and d["gate"]["failing_hosts"] == ["charlie", "delta", "echo", "foxtrot"], d["gate"]
for h, want in (("alpha", "pass"), ("bravo", "pass"), ("charlie", "fail"), ("delta", "absent"), ("echo", "fail"), ("foxtrot", "absent"), ("golf", "pass")):
    assert v[h]["verdict"] == want, (h, v[h]["verdict"], v[h]["reason"])
assert v["charlie"]["reason"].startswith("telemetry gap: window 0"), v["charlie"]["reason"]
assert all(w["diagnosis"] == "telemetry_gap" and w["hits"]["packets"] > 0 for w in v["charlie"]["windows"])
assert v["delta"]["reason"] == "unreachable: ssh: connect to host 198.18.0.14 port 22: Connection refused", v["delta"]["reason"]
assert v["echo"]["reason"] == "no fault window in the journal (outcome arm_timeout): nothing was tested", v["echo"]["reason"]
assert v["echo"]["armed"] is None
assert v["foxtrot"]["reason"] == "okx-faultd --check refused the policy (drill.policy in the evidence): drill.policy:5: unknown key \x27colour\x27", v["foxtrot"]["reason"]
for h in ("alpha", "bravo"):
    assert v[h]["windows"] and all(w["diagnosis"] == "ok" and w["errors"] > 0 for w in v[h]["windows"]), v[h]
assert [w["action"] for w in v["alpha"]["windows"]] == ["drop", "reject"]
assert [w["action"] for w in v["bravo"]["windows"]] == ["reject"], "bravo: its own policy (host vars)"
assert v["bravo"]["drill"] == "fleet_lab_bravo"
assert v["golf"]["outcome"] == "aborted", v["golf"]
assert d["armed"]["spread_ms"] is not None
' "fleet.json of run A"

# every reached host's evidence, each journal from its own namespace
for h in alpha bravo charlie echo golf; do
	e=$O/$h
	for f in status.json drill.policy journal.jsonl okx-faultd.log events.json correlate.txt report.json timeline.svg \
		bundle.tar.gz; do
		[ -s "$e/$f" ] || fail "$h: no $f"
	done
	"$OKX_FAULTCTL" verify "$e/bundle.tar.gz" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "$h: the bundle does not verify"; }
	python3 - "$e/journal.jsonl" "$T/hosts/$h/etc/fleet.policy" "${ADDR[$h]}" "$h" <<-'EOF' || fail "$h: journal"
		import json, sys
		lines = [json.loads(l) for l in open(sys.argv[1])]
		start, end = lines[0], lines[-1]
		assert start["event"] == "start" and start["policy"] == sys.argv[2], start
		armed = [l for l in lines if l["event"] == "armed"]
		if sys.argv[4] == "echo":
		    assert not armed and end["outcome"] == "arm_timeout", end
		elif sys.argv[4] == "golf":
		    # the role's timeout (8 s) stopped the 30 s drop by the stop file
		    ends = [l for l in lines if l["event"] == "fault_end"]
		    assert len(ends) == 1 and ends[0]["reason"] == "stop_file", ends
		    assert ends[0]["actual_ms"] < 25000, ends[0]
		    assert end["outcome"] == "aborted" and end["exit_code"] == 4, end
		else:
		    # the daemon ran in the host's namespace: it armed on the host's
		    # own connector's flow
		    assert armed[0]["trigger"]["src"] == sys.argv[3], armed[0]
		    assert end["outcome"] == "completed", end
	EOF
done
check_json "$O/alpha/status.json" 'assert d["stage"] == "done" and d["rc"] == 0, d' "alpha: status.json"
check_json "$O/echo/status.json" 'assert d["stage"] == "done" and d["rc"] == 3, d' "echo: status.json"
check_json "$O/golf/status.json" 'assert d["stage"] == "done" and d["rc"] == 4, d' "golf: status.json"
check_json "$O/delta/status.json" 'assert d["stage"] == "unreachable", d' "delta: status.json"
check_json "$O/foxtrot/status.json" 'assert d["stage"] == "failed" and "okx-faultd --check refused" in d["message"], d' \
	"foxtrot: status.json"
# the refused policy is in the evidence, the line the message names in it
[ "$(sed -n 5p "$O/foxtrot/drill.policy")" = "colour = blue" ] || fail "foxtrot: drill.policy line 5: $(sed -n 5p "$O/foxtrot/drill.policy")"
[ ! -e "$O/delta/journal.jsonl" ] && [ ! -e "$O/foxtrot/journal.jsonl" ] || fail "a journal from delta or foxtrot"
check_json "$O/alpha/report.json" 'assert d["gate"]["pass"] is True, d["gate"]' "alpha: report.json"
check_json "$O/charlie/report.json" 'assert d["gate"]["pass"] is False, d["gate"]' "charlie: report.json"
grep -q '^verdict  PASS' "$O/alpha/correlate.txt" || fail "alpha: correlate.txt"
python3 - "$O/fleet.svg" <<-'EOF' || fail "fleet.svg"
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	lanes = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "lane"]
	assert len(lanes) == 7, len(lanes)
EOF
# every drill ended: no okx-faultd left in a host's namespace
for h in "${HOSTS[@]}"; do
	for p in $(ip netns pids "$P-$h"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" != okx-faultd ] || fail "$h: okx-faultd still running"
	done
done
note "run A: the fleet fails naming charlie, delta, echo and foxtrot; alpha, bravo and golf (stopped at its timeout) pass with their evidence"

# --- run B: the two good hosts alone pass ---------------------------------
for h in alpha bravo; do start_connector "$h" runB; done
playbook runB --limit alpha,bravo
O=$T/out/runB
[ "$PB_RC" = 0 ] || { tail -60 "$T/runB.log"; fail "run B: ansible-playbook exit $PB_RC, want 0"; }
sed 's/^/    | /' "$O/fleet.txt"
grep -qx "verdict  PASS: every host's windows pass (2 hosts)" "$O/fleet.txt" || fail "run B: $(grep '^verdict' "$O/fleet.txt")"
check_json "$O/fleet.json" 'assert [h["name"] for h in d["hosts"]] == ["alpha", "bravo"] and d["gate"]["pass"] is True' \
	"fleet.json of run B"
echo "fleet drill through ansible-playbook OK"
