#!/bin/sh
# Integration: SMS transport through the emulator: send (GSM 7-bit, long,
# UCS-2 with emoji), receive (single, 3 parts out of order, stored while
# down), +CMS ERROR retry, status reports, the +CMGS fallback, and kill -9
# at many points during send and receive: nothing lost, nothing doubled.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

sent_to() { grep -c "\"to\":\"$2\"" "$1/sent.jsonl" 2>/dev/null || true; }

t=$(mktmp)
start_emu "$t"
write_conf "$t/c.conf" "$t" 'send_attempts = 3;
modems = ( { name = "m1"; device = "'"$t"'/m1"; } );'
start_gw "$t/c.conf" "$t/log"
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 5 || fail "not ready"
ctl() { "$SMSGWCTL" -f "$t/c.conf" "$@"; }
db=$t/state/smsgwd.db

# Short GSM 7-bit with the extension table, through storage (+CMSS).
ctl send +358401000001 "Hei! Hinta 5 € [testi]" >/dev/null
wait_for "[ \$(sent_to $t +358401000001) -eq 1 ]" 5 || fail "short SMS not sent"
expect_match "$(grep +358401000001 "$t/sent.jsonl")" '"via":"cmss".*"text":"Hei! Hinta 5 € \[testi\]","udh":null,"srr":true' "short SMS via storage with SRR"

