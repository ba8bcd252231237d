#!/bin/sh
# smpp_peers.sh [N]: SMPP submit speed of smsgwd against Kannel (issue #9).
#
# One test SMSC (tests/smsc/smsc.py, SMPP 3.4, transceiver bind) serves
# both tools in turn.  Each tool sends the same N link invitations (the
# same text, N different numbers +35840 and 7 digits) from HYVAKS
# (alphanumeric, TON 5) with a window of 10 outstanding submit_sm:
#
#   smsgwd   transport = "smpp", smpp.window = 10, max_rate = 0; N visits
#            in one spool file (default_rate 1.0, an at-once schedule).
#            The clock runs from the rename of the file into spool/new
#            (the daemon is already bound) to the Nth submit_sm.
#   Kannel   bearerbox + smsbox (Debian package kannel), an smpp smsc
#            group with max-pending-submits = 10; the N messages are
#            pushed through smsbox's sendsms HTTP interface by a python3
#            client (THREADS keep-alive connections).  The clock runs from
#            the first HTTP request to the Nth submit_sm.
#
# The text is the one smsgwd sent (its Finnish link invitation with the
# link filled in), taken from the SMSC's record of the smsgwd run.
# smsc.py records no time stamps, so the clock reads its submits.jsonl in
# a 1 ms polling loop (the time the Nth line appears).
#
# Everything runs in a fresh /tmp/smsgw-smpp.XXXXXX (kept with
# BENCH_KEEP=1); the Kannel config is written there and bearerbox and
# smsbox are given its path (/etc/kannel is not used).  Every process is
# started with setsid and its group stopped on exit (SIGTERM, SIGKILL
# after 5 s).  The whole run is bounded by LIMIT seconds.
#
# Environment: N (5000), LIMIT (180), THREADS (8), KANNEL_STORE (none |
# spool: Kannel's message store, off by default as in Debian's sample
# config), PEERS ("smsgwd kannel"), BENCH_KEEP=1, BUILDDIR, SMSGWD,
# SMSGWCTL.  Kannel is installed with apt-get when missing (as root).
# Output: a markdown table on stdout, progress on stderr.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=${BUILDDIR:-$TOP/build}
SMSGWD=${SMSGWD:-$BUILDDIR/smsgwd}
SMSGWCTL=${SMSGWCTL:-$BUILDDIR/smsgwctl}
SMSC_PY=$TOP/tests/smsc/smsc.py
N=${1:-${N:-5000}}
LIMIT=${LIMIT:-180}
THREADS=${THREADS:-8}
KANNEL_STORE=${KANNEL_STORE:-none}
PEERS=${PEERS:-smsgwd kannel}
LINK_URL='https://palaute.example/s/{token}'

PIDS=""
WATCHDOG=""
T=""

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

