#!/usr/bin/env python3
"""A refused start of `cep serve` changes no file (the messages themselves are golden `cli` cases,
tests/golden/cli/serve_*.cmd).

  non_loopback  --admin 0.0.0.0:0 without --admin-token-file
  port_in_use   --admin 127.0.0.1:P where the test already listens on P

Each run must exit 2 with its reason on stderr, and leave the existing --output file (and the
--dead-letter one) byte for byte as they were: the admin endpoint is checked and bound before
any output is opened.

  check_start_refusals.py --cep CEP
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile

RULES = """\
event Payment { card: string, amount: float, ts: time }
pattern big { p: Payment(amount > 100.0) }
emit Big { card: p.card }
"""
BEFORE = b'{"@stream":"Big","card":"from an earlier run"}\n'


def refused(cep, work, admin, reason):
    out = os.path.join(work, "out.jsonl")
    dead = os.path.join(work, "dead.jsonl")
    for path in (out, dead):
        with open(path, "wb") as f:
            f.write(BEFORE)
    events = os.path.join(work, "events.jsonl")
    with open(events, "w", encoding="utf-8") as f:
        f.write('{"card":"c1","amount":500.0,"ts":1000}\n')
    result = subprocess.run([cep, "serve", os.path.join(work, "rules.cep"), "-i", events, "-o",
                             out, "--dead-letter", dead, "--admin", admin],
                            capture_output=True, text=True, timeout=60)
    problems = []
    if result.returncode != 2:
        problems.append(f"exit {result.returncode}, expected 2")
    if reason not in result.stderr:
        problems.append(f"stderr lacks {reason!r}: {result.stderr!r}")
    for path in (out, dead):
        with open(path, "rb") as f:
            if f.read() != BEFORE:
                problems.append(f"{os.path.basename(path)} was changed by the refused start")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cep", required=True)
    options = parser.parse_args()
    cep = os.path.abspath(options.cep)
    work = tempfile.mkdtemp(prefix="cep-refusals-")
    failed = 0
    try:
        with open(os.path.join(work, "rules.cep"), "w", encoding="utf-8") as f:
            f.write(RULES)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            cases = [("non_loopback", "0.0.0.0:0", "non-loopback address without a token"),
                     ("port_in_use", f"127.0.0.1:{port}", "cannot listen there")]
            for name, admin, reason in cases:
                problems = refused(cep, work, admin, reason)
                if problems:
                    failed += 1
                    print(f"FAIL  {name}: " + "; ".join(problems))
                else:
                    print(f"ok    {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
