#!/bin/sh
# Ingest benchmark: N visit lines (default 100 000) in one spool file,
# timed from the rename into new/ to the file landing in done/ (parse,
# validation, eligibility, sampling, scheduling and the store commit), and
# the daemon's peak RSS.  Usage: sh contrib/bench/ingest.sh [N] [BUILDDIR]
set -eu
n=${1:-100000}
b=$(cd "${2:-build}" && pwd)
t=$(mktemp -d /tmp/smsgwd-ingest.XXXXXX)
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
cat > "$t/c.conf" <<EOC
state_dir = "$t/state";
spool_dir = "$t/spool";
control_socket = "$t/ctl.sock";
control_group = "$(id -gn)";
modems = ();
sampling = { default_rate = 0.3; };
EOC
python3 - "$t/v.jsonl" "$n" <<'PYEOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"visit_id": "V-%07d" % i, "unit": "U%d" % (i % 20),
            "phone": "+3584%08d" % i, "ended_at": "2026-11-24T10:15:00+02:00",
            "lang": "fi", "age": 30 + i % 50}) + "\n")
PYEOF
"$b/smsgwd" -d -f "$t/c.conf" 2> "$t/log" &
pid=$!
while [ ! -d "$t/spool/new" ]; do sleep 0.05; done
sleep 0.3
t0=$(date +%s%N)
mv "$t/v.jsonl" "$t/spool/new/v.jsonl"
while [ ! -f "$t/spool/done/v.jsonl" ]; do sleep 0.02; done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "ingest: $n visit lines in $ms ms ($(( n * 1000 / (ms > 0 ? ms : 1) )) lines/s), peak RSS $((rss / 1024)) MiB"
grep 'new visits' "$t/log" | sed 's/^/  /'
