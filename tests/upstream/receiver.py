#!/usr/bin/env python3
"""A scriptable upstream receiver for smsgwd's sync tests (stdlib only).

    receiver.py --port 0 --dir DIR [--ttl SECONDS]

Binds 127.0.0.1:PORT (0 = any free port) and writes the port to DIR/port
(atomically) once it listens.  Every request is appended as one JSON line to
DIR/requests.jsonl:

    {"ts": UNIX_TIME, "method": "POST", "path": "/x",
     "headers": {...as sent...}, "body": PARSED_JSON_OR_RAW_STRING,
     "status": 200 | "hang" | "close"}

The answer follows DIR/mode, read on every request (missing = "200"):

    200, 201, 500, 503, 400, 401, ... any 3-digit code: answer that code
    429      answer 429 with Retry-After: 1
    hang     sleep 30 s, then answer 200 (recorded at once as "hang")
    close    close the connection without answering
    A,B,C    a sequence: each request takes the first item and the rest is
             written back; the last item stays (so "500,200" = one 500,
             then 200 for ever)

Each 2xx answer also appends {"ts", "key": IDEMPOTENCY_KEY, "records": N}
to DIR/accepted.jsonl (N = array length, else 1), for dedupe checks.
SIGTERM/SIGINT exit cleanly (status 0); --ttl exits after that many seconds.
"""

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
DIR = "."


def take_mode():
    """Read DIR/mode and consume one item of a sequence (under LOCK)."""
    path = os.path.join(DIR, "mode")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except FileNotFoundError:
        return "200"
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        return "200"
    if len(items) > 1:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(",".join(items[1:]) + "\n")
        os.replace(tmp, path)
    return items[0]


def append_jsonl(name, obj):
    with open(os.path.join(DIR, name), "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, separators=(",", ":")) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = raw.decode("utf-8", errors="replace")
        with LOCK:
            mode = take_mode()
            status = mode if mode in ("hang", "close") else None
            if status is None:
                try:
                    status = int(mode)
                except ValueError:
                    status = 500
            append_jsonl("requests.jsonl", {
                "ts": time.time(), "method": self.command,
                "path": self.path, "headers": dict(self.headers.items()),
                "body": body, "status": status})
        if status == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if status == "hang":
            time.sleep(30)
            status = 200
        if 200 <= status < 300:
            with LOCK:
                append_jsonl("accepted.jsonl", {
                    "ts": time.time(),
                    "key": self.headers.get("Idempotency-Key"),
                    "records": len(body) if isinstance(body, list) else 1})
        out = json.dumps({"status": status}).encode()
        try:
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass

    do_POST = handle_any
    do_PUT = handle_any
    do_GET = handle_any


def main():
    global DIR
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--ttl", type=float, default=0)
    args = ap.parse_args()
    DIR = args.dir
    os.makedirs(DIR, exist_ok=True)

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True

    def stop(signo, frame):
        # shutdown() waits for serve_forever, so run it off this thread
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ttl > 0:
        t = threading.Timer(args.ttl, srv.shutdown)
        t.daemon = True
        t.start()

    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, os.path.join(DIR, "port"))
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