cleanup() {
	for _p in $PIDS; do stop_pid "$_p"; done
	[ -n "$WATCHDOG" ] && kill -KILL "-$WATCHDOG" 2>/dev/null
	[ -n "$WATCHDOG" ] && wait "$WATCHDOG" 2>/dev/null
	if [ -n "$T" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$T"
	elif [ -n "$T" ]; then
		echo "kept $T" >&2
	fi
}

# spawn LOG CMD...: CMD in its own session; sets LAST_PID.
spawn() {
	_log=$1
	shift
	setsid "$@" >> "$_log" 2>&1 < /dev/null &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

# stop_pid PID: SIGTERM to its process group, SIGKILL after 5 s.
stop_pid() {
	[ -n "$1" ] || return 0
	# (dash's kill takes no "--": "-PID" right after the signal)
	kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
	_n=50
	while [ $_n -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_n=$((_n - 1))
	done
	kill -KILL "-$1" 2>/dev/null
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_keep=""
	for _q in $PIDS; do [ "$_q" = "$1" ] || _keep="$_keep $_q"; done
	PIDS=$_keep
	return 0
}

# left: seconds until the overall limit.
left() { echo $((DEADLINE - $(date +%s))); }

# wait_for "condition" SECONDS: polls every 50 ms, never past the limit.
wait_for() {
	_s=$2
	[ "$_s" -gt "$(left)" ] && _s=$(left)
	_w=$((_s * 20))
	while [ $_w -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		_w=$((_w - 1))
	done
	return 1
}

# cpu_ms PID: user+system CPU time of PID so far (ms).
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" \
	    '{ sub(/.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
	    "/proc/$1/stat" 2>/dev/null || echo 0
}

# The clock and the HTTP client (python3, stdlib).  Modes:
#   drop SRC DST FILE N SECS: rename SRC to DST, then wait for N new lines
#       in FILE (the SMSC's submits.jsonl).
#   http URL FILE N SECS THREADS TEXTFILE PHONEFILE: push N sendsms
#       requests, then wait for N new lines in FILE.
# Both print shell assignments: C_T0 C_FIRST C_NTH (epoch ms) C_LINES
# C_OFF (byte offset of the run in FILE) C_REQ C_HTTPERR C_REQEND.
CLOCK_PY='
import http.client, os, sys, threading, time, urllib.parse
mode, n = sys.argv[1], int(sys.argv[5] if sys.argv[1] == "drop" else sys.argv[4])
def ms():
    return int(time.time() * 1000)
if mode == "drop":
    src, dst, path, secs = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[6])
else:
    url, path, secs = sys.argv[2], sys.argv[3], float(sys.argv[5])
    nthr = int(sys.argv[6])
    text = open(sys.argv[7], encoding="utf-8").read()
    phones = open(sys.argv[8]).read().split()[:n]
try:
    off = os.path.getsize(path)
except OSError:
    off = 0
res = {"C_OFF": off, "C_REQ": 0, "C_HTTPERR": 0, "C_REQEND": 0}
lock = threading.Lock()
def pusher(k):
    u = urllib.parse.urlsplit(url)
    c = None
    for i in range(k, n, nthr):
        q = url + "&" + urllib.parse.urlencode(
            {"to": phones[i], "text": text}, encoding="utf-8")
        q = q[len(u.scheme) + 3 + len(u.netloc):]
        for attempt in (1, 2):
            try:
                if c is None:
                    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                c.request("GET", q)
                r = c.getresponse()
                r.read()
                ok = r.status in (200, 202)
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
                break
            except (OSError, http.client.HTTPException):
                if c is not None:
                    c.close()
                c = None
                ok = False
        with lock:
            res["C_REQ"] += 1
            if not ok:
                res["C_HTTPERR"] += 1
    if c is not None:
        c.close()
t0 = ms()
if mode == "drop":
    os.rename(src, dst)
    th = []
else:
    th = [threading.Thread(target=pusher, args=(k,), daemon=True)
          for k in range(nthr)]
    for t in th:
        t.start()
first = nth = 0
lines = 0
f = None
end = time.monotonic() + secs
while time.monotonic() < end:
    if f is None:
        try:
            f = open(path, "rb")
            f.seek(off)
        except OSError:
            time.sleep(0.001)
            continue
    b = f.read()
    if b:
        c = b.count(b"\n")
        if c:
            now = ms()
            if lines == 0:
                first = now
            lines += c
            if lines >= n:
                nth = now
                break
    else:
        time.sleep(0.001)
    if th and not res["C_REQEND"] and not any(t.is_alive() for t in th):
        res["C_REQEND"] = ms()
for t in th:
    t.join(max(0.0, end - time.monotonic()))
if th and not res["C_REQEND"]:
    res["C_REQEND"] = ms()
res.update(C_T0=t0, C_FIRST=first, C_NTH=nth, C_LINES=lines)
for k, v in res.items():
    print("%s=%s" % (k, v))
'

# CHECK_PY FILE OFF N TEXTFILE token|exact: the submits of one run (from
# byte OFF): V_ACC (accepted), V_DIST (distinct numbers), V_SRC (source
# addr/TON/NPI), V_DST (first dest_addr/TON/NPI), V_DC (data codings),
# V_TEXTOK (every text equals TEXTFILE; "token": up to the per-visit token,
# which must differ between submits), V_PARTS, V_REGDLR.  An empty
# TEXTFILE receives the first accepted text.
CHECK_PY='
import json, re, sys
path, off, n, tf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tok = sys.argv[5] == "token"
TOK = re.compile(r"/s/[A-Za-z0-9_-]{22}$")
f = open(path, "rb")
f.seek(off)
rows = [json.loads(l) for l in f.read().decode("utf-8").splitlines() if l.strip()]
ok = [r for r in rows if r.get("status") == 0]
want = open(tf, encoding="utf-8").read()
if not want and ok:
    want = ok[0]["text"]
    open(tf, "w", encoding="utf-8").write(want)
out = {
    "V_ACC": len(ok),
    "V_DIST": len({r["dest_addr"] for r in ok}),
    "V_SRC": ",".join(sorted({"%s/%d/%d" % (r["source_addr"], r["source_ton"],
                                            r["source_npi"]) for r in rows})) or "-",
    "V_DST": ("%s/%d/%d" % (rows[0]["dest_addr"], rows[0]["dest_ton"],
                             rows[0]["dest_npi"])) if rows else "-",
    "V_DC": ",".join(sorted({str(r["data_coding"]) for r in rows})) or "-",
    "V_TEXTOK": int(bool(ok) and (
        all(TOK.sub("/s/T", r["text"]) == TOK.sub("/s/T", want) for r in ok)
        and len({r["text"] for r in ok}) == len(ok) if tok else
        all(r["text"] == want for r in ok))),
    "V_PARTS": max([r.get("total", 1) for r in rows] or [0]),
    "V_REGDLR": ",".join(sorted({str(r["registered_delivery"]) for r in rows})) or "-",
}
for k, v in out.items():
    print("%s=%s" % (k, v))
'

# rate N MS: submits per second.
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f", n * 1000 / ms; else print "nan" }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

ROWS=""
# row NAME: the table row of the last run (C_* and V_* set).
row() {
	_tot=$((C_NTH - C_T0))
	_run=$((C_NTH - C_FIRST))
	if [ "$C_NTH" -eq 0 ]; then
		_r=nan _tot=0 _run=0
		_note="TIMEOUT ($C_LINES/$N submits)"
	else
		_r=$(rate "$N" "$_tot")
		_note=""
	fi
	if [ "$V_ACC" -ne "$N" ] || [ "$V_DIST" -ne "$N" ] ||
	    [ "$V_TEXTOK" -ne 1 ]; then
		_note="$_note CHECK"
	fi
	eval "RATE_$1=$_r"
	ROWS="$ROWS| $1 | $N | $(secs "$_tot") | $(secs $((C_FIRST - C_T0))) | $(secs "$_run") | **$_r** | $(rate $((N - 1)) "$_run") | $V_ACC/$V_DIST | $V_SRC | $V_DC | $2 | $_note |
"
}

# --- set-up -----------------------------------------------------------------
command -v python3 >/dev/null || die "python3 is needed"
command -v setsid >/dev/null || die "setsid (util-linux) is needed"
T=$(mktemp -d /tmp/smsgw-smpp.XXXXXX) || exit 1
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
DEADLINE=$(($(date +%s) + LIMIT))
setsid sh -c "sleep $LIMIT; echo '# overall limit ${LIMIT}s reached' >&2; kill -TERM $$" < /dev/null &
WATCHDOG=$!

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "+35840%07d\n", i }' > "$T/phones"
: > "$T/text"
mkdir -p "$T/smsc"
spawn "$T/smsc.log" python3 "$SMSC_PY" --port 0 --dir "$T/smsc" \
    --system-id bench --password s3cret
wait_for "[ -s '$T/smsc/port' ]" 10 || die "smsc.py did not start: $(cat "$T/smsc.log")"
PORT=$(cat "$T/smsc/port")
SUBMITS=$T/smsc/submits.jsonl
log "smsc.py on 127.0.0.1:$PORT, N=$N, limit ${LIMIT}s"

# --- smsgwd -----------------------------------------------------------------
run_smsgwd() {
	if [ ! -x "$SMSGWD" ] || [ ! -x "$SMSGWCTL" ]; then
		die "$SMSGWD or $SMSGWCTL missing: build first (make -C build)"
	fi
	_d=$T/smsgwd
	mkdir -p "$_d"
	echo s3cret > "$_d/pw"
	cat > "$_d/gw.conf" <<EOF
state_dir = "$_d/state";
spool_dir = "$_d/spool";
control_socket = "$_d/run/control.sock";
control_group = "$(id -gn)";
transport = "smpp";
smpp = { host = "127.0.0.1"; port = $PORT; system_id = "bench";
         password_file = "$_d/pw"; system_type = "bench";
         window = 10; max_rate = 0; };
survey = { link_url = "$LINK_URL"; };
sampling = { default_rate = 1.0; person_cap_days = 0; };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };
EOF
	spawn "$_d/gw.log" "$SMSGWD" -d -f "$_d/gw.conf"
	GW_PID=$LAST_PID
	wait_for "'$SMSGWCTL' -f '$_d/gw.conf' --json status 2>/dev/null | grep -q '\"smpp\":{\"state\":\"bound\"'" 15 ||
	    die "smsgwd did not bind: $(tail -5 "$_d/gw.log")"
	_now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	awk -v now="$_now" '{ printf "{\"visit_id\":\"B-%d\",\"unit\":\"U\",\"phone\":\"%s\",\"ended_at\":\"%s\",\"lang\":\"fi\"}\n", NR, $1, now }' \
	    "$T/phones" > "$_d/spool/tmp/bench.jsonl"
	_c0=$(cpu_ms "$GW_PID")
	log "smsgwd: dropping $N visits"
	eval "$(python3 -c "$CLOCK_PY" drop "$_d/spool/tmp/bench.jsonl" \
	    "$_d/spool/new/bench.jsonl" "$SUBMITS" "$N" "$(left)")"
	_cpu=$(( $(cpu_ms "$GW_PID") - _c0 ))
	sleep 0.2
	eval "$(python3 -c "$CHECK_PY" "$SUBMITS" "$C_OFF" "$N" "$T/text" token)"
	row smsgwd "smsgwd ${_cpu} ms"
	log "smsgwd: $C_LINES submits, dest $V_DST, registered_delivery $V_REGDLR, parts $V_PARTS"
	stop_pid "$GW_PID"
}

