#!/usr/bin/env python3
"""smsc.py: a small SMPP 3.4 SMSC for smsgwd's tests (python3 stdlib only).

    smsc.py --port 0 --dir DIR [--system-id X --password Y]
            [--tls-cert CERT.pem --tls-key KEY.pem]

With --tls-cert the listener speaks TLS (1.2 or later) with that
certificate; a client that fails the handshake never gets a connection.

Writes the listening port to DIR/port (atomically), logs every bind to
DIR/binds.jsonl and every submit_sm to DIR/submits.jsonl (one JSON object
per line: seq, message_id, source_addr, source_ton, source_npi, dest_addr,
dest_ton, dest_npi, esm_class, data_coding, registered_delivery, udh (hex),
ref/total/part when concatenated, text (decoded), status (the answer)).

DIR/mode is read before each PDU is handled; when it exists its commands
are applied once and the file is renamed to DIR/mode.done.  One command a
line:
    throttle N        answer the next N submit_sm with ESME_RTHROTTLED
    fail N 0xSTATUS   answer the next N submit_sm with that status
    hold N            record the next N submit_sm but never answer them
    mute N            ignore the next N PDUs of any kind (no answer)
    delay MS          delay every response by MS milliseconds (0 = off)
    receipts on|off|fail   deliver_sm receipts after accepted submits
                      (fail: stat:UNDELIV, message_state 5)
    close             close every connection now
Exits cleanly on SIGTERM / SIGINT.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import struct
import sys
import time

GENERIC_NACK = 0x80000000
BIND_TRX = 0x00000009
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
RESP = 0x80000000

ROK = 0
RINVCMDID = 0x03
RINVBNDSTS = 0x04
RBINDFAIL = 0x0D
RTHROTTLED = 0x58

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
           0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}
assert len(GSM_BASIC) == 128


def gsm_decode(b):
    out, esc = [], False
    for c in b:
        if esc:
            out.append(GSM_EXT.get(c, "?"))
            esc = False
        elif c == 0x1B:
            esc = True
        elif c < 128:
            out.append(GSM_BASIC[c])
        else:
            out.append("?")
    return "".join(out)


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def u8(self):
        if self.o >= len(self.b):
            raise ValueError("short")
        v = self.b[self.o]
        self.o += 1
        return v

    def cstr(self, mx):
        i = self.b.find(b"\0", self.o, self.o + mx)
        if i < 0:
            raise ValueError("cstr")
        v = self.b[self.o:i].decode("latin-1")
        self.o = i + 1
        return v

    def raw(self, n):
        if self.o + n > len(self.b):
            raise ValueError("short")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v


def cstr(s):
    return s.encode("latin-1") + b"\0"


def pdu(cmd, status, seq, body=b""):
    return struct.pack(">IIII", 16 + len(body), cmd, status, seq) + body


class State:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.next_id = 1
        self.throttle = 0
        self.fail = 0
        self.fail_status = 0
        self.hold = 0
        self.mute = 0
        self.delay = 0.0
        self.receipts = "off"
        self.conns = set()
        self.files = {}

    def log(self, name, obj):
        f = self.files.get(name)
        if f is None:
            f = open(os.path.join(self.dir, name), "a", encoding="utf-8")
            self.files[name] = f
        f.write(json.dumps(obj, ensure_ascii=False) + "\n")
        f.flush()

    def read_mode(self):
        path = os.path.join(self.dir, "mode")
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return
        os.replace(path, path + ".done")
        for line in lines:
            w = line.split()
            if not w:
                continue
            if w[0] == "throttle":
                self.throttle = int(w[1])
            elif w[0] == "fail":
                self.fail = int(w[1])
                self.fail_status = int(w[2], 0)
            elif w[0] == "hold":
                self.hold = int(w[1])
            elif w[0] == "mute":
                self.mute = int(w[1])
            elif w[0] == "delay":
                self.delay = int(w[1]) / 1000.0
            elif w[0] == "receipts":
                self.receipts = w[1]
            elif w[0] == "close":
                for c in list(self.conns):
                    c.transport.abort()


class Conn(asyncio.Protocol):
    def __init__(self, st):
        self.st = st
        self.buf = b""
        self.bound = False
        self.seq = 0x40000000
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.st.conns.add(self)

    def connection_lost(self, exc):
        self.st.conns.discard(self)

    def send(self, data, delayed=True):
        if self.transport.is_closing():
            return
        if delayed and self.st.delay > 0:
            asyncio.get_running_loop().call_later(
                self.st.delay, self.send, data, False)
        else:
            self.transport.write(data)

    def data_received(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            (n,) = struct.unpack(">I", self.buf[:4])
            if n < 16 or n > 70000:
                self.transport.abort()
                return
            if len(self.buf) < n:
                return
            p, self.buf = self.buf[:n], self.buf[n:]
            self.st.read_mode()
            if self.transport.is_closing():
                return
            if self.st.mute > 0:
                self.st.mute -= 1
                continue
            try:
                self.handle(p)
            except ValueError:
                cmd, seq = struct.unpack(">I4xI", p[4:16])
                self.send(pdu(GENERIC_NACK, 0x02, seq))

    def handle(self, p):
        _, cmd, status, seq = struct.unpack(">IIII", p[:16])
        r = Reader(p[16:])
        if cmd == BIND_TRX:
            sid, pw, stype = r.cstr(16), r.cstr(9), r.cstr(13)
            ver, ton, npi = r.u8(), r.u8(), r.u8()
            r.cstr(41)
            a = self.st.args
            ok = ((a.system_id is None or sid == a.system_id) and
                  (a.password is None or pw == a.password))
            self.st.log("binds.jsonl", {"system_id": sid, "system_type":
                                        stype, "version": ver, "ok": ok})
            if ok:
                self.bound = True
                self.send(pdu(cmd | RESP, ROK, seq, cstr("smsc.py")))
            else:
                self.send(pdu(cmd | RESP, RBINDFAIL, seq))
        elif cmd == ENQUIRE_LINK:
            self.send(pdu(cmd | RESP, ROK, seq))
        elif cmd == UNBIND:
            self.send(pdu(cmd | RESP, ROK, seq), delayed=False)
            self.transport.close()
        elif cmd == SUBMIT_SM:
            if not self.bound:
                self.send(pdu(cmd | RESP, RINVBNDSTS, seq))
                return
            self.submit(r, seq)
        elif cmd & RESP:
            if cmd == DELIVER_SM | RESP:
                self.st.log("dlr_resps.jsonl", {"seq": seq,
                                                "status": status})
        else:
            self.send(pdu(GENERIC_NACK, RINVCMDID, seq))

    def submit(self, r, seq):
        st = self.st
        rec = {"seq": seq, "service_type": r.cstr(6)}
        rec["source_ton"], rec["source_npi"] = r.u8(), r.u8()
        rec["source_addr"] = r.cstr(21)
        rec["dest_ton"], rec["dest_npi"] = r.u8(), r.u8()
        rec["dest_addr"] = r.cstr(21)
        rec["esm_class"] = r.u8()
        r.u8()
        r.u8()
        r.cstr(17)
        r.cstr(17)
        rec["registered_delivery"] = r.u8()
        r.u8()
        rec["data_coding"] = r.u8()
        r.u8()
        sm = r.raw(r.u8())
        while r.o < len(r.b):          # TLVs
            tag, n = struct.unpack(">HH", r.raw(4))
            v = r.raw(n)
            if tag == 0x0424:
                sm = v
        if rec["esm_class"] & 0x40:
            udhl = sm[0]
            udh, sm = sm[:1 + udhl], sm[1 + udhl:]
            rec["udh"] = udh.hex()
            if udhl >= 5 and udh[1] == 0x00:
                rec["ref"], rec["total"], rec["part"] = udh[3], udh[4], \
                    udh[5]
        if rec["data_coding"] == 8:
            rec["text"] = sm.decode("utf-16-be", errors="replace")
        elif rec["data_coding"] == 0:
            rec["text"] = gsm_decode(sm)
        else:
            rec["text"] = sm.decode("latin-1")
        if st.hold > 0:
            st.hold -= 1
            rec["status"] = "held"
            st.log("submits.jsonl", rec)
            return
        if st.throttle > 0:
            st.throttle -= 1
            rec["status"] = RTHROTTLED
        elif st.fail > 0:
            st.fail -= 1
            rec["status"] = st.fail_status
        else:
            rec["status"] = ROK
        if rec["status"] != ROK:
            st.log("submits.jsonl", rec)
            self.send(pdu(SUBMIT_SM | RESP, rec["status"], seq))
            return
        mid = "%d" % st.next_id
        st.next_id += 1
        rec["message_id"] = mid
        st.log("submits.jsonl", rec)
        self.send(pdu(SUBMIT_SM | RESP, ROK, seq, cstr(mid)))
        if st.receipts in ("on", "fail"):
            self.receipt(rec, mid)

    def receipt(self, rec, mid):
        ok = self.st.receipts == "on"
        d = time.strftime("%y%m%d%H%M")
        text = ("id:%s sub:001 dlvrd:%s submit date:%s done date:%s "
                "stat:%s err:%s text:%s" % (
                    mid, "001" if ok else "000", d, d,
                    "DELIVRD" if ok else "UNDELIV", "000" if ok else "001",
                    rec["text"][:20].encode("ascii", "replace")
                    .decode("ascii")))
        sm = text.encode("ascii")[:254]
        self.seq += 1
        body = (cstr("") + bytes([rec["dest_ton"], rec["dest_npi"]]) +
                cstr(rec["dest_addr"]) +
                bytes([rec["source_ton"], rec["source_npi"]]) +
                cstr(rec["source_addr"]) +
                bytes([0x04, 0, 0]) + cstr("") + cstr("") +
                bytes([0, 0, 0, 0, len(sm)]) + sm +
                struct.pack(">HH", 0x001E, len(mid) + 1) + cstr(mid) +
                struct.pack(">HHB", 0x0427, 1, 2 if ok else 5))
        self.send(pdu(DELIVER_SM, 0, self.seq, body))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--system-id")
    ap.add_argument("--password")
    ap.add_argument("--tls-cert", help="PEM certificate: serve TLS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    args = ap.parse_args()
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key or args.tls_cert)
    st = State(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(st), "127.0.0.1",
                                      args.port, reuse_address=True,
                                      ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, os.path.join(args.dir, "port"))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for c in list(st.conns):
        c.transport.abort()
    for f in st.files.values():
        f.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
