#!/usr/bin/env python3
"""Fault soak driver and checker for smsgwd (stdlib only).

    check.py run --dir DIR --conf CONF --smsgwd PATH --conversations N
                 [--minutes M] [--valgrind] [--seed S]

soak.sh has already started atemu (DIR, 2 modems) and the upstream
receiver (DIR/rcv) and written CONF.  This program owns the daemon: it
starts smsgwd, drops visits into the spool over time, plays the patients
(reads DIR/sent.jsonl, answers through atemu's control socket), injects
faults (+CMS ERROR on ~5% of sends, noise, unplug/replug, receiver 5xx,
two kill -9 at random moments), waits for quiescence, expires the rest
with a restart 25 h later, stops the daemon and checks the invariants.
Exit 0 only when every invariant holds.
"""

import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

INVITE_PREFIXES = ("HYVAKS: Kuinka", "HYVAKS: Hur", "HYVAKS: How")

# Patient scripts: (reply text, messages the patient must have received
# before sending it).  The invitation is message 1.  A reply that the
# daemon ignores (empty) does not raise the count, so the next step waits
# on the same number and goes after a think time.
SCRIPTS = {
    "score_followup": [("9", 1), ("Kaikki meni hyvin", 2)],
    "word_score": [("ysi", 1)],
    "score_comment": [("8 hyvä palvelu, kiitos", 1)],
    "comment_then_score": [("Odotus oli pitkä", 1), ("7", 2),
                           ("Parkkipaikka puuttui", 3)],
    "invalid_then_score": [("8,5", 1), ("9", 2)],
    "invalid_twice": [("8,5", 1), ("5-6", 2)],
    "optout_stop": [("STOP", 1)],
    "optout_lopeta": [("LOPETA", 1)],
    "empty_then_score": [("  ", 1), ("10", 1), ("Hyvä hoitaja", 2)],
    "late_text": [("6", 1), ("Lääkäri kiiruhti", 2),
                  ("Vielä yksi asia myöhemmin", 3)],
    "silent": [],
}
WEIGHTS = {
    "score_followup": 20, "word_score": 8, "score_comment": 14,
    "comment_then_score": 8, "invalid_then_score": 6, "invalid_twice": 4,
    "optout_stop": 4, "optout_lopeta": 4, "empty_then_score": 6,
    "late_text": 6, "silent": 10,
}
# Reply texts that must never appear in the info-level log.
SECRET_TEXTS = ["hyvä palvelu", "Odotus oli", "Parkkipaikka", "Kaikki meni",
                "Hyvä hoitaja", "Lääkäri kiiruhti", "Vielä yksi", "ysi",
                "LOPETA", "8,5", "5-6"]


def log(msg):
    print("soak: " + msg, flush=True)


