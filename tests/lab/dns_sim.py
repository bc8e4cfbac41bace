#!/usr/bin/env python3
"""A tiny DNS responder and client for the lab (198.18.0.0/15 only).

  dns_sim.py serve ADDR NAME=IPV4...   (ADDR IPv4 or IPv6) answer A queries for the NAMEs over UDP
                                       and TCP port 53 on ADDR (NXDOMAIN for
                                       other names, no answer for other
                                       types); prints "listening" on stderr,
                                       one line "query udp|tcp NAME" per
                                       query on stdout
  dns_sim.py query udp|tcp SERVER NAME [--timeout-ms N]
                                       one A query; prints "ok IPV4 MS",
                                       "nxdomain MS", "err ERRNAME MS" (the
                                       query refused: ECONNREFUSED for an
                                       ICMP port unreachable, ECONNRESET for
                                       a TCP reset) or "timeout MS"; exit 0
                                       for ok, 1 otherwise

The name is sent exactly as given (letter case kept), as a resolver would.
"""
import errno
import random
import socket
import socketserver
import struct
import sys
import threading
import time


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    """(id, name, qtype, end of question) of a query, or None."""
    if len(msg) < 12:
        return None
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[i + 1:i + 3])[0]
    return struct.unpack("!H", msg[:2])[0], ".".join(labels), qtype, i + 5


def answer(msg, table):
    q = parse_question(msg)
    if not q:
        return None, None
    qid, name, qtype, end = q
    addr = table.get(name.lower())
    rcode = 0 if addr else 3
    ans = b""
    if addr and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 1 if ans else 0, 0, 0)
    return name, hdr + msg[12:end] + ans


def serve(addr, table):
    lock = threading.Lock()

    def log(proto, name):
        with lock:
            print("query %s %s" % (proto, name), flush=True)

    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            name, reply = answer(data, table)
            if reply:
                log("udp", name)
                sock.sendto(reply, self.client_address)

    class Tcp(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            try:
                head = self.request.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack("!H", head)[0]
                data = b""
                while len(data) < n:
                    chunk = self.request.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            name, reply = answer(data, table)
            if reply:
                log("tcp", name)
                self.request.sendall(struct.pack("!H", len(reply)) + reply)

    family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    class UdpServer(socketserver.ThreadingUDPServer):
        address_family = family
        allow_reuse_address = True

    class TcpServer(socketserver.ThreadingTCPServer):
        address_family = family
        allow_reuse_address = True
        daemon_threads = True

    servers = [UdpServer((addr, 53), Udp), TcpServer((addr, 53), Tcp)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("listening on %s port 53 (udp, tcp)" % addr, file=sys.stderr, flush=True)
    threading.Event().wait()


def reply_result(reply, qid):
    if len(reply) < 12 or struct.unpack("!H", reply[:2])[0] != qid:
        return "err EPROTO"
    rcode = reply[3] & 0xF
    if rcode == 3:
        return "nxdomain"
    if rcode or struct.unpack("!H", reply[6:8])[0] == 0:
        return "err RCODE%d" % rcode
    return "ok " + socket.inet_ntoa(reply[-4:])


def query(proto, server, name, timeout):
    qid = random.randrange(65536)
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(name) + struct.pack("!HH", 1, 1)
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    t0 = time.monotonic()
    try:
        with socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, kind) as s:
            s.settimeout(timeout)
            s.connect((server, 53))
            if proto == "udp":
                s.send(msg)
                reply = s.recv(512)
            else:
                s.sendall(struct.pack("!H", len(msg)) + msg)
                reply = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                    if len(reply) >= 2 and len(reply) >= 2 + struct.unpack("!H", reply[:2])[0]:
                        break
                if not reply:
                    raise ConnectionResetError(errno.ECONNRESET, "closed")
                reply = reply[2:]
        res = reply_result(reply, qid)
    except socket.timeout:
        res = "timeout"
    except OSError as e:
        res = "err " + errno.errorcode.get(e.errno, str(e.errno))
    print("%s %.1f" % (res, (time.monotonic() - t0) * 1000), flush=True)
    return 0 if res.startswith("ok") else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "serve":
        table = dict(a.split("=", 1) for a in argv[3:])
        serve(argv[2], {k.lower(): v for k, v in table.items()})
        return 0
    if len(argv) >= 5 and argv[1] == "query" and argv[2] in ("udp", "tcp"):
        timeout = 2.0
        if len(argv) == 7 and argv[5] == "--timeout-ms":
            timeout = int(argv[6]) / 1000
        return query(argv[2], argv[3], argv[4], timeout)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
