#!/usr/bin/env python3
"""Clients of a drill's control socket for tests/integration/drill_control.sh
(okx-faultd(8), CONTROL SOCKET).

usage: ctl_clients.py hostile SOCKET SECONDS
         for SECONDS or until the drill is gone, at once: a watcher that
         never reads (receive buffer at its minimum), connections that never
         send a request (kept at IDLE, reconnected when the daemon drops
         them), one that sends half a request, and a loop asking "status" as
         fast as it is answered; prints one JSON object: counts and
         round-trip times in us
Every loop is bounded in time and count.
"""
import json
import os
import socket
import sys
import time

IDLE = 10


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def ask(path, req=b"status\n"):
    """One request; the reply line (bytes) and the round trip in us."""
    t0 = time.monotonic_ns()
    s = connect(path)
    try:
        s.sendall(req)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    return buf, (time.monotonic_ns() - t0) // 1000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else None


def hostile(path, seconds):
    end = time.monotonic() + seconds
    watcher = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    watcher.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    watcher.connect(path)
    watcher.sendall(b"watch\n")
    half = connect(path)
    half.sendall(b"sta")
    idle, reconnects = [], 0
    answers, refused, errors, rtt = 0, 0, 0, []
    while time.monotonic() < end:
        # keep IDLE silent connections open
        for s in list(idle):
            s.setblocking(False)
            try:
                if s.recv(4096) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                pass
            s.close()
            idle.remove(s)
        while len(idle) < IDLE and time.monotonic() < end:
            try:
                idle.append(connect(path))
                reconnects += 1
            except OSError:
                break
        try:
            line, us = ask(path)
        except OSError:
            line = None
        if line and b'"error"' in line:
            refused += 1
        elif line and line.startswith(b"{"):
            answers += 1
            rtt.append(us)
        elif not os.path.exists(path):
            break  # the drill ended (and removed its socket) meanwhile
        else:
            errors += 1
    for s in idle + [watcher, half]:
        s.close()
    print(json.dumps({"answers": answers, "refused": refused, "errors": errors,
                      "idle_connects": reconnects, "rtt_median_us": pct(rtt, 0.5),
                      "rtt_p99_us": pct(rtt, 0.99)}))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "hostile":
        hostile(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
