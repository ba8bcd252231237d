#!/bin/sh
# Integration: the modem engine against the emulator: PIN, registration
# delay, two modems at once, unplug/replug, timeouts -> reset, wrong PIN.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

t=$(mktmp)
start_emu "$t" --modems 2 --pin 1234 --reg-delay-ms 300
write_conf "$t/c.conf" "$t" 'reset_timeouts = 3;
modems = ( { name = "m1"; device = "'"$t"'/m1"; pin = "1234"; },
           { name = "m2"; device = "'"$t"'/m2"; pin = "1234"; } );'
start_gw "$t/c.conf" "$t/log"
t0=$(date +%s%N)
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ] && [ \"\$(modem_state $t/c.conf m2)\" = ready ]" 5 ||
	fail "two modems with PIN did not reach ready"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "ready in ${ms} ms (PIN + 300 ms registration delay, two modems)"
out=$("$SMSGWCTL" -f "$t/c.conf" --json status)
expect_match "$out" '"signal_dbm":-73' "signal shown"
expect_match "$out" '"operator":"Emu Telecom"' "operator shown"
expect_match "$out" '"registered":true' "registration shown"

# Unplug m1 (USB re-enumeration): m2 is undisturbed, m1 comes back.
emu "$t" unplug m1 >/dev/null
wait_for "[ \"\$(modem_state $t/c.conf m1)\" != ready ]" 3 || fail "unplug not seen"
expect_eq "$(modem_state "$t/c.conf" m2)" ready "m2 undisturbed by m1 unplug"
sleep 0.3
emu "$t" replug m1 >/dev/null
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 8 || fail "m1 did not come back after replug"
grep -q "m1: port .* lost" "$t/log" || fail "port loss not logged"

# A longer unplug: the daemon's reopen backoff has grown to seconds, but
# the device node reappearing is noticed at once (inotify), not at the
# end of the backoff.
emu "$t" unplug m1 >/dev/null
sleep 7
t0=$(date +%s%N)
emu "$t" replug m1 >/dev/null
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 10 || fail "m1 did not come back after a long unplug"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "ready ${ms} ms after a replug (7 s unplug)"
[ "$ms" -lt 3000 ] || fail "replug noticed only after ${ms} ms (backoff, not hot-plug)"

# Silence: commands time out; after reset_timeouts in a row the modem is
# reset (AT+CFUN=1,1) and comes back.
emu "$t" fault m2 silence 16000 >/dev/null
"$SMSGWCTL" -f "$t/c.conf" send +358401234567 "ping" m2 >/dev/null
wait_for "grep -q 'm2: 3 command timeouts in a row, resetting' '$t/log'" 40 ||
	fail "timeouts did not reset the modem"
wait_for "[ \"\$(modem_state $t/c.conf m2)\" = ready ]" 30 || fail "m2 not ready after reset"
wait_for "grep -q '\"to\":\"+358401234567\"' '$t/sent.jsonl'" 20 ||
	fail "message queued during the silence was not sent after the reset"
out=$("$SMSGWCTL" -f "$t/c.conf" --json status)
expect_match "$out" '"name":"m2"[^}]*"resets":[1-9]' "reset counted"
stop_gw

# Reload that adds a second modem: m1 keeps running undisturbed.
t3=$(mktmp)
start_emu "$t3" --modems 2 --reg-delay-ms 50
write_conf "$t3/c.conf" "$t3" 'modems = ( { name = "m1"; device = "'"$t3"'/m1"; } );'
start_gw "$t3/c.conf" "$t3/log"
wait_for "[ \"\$(modem_state $t3/c.conf m1)\" = ready ]" 5 || fail "m1 not ready"
write_conf "$t3/c.conf" "$t3" 'modems = ( { name = "m1"; device = "'"$t3"'/m1"; },
           { name = "m2"; device = "'"$t3"'/m2"; } );'
"$SMSGWCTL" -f "$t3/c.conf" reload >/dev/null
expect_eq "$?" 0 "reload adding a modem"
wait_for "[ \"\$(modem_state $t3/c.conf m2)\" = ready ]" 5 || fail "added m2 not ready"
expect_eq "$(grep -c 'm1: opened' "$t3/log")" 1 "m1 not reopened by the reload"

# Garbage, overlong lines and URC noise on the line: survived, and every
# message still goes out exactly once.
emu "$t3" fault m1 noise on >/dev/null
emu "$t3" fault m1 garbage >/dev/null
i=0
while [ $i -lt 10 ]; do
	"$SMSGWCTL" -f "$t3/c.conf" send "+3584060000$i" "noise $i" m1 >/dev/null
	i=$((i + 1))
done
emu "$t3" fault m1 garbage >/dev/null
wait_for "[ \$(count_lines $t3/sent.jsonl) -ge 10 ]" 15 || fail "sends lost in noise"
sleep 0.5
expect_eq "$(python3 -c "import json,collections;c=collections.Counter(json.loads(l)['to'] for l in open('$t3/sent.jsonl'));print(len(c), max(c.values()))")" "10 1" "10 messages, each once, through noise and garbage"
expect_eq "$(modem_state "$t3/c.conf" m1)" ready "m1 ready after garbage"
stop_gw

# A wrong PIN is reported and never retried.
t2=$(mktmp)
start_emu "$t2" --pin 1234
write_conf "$t2/c.conf" "$t2" 'modems = ( { name = "m1"; device = "'"$t2"'/m1"; pin = "9999"; } );'
start_gw "$t2/c.conf" "$t2/log"
wait_for "[ \"\$(modem_state $t2/c.conf m1)\" = failed ]" 5 || fail "wrong PIN not failed"
sleep 1
n=$(grep -c 'refused the configured PIN' "$t2/log")
expect_eq "$n" 1 "wrong PIN reported once"
out=$(emu "$t2" stats m1)
expect_match "$out" '"state":"sim_pin"' "SIM not locked after one wrong PIN"
stop_gw
finish
