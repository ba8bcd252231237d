#!/bin/sh
# peers.sh [N]: smsgwd against gammu-smsd and smstools3 (issue #11).
#
# Each tool gets the same N SMS (same text, N different numbers) in its
# own queue before it starts, the same atemu (--baud $BAUD, one modem,
# registered at once), and the clock runs from the daemon's exec to the
# emulator accepting the Nth submit (ts_ms in atemu's sent.jsonl).
#
#   smsgwd          smsgwctl send while the modem is absent (store queue);
#                   storage path (+CMGW/+CMSS/+CMGD) and +CMGS
#   gammu-smsd      FILES backend, N files OUTA_<number>_<i>.txtd in its
#                   outbox ('d': status report, as smsgwd asks for one);
#                   default [smsd] settings, then tuned
#   smstools3       N files in its outgoing spool ("Report: yes");
#                   default settings, then tuned
#
# The peers run as root in a scratch directory (their config, spool, log
# and pid files all live there).  Missing packages are installed with
# apt-get when running as root; otherwise that peer is skipped.
#
# Environment: N (300), TEXT (79 or inv; default 79), BAUD (115200),
# UART (bucket or strict, see lib.sh),
# PEERS (default "smsgwd-storage smsgwd-cmgs gammu gammu-tuned smstools
# smstools-tuned"), BENCH_KEEP=1, BUILDDIR, SMSGWD, SMSGWCTL, ATEMU.
set -u
. "$(dirname "$0")/lib.sh"

N=${1:-${N:-300}}
TEXT=${TEXT:-79}
PEERS=${PEERS:-smsgwd-storage smsgwd-cmgs gammu gammu-tuned smstools smstools-tuned}
case $TEXT in
79) txt=$TEXT79 ;;
inv) txt=$TEXT_INV ;;
*) bench_die "TEXT must be 79 or inv" ;;
esac
bench_init
TO=$((N * 2 + 60))	# per run; the slowest peer needs about 1.3 s/SMS

# need_pkg COMMAND PACKAGES...: 0 if COMMAND exists (after installing).
need_pkg() {
	_c=$1
	shift
	command -v "$_c" > /dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
		bench_log "installing $*"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" \
		    > "$BENCH_TMP/apt.log" 2>&1 ||
		    bench_log "apt-get install $* failed: $(tail -2 "$BENCH_TMP/apt.log")"
	fi
	command -v "$_c" > /dev/null
}

# peer_wait DIR NAME: wait for the Nth submit, stop the daemon and atemu,
# and evaluate sent.jsonl.
peer_wait() {
	wait_sent "$1" "$N" "$TO" ||
	    bench_log "$2: timeout after ${TO}s ($(count_lines "$1/emu/sent.jsonl")/$N sent)"
	bench_stop "$PEER_PID"
	emu_stop
	eval "$(sent_eval "$1" "$N" "$T0" "$txt")"
}

run_gammu() {
	_d=$BENCH_TMP/$1
	mkdir -p "$_d/inbox" "$_d/outbox" "$_d/sent" "$_d/error"
	cat > "$_d/smsdrc" <<EOF
[gammu]
device = $_d/$(devdir)/m1
connection = at$BAUD
[smsd]
service = files
inboxpath = $_d/inbox/
outboxpath = $_d/outbox/
sentsmspath = $_d/sent/
errorsmspath = $_d/error/
logfile = $_d/smsd.log
pidfile = $_d/smsd.pid
debuglevel = 0
EOF
	# Tuned: no battery/signal/network/PIN checks, no status refresh,
	# receive checks once an hour, no sleep between loops, the outbox
	# scanned again at once.
	[ "$1" = gammu-tuned ] && cat >> "$_d/smsdrc" <<EOF
CheckSecurity = 0
CheckBattery = 0
CheckSignal = 0
CheckNetwork = 0
StatusFrequency = 0
ReceiveFrequency = 3600
LoopSleep = 0
CommTimeout = 0
EOF
	_i=1
	while [ $_i -le "$N" ]; do
		printf '%s' "$txt" > "$_d/outbox/OUTA_$(phone $_i)_$(printf %05d $_i).txtd"
		_i=$((_i + 1))
	done
	emu_start "$_d" --baud "$BAUD"
	T0=$(now_ms)
	bench_spawn "$_d/smsd.out" env LC_ALL=C.UTF-8 gammu-smsd -c "$_d/smsdrc"
	PEER_PID=$LAST_PID
	peer_wait "$_d" "$1"
}

