#!/usr/bin/env python3
"""Hostile load client for scripts/hostile_load.sh (a benchmark, not a test; 127.0.0.1 only).

Phases, each bounded in time:
  flood  - IDLE idle connections and SLOW slow-loris clients (one head byte per second) stay open
           while /ping is timed on fresh connections (p50/p99/max) and a 1,000-record request is scored;
           the slow clients' cut times are recorded.
  bodies - BODIES connections each send all but the last byte of a 6 MB body; the server's peak RSS
           and the answers (503 budget refusals) are recorded.
  soak   - SOAK_SECS of legitimate traffic (ping, single record, 1,000 records; a fresh connection
           per request) while the idle flood and slow-loris clients keep reconnecting; failed
           requests and RSS every 5 s are recorded.
Prints one JSON object with every figure.
"""
import json
import os
import resource
import select
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
PORT = int(os.environ["PORT"])
PID = int(os.environ["SERVER_PID"])
IDLE = int(os.environ.get("IDLE", "1100"))
SLOW = int(os.environ.get("SLOW", "50"))
BODIES = int(os.environ.get("BODIES", "100"))
BODY_MB = int(os.environ.get("BODY_MB", "6"))
SOAK_SECS = float(os.environ.get("SOAK_SECS", "90"))
PINGS = int(os.environ.get("PINGS", "300"))
ROW = open(os.environ["ROW_FILE"], "rb").read().strip()
BATCH = open(os.environ["BATCH_FILE"], "rb").read()
HEAD_TIMEOUT = float(os.environ.get("HEADER_TIMEOUT_SECS", "10"))


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def request(method, path, body=b"", content_type="text/csv", timeout=30.0):
    """One request on a fresh connection; returns (status, body, seconds)."""
    start = time.monotonic()
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        if method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1]) if data else 0
        return status, data.split(b"\r\n\r\n", 1)[-1], time.monotonic() - start
    finally:
        s.close()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


class Attackers:
    """Keeps IDLE idle connections and SLOW slow-loris clients open, reconnecting when cut."""

    def __init__(self):
        self.idle = []
        self.slow = {}  # socket -> opened at
        self.cut_after = []  # seconds from open to close, slow-loris clients
        self.stop = threading.Event()
        self.reconnects = 0

    def _open(self):
        s = socket.socket()
        s.setblocking(True)
        s.settimeout(5)
        s.connect((HOST, PORT))
        s.setblocking(False)
        return s

    def fill(self):
        while len(self.idle) < IDLE:
            self.idle.append(self._open())
        while len(self.slow) < SLOW:
            s = self._open()
            s.send(b"POST /invocations HTTP/1.1\r\n")
            self.slow[s] = time.monotonic()

    def closed(self, socks):
        gone = set()
        poller = select.poll()
        by_fd = {}
        for s in socks:
            by_fd[s.fileno()] = s
            poller.register(s, select.POLLIN | select.POLLERR | select.POLLHUP)
        for fd, _ in poller.poll(0):
            s = by_fd[fd]
            try:
                if s.recv(4096) == b"":
                    gone.add(s)
            except BlockingIOError:
                pass
            except OSError:
                gone.add(s)
        return gone

    def run(self):
        while not self.stop.is_set():
            now = time.monotonic()
            for s in self.closed(self.idle):
                s.close()
                self.idle.remove(s)
                self.reconnects += 1
            for s in self.closed(list(self.slow)):
                self.cut_after.append(now - self.slow.pop(s))
                s.close()
            for s in list(self.slow):
                try:
                    s.send(b"X")
                except OSError:
                    self.cut_after.append(now - self.slow.pop(s))
                    s.close()
            try:
                self.fill()
            except OSError:
                pass
            self.stop.wait(1.0)

    def close(self):
        self.stop.set()
        for s in self.idle + list(self.slow):
            s.close()


