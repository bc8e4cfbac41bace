#!/usr/bin/env python3
"""A connector whose calls a test makes one at a time (tests/integration).

    caller.py MODE URL_OR_ADDR

Reads one line per call on stdin and answers each on stdout, flushed:
"call N ok" or "call N error TYPE". EOF ends it.

MODE:
  keepalive  requests.Session: one kept-alive HTTP/1.1 connection for every
             call (URL like http://198.18.0.2:443/api/v5/public/time)
  fresh      a new connection per call ("Connection: close"), same URL
  ws         a websocket-style long flow: one TCP connection to ADDR:PORT
             (netprobe tcp-serve, which echoes lines); a call is one line
             sent and its echo read back
"""
import socket
import sys


def main():
    mode, where = sys.argv[1], sys.argv[2]
    timeout = 1.0
    if mode in ("keepalive", "fresh"):
        import requests

        sess = requests.Session() if mode == "keepalive" else None

        def call():
            if sess:
                r = sess.get(where, timeout=timeout)
            else:
                r = requests.get(where, timeout=timeout, headers={"Connection": "close"})
            r.raise_for_status()
    elif mode == "ws":
        host, port = where.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=timeout)
        f = s.makefile("rb")

        def call():
            s.sendall(b"ping\n")
            if f.readline() != b"ping\n":
                raise OSError("bad echo")
    else:
        sys.exit("caller.py: unknown mode " + mode)
    n = 0
    for _ in sys.stdin:
        n += 1
        try:
            call()
            print("call %d ok" % n, flush=True)
        except Exception as e:  # the test reads the outcome, not a traceback
            print("call %d error %s" % (n, type(e).__name__), flush=True)


if __name__ == "__main__":
    main()
