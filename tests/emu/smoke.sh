#!/usr/bin/env bash
# smoke.sh - end-to-end smoke test of the atemu GSM modem emulator.
#
# Usage: tests/emu/smoke.sh            (builds atemu with gcc into a temp dir)
#        ATEMU=/path/to/atemu tests/emu/smoke.sh
#        ATEMU_CFLAGS="-fsanitize=address,undefined -g" tests/emu/smoke.sh
#        ATEMU_KEEP=1 ...                (keep the temp dir with the traces)
# Needs bash and python3 only (no pyserial, no socat).  Exits non-zero on
# the first failed check.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/atemu-smoke.XXXXXX")
pids=()

cleanup() {
	local p
	for p in "${pids[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${ATEMU_KEEP:-}" ]; then
		echo "smoke: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

if [ -z "${ATEMU:-}" ]; then
	ATEMU=$work/atemu
	${CC:-gcc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow \
	    -Wpointer-arith -Wmissing-prototypes -Wstrict-prototypes -O2 \
	    ${ATEMU_CFLAGS:-} "$here/atemu.c" "$here/emu_pdu.c" -o "$ATEMU"
fi

# start_emu NAME ARGS...: run atemu with --dir $work/NAME, wait for "ready".
start_emu() {
	local name=$1 i
	shift
	"$ATEMU" --dir "$work/$name" --log "$work/$name.log" "$@" \
	    >"$work/$name.out" 2>"$work/$name.err" &
	pids+=("$!")
	for i in $(seq 1 100); do
		grep -q '^ready$' "$work/$name.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "FAIL: atemu $name did not print ready" >&2
	cat "$work/$name.err" >&2
	exit 1
}

start_emu main --modems 2 --pin 1234 --reg-delay-ms 300 --send-delay-ms 50
start_emu nostore --no-storage-send --baud 9600 --reg-delay-ms 0

python3 - "$work" <<'PYEOF'
import errno, json, os, select, socket, sys, termios, time, tty

work = sys.argv[1]
D = work + "/main"
N = work + "/nostore"
checks = 0


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.buf = b""

    def close(self):
        os.close(self.fd)

    def fill(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError as e:
            if e.errno == errno.EIO:
                raise EOFError()
            raise
        if not data:
            raise EOFError()
        self.buf += data
        return True

    def drain(self, t=0.2):
        end = time.time() + t
        while time.time() < end:
            self.fill(max(0, end - time.time()))
        self.buf = b""

    def write(self, data):
        os.write(self.fd, data)

    def until(self, pred, timeout=3.0):
        """Read until pred(buf) returns true; return and clear buf."""
        end = time.time() + timeout
        while not pred(self.buf):
            left = end - time.time()
            if left <= 0:
                fail("timeout, got %r" % self.buf)
            self.fill(left)
        out, self.buf = self.buf, b""
        return out

    def at(self, cmd, timeout=3.0):
        """Send cmd, return (info lines, final result line)."""
        self.write(cmd.encode() + b"\r")
        finals = (b"OK", b"ERROR", b"+CME ERROR", b"+CMS ERROR")

        def done(b):
            return any(l.startswith(finals) for l in b.split(b"\r\n")[:-1])
        raw = self.until(done, timeout)
        lines = [l for l in raw.split(b"\r\n") if l]
        final = [l for l in lines if l.startswith(finals)][-1]
        info = [l.decode() for l in lines
                if not l.startswith(finals) and
                l.rstrip(b"\r") != cmd.encode()]
        return info, final.decode()


def ctl(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path + "/ctl")
    s.sendall(cmd.encode() + b"\n")
    r = b""
    while not r.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        r += d
    s.close()
    return r.decode().strip()


def sent(path):
    with open(path + "/sent.jsonl", encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def deliver_to_submit(pdu):
    """Turn an SMS-DELIVER (hex, SMSC part first) into an SMS-SUBMIT with
    status report requested: reuses the sender as destination and the
    user data unchanged, so texts round-trip through both codecs."""
    b = bytes.fromhex(pdu)
    p = 1 + b[0]
    fo = b[p]; p += 1
    alen = b[p]
    oa = b[p:p + 2 + (alen + 1) // 2]; p += len(oa)
    pid, dcs = b[p], b[p + 1]; p += 2
    p += 7                                  # SCTS
    ud = b[p:]
    sub = bytes([0x00, 0x31 | (fo & 0x40), 0x00]) + oa + \
        bytes([pid, dcs, 0xAA]) + ud
    return sub.hex().upper()


def cmgs(port, pdu, timeout=3.0):
    port.write(("AT+CMGS=%d\r" % (len(pdu) // 2 - 1)).encode())
    port.until(lambda b: b.endswith(b"> "))
    port.write(pdu.encode() + b"\x1a")
    return port_final(port, timeout)


def port_final(port, timeout=3.0):
    finals = (b"OK", b"ERROR", b"+CME ERROR", b"+CMS ERROR")

    def done(b):
        return any(l.startswith(finals) for l in b.split(b"\r\n")[:-1])
    raw = port.until(done, timeout)
    lines = [l.decode() for l in raw.split(b"\r\n") if l]
    return lines


# ---- init sequence, PIN, registration ------------------------------------
m1 = Port(D + "/m1")
info, fin = m1.at("AT")
check(fin == "OK", "AT")
m1.write(b"ATE0\r")
raw = m1.until(lambda b: b.endswith(b"OK\r\n"))
check(raw.startswith(b"ATE0\r"), "echo on at power-on: %r" % raw)
info, fin = m1.at("AT")
check(fin == "OK" and info == [], "no echo after ATE0")
check(m1.at("AT+CMEE=1")[1] == "OK", "CMEE")
check(m1.at("AT+CGMI")[0] == ["ATEMU"], "CGMI")
check(m1.at("AT+FOO")[1] == "ERROR", "unknown command -> ERROR")
check(m1.at("AT+CPIN?")[0] == ["+CPIN: SIM PIN"], "SIM PIN state")
check(m1.at("AT+CIMI")[1] == "+CME ERROR: 11", "CIMI needs PIN")
check(m1.at('AT+CPIN="0000"')[1] == "+CME ERROR: 16", "wrong PIN")
check(m1.at('AT+CPIN="1234"')[1] == "OK", "right PIN")
check(m1.at("AT+CREG?")[0] == ["+CREG: 0,2"], "searching after PIN")
time.sleep(0.4)
check(m1.at("AT+CREG?")[0] == ["+CREG: 0,1"], "registered after delay")
info, fin = m1.at('AT+CMGF=0;+CNMI=2,1,0,1,0;+CPMS="ME","ME","ME"')
check(fin == "OK" and info == ["+CPMS: 0,30,0,30,0,30"], "multi cmd %r" % info)
check(m1.at("AT+CMGF=?")[0] == ["+CMGF: (0)"], "CMGF=?")
check(m1.at("AT+CSCA?")[1] == "OK", "CSCA?")
check(m1.at("AT+CPMS=?")[1] == "OK", "CPMS=?")
check(m1.at("AT+CSCS=?")[1] == "OK", "CSCS=?")
check(m1.at("AT" + "X" * 5000)[1] == "ERROR", "overlong line -> ERROR")
check(m1.at("AT")[1] == "OK", "alive after overlong line")

# ---- +CMGS with a known PDU ("hellohello" to +46708251358) ----------------
known = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
lines = cmgs(m1, known)
check(lines[-1] == "OK" and lines[0] == "+CMGS: 0", "CMGS %r" % lines)
s = sent(D)
check(len(s) == 1 and s[0]["to"] == "+46708251358" and
      s[0]["text"] == "hellohello" and s[0]["mr"] == 0 and
      s[0]["udh"] is None and s[0]["modem"] == "m1" and
      s[0]["pdu"] == known, "sent.jsonl %r" % s)
# wrong length -> 304, nothing sent
m1.write(b"AT+CMGS=5\r")
m1.until(lambda b: b.endswith(b"> "))
m1.write(known.encode() + b"\x1a")
check(port_final(m1)[-1] == "+CMS ERROR: 304", "bad CMGS length")
# ESC cancels
m1.write(b"AT+CMGS=23\r")
m1.until(lambda b: b.endswith(b"> "))
m1.write(b"0011\x1b")
check(port_final(m1)[-1] == "OK", "ESC cancel")
check(len(sent(D)) == 1, "nothing sent after error/cancel")

# ---- deliver via ctl, +CMTI, +CMGR, round trip ---------------------------
text = "Hyvää päivää! €5 {x} [y] ~|^\\"
r = ctl(D, "deliver m1 +358401234567 " + text.replace("\\", "\\\\"))
check(r == "ok parts=1 idx=1", "deliver reply %r" % r)
urc = m1.until(lambda b: b.endswith(b"\r\n") and b"+CMTI" in b)
check(b'+CMTI: "ME",1' in urc, "CMTI %r" % urc)
info, fin = m1.at("AT+CMGR=1")
check(fin == "OK" and info[0].startswith("+CMGR: 0,,"), "CMGR %r" % info)
pdu = info[1]
check(int(info[0].split(",")[-1]) == len(pdu) // 2 - 8, "CMGR length")
info, fin = m1.at("AT+CMGR=1")
check(info[0].startswith("+CMGR: 1,,"), "read marks as read")
lst = json.loads(ctl(D, "list m1")[3:])
check(lst["messages"][0]["text"] == text, "list text")
# round trip through the SUBMIT decoder (GSM 7-bit with extension table)
lines = cmgs(m1, deliver_to_submit(pdu))
check(lines[-1] == "OK", "CMGS round trip")
s = sent(D)[-1]
check(s["text"] == text and s["to"] == "+358401234567", "GSM7 rt %r" % s)

# UCS-2, surrogate pairs, concatenation
long = "Kiitos 😀 palautteesta, arvio 9/10 ✓. " * 6
r = ctl(D, "deliver m1 +358401234567 " + long)
check(r.startswith("ok parts=4"), "long deliver %r" % r)
urc = m1.until(lambda b: b.count(b"+CMTI") == 4 and b.endswith(b"\r\n"))
info, fin = m1.at("AT+CMGL=0")
pdus = [l for l in info if not l.startswith("+CMGL")]
check(len(pdus) == 4, "CMGL=0 lists the 4 unread parts")
check(m1.at("AT+CMGL=0")[0] == [], "listed parts are now read")
before = len(sent(D))
for p in pdus:
    check(cmgs(m1, deliver_to_submit(p))[-1] == "OK", "CMGS part")
parts = sent(D)[before:]
check([p["udh"]["seq"] for p in parts] == [1, 2, 3, 4] and
      all(p["udh"]["total"] == 4 for p in parts) and
      len({p["udh"]["ref"] for p in parts}) == 1, "udh %r" % parts)
check("".join(p["text"] for p in parts) == long, "UCS-2 round trip")
check([p["mr"] for p in parts] == [2, 3, 4, 5], "mr increments per part")

# ---- storage: CMGW / CMSS / CMGL / CMGD -----------------------------------
m1.write(("AT+CMGW=%d\r" % (len(known) // 2 - 1)).encode())
m1.until(lambda b: b.endswith(b"> "))
m1.write(known.encode() + b"\x1a")
lines = port_final(m1)
check(lines[-1] == "OK" and lines[0] == "+CMGW: 6", "CMGW %r" % lines)
info, _ = m1.at("AT+CMGL=2")
check(info[0] == "+CMGL: 6,2,,23", "CMGL sto unsent %r" % info)
info, fin = m1.at("AT+CMSS=6")
check(fin == "OK" and info == ["+CMSS: 6"], "CMSS %r" % info)
check(sent(D)[-1]["via"] == "cmss", "via cmss")
check(m1.at("AT+CMGL=3")[0][0] == "+CMGL: 6,3,,23", "stat 3 after CMSS")
check(m1.at("AT+CMSS=29")[1] == "+CMS ERROR: 321", "CMSS empty slot")
check(m1.at("AT+CMGD=6")[1] == "OK", "CMGD")
check(m1.at("AT+CMGD=1,1")[1] == "OK", "CMGD read")
info, _ = m1.at("AT+CPMS?")
check(info == ['+CPMS: "ME",0,30,"ME",0,30,"ME",0,30'], "empty %r" % info)

# ---- status reports ------------------------------------------------------
check(ctl(D, "auto-report m1 on") == "ok", "auto-report")
srr = "0031000B916407281553F80000AA0AE8329BFD4697D9EC37"
lines = cmgs(m1, srr)
mr = int(lines[0].split(":")[1])
urc = m1.until(lambda b: b"+CDS:" in b and b.count(b"\r\n") >= 3)
ls = [l for l in urc.split(b"\r\n") if l]
check(ls[0].startswith(b"+CDS: "), "CDS %r" % urc)
rep = bytes.fromhex(ls[1].decode())
check(int(ls[0][6:]) == len(rep) - 1 - rep[0], "CDS length")
check(rep[1 + rep[0]] & 3 == 2 and rep[2 + rep[0]] == mr and
      rep[-1] == 0, "status report content %r" % ls[1])
ctl(D, "auto-report m1 off")
check(ctl(D, "report m1 %d failed" % mr) == "ok", "manual report")
urc = m1.until(lambda b: b"+CDS:" in b and b.count(b"\r\n") >= 3)
check(urc.split(b"\r\n")[2][-2:] == b"41", "failed status %r" % urc)

# ---- faults ---------------------------------------------------------------
check(ctl(D, "fault m1 cms 500 1") == "ok", "cms fault")
n0 = len(sent(D))
check(cmgs(m1, known)[-1] == "+CMS ERROR: 500", "CMS fault applied")
check(len(sent(D)) == n0, "failed send not logged")
check(cmgs(m1, known)[-1] == "OK", "CMS fault only once")

check(ctl(D, "fault m1 noise on") == "ok", "noise on")
t_end = time.time() + 1.5
while time.time() < t_end:
    info, fin = m1.at("AT+CSQ")
    check(fin == "OK" and "+CSQ: 20,99" in info, "CSQ under noise")
    time.sleep(0.1)
ctl(D, "fault m1 noise off")
m1.drain(0.3)
check(ctl(D, "fault m1 silence 500") == "ok", "silence")
m1.write(b"AT\r")
check(not m1.fill(0.3), "silent modem answers nothing")
time.sleep(0.3)
check(m1.at("AT")[1] == "OK", "answers after silence")
check(ctl(D, "fault m1 garbage") == "ok", "garbage")
m1.drain(0.3)
check(m1.at("AT")[1] == "OK", "answers after garbage")

# ---- second modem is independent -----------------------------------------
m2 = Port(D + "/m2")
check(m2.at("AT")[1] == "OK" and m2.at("AT+CPIN?")[0] == ["+CPIN: SIM PIN"],
      "m2 independent")
check(m2.at("AT+CMEE=1")[1] == "OK", "m2 CMEE")
for i in range(3):
    check(m2.at('AT+CPIN="9999"')[1] == "+CME ERROR: 16", "wrong PIN %d" % i)
check(m2.at("AT+CPIN?")[0] == ["+CPIN: SIM PUK"], "three wrong -> PUK")
check(m2.at('AT+CPIN="1234"')[1] == "+CME ERROR: 16", "PIN refused in PUK")
check(m2.at('AT+CPIN="12345678","4321"')[1] == "OK", "PUK unlocks")
check(m2.at("AT+CPIN?")[0] == ["+CPIN: READY"], "READY after PUK")
m2.close()

# ---- store silently, then CFUN reset keeps storage ----------------------
check(ctl(D, "store m1 +358401234567 while down") == "ok parts=1 idx=1",
      "store")
check(not m1.fill(0.2), "store is silent")
check(m1.at("AT+CFUN=1,1")[1] == "OK", "CFUN reset")
time.sleep(0.3)
m1.write(b"AT\r")
check(m1.until(lambda b: b.endswith(b"OK\r\n")).startswith(b"AT\r"),
      "echo back on after reset")
check(m1.at("AT+CPIN?")[0] == ["+CPIN: SIM PIN"], "PIN again after reset")
m1.at('AT+CPIN="1234"')
check(m1.at("AT+CMGL=4")[0][0].startswith("+CMGL: 1,0,,"),
      "storage survives reset")

# ---- unplug / replug -----------------------------------------------------
old = os.readlink(D + "/m1")
check(ctl(D, "unplug m1") == "ok", "unplug")
try:
    for _ in range(20):
        m1.fill(0.1)
    fail("no EOF/EIO after unplug")
except EOFError:
    pass
m1.close()
check(not os.path.lexists(D + "/m1"), "symlink removed")
r = ctl(D, "replug m1")
check(r.startswith("ok /dev/"), "replug %r" % r)
check(os.path.exists(D + "/m1"), "symlink back")
m1 = Port(D + "/m1")
m1.write(b"AT\r")
check(m1.until(lambda b: b.endswith(b"OK\r\n")).startswith(b"AT\r"),
      "power-on echo after replug")
check(m1.at("AT+CPIN?")[0] == ["+CPIN: SIM PIN"], "PIN needed after replug")
m1.at("ATE0")
check(m1.at("AT+CREG=1")[1] == "OK", "CREG=1")
check(m1.at('AT+CPIN="1234"')[1] == "OK", "PIN after replug")
m1.until(lambda b: b.endswith(b"\r\n+CREG: 1\r\n"), timeout=2)
check(m1.at("AT+CREG?")[0] == ["+CREG: 1,1"], "CREG URC then registered")
# out-of-order concatenated parts with deliver-parts, +CMT direct routing
check(m1.at("AT+CNMI=2,2,0,1,0")[1] == "OK", "CNMI mt=2")
r = ctl(D, "deliver-parts m1 +358401234567 77 2 2 toinen osa")
check(r == "ok parts=1 direct", "deliver-parts %r" % r)
urc = m1.until(lambda b: b.count(b"\r\n") >= 3)
ls = [l for l in urc.split(b"\r\n") if l]
check(ls[0].startswith(b"+CMT: ,"), "+CMT direct %r" % urc)
raw = bytes.fromhex(ls[1].decode())
check(int(ls[0][7:]) == len(raw) - 1 - raw[0], "+CMT length")
check(bytes.fromhex("0500034D0202") in raw, "UDH ref 77 part 2/2")
check(cmgs(m1, deliver_to_submit(ls[1].decode()))[-1] == "OK", "rt part")
check(sent(D)[-1]["text"] == "toinen osa" and
      sent(D)[-1]["udh"] == {"ref": 77, "seq": 2, "total": 2}, "part rt")
st = json.loads(ctl(D, "stats m1")[3:])
check(st["storage_used"] == 1 and st["state"] == "ready" and
      st["sent"] == len(sent(D)), "stats %r" % st)
m1.close()

# ---- no storage send + baud pacing (second instance) ---------------------
n1 = Port(N + "/m1")
n1.at("ATE0")
check(n1.at("AT+CMGW=23")[1] == "ERROR", "CMGW refused (CMEE=0)")
n1.at("AT+CMEE=1")
check(n1.at("AT+CMGW=23")[1] == "+CMS ERROR: 302", "CMGW 302")
check(n1.at("AT+CMSS=1")[1] == "+CMS ERROR: 302", "CMSS 302")
for i in range(4):
    ctl(N, "store m1 +358401234567 " + "pacing test " * 12)
t0 = time.time()
info, fin = n1.at("AT+CMGL=4", timeout=5)
dt = time.time() - t0
nbytes = sum(len(l) + 4 for l in info) + 6
check(fin == "OK" and len(info) == 8, "CMGL on paced modem")
check(dt >= 0.8 * nbytes / 960.0, "9600 baud pacing: %d bytes in %.2fs"
      % (nbytes, dt))
n1.close()

print("smoke: %d checks passed" % checks)
PYEOF

# SIGTERM cleans up the links, the socket and the pid file.
for i in 0 1; do
	kill "${pids[$i]}"
	rc=0
	wait "${pids[$i]}" || rc=$?
	pids[$i]=
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: atemu exit status $rc after SIGTERM" >&2
		exit 1
	fi
done
for f in main.err nostore.err; do
	if [ -s "$work/$f" ]; then
		echo "FAIL: atemu wrote to stderr ($f):" >&2
		cat "$work/$f" >&2
		exit 1
	fi
done
for f in m1 m2 ctl atemu.pid; do
	if [ -e "$work/main/$f" ] || [ -L "$work/main/$f" ]; then
		echo "FAIL: $f left behind after SIGTERM" >&2
		exit 1
	fi
done
echo "smoke: OK"