class Emu:
    """One persistent connection to atemu's control socket."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.buf = b""

    def cmd(self, line):
        for _ in range(3):
            try:
                if self.sock is None:
                    self.sock = socket.socket(socket.AF_UNIX)
                    self.sock.settimeout(10)
                    self.sock.connect(self.path)
                    self.buf = b""
                self.sock.sendall((line + "\n").encode())
                while b"\n" not in self.buf:
                    d = self.sock.recv(65536)
                    if not d:
                        raise OSError("closed")
                    self.buf += d
                out, self.buf = self.buf.split(b"\n", 1)
                return out.decode()
            except OSError:
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                time.sleep(0.1)
        return "err socket"


class Patient:
    def __init__(self, phone, kind):
        self.phone = phone
        self.kind = kind
        self.script = SCRIPTS[kind]
        self.step = 0
        self.received = 0
        self.invitations = 0
        self.modem = None
        self.next_at = None
        self.injected = 0
        self.texts = []

    def done(self):
        return self.step >= len(self.script)


class Db:
    def __init__(self, path):
        self.path = path

    def q(self, query, default=None):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                                timeout=5)
            try:
                return c.execute(query).fetchall()
            finally:
                c.close()
        except sqlite3.Error:
            return default

    def scalar(self, query, default=None):
        r = self.q(query)
        if not r:
            return default
        return r[0][0]


class Soak:
    def __init__(self, a):
        self.a = a
        self.dir = a.dir
        self.rng = random.Random(a.seed)
        self.emu = Emu(os.path.join(a.dir, "ctl"))
        self.db = Db(os.path.join(a.dir, "state", "smsgwd.db"))
        self.patients = {}
        self.sent_pos = 0
        self.sent_partial = b""
        self.inv_count = collections.Counter()
        self.proc = None
        self.expected_exit = False
        self.crashes = []
        self.kills = 0
        self.unplugs = 0
        self.cms_injected = 0
        self.full_retries = 0
        self.replies = 0
        self.last_activity = time.monotonic()
        self.errlog = open(os.path.join(a.dir, "smsgwd.log"), "ab")
        self.slow = 4 if a.valgrind else 1
        self.starts = 0

    # --- the daemon --------------------------------------------------------
    def start(self, offset=None):
        env = dict(os.environ)
        if offset is not None:
            env["SMSGWD_CLOCK_OFFSET_S"] = str(offset)
        cmd = [self.a.smsgwd, "-d", "-f", self.a.conf]
        if self.a.valgrind:
            cmd = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite",
                   "--log-file=" + os.path.join(self.dir, "vg.%p.log")] + cmd
        self.starts += 1
        self.errlog.write(("=== soak: start %d%s\n" % (
            self.starts, "" if offset is None else " offset %d" % offset))
            .encode())
        self.errlog.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.errlog, stderr=self.errlog,
                                     env=env)
        with open(os.path.join(self.dir, "gw.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)

    def poll_daemon(self):
        if self.proc is None or self.proc.poll() is None:
            return
        rc = self.proc.returncode
        self.crashes.append(rc)
        log("daemon exited unexpectedly with status %d; restarting" % rc)
        self.start()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait()
        self.kills += 1
        if rc != -signal.SIGKILL:
            self.crashes.append(rc)
        log("kill -9 #%d (pid %d) at t=%.1fs" % (self.kills, self.proc.pid,
                                                  self.t()))
        time.sleep(self.rng.uniform(0.1, 1.0))
        self.start()

    def stop(self):
        """SIGTERM; returns the exit status (None on timeout)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30 * self.slow)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc = None
        return rc

    def t(self):
        return time.monotonic() - self.t0

    # --- the spool ---------------------------------------------------------
    def make_visits(self):
        n = self.a.conversations
        units = ["HAMMAS-JKL", "NEURO", "LAB", "KIRURGIA"]
        kinds = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in kinds]
        self.visits = []
        for i in range(n):
            phone = "+35840%07d" % (1000000 + i)
            shown = phone if i % 10 else "0" + phone[4:]
            lang = self.rng.choice(["fi"] * 6 + ["sv", "en"])
            kind = self.rng.choices(kinds, weights)[0]
            self.patients[phone] = Patient(phone, kind)
            v = {"visit_id": "SOAK-%s-%05d" % (self.a.seed, i),
                 "unit": units[i % len(units)], "phone": shown,
                 "lang": lang}
            if i % 50 == 7:
                v["age"] = 15	# ineligible: never invited
            self.visits.append(v)

    def drop(self, idx, chunk):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        name = "soak-%02d.jsonl" % idx
        tmp = os.path.join(self.dir, "spool", "tmp", name)
        with open(tmp, "w") as f:
            for v in chunk:
                v = dict(v, ended_at=now)
                f.write(json.dumps(v, ensure_ascii=False) + "\n")
        os.rename(tmp, os.path.join(self.dir, "spool", "new", name))
        log("dropped %s (%d visits) at t=%.1fs" % (name, len(chunk),
                                                    self.t()))

    # --- the network side ----------------------------------------------------
    def read_sent(self):
        path = os.path.join(self.dir, "sent.jsonl")
        try:
            with open(path, "rb") as f:
                f.seek(self.sent_pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.sent_pos += len(data)
        data = self.sent_partial + data
        lines = data.split(b"\n")
        self.sent_partial = lines.pop()
        now = time.monotonic()
        for ln in lines:
            if not ln.strip():
                continue
            d = json.loads(ln)
            self.last_activity = now
            udh = d.get("udh")
            if udh is not None and udh.get("seq", 1) != 1:
                continue
            p = self.patients.get(d["to"])
            if d["text"].startswith(INVITE_PREFIXES):
                self.inv_count[d["to"]] += 1
            if p is None:
                continue
            p.received += 1
            p.modem = d["modem"]
            if p.next_at is None:
                p.next_at = now
            p.next_at = max(p.next_at, now + self.rng.uniform(0.05, 1.5))

    def patients_act(self):
        now = time.monotonic()
        for p in self.patients.values():
            if p.done() or p.modem is None or now < p.next_at:
                continue
            text, need = p.script[p.step]
            if p.received < need:
                continue
            r = self.emu.cmd("deliver %s %s %s" % (p.modem, p.phone, text))
            if not r.startswith("ok") or " full" in r:
                # The network keeps the SMS and tries again later.
                self.full_retries += 1
                p.next_at = now + 1.0
                continue
            p.injected += 1
            p.texts.append(text)
            self.replies += 1
            p.step += 1
            p.next_at = now + self.rng.uniform(0.2, 2.0)
            self.last_activity = now

    def can_progress(self):
        for p in self.patients.values():
            if p.modem is not None and not p.done() and \
                    p.received >= p.script[p.step][1]:
                return True
        return False

    def busy(self):
        """Work still in the daemon's store (None: not readable)."""
        rows = self.db.q(
            "select (select count(*) from sms_out_parts where state in "
            "('queued','writing','stored','sending','submitting')),"
            "(select count(*) from visits where state = 'scheduled'),"
            "(select count(*) from sms_in where state = 'new'),"
            "(select count(*) from outbox where state <> 'sent')")
        if not rows:
            return None
        return sum(rows[0])

    def unread(self):
        """Replies the network handed to a modem that are still in its
        storage (the daemon has not taken them yet)."""
        out = {}
        for m in ("m1", "m2"):
            r = self.emu.cmd("list " + m)
            if r.startswith("ok "):
                msgs = json.loads(r[3:]).get("messages", [])
                out[m] = sum(1 for x in msgs if x.get("type") == "deliver")
        return out

    # --- faults --------------------------------------------------------------
    def cms_tick(self, last):
        for m in ("m1", "m2"):
            r = self.emu.cmd("stats " + m)
            if not r.startswith("ok "):
                continue
            st = json.loads(r[3:])
            delta = st["sent"] - last.get(m, 0)
            last[m] = st["sent"]
            k = int(delta * 0.05 + self.rng.random())
            if k > 0:
                self.emu.cmd("fault %s cms 500 %d" %
                             (m, st["cms_fault_left"] + k))
                self.cms_injected += k

    # --- the run -------------------------------------------------------------
    def run(self):
        a = self.a
        self.t0 = time.monotonic()
        deadline = self.t0 + a.minutes * 60
        self.make_visits()
        nfiles = max(3, min(12, a.conversations // 150))
        per = -(-len(self.visits) // nfiles)
        chunks = [self.visits[i:i + per]
                  for i in range(0, len(self.visits), per)]
        gap = 3.0 * self.slow
        drops = [(i * gap, c) for i, c in enumerate(chunks)]
        last_drop = drops[-1][0]
        kill_at = [] if a.valgrind else sorted(
            self.rng.uniform(2.0, last_drop + 15.0) for _ in range(2))
        for m in ("m1", "m2"):
            self.emu.cmd("fault %s noise on" % m)
            self.emu.cmd("auto-report %s on" % m)
        self.start()
        next_cms = 1.0
        next_unplug = 6.0 * self.slow
        replug_at = None
        next_rcv = 10.0
        cms_last = {}
        plugged = True
        quiet_since = None
        di = 0
        while True:
            now = time.monotonic()
            t = now - self.t0
            if now > deadline:
                log("deadline reached at t=%.1fs" % t)
                break
            self.poll_daemon()
            if di < len(drops) and t >= drops[di][0]:
                self.drop(di + 1, drops[di][1])
                di += 1
            if kill_at and t >= kill_at[0]:
                kill_at.pop(0)
                self.kill9()
            if t >= next_cms:
                self.cms_tick(cms_last)
                next_cms = t + 1.0
            if replug_at is None and t >= next_unplug:
                self.emu.cmd("unplug m2")
                self.unplugs += 1
                plugged = False
                replug_at = t + self.rng.uniform(1.0, 4.0)
                log("unplug m2 at t=%.1fs" % t)
            if replug_at is not None and t >= replug_at:
                self.emu.cmd("replug m2")
                self.emu.cmd("fault m2 noise on")
                self.emu.cmd("auto-report m2 on")
                plugged = True
                replug_at = None
                next_unplug = t + self.rng.uniform(10.0, 20.0) * self.slow
            if t >= next_rcv:
                with open(os.path.join(self.dir, "rcv", "mode"), "w") as f:
                    f.write(self.rng.choice(["503,200", "500,500,200",
                                             "close,200", "429,200"]) + "\n")
                next_rcv = t + self.rng.uniform(8.0, 16.0)
            self.read_sent()
            self.patients_act()
            # Quiescence: everything dropped and killed, the modem back,
            # no patient can act, nothing moved for a while, the
            # daemon's store holds no work and no reply waits unread in
            # a modem (a replugged modem is being reopened).
            if di == len(drops) and not kill_at and plugged and \
                    not self.can_progress() and \
                    now - self.last_activity > 3.0 * self.slow and \
                    self.busy() == 0 and not any(self.unread().values()):
                if quiet_since is None:
                    quiet_since = now
                elif now - quiet_since > 2.0 * self.slow:
                    log("quiescent at t=%.1fs" % t)
                    break
            else:
                quiet_since = None
            time.sleep(0.05)
        self.drive_s = self.t()
        return self.finish()

    def finish(self):
        a = self.a
        results = []

        def check(name, ok, detail=""):
            results.append((name, ok))
            log("%s %s%s" % ("PASS" if ok else "FAIL", name,
                            (": " + detail) if detail else ""))

        # Replies still waiting in the modems' storage: received by the
        # "network" but not (yet) read by the daemon.
        unread = self.unread()
        rc1 = self.stop()
        stop_codes = [rc1]
        self.read_sent()
        # 1. At most one invitation per visit (unique phones).
        multi = {k: v for k, v in self.inv_count.items() if v > 1}
        invited = len(self.inv_count)
        check("one invitation per visit", not multi,
              "%d invited, %d with more than one%s" % (
                  invited, len(multi),
                  (" e.g. %s" % list(multi.items())[:3]) if multi else ""))
        # 2. Every injected reply stored exactly once (before any offset).
        rows = dict(self.db.q("select sender, count(*) from sms_in "
                              "group by sender", []))
        bad = []
        for p in self.patients.values():
            got = rows.get(p.phone, 0)
            if got != p.injected:
                bad.append((p.phone, p.kind, p.injected, got))
        extra = [s for s in rows if s not in self.patients]
        check("every reply stored exactly once", not bad and not extra,
              "%d replies injected, %d stored, %d senders differ%s; "
              "unread in modem storage at the end: %s" % (
                  self.replies, sum(rows.values()), len(bad) + len(extra),
                  (" e.g. %s" % bad[:3]) if bad else "", unread))
        # Expire what is still open: a restart 25 hours later.
        self.start(offset=90000)
        t_end = time.monotonic() + 60 * self.slow
        ok_expire = False
        while time.monotonic() < t_end:
            self.poll_daemon()
            n_open = self.db.scalar("select count(*) from conversations "
                                    "where state <> 'closed'", -1)
            if n_open == 0 and self.busy() == 0:
                ok_expire = True
                break
            time.sleep(0.2)
        time.sleep(0.5 * self.slow)
        stop_codes.append(self.stop())
        if not ok_expire:
            log("open conversations or work left after the offset restart")
        # 3. Every closed conversation upstream exactly once per revision.
        closed = self.db.scalar("select count(*) from conversations where "
                                "state = 'closed' and status <> 'failed'", -1)
        n_conv = self.db.scalar("select count(*) from conversations", -1)
        n_failed = self.db.scalar("select count(*) from conversations where "
                                  "status = 'failed'", -1)
        revs = dict(self.db.q("select response_id, revision from responses",
                              []))
        seen = collections.defaultdict(list)	# (id, rev) -> [keys]
        n_posts = n_err = 0
        path = os.path.join(self.dir, "rcv", "requests.jsonl")
        if os.path.exists(path):
            for ln in open(path, encoding="utf-8"):
                r = json.loads(ln)
                if r["method"] != "POST":
                    continue
                n_posts += 1
                st = r["status"]
                if not (isinstance(st, int) and 200 <= st < 300):
                    n_err += 1
                    continue
                key = r["headers"].get("Idempotency-Key")
                for rec in r["body"]:
                    seen[(rec["response_id"], rec["revision"])].append(key)
        dup_same = sum(1 for k in seen.values()
                       if len(k) > 1 and len(set(k)) == 1)
        dup_diff = [x for x, k in seen.items() if len(set(k)) > 1]
        missing = [(rid, rv) for rid, rev in revs.items()
                   for rv in range(1, rev + 1) if (rid, rv) not in seen]
        unknown = [x for x in seen if x[0] not in revs]
        ids_up = {x[0] for x in seen}
        ok3 = (ok_expire and not dup_diff and not missing and not unknown
               and len(ids_up) == closed)
        check("closed conversations upstream once per revision", ok3,
              "%d conversations (%d failed), %d closed, %d records upstream, "
              "%d revisions, %d POSTs (%d refused), %d retry duplicates "
              "(same key), %d duplicates with another key, %d missing, "
              "%d unknown" % (n_conv, n_failed, closed, len(ids_up),
                              len(seen), n_posts, n_err, dup_same,
                              len(dup_diff), len(missing), len(unknown)))
        # Information only: conversations whose invitation never reached
        # the network (an unanswered +CMGS is marked uncertain and never
        # resent), and how the parts ended.
        conv_phones = self.db.q("select visit_id from conversations", [])
        no_inv = [v for (v,) in conv_phones
                  if "+35840%07d" % (1000000 + int(v.rsplit("-", 1)[1]))
                  not in self.inv_count]
        parts = self.db.q("select state, count(*) from sms_out_parts "
                          "group by state", [])
        log("info: %d conversation(s) without an invitation on the network%s;"
            " SMS parts by state: %s" % (
                len(no_inv), (" (%s)" % ", ".join(no_inv[:5])) if no_inv
                else "", ", ".join("%s %d" % x for x in parts)))
        # 4. No phone number or reply text in the info-level log.
        self.errlog.close()
        text = open(os.path.join(self.dir, "smsgwd.log"), "rb").read() \
            .decode("utf-8", "replace")
        pat = re.compile(r"(?<!\d)\+?358\d{6,}|(?<!\d)0[45]0\d{4,}|" +
                         "|".join(r"(?<!\w)%s(?!\w)" % re.escape(s)
                                  for s in SECRET_TEXTS), re.IGNORECASE)
        hits = [ln for ln in text.splitlines()
                if not ln.startswith("=== soak:") and pat.search(ln)]
        check("no personal data in the info log", not hits,
              "%d log lines%s" % (len(text.splitlines()),
                                  (", e.g. %r" % hits[0]) if hits else ""))
        # 5. No exit but ours; clean SIGTERM exits.
        ok5 = not self.crashes and all(rc == 0 for rc in stop_codes)
        check("no crash (only our kill -9)", ok5,
              "unexpected exits %s, SIGTERM exits %s" % (self.crashes,
                                                         stop_codes))
        if a.valgrind:
            logs = [f for f in os.listdir(self.dir) if f.startswith("vg.")]
            errs = []
            for f in logs:
                body = open(os.path.join(self.dir, f), errors="replace") \
                    .read()
                m = re.search(r"ERROR SUMMARY: (\d+) errors", body)
                if m is None or m.group(1) != "0" or \
                        re.search(r"definitely lost: [1-9]", body):
                    errs.append(f)
            check("valgrind clean", bool(logs) and not errs,
                  "%d logs, bad: %s" % (len(logs), errs or "none"))
        n_pass = sum(1 for _, ok in results if ok)
        n_fail = len(results) - n_pass
        log("drive %.0fs, total %.0fs; %d SMS lines sent, %d +CMS ERROR "
            "injected, %d deliveries retried (storage full/err)" % (
                self.drive_s, self.t(), self.sent_lines(), self.cms_injected,
                self.full_retries))
        print("soak: %d conversations, %d replies, %d kill -9, %d unplugs: "
              "%d passed, %d failed" % (n_conv, self.replies, self.kills,
                                        self.unplugs, n_pass, n_fail),
              flush=True)
        return 0 if n_fail == 0 else 1

    def sent_lines(self):
        try:
            with open(os.path.join(self.dir, "sent.jsonl"), "rb") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["run"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--smsgwd", required=True)
    ap.add_argument("--conversations", type=int, default=2000)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--seed", default=str(int(time.time())))
    a = ap.parse_args()
    s = Soak(a)
    log("seed %s, %d visits, limit %g min%s" % (
        a.seed, a.conversations, a.minutes,
        ", under valgrind" if a.valgrind else ""))
    rc = 1
    try:
        rc = s.run()
    finally:
        if s.proc is not None and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
    sys.exit(rc)


if __name__ == "__main__":
    main()
