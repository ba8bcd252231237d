# Shared helpers for integration tests (sourced).
SRCDIR=${SMSGW_SRCDIR:-.}
BUILDDIR=${SMSGW_BUILDDIR:-.}
SMSGWD=${SMSGWD:-$BUILDDIR/smsgwd}
SMSGWCTL=${SMSGWCTL:-$BUILDDIR/smsgwctl}
ATEMU=${ATEMU:-$BUILDDIR/atemu}
_fails=0
_checks=0
_tmpdirs=""
_pids=""

mktmp() {
	_d=$(mktemp -d /tmp/smsgw-it.XXXXXX)
	_tmpdirs="$_tmpdirs $_d"
	echo "$_d"
}
cleanup() {
	[ -n "${_pids:-}" ] && kill $_pids 2>/dev/null
	[ "$_fails" -eq 0 ] && for d in $_tmpdirs; do rm -rf "$d"; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; _fails=$((_fails + 1)); }
pass() { _checks=$((_checks + 1)); }
expect_eq() {
	if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}
expect_match() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass
	else fail "$3: '$1' does not match '$2'"; fi
}
expect_file() { if [ -f "$1" ]; then pass; else fail "$2: no file $1"; fi; }
expect_dir() { if [ -d "$1" ]; then pass; else fail "$2: no dir $1"; fi; }
# wait_for "shell condition" seconds: polls every 50 ms.  The limit is
# scaled by WAIT_SCALE (default 3) so a loaded CI machine does not turn a
# slow pass into a failure; a passing condition returns at once anyway.
wait_for() {
	_n=$(($2 * 20 * ${WAIT_SCALE:-3}))
	while [ $_n -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}
finish() {
	echo "$(basename "$0"): $_checks checks, $_fails failed"
	[ "$_fails" -eq 0 ]
}

# --- the emulator ---------------------------------------------------------
# start_emu DIR [atemu options...]: start atemu, wait for "ready".
start_emu() {
	_ed=$1
	shift
	: > "$_ed/emu.out"
	"$ATEMU" --dir "$_ed" "$@" > "$_ed/emu.out" 2>&1 &
	_pids="${_pids:-} $!"
	wait_for "grep -q ready '$_ed/emu.out'" 5 || fail "atemu did not start"
}
# emu DIR COMMAND...: one control command; prints the reply line.
emu() {
	python3 - "$@" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1] + "/ctl")
s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PYEOF
}
# write_conf FILE DIR [extra config lines]: a test config rooted at DIR.
write_conf() {
	cat > "$1" <<EOC
state_dir = "$2/state";
spool_dir = "$2/spool";
control_socket = "$2/run/control.sock";
control_group = "$(id -gn)";
$3
EOC
}
# start_gw CONF LOG: start smsgwd -d in the background; sets gw_pid.
start_gw() {
	"$SMSGWD" -d -D modem,sms -f "$1" 2>> "$2" &
	gw_pid=$!
	_pids="${_pids:-} $gw_pid"
}
stop_gw() {
	kill -TERM "$gw_pid" 2>/dev/null
	wait "$gw_pid" 2>/dev/null
}
# modem_state CONF NAME: the modem's state from smsgwctl status.
modem_state() {
	"$SMSGWCTL" -f "$1" --json status 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
print([m['state'] for m in d['modems'] if m['name'] == '$2'][0])" 2>/dev/null
}
# count_lines FILE: lines in FILE (0 if absent).
count_lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
# sql DB QUERY
sql() { sqlite3 -cmd ".timeout 5000" "$1" "$2"; }
