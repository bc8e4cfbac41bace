#!/usr/bin/env bash
# The shipped unit's sandbox without systemd (dist/okx-faultd@.service.in):
# the daemon runs under setpriv with the unit's capability bounding set and
# no_new_privs, at the unit's SCHED_FIFO priority set from outside (chrt:
# what CPUSchedulingPolicy= does), in a mount namespace (unshare -m) where
# /lib/modules and /usr/lib/modules are hidden by an empty tmpfs (what
# ProtectKernelModules= does).
#  - a drop drill completes there, CAP_NET_ADMIN alone and SCHED_FIFO kept;
#    its control socket (made before the drop) answers okx-faultctl status,
#    and the daemon removes it at the end without CAP_DAC_OVERRIDE;
#  - a delay drill asks the kernel whether netem exists, not /lib/modules:
#    with sch_netem (loaded or loadable) it completes and its netem class
#    sent packets; without, exit 2 with a clear message, the interface's
#    qdisc as before, no table, no journal.
set -u
. "$TOP/tests/lib/netns.sh"
UNIT="$TOP/dist/okx-faultd@.service.in"
need_tool setpriv util-linux
need_tool chrt util-linux
# (both are in the VM's initramfs: tests/vm/mkinitramfs.sh TOOLS)
lab_init sandbox
lab_two
NP="$LAB/netprobe"
serve "$LAB_TMP/srv.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 120

# the unit's capability set, in setpriv's words (CAP_NET_ADMIN -> +net_admin)
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done
prio=$(sed -n 's/^CPUSchedulingPolicy=fifo$/fifo/p; s/^CPUSchedulingPriority=//p' "$UNIT" | tail -n1)
[[ $prio =~ ^[0-9]+$ ]] || fail "the unit sets no SCHED_FIFO priority"
grep -qx 'NoNewPrivileges=yes' "$UNIT" || fail "the unit lost NoNewPrivileges"
grep -qx 'ProtectKernelModules=yes' "$UNIT" || fail "the unit lost ProtectKernelModules"
hide='for d in /lib/modules /usr/lib/modules; do [ -d "$d" ] && mount -t tmpfs -o ro,mode=0755 none "$d"; done; '
hide+='for d in /lib/modules /usr/lib/modules; do [ -z "$(ls -A "$d" 2>/dev/null)" ] || exit 90; done; '
hide+='exec chrt -f -R "$0" setpriv --bounding-set="$1" --inh-caps=-all --no-new-privs "${@:2}"'
# sandboxed CMD...: in the client namespace, as the unit would run it
sandboxed() { in_cli unshare -m --propagation private bash -c "$hide" "$prio" "$bset" "$@"; }
note "sandbox: bounding set $bset, SCHED_FIFO $prio (reset on fork), no_new_privs, /lib/modules hidden"

# a drop drill, watched: capabilities and scheduling as the unit gives them
cat > "$LAB_TMP/drop.policy" <<'P'
name = sandbox_drop
target = 198.18.0.2
port = 8443
arm_min_flows = 1
arm_timeout = 1m
fault = drop 300ms
P
J="$LAB_TMP/drop.jsonl"
sandboxed "$OKX_FAULTD" -v -j "$J" "$LAB_TMP/drop.policy" 2>"$LAB_TMP/drop.log" &
LAB_PIDS+=($!)
D=$!
wait_for "the sandboxed daemon to watch" log_has "$LAB_TMP/drop.log" 'watching:'
pid=$(pgrep -f -n "okx-faultd -v -j $J") || fail "no daemon process"
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/$pid/status)
[ "$eff" = 0000000000001000 ] || fail "CapEff $eff in the sandbox, want CAP_NET_ADMIN alone"
pol=$(chrt -p $pid | sed -n 's/.*scheduling policy: //p')
[[ $pol == SCHED_FIFO* ]] || fail "scheduling policy '$pol', want SCHED_FIFO from outside"
log_has "$LAB_TMP/drop.log" 'SCHED_FIFO not available' && fail "the daemon tried to set SCHED_FIFO itself"
"$OKX_FAULTCTL" status sandbox_drop | grep -qx 'state    waiting' || fail "okx-faultctl status in the sandbox"
in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 1000 >/dev/null || fail "the arming call failed"
wait $D
rc=$?
[ $rc -eq 0 ] || fail "sandboxed drop drill: exit $rc: $(cat "$LAB_TMP/drop.log")"
journal_has "$J" fault_end || fail "no fault_end"
[ ! -e "$OKX_FAULTD_CONTROL_DIR/sandbox_drop.sock" ] || fail "the sandboxed daemon left its control socket"
note "drop drill in the sandbox: exit 0, CapEff $eff, $pol"

# a delay drill: the kernel says whether netem exists
cat > "$LAB_TMP/delay.policy" <<'P'
name = sandbox_delay
target = 198.18.0.2
port = 8443
arm_min_flows = 0
fault = delay 1s latency=50ms
P
J="$LAB_TMP/delay.jsonl"
before=$(in_cli tc qdisc show dev veth-c)
sandboxed "$OKX_FAULTD" -j "$J" "$LAB_TMP/delay.policy" >"$LAB_TMP/delay.out" 2>"$LAB_TMP/delay.log" &
LAB_PIDS+=($!)
D=$!
# traffic for the netem class while the fault may be live
for i in $(seq 20); do
	kill -0 $D 2>/dev/null || break
	in_cli "$NP" tcp 198.18.0.2 8443 --timeout-ms 500 >/dev/null
done
wait $D
rc=$?
if [ $rc -eq 0 ]; then
	journal_has "$J" fault_end || fail "delay drill: no fault_end"
	grep -q '"netem"' "$J" || fail "delay drill: no netem statistics in the journal"
	note "delay drill in the sandbox: exit 0, netem found by the kernel with /lib/modules hidden"
else
	[ $rc -eq 2 ] || fail "delay drill: exit $rc: $(cat "$LAB_TMP/delay.log")"
	grep -q 'this kernel has no netem qdisc' "$LAB_TMP/delay.log" || fail "delay drill: no clear reason: $(cat "$LAB_TMP/delay.log")"
	[ "$(in_cli tc qdisc show dev veth-c)" = "$before" ] || fail "interface not restored: $(in_cli tc qdisc show dev veth-c)"
	[ ! -e "$J" ] || fail "a refused delay drill created its journal"
	! in_cli nft list tables | grep -q okx_faultd || fail "table left"
	# the kernel really has no netem (else the daemon was wrong to refuse)
	in_cli tc qdisc add dev lo root netem delay 1ms 2>/dev/null && fail "netem works here but the drill exited 2"
	note "delay drill in the sandbox: no netem in this kernel: exit 2, interface restored"
fi
exit 0
