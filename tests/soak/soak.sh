#!/bin/sh
# Fault soak of smsgwd: thousands of survey conversations through two
# emulated modems under faults (+CMS ERROR, URC noise, unplug/replug,
# upstream 5xx, two kill -9), then invariants.  See tests/soak/README.md.
#
#   tests/soak/soak.sh [--conversations N] [--minutes M] [--valgrind]
#                      [--seed S] [--keep]
#
# SOAK_EMU_LOG=1 keeps atemu's AT trace in WORKDIR/emu.log.
# Binaries: $SMSGWD, $ATEMU (default: $SMSGW_BUILDDIR or ./build).
# Exit 0 only when every invariant holds.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SMSGW_SRCDIR:-$(cd "$here/../.." && pwd)}
builddir=${SMSGW_BUILDDIR:-$srcdir/build}
SMSGWD=${SMSGWD:-$builddir/smsgwd}
ATEMU=${ATEMU:-$builddir/atemu}

n=2000
minutes=10
valgrind=0
seed=$(date +%s)
keep=0
n_set=0
while [ $# -gt 0 ]; do
	case $1 in
	--conversations) n=$2; n_set=1; shift 2 ;;
	--minutes) minutes=$2; shift 2 ;;
	--valgrind) valgrind=1; shift ;;
	--seed) seed=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--conversations N] [--minutes M] [--valgrind]" \
	    "[--seed S] [--keep]" >&2; exit 2 ;;
	esac
done
if [ "$valgrind" = 1 ] && [ "$n_set" = 0 ]; then
	n=100
fi
for b in "$SMSGWD" "$ATEMU"; do
	[ -x "$b" ] || { echo "soak: $b missing (build first)" >&2; exit 2; }
done
for c in python3 sqlite3; do
	command -v $c >/dev/null || { echo "SKIP: $c missing"; exit 77; }
done
if [ "$valgrind" = 1 ] && ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind missing"
	exit 77
fi

t=$(mktemp -d /tmp/smsgw-soak.XXXXXX)
pids=""
rc=1
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	if [ "$rc" = 0 ] && [ "$keep" = 0 ]; then
		rm -rf "$t"
	else
		echo "soak: files kept in $t"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until CONDITION SECONDS
wait_until() {
	_n=$(($2 * 20))
	while [ $_n -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

mkdir -p "$t/rcv" "$t/state" "$t/spool/tmp" "$t/spool/new" "$t/run"
ttl=$(python3 -c "print(int(float('$minutes') * 60 + 600))")
python3 "$srcdir/tests/upstream/receiver.py" --port 0 --dir "$t/rcv" \
    --ttl "$ttl" &
pids="$pids $!"
emu_log=
[ -n "${SOAK_EMU_LOG:-}" ] && emu_log="--log $t/emu.log"
# shellcheck disable=SC2086
"$ATEMU" --dir "$t" --modems 2 --reg-delay-ms 100 $emu_log > "$t/emu.out" 2>&1 &
pids="$pids $!"
wait_until "[ -s '$t/rcv/port' ]" 10 || { echo "soak: receiver did not start"; exit 1; }
wait_until "grep -q ready '$t/emu.out'" 10 || { echo "soak: atemu did not start"; exit 1; }
port=$(cat "$t/rcv/port")

cat > "$t/smsgwd.conf" <<EOC
state_dir = "$t/state";
spool_dir = "$t/spool";
control_socket = "$t/run/control.sock";
control_group = "$(id -gn)";
modems = ( { name = "m1"; device = "$t/m1"; },
           { name = "m2"; device = "$t/m2"; } );
sampling = { default_rate = 1.0; person_cap_days = 0;
             units = ( { unit = "LAB"; rate = 0.5; } ); };
schedule = { window = "00:00-24:00"; delay_minutes = 0; skip_weekdays = [];
             public_holidays = false; };
survey = { answer_hours = 24; late_days = 7; };
upstream = { url = "http://127.0.0.1:$port/responses"; batch = 20;
             timeout_s = 2; };
privacy = { retention_days = 2; };
EOC
"$SMSGWD" -n -f "$t/smsgwd.conf" >/dev/null || { echo "soak: bad config"; exit 1; }

set -- --dir "$t" --conf "$t/smsgwd.conf" --smsgwd "$SMSGWD" \
    --conversations "$n" --minutes "$minutes" --seed "$seed"
[ "$valgrind" = 1 ] && set -- "$@" --valgrind
start=$(date +%s)
python3 "$here/check.py" run "$@"
rc=$?
echo "soak: $(($(date +%s) - start)) s, exit $rc"
exit $rc
