#!/bin/sh
# throughput.sh [N]: smsgwd's send throughput against atemu (issue #10).
#
# For each run, N SMS are queued with `smsgwctl send` while the modem is
# absent (they wait in the store), then atemu is started, then smsgwd;
# the clock runs from the daemon's exec to the emulator accepting the Nth
# submit (ts_ms in sent.jsonl).  First-to-Nth submit is shown as well.
#
#   1. 115200 baud, 1 modem: a 79-character text and the 148-character
#      built-in invitation, on the storage path (+CMGW/+CMSS/+CMGD,
#      exactly once) and on +CMGS (storage_send = false).  Compared with
#      the serial-line ceiling of a minimal +CMGS client.
#   2. The same with the baud pacing off, with and without eatmydata
#      (fsync made a no-op): does the store's synchronous=FULL matter?
#   2b. Storage path with each fsync/fdatasync made SLOW_MS ms slower
#      (an LD_PRELOAD shim compiled on the fly): slow flash storage.
#   3. --send-delay-ms 1500 (network time per send) with 1, 2 and 4
#      modems, SCALE_N SMS per modem: scaling against linear.
#
# Environment: N (300), SCALE_N (20), SEND_DELAY (1500), BAUD (115200),
# UART (bucket: atemu's pacing; strict: the uart_proxy of lib.sh),
# SLOW_MS ("2 5 10"), SKIP_NOBAUD=1, SKIP_SLOWSYNC=1, SKIP_SCALING=1,
# BENCH_KEEP=1 (keep the scratch dir), BUILDDIR (build/), SMSGWD,
# SMSGWCTL, ATEMU.
set -u
. "$(dirname "$0")/lib.sh"

N=${1:-${N:-300}}
SCALE_N=${SCALE_N:-20}
SEND_DELAY=${SEND_DELAY:-1500}
bench_init

echo "# smsgwd throughput, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), $(uname -m)"
echo "# atemu --baud $BAUD (serial line: $((BAUD / 10)) bytes/s each way)," \
    "line model UART=$UART, N=$N"
echo

echo "## Bytes to the modem per SMS and the serial-line ceiling"
echo
echo "| text | septets | TPDU octets | minimal +CMGS: B/SMS | ceiling SMS/s | +CMGS both ways: B | ceiling | smsgwd storage path: B/SMS | ceiling | both ways: B | ceiling |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for which in 79 inv; do
	if [ $which = 79 ]; then txt=$TEXT79; else txt=$TEXT_INV; fi
	eval "$(yardstick "$txt")"
	echo "| $which | $Y_SEPTETS | $Y_TPDU | $Y_CMGS | $Y_CEIL | $((Y_CMGS + Y_CMGS_RX)) | $Y_CEIL_RT | $Y_STORE | $Y_STORE_CEIL | $((Y_STORE + Y_STORE_RX)) | $Y_STORE_CEIL_RT |"
done
echo
echo "B/SMS counts the AT command line with its CR, the PDU hex with the"
echo "SMSC octet and Ctrl-Z (storage path: +CMGW line and PDU, AT+CMSS=1,"
echo "AT+CMGD=1).  \"Both ways\" adds the modem's answers (echo off) for a"
echo "strict request/response exchange.  The ceiling is $((BAUD / 10)) B/s divided"
echo "by the bytes; the yardstick below is the minimal +CMGS client's."
echo

