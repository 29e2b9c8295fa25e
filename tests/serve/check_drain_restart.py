#!/usr/bin/env python3
"""A drain of aggregates across a restart under --state (docs/serve.md "Aggregates").

Two golden cases. tests/golden/serve/aggregates_drain without its running aggregate: version 1
(tumbling minute, hopping two minutes every minute) reads part 1 (`cep serve --follow --state`),
version 2 is deployed in mode drain (switch time 10:01:30.001), and the server stops (SIGTERM:
its last checkpoint holds both versions and which windows each writes, the meta record's
"aggregate_windows" section). Parts 2 and 3 are appended; the restarted server restores both
versions and must write exactly what the golden case's uninterrupted server wrote: a version
that forgot its share writes windows of the other's (twice) or none. Then
tests/golden/serve/aggregates_drain_session the same way (switch time 10:05:00.001): the
restarted version 2 must still know version 1's open sessions (its key records hold their
bounds), or it writes c1's session from 10:07 as its own, and version 1 must still own the
session its late event revises. Every wait is bounded; the servers are stopped by their pid.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_client import request  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden", "serve")
# case: (the switch time, records written by part 1, keys held after part 1, the names served)
CASES = {
    "aggregates_drain": ("2026-01-05T10:01:30.001Z", 2, 0, ["per_2m", "per_minute"]),
    "aggregates_drain_session": ("2026-01-05T10:05:00.001Z", 0, 2, ["visits"]),
}


def wait_for(what, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cep", required=True)
    args = ap.parse_args()
    ok = True
    for case in CASES:
        ok = run_case(args, case) and ok
    return 0 if ok else 1


def run_case(args, case):
    switch_time, first_records, first_keys, names = CASES[case]
    CASE = os.path.join(GOLDEN, case)
    print(f"-- {case}")
    work = tempfile.mkdtemp(prefix="cep-drain-restart-")
    procs = []
    try:
        versions = {}
        for name, source in (("v1", "v1.cep"), ("v2", "v2.cep")):
            with open(os.path.join(CASE, source)) as f:
                text = "".join(l for l in f if case != "aggregates_drain" or
                               ("visits" not in l and "Visit {" not in l))
            path = os.path.join(work, name + ".cep")
            with open(path, "w") as f:
                f.write(text)
            subprocess.run([args.cep, "compile", path, "-o", os.path.join(work, name + ".cepo")],
                           check=True, timeout=60)
            with open(os.path.join(work, name + ".cepo"), "rb") as f:  # as run_serve_cases.py
                versions[name] = hashlib.blake2b(f.read(), digest_size=32).hexdigest()[:12]

        def lines(part):
            with open(os.path.join(CASE, part), "rb") as f:
                return f.read()

        events = os.path.join(work, "events.jsonl")
        out = os.path.join(work, "out.jsonl")
        port_file = os.path.join(work, "port")
        with open(events, "wb") as f:
            f.write(lines("part1.jsonl"))

        def serve(artifact, name):
            if os.path.exists(port_file):
                os.remove(port_file)
            log = open(os.path.join(work, name + ".log"), "wb")
            proc = subprocess.Popen([args.cep, "serve", os.path.join(work, artifact), "-i", events,
                                     "--follow", "-o", out, "--state", os.path.join(work, "state"),
                                     "--admin", "127.0.0.1:0", "--admin-port-file", port_file],
                                    stdout=subprocess.DEVNULL, stderr=log)
            procs.append(proc)
            wait_for("the admin port", lambda: os.path.exists(port_file) and
                     open(port_file).read().strip() != "")
            return proc, "127.0.0.1:" + open(port_file).read().strip()

        def written():
            return len(open(out).read().splitlines()) if os.path.exists(out) else 0

        def stop(proc):
            proc.send_signal(signal.SIGTERM)
            return proc.wait(timeout=30)

        def keys(server):
            status, body = request(server, "GET", "/patterns")
            return sum(p["keys"] for p in json.loads(body)) if status == 200 else 0

        first, server = serve("v1.cepo", "first")
        wait_for("version 1's first records", lambda: written() >= first_records)
        wait_for("version 1's keys", lambda: keys(server) >= first_keys)
        with open(os.path.join(work, "v2.cepo"), "rb") as f:
            status, body = request(server, "POST", "/deploy?mode=drain", f.read())
        ok = status == 200 and f'"switch_time":"{switch_time}"' in body
        print(("ok    " if ok else "FAIL  ") + f"the drain deploy answers its switch time ({body})")
        ok = stop(first) == 0 and ok
        with open(events, "ab") as f:
            f.write(lines("part2.jsonl") + lines("part3.jsonl"))
        second, server = serve("v2.cepo", "second")
        with open(os.path.join(CASE, "expected.jsonl")) as f:
            # The golden case deploys version 4 (version 2 with a `having` that keeps every
            # window) by keep during the drain: its records are version 2's here.
            want = [l.replace("{v1}", versions["v1"]).replace("{v2}", versions["v2"])
                    .replace("{v4}", versions["v2"]) for l in f.read().splitlines()
                    if '"visits"' not in l or case != "aggregates_drain"]
        wait_for(f"{len(want)} records", lambda: written() >= len(want))
        status, body = request(server, "GET", "/patterns")
        active = sorted((p["name"], p["state"]) for p in json.loads(body))
        same = [(name, "active") for name in names]
        print(("ok    " if active == same else "FAIL  ") +
              f"the old versions are unloaded once drained ({active})")
        ok = ok and active == same
        ok = stop(second) == 0 and ok
        got = open(out).read().splitlines()
        same = got == want
        print(("ok    " if same else "FAIL  ") + "the restarted drain writes the uninterrupted "
              f"server's {len(want)} records, each window once" +
              ("" if same else f":\n  got  {got}\n  want {want}"))
        return ok and same
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
