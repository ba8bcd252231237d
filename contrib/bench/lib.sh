# contrib/bench/lib.sh: shared helpers for the smsgwd benchmarks (sourced
# by throughput.sh, peers.sh and memory.sh; POSIX sh, needs python3).
#
# Every daemon is started with setsid in its own process group and
# registered; bench_cleanup (run on EXIT, HUP, INT, PIPE and TERM) stops
# each group with SIGTERM, then SIGKILL after 5 s, and removes the scratch
# directory unless BENCH_KEEP=1.  Nothing outside $BENCH_TMP is written.

BENCH_TOP=${BENCH_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$BENCH_TOP/build}
SMSGWD=${SMSGWD:-$BUILDDIR/smsgwd}
SMSGWCTL=${SMSGWCTL:-$BUILDDIR/smsgwctl}
ATEMU=${ATEMU:-$BUILDDIR/atemu}
BAUD=${BAUD:-115200}
# UART=bucket: atemu paces the line itself (a token bucket that banks up
# to 50 ms of idle line time).  UART=strict: atemu runs unpaced behind
# uart_proxy, which delivers every byte no earlier than a real UART at
# BAUD would (no banking of idle time); the daemons use DIR/uart/mN.
UART=${UART:-bucket}
GW_WRAP=${GW_WRAP:-}

# (a) 79 characters, GSM 7-bit default alphabet.
TEXT79='HYVAKS: Kiitos kaynnistasi! Vastaa numerolla 0-10. Vastaaminen on ilmaista. :-)'
# (b) smsgwd's built-in Finnish invitation (src/texts.c, CONF_TEXT_INVITATION
# with {sender} = HYVAKS): 148 characters, GSM 7-bit, one SMS.
TEXT_INV='HYVAKS: Kuinka todennäköisesti suosittelisit saamaasi palvelua läheisellesi? Vastaa 0-10 (10 = erittäin). Vastaaminen on maksutonta. Lopetus: LOPETA'

BENCH_PIDS=""
BENCH_TMP=""

bench_die() { echo "$(basename "$0"): $*" >&2; exit 1; }
bench_log() { echo "# $*" >&2; }
now_ms() { date +%s%3N; }

bench_init() {
	for b in "$SMSGWD" "$SMSGWCTL" "$ATEMU"; do
		[ -x "$b" ] || bench_die "$b missing: build first (sh contrib/setup.sh check, or make -C build)"
	done
	command -v python3 >/dev/null || bench_die "python3 is needed"
	command -v setsid >/dev/null || bench_die "setsid (util-linux) is needed"
	BENCH_TMP=$(mktemp -d /tmp/smsgw-bench.XXXXXX) || exit 1
	trap bench_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
}

# bench_spawn LOG CMD...: start CMD in its own session; sets LAST_PID.
bench_spawn() {
	_log=$1
	shift
	setsid "$@" >> "$_log" 2>&1 < /dev/null &
	LAST_PID=$!
	BENCH_PIDS="$BENCH_PIDS $LAST_PID"
}

