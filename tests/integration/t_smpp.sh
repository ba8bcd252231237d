#!/bin/sh
# Integration: the provider transport (transport = "smpp", link survey)
# through the real daemon and the test SMSC: invitations from sender
# HYVAKS (TON 5) with a per-visit token link, throttling handled, receipts
# marking records delivered, bad credentials, and kill -9 with held
# submits: at most once (uncertain, never resent).  Then TLS (tls = true,
# ca_file) with a certificate made at test time, and a wrong ca_file.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
t=$(mktmp)
mkdir -p "$t/smsc"
python3 "$SRCDIR/tests/smsc/smsc.py" --port 0 --dir "$t/smsc" \
    --system-id gw --password s3cret &
_pids="$_pids $!"
wait_for "[ -s $t/smsc/port ]" 5 || fail "smsc did not start"
port=$(cat "$t/smsc/port")
echo s3cret > "$t/pw"
echo "receipts on" > "$t/smsc/mode"
write_conf "$t/c.conf" "$t" 'transport = "smpp";
smpp = { host = "127.0.0.1"; port = '"$port"'; system_id = "gw";
         password_file = "'"$t/pw"'"; window = 10; };
survey = { link_url = "https://palaute.example/s/{token}"; };
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };'
start_gw "$t/c.conf" "$t/log"
ctl() { "$SMSGWCTL" -f "$t/c.conf" "$@"; }
wait_for "ctl --json status 2>/dev/null | grep -q '\"smpp\":{\"state\":\"bound\"'" 5 ||
	fail "not bound to the SMSC"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkvisits() {	# mkvisits FROM TO FILE
	i=$1
	: > "$t/spool/tmp/$3"
	while [ $i -le $2 ]; do
		echo "{\"visit_id\":\"L-$i\",\"unit\":\"U\",\"phone\":\"+3584050$(printf %05d $i)\",\"ended_at\":\"$now\",\"lang\":\"fi\"}" >> "$t/spool/tmp/$3"
		i=$((i + 1))
	done
	mv "$t/spool/tmp/$3" "$t/spool/new/$3"
}
echo "throttle 3" > "$t/smsc/mode"
mkvisits 1 50 a.jsonl
wait_for "[ \$(count_lines $t/smsc/submits.jsonl) -ge 53 ]" 15 || fail "invitations not submitted"
sleep 0.5
out=$(python3 - "$t/smsc/submits.jsonl" <<'PYEOF'
import json, sys, collections, re
subs = [json.loads(l) for l in open(sys.argv[1])]
ok = [s for s in subs if s["status"] == 0]
c = collections.Counter(s["dest_addr"] for s in ok)
print("accepted", len(ok), "unique", len(c), "max", max(c.values()))
print("source", set((s["source_addr"], s["source_ton"]) for s in ok))
print("link", all(re.search(r"https://palaute\.example/s/[A-Za-z0-9_-]{22}", s["text"]) for s in ok))
print("hyvaks", all(s["text"].startswith("HYVAKS") for s in ok))
PYEOF
)
expect_match "$out" "accepted 50 unique 50 max 1" "50 invitations, each once, through throttling"
expect_match "$out" "source \{\('HYVAKS', 5\)\}" "sent as HYVAKS with TON 5"
expect_match "$out" "link True" "each carries a token link"
wait_for "[ \$(ctl --json export | grep -c '\"status\":\"delivered\"') -ge 50 ]" 10 ||
	fail "receipts did not mark the records delivered"
rec=$(ctl --json export | grep '"visit_id":"L-1"' | tail -1)
expect_match "$rec" '^\{"visit_id":"L-1","unit":"U","token":"[A-Za-z0-9_-]{22}","invited_at":"[^"]+","delivered_at":"[^"]+","status":"delivered"\}$' "link record format"
if ctl --json export | sed 's/"response_id":"[0-9a-z]*"//; s/"token":"[^"]*"//' |
    grep -q '358405'; then
	fail "record holds a phone number"
else
	pass
fi

