#!/bin/sh
# memory.sh [VISITS]: peak RSS of smsgwd with VISITS (default 100000)
# pending visits and 4 emulated modems (target: under 32 MiB).
#
# One spool file of VISITS visits (ended now, sampling rate 1.0, so every
# one is sampled and waits delay_minutes = 1080 for its invitation) is put
# into spool/new/ before smsgwd starts.  We wait until the file has moved
# to done/ and every visit is in the store, let the daemon idle for
# IDLE_S seconds (default 10) with its 4 modems, then read VmHWM (peak
# RSS) and VmRSS from /proc.  A second start on the same store (visits
# already pending, nothing to ingest) shows the steady-state footprint.
#
# FILES=k splits the visits over k spool files (default 1): the intake
# peak grows with the largest file, which the spool reads and parses whole.
#
# Environment: FILES (1), MODEMS (4), IDLE_S (10), BENCH_KEEP=1, BUILDDIR, SMSGWD,
# SMSGWCTL, ATEMU.
set -u
. "$(dirname "$0")/lib.sh"

V=${1:-${VISITS:-100000}}
MODEMS=${MODEMS:-4}
IDLE_S=${IDLE_S:-10}
FILES=${FILES:-1}
command -v sqlite3 > /dev/null || bench_die "sqlite3 (the CLI) is needed"
bench_init
d=$BENCH_TMP/mem
mkdir -p "$d/spool/tmp" "$d/spool/new"
gw_conf "$d" "$MODEMS" true 'sampling = { default_rate = 1.0; min_age = 0;
    person_cap_days = 0; units = (); };
schedule = { window = "00:00-24:00"; skip_weekdays = []; public_holidays = false; };'

python3 - "$V" "$FILES" "$d/spool/tmp" <<'PYEOF'
import datetime, json, sys
n, k, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
per = (n + k - 1) // k
for j in range(k):
    with open("%s/visits-%03d.jsonl" % (tmp, j), "w") as f:
        for i in range(j * per, min(n, (j + 1) * per)):
            f.write(json.dumps({"visit_id": "V-%07d" % i,
                "unit": "UNIT-%02d" % (i % 40), "phone": "+35840%07d" % i,
                "ended_at": now.isoformat(), "lang": ("fi", "sv", "en")[i % 3],
                "age": 20 + i % 60}) + "\n")
PYEOF
spool_bytes=$(du -bc "$d"/spool/tmp/*.jsonl | tail -1 | cut -f1)
mv "$d"/spool/tmp/*.jsonl "$d/spool/new/"

emu_start "$d" --modems "$MODEMS" --baud "$BAUD"
echo "# smsgwd memory, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), $V visits in $FILES" \
    "spool file(s) ($((spool_bytes / 1024)) KiB), $MODEMS modems"
echo
echo "| phase | seconds | visits in store | VmHWM (peak RSS) | VmRSS |"
echo "|---|---|---|---|---|"

mem() { awk -v k="$2:" '$1 == k { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"; }
visits() {
	sqlite3 "$d/state/smsgwd.db" "select count(*) from visits" 2>/dev/null ||
	    echo "?"
}

t0=$(now_ms)
bench_spawn "$d/gw.log" "$SMSGWD" -d -f "$d/gw.conf"
pid=$LAST_PID
wait_for "[ \$(ls '$d/spool/done' 2>/dev/null | grep -c jsonl) -eq $FILES ]" 600 ||
    bench_log "intake not finished in 600 s"
t1=$(now_ms)
echo "| intake of $V visits ($FILES file(s)) | $(calc "($t1 - $t0) / 1000") | $(visits) | $(mem $pid VmHWM) | $(mem $pid VmRSS) |"
sleep "$IDLE_S"
echo "| + ${IDLE_S} s idle, $MODEMS modems ready | - | $(visits) | $(mem $pid VmHWM) | $(mem $pid VmRSS) |"
bench_stop "$pid"

bench_spawn "$d/gw2.log" "$SMSGWD" -d -f "$d/gw.conf"
pid=$LAST_PID
sleep "$IDLE_S"
echo "| restart with $V pending, ${IDLE_S} s | - | $(visits) | $(mem $pid VmHWM) | $(mem $pid VmRSS) |"
bench_stop "$pid"
echo
echo "store: $(du -k "$d/state/smsgwd.db" | awk '{ printf "%.1f MiB", $1 / 1024 }')" \
    "(smsgwd.db), states: $(sqlite3 "$d/state/smsgwd.db" "select group_concat(state || '=' || n, ' ') from (select state, count(*) n from visits group by state)" 2>/dev/null)"
cat "$d"/spool/rejected/*.err 2>/dev/null | grep -c . | sed 's/^/rejected lines: /'