run_smstools() {
	_d=$BENCH_TMP/$1
	mkdir -p "$_d/outgoing" "$_d/checked" "$_d/failed" "$_d/incoming" \
	    "$_d/sent" "$_d/stage"
	cat > "$_d/smsd.conf" <<EOF
devices = GSM1
outgoing = $_d/outgoing
checked = $_d/checked
failed = $_d/failed
incoming = $_d/incoming
sent = $_d/sent
logfile = $_d/smsd.log
infofile = $_d/smsd.working
pidfile = $_d/smsd.pid
loglevel = 5
EOF
	# Tuned: the main process and the modem process poll every second
	# (default 10), outgoing files are trusted (created by rename),
	# files are taken in directory order; no network check per send.
	[ "$1" = smstools-tuned ] && cat >> "$_d/smsd.conf" <<EOF
delaytime = 1
delaytime_mainprocess = 1
sleeptime_mainprocess = 1
trust_outgoing = yes
spool_directory_order = yes
EOF
	cat >> "$_d/smsd.conf" <<EOF

[GSM1]
device = $_d/$(devdir)/m1
baudrate = $BAUD
incoming = no
EOF
	[ "$1" = smstools-tuned ] && echo "check_network = 0" >> "$_d/smsd.conf"
	_i=1
	while [ $_i -le "$N" ]; do
		_f=$_d/stage/sms$(printf %05d $_i)
		printf 'To: %s\nAlphabet: UTF-8\nReport: yes\n\n%s' \
		    "$(phone $_i | tr -d +)" "$txt" > "$_f"
		mv "$_f" "$_d/outgoing/"
		_i=$((_i + 1))
	done
	emu_start "$_d" --baud "$BAUD"
	T0=$(now_ms)
	bench_spawn "$_d/smsd.out" smsd -t -c "$_d/smsd.conf"
	PEER_PID=$LAST_PID
	peer_wait "$_d" "$1"
}

eval "$(yardstick "$txt")"
echo "# peers, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), $(uname -m)"
echo "# N=$N, text $TEXT ($Y_SEPTETS GSM 7-bit characters), atemu --baud $BAUD," \
    "line model UART=$UART," \
    "ceiling (minimal +CMGS client, $Y_CMGS B/SMS) $Y_CEIL SMS/s"
echo
echo "| tool | settings | via | start→Nth s | 1st→Nth s | SMS/s (from start) | of ceiling | host B/SMS (trace) | check |"
echo "|---|---|---|---|---|---|---|---|---|"

RATES=""
for p in $PEERS; do
	S_START=nan
	case $p in
	smsgwd-storage|smsgwd-cmgs)
		st=true
		[ $p = smsgwd-cmgs ] && st=false
		gw_run "$BENCH_TMP/$p" "$N" "$txt" 1 $st "$TO"
		settings="defaults, storage_send = $st"
		;;
	gammu|gammu-tuned)
		if ! need_pkg gammu-smsd gammu gammu-smsd; then
			echo "| gammu-smsd | - | - | - | - | - | - | - | skipped: gammu-smsd not installed |"
			continue
		fi
		run_gammu $p
		settings=$([ $p = gammu ] && echo "defaults" || echo "tuned (LoopSleep 0, CommTimeout 0, no status/checks)")
		;;
	smstools|smstools-tuned)
		if ! need_pkg smsd smstools; then
			echo "| smstools3 | - | - | - | - | - | - | - | skipped: smstools not installed |"
			continue
		fi
		run_smstools $p
		settings=$([ $p = smstools ] && echo "defaults" || echo "tuned (delaytime 1, trust_outgoing, check_network 0)")
		;;
	*)
		bench_die "unknown peer $p"
		;;
	esac
	rate=$(calc "$N / $S_START")
	pct=$(calc "100 * $rate / $Y_CEIL")
	ok=ok
	[ "$S_COUNT" -eq "$N" ] && [ "$S_DISTINCT" -eq "$N" ] &&
	    [ "$S_TEXTOK" = 1 ] || ok="CHECK: $S_COUNT sent, $S_DISTINCT distinct, text ok=$S_TEXTOK"
	tool=$p
	case $p in gammu*) tool="gammu-smsd $(gammu-smsd -v 2>/dev/null | awk 'NR==1 { print $NF }')";;
	smstools*) tool="smstools3 $(smsd -V 2>/dev/null | awk 'NR==1 { print $2 }' | tr -d ,)";;
	smsgwd*) tool="smsgwd $("$SMSGWD" -V 2>/dev/null | awk '{ print $NF }')";; esac
	echo "| $tool | $settings | $S_VIA | $S_START | $S_RUN | $rate | $pct % | $S_HOSTB | $ok |"
	RATES="$RATES $p=$rate"
done

echo
rate_of() { for _r in $RATES; do [ "${_r%%=*}" = "$1" ] && echo "${_r#*=}"; done; }
for g in smsgwd-storage smsgwd-cmgs; do
	gr=$(rate_of $g)
	[ -n "$gr" ] || continue
	line="$g:"
	for p in $PEERS; do
		case $p in smsgwd*) continue ;; esac
		pr=$(rate_of "$p")
		[ -n "$pr" ] && line="$line $(calc "$gr / $pr")× $p,"
	done
	echo "${line%,}"
done