# Long GSM 7-bit: 3 parts with one reference.
long=$(python3 -c "print(('Pitkä viesti numero kolme. ' * 15)[:400])")
ctl send +358401000002 "$long" >/dev/null
wait_for "[ \$(sent_to $t +358401000002) -eq 3 ]" 5 || fail "long SMS not sent as 3 parts"
got=$(grep +358401000002 "$t/sent.jsonl" | python3 -c "
import json, sys
parts = [json.loads(l) for l in sys.stdin]
refs = {p['udh']['ref'] for p in parts}
assert len(refs) == 1, refs
print(''.join(p['text'] for p in sorted(parts, key=lambda p: p['udh']['seq'])))")
expect_eq "$got" "$long" "long SMS reassembles to the original"

# UCS-2 with emoji (surrogate pairs intact).
ctl send +358401000003 "Kiitos 🙏 palautteesta 😀" >/dev/null
wait_for "[ \$(sent_to $t +358401000003) -eq 1 ]" 5 || fail "UCS-2 SMS not sent"
expect_match "$(grep +358401000003 "$t/sent.jsonl")" '"text":"Kiitos 🙏 palautteesta 😀"' "UCS-2 emoji intact"

# Status reports mark parts delivered.
mr=$(grep +358401000003 "$t/sent.jsonl" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['mr'])")
emu "$t" report m1 "$mr" delivered >/dev/null
wait_for "[ \"\$(sql $db \"select state from sms_out where phone='+358401000003'\")\" = delivered ]" 5 ||
	fail "status report did not mark delivered"

# Receive: single, and three parts out of order.
emu "$t" deliver m1 +358402000001 "9, kiitos!" >/dev/null
emu "$t" deliver-parts m1 +358402000002 77 3 3 "kolme" >/dev/null
emu "$t" deliver-parts m1 +358402000002 77 3 1 "yksi " >/dev/null
emu "$t" deliver-parts m1 +358402000002 77 3 2 "kaksi " >/dev/null
wait_for "[ \$(sql $db \"select count(*) from sms_in where sender='+358402000002'\") -eq 3 ]" 5 ||
	fail "3 parts not received"
expect_eq "$(sql "$db" "select count(*) from sms_in where sender='+358402000001'")" 1 "single received once"
wait_for "[ \"\$(emu $t list m1)\" = 'ok {\"modem\":\"m1\",\"messages\":[]}' ]" 5 ||
	fail "received SMS not deleted from the modem after commit"

# +CMS ERROR: retried with backoff up to send_attempts, then failed.
emu "$t" fault m1 cms 38 1 >/dev/null
ctl send +358401000004 "retry me" >/dev/null
wait_for "[ \$(sent_to $t +358401000004) -eq 1 ]" 10 || fail "CMS error not retried"
emu "$t" fault m1 cms 500 10 >/dev/null
ctl send +358401000005 "never goes" >/dev/null
wait_for "[ \"\$(sql $db \"select state from sms_out where phone='+358401000005'\")\" = failed ]" 20 ||
	fail "message not failed after send_attempts"
expect_eq "$(sent_to "$t" +358401000005)" 0 "failed message never reached the network"
emu "$t" fault m1 cms 500 0 >/dev/null

# Stored while the daemon was down: drained at READY.
stop_gw
emu "$t" store m1 +358402000003 "kirjoitin kun olit poissa" >/dev/null
start_gw "$t/c.conf" "$t/log"
wait_for "[ \$(sql $db \"select count(*) from sms_in where sender='+358402000003'\") -eq 1 ]" 5 ||
	fail "SMS stored while down not drained"
stop_gw

# A reply whose +CMTI never came (lost URC): the storage poll reads it.
write_conf "$t/c.conf" "$t" 'send_attempts = 3; storage_poll_s = 2;
modems = ( { name = "m1"; device = "'"$t"'/m1"; } );'
start_gw "$t/c.conf" "$t/log"
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 5 || fail "not ready (poll)"
sleep 0.5
emu "$t" store m1 +358402000004 "ei ilmoitusta" >/dev/null
wait_for "[ \$(sql $db \"select count(*) from sms_in where sender='+358402000004'\") -eq 1 ]" 5 ||
	fail "SMS without +CMTI not read by the storage poll"
wait_for "[ \"\$(emu $t list m1)\" = 'ok {\"modem\":\"m1\",\"messages\":[]}' ]" 5 ||
	fail "polled SMS not deleted from the modem"
stop_gw

# kill -9 at many points while sending 30 messages and receiving 10:
# every message reaches the network exactly once, every reply is stored
# exactly once.
t3=$(mktmp)
start_emu "$t3" --send-delay-ms 40
write_conf "$t3/c.conf" "$t3" 'modems = ( { name = "m1"; device = "'"$t3"'/m1"; } );'
db3=$t3/state/smsgwd.db
start_gw "$t3/c.conf" "$t3/log"
wait_for "[ \"\$(modem_state $t3/c.conf m1)\" = ready ]" 5 || fail "not ready (kill test)"
i=0
while [ $i -lt 30 ]; do
	"$SMSGWCTL" -f "$t3/c.conf" send "+3584030000$(printf %02d $i)" "viesti $i" >/dev/null
	i=$((i + 1))
done
i=0
while [ $i -lt 10 ]; do
	emu "$t3" deliver m1 "+3584040000$(printf %02d $i)" "vastaus $i" >/dev/null
	i=$((i + 1))
done
kills=0
while [ $kills -lt 12 ]; do
	sleep "0.$(( (kills * 37) % 9 + 1 ))"
	kill -9 "$gw_pid" 2>/dev/null
	wait "$gw_pid" 2>/dev/null
	kills=$((kills + 1))
	start_gw "$t3/c.conf" "$t3/log"
done
wait_for "[ \$(count_lines $t3/sent.jsonl) -ge 30 ] && [ \$(sql $db3 \"select count(*) from sms_out where state not in ('sent','delivered')\") -eq 0 ]" 30 ||
	fail "not every message sent after kill -9s"
dups=$(python3 -c "
import json, collections
c = collections.Counter(json.loads(l)['to'] for l in open('$t3/sent.jsonl'))
print(sum(1 for v in c.values() if v != 1), len(c))")
expect_eq "$dups" "0 30" "each of 30 messages on the network exactly once after $kills kill -9s"
wait_for "[ \$(sql $db3 \"select count(distinct sender) from sms_in\") -eq 10 ]" 10 ||
	fail "replies lost across kill -9"
expect_eq "$(sql "$db3" "select count(*) from sms_in")" 10 "each reply stored exactly once"
expect_eq "$(sql "$db3" "select count(*) from sms_out where state = 'uncertain'")" 0 "no uncertain sends on the storage path"
stop_gw

# A concatenated reply whose last part never comes is delivered after the
# reassembly timeout (10 min) with the parts received, and counted.
t5=$(mktmp)
start_emu "$t5"
write_conf "$t5/c.conf" "$t5" 'modems = ( { name = "m1"; device = "'"$t5"'/m1"; } );'
start_gw "$t5/c.conf" "$t5/log"
wait_for "[ \"\$(modem_state $t5/c.conf m1)\" = ready ]" 5 || fail "not ready (incomplete)"
emu "$t5" deliver-parts m1 +358406000001 55 2 1 "ensimmäinen osa " >/dev/null
wait_for "[ \$(sql $t5/state/smsgwd.db \"select count(*) from sms_in\") -eq 1 ]" 5 || fail "part not stored"
stop_gw
SMSGWD_CLOCK_OFFSET_S=700 "$SMSGWD" -d -f "$t5/c.conf" 2>> "$t5/log" &
gw_pid=$!
_pids="$_pids $gw_pid"
wait_for "[ \"\$(sql $t5/state/smsgwd.db \"select value from counters where name='sms_incomplete'\")\" = 1 ]" 70 ||
	fail "incomplete message not delivered after the timeout"
expect_match "$("$SMSGWCTL" -f "$t5/c.conf" --json review)" '"text":"ensimmäinen osa "' "incomplete text kept for review"
stop_gw

# The +CMGS fallback on a modem without storage send.
t4=$(mktmp)
start_emu "$t4" --no-storage-send
write_conf "$t4/c.conf" "$t4" 'modems = ( { name = "m1"; device = "'"$t4"'/m1"; } );'
start_gw "$t4/c.conf" "$t4/log"
wait_for "[ \"\$(modem_state $t4/c.conf m1)\" = ready ]" 5 || fail "not ready (cmgs)"
"$SMSGWCTL" -f "$t4/c.conf" send +358405000001 "via cmgs" >/dev/null
wait_for "[ \$(sent_to $t4 +358405000001) -eq 1 ]" 5 || fail "+CMGS fallback did not send"
expect_match "$(cat "$t4/sent.jsonl")" '"via":"cmgs"' "sent with +CMGS"
grep -q "falling back to +CMGS" "$t4/log" || fail "fallback not logged"
stop_gw

# A modem that takes one command per line: the delete chained onto the
# next write is refused, and smsgwd sends them apart, nothing lost.
t6=$(mktmp)
start_emu "$t6" --no-chain --send-delay-ms 200
write_conf "$t6/c.conf" "$t6" 'modems = ( { name = "m1"; device = "'"$t6"'/m1"; } );'
start_gw "$t6/c.conf" "$t6/log"
wait_for "[ \"\$(modem_state $t6/c.conf m1)\" = ready ]" 5 || fail "not ready (no chain)"
i=0
while [ $i -lt 5 ]; do
	"$SMSGWCTL" -f "$t6/c.conf" send "+3584070000$i" "one per line $i" >/dev/null
	i=$((i + 1))
done
wait_for "[ \$(count_lines $t6/sent.jsonl) -ge 5 ]" 10 || fail "sends lost without chaining"
sleep 0.5
expect_eq "$(python3 -c "import json,collections;c=collections.Counter(json.loads(l)['to'] for l in open('$t6/sent.jsonl'));print(len(c), max(c.values()), set(json.loads(l)['via'] for l in open('$t6/sent.jsonl')))")" "5 1 {'cmss'}" "5 messages once each, still through storage"
grep -q "chained +CMGD;+CMGW refused" "$t6/log" || fail "chain fallback not logged"
expect_eq "$(emu "$t6" list m1)" 'ok {"modem":"m1","messages":[]}' "storage emptied without chaining"
stop_gw
finish