# row LABEL TEXT: prints one result row from the S_* variables.
row() {
	eval "$(yardstick "$2")"
	rate=$(calc "$N_RUN / $S_START")
	rate1=$(calc "($N_RUN - 1) / $S_RUN")
	pct=$(calc "100 * $rate / $Y_CEIL")
	case $S_VIA in
	cmss) own=$(calc "100 * $rate / $Y_STORE_CEIL") ;;
	*) own=$pct ;;
	esac
	cpu=$(calc "${GW_CPU_MS:-0} / $N_RUN")
	ok=ok
	[ "$S_COUNT" -eq "$N_RUN" ] && [ "$S_DISTINCT" -eq "$N_RUN" ] &&
	    [ "$S_TEXTOK" = 1 ] || ok="CHECK: $S_COUNT sent, $S_DISTINCT distinct, text ok=$S_TEXTOK"
	echo "| $1 | $N_RUN | $S_VIA | $S_START | $S_RUN | $rate | $rate1 | $S_HOSTB | $Y_CEIL | $pct % | $own % | $cpu | ${GW_HWM:-?} | $ok |"
}
hdr() {
	echo "| run | N | via | start→Nth s | 1st→Nth s | SMS/s (from start) | SMS/s (1st→Nth) | host B/SMS (trace) | min. +CMGS ceiling | of that ceiling | of own path's byte ceiling | smsgwd CPU ms/SMS | VmHWM KiB | check |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

timeout_for() { echo $(( $1 / 10 + 30 )); }

echo "## 1. One modem, --baud $BAUD"
echo
hdr
N_RUN=$N
for which in 79 inv; do
	if [ $which = 79 ]; then txt=$TEXT79; else txt=$TEXT_INV; fi
	for path in storage cmgs; do
		st=true
		[ $path = cmgs ] && st=false
		gw_run "$BENCH_TMP/a-$which-$path" "$N" "$txt" 1 $st \
		    "$(timeout_for "$N")"
		row "text $which, $path" "$txt"
	done
done
echo

if [ "${SKIP_NOBAUD:-0}" != 1 ]; then
	echo "## 2. One modem, no baud pacing: the daemon's own cost (fsync or not)"
	echo
	hdr
	if command -v eatmydata > /dev/null; then wraps="none eatmydata"
	else
		wraps=none
		echo "(eatmydata is not installed: apt-get install eatmydata for the no-fsync rows)"
	fi
	saved_baud=$BAUD
	BAUD=0
	for path in storage cmgs; do
		st=true
		[ $path = cmgs ] && st=false
		for w in $wraps; do
			GW_WRAP=""
			[ $w = eatmydata ] && GW_WRAP=eatmydata
			gw_run "$BENCH_TMP/b-$path-$w" "$N" "$TEXT79" 1 $st \
			    "$(timeout_for "$N")"
			BAUD=$saved_baud
			row "text 79, $path, baud 0, fsync: $([ $w = none ] && echo on || echo off)" "$TEXT79"
			BAUD=0
		done
	done
	BAUD=$saved_baud
	GW_WRAP=""
	echo
	echo "(The ceiling column still refers to $BAUD baud, for scale.)"
	echo
fi

if [ "${SKIP_SLOWSYNC:-0}" != 1 ] && command -v "${CC:-cc}" > /dev/null; then
	echo "## 2b. One modem, --baud $BAUD, storage path, slow storage emulated"
	echo
	echo "An LD_PRELOAD shim (built here from a few lines of C) sleeps before"
	echo "each fsync/fdatasync, as a slow SD card or eMMC would.  smsgwd commits"
	echo "twice per SMS (before +CMGW, after +CMSS), each commit one fdatasync"
	echo "of the WAL (PRAGMA synchronous = FULL), inside the event loop."
	echo
	hdr
	cat > "$BENCH_TMP/slowsync.c" <<'EOC'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
static void
slow(void)
{
	const char *e = getenv("SLOW_FSYNC_MS");
	long ms = e != NULL ? atol(e) : 0;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	slow();
	return real(fd);
}
int
fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	slow();
	return real(fd);
}
EOC
	"${CC:-cc}" -O2 -shared -fPIC -o "$BENCH_TMP/slowsync.so" \
	    "$BENCH_TMP/slowsync.c" -ldl
	for ms in ${SLOW_MS:-2 5 10}; do
		GW_WRAP="env LD_PRELOAD=$BENCH_TMP/slowsync.so SLOW_FSYNC_MS=$ms"
		gw_run "$BENCH_TMP/s-$ms" "$N" "$TEXT79" 1 true \
		    "$(timeout_for "$N")"
		row "text 79, storage, +$ms ms per fsync" "$TEXT79"
	done
	GW_WRAP=""
	echo
fi

if [ "${SKIP_SCALING:-0}" != 1 ]; then
	echo "## 3. --send-delay-ms $SEND_DELAY, $SCALE_N SMS per modem, storage path"
	echo
	echo "| modems | N | start→Nth s | 1st→Nth s | SMS/s (from start) | SMS/s (1st→Nth) | linear (1 modem × M) | efficiency | check |"
	echo "|---|---|---|---|---|---|---|---|---|"
	base=""
	for m in 1 2 4; do
		n=$((SCALE_N * m))
		gw_run "$BENCH_TMP/c-$m" "$n" "$TEXT79" "$m" true \
		    $((SCALE_N * SEND_DELAY * 3 / 1000 + 30)) \
		    --send-delay-ms "$SEND_DELAY"
		rate=$(calc "$n / $S_START")
		rate1=$(calc "($n - 1) / $S_RUN")
		[ -z "$base" ] && base=$rate
		lin=$(calc "$base * $m")
		eff=$(calc "100 * $rate / $lin")
		ok=ok
		[ "$S_COUNT" -eq "$n" ] && [ "$S_DISTINCT" -eq "$n" ] || ok="CHECK: $S_COUNT sent, $S_DISTINCT distinct"
		echo "| $m | $n | $S_START | $S_RUN | $rate | $rate1 | $lin | $eff % | $ok |"
	done
	echo
	echo "One modem cannot beat 1000/$SEND_DELAY = $(calc "1000 / $SEND_DELAY") SMS/s here:"
	echo "the emulator holds each send for $SEND_DELAY ms and reads nothing meanwhile."
	echo
fi