# kill -9 while the SMSC holds submits: those are uncertain, never resent.
echo "hold 5" > "$t/smsc/mode"
mkvisits 51 60 b.jsonl
wait_for "[ \$(count_lines $t/smsc/submits.jsonl) -ge 58 ]" 10 || fail "second batch not submitted"
sleep 0.3
kill -9 "$gw_pid"; wait "$gw_pid" 2>/dev/null
start_gw "$t/c.conf" "$t/log"
wait_for "ctl --json status 2>/dev/null | grep -q '\"smpp\":{\"state\":\"bound\"'" 5 || fail "not bound after restart"
sleep 2
out=$(python3 -c "
import json, collections
subs = [json.loads(l) for l in open('$t/smsc/submits.jsonl')]
# a throttled submit (0x58) was refused, so its retry is not a duplicate
c = collections.Counter(s['dest_addr'] for s in subs if s['status'] != 0x58)
print('visits', len(c), 'max', max(c.values()))")
expect_eq "$out" "visits 60 max 1" "no invitation submitted twice after kill -9"
expect_match "$(ctl --json status)" '"uncertain":[1-9]' "uncertain submits counted in status"
stop_gw

# Bad credentials: reported, no tight reconnect loop.
echo wrong > "$t/pw"
start_gw "$t/c.conf" "$t/log2"
sleep 3
expect_match "$(ctl --json status)" '"smpp":\{"state":"(bind-failed|backoff|connecting)' "bad credentials not bound"
n=$(cat "$t/smsc/binds.jsonl" 2>/dev/null | wc -l)
[ "$n" -lt 20 ] && pass || fail "tight bind loop ($n binds)"
stop_gw

# TLS (smpp.tls, smpp.ca_file): a short run against a TLS SMSC with a
# self-signed certificate made now.
if ! command -v openssl >/dev/null; then
	echo "SKIP: TLS run (no openssl command)"
	finish
	exit $?
fi
t=$(mktmp)
mkdir -p "$t/smsc"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout "$t/smsc.key" \
    -out "$t/smsc.crt" >/dev/null 2>&1 || fail "openssl req"
python3 "$SRCDIR/tests/smsc/smsc.py" --port 0 --dir "$t/smsc" \
    --system-id gw --password s3cret --tls-cert "$t/smsc.crt" \
    --tls-key "$t/smsc.key" 2>/dev/null &
_pids="$_pids $!"
wait_for "[ -s $t/smsc/port ]" 5 || fail "TLS smsc did not start"
port=$(cat "$t/smsc/port")
echo s3cret > "$t/pw"
echo "receipts on" > "$t/smsc/mode"
write_conf "$t/c.conf" "$t" 'transport = "smpp";
smpp = { host = "127.0.0.1"; port = '"$port"'; system_id = "gw";
         password_file = "'"$t/pw"'"; tls = true;
         ca_file = "'"$t/smsc.crt"'"; };
survey = { link_url = "https://palaute.example/s/{token}"; };
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };'
start_gw "$t/c.conf" "$t/log"
wait_for "ctl --json status 2>/dev/null | grep -q '\"smpp\":{\"state\":\"bound\"'" 5 ||
	fail "not bound to the TLS SMSC"
grep -q "TLS to 127.0.0.1:$port" "$t/log" && pass || fail "no TLS session logged"
mkvisits 1 10 tls.jsonl
wait_for "[ \$(ctl --json export | grep -c '\"status\":\"delivered\"') -ge 10 ]" 10 ||
	fail "TLS: invitations not delivered"
out=$(python3 -c "
import json, collections
subs = [json.loads(l) for l in open('$t/smsc/submits.jsonl')]
c = collections.Counter(s['dest_addr'] for s in subs if s['status'] == 0)
print('accepted', sum(c.values()), 'unique', len(c))")
expect_eq "$out" "accepted 10 unique 10" "10 invitations over TLS"
stop_gw

# a ca_file that does not match: not bound, TLS reason, no tight loop
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout "$t/other.key" \
    -out "$t/other.crt" >/dev/null 2>&1 || fail "openssl req"
sed "s|$t/smsc.crt|$t/other.crt|" "$t/c.conf" > "$t/c2.conf" && mv "$t/c2.conf" "$t/c.conf"
nb=$(count_lines "$t/smsc/binds.jsonl")
start_gw "$t/c.conf" "$t/log2"
sleep 2.5
expect_match "$(ctl --json status)" '"smpp":\{"state":"(disconnected|connecting|backoff)' "wrong CA not bound"
grep -q "TLS: certificate verify failed" "$t/log2" && pass || fail "no TLS reason logged"
n=$(grep -c "TLS: certificate verify failed" "$t/log2")
[ "$n" -lt 5 ] && pass || fail "tight TLS reconnect loop ($n)"
expect_eq "$(count_lines "$t/smsc/binds.jsonl")" "$nb" "no bind without a verified TLS session"
stop_gw
finish
