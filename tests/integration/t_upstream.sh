#!/bin/sh
# Integration: upstream sync through the real daemon and the test
# receiver: at-least-once across receiver outages and daemon restarts,
# order kept, idempotency keys stable across retries, 4xx parked until
# reload, and no phone number in any posted body.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
t=$(mktmp)
mkdir -p "$t/rcv"
echo 500 > "$t/rcv/mode"	# the receiver starts out failing
python3 "$SRCDIR/tests/upstream/receiver.py" --port 0 --dir "$t/rcv" --ttl 120 &
_pids="$_pids $!"
wait_for "[ -s $t/rcv/port ]" 5 || fail "receiver did not start"
port=$(cat "$t/rcv/port")
echo "s3cr3t-token" > "$t/token"
start_emu "$t" --reg-delay-ms 50
write_conf "$t/c.conf" "$t" 'modems = ( { name = "m1"; device = "'"$t"'/m1"; } );
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };
upstream = { url = "http://127.0.0.1:'"$port"'/responses"; batch = 3;
             timeout_s = 2; token_file = "'"$t/token"'"; };'
start_gw "$t/c.conf" "$t/log"
wait_for "[ \"\$(modem_state $t/c.conf m1)\" = ready ]" 5 || fail "not ready"
ctl() { "$SMSGWCTL" -f "$t/c.conf" "$@"; }
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

i=1
: > "$t/spool/tmp/v.jsonl"
while [ $i -le 8 ]; do
	echo "{\"visit_id\":\"U-$i\",\"unit\":\"U\",\"phone\":\"+35840200000$i\",\"ended_at\":\"$now\"}" >> "$t/spool/tmp/v.jsonl"
	i=$((i + 1))
done
mv "$t/spool/tmp/v.jsonl" "$t/spool/new/v.jsonl"
wait_for "[ \$(count_lines $t/sent.jsonl) -ge 8 ]" 10 || fail "invitations not sent"
i=1
while [ $i -le 8 ]; do
	emu "$t" deliver m1 "+35840200000$i" "$((i + 1)), soita 0401234567 tai +358 40 765 4321" >/dev/null
	i=$((i + 1))
done
# The receiver fails: records wait in the outbox, retried with backoff.
wait_for "[ \$(cat $t/rcv/requests.jsonl 2>/dev/null | grep -c '\"status\":500') -ge 2 ]" 15 ||
	fail "no retries while the receiver fails"
out=$(ctl --json status)
expect_match "$out" '"upstream":\{"state":"(backoff|posting)"' "status shows upstream backoff"

# Restart the daemon during the outage; then the receiver recovers.
stop_gw
start_gw "$t/c.conf" "$t/log"
# Finish the conversations (thanks) so every record is final.
sleep 1
echo 200 > "$t/rcv/mode"
wait_for "[ \$(python3 -c \"import json;print(sum(json.loads(l)['records'] for l in open('$t/rcv/accepted.jsonl')))\" 2>/dev/null || echo 0) -ge 8 ]" 40 ||
	fail "records not delivered after the outage"

python3 - "$t/rcv" <<'PYEOF' > "$t/check.out"
import json, sys, re, collections
d = sys.argv[1]
reqs = [json.loads(l) for l in open(d + "/requests.jsonl")]
posts = [r for r in reqs if r["method"] == "POST"]
# Same batch -> same key across retries; every retried body identical.
bykey = collections.defaultdict(set)
for r in posts:
    bykey[r["headers"].get("Idempotency-Key")].add(json.dumps(r["body"], sort_keys=True))
print("keys_stable", all(len(v) == 1 for v in bykey.values()))
print("auth", all(r["headers"].get("Authorization") == "Bearer s3cr3t-token" for r in posts))
acc = [r for r in posts if r["status"] == 200]
recs = [x for r in acc for x in r["body"]]
ids = [(x["response_id"], x["revision"]) for x in recs]
print("unique", len(set(ids)), "total", len(ids))
visits = [x["visit_id"] for x in recs]
print("order", visits == sorted(visits, key=lambda v: [x["visit_id"] for x in recs].index(v)))
# Scan every posted value except the opaque response_id for number runs.
vals = []
def walk(o, k=None):
    if isinstance(o, dict):
        for kk, vv in o.items():
            walk(vv, kk)
    elif isinstance(o, list):
        for vv in o:
            walk(vv, k)
    elif isinstance(o, str) and k != "response_id" and not str(k).endswith("_at"):
        vals.append(o)
raw = json.dumps([r["body"] for r in posts], ensure_ascii=False)
for r in posts:
    walk(r["body"])
hits = [v for v in vals if re.search(r"\+?358|040 ?\d{3}|(\d[ -]?){7,}", v)]
print("phone_in_body", bool(hits), hits[:3])
print("redacted", "[phone]" in raw)
PYEOF
out=$(cat "$t/check.out")
expect_match "$out" "keys_stable True" "idempotency key stable across retries"
expect_match "$out" "auth True" "bearer token sent"
expect_match "$out" "unique 8 total" "all 8 records delivered"
expect_match "$out" "phone_in_body False" "no phone number posted upstream"
expect_match "$out" "redacted True" "free text redacted"

# 4xx: parked as failed, visible in status, retried after reload.
echo 400 > "$t/rcv/mode"
emu "$t" deliver m1 +358402000001 "myöhäinen lisäys" >/dev/null
wait_for "ctl --json status | grep -q '\"upstream_failed\":[1-9]'" 10 || fail "4xx not parked"
echo 200 > "$t/rcv/mode"
ctl reload >/dev/null
wait_for "ctl --json status | grep -q '\"upstream\":0,\"upstream_failed\":0'" 10 || fail "parked batch not retried after reload"
stop_gw
finish
