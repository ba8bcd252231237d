#!/bin/sh
# Integration: systemd integration.  The unit passes systemd-analyze verify
# (where available), and the daemon speaks the notify protocol: READY=1
# after start-up, STATUS= with modem states, WATCHDOG=1 from the event
# loop at half the WatchdogSec period, STOPPING=1 on SIGTERM.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

t=$(mktmp)
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|^ExecStartPre=.*smsgwd |ExecStartPre=$SMSGWD |; s|^ExecStart=.*smsgwd |ExecStart=$SMSGWD |; s|^Documentation=.*|Documentation=file://$SRCDIR/README.md|" \
	    "$BUILDDIR/systemd/smsgwd.service" > "$t/smsgwd.service"
	out=$(systemd-analyze verify "$t/smsgwd.service" 2>&1)
	expect_eq "$out" "" "systemd-analyze verify is clean"
else
	echo "systemd-analyze not found: unit check skipped"
fi

# A NOTIFY_SOCKET listener.
python3 - "$t/notify.sock" "$t/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as f:
    try:
        while True:
            d = s.recv(4096).decode()
            f.write(d.replace("\n", "|") + "\n")
            f.flush()
            if "STOPPING=1" in d:
                break
    except socket.timeout:
        pass
PYEOF
_pids="$_pids $!"
wait_for "[ -S $t/notify.sock ]" 5 || fail "no notify socket"
write_conf "$t/c.conf" "$t" 'modems = ( { name = "m1"; device = "'"$t"'/nodev"; } );'
NOTIFY_SOCKET="$t/notify.sock" WATCHDOG_USEC=400000 "$SMSGWD" -f "$t/c.conf" &
gw_pid=$!
_pids="$_pids $gw_pid"
wait_for "grep -q READY=1 $t/notify.log 2>/dev/null" 5 || fail "no READY=1"
wait_for "[ \$(grep -c WATCHDOG=1 $t/notify.log) -ge 3 ]" 5 || fail "no watchdog pings"
expect_match "$(cat "$t/notify.log")" 'STATUS=m1 backoff' "STATUS shows the modem state"
kill -TERM $gw_pid
wait $gw_pid; rc=$?
expect_eq "$rc" 0 "clean exit under systemd"
wait_for "grep -q STOPPING=1 $t/notify.log" 5 || fail "no STOPPING=1"
finish
