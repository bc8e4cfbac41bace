# tests/lib/caller.sh — sourced by integration tests after netns.sh: a
# connector in the cli namespace whose calls the test makes one at a time
# (tests/lib/caller.py).
#
#   caller MODE WHERE     start it (keepalive|fresh URL, ws ADDR:PORT); calls
#                         are written to fd 7, answers land in $COUT
#   call [ok|error|any]   one call; waits for its answer and checks it
#   caller_end            close fd 7 and wait for it to exit
set -u

caller() {
	rm -f "$LAB_TMP/cin" && mkfifo "$LAB_TMP/cin"
	COUT="$LAB_TMP/caller-$1.out"
	: >"$COUT"
	ip netns exec "$LAB_PREFIX-cli" python3 -u "$TOP/tests/lib/caller.py" "$1" "$2" <"$LAB_TMP/cin" >"$COUT" 2>&1 &
	LAB_PIDS+=($!)
	CALLER=$!
	exec 7>"$LAB_TMP/cin"
	NCALL=0
}
call() {
	NCALL=$((NCALL + 1))
	echo >&7
	wait_for "call $NCALL to return" log_has "$COUT" "^call $NCALL "
	[ "${1:-ok}" = any ] && return 0
	log_has "$COUT" "^call $NCALL ${1:-ok}" || fail "call $NCALL: $(grep "^call $NCALL " "$COUT"), want ${1:-ok}"
}
caller_end() {
	exec 7>&-
	wait "$CALLER"
}