# bench_stop PID: SIGTERM to its group, SIGKILL after 5 s.
bench_stop() {
	[ -n "$1" ] || return 0
	kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
	_bs=50
	while [ $_bs -gt 0 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_bs=$((_bs - 1))
	done
	kill -KILL "-$1" 2>/dev/null
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_keep=""
	for _p in $BENCH_PIDS; do [ "$_p" = "$1" ] || _keep="$_keep $_p"; done
	BENCH_PIDS=$_keep
	return 0
}

bench_cleanup() {
	for _p in $BENCH_PIDS; do bench_stop "$_p"; done
	if [ -n "$BENCH_TMP" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$BENCH_TMP"
	elif [ -n "$BENCH_TMP" ]; then
		echo "kept $BENCH_TMP" >&2
	fi
}

# wait_for "shell condition" SECONDS (polls every 50 ms)
wait_for() {
	_wf=$(($2 * 20))
	while [ $_wf -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		_wf=$((_wf - 1))
	done
	return 1
}

count_lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

# emu_start DIR [atemu options]: atemu on DIR/emu with an AT trace in
# DIR/emu.trace (used to count the bytes the host wrote); sets EMU_PID.
emu_start() {
	_ed=$1
	shift
	if [ "$UART" = strict ]; then
		set -- "$@" --baud 0
	fi
	bench_spawn "$_ed/emu.out" "$ATEMU" --dir "$_ed/emu" --log "$_ed/emu.trace" \
	    --reg-delay-ms 0 "$@"
	EMU_PID=$LAST_PID
	wait_for "grep -q ready '$_ed/emu.out' 2>/dev/null" 10 ||
	    bench_die "atemu did not start: $(cat "$_ed/emu.out")"
	if [ "$UART" = strict ]; then
		_nm=$(ls "$_ed/emu" | grep -c '^m[0-9]')
		bench_spawn "$_ed/uart.out" python3 -c "$UART_PROXY_PY" \
		    "$_ed" "$_nm" "$BAUD"
		UART_PID=$LAST_PID
		wait_for "grep -q ready '$_ed/uart.out' 2>/dev/null" 10 ||
		    bench_die "uart proxy did not start: $(cat "$_ed/uart.out")"
	fi
}

# emu_stop: stop atemu (and the UART proxy).
emu_stop() {
	bench_stop "${UART_PID:-}"
	UART_PID=""
	bench_stop "$EMU_PID"
}

# devdir: where the daemons find the modems (emu/ or uart/).
devdir() { if [ "$UART" = strict ]; then echo uart; else echo emu; fi; }

# A strict UART between each daemon and atemu: bytes read from one side
# occupy the line from max(now, line free) for len*10/BAUD seconds and are
# delivered when their last bit would have arrived.  Nothing is banked.
UART_PROXY_PY='
import os, select, signal, sys, time, tty
d, n, baud = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bps = baud / 10.0
os.makedirs(d + "/uart", exist_ok=True)
P = []
for i in range(1, n + 1):
    m, s = os.openpty()
    tty.setraw(s)
    link = "%s/uart/m%d" % (d, i)
    os.symlink(os.ttyname(s), link)
    e = os.open("%s/emu/m%d" % (d, i), os.O_RDWR | os.O_NOCTTY)
    tty.setraw(e)
    os.set_blocking(m, False)
    os.set_blocking(e, False)
    # per direction: [source fd, sink fd, queue of [due, bytes], line free]
    P.append([m, e, [], 0.0, s])
    P.append([e, m, [], 0.0, s])
def bye(*a):
    for i in range(1, n + 1):
        try:
            os.unlink("%s/uart/m%d" % (d, i))
        except OSError:
            pass
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("ready", flush=True)
while True:
    now = time.monotonic()
    for p in P:
        q = p[2]
        while q and q[0][0] <= now:
            try:
                k = os.write(p[1], q[0][1])
            except BlockingIOError:
                break
            except OSError:
                k = len(q[0][1])
            if k < len(q[0][1]):
                q[0][1] = q[0][1][k:]
                break
            q.pop(0)
    tmo = 0.05
    for p in P:
        if p[2]:
            tmo = min(tmo, max(0.0, p[2][0][0] - now))
    rd = select.select([p[0] for p in P], [], [], tmo)[0]
    now = time.monotonic()
    for p in P:
        if p[0] in rd:
            try:
                b = os.read(p[0], 4096)
            except (BlockingIOError, OSError):
                continue
            if not b:
                continue
            p[3] = max(now, p[3]) + len(b) / bps
            p[2].append([p[3], b])
'


# phone I: the I-th test number, +35840 followed by 7 digits.
phone() { printf '+35840%07d' "$1"; }

# wait_sent DIR N SECONDS: until DIR/emu/sent.jsonl has N lines.
wait_sent() {
	_w=$(( $3 * 10 ))
	while [ $_w -gt 0 ]; do
		[ "$(count_lines "$1/emu/sent.jsonl")" -ge "$2" ] && return 0
		sleep 0.1
		_w=$((_w - 1))
	done
	return 1
}

# sent_eval DIR N T0_MS TEXT: prints shell assignments (eval them):
#   S_COUNT S_DISTINCT S_FIRST S_NTH (ms) S_RUN (first..Nth, s)
#   S_START (T0..Nth, s) S_VIA S_TEXTOK S_HOSTB (host->modem bytes per
#   SMS between the 1st and Nth submit, from the AT trace) S_PDUHEX.
sent_eval() {
	python3 - "$@" <<'PYEOF'
import json, sys
d, n, t0, text = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = []
try:
    with open(d + "/emu/sent.jsonl") as f:
        rows = [json.loads(l) for l in f if l.strip()]
except OSError:
    pass
rows.sort(key=lambda r: r["ts_ms"])
out = {"S_COUNT": len(rows), "S_DISTINCT": len({r["to"] for r in rows})}
if len(rows) >= n and n > 0:
    first, nth = rows[0]["ts_ms"], rows[n - 1]["ts_ms"]
    out.update(S_FIRST=first, S_NTH=nth, S_RUN="%.3f" % ((nth - first) / 1000),
               S_START="%.3f" % ((nth - t0) / 1000))
else:
    out.update(S_FIRST=0, S_NTH=0, S_RUN="nan", S_START="nan")
out["S_VIA"] = ",".join(sorted({r["via"] for r in rows})) or "-"
out["S_TEXTOK"] = int(all(r["text"] == text for r in rows) and len(rows) > 0)
out["S_PDUHEX"] = len(rows[0]["pdu"]) if rows else 0
# Host->modem bytes from the trace: "<- AT..." lines count len+1 (CR),
# "<- pdu HEX" counts len(HEX)+1 (Ctrl-Z).  Window: 1st..Nth submit.
hb = 0
if len(rows) >= n and n > 1:
    lo, hi = rows[0]["ts_ms"], rows[n - 1]["ts_ms"]
    try:
        with open(d + "/emu.trace", errors="replace") as f:
            for l in f:
                p = l.rstrip("\n").split(" ", 3)
                if len(p) < 4 or p[2] != "<-":
                    continue
                ts = int(p[0])
                if ts <= lo or ts > hi:
                    continue
                s = p[3]
                hb += len(s) - 4 + 1 if s.startswith("pdu ") else len(s) + 1
    except (OSError, ValueError):
        hb = 0
    out["S_HOSTB"] = "%.1f" % (hb / (n - 1))
else:
    out["S_HOSTB"] = "nan"
for k, v in out.items():
    print("%s='%s'" % (k, v))
PYEOF
}

# yardstick TEXT: bytes a minimal +CMGS client writes per SMS for TEXT
# (one part, GSM 7-bit, 12-digit international number, relative validity,
# SMSC "00"), and for smsgwd's storage path, and the serial-line ceilings.
# Prints shell assignments: Y_TPDU Y_CMGS Y_STORE Y_CMGS_RX Y_STORE_RX
# Y_CEIL (SMS/s at BAUD/10 bytes/s for the minimal +CMGS client)
# Y_CEIL_RT (the same counting both directions, request/response).
yardstick() {
	python3 - "$1" "$BAUD" <<'PYEOF'
import sys
text, baud = sys.argv[1], int(sys.argv[2])
ext = set("^{}\\[~]|€")
septets = sum(2 if c in ext else 1 for c in text)
assert septets <= 160, "one part only"
ud = (septets * 7 + 7) // 8
# first octet, MR, DA (len, TOA, 6 octets), PID, DCS, VP, UDL, UD
tpdu = 1 + 1 + (2 + 6) + 1 + 1 + 1 + 1 + ud
hexlen = 2 * (1 + tpdu)			# "00" SMSC + TPDU
cmgs = len("AT+CMGS=%d\r" % tpdu) + hexlen + 1
store = (len("AT+CMGW=%d\r" % tpdu) + hexlen + 1 + len("AT+CMSS=1\r")
         + len("AT+CMGD=1\r"))
# modem->host with echo off (mr taken as 2 digits)
cmgs_rx = len("\r\n> ") + len("\r\n+CMGS: 12\r\n") + len("\r\nOK\r\n")
store_rx = (len("\r\n> ") + len("\r\n+CMGW: 1\r\n") + len("\r\nOK\r\n")
            + len("\r\n+CMSS: 12\r\n") + len("\r\nOK\r\n") + len("\r\nOK\r\n"))
bps = baud / 10
print("Y_SEPTETS=%d Y_TPDU=%d Y_CMGS=%d Y_STORE=%d Y_CMGS_RX=%d Y_STORE_RX=%d"
      % (septets, tpdu, cmgs, store, cmgs_rx, store_rx))
print("Y_CEIL=%.1f Y_CEIL_RT=%.1f Y_STORE_CEIL=%.1f Y_STORE_CEIL_RT=%.1f" % (
    bps / cmgs, bps / (cmgs + cmgs_rx), bps / store, bps / (store + store_rx)))
PYEOF
}

# proc_cpu_ms PID: user+system CPU time of PID so far, in ms.
proc_cpu_ms() {
	_hz=$(getconf CLK_TCK)
	awk -v hz="$_hz" '{ sub(/.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
	    "/proc/$1/stat" 2>/dev/null || echo 0
}

# calc EXPR: floating point arithmetic ("nan" if it fails).
calc() { python3 -c "
try:
    print('%.2f' % ($1))
except Exception:
    print('nan')"; }

# --- smsgwd ---------------------------------------------------------------

# gw_conf DIR MODEMS STORAGE(true|false) [extra]: DIR/gw.conf.
gw_conf() {
	_m=""
	_i=1
	while [ $_i -le "$2" ]; do
		_m="$_m${_m:+,}
	{ name = \"m$_i\"; device = \"$1/$(devdir)/m$_i\"; storage_send = $3; }"
		_i=$((_i + 1))
	done
	cat > "$1/gw.conf" <<EOC
state_dir = "$1/state";
spool_dir = "$1/spool";
control_socket = "$1/run/control.sock";
control_group = "$(id -gn)";
modems = ($_m
);
$4
EOC
}

# gw_prequeue DIR N TEXT: start smsgwd while the modems are absent, queue
# N SMS (to N numbers) with smsgwctl send, stop it.  They wait in the store.
gw_prequeue() {
	bench_spawn "$1/gw-queue.log" "$SMSGWD" -d -f "$1/gw.conf"
	_qp=$LAST_PID
	wait_for "[ -S '$1/run/control.sock' ]" 10 ||
	    bench_die "smsgwd did not start: $(tail -3 "$1/gw-queue.log")"
	_i=1
	while [ $_i -le "$2" ]; do
		timeout 10 "$SMSGWCTL" -f "$1/gw.conf" send "$(phone $_i)" "$3" \
		    > /dev/null || bench_die "smsgwctl send failed at $_i"
		_i=$((_i + 1))
	done
	bench_stop "$_qp"
}

# gw_run DIR N TEXT MODEMS STORAGE TIMEOUT_S [atemu options]: one measured
# smsgwd run.  Sets T0 (ms, just before exec) and the S_* variables.
# GW_WRAP (e.g. "eatmydata") prefixes the daemon command.
gw_run() {
	_gd=$1 _gn=$2 _gt=$3 _gm=$4 _gs=$5 _gto=$6
	shift 6
	mkdir -p "$_gd"
	gw_conf "$_gd" "$_gm" "$_gs" "${GW_EXTRA:-}"
	gw_prequeue "$_gd" "$_gn" "$_gt"
	emu_start "$_gd" --modems "$_gm" --baud "$BAUD" "$@"
	T0=$(now_ms)
	bench_spawn "$_gd/gw.log" $GW_WRAP "$SMSGWD" -d -f "$_gd/gw.conf"
	GW_PID=$LAST_PID
	wait_sent "$_gd" "$_gn" "$_gto" || bench_log "smsgwd: timeout after ${_gto}s ($(count_lines "$_gd/emu/sent.jsonl")/$_gn sent)"
	GW_HWM=$(awk '/VmHWM/ { print $2 }' "/proc/$GW_PID/status" 2>/dev/null)
	GW_CPU_MS=$(proc_cpu_ms "$GW_PID")
	bench_stop "$GW_PID"
	emu_stop
	eval "$(sent_eval "$_gd" "$_gn" "$T0" "$_gt")"
}