def flood_phase(att, out):
    att.fill()
    time.sleep(1.0)
    pings, failed = [], 0
    for _ in range(PINGS):
        try:
            status, _, secs = request("GET", "/ping", timeout=10)
            pings.append(secs * 1000)
            failed += status != 200
        except OSError:
            failed += 1
        time.sleep(0.01)
    status, body, secs = request("POST", "/invocations", BATCH)
    scores = len(json.loads(body)["scores"]) if status == 200 else 0
    out["flood"] = {
        "idle_connections": IDLE, "slow_loris": SLOW, "pings": len(pings), "ping_failed": failed,
        "ping_p50_ms": round(pct(pings, 50), 2), "ping_p99_ms": round(pct(pings, 99), 2),
        "ping_max_ms": round(max(pings), 2) if pings else None,
        "batch_status": status, "batch_scores": scores, "batch_ms": round(secs * 1000, 1),
        "rss_mib": round(rss_mib(), 1),
    }


def bodies_phase(out):
    size = BODY_MB * 1024 * 1024
    chunk = (b"1.5,6,4\n" * 8192)
    socks, answered = [], {}
    rss_before = rss_mib()
    for _ in range(BODIES):
        s = socket.create_connection((HOST, PORT), timeout=10)
        s.sendall(f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {size}\r\n\r\n".encode())
        socks.append(s)
    peak = rss_mib()
    for s in socks:
        left = size - 1
        try:
            while left > 0:
                n = s.send(chunk[:min(left, len(chunk))])
                left -= n
        except OSError:
            pass
        peak = max(peak, rss_mib())
    time.sleep(2.0)
    peak = max(peak, rss_mib())
    for s in socks:
        s.settimeout(0.2)
        try:
            data = s.recv(4096)
            status = int(data.split(b" ", 2)[1]) if data else "closed"
        except socket.timeout:
            status = "pending"
        except OSError:
            status = "reset"
        answered[str(status)] = answered.get(str(status), 0) + 1
    status, _, secs = request("GET", "/ping")
    out["bodies"] = {
        "bodies": BODIES, "body_mb": BODY_MB, "rss_before_mib": round(rss_before, 1), "rss_peak_mib": round(peak, 1),
        "answers": answered, "ping_status_meanwhile": status, "ping_ms_meanwhile": round(secs * 1000, 1),
    }
    for s in socks:
        s.close()


def soak_phase(att, out):
    failures, counts, lock = [], {"ping": 0, "single": 0, "batch": 0}, threading.Lock()
    stop = time.monotonic() + SOAK_SECS
    rss = [round(rss_mib(), 1)]

    def worker(kind):
        while time.monotonic() < stop:
            try:
                if kind == "ping":
                    status, _, _ = request("GET", "/ping")
                elif kind == "single":
                    status, _, _ = request("POST", "/invocations", ROW)
                else:
                    status, _, _ = request("POST", "/invocations", BATCH)
                ok = status == 200
            except OSError as e:
                ok, status = False, repr(e)
            with lock:
                counts[kind] += 1
                if not ok:
                    failures.append(f"{kind}: {status}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("ping", "single", "single", "batch")]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        time.sleep(min(5.0, max(0.0, stop - time.monotonic())))
        rss.append(round(rss_mib(), 1))
    for t in threads:
        t.join()
    out["soak"] = {
        "seconds": SOAK_SECS, "requests": counts, "failed": len(failures), "failures": failures[:10],
        "rss_mib_every_5s": rss, "attacker_reconnects": att.reconnects,
    }


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, IDLE + SLOW + BODIES + 512)), hard))
    out = {}
    att = Attackers()
    flood_phase(att, out)
    runner = threading.Thread(target=att.run, daemon=True)
    runner.start()
    # Let the slow-loris clients of the flood phase reach the header timeout.
    time.sleep(HEAD_TIMEOUT + 3)
    cuts = list(att.cut_after)
    out["slow_loris"] = {
        "cut": len(cuts), "header_timeout_secs": HEAD_TIMEOUT,
        "cut_after_max_secs": round(max(cuts), 2) if cuts else None,
        "cut_after_min_secs": round(min(cuts), 2) if cuts else None,
    }
    bodies_phase(out)
    soak_phase(att, out)
    att.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
