#!/bin/sh
# Integration: the control socket through the real smsgwd and smsgwctl.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

t=$(mktmp)
cat > "$t/smsgwd.conf" <<EOC
state_dir = "$t/state";
spool_dir = "$t/spool";
control_socket = "$t/run/control.sock";
control_group = "$(id -gn)";
modems = ( { name = "m1"; device = "$t/nodev"; } );
sampling = { default_rate = 0.1; units = ( { unit = "U1"; rate = 0.5; } ); };
EOC
"$SMSGWD" -d -f "$t/smsgwd.conf" 2> "$t/log" &
_pids=$!
wait_for "[ -S '$t/run/control.sock' ]" 5 || fail "no control socket"
ctl() { "$SMSGWCTL" -f "$t/smsgwd.conf" "$@"; }

out=$(ctl --json status); rc=$?
expect_eq "$rc" 0 "status exit"
expect_match "$out" '"version":' "status version"
expect_match "$out" '"modems":\[\{"name":"m1","device":"'"$t"'/nodev"' "status modems"
expect_match "$out" '"queues":\{"visits":' "status queues"
out=$(ctl status); rc=$?
expect_eq "$rc" 0 "status text exit"
expect_match "$out" '^MODEM +STATE' "status text header"
expect_match "$out" '^m1 +(backoff|probe)' "status text modem row"
# --json after the command too, -s instead of -f
out=$("$SMSGWCTL" -s "$t/run/control.sock" status --json); rc=$?
expect_eq "$rc" 0 "status -s exit"

out=$(ctl rate U1 0.25); rc=$?
expect_eq "$rc" 0 "rate exit"
expect_match "$out" "U1: sampling rate 0.25" "rate text"
out=$(ctl rate U1 1.5 2>&1); rc=$?
expect_eq "$rc" 1 "bad rate refused"
expect_match "$out" "0 to 1" "bad rate message"
out=$(ctl --json rate U1 default); rc=$?
expect_match "$out" '"rate":0.5' "rate default back to config"

# The override persists across a restart.
ctl rate U1 0.75 >/dev/null
kill -TERM $_pids; wait $_pids
"$SMSGWD" -d -f "$t/smsgwd.conf" 2>> "$t/log" &
_pids=$!
wait_for "$SMSGWCTL -f $t/smsgwd.conf status >/dev/null 2>&1" 5 || fail "restart"
n=$(sqlite3 "$t/state/smsgwd.db" "select rate from unit_rates where unit='U1'")
expect_eq "$n" "0.75" "override persisted"

# A bad reload is refused with FILE:LINE and the old config stays.
cp "$t/smsgwd.conf" "$t/good.conf"
echo "bogus = 1;" >> "$t/smsgwd.conf"
out=$(ctl reload 2>&1); rc=$?
expect_eq "$rc" 1 "bad reload exit"
expect_match "$out" "$t/smsgwd.conf:7: unknown key bogus" "bad reload message"
cp "$t/good.conf" "$t/smsgwd.conf"
out=$(ctl reload); rc=$?
expect_eq "$rc" 0 "good reload"
# SIGHUP with a bad config keeps the daemon alive.
echo "bogus = 1;" >> "$t/smsgwd.conf"
kill -HUP $_pids
wait_for "grep -q 'reload refused' '$t/log'" 5 || fail "HUP not logged"
cp "$t/good.conf" "$t/smsgwd.conf"
ctl status >/dev/null; expect_eq "$?" 0 "alive after bad HUP"

# parse, offline: the built-in lists, and words added by the config.
printf 'Arvioni kasi, hoitaja oli mukava\nodotin 3 jaksoa, muuten 9\n' > "$t/replies.txt"
out=$("$SMSGWCTL" -f "$t/nonexistent.conf" parse < "$t/replies.txt" | tr '\t\n' ':;')
expect_eq "$out" "comment:;invalid:;" "parse with the built-in lists"
printf 'replies = { cues = [ "arvioni" ]; units = [ "jaksoa" ]; };\n' > "$t/words.conf"
out=$("$SMSGWCTL" -f "$t/words.conf" parse < "$t/replies.txt" | tr '\t\n' ':;')
expect_eq "$out" "score_comment:8;score_comment:9;" "parse with words from the config"

# Per-command help, without a daemon.
out=$("$SMSGWCTL" -s "$t/nope.sock" rate --help); rc=$?
expect_eq "$rc" 0 "rate --help exit"
expect_match "$out" "^usage: smsgwctl .* rate UNIT RATE\|default" "rate --help usage"

# Unknown command, not reachable.
ctl frobnicate >/dev/null 2>&1; expect_eq "$?" 1 "unknown command"
"$SMSGWCTL" -s "$t/nope.sock" status >/dev/null 2>&1
expect_eq "$?" 2 "unreachable daemon"

# A uid outside the control group is refused.
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	chmod 0666 "$t/run/control.sock"; chmod 0755 "$t" "$t/run"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$SMSGWCTL" -s "$t/run/control.sock" status 2>&1); rc=$?
	expect_eq "$rc" 1 "non-member refused"
	expect_match "$out" "permission denied" "refusal message"
	wait_for "grep -q 'refused control connection from uid 65534' '$t/log'" 3 ||
		fail "refusal not logged"
fi

kill -TERM $_pids; wait $_pids; rc=$?
expect_eq "$rc" 0 "clean exit"
_pids=
finish
