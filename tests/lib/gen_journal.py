#!/usr/bin/env python3
"""Write a completed drill journal with N windows (the schema of
okx-faultd(8), JOURNAL) and an events file with one error per window, for
the scale tests of okx-faultctl.

usage: gen_journal.py N JOURNAL EVENTS
"""
import datetime
import json
import sys

n, jpath, epath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = datetime.datetime(2026, 11, 28, 3, 41, tzinfo=datetime.timezone.utc).timestamp()


def ts(us):
    s, u = divmod(us, 1000000)
    return datetime.datetime.fromtimestamp(t0 + s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % u


def line(ev, us, **kw):
    return json.dumps(dict(event=ev, ts=ts(us), mono_ns=1000 + us * 1000, **kw)) + "\n"


with open(jpath, "w") as j, open(epath, "w") as e:
    j.write(line("start", 0, policy="/p", policy_sha256="0" * 64, name="scale", version="0.1.0",
                 git_commit="000000000000", host="h", kernel="k", pid=1, targets=[], ports=[],
                 protocol="tcp", exempt=[]))
    j.write(line("armed", 1000, flows=1, packets=0, bytes=0, first_flow_ts=None, trigger=None))
    for i in range(n):
        b = 2000 + i * 2000
        j.write(line("fault_begin", b, index=i, action="drop", params="", planned_ms=1, timeout_ms=251,
                     invoke_ts=ts(b)))
        j.write(line("fault_end", b + 1000, index=i, invoke_ts=ts(b + 1000), actual_ms=1.0,
                     hits={"packets": 2, "bytes": 120}, reason="completed", late_ms=0.0))
        e.write(json.dumps({"ts": ts(b + 500), "type": "Timeout"}) + "\n")
    j.write(line("end", 2000 + n * 2000, outcome="completed", exit_code=0))
