#!/usr/bin/env python3
"""A connector whose calls a test makes one at a time (tests/integration).

    caller.py MODE URL_OR_ADDR

Reads one line per call on stdin and answers each on stdout, flushed:
"call N ok" or "call N error TYPE". EOF ends it.

MODE:
  keepalive  requests.Session: one kept-alive HTTP/1.1 connection for every
             call (URL like http://198.18.0.2:443/api/v5/public/time);
             http.client.HTTPConnection, which does the same, where
             python3-requests is missing
  fresh      a new connection per call ("Connection: close"), same URL
  ws         a websocket-style long flow: one TCP connection to ADDR:PORT
             (netprobe tcp-serve, which echoes lines); a call is one line
             sent and its echo read back
"""
import socket
import sys


def http_caller(mode, url, timeout):
    try:
        import requests
    except ImportError:
        return http_client_caller(mode, url, timeout)
    sess = requests.Session() if mode == "keepalive" else None

    def call():
        if sess:
            r = sess.get(url, timeout=timeout)
        else:
            r = requests.get(url, timeout=timeout, headers={"Connection": "close"})
        r.raise_for_status()

    return call


def http_client_caller(mode, url, timeout):
    import http.client
    import urllib.parse

    u = urllib.parse.urlsplit(url)
    conn = [None]

    def call():
        if conn[0] is None:
            conn[0] = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        c = conn[0]
        try:
            c.request("GET", u.path, headers={} if mode == "keepalive" else {"Connection": "close"})
            r = c.getresponse()
            r.read()
        except Exception:
            c.close()
            conn[0] = None
            raise
        if mode != "keepalive":
            c.close()
            conn[0] = None
        if r.status >= 400:
            raise OSError("HTTP %d" % r.status)

    return call


def main():
    mode, where = sys.argv[1], sys.argv[2]
    timeout = 1.0
    if mode in ("keepalive", "fresh"):
        call = http_caller(mode, where, timeout)
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