# --- Kannel -----------------------------------------------------------------
run_kannel() {
	if ! command -v bearerbox > /dev/null && [ "$(id -u)" = 0 ]; then
		log "installing kannel"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q kannel \
		    > "$T/apt.log" 2>&1 || log "apt-get failed: $(tail -2 "$T/apt.log")"
	fi
	command -v bearerbox > /dev/null ||
	    { log "kannel: bearerbox missing, skipped"; return 0; }
	command -v curl > /dev/null ||
	    { log "kannel: curl (for its status page) missing, skipped"; return 0; }
	[ -s "$T/text" ] || printf '%s' "HYVAKS: Kuinka todennäköisesti suosittelisit saamaasi palvelua läheisellesi? Vastaa lyhyeen kyselyyn: https://palaute.example/s/AAAAAAAAAAAAAAAAAAAAAA" > "$T/text"
	_d=$T/kannel
	mkdir -p "$_d"
	_store=""
	[ "$KANNEL_STORE" = spool ] && _store="store-type = spool
store-location = \"$_d/store\""
	[ "$KANNEL_STORE" = spool ] && mkdir -p "$_d/store"
	cat > "$_d/kannel.conf" <<EOF
group = core
admin-port = 13900
admin-interface = 127.0.0.1
admin-password = bench
status-password = bench
admin-allow-ip = "127.0.0.1"
smsbox-port = 13901
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$_d/bearerbox.log"
log-level = 1
access-log = "$_d/access.log"
$_store

group = smsc
smsc = smpp
smsc-id = smscpy
host = 127.0.0.1
port = $PORT
receive-port = 0
transceiver-mode = true
smsc-username = bench
smsc-password = s3cret
system-type = bench
max-pending-submits = 10
source-addr-autodetect = false
source-addr-ton = 5
source-addr-npi = 0
dest-addr-ton = 1
dest-addr-npi = 1
enquire-link-interval = 30
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = 13901
sendsms-port = 13913
sendsms-interface = 127.0.0.1
log-file = "$_d/smsbox.log"
log-level = 1

group = sendsms-user
username = bench
password = bench
max-messages = 1
concatenation = true

group = sms-service
keyword = default
text = "ok"
catch-all = true
max-messages = 0
EOF
	spawn "$_d/bearerbox.out" bearerbox -v 1 "$_d/kannel.conf"
	BB_PID=$LAST_PID
	wait_for "grep -q '\"ok\": *true' '$T/smsc/binds.jsonl' 2>/dev/null && curl -s 'http://127.0.0.1:13900/status.txt?password=bench' 2>/dev/null | grep -q 'smscpy.*online'" 30 ||
	    { log "kannel: smsc not online: $(tail -5 "$_d/bearerbox.log" "$_d/bearerbox.out")"
	      stop_pid "$BB_PID"; return 0; }
	spawn "$_d/smsbox.out" smsbox -v 1 "$_d/kannel.conf"
	SB_PID=$LAST_PID
	wait_for "curl -s 'http://127.0.0.1:13900/status.txt?password=bench' 2>/dev/null | grep -q 'smsbox:.*on'" 30 ||
	    { log "kannel: smsbox did not connect: $(tail -5 "$_d/smsbox.log" "$_d/smsbox.out")"
	      stop_pid "$SB_PID"; stop_pid "$BB_PID"; return 0; }
	wait_for "curl -s -o /dev/null 'http://127.0.0.1:13913/' 2>/dev/null" 10 ||
	    log "kannel: sendsms port not answering"
	_c0=$(( $(cpu_ms "$BB_PID") + $(cpu_ms "$SB_PID") ))
	log "kannel: pushing $N messages ($THREADS HTTP connections)"
	eval "$(python3 -c "$CLOCK_PY" http \
	    'http://127.0.0.1:13913/cgi-bin/sendsms?username=bench&password=bench&from=HYVAKS&charset=UTF-8&coding=0&dlr-mask=3' \
	    "$SUBMITS" "$N" "$(left)" "$THREADS" "$T/text" "$T/phones")"
	_cpu=$(( $(cpu_ms "$BB_PID") + $(cpu_ms "$SB_PID") - _c0 ))
	sleep 0.2
	eval "$(python3 -c "$CHECK_PY" "$SUBMITS" "$C_OFF" "$N" "$T/text" exact)"
	row kannel "bearerbox+smsbox ${_cpu} ms"
	log "kannel: $C_LINES submits, $C_REQ requests ($C_HTTPERR failed) in $(secs $((C_REQEND - C_T0))) s, dest $V_DST, registered_delivery $V_REGDLR, parts $V_PARTS"
	stop_pid "$SB_PID"
	stop_pid "$BB_PID"
}

for p in $PEERS; do
	case $p in
	smsgwd) run_smsgwd ;;
	kannel) run_kannel ;;
	*) die "unknown peer $p" ;;
	esac
done

echo "N = $N link invitations (one SMS each), window 10, smsc.py on 127.0.0.1."
echo "Text: $(cat "$T/text")"
echo
echo "| tool | N | start→Nth (s) | start→1st (s) | 1st→Nth (s) | submit_sm/s | 1st→Nth /s | accepted/distinct | source addr/TON/NPI | data_coding | CPU | note |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s' "$ROWS"
if [ -n "${RATE_smsgwd:-}" ] && [ -n "${RATE_kannel:-}" ]; then
	echo
	echo "Ratio smsgwd / Kannel (start→Nth): $(awk -v a="$RATE_smsgwd" -v b="$RATE_kannel" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }')"
fi
