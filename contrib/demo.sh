#!/bin/sh
# The demo (README command 1): the in-tree modem emulator, the daemon on a
# temporary state and spool, sample visits in, invitations out, simulated
# patients answering in fi/sv/en, and the resulting responses and per-unit
# NPS printed at the end.  Usage: sh contrib/demo.sh [BUILDDIR]
set -eu
b=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
t=$(mktemp -d /tmp/smsgwd-demo.XXXXXX)
pids=""
cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT INT TERM

emu() {
	python3 - "$t" "$@" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1] + "/ctl")
s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
s.recv(4096)
PYEOF
}
show_sent() {	# print texts sent since line $1 of sent.jsonl
	python3 - "$t/sent.jsonl" "$1" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for l in lines[int(sys.argv[2]):]:
    d = json.loads(l)
    print("  -> %s  %s" % (d["to"], d["text"]))
PYEOF
}
nsent() { [ -f "$t/sent.jsonl" ] && wc -l < "$t/sent.jsonl" | tr -d ' ' || echo 0; }
wait_sent() {	# wait until sent.jsonl has $1 lines (10 s at most)
	w=0
	while [ "$(nsent)" -lt "$1" ] && [ $w -lt 200 ]; do
		sleep 0.05
		w=$((w + 1))
	done
}

echo "== smsgwd demo: modem emulator + daemon in $t"
"$b/atemu" --dir "$t" --reg-delay-ms 200 > "$t/emu.out" 2>&1 &
pids="$pids $!"
while ! grep -q ready "$t/emu.out" 2>/dev/null; do sleep 0.05; done
emu auto-report m1 on	# the "network" confirms delivery of each SMS

sed -e "s|/var/lib/smsgwd|$t/state|; s|/var/spool/smsgwd|$t/spool|" \
    -e "s|/run/smsgwd/|$t/|; s|\"smsgw\";|\"$(id -gn)\";|" \
    -e "s|/dev/ttyUSB0|$t/m1|" \
    -e 's|default_rate = 0.1;|default_rate = 1.0;|' \
    -e 's|rate = 0.5;|rate = 1.0;|' \
    -e 's|window = "12:00-20:00";|window = "00:00-24:00";|' \
    -e 's|delay_minutes = 1080;|delay_minutes = 0;|' \
    -e 's|skip_weekdays = \[ "sun" \];|skip_weekdays = [];|' \
    -e 's|public_holidays = true;|public_holidays = false;|' \
    "$top/etc/smsgwd.conf" > "$t/smsgwd.conf"
"$b/smsgwd" -n -f "$t/smsgwd.conf"
"$b/smsgwd" -d -f "$t/smsgwd.conf" 2> "$t/smsgwd.log" &
pids="$pids $!"
ctl() { "$b/smsgwctl" -f "$t/smsgwd.conf" "$@"; }
while ! ctl status >/dev/null 2>&1; do sleep 0.05; done
while ! ctl --json status | grep -q '"state":"ready"'; do sleep 0.05; done
echo "== the daemon is up; modem m1 is ready:"
ctl --json status | python3 -c "
import json, sys
d = json.load(sys.stdin)
for m in d['modems']:
    print('  %s %s, %s dBm, %s' % (m['name'], m['state'], m['signal_dbm'], m['operator']))"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "== the appointment system drops 9 visits into the spool (2 are not eligible)"
sed "s/@NOW@/$now/g" "$top/contrib/demo-visits.jsonl" > "$t/spool/tmp/visits.jsonl"
mv "$t/spool/tmp/visits.jsonl" "$t/spool/new/visits.jsonl"
wait_sent 7
echo "== invitations sent (sampling rate 1.0, send window open):"
show_sent 0

answer() {	# answer PHONE TEXT: a patient replies, show what comes back
	n=$(nsent)
	printf '  <- %s  "%s"\n' "$1" "$2"
	emu deliver m1 "$1" "$2"
	wait_sent $((n + 1))
	sleep 0.2
	show_sent "$n"
}
echo "== patients answer:"
answer +358401110001 "9"
answer +358401110001 "Ystävällinen hoitaja, kiitos! Soittakaa 040 123 4567"
answer +358401110002 "Annan kympin!"
answer +358401110002 "Kaikki meni hyvin"
answer +358401110003 "ysi"
answer +358401110003 "Ei mitään lisättävää"
answer +358401110004 "8,5"
answer +358401110004 "8"
answer +358401110004 "Odottaminen kesti"
answer +358401110005 "Jag ger en åtta"
answer +358401110005 "Bra bemötande"
answer +358401110006 "The doctor never called me back"
answer +358401110006 "3"
answer +358401110007 "STOP"
sleep 0.5
echo "== response records (smsgwctl export; free text redacted, no phone numbers):"
ctl --json export
echo "== per-unit counters and NPS (smsgwctl units):"
ctl units
echo "== the log at info level (no phone numbers or message text):"
grep -v '^debug' "$t/smsgwd.log" | sed 's/^/  /' | tail -12
