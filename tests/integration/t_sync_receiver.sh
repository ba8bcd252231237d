#!/bin/sh
# Smoke test of tests/upstream/receiver.py itself (the sync tests' peer):
# modes, sequences, recording, accepted.jsonl and a clean SIGTERM exit.
. "$(dirname "$0")/lib.sh"

RECEIVER=${SRCDIR}/tests/upstream/receiver.py
[ -f "$RECEIVER" ] || RECEIVER=$(dirname "$0")/../upstream/receiver.py
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not found"; exit 77
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "SKIP: curl(1) not found"; exit 77
fi

d=$(mktmp)
python3 "$RECEIVER" --port 0 --dir "$d" --ttl 60 &
rpid=$!
_pids="$rpid"
wait_for "[ -s '$d/port' ]" 5 || fail "receiver did not write its port"
port=$(cat "$d/port")
url="http://127.0.0.1:$port/ingest"

post() {
	curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST \
	    -H 'Content-Type: application/json' -H "Idempotency-Key: $1" \
	    --data-binary "$2" "$url"
}

expect_eq "$(post k1 '[{"a":1},{"a":2}]')" 200 "default mode answers 200"
echo "500,429,200" >"$d/mode"
expect_eq "$(post k2 '[{"a":3}]')" 500 "sequence item 1"
expect_eq "$(post k2 '[{"a":3}]')" 429 "sequence item 2"
expect_eq "$(post k2 '[{"a":3}]')" 200 "sequence item 3"
expect_eq "$(post k3 '[{"a":4}]')" 200 "last item of a sequence stays"
echo 429 >"$d/mode"
h=$(curl -s -D - -o /dev/null -m 5 -X POST --data-binary '[]' "$url")
expect_match "$h" 'Retry-After: 1' "429 carries Retry-After"
echo 400 >"$d/mode"
expect_eq "$(post k4 '[{"a":5}]')" 400 "400 mode"
echo close >"$d/mode"
expect_eq "$(post k5 '[]')" 000 "close mode answers nothing"

n=$(wc -l <"$d/requests.jsonl")
expect_eq "$n" 8 "every request recorded"
expect_match "$(head -1 "$d/requests.jsonl")" \
    '"headers":\{.*"Idempotency-Key":"k1".*"body":\[\{"a":1\},\{"a":2\}\],"status":200' \
    "request line records headers, parsed body and status"
expect_eq "$(grep -c '"key":"k2"' "$d/accepted.jsonl")" 1 \
    "only the 2xx answer is accepted"
expect_match "$(head -1 "$d/accepted.jsonl")" '"key":"k1","records":2' \
    "accepted line has key and record count"

kill -TERM "$rpid"
wait "$rpid"
expect_eq "$?" 0 "clean exit on SIGTERM"
_pids=""

echo "t_sync_receiver: $_checks checks, $_fails failures"
[ "$_fails" -eq 0 ]
